//! Adam (Kingma and Ba) over a whole parameter arena, with bias correction,
//! in PyTorch's formulation (no weight decay, no amsgrad):
//!
//! ```text
//! m = b1 m + (1 - b1) g
//! v = b2 v + (1 - b2) g^2
//! p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//! ```
//!
//! ```text
//! let mut arena = ParamArena::from_host(&backend, layout, &host_params)?;
//! let mut adam = Adam::new(&backend, arena.len(), 1e-3, AdamPreset::Default)?;
//! loop {
//!     arena.zero_grads(&backend);
//!     ... forward, loss, backward (accumulating into arena.grads) ...
//!     adam.step(&backend, &mut arena.params, &arena.grads)?;
//! }
//! ```

use crate::backend::{AdamStep, Backend};
use crate::config::AdamPreset;
use crate::error::{Error, Result};

/// Adam's state for one arena: the moment estimates `m` and `v` (on the
/// backend, the arena's length) and the number of steps taken.
pub struct Adam<B: Backend> {
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    steps: u32,
    m: B::Buf,
    v: B::Buf,
}

impl<B: Backend> Adam<B> {
    /// Adam for an arena of `len` parameters with the preset's betas and
    /// eps 1e-8 (`Default`: 0.9, 0.999; `Paper`: 0.999, 0.99).
    pub fn new(backend: &B, len: usize, lr: f32, preset: AdamPreset) -> Result<Self> {
        let (beta1, beta2) = preset.betas();
        Self::with_betas(backend, len, lr, beta1, beta2, 1e-8)
    }

    /// Adam with explicit hyper-parameters. Errors unless `lr > 0`,
    /// `0 <= beta < 1` and `eps > 0`.
    pub fn with_betas(
        backend: &B,
        len: usize,
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
    ) -> Result<Self> {
        let ok = lr > 0.0
            && lr.is_finite()
            && (0.0..1.0).contains(&beta1)
            && (0.0..1.0).contains(&beta2)
            && eps > 0.0
            && eps.is_finite();
        if !ok {
            return Err(Error::config(format!(
                "Adam needs lr > 0, betas in [0, 1) and eps > 0; got lr {lr}, betas ({beta1}, {beta2}), eps {eps}"
            )));
        }
        Ok(Self {
            lr,
            beta1,
            beta2,
            eps,
            steps: 0,
            m: backend.alloc(len)?,
            v: backend.alloc(len)?,
        })
    }

    /// One step over the whole arena: updates `params` in place from
    /// `grads`. Errors if either buffer's length differs from the state's.
    pub fn step(&mut self, backend: &B, params: &mut B::Buf, grads: &B::Buf) -> Result<()> {
        let n = backend.len(&self.m);
        let (np, ng) = (backend.len(params), backend.len(grads));
        if np != n || ng != n {
            return Err(Error::shape(format!(
                "Adam over {n} parameters given params of {np} and grads of {ng} values"
            )));
        }
        self.steps += 1;
        let hp = AdamStep {
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            step: self.steps,
        };
        backend.adam(
            hp,
            backend.view_mut(params, 0..n),
            backend.view(grads, 0..n),
            backend.view_mut(&mut self.m, 0..n),
            backend.view_mut(&mut self.v, 0..n),
        )
    }

    /// Steps taken so far (the `t` of the bias correction of the last step).
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// The learning rate the next step uses.
    pub fn lr(&self) -> f32 {
        self.lr
    }

    /// Changes the learning rate for the following steps.
    pub fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }

    /// The decay rates `(beta1, beta2)` of the first and second moments.
    pub fn betas(&self) -> (f32, f32) {
        (self.beta1, self.beta2)
    }

    /// Forgets all history: zero moments, step count 0.
    pub fn reset(&mut self, backend: &B) -> Result<()> {
        let n = backend.len(&self.m);
        backend.fill(backend.view_mut(&mut self.m, 0..n), 0.0)?;
        backend.fill(backend.view_mut(&mut self.v, 0..n), 0.0)?;
        self.steps = 0;
        Ok(())
    }

    /// The first and second moment estimates (e.g. for a checkpoint).
    pub fn moments(&self) -> (&B::Buf, &B::Buf) {
        (&self.m, &self.v)
    }
}
