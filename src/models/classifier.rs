//! The emotion classifier of SPEC §4: a stack of LSTM layers over an
//! utterance's segment features, the last layer's hidden state at the last
//! real step, a dense ReLU layer and a softmax output.

use crate::checkpoint::Checkpoint;
use crate::config::ClassifierConfig;
use crate::error::{Error, Result};
use crate::eval::results::ClassifierEpoch;
use crate::train::log::JsonLinesLog;

/// One utterance as the classifier sees it: `steps` feature vectors of the
/// classifier's input size, time-major, and its class.
#[derive(Clone, Copy, Debug)]
pub struct Sequence<'a> {
    pub features: &'a [f32],
    pub steps: usize,
    pub label: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClassifierShape {
    pub input: usize,
    pub hidden: usize,
    pub layers: usize,
    pub dense: usize,
    pub classes: usize,
}

/// A trained classifier (parameters on the host).
#[derive(Clone, Debug)]
pub struct Classifier {
    shape: ClassifierShape,
    params: Vec<f32>,
}

/// Everything one classifier training run needs.
#[derive(Clone, Copy, Debug)]
pub struct ClassifierFitRequest<'a> {
    pub config: &'a ClassifierConfig,
    pub train: &'a [Sequence<'a>],
    /// Early stopping watches UA on these.
    pub validation: &'a [Sequence<'a>],
    pub label_names: &'a [String],
    pub seed: u64,
    /// The held-out fold, `None` when training on the whole corpus.
    pub fold: Option<u32>,
    pub progress: bool,
}

/// The trained classifier (best validation UA weights) and its per-epoch history.
#[derive(Clone, Debug)]
pub struct ClassifierFit {
    pub classifier: Classifier,
    pub epochs: Vec<ClassifierEpoch>,
    pub best_epoch: usize,
}

impl Classifier {
    pub fn shape(&self) -> &ClassifierShape {
        &self.shape
    }

    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// Class probabilities of each sequence (`[steps * input]` values each),
    /// one vector of `classes` values per sequence.
    pub fn predict_proba(&self, _sequences: &[&[f32]]) -> Result<Vec<Vec<f32>>> {
        Err(Error::config("the classifier is not available yet"))
    }

    /// Stores the parameters under `prefix` as PyTorch-named tensors and the
    /// shape as metadata.
    pub fn write_into(&self, _ck: &mut Checkpoint, _prefix: &str) {}

    pub fn read_from(_ck: &Checkpoint, _prefix: &str) -> Result<Classifier> {
        Err(Error::config("the classifier is not available yet"))
    }
}

/// Trains a classifier: Adam, shuffled length-bucketed batches, early stopping
/// on validation UA with the best weights restored.
pub fn fit(_request: &ClassifierFitRequest<'_>, _log: &mut JsonLinesLog) -> Result<ClassifierFit> {
    Err(Error::config("the classifier is not available yet"))
}

/// Splits utterance indices `0..labels.len()` into (train, validation) with
/// `fraction` of each class in validation, chosen by the seed's stream.
pub fn stratified_split(
    _labels: &[usize],
    _fraction: f32,
    _seed: u64,
    _fold: Option<u32>,
) -> (Vec<usize>, Vec<usize>) {
    (Vec::new(), Vec::new())
}
