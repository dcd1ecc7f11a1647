//! Fully connected layer `y = act(x W^T + b)`, PyTorch layout: `weight:
//! [out, in]`, `bias: [out]`, registered in a [`ParamLayout`] as
//! `<prefix>.weight` and `<prefix>.bias`, so a checkpoint's tensors load
//! straight into `torch.nn.Linear`.
//!
//! Shapes (`rows` is the batch size of this call):
//!
//! ```text
//! x  [rows, in]     y  [rows, out]    (y holds act(x W^T + b))
//! dy [rows, out]    dz [rows, out]    (scratch: dy * act'(y))
//! dx [rows, in]     dW [out, in] += dz^T x     db [out] += column sums of dz
//! ```
//!
//! Activation buffers may be larger than `[rows, cols]` (sized once for the
//! largest batch and reused); the first `rows * cols` values are used. A
//! buffer that is too small is an [`Error::Shape`] naming the shapes, raised
//! before any kernel runs. Nothing here allocates.
//!
//! A two-layer MLP, forward and backward:
//!
//! ```text
//! let mut layout = ParamLayout::new();
//! let l1 = Dense::new(&mut layout, "enc.0", 800, 512, Activation::Relu);
//! let l2 = Dense::new(&mut layout, "enc.1", 512, 256, Activation::Identity);
//! let mut host = vec![0.0; layout.len()];
//! let mut rng = rng::stream(seed, "init", fold, 0);
//! l1.init(&mut rng, &mut host)?;
//! l2.init(&mut rng, &mut host)?;
//! let mut arena = ParamArena::from_host(&be, layout, &host)?;
//!
//! l1.forward(&be, rows, &arena.params, &x, &mut h)?;
//! l2.forward(&be, rows, &arena.params, &h, &mut y)?;
//! ... loss gives dy ...
//! arena.zero_grads(&be);
//! l2.backward(&be, rows, &arena.params, &h, &y, &dy, &mut dz, &mut arena.grads,
//!             InputGrad::Overwrite(&mut dh))?;
//! l1.backward(&be, rows, &arena.params, &x, &h, &dh, &mut dz, &mut arena.grads,
//!             InputGrad::Skip)?;
//! ```

use super::init;
use super::params::ParamLayout;
use crate::backend::{Activation, Backend, Gemm, Transpose};
use crate::error::{Error, Result};
use rand::Rng;
use std::ops::Range;

/// What `Dense::backward` does with the gradient w.r.t. its input.
pub enum InputGrad<'a, Buf> {
    /// Not needed (the input is data, not an activation).
    Skip,
    /// `dx = dz W`, old contents ignored.
    Overwrite(&'a mut Buf),
    /// `dx += dz W`: for an input that feeds several layers (e.g. the two
    /// heads of a VAE encoder reading one hidden layer).
    Accumulate(&'a mut Buf),
}

/// One fully connected layer: its sizes, activation, and where its weight
/// and bias live in the parameter arena.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dense {
    prefix: String,
    inputs: usize,
    outputs: usize,
    act: Activation,
    weight: Range<usize>,
    bias: Range<usize>,
}

impl Dense {
    /// Registers `<prefix>.weight` `[outputs, inputs]` and `<prefix>.bias`
    /// `[outputs]` in `layout` (panics if the names are taken, like
    /// [`ParamLayout::add`]).
    pub fn new(
        layout: &mut ParamLayout,
        prefix: &str,
        inputs: usize,
        outputs: usize,
        act: Activation,
    ) -> Self {
        let weight = layout.add(&format!("{prefix}.weight"), &[outputs, inputs]);
        let bias = layout.add(&format!("{prefix}.bias"), &[outputs]);
        Self {
            prefix: prefix.to_string(),
            inputs,
            outputs,
            act,
            weight,
            bias,
        }
    }

    /// The layer whose tensors `<prefix>.weight` and `<prefix>.bias` are
    /// already in `layout` (e.g. one read from a checkpoint). Errors if either
    /// is missing or their shapes do not form a dense layer.
    pub fn from_layout(layout: &ParamLayout, prefix: &str, act: Activation) -> Result<Self> {
        let w = layout.get(&format!("{prefix}.weight"))?;
        let b = layout.get(&format!("{prefix}.bias"))?;
        match (w.shape.as_slice(), b.shape.as_slice()) {
            (&[out, inp], &[bout]) if out == bout => Ok(Self {
                prefix: prefix.to_string(),
                inputs: inp,
                outputs: out,
                act,
                weight: w.range.clone(),
                bias: b.range.clone(),
            }),
            (ws, bs) => Err(Error::shape(format!(
                "dense layer {prefix}: weight {ws:?} and bias {bs:?} do not fit [out, in] and [out]"
            ))),
        }
    }

    /// The name prefix of the layer's tensors (`<prefix>.weight`, `<prefix>.bias`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    /// Input features per row.
    pub fn inputs(&self) -> usize {
        self.inputs
    }
    /// Output features per row.
    pub fn outputs(&self) -> usize {
        self.outputs
    }
    /// The activation applied after the bias add.
    pub fn activation(&self) -> Activation {
        self.act
    }
    /// Where `weight: [out, in]` lives in the arena.
    pub fn weight_range(&self) -> Range<usize> {
        self.weight.clone()
    }
    /// Where `bias: [out]` lives in the arena.
    pub fn bias_range(&self) -> Range<usize> {
        self.bias.clone()
    }

    /// PyTorch's `nn.Linear` initialisation into the host copy of the whole
    /// arena: weight then bias, both `U(-1/sqrt(in), 1/sqrt(in))`, drawn from
    /// `rng` (a named stream).
    pub fn init(&self, rng: &mut impl Rng, host_params: &mut [f32]) -> Result<()> {
        self.check_arena("host parameters", host_params.len())?;
        if self.inputs == 0 {
            return Err(Error::shape(format!(
                "dense layer {}: no inputs to initialise from",
                self.prefix
            )));
        }
        // Same draws, in the same order, as `init::linear`.
        let bound = init::inv_sqrt_bound(self.inputs);
        init::uniform(rng, bound, &mut host_params[self.weight.clone()]);
        init::uniform(rng, bound, &mut host_params[self.bias.clone()]);
        Ok(())
    }

    /// `y[rows, out] = act(x[rows, in] W^T + b)`, overwriting `y`.
    pub fn forward<B: Backend>(
        &self,
        backend: &B,
        rows: usize,
        params: &B::Buf,
        x: &B::Buf,
        y: &mut B::Buf,
    ) -> Result<()> {
        self.check_arena("parameters", backend.len(params))?;
        self.check_rows("input x", backend.len(x), rows, self.inputs)?;
        self.check_rows("output y", backend.len(y), rows, self.outputs)?;
        let (nx, ny) = (rows * self.inputs, rows * self.outputs);
        backend.gemm(
            &Gemm::new(
                Transpose::No,
                Transpose::Yes,
                rows,
                self.outputs,
                self.inputs,
            ),
            backend.view(x, 0..nx),
            backend.view(params, self.weight.clone()),
            backend.view_mut(y, 0..ny),
        )?;
        backend.bias_act_forward(
            self.act,
            self.outputs,
            backend.view(params, self.bias.clone()),
            backend.view_mut(y, 0..ny),
        )
    }

    /// Backward of [`Dense::forward`] given `dy = dL/dy`:
    /// - `dz = dy * act'(y)` into the caller's scratch `dz` (`[rows, out]`;
    ///   untouched, and not checked, for the identity activation, where `dy`
    ///   is used directly);
    /// - `grads[weight] += dz^T x` and `grads[bias] += column sums of dz`
    ///   (accumulated: zero the arena's gradients once per step);
    /// - the input gradient `dz W` as `dx` asks (see [`InputGrad`]).
    ///
    /// `x` and `y` are the forward pass's input and output.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<B: Backend>(
        &self,
        backend: &B,
        rows: usize,
        params: &B::Buf,
        x: &B::Buf,
        y: &B::Buf,
        dy: &B::Buf,
        dz: &mut B::Buf,
        grads: &mut B::Buf,
        dx: InputGrad<'_, B::Buf>,
    ) -> Result<()> {
        self.check_arena("parameters", backend.len(params))?;
        self.check_arena("gradients", backend.len(grads))?;
        self.check_rows("input x", backend.len(x), rows, self.inputs)?;
        self.check_rows("output y", backend.len(y), rows, self.outputs)?;
        self.check_rows("output gradient dy", backend.len(dy), rows, self.outputs)?;
        let identity = self.act == Activation::Identity;
        if !identity {
            self.check_rows("scratch dz", backend.len(dz), rows, self.outputs)?;
        }
        match &dx {
            InputGrad::Skip => {}
            InputGrad::Overwrite(d) | InputGrad::Accumulate(d) => {
                self.check_rows("input gradient dx", backend.len(d), rows, self.inputs)?
            }
        }
        let (nx, ny) = (rows * self.inputs, rows * self.outputs);

        if !identity {
            backend.act_backward(
                self.act,
                backend.view(y, 0..ny),
                backend.view(dy, 0..ny),
                backend.view_mut(dz, 0..ny),
            )?;
        }
        let dz = if identity {
            backend.view(dy, 0..ny)
        } else {
            backend.view(dz, 0..ny)
        };

        // dW[out, in] += dz^T [out, rows] x [rows, in]
        backend.gemm(
            &Gemm::new(
                Transpose::Yes,
                Transpose::No,
                self.outputs,
                self.inputs,
                rows,
            )
            .beta(1.0),
            dz,
            backend.view(x, 0..nx),
            backend.view_mut(grads, self.weight.clone()),
        )?;
        backend.col_sum(
            self.outputs,
            dz,
            backend.view_mut(grads, self.bias.clone()),
            true,
        )?;
        let (dx, beta) = match dx {
            InputGrad::Skip => return Ok(()),
            InputGrad::Overwrite(d) => (d, 0.0),
            InputGrad::Accumulate(d) => (d, 1.0),
        };
        // dx[rows, in] (+)= dz [rows, out] W [out, in]
        backend.gemm(
            &Gemm::new(
                Transpose::No,
                Transpose::No,
                rows,
                self.inputs,
                self.outputs,
            )
            .beta(beta),
            dz,
            backend.view(params, self.weight.clone()),
            backend.view_mut(dx, 0..nx),
        )
    }

    fn check_arena(&self, what: &str, len: usize) -> Result<()> {
        if len < self.bias.end || len < self.weight.end {
            return Err(Error::shape(format!(
                "dense layer {} [{} -> {}]: {what} hold {len} values, the layer's tensors end at {}",
                self.prefix,
                self.inputs,
                self.outputs,
                self.bias.end.max(self.weight.end)
            )));
        }
        Ok(())
    }

    fn check_rows(&self, what: &str, len: usize, rows: usize, cols: usize) -> Result<()> {
        if len < rows * cols {
            return Err(Error::shape(format!(
                "dense layer {} [{} -> {}]: {what} needs [{rows}, {cols}] ({} values), buffer holds {len}",
                self.prefix,
                self.inputs,
                self.outputs,
                rows * cols
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::Cpu;

    fn layer() -> (ParamLayout, Dense) {
        let mut layout = ParamLayout::new();
        let d = Dense::new(&mut layout, "fc", 3, 2, Activation::Relu);
        (layout, d)
    }

    #[test]
    fn registers_pytorch_names_and_shapes() {
        let (layout, d) = layer();
        assert_eq!(layout.get("fc.weight").unwrap().shape, vec![2, 3]);
        assert_eq!(layout.get("fc.bias").unwrap().shape, vec![2]);
        assert_eq!(d.weight_range(), 0..6);
        assert_eq!(d.bias_range(), 6..8);
        let again = Dense::from_layout(&layout, "fc", Activation::Relu).unwrap();
        assert_eq!(again, d);
        assert!(Dense::from_layout(&layout, "other", Activation::Relu).is_err());
    }

    #[test]
    fn forward_computes_affine_then_activation() {
        let (_, d) = layer();
        // W = [[1, 2, 3], [-1, 0, 1]], b = [0.5, -10]
        let params = vec![1.0, 2.0, 3.0, -1.0, 0.0, 1.0, 0.5, -10.0];
        let x = vec![1.0, 1.0, 1.0, 0.0, 2.0, -1.0];
        let mut y = vec![f32::NAN; 4];
        d.forward(&Cpu, 2, &params, &x, &mut y).unwrap();
        assert_eq!(y, vec![6.5, 0.0, 1.5, 0.0]);
    }

    #[test]
    fn wrong_buffer_sizes_are_shape_errors_naming_the_shapes() {
        let (_, d) = layer();
        let params = vec![0.0; 8];
        let mut grads = vec![0.0; 8];
        let x = vec![0.0; 5]; // needs [2, 3]
        let mut y = vec![0.0; 4];
        let err = d.forward(&Cpu, 2, &params, &x, &mut y).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Shape(_)));
        assert!(msg.contains("[2, 3]") && msg.contains("holds 5"), "{msg}");

        let err = d.forward(&Cpu, 2, &params[..7].to_vec(), &vec![0.0; 6], &mut y);
        assert!(matches!(err, Err(Error::Shape(_))));

        let (x, y, dy) = (vec![0.0; 6], vec![0.0; 4], vec![0.0; 4]);
        let mut dz = vec![0.0; 3]; // too small for a ReLU layer
        let err = d
            .backward(
                &Cpu,
                2,
                &params,
                &x,
                &y,
                &dy,
                &mut dz,
                &mut grads,
                InputGrad::Skip,
            )
            .unwrap_err();
        assert!(err.to_string().contains("scratch dz"), "{err}");
        let mut dz = vec![0.0; 4];
        let mut dx = vec![0.0; 5];
        let err = d
            .backward(
                &Cpu,
                2,
                &params,
                &x,
                &y,
                &dy,
                &mut dz,
                &mut grads,
                InputGrad::Overwrite(&mut dx),
            )
            .unwrap_err();
        assert!(err.to_string().contains("input gradient dx"), "{err}");
        // Nothing was written before the error.
        assert!(grads.iter().all(|&g| g == 0.0));
    }

    #[test]
    fn larger_buffers_use_their_first_rows() {
        let (_, d) = layer();
        let params = vec![1.0, 2.0, 3.0, -1.0, 0.0, 1.0, 0.5, -10.0];
        let x = vec![1.0, 1.0, 1.0, 9.0, 9.0, 9.0];
        let mut y = vec![-3.0; 4];
        d.forward(&Cpu, 1, &params, &x, &mut y).unwrap();
        assert_eq!(y, vec![6.5, 0.0, -3.0, -3.0]);
    }

    #[test]
    fn accumulate_adds_to_the_input_gradient() {
        let mut layout = ParamLayout::new();
        let d = Dense::new(&mut layout, "fc", 2, 2, Activation::Identity);
        let params = vec![1.0, 2.0, 3.0, 4.0, 0.0, 0.0];
        let (x, y, dy) = (vec![0.0; 2], vec![0.0; 2], vec![1.0, 1.0]);
        let mut grads = vec![0.0; 6];
        let mut dx = vec![10.0, 20.0];
        let mut dz = Vec::new();
        d.backward(
            &Cpu,
            1,
            &params,
            &x,
            &y,
            &dy,
            &mut dz,
            &mut grads,
            InputGrad::Accumulate(&mut dx),
        )
        .unwrap();
        // dz W = [1, 1] [[1, 2], [3, 4]] = [4, 6]
        assert_eq!(dx, vec![14.0, 26.0]);
        d.backward(
            &Cpu,
            1,
            &params,
            &x,
            &y,
            &dy,
            &mut dz,
            &mut grads,
            InputGrad::Overwrite(&mut dx),
        )
        .unwrap();
        assert_eq!(dx, vec![4.0, 6.0]);
        // Bias gradient accumulated over the two calls.
        assert_eq!(&grads[4..], &[2.0, 2.0]);
    }
}
