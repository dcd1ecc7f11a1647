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
//! Folds are independent, so with several threads they run at the same time,
//! each on a thread of its own (a fold's small LSTM steps gain little from a
//! second thread, whole folds gain nearly twice): the results, the files and
//! the lines printed are those of the folds run one after the other, in
//! order, whatever the number of threads.
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
use crate::train::log::{JsonLinesLog, Observer};
use crate::train::progress::Progress;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Learners kept for reuse; enough for the ten speaker folds of IEMOCAP's
/// dimensional tasks, a few hundred megabytes at the SPEC's sizes.
const LEARNER_CACHE: usize = 12;

/// One table cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CellSpec {
    /// The feature learner or baseline.
    pub model: Method,
    /// What the classifier predicts; decides the protocol (groups or speakers).
    pub task: Task,
    /// Which utterances take part.
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

    /// The cell's file-name-safe id (`vae-categorical-complete-L128`), its
    /// directory under `cells/`.
    pub fn id(&self) -> String {
        cell_id(&self.model_name(), self.task, self.subset, self.latent)
    }

    /// The model's name in results: "AE", "VAE", "CVAE", or a baseline's.
    pub fn model_name(&self) -> String {
        self.model.model_name()
    }
}

/// How a [`Driver`] runs its cells: seed, where it saves, parallelism.
#[derive(Clone, Debug, Default)]
pub struct DriverOptions {
    /// The seed every random stream of every cell is keyed by.
    pub seed: u64,
    /// Run directory: completed folds go to `cells/<id>/`, with the JSON-lines
    /// training logs of each fold. `None` keeps everything in memory.
    pub out: Option<PathBuf>,
    /// Reuse the completed folds found under `out`.
    pub resume: bool,
    /// Counts the run's work: [`Driver::fold_steps`] per fold.
    pub progress: Progress,
    /// Folds computed at the same time, each on one thread (0 and 1: one
    /// after the other, each using every thread). Results do not depend on it.
    pub fold_workers: usize,
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
    /// The cell's folds and scores.
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

    /// Steps of progress one fold of `spec` counts: one per epoch of each
    /// model it may train (early stopping counts the epochs left out as
    /// done), one for a baseline that trains neither.
    pub fn fold_steps(&self, spec: &CellSpec) -> u64 {
        if matches!(spec.model, Method::Majority | Method::LogReg) {
            return 1;
        }
        let learner = if spec.model.learner().is_some() {
            self.config.learner.max_epochs
        } else {
            0
        };
        (learner + self.config.classifier.max_epochs) as u64
    }

    /// Steps of progress of a whole cell (see [`Driver::fold_steps`]).
    pub fn cell_steps(&self, spec: &CellSpec) -> Result<u64> {
        Ok(self.folds(spec)?.2.len() as u64 * self.fold_steps(spec))
    }

    /// Cross-validates the folds of a cell this driver's shard owns (all of
    /// them without sharding); `None` when some belong to other shards and
    /// are not on disk yet.
    pub fn run_cell_part(&mut self, spec: &CellSpec) -> Result<Option<CellOutcome>> {
        let (selected, labels, folds) = self.folds(spec)?;
        let names = label_names(spec.task);
        let fingerprint = self.cell_fingerprint(spec);
        let dir = self.fold_dir(spec);
        let steps = self.fold_steps(spec);
        let mut slots: Vec<Option<(FoldRecord, FoldTiming)>> = vec![None; folds.len()];
        let mut todo = Vec::new();
        let mut resumed = 0;
        let mut missing = false;
        for (i, fold) in folds.iter().enumerate() {
            let job = self.options.first_job + self.jobs_seen;
            self.jobs_seen += 1;
            if let (Some(dir), true) = (&dir, self.options.resume) {
                if let Some(done) = read_fold(&fold_path(dir, fold.index as usize), &fingerprint)? {
                    slots[i] = Some((done.record, done.timing));
                    resumed += 1;
                    self.options.progress.skip(steps);
                    continue;
                }
            }
            if self.options.shard.is_some_and(|s| !s.owns(job)) {
                missing = true;
                continue;
            }
            todo.push(i);
        }
        let limit = self.options.stop_after_folds;
        if let Some(limit) = limit {
            todo.truncate(limit.saturating_sub(self.folds_computed).max(1));
        }

        let jobs: Vec<FoldJob<'_, B>> = todo
            .iter()
            .map(|&i| {
                let fold = &folds[i];
                let learner = match spec.model.learner() {
                    Some(kind) => {
                        let key = self.learner_key(kind, spec, fold, &selected, &labels);
                        let cached = self
                            .learners
                            .iter()
                            .find(|(k, _)| *k == key)
                            .map(|(_, l)| Arc::clone(l));
                        Some((key, cached))
                    }
                    None => None,
                };
                FoldJob { fold, learner }
            })
            .collect();
        let context = CellContext {
            spec,
            selected: &selected,
            labels: &labels,
            names: &names,
            folds: folds.len(),
        };
        let mut emit = Emitter {
            dir: dir.as_deref(),
            fingerprint: &fingerprint,
            verbose: self.options.verbose.then_some(&self.options.progress),
            context: &context,
            jobs: &jobs,
            done: (0..jobs.len()).map(|_| None).collect(),
            shown: 0,
        };
        let workers = self.options.fold_workers.min(jobs.len());
        if workers <= 1 {
            for (j, job) in jobs.iter().enumerate() {
                let done = self.run_fold(&context, job);
                let failed = done.is_err();
                emit.done(j, done)?;
                if failed {
                    break;
                }
            }
        } else {
            let this = &*self;
            let next = AtomicUsize::new(0);
            let stop = AtomicBool::new(false);
            std::thread::scope(|scope| -> Result<()> {
                let (send, receive) = std::sync::mpsc::channel();
                for _ in 0..workers {
                    let send = send.clone();
                    let (next, stop, jobs, context) = (&next, &stop, &jobs, &context);
                    scope.spawn(move || {
                        // One thread per fold: every kernel of the fold runs
                        // serially, as it would with --threads 1.
                        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build();
                        loop {
                            if stop.load(Ordering::SeqCst) {
                                break;
                            }
                            let j = next.fetch_add(1, Ordering::SeqCst);
                            if j >= jobs.len() {
                                break;
                            }
                            let done = match &pool {
                                Ok(pool) => pool.install(|| this.run_fold(context, &jobs[j])),
                                Err(e) => Err(Error::config(format!(
                                    "cannot start a thread for a fold: {e}"
                                ))),
                            };
                            if done.is_err() {
                                stop.store(true, Ordering::SeqCst);
                            }
                            if send.send((j, done)).is_err() {
                                break;
                            }
                        }
                    });
                }
                drop(send);
                for (j, done) in receive {
                    if let Err(e) = emit.done(j, done) {
                        // Let the other folds stop at their next step.
                        stop.store(true, Ordering::SeqCst);
                        return Err(e);
                    }
                }
                Ok(())
            })?;
        }
        let done = std::mem::take(&mut emit.done);
        drop(emit);
        for ((&i, job), done) in todo.iter().zip(jobs).zip(done) {
            // The first failure in fold order, as a serial run would report.
            let done = match done {
                Some(d) => d?,
                None => break,
            };
            if let (Some((key, cached)), Some(trained)) = (job.learner, &done.learner) {
                if cached.is_some() {
                    self.learners_reused += 1;
                } else {
                    self.learners_trained += 1;
                    if self.learners.len() >= LEARNER_CACHE {
                        self.learners.remove(0);
                    }
                    self.learners.push((key, Arc::clone(trained)));
                }
            }
            slots[i] = Some((done.record, done.timing));
            self.folds_computed += 1;
        }
        if let Some(limit) = limit {
            if !todo.is_empty() && self.folds_computed >= limit {
                return Err(Error::Interrupted(format!(
                    "stopped after {limit} folds as {} asks; run again with --resume to continue",
                    super::resume::STOP_AFTER_FOLDS_ENV
                )));
            }
        }
        if missing {
            return Ok(None);
        }
        let (records, timings): (Vec<FoldRecord>, Vec<FoldTiming>) = slots
            .into_iter()
            .map(|s| s.expect("every fold is resumed, computed, or left to another shard"))
            .unzip();
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

    /// Computes one fold: its feature learner (unless taken from the
    /// cache), its classifier, its test predictions.
    fn run_fold(&self, cell: &CellContext<'_>, job: &FoldJob<'_, B>) -> Result<FoldDone<B>> {
        let (spec, fold) = (cell.spec, job.fold);
        let (selected, labels, names) = (cell.selected, cell.labels, cell.names);
        let seed = self.options.seed;
        let train = fold.train(selected.len());
        if train.is_empty() {
            return Err(Error::config(format!(
                "{} fold {}: no training utterance",
                spec.id(),
                fold.index + 1
            )));
        }
        if matches!(spec.model, Method::Majority | Method::LogReg) {
            let done = self.run_direct_fold(cell, fold, &train)?;
            self.options.progress.inc(1);
            return Ok(done);
        }
        let cell_dir = self.fold_dir(spec);
        let (features, trained) = match (spec.model.learner(), &job.learner) {
            (Some(kind), Some((_, cached))) => {
                let (features, trained) =
                    self.learned_features(kind, cell, fold, &train, cached.clone())?;
                (features, Some(trained))
            }
            _ => {
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
                let features = FoldFeatures {
                    train: train_features,
                    test: test_features,
                    dim: crate::features::segments::segment_dim(&self.config.segments),
                    learner_epochs: Vec::new(),
                    learner_s: 0.0,
                    encode_s: started.elapsed().as_secs_f64(),
                };
                (features, None)
            }
        };
        let FoldFeatures {
            train: train_features,
            test: test_features,
            dim,
            learner_epochs,
            learner_s,
            encode_s,
        } = features;

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
        let log = match &cell_dir {
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
            },
            &mut log.observed(self.epoch_ticker()),
        )?;
        self.options.progress.inc(
            (self.config.classifier.max_epochs as u64).saturating_sub(fit.epochs.len() as u64),
        );
        let classifier_s = started.elapsed().as_secs_f64();

        let started = Instant::now();
        let test_refs: Vec<&[f32]> = test_features.iter().map(Vec::as_slice).collect();
        let probabilities = fit.classifier.predict_proba(&test_refs)?;
        let mut confusion = Confusion::new(names.len());
        for (&p, probs) in fold.test.iter().zip(&probabilities) {
            confusion.add(labels[p], argmax(probs)?);
        }
        let evaluate_s = started.elapsed().as_secs_f64();

        Ok(FoldDone {
            record: FoldRecord {
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
            timing: FoldTiming {
                learner: learner_s,
                encode: encode_s,
                classifier: classifier_s,
                evaluate: evaluate_s,
            },
            learner: trained,
        })
    }

    /// Advances the run's progress by one step per epoch record of a log.
    fn epoch_ticker(&self) -> Observer {
        let progress = self.options.progress.clone();
        Arc::new(move |record: &serde_json::Value| {
            if record.get("epoch").is_some() {
                progress.inc(1);
            }
        })
    }

    /// The fold's feature learner (`cached`, or trained now) and the
    /// features it gives the training and test utterances.
    fn learned_features(
        &self,
        kind: LearnerKind,
        cell: &CellContext<'_>,
        fold: &Fold,
        train: &[usize],
        cached: Option<Arc<TrainedLearner<B>>>,
    ) -> Result<(FoldFeatures, Arc<TrainedLearner<B>>)> {
        let (spec, selected, labels) = (cell.spec, cell.selected, cell.labels);
        let learner_config = self.learner_config(spec);
        let started = Instant::now();
        // A learner taken from the cache costs (and is timed as) nothing.
        let trained = match cached {
            Some(hit) => {
                self.options
                    .progress
                    .skip(self.config.learner.max_epochs as u64);
                hit
            }
            None => {
                self.train_learner(kind, spec, &learner_config, fold, selected, labels, train)?
            }
        };
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
        let features = FoldFeatures {
            train: train_features,
            test: test_features,
            dim: learner.feature_dim(learner_config.encode),
            learner_epochs: trained.epochs.clone(),
            learner_s,
            encode_s: started.elapsed().as_secs_f64(),
        };
        Ok((features, trained))
    }

    /// A baseline that predicts without the LSTM (majority class, logistic
    /// regression); it has no validation part and no training log.
    fn run_direct_fold(
        &self,
        cell: &CellContext<'_>,
        fold: &Fold,
        train: &[usize],
    ) -> Result<FoldDone<B>> {
        let (spec, selected, labels, names) = (cell.spec, cell.selected, cell.labels, cell.names);
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
        Ok(FoldDone {
            record: FoldRecord {
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
            timing: FoldTiming {
                classifier: started.elapsed().as_secs_f64(),
                ..FoldTiming::default()
            },
            learner: None,
        })
    }

    /// What a fold's feature learner depends on: two folds with the same
    /// key would train the same learner.
    fn learner_key(
        &self,
        kind: LearnerKind,
        spec: &CellSpec,
        fold: &Fold,
        selected: &[usize],
        labels: &[usize],
    ) -> String {
        let conditional = kind == LearnerKind::Cvae;
        let train = fold.train(selected.len());
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
            "config": self.learner_config(spec),
            "segments": self.config.segments,
            "fold": fold.index,
            "train": ids,
            "labels": condition_labels,
            "label_names": if conditional { label_names(spec.task) } else { Vec::new() },
        });
        sha256_hex(key.to_string().as_bytes())
    }

    /// Trains the fold's feature learner.
    #[allow(clippy::too_many_arguments)]
    fn train_learner(
        &self,
        kind: LearnerKind,
        spec: &CellSpec,
        config: &LearnerConfig,
        fold: &Fold,
        selected: &[usize],
        labels: &[usize],
        train: &[usize],
    ) -> Result<Arc<TrainedLearner<B>>> {
        let conditional = kind == LearnerKind::Cvae;
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
        let mut log = JsonLinesLog::in_memory().observed(self.epoch_ticker());
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
            },
            &mut log,
        )?;
        self.options
            .progress
            .inc((config.max_epochs as u64).saturating_sub(log.records().len() as u64));
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
        Ok(Arc::new(TrainedLearner {
            learner,
            epochs,
            log: log.to_jsonl(),
        }))
    }
}

/// What every fold of a cell shares.
struct CellContext<'a> {
    spec: &'a CellSpec,
    /// The cell's utterances (indices into the corpus data).
    selected: &'a [usize],
    /// Their labels for the cell's task.
    labels: &'a [usize],
    names: &'a [String],
    /// How many folds the cell has.
    folds: usize,
}

/// A fold to compute, with its learner's cache key and the cached learner
/// when one exists (cells without a feature learner have neither).
struct FoldJob<'a, B: Backend> {
    fold: &'a Fold,
    learner: Option<(String, Option<Arc<TrainedLearner<B>>>)>,
}

/// A computed fold, and the learner it trained or reused.
struct FoldDone<B: Backend> {
    record: FoldRecord,
    timing: FoldTiming,
    learner: Option<Arc<TrainedLearner<B>>>,
}

/// Saves each fold as soon as it is computed (so an interruption keeps it)
/// and prints the folds' lines in fold order, whatever order they finish in.
struct Emitter<'a, B: Backend> {
    dir: Option<&'a Path>,
    fingerprint: &'a str,
    /// Where the per-fold lines go, when they are wanted.
    verbose: Option<&'a Progress>,
    context: &'a CellContext<'a>,
    jobs: &'a [FoldJob<'a, B>],
    done: Vec<Option<Result<FoldDone<B>>>>,
    /// Jobs whose line is printed.
    shown: usize,
}

impl<B: Backend> Emitter<'_, B> {
    /// Takes job `j`'s outcome; fails only when its fold cannot be saved.
    fn done(&mut self, j: usize, outcome: Result<FoldDone<B>>) -> Result<()> {
        if let (Ok(done), Some(dir)) = (&outcome, self.dir) {
            write_fold(
                &fold_path(dir, self.jobs[j].fold.index as usize),
                &FoldFile {
                    fingerprint: self.fingerprint.to_string(),
                    record: done.record.clone(),
                    timing: done.timing.clone(),
                },
            )?;
        }
        self.done[j] = Some(outcome);
        while let Some(Some(Ok(done))) = self.done.get(self.shown) {
            if let Some(out) = self.verbose {
                out.println(&fold_line(
                    self.context,
                    self.jobs[self.shown].fold,
                    &done.record,
                    &done.timing,
                ));
            }
            self.shown += 1;
        }
        Ok(())
    }
}

/// The line printed when a fold is done.
fn fold_line(
    cell: &CellContext<'_>,
    fold: &Fold,
    record: &FoldRecord,
    timing: &FoldTiming,
) -> String {
    let s = record.confusion.scores();
    format!(
        "{} fold {}/{} (test {}): WA {:.1} UA {:.1} F1 {:.1}  [learner {:.1}s, encode {:.1}s, classifier {:.1}s]",
        cell.spec.id(),
        fold.index + 1,
        cell.folds,
        fold.name,
        100.0 * s.wa,
        100.0 * s.ua,
        100.0 * s.macro_f1,
        timing.learner,
        timing.encode,
        timing.classifier
    )
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
