//! A trained model in one self-contained file, what `vaeser train` writes and
//! `vaeser predict` reads: the front-end settings the features were computed
//! with, the segment configuration and normalisation statistics (inside the
//! feature learner), the feature learner, the classifier, how segments are
//! encoded, and the label names. A safetensors file: the learner's tensors
//! are stored under `learner.`, the classifier's under `classifier.`.

use super::classifier::Classifier;
use super::feature_learner::{EncodeOptions, FeatureLearner};
use crate::audio::logmel::{FLOOR, HOP, N_FFT, WIN_LENGTH};
use crate::audio::{load_logmel, N_MELS, SAMPLE_RATE};
use crate::checkpoint::Checkpoint;
use crate::config::{CvaeCondition, EncodeMode};
use crate::error::{Error, Result};
use crate::eval::results::Task;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The checkpoint kind of a model bundle.
pub const KIND: &str = "vaeser-model";

/// The LogMel front end of SPEC §1, as a file records it: a model is only
/// used on features computed the same way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrontEnd {
    pub sample_rate: u32,
    pub n_fft: usize,
    pub win_length: usize,
    pub hop: usize,
    pub window: String,
    pub n_mels: usize,
    pub fmin: f32,
    pub fmax: f32,
    pub mel_scale: String,
    pub log_floor: f32,
}

impl FrontEnd {
    /// The front end this program computes.
    pub fn current() -> FrontEnd {
        FrontEnd {
            sample_rate: SAMPLE_RATE,
            n_fft: N_FFT,
            win_length: WIN_LENGTH,
            hop: HOP,
            window: "hamming".into(),
            n_mels: N_MELS,
            fmin: 0.0,
            fmax: SAMPLE_RATE as f32 / 2.0,
            mel_scale: "slaney".into(),
            log_floor: FLOOR,
        }
    }
}

/// One prediction: the most probable class and every class's probability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub label: String,
    pub index: usize,
    pub probabilities: Vec<f32>,
}

pub struct ModelBundle {
    pub learner: FeatureLearner,
    pub classifier: Classifier,
    pub labels: Vec<String>,
    pub task: Task,
    pub encode: EncodeMode,
    /// The corpus the model was trained on (for the record).
    pub corpus: String,
    pub front_end: FrontEnd,
}

impl ModelBundle {
    pub fn to_checkpoint(&self) -> Checkpoint {
        let mut ck = Checkpoint::new(KIND);
        ck.set_meta("front_end", &self.front_end);
        ck.set_meta("labels", &self.labels);
        ck.set_meta("task", &self.task);
        ck.set_meta("encode", &self.encode);
        ck.set_meta("corpus", &self.corpus);
        self.learner.write_into(&mut ck, "learner.");
        self.classifier.write_into(&mut ck, "classifier.");
        ck
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        self.to_checkpoint().save(path)
    }

    /// Reads a bundle, checking that its parts fit together and that it was
    /// made with this program's front end.
    pub fn load(path: &Path) -> Result<ModelBundle> {
        Self::from_checkpoint(&Checkpoint::load(path)?)
    }

    /// A bundle from a checkpoint already read (its source names it in errors).
    pub fn from_checkpoint(ck: &Checkpoint) -> Result<ModelBundle> {
        let path = ck.source();
        ck.expect_kind(&[KIND])?;
        let front_end: FrontEnd = ck.meta("front_end")?;
        if front_end != FrontEnd::current() {
            return Err(Error::format(
                path,
                format!(
                    "the model was trained on features of another front end ({front_end:?}); \
                     this program computes {:?}",
                    FrontEnd::current()
                ),
            ));
        }
        let labels: Vec<String> = ck.meta("labels")?;
        let learner = FeatureLearner::read_from(ck, "learner.")?;
        let classifier = Classifier::read_from(ck, "classifier.")?;
        let encode: EncodeMode = ck.meta("encode")?;
        let shape = classifier.shape();
        if shape.classes != labels.len() || shape.input != learner.feature_dim(encode) {
            return Err(Error::format(
                path,
                format!(
                    "inconsistent model: classifier of {} inputs and {} classes, features of {} \
                     values and {} label names",
                    shape.input,
                    shape.classes,
                    learner.feature_dim(encode),
                    labels.len()
                ),
            ));
        }
        Ok(ModelBundle {
            learner,
            classifier,
            labels,
            task: ck.meta("task")?,
            encode,
            corpus: ck.meta("corpus")?,
            front_end,
        })
    }

    /// Encoding of new utterances: their label is unknown, so the CVAE gets
    /// the uniform condition, as in training.
    pub fn encode_options(&self) -> EncodeOptions {
        EncodeOptions {
            mode: self.encode,
            condition: CvaeCondition::Uniform,
            noise_key: 0,
        }
    }

    /// Predicts the class of one WAV file.
    pub fn predict_file(&self, path: &Path) -> Result<Prediction> {
        self.predict_logmel(&load_logmel(path)?, path)
    }
}

/// Everything `ModelBundle::train` needs.
pub struct TrainRequest<'a> {
    pub data: &'a crate::eval::dataset::CorpusData,
    pub config: &'a crate::config::Config,
    pub kind: super::autoencoder::LearnerKind,
    pub seed: u64,
    pub progress: bool,
    /// Where the JSON-lines training logs go (`learner.jsonl`,
    /// `classifier.jsonl`); `None` keeps them in memory.
    pub log_dir: Option<&'a Path>,
}

impl ModelBundle {
    /// Trains a feature learner and a classifier on every utterance of the
    /// corpus with a categorical label (no held-out fold; the classifier's
    /// early stopping uses a stratified validation part of them).
    pub fn train(req: &TrainRequest<'_>) -> Result<ModelBundle> {
        use super::classifier::{fit, stratified_sequences, ClassifierFitRequest};
        use super::fit_autoencoder::{self, FitRequest};
        use crate::eval::dataset::label_names;
        use crate::eval::results::Subset;
        use crate::train::log::JsonLinesLog;

        let config = req.config;
        if req.kind == super::autoencoder::LearnerKind::Cvae
            && config.learner.cvae_condition == CvaeCondition::Oracle
        {
            return Err(Error::config(
                "learner.cvae_condition = oracle needs the true label of every utterance to \
                 predict, which `predict` does not have; train with the uniform condition",
            ));
        }
        let task = Task::Categorical;
        let names = label_names(task);
        let (selected, labels) = req.data.select(task, Subset::Complete);
        if selected.len() < 2 {
            return Err(Error::config(format!(
                "{}: {} utterances with an emotion label; training needs at least 2",
                req.data.root.display(),
                selected.len()
            )));
        }
        let log = |name: &str| match req.log_dir {
            Some(d) => JsonLinesLog::to_file(d.join(name)),
            None => JsonLinesLog::in_memory(),
        };
        let dim = crate::features::segments::segment_dim(&config.segments);
        let mut segs = Vec::new();
        let mut seg_labels = Vec::new();
        for (&i, &l) in selected.iter().zip(&labels) {
            let s = &req.data.segments[i];
            segs.extend_from_slice(s);
            seg_labels.extend(std::iter::repeat(l).take(s.len() / dim));
        }
        let learner = fit_autoencoder::fit(
            &FitRequest {
                kind: req.kind,
                config: &config.learner,
                segments_config: &config.segments,
                segments: &segs,
                labels: (req.kind == super::autoencoder::LearnerKind::Cvae)
                    .then_some(&seg_labels[..]),
                label_names: &names,
                seed: req.seed,
                fold: None,
                progress: req.progress,
            },
            &mut log("learner.jsonl"),
        )?;
        drop(segs);
        let utterances: Vec<&[f32]> = selected
            .iter()
            .map(|&i| req.data.segments[i].as_slice())
            .collect();
        let options = EncodeOptions::from_config(&config.learner);
        let features = learner.encode_utterances(&utterances, None, &options)?;
        let fdim = learner.feature_dim(config.learner.encode);
        let (train, validation) = stratified_sequences(
            &features,
            &labels,
            fdim,
            config.classifier.validation_fraction,
            req.seed,
            None,
        );
        let fitted = fit(
            &ClassifierFitRequest {
                config: &config.classifier,
                train: &train,
                validation: &validation,
                label_names: &names,
                seed: req.seed,
                fold: None,
                progress: req.progress,
            },
            &mut log("classifier.jsonl"),
        )?;
        Ok(ModelBundle {
            learner,
            classifier: fitted.classifier,
            labels: names,
            task,
            encode: config.learner.encode,
            corpus: req.data.corpus.clone(),
            front_end: FrontEnd::current(),
        })
    }
}
