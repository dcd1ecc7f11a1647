//! The cross-validation driver (SPEC §3-§5). For each fold of a table cell
//! (a feature learner on a task and subset at one latent size):
//!
//! 1. train the feature learner on the fold's training utterances only (it
//!    estimates its per-band z-score statistics from those segments and
//!    applies them itself when encoding, so no statistic ever sees the test
//!    fold);
//! 2. encode the training and test utterances (the CVAE with the uniform
//!    condition unless the configuration asks for the oracle one);
//! 3. split the training utterances into classifier training and validation
//!    parts (stratified), train the classifier, predict the test fold;
//! 4. save the fold (record + timing) atomically, so `--resume` can skip it.
//!
//! Categorical tasks leave one group out, dimensional ones one speaker out.
//! All randomness comes from streams keyed by (seed, purpose, fold), so a fold
//! gives the same result whether it runs in a fresh process, after a resume,
//! or after other cells.
//!
//! A feature learner is a deterministic function of its kind, configuration,
//! fold, training utterances (and, for the CVAE, their labels); learners are
//! kept in a small cache under exactly that key, so cells that would train
//! the same learner (e.g. the AE and VAE of the valence, arousal and dominance
//! tasks, which share speakers folds and utterances) train it once. Reuse
//! never changes a number.

use super::baselines;
use super::dataset::{label_names, CorpusData};
use super::manifest::program_version;
use super::method::Method;
use super::metrics::{Confusion, FoldSummary};
use super::results::{cell_id, CellResult, FoldRecord, FoldTiming, LearnerEpoch, Subset, Task};
use super::resume::{cell_dir, fold_path, read_fold, seed_dir, write_fold, FoldFile};
use super::shard::Shard;
use crate::backend::Backend;
use crate::config::{Config, CvaeCondition, LearnerConfig};
use crate::corpus::folds::{by_group, by_speaker, Fold};
use crate::corpus::Utterance;
use crate::error::{Error, Result};
use crate::models::autoencoder::LearnerKind;
use crate::models::feature_learner::{EncodeOptions, FeatureLearner};
use crate::sha256::Sha256;
use crate::train::autoencoder::{self as learner_fit, EpochRecord, FitRequest};
use crate::train::classifier::{self as classifier_fit, ClassifierFitRequest};
use crate::train::log::JsonLinesLog;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Learners kept for reuse; enough for the ten speaker folds of IEMOCAP's
/// dimensional tasks, a few hundred megabytes at the SPEC's sizes.
const LEARNER_CACHE: usize = 12;

/// One table cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CellSpec {
    pub model: Method,
    pub task: Task,
    pub subset: Subset,
    /// 0 for a baseline.
    pub latent: usize,
}

impl CellSpec {
    /// A cell of one of the paper's models.
    pub fn learner(kind: LearnerKind, task: Task, subset: Subset, latent: usize) -> CellSpec {
        CellSpec {
            model: Method::Learner(kind),
            task,
            subset,
            latent,
        }
    }

    /// A baseline on a task and subset (no latent size).
    pub fn baseline(method: Method, task: Task, subset: Subset) -> CellSpec {
        CellSpec {
            model: method,
            task,
            subset,
            latent: 0,
        }
    }

    pub fn id(&self) -> String {
        cell_id(&self.model_name(), self.task, self.subset, self.latent)
    }

    /// The model's name in results: "AE", "VAE", "CVAE", or a baseline's.
    pub fn model_name(&self) -> String {
        self.model.model_name()
    }
}

#[derive(Clone, Debug, Default)]
pub struct DriverOptions {
    pub seed: u64,
    /// Run directory: completed folds go to `cells/<id>/`, with the JSON-lines
    /// training logs of each fold. `None` keeps everything in memory.
    pub out: Option<PathBuf>,
    /// Reuse the completed folds found under `out`.
    pub resume: bool,
    /// Draw progress bars (they only appear on a terminal).
    pub progress: bool,
    /// Print a line per completed fold on stderr.
    pub verbose: bool,
    /// Stop with `Error::Interrupted` after this many folds were computed.
    pub stop_after_folds: Option<usize>,
    /// Compute only this shard's folds (see `eval::shard`).
    pub shard: Option<Shard>,
    /// The run-order number of this driver's first fold (for sharding).
    pub first_job: usize,
}

/// A cell's result and how it was obtained.
#[derive(Clone, Debug)]
pub struct CellOutcome {
    pub result: CellResult,
    /// Wall time of each fold's stages (read back from disk for resumed folds).
    pub timings: Vec<FoldTiming>,
    /// Folds taken from a previous, interrupted run.
    pub resumed_folds: usize,
}

/// What the classifier of a fold reads, and what making it cost.
struct FoldFeatures {
    train: Vec<Vec<f32>>,
    test: Vec<Vec<f32>>,
    dim: usize,
    learner_epochs: Vec<LearnerEpoch>,
    learner_s: f64,
    encode_s: f64,
}

struct TrainedLearner<B: Backend> {
    learner: FeatureLearner<B>,
    epochs: Vec<LearnerEpoch>,
    log: String,
}

/// Runs cells fold by fold on one backend.
pub struct Driver<'a, B: Backend> {
    backend: B,
    data: &'a CorpusData,
    config: &'a Config,
    options: DriverOptions,
    learners: Vec<(String, Arc<TrainedLearner<B>>)>,
    folds_computed: usize,
    /// Folds visited (computed, resumed or left to another shard).
    jobs_seen: usize,
    learners_trained: usize,
    learners_reused: usize,
}

impl<'a, B: Backend> Driver<'a, B> {
    /// A driver whose learners and classifiers train on `backend`.
    pub fn new(
        backend: &B,
        data: &'a CorpusData,
        config: &'a Config,
        options: DriverOptions,
    ) -> Self {
        Driver {
            backend: backend.clone(),
            data,
            config,
            options,
            learners: Vec::new(),
            folds_computed: 0,
            jobs_seen: 0,
            learners_trained: 0,
            learners_reused: 0,
        }
    }

    /// (learners trained, learners reused from the cache) so far.
    pub fn learner_counts(&self) -> (usize, usize) {
        (self.learners_trained, self.learners_reused)
    }

    /// Folds computed (not resumed) by this driver so far.
    pub fn folds_computed(&self) -> usize {
        self.folds_computed
    }

    /// Whether a cell's features are made with the true labels (label leak).
    pub fn is_oracle(&self, spec: &CellSpec) -> bool {
        spec.model == Method::Learner(LearnerKind::Cvae)
            && self.config.learner.cvae_condition == CvaeCondition::Oracle
    }

    /// The folds of a cell: the utterances with a label for its task in its
    /// subset, grouped by the task's protocol.
    pub fn folds(&self, spec: &CellSpec) -> Result<(Vec<usize>, Vec<usize>, Vec<Fold>)> {
        let (selected, labels) = self.data.select(spec.task, spec.subset);
        if selected.is_empty() {
            return Err(Error::config(format!(
                "{}: no utterance has a {} label in the {} subset",
                self.data.root.display(),
                spec.task.name(),
                spec.subset.name()
            )));
        }
        let utterances: Vec<Utterance> = selected
            .iter()
            .map(|&i| self.data.utterances[i].clone())
            .collect();
        let folds = if spec.task.is_dimensional() {
            by_speaker(&utterances)
        } else {
            by_group(&utterances)
        };
        if folds.len() < 2 {
            return Err(Error::config(format!(
                "{}: cross-validation of {} needs at least two {}, found {}",
                self.data.root.display(),
                spec.id(),
                if spec.task.is_dimensional() {
                    "speakers"
                } else {
                    "groups"
                },
                folds.len()
            )));
        }
        Ok((selected, labels, folds))
    }

    fn learner_config(&self, spec: &CellSpec) -> LearnerConfig {
        LearnerConfig {
            latent: spec.latent,
            ..self.config.learner.clone()
        }
    }

    /// Identifies everything a cell's folds depend on.
    pub fn cell_fingerprint(&self, spec: &CellSpec) -> String {
        let key = serde_json::json!({
            "program": program_version(),
            "corpus": self.data.fingerprint,
            "seed": self.options.seed,
            "cell": spec.id(),
            "segments": self.config.segments,
            "learner": self.learner_config(spec),
            "classifier": self.config.classifier,
        });
        sha256_hex(key.to_string().as_bytes())
    }

    /// Folds visited so far (the run-order numbers used by sharding).
    pub fn jobs_seen(&self) -> usize {
        self.jobs_seen
    }

    /// Cross-validates one cell.
    pub fn run_cell(&mut self, spec: &CellSpec) -> Result<CellOutcome> {
        self.run_cell_part(spec)?.ok_or_else(|| {
            Error::config(format!(
                "{}: some folds belong to other shards; gather every shard's folds and resume",
                spec.id()
            ))
        })
    }

    /// Cross-validates the folds of a cell this driver's shard owns (all of
    /// them without sharding); `None` when some belong to other shards and
    /// are not on disk yet.
    pub fn run_cell_part(&mut self, spec: &CellSpec) -> Result<Option<CellOutcome>> {
        let (selected, labels, folds) = self.folds(spec)?;
        let names = label_names(spec.task);
        let fingerprint = self.cell_fingerprint(spec);
        let dir = self.fold_dir(spec);
        let mut records = Vec::with_capacity(folds.len());
        let mut timings = Vec::with_capacity(folds.len());
        let mut resumed = 0;
        let mut missing = false;
        for fold in &folds {
            let job = self.options.first_job + self.jobs_seen;
            self.jobs_seen += 1;
            let path = dir.as_ref().map(|d| fold_path(d, fold.index as usize));
            if let (Some(path), true) = (&path, self.options.resume) {
                if let Some(done) = read_fold(path, &fingerprint)? {
                    records.push(done.record);
                    timings.push(done.timing);
                    resumed += 1;
                    continue;
                }
            }
            if self.options.shard.is_some_and(|s| !s.owns(job)) {
                missing = true;
                continue;
            }
            let (record, timing) = self.run_fold(spec, fold, &selected, &labels, &names)?;
            if let Some(path) = &path {
                write_fold(
                    path,
                    &FoldFile {
                        fingerprint: fingerprint.clone(),
                        record: record.clone(),
                        timing: timing.clone(),
                    },
                )?;
            }
            if self.options.verbose {
                let s = record.confusion.scores();
                eprintln!(
                    "{} fold {}/{} (test {}): WA {:.1} UA {:.1} F1 {:.1}  [learner {:.1}s, encode {:.1}s, classifier {:.1}s]",
                    spec.id(),
                    fold.index + 1,
                    folds.len(),
                    fold.name,
                    100.0 * s.wa,
                    100.0 * s.ua,
                    100.0 * s.macro_f1,
                    timing.learner,
                    timing.encode,
                    timing.classifier
                );
            }
            records.push(record);
            timings.push(timing);
            self.folds_computed += 1;
            if let Some(limit) = self.options.stop_after_folds {
                if self.folds_computed >= limit {
                    return Err(Error::Interrupted(format!(
                        "stopped after {limit} folds as {} asks; run again with --resume to continue",
                        super::resume::STOP_AFTER_FOLDS_ENV
                    )));
                }
            }
        }
        if missing {
            return Ok(None);
        }
        let confusions: Vec<Confusion> = records.iter().map(|r| r.confusion.clone()).collect();
        Ok(Some(CellOutcome {
            result: CellResult {
                model: spec.model_name(),
                task: spec.task,
                subset: spec.subset,
                latent: spec.latent,
                seed: self.options.seed,
                labels: names,
                oracle_labels: self.is_oracle(spec),
                summary: FoldSummary::from_folds(&confusions),
                folds: records,
            },
            timings,
            resumed_folds: resumed,
        }))
    }

    /// Where a cell's folds of this driver's seed are saved.
    fn fold_dir(&self, spec: &CellSpec) -> Option<PathBuf> {
        self.options
            .out
            .as_ref()
            .map(|o| seed_dir(&cell_dir(o, &spec.id()), self.options.seed))
    }

    fn run_fold(
        &mut self,
        spec: &CellSpec,
        fold: &Fold,
        selected: &[usize],
        labels: &[usize],
        names: &[String],
    ) -> Result<(FoldRecord, FoldTiming)> {
        let seed = self.options.seed;
        let train = fold.train(selected.len());
        if train.is_empty() {
            return Err(Error::config(format!(
                "{} fold {}: no training utterance",
                spec.id(),
                fold.index
            )));
        }
        if matches!(spec.model, Method::Majority | Method::LogReg) {
            return self.run_direct_fold(spec, fold, selected, labels, names, &train);
        }
        let cell_dir = self.fold_dir(spec);
        let FoldFeatures {
            train: train_features,
            test: test_features,
            dim,
            learner_epochs,
            learner_s,
            encode_s,
        } = match spec.model.learner() {
            Some(kind) => self.learned_features(kind, spec, fold, selected, labels, &train)?,
            None => {
                let started = Instant::now();
                let segs = |positions: &[usize]| -> Vec<&[f32]> {
                    positions
                        .iter()
                        .map(|&p| self.data.segments[selected[p]].as_slice())
                        .collect()
                };
                let (train_features, test_features) = baselines::zscored_segments(
                    &segs(&train),
                    &segs(&fold.test),
                    crate::audio::N_MELS,
                )?;
                FoldFeatures {
                    train: train_features,
                    test: test_features,
                    dim: crate::features::segments::segment_dim(&self.config.segments),
                    learner_epochs: Vec::new(),
                    learner_s: 0.0,
                    encode_s: started.elapsed().as_secs_f64(),
                }
            }
        };

        let started = Instant::now();
        let train_labels: Vec<usize> = train.iter().map(|&p| labels[p]).collect();
        let (fit_seqs, val_seqs) = classifier_fit::stratified_sequences(
            &train_features,
            &train_labels,
            dim,
            self.config.classifier.validation_fraction,
            seed,
            Some(fold.index),
        );
        let mut log = match &cell_dir {
            Some(d) => {
                JsonLinesLog::to_file(d.join(format!("fold-{}.classifier.jsonl", fold.index + 1)))
            }
            None => JsonLinesLog::in_memory(),
        };
        let fit = classifier_fit::fit(
            &self.backend,
            &ClassifierFitRequest {
                config: &self.config.classifier,
                train: &fit_seqs,
                validation: &val_seqs,
                label_names: names,
                seed,
                fold: Some(fold.index),
                progress: self.options.progress,
            },
            &mut log,
        )?;
        let classifier_s = started.elapsed().as_secs_f64();

        let started = Instant::now();
        let test_refs: Vec<&[f32]> = test_features.iter().map(Vec::as_slice).collect();
        let probabilities = fit.classifier.predict_proba(&test_refs)?;
        let mut confusion = Confusion::new(names.len());
        for (&p, probs) in fold.test.iter().zip(&probabilities) {
            confusion.add(labels[p], argmax(probs)?);
        }
        let evaluate_s = started.elapsed().as_secs_f64();

        Ok((
            FoldRecord {
                fold: fold.index as usize,
                test_group: fold.name.clone(),
                n_train: fit_seqs.len(),
                n_validation: val_seqs.len(),
                n_test: fold.test.len(),
                confusion,
                learner_epochs,
                classifier_epochs: fit.epochs,
                classifier_best_epoch: fit.best_epoch,
                classifier_warning: fit.warning,
            },
            FoldTiming {
                learner: learner_s,
                encode: encode_s,
                classifier: classifier_s,
                evaluate: evaluate_s,
            },
        ))
    }

    /// The fold's feature learner (trained or reused) and the features it
    /// gives the training and test utterances.
    fn learned_features(
        &mut self,
        kind: LearnerKind,
        spec: &CellSpec,
        fold: &Fold,
        selected: &[usize],
        labels: &[usize],
        train: &[usize],
    ) -> Result<FoldFeatures> {
        let learner_config = self.learner_config(spec);
        let started = Instant::now();
        // A learner taken from the cache costs (and is timed as) nothing.
        let trained = self.learner(kind, spec, &learner_config, fold, selected, labels, train)?;
        let learner_s = started.elapsed().as_secs_f64();
        let data = self.data;
        let learner = &trained.learner;
        if let Some(d) = self.fold_dir(spec) {
            crate::fsutil::write_atomic(
                &d.join(format!("fold-{}.learner.jsonl", fold.index + 1)),
                trained.log.as_bytes(),
            )?;
        }

        let started = Instant::now();
        let oracle = self.is_oracle(spec);
        let encode = |positions: &[usize], noise_key: u32| -> Result<Vec<Vec<f32>>> {
            let segs: Vec<&[f32]> = positions
                .iter()
                .map(|&p| data.segments[selected[p]].as_slice())
                .collect();
            let truth: Vec<usize> = positions.iter().map(|&p| labels[p]).collect();
            let options = EncodeOptions {
                noise_key,
                ..EncodeOptions::from_config(&learner_config)
            };
            // Labels reach the encoder only in the oracle diagnostic.
            learner.encode_utterances(&segs, oracle.then_some(&truth[..]), &options)
        };
        let train_features = encode(train, 0)?;
        let test_features = encode(&fold.test, 1)?;
        Ok(FoldFeatures {
            train: train_features,
            test: test_features,
            dim: learner.feature_dim(learner_config.encode),
            learner_epochs: trained.epochs.clone(),
            learner_s,
            encode_s: started.elapsed().as_secs_f64(),
        })
    }

    /// A baseline that predicts without the LSTM (majority class, logistic
    /// regression); it has no validation part and no training log.
    fn run_direct_fold(
        &mut self,
        spec: &CellSpec,
        fold: &Fold,
        selected: &[usize],
        labels: &[usize],
        names: &[String],
        train: &[usize],
    ) -> Result<(FoldRecord, FoldTiming)> {
        let started = Instant::now();
        let train_labels: Vec<usize> = train.iter().map(|&p| labels[p]).collect();
        let segs = |positions: &[usize]| -> Vec<&[f32]> {
            positions
                .iter()
                .map(|&p| self.data.segments[selected[p]].as_slice())
                .collect()
        };
        let predicted = match spec.model {
            Method::Majority => baselines::majority(&train_labels, names.len(), fold.test.len())?,
            _ => baselines::logistic_regression(
                &self.backend,
                &segs(train),
                &train_labels,
                &segs(&fold.test),
                crate::audio::N_MELS,
                names.len(),
            )?,
        };
        let mut confusion = Confusion::new(names.len());
        for (&p, &guess) in fold.test.iter().zip(&predicted) {
            confusion.add(labels[p], guess);
        }
        Ok((
            FoldRecord {
                fold: fold.index as usize,
                test_group: fold.name.clone(),
                n_train: train.len(),
                n_validation: 0,
                n_test: fold.test.len(),
                confusion,
                learner_epochs: Vec::new(),
                classifier_epochs: Vec::new(),
                classifier_best_epoch: 0,
                classifier_warning: None,
            },
            FoldTiming {
                classifier: started.elapsed().as_secs_f64(),
                ..FoldTiming::default()
            },
        ))
    }

    /// The fold's feature learner: from the cache when one was trained on
    /// exactly the same data, else trained now.
    #[allow(clippy::too_many_arguments)]
    fn learner(
        &mut self,
        kind: LearnerKind,
        spec: &CellSpec,
        config: &LearnerConfig,
        fold: &Fold,
        selected: &[usize],
        labels: &[usize],
        train: &[usize],
    ) -> Result<Arc<TrainedLearner<B>>> {
        let conditional = kind == LearnerKind::Cvae;
        let key = {
            let ids: Vec<&str> = train
                .iter()
                .map(|&p| self.data.utterances[selected[p]].id.as_str())
                .collect();
            let condition_labels: Vec<usize> = if conditional {
                train.iter().map(|&p| labels[p]).collect()
            } else {
                Vec::new()
            };
            let key = serde_json::json!({
                "model": kind,
                "config": config,
                "segments": self.config.segments,
                "fold": fold.index,
                "train": ids,
                "labels": condition_labels,
                "label_names": if conditional { label_names(spec.task) } else { Vec::new() },
            });
            sha256_hex(key.to_string().as_bytes())
        };
        if let Some((_, hit)) = self.learners.iter().find(|(k, _)| *k == key) {
            self.learners_reused += 1;
            return Ok(Arc::clone(hit));
        }

        let dim = crate::features::segments::segment_dim(&self.config.segments);
        let total: usize = train
            .iter()
            .map(|&p| self.data.segments[selected[p]].len())
            .sum();
        let mut segments = Vec::with_capacity(total);
        let mut segment_labels = Vec::with_capacity(total / dim);
        for &p in train {
            let s = &self.data.segments[selected[p]];
            segments.extend_from_slice(s);
            segment_labels.extend(std::iter::repeat(labels[p]).take(s.len() / dim));
        }
        let names = label_names(spec.task);
        let mut log = JsonLinesLog::in_memory();
        let learner = learner_fit::fit(
            &self.backend,
            &FitRequest {
                kind,
                config,
                segments_config: &self.config.segments,
                segments: &segments,
                labels: conditional.then_some(&segment_labels[..]),
                label_names: &names,
                seed: self.options.seed,
                fold: Some(fold.index),
                progress: self.options.progress,
            },
            &mut log,
        )?;
        let epochs = log
            .records()
            .iter()
            .map(|r| {
                serde_json::from_value::<EpochRecord>(r.clone())
                    .map(|e| LearnerEpoch {
                        epoch: e.epoch,
                        train_loss: e.train_loss,
                        val_recon: e.val_reconstruction,
                        val_kl: e.val_kl,
                    })
                    .map_err(|e| Error::config(format!("learner log record unreadable: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let trained = Arc::new(TrainedLearner {
            learner,
            epochs,
            log: log.to_jsonl(),
        });
        self.learners_trained += 1;
        if self.learners.len() >= LEARNER_CACHE {
            self.learners.remove(0);
        }
        self.learners.push((key, Arc::clone(&trained)));
        Ok(trained)
    }
}

/// Index of the largest probability (the first on ties).
fn argmax(probs: &[f32]) -> Result<usize> {
    let mut best = 0;
    for (i, &p) in probs.iter().enumerate() {
        if !p.is_finite() {
            return Err(Error::config(format!(
                "the classifier gave a non-finite probability ({p}); training diverged"
            )));
        }
        if p > probs[best] {
            best = i;
        }
    }
    if probs.is_empty() {
        return Err(Error::shape("the classifier gave no probability"));
    }
    Ok(best)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum_and_rejects_nan() {
        assert_eq!(argmax(&[0.1, 0.4, 0.4, 0.1]).unwrap(), 1);
        assert_eq!(argmax(&[0.7, 0.3]).unwrap(), 0);
        assert!(argmax(&[0.5, f32::NAN]).is_err());
        assert!(argmax(&[]).is_err());
    }
}
