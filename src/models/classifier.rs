//! The emotion classifier of SPEC §4: a stack of LSTM layers over an
//! utterance's segment features, the last layer's hidden state at the last
//! real step, a dense ReLU layer and a softmax output.
//!
//! The network itself (layout, workspace, forward and backward) is in
//! [`super::classifier_net`], its training in [`crate::train::classifier`].

use super::classifier_net::{run_all, Network};
pub use super::classifier_net::{ClassifierShape, Sequence};
use crate::backend::Backend;
use crate::checkpoint::Checkpoint;
use crate::config::ClassifierConfig;
use crate::error::{Error, Result};
use crate::nn::params::ParamArena;
use crate::rng::stream;

/// Sequences per batch in [`Classifier::predict_proba`]. Results do not
/// depend on it (each sequence's computation is independent of its batch).
pub const PREDICT_BATCH: usize = 32;

/// Metadata value under `{prefix}model` that marks a stored classifier.
pub const CHECKPOINT_MODEL: &str = "lstm-classifier";

/// A trained classifier whose parameters live on backend `B`.
pub struct Classifier<B: Backend> {
    backend: B,
    shape: ClassifierShape,
    params: B::Buf,
}

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

/// PyTorch's initial weights of a classifier of `shape`, drawn from the
/// `classifier-init` stream of `(seed, fold)` (what training starts from),
/// as host values laid out as [`Classifier::host_params`].
pub fn initial_params(shape: &ClassifierShape, seed: u64, fold: Option<u32>) -> Result<Vec<f32>> {
    let net = Network::new(shape)?;
    let mut params = vec![0.0; net.layout().len()];
    let fold_key = fold.unwrap_or(u32::MAX);
    net.init(
        &mut stream(seed, "classifier-init", fold_key, 0),
        &mut params,
    )?;
    Ok(params)
}

impl<B: Backend> std::fmt::Debug for Classifier<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("shape", &self.shape)
            .field("backend", &self.backend.describe())
            .finish_non_exhaustive()
    }
}

impl<B: Backend> Classifier<B> {
    /// A classifier with PyTorch's initial weights (see [`initial_params`]).
    pub fn new(
        backend: &B,
        shape: ClassifierShape,
        seed: u64,
        fold: Option<u32>,
    ) -> Result<Classifier<B>> {
        let params = initial_params(&shape, seed, fold)?;
        Self::from_params(backend, shape, &params)
    }

    /// A classifier with the given host parameters (laid out as
    /// [`Classifier::host_params`]), uploaded to `backend`.
    pub fn from_params(
        backend: &B,
        shape: ClassifierShape,
        params: &[f32],
    ) -> Result<Classifier<B>> {
        let n = shape.param_count()?;
        crate::error::check_len("classifier parameters", params.len(), &[n])?;
        let mut buf = backend.alloc(n)?;
        backend.upload(params, backend.view_mut(&mut buf, 0..n))?;
        Ok(Classifier {
            backend: backend.clone(),
            shape,
            params: buf,
        })
    }

    /// A classifier whose parameters are already on the backend (e.g. the
    /// best weights a training run kept).
    pub fn from_buffer(backend: &B, shape: ClassifierShape, params: B::Buf) -> Result<Self> {
        let n = shape.param_count()?;
        crate::error::check_len("classifier parameters", backend.len(&params), &[n])?;
        Ok(Classifier {
            backend: backend.clone(),
            shape,
            params,
        })
    }

    /// The sizes of the network.
    pub fn shape(&self) -> &ClassifierShape {
        &self.shape
    }

    /// The backend the parameters live on.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// All parameters in one arena on the host, in the order of their
    /// PyTorch names (`lstm.weight_ih_l0`, `lstm.weight_hh_l0`,
    /// `lstm.bias_ih_l0`, `lstm.bias_hh_l0`, ... for each layer, then
    /// `fc.weight`, `fc.bias`, `out.weight`, `out.bias`).
    pub fn host_params(&self) -> Result<Vec<f32>> {
        let n = self.backend.len(&self.params);
        let mut out = vec![0.0; n];
        self.backend
            .download(self.backend.view(&self.params, 0..n), &mut out)?;
        Ok(out)
    }

    /// The same classifier with its parameters on another backend.
    pub fn to_backend<C: Backend>(&self, backend: &C) -> Result<Classifier<C>> {
        Classifier::from_params(backend, self.shape.clone(), &self.host_params()?)
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
    /// its gradient w.r.t. every parameter, laid out as the parameter arena (`Classifier::params`).
    pub fn loss_and_gradient(&self, batch: &[Sequence<'_>]) -> Result<(f32, Vec<f32>)> {
        let be = &self.backend;
        let net = Network::new(&self.shape)?;
        let steps = batch.iter().map(|s| s.steps).max().unwrap_or(0).max(1);
        let mut ws = net.workspace(be, steps, batch.len().max(1))?;
        let mut arena = ParamArena::from_host(be, net.layout().clone(), &self.host_params()?)?;
        let mut loss = be.alloc(1)?;
        net.load_batch(be, &mut ws, batch)?;
        net.forward(be, &arena.params, &mut ws)?;
        net.loss(be, &mut ws, be.view_mut(&mut loss, 0..1))?;
        arena.zero_grads(be)?;
        net.backward(be, &arena.params, &mut arena.grads, &mut ws)?;
        let mut host_loss = [0f32];
        be.download(be.view(&loss, 0..1), &mut host_loss)?;
        Ok((host_loss[0], arena.download_grads(be)?))
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
        let be = &self.backend;
        let net = Network::new(&self.shape)?;
        let steps = seqs.iter().map(|s| s.steps).max().unwrap_or(1);
        let mut ws = net.workspace(be, steps, PREDICT_BATCH.min(seqs.len()))?;
        run_all(&net, be, &self.params, &mut ws, seqs, visit)
    }

    /// Stores the parameters under `prefix` as PyTorch-named tensors
    /// (`{prefix}lstm.weight_ih_l0: [4H, in]`, ..., `{prefix}fc.weight:
    /// [dense, H]`, `{prefix}out.weight: [K, dense]`, with both of PyTorch's
    /// LSTM biases, so the tensors load into the equivalent `nn.Module` as
    /// they are), and the shape as metadata (`{prefix}model`, `{prefix}shape`).
    pub fn write_into(&self, ck: &mut Checkpoint, prefix: &str) -> Result<()> {
        let net = Network::new(&self.shape)?;
        ck.set_meta(&format!("{prefix}model"), CHECKPOINT_MODEL);
        ck.set_meta(&format!("{prefix}shape"), &self.shape);
        ck.add_params(prefix, net.layout(), &self.host_params()?);
        Ok(())
    }

    /// Reads a classifier stored by [`Classifier::write_into`] under
    /// `prefix`, checking that it is one and that every tensor has the shape
    /// its metadata implies.
    pub fn read_from(backend: &B, ck: &Checkpoint, prefix: &str) -> Result<Classifier<B>> {
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
        ck.check_finite(prefix)?;
        let net = Network::new(&shape).map_err(|e| Error::format(ck.source(), e.to_string()))?;
        let params = ck.params(prefix, net.layout())?;
        Self::from_params(backend, shape, &params)
    }
}
