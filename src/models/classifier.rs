//! The emotion classifier of SPEC §4: a stack of LSTM layers over an
//! utterance's segment features, the last layer's hidden state at the last
//! real step, a dense ReLU layer and a softmax output.
//!
//! The network itself (layout, workspace, forward and backward) is in
//! [`super::classifier_net`], its training in [`super::classifier_fit`].

use super::classifier_net::{run_all, Network};
use crate::backend::cpu::Cpu;
use crate::checkpoint::Checkpoint;
use crate::config::ClassifierConfig;
use crate::error::{Error, Result};
use crate::eval::results::ClassifierEpoch;
use crate::nn::params::ParamArena;
use crate::rng::stream;

pub use super::classifier_fit::{
    fit, fit_bucketed, fit_on, stratified_sequences, stratified_split,
};

/// Sequences per batch in [`Classifier::predict_proba`]. Results do not
/// depend on it (each sequence's computation is independent of its batch).
pub const PREDICT_BATCH: usize = 32;

/// Metadata value under `{prefix}model` that marks a stored classifier.
pub const CHECKPOINT_MODEL: &str = "lstm-classifier";

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

impl ClassifierShape {
    /// Errors unless every size is positive.
    pub fn validate(&self) -> Result<()> {
        let ClassifierShape {
            input,
            hidden,
            layers,
            dense,
            classes,
        } = *self;
        if input == 0 || hidden == 0 || layers == 0 || dense == 0 || classes == 0 {
            return Err(Error::shape(format!(
                "classifier sizes must be positive: input {input}, hidden {hidden}, \
                 layers {layers}, dense {dense}, classes {classes}"
            )));
        }
        crate::limits::classifier_params(input, hidden, layers, dense, classes)
            .map_err(Error::shape)?;
        Ok(())
    }

    /// Number of parameters, computed from the sizes alone (nothing is
    /// allocated), after checking them against [`crate::limits`].
    pub fn param_count_bound(&self) -> Result<usize> {
        crate::limits::classifier_params(
            self.input,
            self.hidden,
            self.layers,
            self.dense,
            self.classes,
        )
        .map_err(Error::shape)
    }

    /// Number of parameters (the length of [`Classifier::params`]).
    pub fn param_count(&self) -> Result<usize> {
        Ok(Network::new(self)?.layout().len())
    }
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
    /// Set when the kept weights predict one class for every validation
    /// utterance (see [`crate::train::finite::degenerate_warning`]).
    pub warning: Option<String>,
}

impl Classifier {
    /// The shape `config` gives for `input` features per step and `classes` classes.
    pub fn shape_for(config: &ClassifierConfig, input: usize, classes: usize) -> ClassifierShape {
        ClassifierShape {
            input,
            hidden: config.hidden,
            layers: config.layers,
            dense: config.dense,
            classes,
        }
    }

    /// A classifier with PyTorch's initial weights, drawn from the
    /// `classifier-init` stream of `(seed, fold)` (as [`fit`] starts from).
    pub fn new(shape: ClassifierShape, seed: u64, fold: Option<u32>) -> Result<Classifier> {
        let net = Network::new(&shape)?;
        let mut params = vec![0.0; net.layout().len()];
        let fold_key = fold.unwrap_or(u32::MAX);
        net.init(
            &mut stream(seed, "classifier-init", fold_key, 0),
            &mut params,
        )?;
        Ok(Classifier { shape, params })
    }

    /// A classifier with the given parameters (laid out as [`Classifier::params`]).
    pub fn from_params(shape: ClassifierShape, params: Vec<f32>) -> Result<Classifier> {
        let n = shape.param_count()?;
        crate::error::check_len("classifier parameters", params.len(), &[n])?;
        Ok(Classifier { shape, params })
    }

    pub fn shape(&self) -> &ClassifierShape {
        &self.shape
    }

    /// All parameters in one arena, in the order of their PyTorch names
    /// (`lstm.weight_ih_l0`, `lstm.weight_hh_l0`, `lstm.bias_ih_l0`,
    /// `lstm.bias_hh_l0`, ... for each layer, then `fc.weight`, `fc.bias`,
    /// `out.weight`, `out.bias`).
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// Class probabilities of each sequence (`[steps * input]` values each),
    /// one vector of `classes` values per sequence. Sequences run in batches
    /// of [`PREDICT_BATCH`], longest first; a sequence's probabilities are
    /// bit for bit the same whatever else is in the call.
    pub fn predict_proba(&self, sequences: &[&[f32]]) -> Result<Vec<Vec<f32>>> {
        let input = self.shape.input;
        let mut seqs = Vec::with_capacity(sequences.len());
        for (i, f) in sequences.iter().enumerate() {
            if f.is_empty() || f.len() % input != 0 {
                return Err(Error::shape(format!(
                    "sequence {i}: {} values are not a positive number of steps of {input} features",
                    f.len()
                )));
            }
            seqs.push(Sequence {
                features: f,
                steps: f.len() / input,
                // Placeholder: the loss it enters is discarded.
                label: 0,
            });
        }
        let mut out = vec![Vec::new(); seqs.len()];
        self.run(&seqs, |i, p| out[i] = p.to_vec())?;
        Ok(out)
    }

    /// Mean cross-entropy over `batch` (one batch, in the given order) and
    /// its gradient w.r.t. every parameter, laid out as [`Classifier::params`].
    pub fn loss_and_gradient(&self, batch: &[Sequence<'_>]) -> Result<(f32, Vec<f32>)> {
        let be = Cpu;
        let net = Network::new(&self.shape)?;
        let steps = batch.iter().map(|s| s.steps).max().unwrap_or(0).max(1);
        let mut ws = net.workspace(&be, steps, batch.len().max(1))?;
        let mut arena = ParamArena::from_host(&be, net.layout().clone(), &self.params)?;
        net.load_batch(&be, &mut ws, batch)?;
        net.forward(&be, &arena.params, &mut ws)?;
        let loss = net.loss(&be, &mut ws)?;
        arena.zero_grads(&be);
        net.backward(&be, &arena.params, &mut arena.grads, &mut ws)?;
        Ok((loss, arena.download_grads(&be)))
    }

    /// Runs labelled sequences through the classifier (as `predict_proba`
    /// does) and calls `visit(i, probabilities)` for each; returns the mean
    /// cross-entropy against their labels.
    pub fn evaluate(
        &self,
        sequences: &[Sequence<'_>],
        visit: impl FnMut(usize, &[f32]),
    ) -> Result<f64> {
        if sequences.is_empty() {
            return Ok(f64::NAN);
        }
        Ok(self.run(sequences, visit)? / sequences.len() as f64)
    }

    fn run(&self, seqs: &[Sequence<'_>], visit: impl FnMut(usize, &[f32])) -> Result<f64> {
        if seqs.is_empty() {
            return Ok(0.0);
        }
        let be = Cpu;
        let net = Network::new(&self.shape)?;
        let steps = seqs.iter().map(|s| s.steps).max().unwrap_or(1);
        let mut ws = net.workspace(&be, steps, PREDICT_BATCH.min(seqs.len()))?;
        run_all(&net, &be, &self.params, &mut ws, seqs, visit)
    }

    /// Stores the parameters under `prefix` as PyTorch-named tensors
    /// (`{prefix}lstm.weight_ih_l0: [4H, in]`, ..., `{prefix}fc.weight:
    /// [dense, H]`, `{prefix}out.weight: [K, dense]`, with both of PyTorch's
    /// LSTM biases, so the tensors load into the equivalent `nn.Module` as
    /// they are), and the shape as metadata (`{prefix}model`, `{prefix}shape`).
    pub fn write_into(&self, ck: &mut Checkpoint, prefix: &str) {
        let net = Network::new(&self.shape).expect("a classifier's shape is valid");
        ck.set_meta(&format!("{prefix}model"), CHECKPOINT_MODEL);
        ck.set_meta(&format!("{prefix}shape"), &self.shape);
        ck.add_params(prefix, net.layout(), &self.params);
    }

    /// Reads a classifier stored by [`Classifier::write_into`] under
    /// `prefix`, checking that it is one and that every tensor has the shape
    /// its metadata implies.
    pub fn read_from(ck: &Checkpoint, prefix: &str) -> Result<Classifier> {
        let model_key = format!("{prefix}model");
        if !ck.has_meta(&model_key) {
            return Err(Error::format(
                ck.source(),
                format!(
                    "no classifier stored under '{prefix}' (metadata '{model_key}' missing; the file holds a '{}')",
                    ck.kind()
                ),
            ));
        }
        let model: String = ck.meta(&model_key)?;
        if model != CHECKPOINT_MODEL {
            return Err(Error::format(
                ck.source(),
                format!("'{model_key}' is '{model}', expected '{CHECKPOINT_MODEL}'"),
            ));
        }
        let shape: ClassifierShape = ck.meta(&format!("{prefix}shape"))?;
        shape
            .validate()
            .map_err(|e| Error::format(ck.source(), e.to_string()))?;
        ck.check_holds_values(prefix, shape.param_count_bound()?)?;
        let net = Network::new(&shape).map_err(|e| Error::format(ck.source(), e.to_string()))?;
        let mut params = vec![0.0; net.layout().len()];
        ck.read_params(prefix, net.layout(), &mut params)?;
        Ok(Classifier { shape, params })
    }
}
