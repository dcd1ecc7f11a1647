//! Training a feature learner on one fold's training segments (SPEC §3):
//! per-band normalisation from those segments, a seeded validation split,
//! Adam over shuffled batches, early stopping on the validation
//! reconstruction loss with the best weights restored.
//!
//! Randomness, all from named streams keyed by (seed, fold, epoch):
//! `learner-init` (weights), `learner-validation` (the split),
//! `learner-shuffle` (batch order per epoch), `vae-noise` (reparameterisation
//! noise per epoch, drawn on the host so every backend sees the same noise).

use super::early_stop::{Decision, Direction, EarlyStopping};
use super::log::JsonLinesLog;
use crate::audio::N_MELS;
use crate::backend::Backend;
use crate::config::{LearnerConfig, SegmentConfig};
use crate::error::{Error, Result};
use crate::features::normalize::BandStats;
use crate::features::segments::segment_dim;
use crate::models::autoencoder::{
    Autoencoder, AutoencoderShape, LearnerKind, LossParts, Workspace,
};
use crate::models::feature_learner::{FeatureLearner, LearnerParts, TrainingSummary};
use crate::nn::adam::Adam;
use crate::nn::gaussian::Gaussian;
use crate::nn::params::ParamArena;
use crate::rng::stream;
use crate::train::finite;
use rand::seq::SliceRandom;
use std::time::Instant;

/// Everything one training run needs.
#[derive(Clone, Copy, Debug)]
pub struct FitRequest<'a> {
    /// Which learner to train.
    pub kind: LearnerKind,
    /// Sizes, optimiser and early-stopping settings.
    pub config: &'a LearnerConfig,
    /// How the segments were cut (recorded in the learner; sets the segment size).
    pub segments_config: &'a SegmentConfig,
    /// Raw (not normalised) LogMel segments of the fold's training part,
    /// `[n, frames * 80]`, as made by `features::segments`.
    pub segments: &'a [f32],
    /// The label index of each segment; required by the CVAE, ignored otherwise.
    pub labels: Option<&'a [usize]>,
    /// Class names (their count is the CVAE's condition size).
    pub label_names: &'a [String],
    /// The seed of every random stream of the run.
    pub seed: u64,
    /// The held-out fold, `None` when training on the whole corpus.
    pub fold: Option<u32>,
}

/// One line of the training log.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochRecord {
    /// Which learner the line is about.
    pub model: LearnerKind,
    /// The held-out fold (0-based in memory, from 1 in the file); `None` (null) on the whole corpus.
    #[serde(with = "crate::numbering::from_one_opt")]
    pub fold: Option<u32>,
    /// The epoch (0-based in memory, from 1 in the file).
    #[serde(with = "crate::numbering::from_one")]
    pub epoch: usize,
    /// Mean over the epoch's training segments of reconstruction +
    /// `kl_weight` * KL: the loss the optimiser minimised.
    pub train_loss: f64,
    /// Mean over the training segments of the reconstruction loss (squared error summed over a segment).
    pub train_reconstruction: f64,
    /// Mean over the training segments of the KL divergence.
    pub train_kl: f64,
    /// Validation reconstruction loss, mean over segments, computed with
    /// z = mu (no sampling noise); early stopping watches it. The training
    /// value when there is no validation part.
    pub val_reconstruction: f64,
    /// Validation KL divergence, mean over segments.
    pub val_kl: f64,
    /// Seconds the epoch took, validation included.
    pub seconds: f64,
}

/// Trains a feature learner on `backend`; the result lives there too.
///
/// The parameters, Adam's moments and the workspace stay on the backend for
/// the whole run; each batch (and its noise) goes up once, and the losses come
/// down once per epoch (one slot per batch).
pub fn fit<B: Backend>(
    backend: &B,
    req: &FitRequest<'_>,
    log: &mut JsonLinesLog,
) -> Result<FeatureLearner<B>> {
    let cfg = req.config;
    let dim = segment_dim(req.segments_config);
    let fold_key = req.fold.unwrap_or(u32::MAX);
    if dim == 0 || req.segments.len() % dim != 0 {
        return Err(Error::shape(format!(
            "{} segment values are not a whole number of {dim}-value segments",
            req.segments.len()
        )));
    }
    let n = req.segments.len() / dim;
    if n < 2 {
        return Err(Error::config(format!(
            "a feature learner needs at least 2 training segments, got {n}"
        )));
    }
    if cfg.batch == 0 || cfg.max_epochs == 0 {
        return Err(Error::config(
            "learner.batch and learner.max_epochs must be at least 1",
        ));
    }
    let conditions = if req.kind == LearnerKind::Cvae {
        let labels = req
            .labels
            .ok_or_else(|| Error::config("the CVAE needs the label of every training segment"))?;
        if labels.len() != n {
            return Err(Error::shape(format!(
                "{} labels for {n} segments",
                labels.len()
            )));
        }
        let k = req.label_names.len();
        if let Some(&bad) = labels.iter().find(|&&l| l >= k) {
            return Err(Error::shape(format!(
                "label {bad} out of range for {k} label names"
            )));
        }
        k
    } else {
        0
    };
    let shape = AutoencoderShape {
        kind: req.kind,
        input: dim,
        conditions,
        hidden: cfg.hidden.clone(),
        latent: cfg.latent,
    };

    let normalization = BandStats::fit(&[req.segments], N_MELS)?;
    let mut data = req.segments.to_vec();
    normalization.apply(&mut data)?;

    let (train_idx, val_idx) = validation_split(n, cfg.validation_fraction, req.seed, req.fold);

    let mut model = Autoencoder::new(shape)?;
    model.set_kl_weight(cfg.kl_weight);
    let mut host_params = vec![0.0f32; model.layout().len()];
    model.init(
        &mut stream(req.seed, "learner-init", fold_key, 0),
        &mut host_params,
    )?;
    let mut arena = ParamArena::from_host(backend, model.layout().clone(), &host_params)?;
    let cap = cfg.batch.min(train_idx.len());
    let mut ws = model.workspace(backend, cap)?;
    let n_params = model.layout().len();
    let mut adam = Adam::new(backend, n_params, cfg.lr, cfg.adam)?;
    let l = cfg.latent;
    let mut host = HostBatch {
        x: vec![0.0; cap * dim],
        cond: vec![0.0; cap * conditions],
        eps: vec![0.0; cap * l],
    };
    let mut early = EarlyStopping::new(Direction::Minimize, cfg.patience);
    let mut best_params = vec![0.0f32; n_params];
    let mut epoch_params = vec![0.0f32; n_params];
    let hint = finite::lr_hint("learner.lr", cfg.lr);
    let mut best: Option<(usize, LossParts)> = None;
    let mut epochs_run = 0;
    let batches = train_idx.len().div_ceil(cap);
    let val_batches = val_idx.len().div_ceil(cap);
    let mut slots = LossSlots::new(backend, batches.max(val_batches))?;

    for epoch in 0..cfg.max_epochs {
        let started = Instant::now();
        let mut order = train_idx.clone();
        order.shuffle(&mut stream(
            req.seed,
            "learner-shuffle",
            fold_key,
            epoch as u32,
        ));
        let mut noise = stream(req.seed, "vae-noise", fold_key, epoch as u32);
        for (step, chunk) in order.chunks(cap).enumerate() {
            crate::interrupt::check()?;
            let rows = chunk.len();
            host.gather(backend, &mut ws, &data, dim, req.labels, conditions, chunk)?;
            if req.kind.is_variational() {
                Gaussian::draw_eps(&mut noise, &mut host.eps[..rows * l]);
                backend.upload(
                    &host.eps[..rows * l],
                    backend.view_mut(&mut ws.eps, 0..rows * l),
                )?;
            }
            let (recon, kl) = slots.views(backend, step);
            model.forward(backend, &arena.params, &mut ws, rows, recon, kl)?;
            model.backward(backend, &arena.params, &mut arena.grads, &mut ws, rows)?;
            adam.step(backend, &mut arena.params, &arena.grads)?;
        }
        let (sum_recon, sum_kl) = slots.sums(backend, order.chunks(cap).map(<[usize]>::len))?;
        let place = |step| finite::Place {
            model: req.kind.as_str(),
            fold: req.fold,
            epoch,
            step,
        };
        finite::check_steps(
            place,
            &[
                ("reconstruction loss", &slots.host_recon[..batches]),
                ("KL", &slots.host_kl[..batches]),
            ],
            &hint,
        )?;
        backend.download(backend.view(&arena.params, 0..n_params), &mut epoch_params)?;
        finite::check_params(&place(None), model.layout(), &epoch_params, &hint)?;
        let m = train_idx.len() as f64;
        let (train_recon, train_kl) = (sum_recon / m, sum_kl / m);
        // Without a validation part, early stopping watches the training loss.
        let val = if val_idx.is_empty() {
            (train_recon, train_kl)
        } else {
            evaluate(
                backend,
                &model,
                &arena.params,
                &mut ws,
                &mut slots,
                &mut host,
                &data,
                dim,
                req.labels,
                conditions,
                &val_idx,
            )?
        };
        let val_losses = [
            ("validation reconstruction loss", val.0),
            ("validation KL", val.1),
        ];
        finite::check_values(&place(None), &val_losses, &hint)?;
        epochs_run = epoch + 1;
        log.record(&EpochRecord {
            model: req.kind,
            fold: req.fold,
            epoch,
            train_loss: train_recon + f64::from(cfg.kl_weight) * train_kl,
            train_reconstruction: train_recon,
            train_kl,
            val_reconstruction: val.0,
            val_kl: val.1,
            seconds: started.elapsed().as_secs_f64(),
        })?;
        match early.update(epoch, val.0) {
            Decision::Improved => {
                best_params.copy_from_slice(&epoch_params);
                best = Some((
                    epoch,
                    LossParts {
                        reconstruction: val.0 as f32,
                        kl: val.1 as f32,
                    },
                ));
            }
            Decision::Continue => {}
            Decision::Stop => break,
        }
    }
    let (best_epoch, best_loss) = best.ok_or_else(|| {
        Error::config(format!(
            "{} training diverged: no epoch gave a finite validation loss (try a lower learner.lr)",
            req.kind
        ))
    })?;
    FeatureLearner::from_host(
        backend,
        model,
        &best_params,
        LearnerParts {
            normalization,
            segments: req.segments_config.clone(),
            label_names: req.label_names.to_vec(),
            config: cfg.clone(),
            seed: req.seed,
            fold: req.fold,
            summary: TrainingSummary {
                best_epoch,
                epochs_run,
                best_val_reconstruction: f64::from(best_loss.reconstruction),
                best_val_kl: f64::from(best_loss.kl),
                train_segments: train_idx.len(),
                val_segments: val_idx.len(),
            },
        },
    )
}

/// Splits the indices of `n` training segments into (training, validation)
/// as `fit` does, each sorted. The validation part is `fraction` of the
/// segments (at least one when the fraction is positive, never all), chosen
/// by the named stream `learner-validation`.
pub fn validation_split(
    n: usize,
    fraction: f32,
    seed: u64,
    fold: Option<u32>,
) -> (Vec<usize>, Vec<usize>) {
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let fold = fold.unwrap_or(u32::MAX);
    let mut idx: Vec<usize> = (0..n).collect();
    let n_val = if fraction > 0.0 {
        ((fraction as f64 * n as f64).round() as usize).clamp(1, n - 1)
    } else {
        0
    };
    idx.shuffle(&mut stream(seed, "learner-validation", fold, 0));
    let mut val = idx[..n_val].to_vec();
    let mut train = idx[n_val..].to_vec();
    val.sort_unstable();
    train.sort_unstable();
    (train, val)
}

/// Host staging buffers for one batch, sized once.
struct HostBatch {
    x: Vec<f32>,
    cond: Vec<f32>,
    eps: Vec<f32>,
}

impl HostBatch {
    /// Copies the rows `idx` of `data` (and their one-hot conditions) to the workspace.
    #[allow(clippy::too_many_arguments)]
    fn gather<B: Backend>(
        &mut self,
        be: &B,
        ws: &mut Workspace<B>,
        data: &[f32],
        dim: usize,
        labels: Option<&[usize]>,
        conditions: usize,
        idx: &[usize],
    ) -> Result<()> {
        let rows = idx.len();
        for (r, &i) in idx.iter().enumerate() {
            self.x[r * dim..(r + 1) * dim].copy_from_slice(&data[i * dim..(i + 1) * dim]);
        }
        be.upload(&self.x[..rows * dim], be.view_mut(&mut ws.x, 0..rows * dim))?;
        if conditions > 0 {
            let labels = labels.expect("CVAE labels checked by fit");
            let k = conditions;
            self.cond[..rows * k].fill(0.0);
            for (r, &i) in idx.iter().enumerate() {
                self.cond[r * k + labels[i]] = 1.0;
            }
            be.upload(
                &self.cond[..rows * k],
                be.view_mut(&mut ws.cond, 0..rows * k),
            )?;
        }
        Ok(())
    }
}

/// One reconstruction and one KL slot per batch of an epoch, on the backend:
/// the losses come down once per epoch.
struct LossSlots<B: Backend> {
    recon: B::Buf,
    kl: B::Buf,
    host_recon: Vec<f32>,
    host_kl: Vec<f32>,
}

impl<B: Backend> LossSlots<B> {
    fn new(be: &B, batches: usize) -> Result<Self> {
        Ok(LossSlots {
            recon: be.alloc(batches)?,
            kl: be.alloc(batches)?,
            host_recon: vec![0.0; batches],
            host_kl: vec![0.0; batches],
        })
    }

    /// The two slots of batch `step`.
    fn views<'a>(&'a mut self, be: &B, step: usize) -> (B::ViewMut<'a>, B::ViewMut<'a>) {
        (
            be.view_mut(&mut self.recon, step..step + 1),
            be.view_mut(&mut self.kl, step..step + 1),
        )
    }

    /// Downloads the slots of batches with the given row counts and returns
    /// the reconstruction and KL summed over their rows, in batch order.
    fn sums(&mut self, be: &B, rows: impl ExactSizeIterator<Item = usize>) -> Result<(f64, f64)> {
        let n = rows.len();
        be.download(be.view(&self.recon, 0..n), &mut self.host_recon[..n])?;
        be.download(be.view(&self.kl, 0..n), &mut self.host_kl[..n])?;
        let (mut recon, mut kl) = (0f64, 0f64);
        for (b, rows) in rows.enumerate() {
            let loss = LossParts::from_slots(self.host_recon[b], self.host_kl[b], rows);
            recon += f64::from(loss.reconstruction) * rows as f64;
            kl += f64::from(loss.kl) * rows as f64;
        }
        Ok((recon, kl))
    }
}

/// Mean reconstruction and KL over the rows `idx`, with z = mu.
#[allow(clippy::too_many_arguments)]
fn evaluate<B: Backend>(
    be: &B,
    model: &Autoencoder,
    params: &B::Buf,
    ws: &mut Workspace<B>,
    slots: &mut LossSlots<B>,
    host: &mut HostBatch,
    data: &[f32],
    dim: usize,
    labels: Option<&[usize]>,
    conditions: usize,
    idx: &[usize],
) -> Result<(f64, f64)> {
    let cap = ws.capacity();
    let l = model.shape().latent;
    be.fill(be.view_mut(&mut ws.eps, 0..cap * l), 0.0)?;
    for (step, chunk) in idx.chunks(cap).enumerate() {
        host.gather(be, ws, data, dim, labels, conditions, chunk)?;
        let (recon, kl) = slots.views(be, step);
        model.forward(be, params, ws, chunk.len(), recon, kl)?;
    }
    let (recon, kl) = slots.sums(be, idx.chunks(cap).map(<[usize]>::len))?;
    Ok((recon / idx.len() as f64, kl / idx.len() as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_split_is_seeded_disjoint_and_complete() {
        let (train, val) = validation_split(100, 0.1, 7, Some(2));
        assert_eq!((train.len(), val.len()), (90, 10));
        let mut all = [train.clone(), val.clone()].concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(validation_split(100, 0.1, 7, Some(2)), (train, val.clone()));
        assert_ne!(validation_split(100, 0.1, 8, Some(2)).1, val);
        assert_ne!(validation_split(100, 0.1, 7, Some(3)).1, val);
        assert_eq!(validation_split(3, 0.01, 7, None).1.len(), 1);
        assert_eq!(validation_split(2, 0.9, 7, None).1.len(), 1);
        assert!(validation_split(5, 0.0, 7, None).1.is_empty());
    }
}
