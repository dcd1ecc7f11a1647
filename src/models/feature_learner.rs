//! A trained feature learner: the autoencoder's weights together with
//! everything needed to use them on new utterances (normalisation statistics,
//! segment configuration, label names), encoding of utterances into feature
//! sequences, and checkpoint files.
//!
//! The learner owns its normalisation: callers hand it raw LogMel segments
//! (as made by `features::segments`), for training and for encoding alike,
//! so the statistics of a fold's training part can never be mixed up with
//! another part's.

use super::autoencoder::{Autoencoder, AutoencoderShape, LearnerKind, LossParts};
use crate::audio::N_MELS;
use crate::backend::Backend;
use crate::checkpoint::Checkpoint;
use crate::config::{CvaeCondition, EncodeMode, LearnerConfig, SegmentConfig};
use crate::error::{Error, Result};
use crate::features::normalize::BandStats;
use rand_distr::{Distribution, StandardNormal};
use std::path::Path;

/// Marks every output made with `CvaeCondition::Oracle`.
pub const ORACLE_MARK: &str = "oracle labels (label leak)";

/// Rows encoded per pass: large enough for efficient GEMMs, small enough
/// that the buffers stay a few megabytes.
const ENCODE_CHUNK: usize = 1024;

/// How segments are turned into features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Which of the learner's outputs form a segment's feature vector.
    pub mode: EncodeMode,
    /// What the CVAE's condition slots hold while encoding (ignored by AE and VAE).
    pub condition: CvaeCondition,
    /// Selects the noise stream of `EncodeMode::Sample` (e.g. 0 for a fold's
    /// training part, 1 for its test part), so samples do not depend on what
    /// else was encoded before.
    pub noise_key: u32,
}

impl EncodeOptions {
    /// The options `config` asks for, with noise stream 0.
    pub fn from_config(config: &LearnerConfig) -> Self {
        EncodeOptions {
            mode: config.encode,
            condition: config.cvae_condition,
            noise_key: 0,
        }
    }
}

/// Where a trained learner came from, for reports and checkpoints.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingSummary {
    /// The epoch whose weights were kept (0-based).
    pub best_epoch: usize,
    /// Epochs trained: until early stopping, at most `max_epochs`.
    pub epochs_run: usize,
    /// Validation reconstruction loss (squared error summed over a segment,
    /// mean over segments) of the kept epoch; the training loss when
    /// `val_segments` is 0.
    pub best_val_reconstruction: f64,
    /// Validation KL divergence (per segment, mean over segments) of the kept epoch.
    pub best_val_kl: f64,
    /// Segments the learner was trained on.
    pub train_segments: usize,
    /// Segments held out for validation and early stopping (0: it watched the training loss).
    pub val_segments: usize,
}

/// A trained feature learner whose parameters live on backend `B`.
pub struct FeatureLearner<B: Backend> {
    backend: B,
    net: Autoencoder,
    params: B::Buf,
    /// Per-band statistics of the training segments; inputs are z-scored with them.
    pub normalization: BandStats,
    /// How utterances were cut into segments; new ones must be cut the same way.
    pub segments: SegmentConfig,
    /// Class names of the training data, in label-index order (the CVAE's conditions).
    pub label_names: Vec<String>,
    /// The configuration the learner was trained with.
    pub config: LearnerConfig,
    /// The seed of the run's random streams.
    pub seed: u64,
    /// The fold whose test group was held out (0-based), `None` when trained on everything.
    pub fold: Option<u32>,
    /// How training went (best epoch, losses, segment counts).
    pub summary: TrainingSummary,
}

impl<B: Backend> std::fmt::Debug for FeatureLearner<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureLearner")
            .field("shape", self.net.shape())
            .field("fold", &self.fold)
            .field("seed", &self.seed)
            .field("backend", &self.backend.describe())
            .finish_non_exhaustive()
    }
}

/// What a trained learner is besides its network and parameters.
pub struct LearnerParts {
    /// Per-band statistics of the training segments.
    pub normalization: BandStats,
    /// How utterances are cut into segments.
    pub segments: SegmentConfig,
    /// Class names, in label-index order.
    pub label_names: Vec<String>,
    /// The training configuration.
    pub config: LearnerConfig,
    /// The seed of the run's random streams.
    pub seed: u64,
    /// The held-out fold (0-based), `None` when trained on everything.
    pub fold: Option<u32>,
    /// How training went.
    pub summary: TrainingSummary,
}

impl<B: Backend> FeatureLearner<B> {
    /// A learner from its network and host parameters (laid out as the
    /// network's layout), uploaded to `backend`.
    pub fn from_host(
        backend: &B,
        net: Autoencoder,
        host_params: &[f32],
        parts: LearnerParts,
    ) -> Result<Self> {
        crate::error::check_len(
            "autoencoder parameters",
            host_params.len(),
            &[net.layout().len()],
        )?;
        let mut params = backend.alloc(host_params.len())?;
        backend.upload(
            host_params,
            backend.view_mut(&mut params, 0..host_params.len()),
        )?;
        let LearnerParts {
            normalization,
            segments,
            label_names,
            config,
            seed,
            fold,
            summary,
        } = parts;
        Ok(FeatureLearner {
            backend: backend.clone(),
            net,
            params,
            normalization,
            segments,
            label_names,
            config,
            seed,
            fold,
            summary,
        })
    }

    /// Which learner this is (AE, VAE or CVAE).
    pub fn kind(&self) -> LearnerKind {
        self.net.shape().kind
    }

    /// Every size of the network.
    pub fn shape(&self) -> &AutoencoderShape {
        self.net.shape()
    }

    /// Size of the latent code (`L`).
    pub fn latent(&self) -> usize {
        self.net.shape().latent
    }

    /// The network (its layers and parameter layout).
    pub fn network(&self) -> &Autoencoder {
        &self.net
    }

    /// The backend the parameters live on.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The parameters, on the backend.
    pub fn params(&self) -> &B::Buf {
        &self.params
    }

    /// The parameters as host values, in the layout's order.
    pub fn host_params(&self) -> Result<Vec<f32>> {
        let n = self.net.layout().len();
        let mut out = vec![0.0; n];
        self.backend
            .download(self.backend.view(&self.params, 0..n), &mut out)?;
        Ok(out)
    }

    /// The same learner with its parameters on another backend.
    pub fn to_backend<C: Backend>(&self, backend: &C) -> Result<FeatureLearner<C>> {
        FeatureLearner::from_host(
            backend,
            self.net.clone(),
            &self.host_params()?,
            LearnerParts {
                normalization: self.normalization.clone(),
                segments: self.segments.clone(),
                label_names: self.label_names.clone(),
                config: self.config.clone(),
                seed: self.seed,
                fold: self.fold,
                summary: self.summary.clone(),
            },
        )
    }

    /// Values per segment feature for `mode`: 2L for mu and log sigma^2,
    /// L otherwise; the AE always gives its L-value code.
    pub fn feature_dim(&self, mode: EncodeMode) -> usize {
        let l = self.latent();
        match (self.kind(), mode) {
            (LearnerKind::Ae, _) => l,
            (_, EncodeMode::MuLogvar) => 2 * l,
            (_, EncodeMode::Mu | EncodeMode::Sample) => l,
        }
    }

    /// Encodes one utterance's raw segments (`[n, segment_dim]`) into
    /// `[n, feature_dim]`. `label` is needed only for the oracle condition.
    pub fn encode_utterance(
        &self,
        segments: &[f32],
        label: Option<usize>,
        options: &EncodeOptions,
    ) -> Result<Vec<f32>> {
        let labels = label.map(|l| vec![l]);
        let mut out = self.encode_utterances(&[segments], labels.as_deref(), options)?;
        Ok(out.pop().expect("one utterance in, one out"))
    }

    /// Encodes many utterances at once (segments from all of them go through
    /// the network in large batches). `labels` (one per utterance) is needed
    /// only for the CVAE's oracle condition.
    pub fn encode_utterances(
        &self,
        utterances: &[&[f32]],
        labels: Option<&[usize]>,
        options: &EncodeOptions,
    ) -> Result<Vec<Vec<f32>>> {
        let shape = self.net.shape().clone();
        let dim = shape.input;
        let l = shape.latent;
        let k = shape.conditions;
        let oracle = shape.kind == LearnerKind::Cvae && options.condition == CvaeCondition::Oracle;
        if oracle {
            match labels {
                None => {
                    return Err(Error::config(
                        "the oracle CVAE condition needs the label of every utterance",
                    ))
                }
                Some(ls) if ls.len() != utterances.len() => {
                    return Err(Error::shape(format!(
                        "{} labels for {} utterances",
                        ls.len(),
                        utterances.len()
                    )))
                }
                Some(ls) => {
                    if let Some(&bad) = ls.iter().find(|&&x| x >= k) {
                        return Err(Error::shape(format!(
                            "label {bad} out of range for a CVAE with {k} conditions"
                        )));
                    }
                }
            }
        }
        for (i, u) in utterances.iter().enumerate() {
            if u.len() % dim != 0 {
                return Err(Error::shape(format!(
                    "utterance {i}: {} values is not a whole number of {dim}-value segments",
                    u.len()
                )));
            }
        }
        let feat = self.feature_dim(options.mode);
        let mut out: Vec<Vec<f32>> = utterances
            .iter()
            .map(|u| Vec::with_capacity(u.len() / dim * feat))
            .collect();
        // (utterance, segment) of every row, in order.
        let rows: Vec<(usize, usize)> = utterances
            .iter()
            .enumerate()
            .flat_map(|(u, s)| (0..s.len() / dim).map(move |j| (u, j)))
            .collect();
        if rows.is_empty() {
            return Ok(out);
        }
        let cap = rows.len().min(ENCODE_CHUNK);
        let be = &self.backend;
        let mut ws = self.net.workspace(be, cap)?;
        let mut x = vec![0f32; cap * dim];
        let mut cond = vec![0f32; cap * k];
        let mut mu = vec![0f32; cap * l];
        let mut logvar = vec![0f32; cap * l];
        let mut noise = crate::rng::stream(
            self.seed,
            "encode-noise",
            self.fold.unwrap_or(u32::MAX),
            options.noise_key,
        );
        for chunk in rows.chunks(cap) {
            let n = chunk.len();
            for (r, &(u, j)) in chunk.iter().enumerate() {
                x[r * dim..(r + 1) * dim].copy_from_slice(&utterances[u][j * dim..(j + 1) * dim]);
                if k > 0 {
                    let row = &mut cond[r * k..(r + 1) * k];
                    if oracle {
                        row.fill(0.0);
                        row[labels.expect("checked above")[u]] = 1.0;
                    } else {
                        row.fill(1.0 / k as f32);
                    }
                }
            }
            self.normalization.apply(&mut x[..n * dim])?;
            be.upload(&x[..n * dim], be.view_mut(&mut ws.x, 0..n * dim))?;
            if k > 0 {
                be.upload(&cond[..n * k], be.view_mut(&mut ws.cond, 0..n * k))?;
            }
            self.net.encode(
                be,
                &self.params,
                &mut ws,
                n,
                &mut mu[..n * l],
                &mut logvar[..n * l],
            )?;
            for (r, &(u, _)) in chunk.iter().enumerate() {
                let m = &mu[r * l..(r + 1) * l];
                let lv = &logvar[r * l..(r + 1) * l];
                let o = &mut out[u];
                match (shape.kind, options.mode) {
                    (LearnerKind::Ae, _) | (_, EncodeMode::Mu) => o.extend_from_slice(m),
                    (_, EncodeMode::MuLogvar) => {
                        o.extend_from_slice(m);
                        o.extend_from_slice(lv);
                    }
                    (_, EncodeMode::Sample) => {
                        for (mi, lvi) in m.iter().zip(lv) {
                            let e: f32 = StandardNormal.sample(&mut noise);
                            o.push(mi + e * (0.5 * lvi).exp());
                        }
                    }
                }
            }
        }
        check_features(&out)?;
        Ok(out)
    }

    /// Mean reconstruction loss and KL per segment of raw segments
    /// (`[n, segment_dim]`), with z = mu as in validation. The CVAE is
    /// conditioned on `labels` (one per segment) when given, else uniformly.
    pub fn reconstruction_loss(
        &self,
        segments: &[f32],
        labels: Option<&[usize]>,
    ) -> Result<(f64, f64)> {
        let shape = self.net.shape();
        let (dim, l, k) = (shape.input, shape.latent, shape.conditions);
        if segments.is_empty() || segments.len() % dim != 0 {
            return Err(Error::shape(format!(
                "{} values are not a positive whole number of {dim}-value segments",
                segments.len()
            )));
        }
        let n = segments.len() / dim;
        if let Some(ls) = labels {
            if ls.len() != n {
                return Err(Error::shape(format!(
                    "{} labels for {n} segments",
                    ls.len()
                )));
            }
            if k > 0 {
                if let Some(&bad) = ls.iter().find(|&&x| x >= k) {
                    return Err(Error::shape(format!(
                        "label {bad} out of range for a CVAE with {k} conditions"
                    )));
                }
            }
        }
        let cap = n.min(ENCODE_CHUNK);
        let be = &self.backend;
        let mut ws = self.net.workspace(be, cap)?;
        be.fill(be.view_mut(&mut ws.eps, 0..cap * l), 0.0)?;
        let chunks = n.div_ceil(cap);
        // One slot per chunk, downloaded once at the end.
        let mut recon_slots = be.alloc(chunks)?;
        let mut kl_slots = be.alloc(chunks)?;
        let mut x = vec![0f32; cap * dim];
        let mut cond = vec![0f32; cap * k];
        for (c, start) in (0..n).step_by(cap).enumerate() {
            let rows = cap.min(n - start);
            x[..rows * dim].copy_from_slice(&segments[start * dim..(start + rows) * dim]);
            self.normalization.apply(&mut x[..rows * dim])?;
            be.upload(&x[..rows * dim], be.view_mut(&mut ws.x, 0..rows * dim))?;
            if k > 0 {
                for r in 0..rows {
                    let row = &mut cond[r * k..(r + 1) * k];
                    match labels {
                        Some(ls) => {
                            row.fill(0.0);
                            row[ls[start + r]] = 1.0;
                        }
                        None => row.fill(1.0 / k as f32),
                    }
                }
                be.upload(&cond[..rows * k], be.view_mut(&mut ws.cond, 0..rows * k))?;
            }
            self.net.forward(
                be,
                &self.params,
                &mut ws,
                rows,
                be.view_mut(&mut recon_slots, c..c + 1),
                be.view_mut(&mut kl_slots, c..c + 1),
            )?;
        }
        let (mut recon_host, mut kl_host) = (vec![0f32; chunks], vec![0f32; chunks]);
        be.download(be.view(&recon_slots, 0..chunks), &mut recon_host)?;
        be.download(be.view(&kl_slots, 0..chunks), &mut kl_host)?;
        let (mut recon, mut kl) = (0f64, 0f64);
        for (c, start) in (0..n).step_by(cap).enumerate() {
            let rows = cap.min(n - start);
            let loss = LossParts::from_slots(recon_host[c], kl_host[c], rows);
            recon += f64::from(loss.reconstruction) * rows as f64;
            kl += f64::from(loss.kl) * rows as f64;
        }
        Ok((recon / n as f64, kl / n as f64))
    }

    /// Stores the learner in `ck`: tensors named `prefix` + the PyTorch
    /// parameter names, metadata keys `prefix` + `shape`, `latent`,
    /// `labels`, `normalization`, `segments`, `config`, `seed`, `fold`,
    /// `training`.
    pub fn write_into(&self, ck: &mut Checkpoint, prefix: &str) -> Result<()> {
        let key = |k: &str| format!("{prefix}{k}");
        ck.set_meta(&key("shape"), self.net.shape());
        ck.set_meta(&key("latent"), &self.latent());
        ck.set_meta(&key("labels"), &self.label_names);
        ck.set_meta(&key("normalization"), &self.normalization);
        ck.set_meta(&key("segments"), &self.segments);
        ck.set_meta(&key("config"), &self.config);
        ck.set_meta(&key("seed"), &self.seed);
        ck.set_meta(&key("fold"), &self.fold);
        ck.set_meta(&key("training"), &self.summary);
        ck.add_params(prefix, self.net.layout(), &self.host_params()?);
        Ok(())
    }

    /// The checkpoint of this learner alone; its kind is the learner's.
    pub fn to_checkpoint(&self) -> Result<Checkpoint> {
        let mut ck = Checkpoint::new(self.kind().as_str());
        self.write_into(&mut ck, "")?;
        Ok(ck)
    }

    /// Reads a learner stored with `write_into`, checking every tensor's shape.
    pub fn read_from(backend: &B, ck: &Checkpoint, prefix: &str) -> Result<FeatureLearner<B>> {
        let key = |k: &str| format!("{prefix}{k}");
        let shape: AutoencoderShape = ck.meta(&key("shape"))?;
        shape
            .validate()
            .map_err(|e| Error::format(ck.source(), e.to_string()))?;
        let normalization: BandStats = ck.meta(&key("normalization"))?;
        normalization
            .validate()
            .map_err(|e| Error::format(ck.source(), e.to_string()))?;
        let segments: SegmentConfig = ck.meta(&key("segments"))?;
        segments
            .validate()
            .map_err(|e| Error::format(ck.source(), e.to_string()))?;
        let seg_dim = segments.frames * N_MELS;
        if seg_dim != shape.input || normalization.bands() != N_MELS {
            return Err(Error::format(
                ck.source(),
                format!(
                    "inconsistent checkpoint: segments of {} frames x {N_MELS} bands = {seg_dim} values, \
                     model input {}, normalisation over {} bands",
                    segments.frames,
                    shape.input,
                    normalization.bands()
                ),
            ));
        }
        let label_names: Vec<String> = ck.meta(&key("labels"))?;
        if shape.kind == LearnerKind::Cvae && label_names.len() != shape.conditions {
            return Err(Error::format(
                ck.source(),
                format!(
                    "CVAE with {} conditions but {} label names",
                    shape.conditions,
                    label_names.len()
                ),
            ));
        }
        let count = crate::limits::autoencoder_params(
            shape.input,
            shape.conditions,
            &shape.hidden,
            shape.latent,
            shape.kind.is_variational(),
        )
        .map_err(|e| Error::format(ck.source(), e))?;
        ck.check_holds_values(prefix, count)?;
        ck.check_finite(prefix)?;
        let net = Autoencoder::new(shape)?;
        let params = ck.params(prefix, net.layout())?;
        FeatureLearner::from_host(
            backend,
            net,
            &params,
            LearnerParts {
                normalization,
                segments,
                label_names,
                config: ck.meta(&key("config"))?,
                seed: ck.meta(&key("seed"))?,
                fold: ck.meta(&key("fold"))?,
                summary: ck.meta(&key("training"))?,
            },
        )
    }

    /// Writes the learner's checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.to_checkpoint()?.save(path)
    }

    /// Loads a learner checkpoint; with `expected`, a file holding another
    /// kind of learner is an error.
    pub fn load(
        backend: &B,
        path: &Path,
        expected: Option<LearnerKind>,
    ) -> Result<FeatureLearner<B>> {
        let ck = Checkpoint::load(path)?;
        match expected {
            Some(kind) => ck.expect_kind(&[kind.as_str()])?,
            None => ck.expect_kind(&["ae", "vae", "cvae"])?,
        }
        let learner = Self::read_from(backend, &ck, "")?;
        if learner.kind().as_str() != ck.kind() {
            return Err(Error::format(
                path,
                format!(
                    "checkpoint kind '{}' does not match its model shape ({})",
                    ck.kind(),
                    learner.kind()
                ),
            ));
        }
        Ok(learner)
    }
}

/// Errors unless every encoded feature is finite: a classifier fed an
/// infinity answers with NaN probabilities or, worse, a confident class.
fn check_features(utterances: &[Vec<f32>]) -> Result<()> {
    for (u, values) in utterances.iter().enumerate() {
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!(
                "the feature learner gave {} for value {i} of utterance {u}",
                values[i]
            )));
        }
    }
    Ok(())
}
