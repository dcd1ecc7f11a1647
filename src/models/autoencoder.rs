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

use crate::backend::{Activation, Backend};
use crate::error::{Error, Result};
use crate::nn::dense::{Dense, InputGrad};
use crate::nn::gaussian::Gaussian;
use crate::nn::loss::sse;
use crate::nn::params::ParamLayout;
use serde::{Deserialize, Serialize};

/// Which feature learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
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
    /// The lower-case name used on the command line and in files: `ae`, `vae`, `cvae`.
    pub fn as_str(self) -> &'static str {
        match self {
            LearnerKind::Ae => "ae",
            LearnerKind::Vae => "vae",
            LearnerKind::Cvae => "cvae",
        }
    }

    /// The kind named by [`LearnerKind::as_str`]'s spelling; `None` for any other string.
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
    /// Which learner these sizes are for.
    pub kind: LearnerKind,
    /// Values per input row (800 for a 100 ms segment).
    pub input: usize,
    /// Length of the one-hot condition (CVAE); 0 for AE and VAE.
    pub conditions: usize,
    /// Encoder hidden widths, input side first; the decoder mirrors them.
    pub hidden: Vec<usize>,
    /// Size of the latent code (`L`): the features the classifier reads.
    pub latent: usize,
}

impl AutoencoderShape {
    /// Errors (shape) unless every size is positive with at least one hidden
    /// layer, the parameter count is within [`crate::limits`], and only a CVAE
    /// has (and it must have) conditions.
    pub fn validate(&self) -> Result<()> {
        if self.input == 0 || self.latent == 0 || self.hidden.is_empty() || self.hidden.contains(&0)
        {
            return Err(Error::shape(format!(
                "autoencoder sizes must be positive, with at least one hidden layer: \
                 input {}, hidden {:?}, latent {}",
                self.input, self.hidden, self.latent
            )));
        }
        crate::limits::autoencoder_params(
            self.input,
            self.conditions,
            &self.hidden,
            self.latent,
            self.kind.is_variational(),
        )
        .map_err(Error::shape)?;
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

/// An autoencoder's structure: its layers and where their tensors live in a
/// parameter arena. Stateless: the parameters (on a backend) and a
/// [`Workspace`] are the caller's, as in `nn/`.
#[derive(Clone, Debug)]
pub struct Autoencoder {
    shape: AutoencoderShape,
    layout: ParamLayout,
    encoder: Vec<Dense>,
    /// `mu` for VAE/CVAE, `code` for the AE.
    head_mu: Dense,
    head_logvar: Option<Dense>,
    gaussian: Gaussian,
    decoder: Vec<Dense>,
    /// Beta, the KL term's weight in the loss the backward pass differentiates.
    kl_weight: f32,
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
    /// `reconstruction + kl`: the loss with a KL weight of 1.
    pub fn total(&self) -> f32 {
        self.reconstruction + self.kl
    }

    /// The losses of a batch of `rows` rows from the two slots `forward`
    /// wrote (downloaded): the mean reconstruction loss and the summed KL.
    pub fn from_slots(recon: f32, kl_sum: f32, rows: usize) -> LossParts {
        LossParts {
            reconstruction: recon,
            kl: kl_sum / rows as f32,
        }
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
    /// `[cap, D + K]`: input and condition side by side (CVAE only).
    enc_in: B::Buf,
    enc_act: Vec<B::Buf>,
    mu: B::Buf,
    logvar: B::Buf,
    z: B::Buf,
    /// `[cap, L + K]`: code and condition side by side (CVAE only).
    dec_in: B::Buf,
    dec_act: Vec<B::Buf>,
    d_enc_act: Vec<B::Buf>,
    d_dec_act: Vec<B::Buf>,
    d_dec_in: B::Buf,
    dz: B::Buf,
    dmu: B::Buf,
    dlogvar: B::Buf,
    /// Scratch for a layer's pre-activation gradient (the widest layer).
    d_pre: B::Buf,
}

impl<B: Backend> Workspace<B> {
    /// Rows the workspace holds: the largest batch a pass can take.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl Autoencoder {
    /// The layers of `shape`; their parameters are laid out as [`Autoencoder::layout`].
    pub fn new(shape: AutoencoderShape) -> Result<Self> {
        shape.validate()?;
        let mut layout = ParamLayout::new();
        let mut encoder = Vec::new();
        let mut width = shape.encoder_input();
        for (i, &h) in shape.hidden.iter().enumerate() {
            let name = format!("encoder.{}", 2 * i);
            encoder.push(Dense::new(&mut layout, &name, width, h, Activation::Relu));
            width = h;
        }
        let variational = shape.kind.is_variational();
        let mu_name = if variational { "mu" } else { "code" };
        let head_mu = Dense::new(
            &mut layout,
            mu_name,
            width,
            shape.latent,
            Activation::Identity,
        );
        let head_logvar = variational.then(|| {
            Dense::new(
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
            decoder.push(Dense::new(&mut layout, &name, width, h, Activation::Relu));
            width = h;
        }
        let name = format!("decoder.{}", 2 * shape.hidden.len());
        decoder.push(Dense::new(
            &mut layout,
            &name,
            width,
            shape.input,
            Activation::Identity,
        ));
        Ok(Autoencoder {
            gaussian: Gaussian::new(shape.latent),
            shape,
            layout,
            encoder,
            head_mu,
            head_logvar,
            decoder,
            kl_weight: 1.0,
        })
    }

    /// Sets beta, the weight of the KL term in the training loss (1 by default).
    pub fn set_kl_weight(&mut self, beta: f32) {
        self.kl_weight = beta;
    }

    /// The sizes the model was built from.
    pub fn shape(&self) -> &AutoencoderShape {
        &self.shape
    }

    /// Names, shapes and arena ranges of every tensor (see the module docs).
    pub fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    /// PyTorch's nn.Linear initialisation (weight and bias uniform in
    /// `±1/sqrt(fan_in)`), layer by layer in the layout's order, into the
    /// host copy of the arena.
    pub fn init(&self, rng: &mut impl rand::Rng, host_params: &mut [f32]) -> Result<()> {
        crate::error::check_len(
            "autoencoder parameters",
            host_params.len(),
            &[self.layout.len()],
        )?;
        for layer in self.all_layers() {
            layer.init(rng, host_params)?;
        }
        Ok(())
    }

    fn all_layers(&self) -> Vec<&Dense> {
        let mut v: Vec<&Dense> = self.encoder.iter().collect();
        v.push(&self.head_mu);
        v.extend(self.head_logvar.iter());
        v.extend(self.decoder.iter());
        v
    }

    /// Buffers for batches of up to `capacity` rows.
    pub fn workspace<B: Backend>(&self, be: &B, capacity: usize) -> Result<Workspace<B>> {
        if capacity == 0 {
            return Err(Error::shape("a workspace needs room for at least one row"));
        }
        let s = &self.shape;
        let rows = |w: usize| be.alloc(capacity * w);
        let outputs = |layers: &[Dense]| -> Result<Vec<B::Buf>> {
            layers.iter().map(|l| rows(l.outputs())).collect()
        };
        let widest = self
            .all_layers()
            .iter()
            .map(|l| l.outputs())
            .max()
            .unwrap_or(0);
        let cvae = s.conditions > 0;
        Ok(Workspace {
            capacity,
            x: rows(s.input)?,
            cond: rows(s.conditions)?,
            eps: rows(s.latent)?,
            enc_in: rows(if cvae { s.encoder_input() } else { 0 })?,
            enc_act: outputs(&self.encoder)?,
            mu: rows(s.latent)?,
            logvar: rows(s.latent)?,
            z: rows(s.latent)?,
            dec_in: rows(if cvae { s.decoder_input() } else { 0 })?,
            dec_act: outputs(&self.decoder)?,
            d_enc_act: outputs(&self.encoder)?,
            d_dec_act: outputs(&self.decoder)?,
            d_dec_in: rows(if cvae { s.decoder_input() } else { 0 })?,
            dz: rows(s.latent)?,
            dmu: rows(s.latent)?,
            dlogvar: rows(s.latent)?,
            d_pre: rows(widest)?,
        })
    }

    fn check_rows<B: Backend>(&self, ws: &Workspace<B>, rows: usize) -> Result<()> {
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
    fn encode_forward<B: Backend>(
        &self,
        be: &B,
        p: &B::Buf,
        ws: &mut Workspace<B>,
        rows: usize,
    ) -> Result<()> {
        let s = &self.shape;
        if s.conditions > 0 {
            let (d, k, w) = (s.input, s.conditions, s.encoder_input());
            let n = rows * w;
            be.copy_block(
                rows,
                d,
                be.view(&ws.x, 0..rows * d),
                d,
                0,
                be.view_mut(&mut ws.enc_in, 0..n),
                w,
                0,
            )?;
            be.copy_block(
                rows,
                k,
                be.view(&ws.cond, 0..rows * k),
                k,
                0,
                be.view_mut(&mut ws.enc_in, 0..n),
                w,
                d,
            )?;
        }
        let input = if s.conditions > 0 { &ws.enc_in } else { &ws.x };
        for (i, layer) in self.encoder.iter().enumerate() {
            let (done, rest) = ws.enc_act.split_at_mut(i);
            let x = done.last().unwrap_or(input);
            layer.forward(be, rows, p, x, &mut rest[0])?;
        }
        let h = ws.enc_act.last().expect("at least one hidden layer");
        self.head_mu.forward(be, rows, p, h, &mut ws.mu)?;
        if let Some(lv) = &self.head_logvar {
            lv.forward(be, rows, p, h, &mut ws.logvar)?;
        }
        Ok(())
    }

    /// Forward pass over the first `rows` rows of `ws.x` (with `ws.cond` for
    /// the CVAE and `ws.eps` for VAE/CVAE) with parameters `p`. Writes the
    /// mean reconstruction loss into `recon[0]` and the KL divergence summed
    /// over the rows into `kl_sum[0]` (0 for the AE; [`LossParts::from_slots`]
    /// turns the two into means), and the gradient of the reconstruction
    /// loss w.r.t. the output, ready for `backward`.
    #[allow(clippy::too_many_arguments)]
    pub fn forward<B: Backend>(
        &self,
        be: &B,
        p: &B::Buf,
        ws: &mut Workspace<B>,
        rows: usize,
        recon: B::ViewMut<'_>,
        kl_sum: B::ViewMut<'_>,
    ) -> Result<()> {
        self.check_rows(ws, rows)?;
        let s = &self.shape;
        let l = s.latent;
        self.encode_forward(be, p, ws, rows)?;
        let variational = s.kind.is_variational();
        if variational {
            self.gaussian
                .forward(be, rows, &ws.mu, &ws.logvar, &ws.eps, &mut ws.z, kl_sum)?;
        } else {
            be.fill(kl_sum, 0.0)?;
        }
        // The decoder reads z (VAE/CVAE) or the code (AE), with the
        // condition appended for the CVAE.
        let code = if variational { &ws.z } else { &ws.mu };
        if s.conditions > 0 {
            let (k, w) = (s.conditions, s.decoder_input());
            let n = rows * w;
            be.copy_block(
                rows,
                l,
                be.view(code, 0..rows * l),
                l,
                0,
                be.view_mut(&mut ws.dec_in, 0..n),
                w,
                0,
            )?;
            be.copy_block(
                rows,
                k,
                be.view(&ws.cond, 0..rows * k),
                k,
                0,
                be.view_mut(&mut ws.dec_in, 0..n),
                w,
                l,
            )?;
        }
        let input = if s.conditions > 0 { &ws.dec_in } else { code };
        for (i, layer) in self.decoder.iter().enumerate() {
            let (done, rest) = ws.dec_act.split_at_mut(i);
            let x = done.last().unwrap_or(input);
            layer.forward(be, rows, p, x, &mut rest[0])?;
        }
        let out = ws.dec_act.last().expect("decoder output");
        let d_out = ws.d_dec_act.last_mut().expect("decoder output");
        sse(be, rows, s.input, out, &ws.x, d_out, recon)
    }

    /// Backward pass of the last `forward` over the same rows and parameters
    /// `p`: overwrites `grads` (the layout's length) with the gradient of the
    /// mean loss (reconstruction + KL).
    pub fn backward<B: Backend>(
        &self,
        be: &B,
        p: &B::Buf,
        grads: &mut B::Buf,
        ws: &mut Workspace<B>,
        rows: usize,
    ) -> Result<()> {
        self.check_rows(ws, rows)?;
        let s = &self.shape;
        let l = s.latent;
        let variational = s.kind.is_variational();
        let n_grads = self.layout.len();
        crate::error::check_len("autoencoder gradients", be.len(grads), &[n_grads])?;
        // The dense layers accumulate their parameter gradients.
        be.fill(be.view_mut(grads, 0..n_grads), 0.0)?;

        let code = if variational { &ws.z } else { &ws.mu };
        let dec_input = if s.conditions > 0 { &ws.dec_in } else { code };
        for (i, layer) in self.decoder.iter().enumerate().rev() {
            let x = if i > 0 { &ws.dec_act[i - 1] } else { dec_input };
            let (before, from_i) = ws.d_dec_act.split_at_mut(i);
            let dx = if i > 0 {
                &mut before[i - 1]
            } else if s.conditions > 0 {
                &mut ws.d_dec_in
            } else if variational {
                &mut ws.dz
            } else {
                &mut ws.dmu
            };
            layer.backward(
                be,
                rows,
                p,
                x,
                &ws.dec_act[i],
                &from_i[0],
                &mut ws.d_pre,
                grads,
                InputGrad::Overwrite(dx),
            )?;
        }
        if s.conditions > 0 {
            // The condition is an input, not a parameter: only the code's
            // columns of the decoder input's gradient flow on.
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
            )?;
        }
        if variational {
            self.gaussian.backward(
                be,
                rows,
                self.kl_weight / rows as f32,
                &ws.mu,
                &ws.logvar,
                &ws.eps,
                &ws.dz,
                &mut ws.dmu,
                &mut ws.dlogvar,
            )?;
        }
        let n_enc = self.encoder.len();
        let h = &ws.enc_act[n_enc - 1];
        let dh = ws.d_enc_act.last_mut().expect("at least one hidden layer");
        self.head_mu.backward(
            be,
            rows,
            p,
            h,
            &ws.mu,
            &ws.dmu,
            &mut ws.d_pre,
            grads,
            InputGrad::Overwrite(&mut *dh),
        )?;
        if let Some(lv) = &self.head_logvar {
            lv.backward(
                be,
                rows,
                p,
                h,
                &ws.logvar,
                &ws.dlogvar,
                &mut ws.d_pre,
                grads,
                InputGrad::Accumulate(&mut *dh),
            )?;
        }
        let input = if s.conditions > 0 { &ws.enc_in } else { &ws.x };
        for (i, layer) in self.encoder.iter().enumerate().rev() {
            let x = if i > 0 { &ws.enc_act[i - 1] } else { input };
            let (before, from_i) = ws.d_enc_act.split_at_mut(i);
            // The input's gradient is not needed: nothing trainable lies below.
            let dx = if i > 0 {
                InputGrad::Overwrite(&mut before[i - 1])
            } else {
                InputGrad::Skip
            };
            layer.backward(
                be,
                rows,
                p,
                x,
                &ws.enc_act[i],
                &from_i[0],
                &mut ws.d_pre,
                grads,
                dx,
            )?;
        }
        Ok(())
    }

    /// Encodes the first `rows` rows of `ws.x` (with `ws.cond` for the CVAE)
    /// and downloads `mu` and `logvar` (the AE's code into `mu`; `logvar`
    /// untouched for the AE). Host slices must hold `rows * latent` values.
    pub fn encode<B: Backend>(
        &self,
        be: &B,
        p: &B::Buf,
        ws: &mut Workspace<B>,
        rows: usize,
        mu: &mut [f32],
        logvar: &mut [f32],
    ) -> Result<()> {
        self.check_rows(ws, rows)?;
        let l = self.shape.latent;
        crate::error::check_len("encoded mu", mu.len(), &[rows, l])?;
        if self.shape.kind.is_variational() {
            crate::error::check_len("encoded logvar", logvar.len(), &[rows, l])?;
        }
        self.encode_forward(be, p, ws, rows)?;
        be.download(be.view(&ws.mu, 0..rows * l), mu)?;
        if self.shape.kind.is_variational() {
            be.download(be.view(&ws.logvar, 0..rows * l), logvar)?;
        }
        Ok(())
    }
}
