//! The feature learners of SPEC §3 — AE, VAE and CVAE — written against the
//! `Backend` trait, with explicit forward and backward passes.
//!
//! Shapes (defaults in brackets; `K` = number of conditions, CVAE only):
//! ```text
//! encoder  [n, D + K] -> hidden[0] (512) -> hidden[1] (256), ReLU
//! heads    VAE/CVAE: 256 -> L mu, 256 -> L logvar; z = mu + eps * exp(0.5 logvar)
//!          AE: 256 -> L code (no activation); the decoder reads the code
//! decoder  [n, L + K] -> hidden[1] (256) -> hidden[0] (512), ReLU -> D (800), linear
//! loss     sum over D of squared error + KL(N(mu, sigma^2) || N(0, I)), mean over rows
//! ```
//! Parameters are named like the equivalent PyTorch module (nn.Linear layout,
//! weight `[out, in]`, bias `[out]`): `encoder.0`, `encoder.2`, ... (Linear
//! layers of an `nn.Sequential` with ReLUs in between), `mu` and `logvar`
//! (or `code` for the AE), `decoder.0`, `decoder.2`, `decoder.4`.

use crate::backend::{Activation, Backend, Transpose};
use crate::error::{Error, Result};
use crate::nn::params::ParamLayout;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Which feature learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LearnerKind {
    /// Autoencoder: a dense code layer instead of the Gaussian layer.
    Ae,
    /// Variational autoencoder.
    Vae,
    /// Conditional VAE: the one-hot label joins the encoder and decoder inputs.
    Cvae,
}

impl LearnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LearnerKind::Ae => "ae",
            LearnerKind::Vae => "vae",
            LearnerKind::Cvae => "cvae",
        }
    }

    pub fn parse(s: &str) -> Option<LearnerKind> {
        match s {
            "ae" => Some(LearnerKind::Ae),
            "vae" => Some(LearnerKind::Vae),
            "cvae" => Some(LearnerKind::Cvae),
            _ => None,
        }
    }

    /// Whether the model has the Gaussian layer (and so a KL term).
    pub fn is_variational(self) -> bool {
        self != LearnerKind::Ae
    }
}

impl std::fmt::Display for LearnerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every size of an autoencoder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoencoderShape {
    pub kind: LearnerKind,
    /// Values per input row (800 for a 100 ms segment).
    pub input: usize,
    /// Length of the one-hot condition (CVAE); 0 for AE and VAE.
    pub conditions: usize,
    /// Encoder hidden widths, input side first; the decoder mirrors them.
    pub hidden: Vec<usize>,
    pub latent: usize,
}

impl AutoencoderShape {
    pub fn validate(&self) -> Result<()> {
        if self.input == 0 || self.latent == 0 || self.hidden.is_empty() || self.hidden.contains(&0)
        {
            return Err(Error::shape(format!(
                "autoencoder sizes must be positive, with at least one hidden layer: \
                 input {}, hidden {:?}, latent {}",
                self.input, self.hidden, self.latent
            )));
        }
        match (self.kind, self.conditions) {
            (LearnerKind::Cvae, 0) => Err(Error::shape(
                "a CVAE needs at least one condition (label class)",
            )),
            (LearnerKind::Ae | LearnerKind::Vae, k) if k > 0 => Err(Error::shape(format!(
                "only a CVAE takes conditions; this {} has {k}",
                self.kind
            ))),
            _ => Ok(()),
        }
    }

    /// Width of the encoder's input (`D + K`).
    pub fn encoder_input(&self) -> usize {
        self.input + self.conditions
    }

    /// Width of the decoder's input (`L + K`).
    pub fn decoder_input(&self) -> usize {
        self.latent + self.conditions
    }
}

/// One fully connected layer: where its parameters live and its activation.
#[derive(Clone, Debug)]
struct DenseSpec {
    input: usize,
    output: usize,
    act: Activation,
    weight: Range<usize>,
    bias: Range<usize>,
}

impl DenseSpec {
    fn add(
        layout: &mut ParamLayout,
        name: &str,
        input: usize,
        output: usize,
        act: Activation,
    ) -> Self {
        let weight = layout.add(&format!("{name}.weight"), &[output, input]);
        let bias = layout.add(&format!("{name}.bias"), &[output]);
        DenseSpec {
            input,
            output,
            act,
            weight,
            bias,
        }
    }
}

/// An autoencoder's structure and parameters on a backend.
pub struct Autoencoder<B: Backend> {
    backend: B,
    shape: AutoencoderShape,
    layout: ParamLayout,
    encoder: Vec<DenseSpec>,
    /// `mu` for VAE/CVAE, `code` for the AE.
    head_mu: DenseSpec,
    head_logvar: Option<DenseSpec>,
    decoder: Vec<DenseSpec>,
    params: B::Buf,
}

/// Losses of one forward pass, each a mean over the rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossParts {
    /// Summed squared error over the outputs of a row.
    pub reconstruction: f32,
    /// KL divergence of a row's posterior to N(0, I) (0 for the AE).
    pub kl: f32,
}

impl LossParts {
    pub fn total(&self) -> f32 {
        self.reconstruction + self.kl
    }
}

/// Every buffer a forward and backward pass needs for up to `capacity` rows,
/// allocated once, so training steps never allocate.
pub struct Workspace<B: Backend> {
    capacity: usize,
    /// `[cap, D]`: the (normalised) input, which is also the target.
    pub x: B::Buf,
    /// `[cap, K]`: the condition rows (CVAE only).
    pub cond: B::Buf,
    /// `[cap, L]`: the reparameterisation noise (VAE/CVAE).
    pub eps: B::Buf,
    enc_in: B::Buf,
    enc_act: Vec<B::Buf>,
    mu: B::Buf,
    logvar: B::Buf,
    z: B::Buf,
    dec_in: B::Buf,
    dec_act: Vec<B::Buf>,
    d_enc_act: Vec<B::Buf>,
    d_dec_act: Vec<B::Buf>,
    d_dec_in: B::Buf,
    dz: B::Buf,
    dmu: B::Buf,
    dlogvar: B::Buf,
    /// Gradient of an activation's input, the widest layer's size.
    d_pre: B::Buf,
    /// Gradient of the mean loss w.r.t. every parameter (the model's layout).
    pub grads: B::Buf,
}

impl<B: Backend> Workspace<B> {
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl<B: Backend + Clone> Autoencoder<B> {
    /// A model with all parameters zero; fill them with `set_params` or
    /// `init_pytorch`.
    pub fn new(backend: &B, shape: AutoencoderShape) -> Result<Self> {
        shape.validate()?;
        let mut layout = ParamLayout::new();
        let mut encoder = Vec::new();
        let mut width = shape.encoder_input();
        for (i, &h) in shape.hidden.iter().enumerate() {
            let name = format!("encoder.{}", 2 * i);
            encoder.push(DenseSpec::add(
                &mut layout,
                &name,
                width,
                h,
                Activation::Relu,
            ));
            width = h;
        }
        let variational = shape.kind.is_variational();
        let mu_name = if variational { "mu" } else { "code" };
        let head_mu = DenseSpec::add(
            &mut layout,
            mu_name,
            width,
            shape.latent,
            Activation::Identity,
        );
        let head_logvar = variational.then(|| {
            DenseSpec::add(
                &mut layout,
                "logvar",
                width,
                shape.latent,
                Activation::Identity,
            )
        });
        let mut decoder = Vec::new();
        let mut width = shape.decoder_input();
        for (i, &h) in shape.hidden.iter().rev().enumerate() {
            let name = format!("decoder.{}", 2 * i);
            decoder.push(DenseSpec::add(
                &mut layout,
                &name,
                width,
                h,
                Activation::Relu,
            ));
            width = h;
        }
        let name = format!("decoder.{}", 2 * shape.hidden.len());
        decoder.push(DenseSpec::add(
            &mut layout,
            &name,
            width,
            shape.input,
            Activation::Identity,
        ));
        let params = backend.alloc(layout.len())?;
        Ok(Autoencoder {
            backend: backend.clone(),
            shape,
            layout,
            encoder,
            head_mu,
            head_logvar,
            decoder,
            params,
        })
    }

    pub fn shape(&self) -> &AutoencoderShape {
        &self.shape
    }

    pub fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    pub fn params(&self) -> &B::Buf {
        &self.params
    }

    pub fn params_mut(&mut self) -> &mut B::Buf {
        &mut self.params
    }

    /// Copies host values (in the layout's order) into the parameters.
    pub fn set_params(&mut self, values: &[f32]) -> Result<()> {
        crate::error::check_len("autoencoder parameters", values.len(), &[self.layout.len()])?;
        let n = self.layout.len();
        self.backend
            .upload(values, self.backend.view_mut(&mut self.params, 0..n));
        Ok(())
    }

    /// The parameters as host values, in the layout's order.
    pub fn download_params(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.layout.len()];
        self.backend
            .download(self.backend.view(&self.params, 0..out.len()), &mut out);
        out
    }

    /// PyTorch's nn.Linear initialisation: weight and bias uniform in
    /// `±1/sqrt(fan_in)`, drawn tensor by tensor in the layout's order.
    pub fn init_pytorch(&mut self, rng: &mut impl rand::Rng) -> Result<()> {
        let mut values = vec![0.0f32; self.layout.len()];
        for spec in self.all_layers() {
            let bound = 1.0 / (spec.input as f32).sqrt();
            for r in [spec.weight.clone(), spec.bias.clone()] {
                for v in &mut values[r] {
                    *v = rng.gen_range(-bound..bound);
                }
            }
        }
        self.set_params(&values)
    }

    fn all_layers(&self) -> Vec<&DenseSpec> {
        let mut v: Vec<&DenseSpec> = self.encoder.iter().collect();
        v.push(&self.head_mu);
        v.extend(self.head_logvar.iter());
        v.extend(self.decoder.iter());
        v
    }

    /// Buffers for batches of up to `capacity` rows.
    pub fn workspace(&self, capacity: usize) -> Result<Workspace<B>> {
        if capacity == 0 {
            return Err(Error::shape("a workspace needs room for at least one row"));
        }
        let be = &self.backend;
        let s = &self.shape;
        let rows = |w: usize| be.alloc(capacity * w);
        let widest = self
            .all_layers()
            .iter()
            .map(|l| l.output)
            .max()
            .unwrap_or(0);
        Ok(Workspace {
            capacity,
            x: rows(s.input)?,
            cond: rows(s.conditions)?,
            eps: rows(s.latent)?,
            enc_in: rows(if s.conditions > 0 {
                s.encoder_input()
            } else {
                0
            })?,
            enc_act: self
                .encoder
                .iter()
                .map(|l| rows(l.output))
                .collect::<Result<_>>()?,
            mu: rows(s.latent)?,
            logvar: rows(s.latent)?,
            z: rows(s.latent)?,
            dec_in: rows(if s.conditions > 0 {
                s.decoder_input()
            } else {
                0
            })?,
            dec_act: self
                .decoder
                .iter()
                .map(|l| rows(l.output))
                .collect::<Result<_>>()?,
            d_enc_act: self
                .encoder
                .iter()
                .map(|l| rows(l.output))
                .collect::<Result<_>>()?,
            d_dec_act: self
                .decoder
                .iter()
                .map(|l| rows(l.output))
                .collect::<Result<_>>()?,
            d_dec_in: rows(if s.conditions > 0 {
                s.decoder_input()
            } else {
                0
            })?,
            dz: rows(s.latent)?,
            dmu: rows(s.latent)?,
            dlogvar: rows(s.latent)?,
            d_pre: rows(widest)?,
            grads: be.alloc(self.layout.len())?,
        })
    }

    fn check_rows(&self, ws: &Workspace<B>, rows: usize) -> Result<()> {
        if rows == 0 || rows > ws.capacity {
            return Err(Error::shape(format!(
                "batch of {rows} rows for a workspace of {} rows",
                ws.capacity
            )));
        }
        Ok(())
    }

    /// Encoder and heads for the first `rows` rows of `ws.x` (and `ws.cond`):
    /// fills `mu` and `logvar` (the AE's code goes to `mu`).
    fn encode_forward(&self, ws: &mut Workspace<B>, rows: usize) {
        let be = &self.backend;
        let s = &self.shape;
        let p = &self.params;
        if s.conditions > 0 {
            let (d, k, w) = (s.input, s.conditions, s.encoder_input());
            be.copy_block(
                rows,
                d,
                be.view(&ws.x, 0..rows * d),
                d,
                0,
                be.view_mut(&mut ws.enc_in, 0..rows * w),
                w,
                0,
            );
            be.copy_block(
                rows,
                k,
                be.view(&ws.cond, 0..rows * k),
                k,
                0,
                be.view_mut(&mut ws.enc_in, 0..rows * w),
                w,
                d,
            );
        }
        for i in 0..self.encoder.len() {
            let l = &self.encoder[i];
            let (done, rest) = ws.enc_act.split_at_mut(i);
            let x = match done.last() {
                Some(prev) => be.view(prev, 0..rows * l.input),
                None if s.conditions > 0 => be.view(&ws.enc_in, 0..rows * l.input),
                None => be.view(&ws.x, 0..rows * l.input),
            };
            dense_forward(be, l, rows, p, x, &mut rest[0]);
        }
        let h = self
            .encoder
            .last()
            .map_or(&ws.x, |_| ws.enc_act.last().expect("encoder output"));
        let h = be.view(h, 0..rows * self.head_mu.input);
        dense_forward(be, &self.head_mu, rows, p, h, &mut ws.mu);
        if let Some(lv) = &self.head_logvar {
            dense_forward(be, lv, rows, p, h, &mut ws.logvar);
        }
    }

    /// Forward pass over the first `rows` rows of `ws.x` (with `ws.cond` for
    /// the CVAE and `ws.eps` for VAE/CVAE). Also writes the gradient of the
    /// reconstruction loss w.r.t. the output, ready for `backward`.
    pub fn forward(&self, ws: &mut Workspace<B>, rows: usize) -> Result<LossParts> {
        self.check_rows(ws, rows)?;
        let be = &self.backend;
        let s = &self.shape;
        let p = &self.params;
        let l = s.latent;
        self.encode_forward(ws, rows);
        let kl_sum = if s.kind.is_variational() {
            be.gaussian_forward(
                be.view(&ws.mu, 0..rows * l),
                be.view(&ws.logvar, 0..rows * l),
                be.view(&ws.eps, 0..rows * l),
                be.view_mut(&mut ws.z, 0..rows * l),
            )
        } else {
            0.0
        };
        // The decoder reads z (VAE/CVAE) or the code (AE), with the
        // condition appended for the CVAE.
        let code = if s.kind.is_variational() {
            &ws.z
        } else {
            &ws.mu
        };
        if s.conditions > 0 {
            let (k, w) = (s.conditions, s.decoder_input());
            be.copy_block(
                rows,
                l,
                be.view(code, 0..rows * l),
                l,
                0,
                be.view_mut(&mut ws.dec_in, 0..rows * w),
                w,
                0,
            );
            be.copy_block(
                rows,
                k,
                be.view(&ws.cond, 0..rows * k),
                k,
                0,
                be.view_mut(&mut ws.dec_in, 0..rows * w),
                w,
                l,
            );
        }
        for i in 0..self.decoder.len() {
            let layer = &self.decoder[i];
            let (done, rest) = ws.dec_act.split_at_mut(i);
            let x = match done.last() {
                Some(prev) => be.view(prev, 0..rows * layer.input),
                None if s.conditions > 0 => be.view(&ws.dec_in, 0..rows * layer.input),
                None => be.view(code, 0..rows * layer.input),
            };
            dense_forward(be, layer, rows, p, x, &mut rest[0]);
        }
        let d = s.input;
        let out = ws.dec_act.last().expect("decoder output");
        let recon = be.sse_loss(
            rows,
            be.view(out, 0..rows * d),
            be.view(&ws.x, 0..rows * d),
            be.view_mut(
                ws.d_dec_act.last_mut().expect("decoder output"),
                0..rows * d,
            ),
        );
        Ok(LossParts {
            reconstruction: recon,
            kl: kl_sum / rows as f32,
        })
    }

    /// Backward pass of the last `forward` over the same rows: writes the
    /// gradient of the mean loss (reconstruction + KL) into `ws.grads`,
    /// overwriting it (every parameter is used exactly once per pass).
    pub fn backward(&self, ws: &mut Workspace<B>, rows: usize) -> Result<()> {
        self.check_rows(ws, rows)?;
        let be = &self.backend;
        let s = &self.shape;
        let p = &self.params;
        let l = s.latent;
        let variational = s.kind.is_variational();
        let code = if variational { &ws.z } else { &ws.mu };
        for i in (0..self.decoder.len()).rev() {
            let layer = &self.decoder[i];
            let x = if i > 0 {
                be.view(&ws.dec_act[i - 1], 0..rows * layer.input)
            } else if s.conditions > 0 {
                be.view(&ws.dec_in, 0..rows * layer.input)
            } else {
                be.view(code, 0..rows * layer.input)
            };
            let y = be.view(&ws.dec_act[i], 0..rows * layer.output);
            let (before, from_i) = ws.d_dec_act.split_at_mut(i);
            let dy = be.view(&from_i[0], 0..rows * layer.output);
            let dx = if i > 0 {
                &mut before[i - 1]
            } else if s.conditions > 0 {
                &mut ws.d_dec_in
            } else if variational {
                &mut ws.dz
            } else {
                &mut ws.dmu
            };
            dense_backward(
                be,
                layer,
                rows,
                p,
                x,
                y,
                dy,
                &mut ws.d_pre,
                &mut ws.grads,
                Some((dx, false)),
            );
        }
        if s.conditions > 0 {
            let w = s.decoder_input();
            let target = if variational { &mut ws.dz } else { &mut ws.dmu };
            be.copy_block(
                rows,
                l,
                be.view(&ws.d_dec_in, 0..rows * w),
                w,
                0,
                be.view_mut(target, 0..rows * l),
                l,
                0,
            );
        }
        if variational {
            be.gaussian_backward(
                1.0 / rows as f32,
                be.view(&ws.mu, 0..rows * l),
                be.view(&ws.logvar, 0..rows * l),
                be.view(&ws.eps, 0..rows * l),
                be.view(&ws.dz, 0..rows * l),
                be.view_mut(&mut ws.dmu, 0..rows * l),
                be.view_mut(&mut ws.dlogvar, 0..rows * l),
            );
        }
        let n_enc = self.encoder.len();
        {
            let h_buf = if n_enc > 0 {
                &ws.enc_act[n_enc - 1]
            } else {
                &ws.x
            };
            let h = be.view(h_buf, 0..rows * self.head_mu.input);
            let mut dh = if n_enc > 0 {
                Some(&mut ws.d_enc_act[n_enc - 1])
            } else {
                None
            };
            let mu = be.view(&ws.mu, 0..rows * l);
            let dmu = be.view(&ws.dmu, 0..rows * l);
            dense_backward(
                be,
                &self.head_mu,
                rows,
                p,
                h,
                mu,
                dmu,
                &mut ws.d_pre,
                &mut ws.grads,
                dh.as_mut().map(|b| (&mut **b, false)),
            );
            if let Some(lv_layer) = &self.head_logvar {
                let lv = be.view(&ws.logvar, 0..rows * l);
                let dlv = be.view(&ws.dlogvar, 0..rows * l);
                dense_backward(
                    be,
                    lv_layer,
                    rows,
                    p,
                    h,
                    lv,
                    dlv,
                    &mut ws.d_pre,
                    &mut ws.grads,
                    dh.as_mut().map(|b| (&mut **b, true)),
                );
            }
        }
        for i in (0..n_enc).rev() {
            let layer = &self.encoder[i];
            let x = if i > 0 {
                be.view(&ws.enc_act[i - 1], 0..rows * layer.input)
            } else if s.conditions > 0 {
                be.view(&ws.enc_in, 0..rows * layer.input)
            } else {
                be.view(&ws.x, 0..rows * layer.input)
            };
            let y = be.view(&ws.enc_act[i], 0..rows * layer.output);
            let (before, from_i) = ws.d_enc_act.split_at_mut(i);
            let dy = be.view(&from_i[0], 0..rows * layer.output);
            // The input's gradient is not needed: nothing trainable lies below.
            let dx = if i > 0 {
                Some((&mut before[i - 1], false))
            } else {
                None
            };
            dense_backward(
                be,
                layer,
                rows,
                p,
                x,
                y,
                dy,
                &mut ws.d_pre,
                &mut ws.grads,
                dx,
            );
        }
        Ok(())
    }

    /// Encodes the first `rows` rows of `ws.x` (with `ws.cond` for the CVAE)
    /// and downloads `mu` and `logvar` (the AE's code into `mu`; `logvar`
    /// untouched for the AE). Host slices must hold `rows * latent` values.
    pub fn encode(
        &self,
        ws: &mut Workspace<B>,
        rows: usize,
        mu: &mut [f32],
        logvar: &mut [f32],
    ) -> Result<()> {
        self.check_rows(ws, rows)?;
        let n = rows * self.shape.latent;
        crate::error::check_len("encoded mu", mu.len(), &[rows, self.shape.latent])?;
        self.encode_forward(ws, rows);
        let be = &self.backend;
        be.download(be.view(&ws.mu, 0..n), mu);
        if self.shape.kind.is_variational() {
            crate::error::check_len("encoded logvar", logvar.len(), &[rows, self.shape.latent])?;
            be.download(be.view(&ws.logvar, 0..n), logvar);
        }
        Ok(())
    }
}

/// `y = act(x W^T + b)` for `x: [rows, in]`, `W: [out, in]`, `y: [rows, out]`.
fn dense_forward<B: Backend>(
    be: &B,
    l: &DenseSpec,
    rows: usize,
    params: &B::Buf,
    x: B::View<'_>,
    y: &mut B::Buf,
) {
    let w = be.view(params, l.weight.clone());
    be.gemm(
        Transpose::No,
        Transpose::Yes,
        rows,
        l.output,
        l.input,
        1.0,
        x,
        w,
        0.0,
        be.view_mut(y, 0..rows * l.output),
    );
    be.bias_act_forward(
        l.act,
        l.output,
        be.view(params, l.bias.clone()),
        be.view_mut(y, 0..rows * l.output),
    );
}

/// Backward of `dense_forward` given `dy` (gradient w.r.t. its output `y`):
/// overwrites the layer's weight and bias gradients, and writes (or with
/// `accumulate`, adds) `dx = dpre W` when a target is given.
#[allow(clippy::too_many_arguments)]
fn dense_backward<'a, B: Backend>(
    be: &B,
    l: &DenseSpec,
    rows: usize,
    params: &B::Buf,
    x: B::View<'_>,
    y: B::View<'_>,
    dy: B::View<'a>,
    d_pre: &'a mut B::Buf,
    grads: &mut B::Buf,
    dx: Option<(&mut B::Buf, bool)>,
) {
    let n = rows * l.output;
    // A linear layer's pre-activation gradient is dy itself.
    let dpre = if l.act == Activation::Identity {
        dy
    } else {
        be.act_backward(l.act, y, dy, be.view_mut(&mut *d_pre, 0..n));
        let d_pre: &'a B::Buf = d_pre;
        be.view(d_pre, 0..n)
    };
    be.gemm(
        Transpose::Yes,
        Transpose::No,
        l.output,
        l.input,
        rows,
        1.0,
        dpre,
        x,
        0.0,
        be.view_mut(grads, l.weight.clone()),
    );
    be.col_sum(l.output, dpre, be.view_mut(grads, l.bias.clone()), false);
    if let Some((dx, accumulate)) = dx {
        let beta = if accumulate { 1.0 } else { 0.0 };
        be.gemm(
            Transpose::No,
            Transpose::No,
            rows,
            l.input,
            l.output,
            1.0,
            dpre,
            be.view(params, l.weight.clone()),
            beta,
            be.view_mut(dx, 0..rows * l.input),
        );
    }
}
