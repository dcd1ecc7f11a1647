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
use crate::backend::Backend;
use crate::checkpoint::Checkpoint;
use crate::config::{CvaeCondition, EncodeMode};
use crate::error::{Error, Result};
use crate::task::Task;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The checkpoint kind of a model bundle.
pub const KIND: &str = "vaeser-model";

/// The LogMel front end of SPEC §1, as a file records it: a model is only
/// used on features computed the same way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrontEnd {
    /// Sample rate the audio is resampled to before analysis, in Hz.
    pub sample_rate: u32,
    /// FFT size in samples.
    pub n_fft: usize,
    /// Analysis window length in samples.
    pub win_length: usize,
    /// Frame hop in samples.
    pub hop: usize,
    /// Window function name (`hamming`).
    pub window: String,
    /// Mel bands per frame.
    pub n_mels: usize,
    /// Lowest filter-bank frequency, in Hz.
    pub fmin: f32,
    /// Highest filter-bank frequency, in Hz.
    pub fmax: f32,
    /// Mel scale formula (`slaney`, as librosa's default).
    pub mel_scale: String,
    /// Mel energies are clamped to at least this before the natural logarithm.
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
    /// Name of the most probable class.
    pub label: String,
    /// Index of that class in the model's label list (and in `probabilities`).
    pub index: usize,
    /// Softmax probability of every class, in the order of the model's labels; they sum to 1.
    pub probabilities: Vec<f32>,
}

/// A trained model whose parameters live on backend `B`.
#[derive(Debug)]
pub struct ModelBundle<B: Backend> {
    /// The feature learner that turns LogMel segments into features.
    pub learner: FeatureLearner<B>,
    /// The LSTM classifier over each utterance's sequence of segment features.
    pub classifier: Classifier<B>,
    /// Class names, in the classifier's output order.
    pub labels: Vec<String>,
    /// What the classes are: the four emotions or one dimension in bins.
    pub task: Task,
    /// Which of the learner's outputs form a segment's features.
    pub encode: EncodeMode,
    /// The corpus the model was trained on (for the record).
    pub corpus: String,
    /// The LogMel settings the features were computed with.
    pub front_end: FrontEnd,
}

impl<B: Backend> ModelBundle<B> {
    /// The bundle as a checkpoint: metadata plus the learner's tensors under
    /// `learner.` and the classifier's under `classifier.`. Errors if a
    /// parameter cannot be read back from the backend.
    pub fn to_checkpoint(&self) -> Result<Checkpoint> {
        let mut ck = Checkpoint::new(KIND);
        ck.set_meta("front_end", &self.front_end);
        ck.set_meta("labels", &self.labels);
        ck.set_meta("task", &self.task);
        ck.set_meta("encode", &self.encode);
        ck.set_meta("corpus", &self.corpus);
        self.learner.write_into(&mut ck, "learner.")?;
        self.classifier.write_into(&mut ck, "classifier.")?;
        Ok(ck)
    }

    /// Writes the bundle to `path` as a safetensors file, atomically (see
    /// [`ModelBundle::to_checkpoint`] for what it holds).
    pub fn save(&self, path: &Path) -> Result<()> {
        self.to_checkpoint()?.save(path)
    }

    /// Reads a bundle onto `backend`, checking that its parts fit together
    /// and that it was made with this program's front end.
    pub fn load(backend: &B, path: &Path) -> Result<ModelBundle<B>> {
        Self::from_checkpoint(backend, &Checkpoint::load(path)?)
    }

    /// A bundle from a checkpoint already read (its source names it in errors).
    pub fn from_checkpoint(backend: &B, ck: &Checkpoint) -> Result<ModelBundle<B>> {
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
        let learner = FeatureLearner::read_from(backend, ck, "learner.")?;
        let classifier = Classifier::read_from(backend, ck, "classifier.")?;
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
