//! The operations model code is written against. The CPU implementation lives
//! in `cpu/`; a CUDA implementation can implement the same trait without any
//! change to `nn/` or `models/`.
//!
//! Conventions shared by every method:
//! - matrices are row-major and contiguous; shapes are given in the doc comment
//!   of each method as `[rows, cols]`;
//! - activation gradients overwrite their output, parameter gradients are
//!   accumulated only where the method says so (`accumulate`);
//! - no method allocates; scratch is owned by the caller;
//! - no reduction depends on how work is split among threads, so results are
//!   bit-identical whatever the thread count.

pub mod cpu;

use crate::error::Result;

/// Element-wise activation applied after a bias add.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Identity,
    Relu,
    Tanh,
    Sigmoid,
}

/// Whether an operand of a GEMM is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    No,
    Yes,
}

/// Adam hyper-parameters and the step counter used for bias correction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// 1-based step number (bias correction uses beta^step).
    pub step: u32,
}

/// A numeric backend: owns device memory and runs the kernels.
///
/// `Buf` is an owned buffer of `f32`; `View`/`ViewMut` borrow a contiguous
/// range of one. On the CPU these are `Vec<f32>`, `&[f32]` and `&mut [f32]`.
pub trait Backend: Sync {
    type Buf: Send + Sync;
    type View<'a>: Copy
    where
        Self: 'a;
    type ViewMut<'a>
    where
        Self: 'a;

    /// A zero-filled buffer of `len` values.
    fn alloc(&self, len: usize) -> Result<Self::Buf>;
    fn len(&self, buf: &Self::Buf) -> usize;
    fn view<'a>(&self, buf: &'a Self::Buf, range: std::ops::Range<usize>) -> Self::View<'a>;
    fn view_mut<'a>(
        &self,
        buf: &'a mut Self::Buf,
        range: std::ops::Range<usize>,
    ) -> Self::ViewMut<'a>;
    /// Disjoint mutable views of one buffer (ranges must be sorted and not overlap).
    fn split_mut<'a>(
        &self,
        buf: &'a mut Self::Buf,
        ranges: &[std::ops::Range<usize>],
    ) -> Vec<Self::ViewMut<'a>>;

    /// Host -> backend copy of `src.len()` values into `dst`.
    fn upload(&self, src: &[f32], dst: Self::ViewMut<'_>);
    /// Backend -> host copy.
    fn download(&self, src: Self::View<'_>, dst: &mut [f32]);
    /// `dst = value` everywhere.
    fn fill(&self, dst: Self::ViewMut<'_>, value: f32);
    /// Copies a `[rows, width]` block between matrices of different widths:
    /// `dst[r, dst_col0 + j] = src[r, src_col0 + j]` for `j < width`. Used for
    /// concatenating conditions to inputs and for slicing their gradients back.
    #[allow(clippy::too_many_arguments)]
    fn copy_block(
        &self,
        rows: usize,
        width: usize,
        src: Self::View<'_>,
        src_cols: usize,
        src_col0: usize,
        dst: Self::ViewMut<'_>,
        dst_cols: usize,
        dst_col0: usize,
    );

    /// `C[m, n] = alpha * op(A) op(B) + beta * C` where `op(A)` is `[m, k]` and
    /// `op(B)` is `[k, n]`. `A` is stored `[m, k]` (No) or `[k, m]` (Yes); `B`
    /// is stored `[k, n]` (No) or `[n, k]` (Yes). With `beta == 0` the old
    /// contents of `C` are ignored (NaNs included).
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        &self,
        ta: Transpose,
        tb: Transpose,
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: Self::View<'_>,
        b: Self::View<'_>,
        beta: f32,
        c: Self::ViewMut<'_>,
    );

    /// In place on `x: [rows, cols]`: `x = act(x + bias)` with `bias: [cols]`.
    fn bias_act_forward(
        &self,
        act: Activation,
        cols: usize,
        bias: Self::View<'_>,
        x: Self::ViewMut<'_>,
    );
    /// `dx = dy * act'(.)` where the derivative is computed from the
    /// activation's output `y` (all of ReLU, tanh and sigmoid allow that).
    /// Overwrites `dx`; `dx` may not alias `dy`.
    fn act_backward(
        &self,
        act: Activation,
        y: Self::View<'_>,
        dy: Self::View<'_>,
        dx: Self::ViewMut<'_>,
    );
    /// Column sums of `x: [rows, cols]` into `out: [cols]`, rows added in
    /// order 0, 1, 2, ... whatever the thread count; `accumulate` adds to `out`
    /// instead of overwriting it.
    fn col_sum(&self, cols: usize, x: Self::View<'_>, out: Self::ViewMut<'_>, accumulate: bool);

    /// One LSTM time step for a batch, pointwise part (gate order i, f, g, o).
    /// `gates: [batch, 4H]` holds the pre-activations `x W_ih^T + h W_hh^T`
    /// on entry (bias not yet added) and the activated gates on exit (rows of
    /// inactive sequences are left as they were). `bias: [4H]` is
    /// `b_ih + b_hh`. `c` and `h` are `[2, batch, H]`: the first `batch` rows
    /// hold the previous step's state (read only), the second the new state
    /// (written). Keeping both steps in one view lets a sequence's states lie
    /// contiguously in one buffer (`[T + 1, batch, H]`), as the weight-gradient
    /// GEMMs need. `active[b]` is false for a sequence already past its end:
    /// its state is carried, `c = c_prev`, `h = h_prev`.
    fn lstm_cell_forward(
        &self,
        hidden: usize,
        active: &[bool],
        bias: Self::View<'_>,
        gates: Self::ViewMut<'_>,
        c: Self::ViewMut<'_>,
        h: Self::ViewMut<'_>,
    );
    /// Backward of `lstm_cell_forward`. Inputs: the activated `gates`,
    /// `c_prev`, `c` (each `[batch, H]`), and the incoming gradients `dh`
    /// (from above and from the next step, already summed) and `dc` (from the
    /// next step). Outputs: `dgates: [batch, 4H]` (gradient of the
    /// pre-activations; zero for inactive rows), and in place `dc` becomes the
    /// gradient w.r.t. `c_prev`. `dh_carry` holds on entry whatever gradient
    /// w.r.t. `h_prev` has been collected so far (e.g. from the layer above);
    /// rows of inactive sequences get `dh` added (their carried state passes
    /// its gradient back unchanged), rows of active ones are left alone (the
    /// recurrent GEMM `dh_carry += dgates W_hh` adds their part).
    #[allow(clippy::too_many_arguments)]
    fn lstm_cell_backward(
        &self,
        hidden: usize,
        active: &[bool],
        gates: Self::View<'_>,
        c_prev: Self::View<'_>,
        c: Self::View<'_>,
        dh: Self::View<'_>,
        dc: Self::ViewMut<'_>,
        dgates: Self::ViewMut<'_>,
        dh_carry: Self::ViewMut<'_>,
    );

    /// Reparameterisation `z = mu + eps * exp(0.5 logvar)` over `[rows, L]`;
    /// returns the KL divergence to N(0, I) summed over all values
    /// (`-0.5 * sum(1 + logvar - mu^2 - exp(logvar))`).
    fn gaussian_forward(
        &self,
        mu: Self::View<'_>,
        logvar: Self::View<'_>,
        eps: Self::View<'_>,
        z: Self::ViewMut<'_>,
    ) -> f32;
    /// Backward of `gaussian_forward` for the loss `L(z) + kl_scale * KL`:
    /// overwrites `dmu` and `dlogvar` given `dz`.
    #[allow(clippy::too_many_arguments)]
    fn gaussian_backward(
        &self,
        kl_scale: f32,
        mu: Self::View<'_>,
        logvar: Self::View<'_>,
        eps: Self::View<'_>,
        dz: Self::View<'_>,
        dmu: Self::ViewMut<'_>,
        dlogvar: Self::ViewMut<'_>,
    );

    /// Summed squared error over each row, averaged over `rows`:
    /// returns `sum((pred - target)^2) / rows` and writes its gradient
    /// `2 (pred - target) / rows` into `dpred`.
    fn sse_loss(
        &self,
        rows: usize,
        pred: Self::View<'_>,
        target: Self::View<'_>,
        dpred: Self::ViewMut<'_>,
    ) -> f32;
    /// Softmax cross-entropy from `logits: [rows, classes]`, averaged over
    /// rows. Writes the softmax probabilities into `probs` and the gradient of
    /// the mean loss w.r.t. the logits into `dlogits`; returns the mean loss.
    fn softmax_xent(
        &self,
        classes: usize,
        logits: Self::View<'_>,
        labels: &[u32],
        probs: Self::ViewMut<'_>,
        dlogits: Self::ViewMut<'_>,
    ) -> f32;

    /// One Adam step over a whole parameter arena, in place on `params`, `m`
    /// and `v` (all the same length as `grads`).
    fn adam(
        &self,
        hp: AdamStep,
        params: Self::ViewMut<'_>,
        grads: Self::View<'_>,
        m: Self::ViewMut<'_>,
        v: Self::ViewMut<'_>,
    );
}
