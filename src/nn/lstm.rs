//! A stack of LSTM layers over batches of variable-length sequences, with
//! full backpropagation through time (gate order i, f, g, o; tanh cell and
//! output activations; PyTorch's parameter names and layouts).
//!
//! # Data layout
//! - Input `x: [T, B, input]`, time-major: step `t` of sequence `b` is row
//!   `t * B + b`. `lengths[b]` (between 1 and `T`) is the number of real steps
//!   of sequence `b`; the rest is padding, whose values are never read into a
//!   result: past its end a sequence's state is carried unchanged, so the last
//!   layer's hidden state at step `T - 1` is each sequence's state at its last
//!   real step ([`LstmWorkspace::final_hidden`]).
//! - Parameters live in a flat arena described by a [`ParamLayout`]; layer `k`
//!   registers `<prefix>.weight_ih_l{k}: [4H, in]`, `weight_hh_l{k}: [4H, H]`,
//!   `bias_ih_l{k}: [4H]`, `bias_hh_l{k}: [4H]` in that order (the names and
//!   shapes of PyTorch's `nn.LSTM`, so a state dict loads either way).
//!   Gradients share the layout.
//!
//! # Computation (the cuDNN scheme)
//! Forward, per layer: one GEMM for the input part of all gates of the whole
//! sequence (`[T B, in] x W_ih^T`), then the recurrence
//! ([`Backend::lstm_forward`]: per step one recurrent GEMM and one fused
//! pointwise pass) that stores the activated gates and the states of every
//! step. Backward, per layer: the recurrence backwards
//! ([`Backend::lstm_backward`]) gives the gate gradients of every step; after
//! it, three large GEMMs (`dW_ih`, `dW_hh`, the gradient w.r.t. the layer's
//! input) and a fixed-order column sum for the biases (`b_ih` and `b_hh` get
//! the same gradient, since only their sum enters the gates). The recurrence
//! is one backend operation so that a backend can keep `W_hh` close to its
//! compute units for the whole sequence.
//!
//! # Variable lengths
//! Any order of lengths in a batch is correct. Sorting a batch by decreasing
//! length makes the sequences still running at each step the leading rows,
//! which lets a backend skip the finished ones in its per-step GEMMs. The
//! lengths go up to the backend once per batch (an index buffer), so no
//! step needs anything from the host.
//!
//! # Memory
//! All activations and scratch live in an [`LstmWorkspace`] sized once for the
//! largest `(T, B)` and reused by every call: `forward` and `backward` never
//! allocate backend memory.
//!
//! # Use (the classifier)
//! ```text
//! let lstm = Lstm::new(&mut layout, "lstm", features, 128, 2)?;
//! ... register the head's layers, then:
//! lstm.init(&mut rng::stream(seed, "init", fold, 0), &mut host)?;
//! let mut arena = ParamArena::from_host(&be, layout, &host)?;
//! let mut ws = lstm.workspace(&be, max_steps, batch_size)?;
//! // per batch (x: [steps, batch, features], time-major, zero-padded):
//! lstm.forward(&be, &arena.params, &x, steps, batch, &lengths, &mut ws)?;
//! ws.copy_final_hidden(&be, &mut head_input)?;   // [batch, H]
//! ... head forward, loss, head backward give d_h_last: [batch, H] ...
//! arena.zero_grads(&be)?;   // (before the head's backward)
//! lstm.backward(&be, &arena.params, &x, &mut ws, None, Some(&d_h_last),
//!               &mut arena.grads, None)?;
//! ```

use crate::backend::{Backend, Gemm, LstmShape, Transpose};
use crate::error::{Error, Result};
use crate::nn::init;
use crate::nn::params::ParamLayout;
use rand::Rng;
use std::ops::Range;

/// The parameter ranges of one layer in the arena.
#[derive(Clone, Debug, PartialEq, Eq)]
struct LayerParams {
    input: usize,
    weight_ih: Range<usize>,
    weight_hh: Range<usize>,
    /// `bias_ih` immediately followed by `bias_hh`: the two form one
    /// `[2, 4H]` block whose column sum is the bias the gates see.
    biases: Range<usize>,
}

/// A stack of LSTM layers: see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lstm {
    input: usize,
    hidden: usize,
    layers: Vec<LayerParams>,
    params_end: usize,
}

/// Buffers of one layer, for `steps * batch` rows laid out step-major.
struct LayerBuffers<B: Backend> {
    /// `[T B, 4H]`: pre-activations, then the activated gates of every step.
    gates: B::Buf,
    /// `[T + 1, B, H]`: block 0 is the zero initial state, block `t + 1` the
    /// state after step `t`. So blocks `0..T` are the `h_{t-1}` of every step
    /// (the operand of the `dW_hh` GEMM) and blocks `1..=T` the layer's output.
    c: B::Buf,
    h: B::Buf,
    /// `[4H]`: `b_ih + b_hh`.
    bias: B::Buf,
}

/// Activations and scratch of an [`Lstm`], sized for at most `max_steps`
/// steps and `max_batch` sequences. Holds the state of the last `forward`
/// that `backward` needs.
pub struct LstmWorkspace<B: Backend> {
    hidden: usize,
    input: usize,
    max_steps: usize,
    max_batch: usize,
    layers: Vec<LayerBuffers<B>>,
    /// `[T B, 4H]`: gate gradients of the layer being differentiated.
    dgates: B::Buf,
    /// `[T B, H]`: gradient w.r.t. the current layer's outputs (scratch of
    /// the backward recurrence).
    dh_seq: B::Buf,
    /// `[3, B, H]`: scratch of the backward recurrence.
    scratch: B::Buf,
    /// `[4H]`: the bias gradient of one layer.
    dbias: B::Buf,
    /// `[B]`: real steps of each sequence of the last forward pass.
    lengths: B::Index,
    /// Host staging of `lengths`.
    host_lengths: Vec<u32>,
    /// Shape of the last forward pass (0 before the first).
    steps: usize,
    batch: usize,
}

impl Lstm {
    /// Registers `layers` LSTM layers (input size `input`, hidden size
    /// `hidden`) in `layout` under `prefix` (`"<prefix>.weight_ih_l0"`, ...;
    /// an empty prefix gives the bare PyTorch names).
    pub fn new(
        layout: &mut ParamLayout,
        prefix: &str,
        input: usize,
        hidden: usize,
        layers: usize,
    ) -> Result<Self> {
        if input == 0 || hidden == 0 || layers == 0 {
            return Err(Error::shape(format!(
                "LSTM needs positive sizes, got input {input}, hidden {hidden}, layers {layers}"
            )));
        }
        let name = |what: &str, k: usize| {
            if prefix.is_empty() {
                format!("{what}_l{k}")
            } else {
                format!("{prefix}.{what}_l{k}")
            }
        };
        let gates = 4 * hidden;
        let mut out = Vec::with_capacity(layers);
        for k in 0..layers {
            let layer_input = if k == 0 { input } else { hidden };
            let weight_ih = layout.add(&name("weight_ih", k), &[gates, layer_input]);
            let weight_hh = layout.add(&name("weight_hh", k), &[gates, hidden]);
            let bias_ih = layout.add(&name("bias_ih", k), &[gates]);
            let bias_hh = layout.add(&name("bias_hh", k), &[gates]);
            debug_assert_eq!(bias_ih.end, bias_hh.start, "ParamLayout appends");
            out.push(LayerParams {
                input: layer_input,
                weight_ih,
                weight_hh,
                biases: bias_ih.start..bias_hh.end,
            });
        }
        let params_end = out.iter().map(|l| l.biases.end).max().unwrap_or(0);
        Ok(Self {
            input,
            hidden,
            layers: out,
            params_end,
        })
    }

    /// Input features per time step of the first layer.
    pub fn input(&self) -> usize {
        self.input
    }

    /// Hidden state size of every layer.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Stacked layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// PyTorch's `nn.LSTM` initialisation into the host copy of the whole
    /// arena: every weight and bias `U(-1/sqrt(H), 1/sqrt(H))`, drawn from
    /// `rng` (a named stream) tensor by tensor in layout order.
    pub fn init(&self, rng: &mut impl Rng, host_params: &mut [f32]) -> Result<()> {
        self.check_params("host parameters", host_params.len())?;
        let g = 4 * self.hidden;
        for l in &self.layers {
            let bias_ih = l.biases.start..l.biases.start + g;
            let bias_hh = l.biases.start + g..l.biases.end;
            for range in [l.weight_ih.clone(), l.weight_hh.clone(), bias_ih, bias_hh] {
                init::lstm(rng, self.hidden, &mut host_params[range])?;
            }
        }
        Ok(())
    }

    /// A workspace for batches of up to `max_batch` sequences of up to
    /// `max_steps` steps.
    pub fn workspace<B: Backend>(
        &self,
        backend: &B,
        max_steps: usize,
        max_batch: usize,
    ) -> Result<LstmWorkspace<B>> {
        if max_steps == 0 || max_batch == 0 {
            return Err(Error::shape(format!(
                "LSTM workspace for {max_steps} steps x {max_batch} sequences"
            )));
        }
        let (h, rows) = (self.hidden, max_steps * max_batch);
        let layers = self
            .layers
            .iter()
            .map(|_| {
                Ok(LayerBuffers {
                    gates: backend.alloc(rows * 4 * h)?,
                    c: backend.alloc((rows + max_batch) * h)?,
                    h: backend.alloc((rows + max_batch) * h)?,
                    bias: backend.alloc(4 * h)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(LstmWorkspace {
            hidden: h,
            input: self.input,
            max_steps,
            max_batch,
            layers,
            dgates: backend.alloc(rows * 4 * h)?,
            dh_seq: backend.alloc(rows * h)?,
            scratch: backend.alloc(3 * max_batch * h)?,
            dbias: backend.alloc(4 * h)?,
            lengths: backend.alloc_index(max_batch)?,
            host_lengths: vec![0; max_batch],
            steps: 0,
            batch: 0,
        })
    }

    /// Forward pass over `x: [steps, batch, input]` (the first
    /// `steps * batch * input` values of the buffer) with `lengths[b]` real
    /// steps in sequence `b`. Padded steps of `x` may hold any finite values
    /// (zeros are usual): they never reach a result, but the weight-gradient
    /// GEMM multiplies them by zero, which a NaN or infinity would survive. Results stay in `ws`: see
    /// [`LstmWorkspace::outputs`] and [`LstmWorkspace::final_hidden`].
    #[allow(clippy::too_many_arguments)]
    pub fn forward<B: Backend>(
        &self,
        backend: &B,
        params: &B::Buf,
        x: &B::Buf,
        steps: usize,
        batch: usize,
        lengths: &[usize],
        ws: &mut LstmWorkspace<B>,
    ) -> Result<()> {
        self.check_workspace(ws)?;
        if steps == 0 || batch == 0 || steps > ws.max_steps || batch > ws.max_batch {
            return Err(Error::shape(format!(
                "LSTM input [{steps}, {batch}, {}]: steps and batch must be in 1..={} and 1..={} (workspace size)",
                self.input, ws.max_steps, ws.max_batch
            )));
        }
        if lengths.len() != batch {
            return Err(Error::shape(format!(
                "LSTM input [{steps}, {batch}, {}] with {} sequence lengths",
                self.input,
                lengths.len()
            )));
        }
        if let Some((b, &len)) = lengths
            .iter()
            .enumerate()
            .find(|(_, &l)| l == 0 || l > steps)
        {
            return Err(Error::shape(format!(
                "LSTM input [{steps}, {batch}, {}]: sequence {b} has length {len}, outside 1..={steps}",
                self.input
            )));
        }
        self.check_params("parameters", backend.len(params))?;
        check_capacity(backend, "LSTM input", x, &[steps, batch, self.input])?;

        let (h, g) = (self.hidden, 4 * self.hidden);
        let rows = steps * batch;
        let state = batch * h;
        for (dst, &len) in ws.host_lengths.iter_mut().zip(lengths) {
            *dst = len as u32;
        }
        backend.upload_index(&ws.host_lengths[..batch], &mut ws.lengths)?;
        ws.steps = steps;
        ws.batch = batch;
        let shape = LstmShape {
            hidden: h,
            steps,
            batch,
        };

        for (k, lp) in self.layers.iter().enumerate() {
            let (below, rest) = ws.layers.split_at_mut(k);
            let lb = &mut rest[0];
            let layer_x = if k == 0 {
                backend.view(x, 0..rows * lp.input)
            } else {
                backend.view(&below[k - 1].h, state..state + rows * h)
            };
            backend.col_sum(
                g,
                backend.view(params, lp.biases.clone()),
                backend.view_mut(&mut lb.bias, 0..g),
                false,
            )?;
            backend.fill(backend.view_mut(&mut lb.c, 0..state), 0.0)?;
            backend.fill(backend.view_mut(&mut lb.h, 0..state), 0.0)?;
            backend.lstm_layer_forward(
                shape,
                lp.input,
                layer_x,
                backend.view(params, lp.weight_ih.clone()),
                backend.index_view(&ws.lengths, 0..batch),
                backend.view(params, lp.weight_hh.clone()),
                backend.view(&lb.bias, 0..g),
                backend.view_mut(&mut lb.gates, 0..rows * g),
                backend.view_mut(&mut lb.c, 0..rows * h + state),
                backend.view_mut(&mut lb.h, 0..rows * h + state),
            )?;
        }
        Ok(())
    }

    /// Backward pass of the last `forward` on `ws` (same `params` and `x`).
    ///
    /// The loss gradient w.r.t. the last layer's outputs is `d_out:
    /// [steps, batch, H]` (every step; values at padded steps count towards
    /// the sequence's last real step, whose state they see), plus `d_final:
    /// [batch, H]` w.r.t. [`LstmWorkspace::final_hidden`]; either may be
    /// `None` (a classifier that reads only the final state passes just
    /// `d_final`). Parameter gradients are added into `grads` (same layout as
    /// the parameters); the gradient w.r.t. `x: [steps, batch, input]`
    /// overwrites `dx` when given (zero at padded steps).
    #[allow(clippy::too_many_arguments)]
    pub fn backward<B: Backend>(
        &self,
        backend: &B,
        params: &B::Buf,
        x: &B::Buf,
        ws: &mut LstmWorkspace<B>,
        d_out: Option<&B::Buf>,
        d_final: Option<&B::Buf>,
        grads: &mut B::Buf,
        dx: Option<&mut B::Buf>,
    ) -> Result<()> {
        self.check_workspace(ws)?;
        let (steps, batch) = (ws.steps, ws.batch);
        if steps == 0 {
            return Err(Error::shape(
                "LSTM backward before any forward pass on this workspace",
            ));
        }
        let (h, g) = (self.hidden, 4 * self.hidden);
        let rows = steps * batch;
        let state = batch * h;
        self.check_params("parameters", backend.len(params))?;
        self.check_params("gradients", backend.len(grads))?;
        check_capacity(backend, "LSTM input", x, &[steps, batch, self.input])?;
        if let Some(d) = d_out {
            check_capacity(backend, "LSTM output gradient", d, &[steps, batch, h])?;
        }
        if let Some(d) = d_final {
            check_capacity(backend, "LSTM final-state gradient", d, &[batch, h])?;
        }
        if let Some(d) = dx.as_deref() {
            check_capacity(
                backend,
                "LSTM input gradient",
                d,
                &[steps, batch, self.input],
            )?;
        }

        // Gradient w.r.t. the top layer's outputs.
        let last = (steps - 1) * state..rows * h;
        match d_out {
            Some(d) => backend.copy_block(
                1,
                rows * h,
                backend.view(d, 0..rows * h),
                rows * h,
                0,
                backend.view_mut(&mut ws.dh_seq, 0..rows * h),
                rows * h,
                0,
            )?,
            None => backend.fill(backend.view_mut(&mut ws.dh_seq, 0..rows * h), 0.0)?,
        }
        if let Some(d) = d_final {
            // A one-row column sum with `accumulate` adds d_final in place.
            backend.col_sum(
                state,
                backend.view(d, 0..state),
                backend.view_mut(&mut ws.dh_seq, last),
                true,
            )?;
        }
        let shape = LstmShape {
            hidden: h,
            steps,
            batch,
        };

        let mut dx = dx;
        for (k, lp) in self.layers.iter().enumerate().rev() {
            let (below, rest) = ws.layers.split_at_mut(k);
            let lb = &rest[0];
            backend.lstm_backward(
                shape,
                backend.index_view(&ws.lengths, 0..batch),
                backend.view(params, lp.weight_hh.clone()),
                backend.view(&lb.gates, 0..rows * g),
                backend.view(&lb.c, 0..rows * h + state),
                backend.view_mut(&mut ws.dh_seq, 0..rows * h),
                backend.view_mut(&mut ws.dgates, 0..rows * g),
                backend.view_mut(&mut ws.scratch, 0..3 * state),
            )?;

            let dgates = backend.view(&ws.dgates, 0..rows * g);
            let layer_x = if k == 0 {
                backend.view(x, 0..rows * lp.input)
            } else {
                backend.view(&below[k - 1].h, state..state + rows * h)
            };
            backend.gemm(
                &Gemm::new(Transpose::Yes, Transpose::No, g, lp.input, rows).beta(1.0),
                dgates,
                layer_x,
                backend.view_mut(grads, lp.weight_ih.clone()),
            )?;
            backend.gemm(
                &Gemm::new(Transpose::Yes, Transpose::No, g, h, rows).beta(1.0),
                dgates,
                backend.view(&lb.h, 0..rows * h),
                backend.view_mut(grads, lp.weight_hh.clone()),
            )?;
            backend.col_sum(g, dgates, backend.view_mut(&mut ws.dbias, 0..g), false)?;
            for bias in [
                lp.biases.start..lp.biases.start + g,
                lp.biases.start + g..lp.biases.end,
            ] {
                backend.col_sum(
                    g,
                    backend.view(&ws.dbias, 0..g),
                    backend.view_mut(grads, bias),
                    true,
                )?;
            }

            // Gradient w.r.t. this layer's input: the outputs of the layer
            // below (its dh_seq, no longer needed for this layer) or x.
            let w_ih = backend.view(params, lp.weight_ih.clone());
            let target = if k > 0 {
                Some(backend.view_mut(&mut ws.dh_seq, 0..rows * h))
            } else {
                dx.as_deref_mut()
                    .map(|d| backend.view_mut(d, 0..rows * lp.input))
            };
            if let Some(target) = target {
                backend.gemm(
                    &Gemm::new(Transpose::No, Transpose::No, rows, lp.input, g),
                    dgates,
                    w_ih,
                    target,
                )?;
            }
        }
        Ok(())
    }

    fn check_workspace<B: Backend>(&self, ws: &LstmWorkspace<B>) -> Result<()> {
        if ws.hidden != self.hidden
            || ws.input != self.input
            || ws.layers.len() != self.layers.len()
        {
            return Err(Error::shape(format!(
                "LSTM workspace for {} layers of input {}, hidden {} used with {} layers of input {}, hidden {}",
                ws.layers.len(),
                ws.input,
                ws.hidden,
                self.layers.len(),
                self.input,
                self.hidden
            )));
        }
        Ok(())
    }

    fn check_params(&self, what: &str, len: usize) -> Result<()> {
        if len < self.params_end {
            return Err(Error::shape(format!(
                "LSTM {what}: arena holds {len} values, the layers' ranges end at {}",
                self.params_end
            )));
        }
        Ok(())
    }
}

impl<B: Backend> LstmWorkspace<B> {
    /// Shape `(steps, batch)` of the last forward pass.
    pub fn shape(&self) -> (usize, usize) {
        (self.steps, self.batch)
    }

    /// The last layer's hidden states of every step, `[steps, batch, H]`
    /// (past a sequence's end: its state at its last real step).
    pub fn outputs<'a>(&'a self, backend: &B) -> Result<B::View<'a>> {
        let state = self.ready()?;
        let top = self.layers.last().expect("at least one layer");
        Ok(backend.view(&top.h, state..state * (self.steps + 1)))
    }

    /// The last layer's hidden state of each sequence at its last real step,
    /// `[batch, H]`.
    pub fn final_hidden<'a>(&'a self, backend: &B) -> Result<B::View<'a>> {
        let state = self.ready()?;
        let top = self.layers.last().expect("at least one layer");
        Ok(backend.view(&top.h, state * self.steps..state * (self.steps + 1)))
    }

    /// Copies [`LstmWorkspace::final_hidden`] into the first `batch * H`
    /// values of `dst` (e.g. the input buffer of a dense head).
    pub fn copy_final_hidden(&self, backend: &B, dst: &mut B::Buf) -> Result<()> {
        let state = self.ready()?;
        check_capacity(
            backend,
            "LSTM final-state copy",
            dst,
            &[self.batch, self.hidden],
        )?;
        backend.copy_block(
            1,
            state,
            self.final_hidden(backend)?,
            state,
            0,
            backend.view_mut(dst, 0..state),
            state,
            0,
        )
    }

    fn ready(&self) -> Result<usize> {
        if self.steps == 0 {
            return Err(Error::shape("LSTM outputs read before any forward pass"));
        }
        Ok(self.batch * self.hidden)
    }
}

fn check_capacity<B: Backend>(
    backend: &B,
    what: &str,
    buf: &B::Buf,
    shape: &[usize],
) -> Result<()> {
    let need: usize = shape.iter().product();
    let have = backend.len(buf);
    if have < need {
        return Err(Error::shape(format!(
            "{what}: needs {shape:?} ({need} values), buffer holds {have}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::Cpu;

    #[test]
    fn registers_pytorch_names_and_shapes() {
        let mut layout = ParamLayout::new();
        let lstm = Lstm::new(&mut layout, "lstm", 10, 4, 2).unwrap();
        let names: Vec<_> = layout.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "lstm.weight_ih_l0",
                "lstm.weight_hh_l0",
                "lstm.bias_ih_l0",
                "lstm.bias_hh_l0",
                "lstm.weight_ih_l1",
                "lstm.weight_hh_l1",
                "lstm.bias_ih_l1",
                "lstm.bias_hh_l1"
            ]
        );
        assert_eq!(layout.get("lstm.weight_ih_l0").unwrap().shape, [16, 10]);
        assert_eq!(layout.get("lstm.weight_ih_l1").unwrap().shape, [16, 4]);
        assert_eq!(layout.get("lstm.weight_hh_l1").unwrap().shape, [16, 4]);
        assert_eq!(layout.len(), lstm.params_end);
    }

    #[test]
    fn bad_shapes_are_errors() {
        let cpu = Cpu;
        let mut layout = ParamLayout::new();
        let lstm = Lstm::new(&mut layout, "", 3, 4, 1).unwrap();
        let params = vec![0.0; layout.len()];
        let mut ws = lstm.workspace(&cpu, 5, 2).unwrap();
        let x = vec![0.0; 5 * 2 * 3];
        let err = |r: Result<()>| r.unwrap_err().to_string();
        let e = err(lstm.forward(&cpu, &params, &x, 6, 2, &[1, 1], &mut ws));
        assert!(e.contains("[6, 2, 3]"), "{e}");
        let e = err(lstm.forward(&cpu, &params, &x, 5, 2, &[5, 0], &mut ws));
        assert!(e.contains("sequence 1 has length 0"), "{e}");
        let e = err(lstm.forward(&cpu, &params, &x, 5, 2, &[5], &mut ws));
        assert!(e.contains("1 sequence lengths"), "{e}");
        let e = err(lstm.forward(&cpu, &params[1..].to_vec(), &x, 5, 2, &[5, 5], &mut ws));
        assert!(e.contains("parameters"), "{e}");
        let e = err(lstm.forward(&cpu, &params, &x[1..].to_vec(), 5, 2, &[5, 5], &mut ws));
        assert!(e.contains("LSTM input"), "{e}");
        let mut grads = vec![0.0; layout.len()];
        let e = err(lstm.backward(&cpu, &params, &x, &mut ws, None, None, &mut grads, None));
        assert!(e.contains("before any forward"), "{e}");
        lstm.forward(&cpu, &params, &x, 5, 2, &[5, 3], &mut ws)
            .unwrap();
        let short = vec![0.0; 7];
        let e = err(lstm.backward(
            &cpu,
            &params,
            &x,
            &mut ws,
            None,
            Some(&short),
            &mut grads,
            None,
        ));
        assert!(
            e.contains("final-state gradient") && e.contains("[2, 4]"),
            "{e}"
        );
    }
}
