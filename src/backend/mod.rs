//! The operations model code is written against. The CPU implementation lives
//! in `cpu/`; a GPU implementation implements the same trait, and `nn/`,
//! `models/`, `train/` and `eval/` run on it unchanged.
//!
//! The trait is shaped for memory the host cannot touch directly:
//! - buffers (`Buf` of `f32`, `Index` of `u32`) live on the backend; the host
//!   reaches them only through `upload`/`download`;
//! - what a kernel needs inside a step loop is on the backend too: sequence
//!   lengths and class labels are `Index` buffers, uploaded once per batch;
//! - losses are written into slots of a backend buffer (`loss`, one value)
//!   instead of being returned, so a training loop downloads them once per
//!   epoch rather than synchronising at every step;
//! - every compute method is fallible (a kernel launch can fail) and may run
//!   asynchronously: `download` and `synchronize` are the only points where
//!   the host waits.
//!
//! Conventions shared by every method:
//! - matrices are row-major; GEMM operands carry a leading dimension (the
//!   distance between rows, see [`Gemm`]), every other matrix is contiguous,
//!   shapes given in the doc comment of each method as `[rows, cols]`;
//! - activation gradients overwrite their output, parameter gradients are
//!   accumulated only where the method says so (`accumulate`, `beta`);
//! - no method allocates; scratch is owned by the caller;
//! - no reduction depends on how work is split among threads or blocks, so
//!   results are bit-identical whatever the thread count;
//! - padding never changes a result: a sequence gets bit for bit the same
//!   outputs alone and inside a padded batch on the CPU, and within
//!   [`BATCH_TOLERANCE`] where [`Backend::BATCH_INVARIANT_BITS`] is false.

pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
// Compiled without the `cuda` feature too: the kernel compile test reads it.
mod device;
pub mod kernel_sources;

pub use device::Device;

use crate::error::Result;
use std::borrow::Cow;
use std::ops::Range;

/// Element-wise activation applied after a bias add.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `y = x`: no activation (a linear layer).
    Identity,
    /// `y = max(x, 0)`.
    Relu,
    /// `y = tanh(x)`.
    Tanh,
    /// `y = 1 / (1 + exp(-x))`.
    Sigmoid,
}

/// How far a sequence's outputs and gradients may move between batches on
/// a backend whose results are not batch-invariant to the bit
/// ([`Backend::BATCH_INVARIANT_BITS`]): this fraction of the largest
/// magnitude of the compared tensor. Rounding differences of a few ulp per
/// product stay far below it; a padded step that leaked into a result
/// would not.
pub const BATCH_TOLERANCE: f32 = 1e-4;

/// Whether an operand of a GEMM is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    /// The operand is used as stored.
    No,
    /// The operand is stored transposed (`[cols, rows]` of the logical shape).
    Yes,
}

/// Adam hyper-parameters and the step counter used for bias correction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    /// Learning rate (step size before bias correction).
    pub lr: f32,
    /// Decay rate of the first-moment (mean) estimate, in `[0, 1)`.
    pub beta1: f32,
    /// Decay rate of the second-moment (uncentred variance) estimate, in `[0, 1)`.
    pub beta2: f32,
    /// Added to the bias-corrected `sqrt(v)` in the denominator (PyTorch's placement).
    pub eps: f32,
    /// 1-based step number (bias correction uses beta^step).
    pub step: u32,
}

/// One GEMM `C[m, n] = alpha * op(A) op(B) + beta * C`, with `op(A)` of shape
/// `[m, k]` and `op(B)` of shape `[k, n]`, all row-major.
///
/// `A` is stored `[m, k]` (`ta = No`) or `[k, m]` (`Yes`) with `lda` values
/// from one stored row to the next; likewise `B`, stored `[k, n]` or `[n, k]`
/// with `ldb`, and `C`, stored `[m, n]` with `ldc`. A leading dimension larger
/// than the row's width reads a block of columns out of a wider matrix in
/// place (e.g. the gate columns of one step, or one part of a concatenation).
/// With `beta == 0` the old contents of `C` are ignored (NaNs included).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gemm {
    /// Whether `A` is stored transposed.
    pub ta: Transpose,
    /// Whether `B` is stored transposed.
    pub tb: Transpose,
    /// Rows of `op(A)` and of `C`.
    pub m: usize,
    /// Columns of `op(B)` and of `C`.
    pub n: usize,
    /// Columns of `op(A)`, rows of `op(B)`: the summed dimension.
    pub k: usize,
    /// Scale of the product.
    pub alpha: f32,
    /// Scale of the old `C`; `0` overwrites `C`, `1` accumulates into it.
    pub beta: f32,
    /// Values from one stored row of `A` to the next; at least its stored width.
    pub lda: usize,
    /// Values from one stored row of `B` to the next; at least its stored width.
    pub ldb: usize,
    /// Values from one row of `C` to the next; at least `n`.
    pub ldc: usize,
}

impl Gemm {
    /// `C = op(A) op(B)` over contiguous operands (alpha 1, beta 0).
    pub fn new(ta: Transpose, tb: Transpose, m: usize, n: usize, k: usize) -> Self {
        Gemm {
            ta,
            tb,
            m,
            n,
            k,
            alpha: 1.0,
            beta: 0.0,
            lda: if ta == Transpose::No { k } else { m },
            ldb: if tb == Transpose::No { n } else { k },
            ldc: n,
        }
    }
    /// The same product scaled by `alpha`.
    pub fn alpha(self, alpha: f32) -> Self {
        Gemm { alpha, ..self }
    }
    /// `beta = 1` accumulates into C.
    pub fn beta(self, beta: f32) -> Self {
        Gemm { beta, ..self }
    }
    /// Reads `A` with leading dimension `lda` (a block of a wider matrix).
    pub fn lda(self, lda: usize) -> Self {
        Gemm { lda, ..self }
    }
    /// Reads `B` with leading dimension `ldb` (a block of a wider matrix).
    pub fn ldb(self, ldb: usize) -> Self {
        Gemm { ldb, ..self }
    }
    /// Writes `C` with leading dimension `ldc` (a block of a wider matrix).
    pub fn ldc(self, ldc: usize) -> Self {
        Gemm { ldc, ..self }
    }

    /// Stored rows and columns of A (and the same for B, C).
    fn stored(t: Transpose, rows: usize, cols: usize) -> (usize, usize) {
        match t {
            Transpose::No => (rows, cols),
            Transpose::Yes => (cols, rows),
        }
    }

    /// Values each operand's buffer must hold at least, `(a, b, c)`.
    pub fn extents(&self) -> (usize, usize, usize) {
        let extent = |(rows, cols): (usize, usize), ld: usize| {
            if rows == 0 || cols == 0 {
                0
            } else {
                (rows - 1) * ld + cols
            }
        };
        (
            extent(Self::stored(self.ta, self.m, self.k), self.lda),
            extent(Self::stored(self.tb, self.k, self.n), self.ldb),
            extent((self.m, self.n), self.ldc),
        )
    }

    /// Errors unless every leading dimension covers its row width.
    pub fn check(&self) -> Result<()> {
        let (_, a_cols) = Self::stored(self.ta, self.m, self.k);
        let (_, b_cols) = Self::stored(self.tb, self.k, self.n);
        if self.lda < a_cols || self.ldb < b_cols || self.ldc < self.n {
            return Err(crate::error::Error::shape(format!(
                "gemm [{}, {}] x [{}, {}]: leading dimensions {}, {}, {} are narrower than the rows",
                self.m, self.k, self.k, self.n, self.lda, self.ldb, self.ldc
            )));
        }
        Ok(())
    }
}

/// The shape of one LSTM layer's recurrence over a padded, time-major batch:
/// `steps` time steps of `batch` sequences, hidden size `hidden`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LstmShape {
    /// Hidden (and cell) state size; the gates are `4 * hidden` wide.
    pub hidden: usize,
    /// Time steps of the padded batch (the longest sequence's length).
    pub steps: usize,
    /// Sequences per batch.
    pub batch: usize,
}

/// A numeric backend: owns device memory and runs the kernels.
///
/// `Buf` is an owned buffer of `f32`, `Index` one of `u32`; `View`/`ViewMut`
/// (`IndexView`) borrow a contiguous range of one. On the CPU these are
/// `Vec<f32>`, `Vec<u32>`, `&[f32]`, `&mut [f32]` and `&[u32]`.
pub trait Backend: Clone + Send + Sync {
    /// An owned buffer of `f32` in backend memory.
    type Buf: Send + Sync;
    /// An owned buffer of `u32` (sequence lengths, class labels) in backend memory.
    type Index: Send + Sync;
    /// A shared borrow of a contiguous range of a [`Self::Buf`].
    type View<'a>: Copy
    where
        Self: 'a;
    /// An exclusive borrow of a contiguous range of a [`Self::Buf`].
    type ViewMut<'a>
    where
        Self: 'a;
    /// A shared borrow of a contiguous range of a [`Self::Index`].
    type IndexView<'a>: Copy
    where
        Self: 'a;

    /// Whether a sequence's results are bit for bit the same alone and
    /// inside any padded batch. True on the CPU, whose products compute
    /// every row the same way whatever the number of rows. A GPU BLAS
    /// chooses its kernel (tiling, split-K, a GEMV for one row) from the
    /// whole shape, so there a sequence's results agree across batches only
    /// within [`BATCH_TOLERANCE`]; they are still bit-identical from run to
    /// run on one GPU with one build.
    const BATCH_INVARIANT_BITS: bool = true;

    /// What runs the kernels, for logs and manifests (e.g. the CPU's GEMM kernel).
    fn describe(&self) -> String;

    /// A zero-filled buffer of `len` values; running out of memory is an error.
    fn alloc(&self, len: usize) -> Result<Self::Buf>;
    /// A zero-filled index buffer of `len` values.
    fn alloc_index(&self, len: usize) -> Result<Self::Index>;
    /// Number of values `buf` holds.
    fn len(&self, buf: &Self::Buf) -> usize;
    /// Number of indices `buf` holds.
    fn index_len(&self, buf: &Self::Index) -> usize;
    /// Borrows `buf[range]`. Panics if `range` is not within the buffer.
    fn view<'a>(&self, buf: &'a Self::Buf, range: Range<usize>) -> Self::View<'a>;
    /// Borrows `buf[range]` for writing. Panics if `range` is not within the buffer.
    fn view_mut<'a>(&self, buf: &'a mut Self::Buf, range: Range<usize>) -> Self::ViewMut<'a>;
    /// Borrows `buf[range]` of an index buffer. Panics if `range` is not within the buffer.
    fn index_view<'a>(&self, buf: &'a Self::Index, range: Range<usize>) -> Self::IndexView<'a>;

    /// Host -> backend copy of `src.len()` values into the start of `dst`.
    fn upload(&self, src: &[f32], dst: Self::ViewMut<'_>) -> Result<()>;
    /// A new buffer holding exactly `host`'s values: [`Backend::alloc`]
    /// and [`Backend::upload`], unless the backend can do better (the CPU
    /// keeps an owned vector as its buffer, so a model's parameters read
    /// from a file are not copied a second time).
    fn buffer_from_host(&self, host: Cow<'_, [f32]>) -> Result<Self::Buf> {
        let mut buf = self.alloc(host.len())?;
        self.upload(&host, self.view_mut(&mut buf, 0..host.len()))?;
        Ok(buf)
    }
    /// Host -> backend copy of `src.len()` indices into the start of `dst`.
    fn upload_index(&self, src: &[u32], dst: &mut Self::Index) -> Result<()>;
    /// Backend -> host copy of `dst.len()` values; waits for the work that
    /// writes `src`.
    fn download(&self, src: Self::View<'_>, dst: &mut [f32]) -> Result<()>;
    /// Waits until every operation issued so far has finished (and reports
    /// a failure of any of them).
    fn synchronize(&self) -> Result<()>;

    /// `dst = value` everywhere.
    fn fill(&self, dst: Self::ViewMut<'_>, value: f32) -> Result<()>;
    /// Copies a `[rows, width]` block between matrices of different widths:
    /// `dst[r, dst_col0 + j] = src[r, src_col0 + j]` for `j < width`. Used for
    /// concatenating conditions to inputs.
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
    ) -> Result<()>;

    /// The product described by `op` (see [`Gemm`]).
    fn gemm(
        &self,
        op: &Gemm,
        a: Self::View<'_>,
        b: Self::View<'_>,
        c: Self::ViewMut<'_>,
    ) -> Result<()>;

    /// In place on `x: [rows, cols]`: `x = act(x + bias)` with `bias: [cols]`.
    fn bias_act_forward(
        &self,
        act: Activation,
        cols: usize,
        bias: Self::View<'_>,
        x: Self::ViewMut<'_>,
    ) -> Result<()>;
    /// `dx = dy * act'(.)` where the derivative is computed from the
    /// activation's output `y` (all of ReLU, tanh and sigmoid allow that).
    /// Overwrites `dx`; `dx` may not alias `dy`.
    fn act_backward(
        &self,
        act: Activation,
        y: Self::View<'_>,
        dy: Self::View<'_>,
        dx: Self::ViewMut<'_>,
    ) -> Result<()>;
    /// Column sums of `x: [rows, cols]` into `out: [cols]`, rows added in
    /// order 0, 1, 2, ... whatever the thread count; `accumulate` adds to `out`
    /// instead of overwriting it.
    fn col_sum(
        &self,
        cols: usize,
        x: Self::View<'_>,
        out: Self::ViewMut<'_>,
        accumulate: bool,
    ) -> Result<()>;

    /// The recurrence of one LSTM layer (gate order i, f, g, o; tanh cell
    /// and output) over `s.steps` steps of `s.batch` sequences, time-major:
    /// step `t` of sequence `b` is row `t * batch + b`.
    ///
    /// - `lengths: [batch]`: real steps of each sequence (`1..=steps`); past
    ///   its end a sequence's state is carried unchanged (`c_t = c_{t-1}`,
    ///   `h_t = h_{t-1}`) and its gate rows hold unspecified values (a
    ///   backend may run the recurrent product over the whole batch and add
    ///   it there too; nothing reads them: the backward pass zeroes their
    ///   gradient);
    /// - `w_hh: [4H, H]`, `bias: [4H]` (`b_ih + b_hh`);
    /// - `gates: [steps * batch, 4H]` holds `x W_ih^T` on entry and the
    ///   activated gates of every real step on exit;
    /// - `c`, `h: [steps + 1, batch, H]`: block 0 is the initial state, zero
    ///   (written by the caller; step 0 needs no recurrent product), block
    ///   `t + 1` is written with the state after step `t`.
    ///
    /// Per step: `gates_t += h_{t-1} W_hh^T`, then the fused cell. A
    /// sequence's results do not depend on the other sequences of the batch.
    #[allow(clippy::too_many_arguments)]
    fn lstm_forward(
        &self,
        s: LstmShape,
        lengths: Self::IndexView<'_>,
        w_hh: Self::View<'_>,
        bias: Self::View<'_>,
        gates: Self::ViewMut<'_>,
        c: Self::ViewMut<'_>,
        h: Self::ViewMut<'_>,
    ) -> Result<()>;
    /// One LSTM layer's forward pass: `gates = x W_ih^T` for `x: [steps *
    /// batch, input]` (time-major, every row) and `w_ih: [4H, input]`, then
    /// [`Backend::lstm_forward`] with the same `s`, `lengths`, `w_hh`,
    /// `bias`, `gates`, `c` and `h`. The results are those of that product
    /// (a [`Backend::gemm`] with `beta = 0`) and that recurrence one after
    /// the other; a backend may interleave the two, computing each step's
    /// input product inside the step, so that the step's gates are used
    /// while they are still in the cache (the CPU does, with the same bits).
    #[allow(clippy::too_many_arguments)]
    fn lstm_layer_forward(
        &self,
        s: LstmShape,
        input: usize,
        x: Self::View<'_>,
        w_ih: Self::View<'_>,
        lengths: Self::IndexView<'_>,
        w_hh: Self::View<'_>,
        bias: Self::View<'_>,
        gates: Self::ViewMut<'_>,
        c: Self::ViewMut<'_>,
        h: Self::ViewMut<'_>,
    ) -> Result<()>;
    /// Backpropagation through the recurrence of [`Backend::lstm_forward`]
    /// (same `lengths`, `w_hh`, and its `gates` and `c`).
    ///
    /// - `dh: [steps, batch, H]`: on entry the gradient w.r.t. each step's
    ///   output `h_t` from outside the recurrence (the layer above, the
    ///   loss); used as scratch (its contents are undefined on exit);
    /// - `dgates: [steps * batch, 4H]`: written with the gradient w.r.t. the
    ///   gate pre-activations of every step (zero at padded steps), from
    ///   which the caller computes the weight, bias and input gradients;
    /// - `scratch: [3, batch, H]`.
    ///
    /// The initial state is constant: its gradient is not computed.
    #[allow(clippy::too_many_arguments)]
    fn lstm_backward(
        &self,
        s: LstmShape,
        lengths: Self::IndexView<'_>,
        w_hh: Self::View<'_>,
        gates: Self::View<'_>,
        c: Self::View<'_>,
        dh: Self::ViewMut<'_>,
        dgates: Self::ViewMut<'_>,
        scratch: Self::ViewMut<'_>,
    ) -> Result<()>;

    /// Reparameterisation `z = mu + eps * exp(0.5 logvar)` over `[rows, L]`;
    /// writes into `kl[0]` the KL divergence to N(0, I) summed over all
    /// values (`-0.5 * sum(1 + logvar - mu^2 - exp(logvar))`).
    fn gaussian_forward(
        &self,
        mu: Self::View<'_>,
        logvar: Self::View<'_>,
        eps: Self::View<'_>,
        z: Self::ViewMut<'_>,
        kl: Self::ViewMut<'_>,
    ) -> Result<()>;
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
    ) -> Result<()>;

    /// Summed squared error over each row, averaged over `rows`: writes
    /// `sum((pred - target)^2) / rows` into `loss[0]` and its gradient
    /// `2 (pred - target) / rows` into `dpred`.
    fn sse_loss(
        &self,
        rows: usize,
        pred: Self::View<'_>,
        target: Self::View<'_>,
        dpred: Self::ViewMut<'_>,
        loss: Self::ViewMut<'_>,
    ) -> Result<()>;
    /// Softmax cross-entropy from `logits: [rows, classes]` against
    /// `labels: [rows]` (each `< classes`, checked by the caller), averaged
    /// over rows. Writes the probabilities into `probs`, the gradient of the
    /// mean loss w.r.t. the logits into `dlogits` and the mean loss into
    /// `loss[0]`.
    fn softmax_xent(
        &self,
        classes: usize,
        logits: Self::View<'_>,
        labels: Self::IndexView<'_>,
        probs: Self::ViewMut<'_>,
        dlogits: Self::ViewMut<'_>,
        loss: Self::ViewMut<'_>,
    ) -> Result<()>;

    /// One Adam step over a whole parameter arena, in place on `params`, `m`
    /// and `v` (all the same length as `grads`).
    fn adam(
        &self,
        hp: AdamStep,
        params: Self::ViewMut<'_>,
        grads: Self::View<'_>,
        m: Self::ViewMut<'_>,
        v: Self::ViewMut<'_>,
    ) -> Result<()>;
}
