//! The classifier network of SPEC §4 on a backend: its parameter layout, a
//! workspace sized once, and the forward and backward passes of one batch.
//!
//! ```text
//! x        [T, B, in]   time-major, zero past each sequence's end
//! lstm     2 layers (hidden H) -> h_last [B, H], each sequence's state at its last real step
//! fc       [B, H] -> [B, dense] (64), ReLU
//! out      [B, dense] -> logits [B, K], linear
//! loss     softmax cross-entropy, mean over the B sequences
//! ```
//!
//! Parameter names are those of the equivalent PyTorch module
//! (`lstm = nn.LSTM(in, H, layers)`, `fc = nn.Linear(H, dense)`,
//! `out = nn.Linear(dense, K)`): `lstm.weight_ih_l0`, ..., `fc.weight`,
//! `fc.bias`, `out.weight`, `out.bias`, in that order in the arena.

use crate::backend::{Activation, Backend};
use crate::error::{Error, Result};
use crate::nn::dense::{Dense, InputGrad};
use crate::nn::loss::{check_labels, softmax_xent};
use crate::nn::lstm::{Lstm, LstmWorkspace};
use crate::nn::params::ParamLayout;
use rand::Rng;

/// One utterance as the classifier sees it: `steps` feature vectors of the
/// classifier's input size, time-major, and its class.
#[derive(Clone, Copy, Debug)]
pub struct Sequence<'a> {
    /// `[steps, input]` row-major: one feature vector per segment, in time order.
    pub features: &'a [f32],
    /// Number of feature vectors (segments), at least 1.
    pub steps: usize,
    /// Class index, below the classifier's `classes`.
    pub label: usize,
}

/// Every size of a classifier network (SPEC §4): LSTM, dense ReLU layer, linear output.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClassifierShape {
    /// Features per time step (the feature learner's output size).
    pub input: usize,
    /// Hidden size of every LSTM layer.
    pub hidden: usize,
    /// Stacked LSTM layers.
    pub layers: usize,
    /// Width of the dense ReLU layer after the LSTM.
    pub dense: usize,
    /// Output classes.
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
        self.param_count_bound().map(|_| ())
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

    /// Number of parameters (the length of the classifier's parameter arena).
    pub fn param_count(&self) -> Result<usize> {
        Ok(Network::new(self)?.layout().len())
    }
}

/// The layers of one classifier shape and where their tensors live.
#[derive(Clone, Debug)]
pub struct Network {
    shape: ClassifierShape,
    layout: ParamLayout,
    lstm: Lstm,
    fc: Dense,
    out: Dense,
}

/// Activations, gradients and host staging of one batch of at most
/// `max_batch` sequences of at most `max_steps` steps: allocated once, so a
/// training step allocates nothing.
pub struct NetWorkspace<B: Backend> {
    max_steps: usize,
    max_batch: usize,
    lstm: LstmWorkspace<B>,
    /// `[T, B, in]`: the batch's input.
    x: B::Buf,
    /// `[B, H]`
    h_last: B::Buf,
    /// `[B, dense]`: the ReLU layer's output.
    fc: B::Buf,
    /// `[B, K]`
    logits: B::Buf,
    probs: B::Buf,
    dlogits: B::Buf,
    /// `[B, dense]`: gradient w.r.t. the ReLU output, then (scratch) w.r.t.
    /// its pre-activation.
    d_fc: B::Buf,
    dz_fc: B::Buf,
    /// `[B, H]`
    d_h_last: B::Buf,
    /// The linear output layer needs no pre-activation scratch; `Dense`
    /// still takes a buffer.
    dz_out: B::Buf,
    /// `[B]`: the batch's labels, on the backend.
    labels: B::Index,
    host_x: Vec<f32>,
    host_probs: Vec<f32>,
    lengths: Vec<usize>,
    host_labels: Vec<u32>,
    /// Shape of the loaded batch (0 before the first).
    steps: usize,
    rows: usize,
}

impl Network {
    /// The layers of `shape`, laid out as the module docs list them. Errors
    /// (shape) if a size is zero or the parameter count exceeds [`crate::limits`].
    pub fn new(shape: &ClassifierShape) -> Result<Self> {
        shape.validate()?;
        let mut layout = ParamLayout::new();
        let lstm = Lstm::new(&mut layout, "lstm", shape.input, shape.hidden, shape.layers)?;
        let fc = Dense::new(
            &mut layout,
            "fc",
            shape.hidden,
            shape.dense,
            Activation::Relu,
        );
        let out = Dense::new(
            &mut layout,
            "out",
            shape.dense,
            shape.classes,
            Activation::Identity,
        );
        Ok(Self {
            shape: shape.clone(),
            layout,
            lstm,
            fc,
            out,
        })
    }

    /// The sizes the network was built from.
    pub fn shape(&self) -> &ClassifierShape {
        &self.shape
    }

    /// Names, shapes and arena ranges of every tensor, in PyTorch's order.
    pub fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    /// PyTorch's initialisation of `nn.LSTM` and `nn.Linear`, tensor by
    /// tensor in layout order from one stream, into `host_params`.
    pub fn init(&self, rng: &mut impl Rng, host_params: &mut [f32]) -> Result<()> {
        crate::error::check_len(
            "classifier parameters",
            host_params.len(),
            &[self.layout.len()],
        )?;
        self.lstm.init(rng, host_params)?;
        self.fc.init(rng, host_params)?;
        self.out.init(rng, host_params)
    }

    /// A workspace for batches of up to `max_batch` sequences of up to
    /// `max_steps` steps each, allocated on `be` once. Errors if the backend
    /// cannot allocate it.
    pub fn workspace<B: Backend>(
        &self,
        be: &B,
        max_steps: usize,
        max_batch: usize,
    ) -> Result<NetWorkspace<B>> {
        let s = &self.shape;
        let (b, k) = (max_batch, s.classes);
        Ok(NetWorkspace {
            max_steps,
            max_batch,
            lstm: self.lstm.workspace(be, max_steps, max_batch)?,
            x: be.alloc(max_steps * b * s.input)?,
            h_last: be.alloc(b * s.hidden)?,
            fc: be.alloc(b * s.dense)?,
            logits: be.alloc(b * k)?,
            probs: be.alloc(b * k)?,
            dlogits: be.alloc(b * k)?,
            d_fc: be.alloc(b * s.dense)?,
            dz_fc: be.alloc(b * s.dense)?,
            d_h_last: be.alloc(b * s.hidden)?,
            dz_out: be.alloc(b * k)?,
            labels: be.alloc_index(b)?,
            host_x: vec![0.0; max_steps * b * s.input],
            host_probs: vec![0.0; b * k],
            lengths: vec![0; b],
            host_labels: vec![0; b],
            steps: 0,
            rows: 0,
        })
    }

    /// Stages `batch` (any order of lengths; decreasing lengths let the LSTM
    /// skip finished rows) in the workspace: time-major, zero-padded to the
    /// longest sequence. Every sequence must have `1..=max_steps` steps of
    /// `input` values and a label below `classes`.
    pub fn load_batch<B: Backend>(
        &self,
        be: &B,
        ws: &mut NetWorkspace<B>,
        batch: &[Sequence<'_>],
    ) -> Result<()> {
        let input = self.shape.input;
        let rows = batch.len();
        if rows == 0 || rows > ws.max_batch {
            return Err(Error::shape(format!(
                "classifier batch of {rows} sequences: the workspace holds 1..={}",
                ws.max_batch
            )));
        }
        for (b, s) in batch.iter().enumerate() {
            self.check_sequence(s, ws.max_steps)
                .map_err(|e| Error::shape(format!("sequence {b} of the batch: {e}")))?;
        }
        let steps = batch.iter().map(|s| s.steps).max().unwrap_or(0);
        let x = &mut ws.host_x[..steps * rows * input];
        for (b, s) in batch.iter().enumerate() {
            for t in 0..steps {
                let row = &mut x[(t * rows + b) * input..(t * rows + b + 1) * input];
                if t < s.steps {
                    row.copy_from_slice(&s.features[t * input..(t + 1) * input]);
                } else {
                    row.fill(0.0);
                }
            }
            ws.lengths[b] = s.steps;
            ws.host_labels[b] = s.label as u32;
        }
        check_labels(&ws.host_labels[..rows], rows, self.shape.classes)?;
        be.upload(x, be.view_mut(&mut ws.x, 0..x.len()))?;
        be.upload_index(&ws.host_labels[..rows], &mut ws.labels)?;
        ws.steps = steps;
        ws.rows = rows;
        Ok(())
    }

    /// Checks one sequence against the shape (`max_steps`: the workspace's).
    pub fn check_sequence(&self, s: &Sequence<'_>, max_steps: usize) -> Result<()> {
        let input = self.shape.input;
        if s.steps == 0 || s.steps > max_steps {
            return Err(Error::shape(format!(
                "{} steps, outside 1..={max_steps}",
                s.steps
            )));
        }
        if s.features.len() != s.steps * input {
            return Err(Error::shape(format!(
                "{} feature values are not {} steps of {input}",
                s.features.len(),
                s.steps
            )));
        }
        if s.label >= self.shape.classes {
            return Err(Error::shape(format!(
                "label {} outside 0..{}",
                s.label, self.shape.classes
            )));
        }
        Ok(())
    }

    /// Logits of the loaded batch.
    pub fn forward<B: Backend>(
        &self,
        be: &B,
        params: &B::Buf,
        ws: &mut NetWorkspace<B>,
    ) -> Result<()> {
        let (steps, rows) = ws.loaded()?;
        self.lstm.forward(
            be,
            params,
            &ws.x,
            steps,
            rows,
            &ws.lengths[..rows],
            &mut ws.lstm,
        )?;
        ws.lstm.copy_final_hidden(be, &mut ws.h_last)?;
        self.fc.forward(be, rows, params, &ws.h_last, &mut ws.fc)?;
        self.out.forward(be, rows, params, &ws.fc, &mut ws.logits)
    }

    /// Mean cross-entropy of the last forward pass against the batch's
    /// labels, into `loss[0]`; also leaves the softmax probabilities and the
    /// logit gradient in the workspace.
    pub fn loss<B: Backend>(
        &self,
        be: &B,
        ws: &mut NetWorkspace<B>,
        loss: B::ViewMut<'_>,
    ) -> Result<()> {
        let (_, rows) = ws.loaded()?;
        softmax_xent(
            be,
            rows,
            self.shape.classes,
            &ws.logits,
            &ws.labels,
            &mut ws.probs,
            &mut ws.dlogits,
            loss,
        )
    }

    /// Adds the gradient of the mean loss (after `forward` and `loss`) into
    /// `grads`.
    pub fn backward<B: Backend>(
        &self,
        be: &B,
        params: &B::Buf,
        grads: &mut B::Buf,
        ws: &mut NetWorkspace<B>,
    ) -> Result<()> {
        let (_, rows) = ws.loaded()?;
        self.out.backward(
            be,
            rows,
            params,
            &ws.fc,
            &ws.logits,
            &ws.dlogits,
            &mut ws.dz_out,
            grads,
            InputGrad::Overwrite(&mut ws.d_fc),
        )?;
        self.fc.backward(
            be,
            rows,
            params,
            &ws.h_last,
            &ws.fc,
            &ws.d_fc,
            &mut ws.dz_fc,
            grads,
            InputGrad::Overwrite(&mut ws.d_h_last),
        )?;
        self.lstm.backward(
            be,
            params,
            &ws.x,
            &mut ws.lstm,
            None,
            Some(&ws.d_h_last),
            grads,
            None,
        )
    }

    /// The softmax probabilities left by `loss`, `[rows, K]` on the host.
    pub fn probabilities<'w, B: Backend>(
        &self,
        be: &B,
        ws: &'w mut NetWorkspace<B>,
    ) -> Result<&'w [f32]> {
        let n = ws.rows * self.shape.classes;
        be.download(be.view(&ws.probs, 0..n), &mut ws.host_probs[..n])?;
        Ok(&ws.host_probs[..n])
    }
}

impl<B: Backend> NetWorkspace<B> {
    fn loaded(&self) -> Result<(usize, usize)> {
        if self.rows == 0 {
            return Err(Error::shape("classifier run before any batch was loaded"));
        }
        Ok((self.steps, self.rows))
    }

    /// The most sequences one batch can hold.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// The most steps one sequence can have.
    pub fn max_steps(&self) -> usize {
        self.max_steps
    }
}

/// Runs `seqs` through the network in batches of up to the workspace's
/// size, longest first (ties by index, so the batches depend only on the
/// lengths), and calls `visit(i, probabilities)` for each sequence `i`.
/// Returns the cross-entropy summed over the sequences (against their
/// labels; meaningless when the labels are placeholders).
pub fn run_all<B: Backend>(
    net: &Network,
    be: &B,
    params: &B::Buf,
    ws: &mut NetWorkspace<B>,
    seqs: &[Sequence<'_>],
    mut visit: impl FnMut(usize, &[f32]),
) -> Result<f64> {
    let mut order: Vec<usize> = (0..seqs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(seqs[i].steps));
    let k = net.shape.classes;
    let mut batch = Vec::with_capacity(ws.max_batch);
    let mut total = 0f64;
    // The batches' probabilities come down anyway; the loss comes with them.
    let mut loss = be.alloc(1)?;
    for chunk in order.chunks(ws.max_batch) {
        batch.clear();
        batch.extend(chunk.iter().map(|&i| seqs[i]));
        net.load_batch(be, ws, &batch)?;
        net.forward(be, params, ws)?;
        net.loss(be, ws, be.view_mut(&mut loss, 0..1))?;
        let mut host_loss = [0f32];
        be.download(be.view(&loss, 0..1), &mut host_loss)?;
        total += f64::from(host_loss[0]) * chunk.len() as f64;
        let probs = net.probabilities(be, ws)?;
        for (r, &i) in chunk.iter().enumerate() {
            visit(i, &probs[r * k..(r + 1) * k]);
        }
    }
    Ok(total)
}
