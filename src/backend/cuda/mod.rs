//! The CUDA backend: buffers in GPU memory, GEMMs in cuBLAS (default math
//! mode: FP32, no TF32), every other operation one of our kernels from
//! kernels/ (compiled by NVRTC once per process, see `setup`).
//!
//! All work goes to one stream in issue order; the host waits only in
//! `download` and `synchronize`. Reductions have a fixed two-stage shape and
//! no atomics, so a run is bit-identical to the previous one on the same GPU
//! with the same build. A sequence alone and inside a padded batch agrees
//! only within `BATCH_TOLERANCE`: cuBLAS chooses its kernel from the whole
//! shape of a product.
//!
//! Views are raw device addresses with the borrow of their buffer as a
//! lifetime: they are `Copy` like the CPU's slices, and the borrow checker
//! still keeps a buffer alive (and unaliased, for `ViewMut`) while a view of
//! it exists.

mod launch;
mod setup;

use super::kernel_sources::{REDUCE_BLOCKS, REDUCE_THREADS};
use super::{Activation, AdamStep, Backend, Gemm, LstmShape, Transpose};
use crate::error::{Error, Result};
use cudarc::cublas::CudaBlas;
use cudarc::driver::sys::CUdeviceptr;
use cudarc::driver::{CudaContext, CudaSlice, CudaStream, DevicePtr};
use launch::{elementwise, LaunchOnce};
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// An owned buffer of `len` values. CUDA cannot allocate zero bytes, so an
/// empty buffer holds one unused value.
pub struct DeviceBuf<T> {
    slice: CudaSlice<T>,
    len: usize,
}

impl<T> Drop for DeviceBuf<T> {
    fn drop(&mut self) {
        // cudarc frees on the stream without making the context current, and
        // a thread that never bound it (a rayon worker, or any thread a
        // buffer was moved to) has none: the free would fail, the memory
        // leak, and the error surface at the next unrelated call.
        bind_for_drop(self.slice.context());
    }
}

/// Makes `ctx` current on this thread before cudarc frees something of it.
/// Not `bind_to_thread`: that first hands back (and so clears) an error an
/// earlier operation recorded, which must surface where it belongs.
fn bind_for_drop(context: &CudaContext) {
    use cudarc::driver::result::ctx;
    if !matches!(ctx::get_current(), Ok(Some(c)) if c == context.cu_ctx()) {
        // SAFETY: the context is alive: `context` holds a reference to it.
        context.record_err(unsafe { ctx::set_current(context.cu_ctx()) });
    }
}

/// A read-only range of a buffer.
#[derive(Clone, Copy)]
pub struct View<'a, T = f32> {
    ptr: CUdeviceptr,
    len: usize,
    _buf: PhantomData<&'a DeviceBuf<T>>,
}

/// A writable range of a buffer.
pub struct ViewMut<'a> {
    ptr: CUdeviceptr,
    len: usize,
    _buf: PhantomData<&'a mut DeviceBuf<f32>>,
}

struct Inner {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    kernels: setup::Kernels,
    /// cuBLAS handles are not safe to use from two threads at once.
    blas: Mutex<CudaBlas>,
    /// The first stage of every reduction writes here; the lock keeps a
    /// second thread's reduction from interleaving its two stages with ours.
    partials: Mutex<CudaSlice<f64>>,
    description: String,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The reduction scratch, the modules and the cuBLAS handle go after
        // this, possibly on a thread that never used the GPU.
        bind_for_drop(&self.ctx);
    }
}

/// The CUDA backend on one GPU. Cloning shares the GPU context.
#[derive(Clone)]
pub struct Cuda {
    inner: Arc<Inner>,
}

/// Threads per block of `col_sum`: one warp.
const COL_SUM_THREADS: usize = 32;

fn device_error<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Device(format!("cuda: {what}: {e}"))
}

fn check_len(what: &str, have: usize, need: usize) -> Result<()> {
    if have < need {
        return Err(Error::shape(format!(
            "cuda {what}: {have} values where {need} are needed"
        )));
    }
    Ok(())
}

impl Cuda {
    /// The backend on GPU 0 (`CUDA_VISIBLE_DEVICES` chooses which that is).
    /// Missing libraries, driver or GPU are errors naming what is missing.
    pub fn new() -> Result<Cuda> {
        Cuda::on(0)
    }

    /// The backend on GPU `ordinal`.
    pub fn on(ordinal: usize) -> Result<Cuda> {
        setup::check_libraries()?;
        let (ctx, stream) = setup::open(ordinal)?;
        let (kernels, arch) = setup::Kernels::load(&ctx)?;
        let blas = setup::blas(stream.clone())?;
        let partials = stream
            .alloc_zeros::<f64>(REDUCE_BLOCKS as usize)
            .map_err(device_error("allocating reduction scratch"))?;
        let name = ctx.name().unwrap_or_else(|_| "unnamed GPU".into());
        Ok(Cuda {
            inner: Arc::new(Inner {
                description: format!("cuda ({name}, {arch}, cuBLAS FP32 default math)"),
                ctx,
                stream,
                kernels,
                blas: Mutex::new(blas),
                partials: Mutex::new(partials),
            }),
        })
    }

    /// The release threshold of the device's default memory pool, as the
    /// driver reports it: `u64::MAX` once the backend is up (freed memory
    /// stays in the pool for the next allocation).
    pub fn pool_release_threshold(&self) -> Result<u64> {
        self.bind()?;
        setup::pool_release_threshold(&self.inner.ctx)
    }

    fn stream(&self) -> &CudaStream {
        &self.inner.stream
    }

    /// Makes the context current on the calling thread (a no-op when it
    /// already is): raw driver calls need it, and rayon threads start
    /// without one.
    fn bind(&self) -> Result<()> {
        self.inner
            .ctx
            .bind_to_thread()
            .map_err(device_error("binding the context"))
    }

    fn alloc_of<T: cudarc::driver::DeviceRepr + cudarc::driver::ValidAsZeroBits>(
        &self,
        len: usize,
        what: &str,
    ) -> Result<DeviceBuf<T>> {
        let slice = self
            .inner
            .stream
            .alloc_zeros::<T>(len.max(1))
            .map_err(|e| {
                Error::Device(format!(
                    "cuda: cannot allocate {len} {what} ({} bytes) on the GPU: {e}",
                    len.saturating_mul(std::mem::size_of::<T>())
                ))
            })?;
        Ok(DeviceBuf { slice, len })
    }

    fn base<T>(&self, buf: &DeviceBuf<T>) -> CUdeviceptr {
        // With event tracking off the guard records nothing.
        buf.slice.device_ptr(self.stream()).0
    }

    fn launcher(&self, name: &str) -> LaunchOnce<'_> {
        LaunchOnce::new(self.stream(), self.inner.kernels.get(name))
    }

    /// Stage two of a reduction: `out[0] = scale * sum(partials)`.
    fn finish_sum(&self, partials: CUdeviceptr, out: CUdeviceptr, scale: f64) -> Result<()> {
        let mut l = self.launcher("finish_sum");
        l.arg(partials).arg(out).arg(scale);
        l.launch((1, REDUCE_THREADS))
    }

    fn partials_ptr(&self, partials: &CudaSlice<f64>) -> CUdeviceptr {
        partials.device_ptr(self.stream()).0
    }
}

/// Byte offset of value `i` of a buffer of `T`.
fn at<T>(ptr: CUdeviceptr, i: usize) -> CUdeviceptr {
    ptr + (i * std::mem::size_of::<T>()) as CUdeviceptr
}

fn act_code(act: Activation) -> i32 {
    // The order of the ACT_* codes in kernels/common.cuh.
    match act {
        Activation::Identity => 0,
        Activation::Relu => 1,
        Activation::Tanh => 2,
        Activation::Sigmoid => 3,
    }
}

impl Backend for Cuda {
    type Buf = DeviceBuf<f32>;
    type Index = DeviceBuf<u32>;
    type View<'a> = View<'a>;
    type ViewMut<'a> = ViewMut<'a>;
    type IndexView<'a> = View<'a, u32>;

    const BATCH_INVARIANT_BITS: bool = false;

    fn describe(&self) -> String {
        self.inner.description.clone()
    }
    fn alloc(&self, len: usize) -> Result<Self::Buf> {
        self.bind()?;
        self.alloc_of(len, "f32 values")
    }
    fn alloc_index(&self, len: usize) -> Result<Self::Index> {
        self.bind()?;
        self.alloc_of(len, "indices")
    }
    fn len(&self, buf: &Self::Buf) -> usize {
        buf.len
    }
    fn index_len(&self, buf: &Self::Index) -> usize {
        buf.len
    }
    fn view<'a>(&self, buf: &'a Self::Buf, range: Range<usize>) -> View<'a> {
        assert!(
            range.start <= range.end && range.end <= buf.len,
            "cuda view {range:?} of {}",
            buf.len
        );
        View {
            ptr: at::<f32>(self.base(buf), range.start),
            len: range.len(),
            _buf: PhantomData,
        }
    }
    fn view_mut<'a>(&self, buf: &'a mut Self::Buf, range: Range<usize>) -> ViewMut<'a> {
        assert!(
            range.start <= range.end && range.end <= buf.len,
            "cuda view {range:?} of {}",
            buf.len
        );
        ViewMut {
            ptr: at::<f32>(self.base(buf), range.start),
            len: range.len(),
            _buf: PhantomData,
        }
    }
    fn index_view<'a>(&self, buf: &'a Self::Index, range: Range<usize>) -> View<'a, u32> {
        assert!(
            range.start <= range.end && range.end <= buf.len,
            "cuda view {range:?} of {}",
            buf.len
        );
        View {
            ptr: at::<u32>(self.base(buf), range.start),
            len: range.len(),
            _buf: PhantomData,
        }
    }

    fn upload(&self, src: &[f32], dst: ViewMut<'_>) -> Result<()> {
        check_len("upload", dst.len, src.len())?;
        if src.is_empty() {
            return Ok(());
        }
        self.bind()?;
        // SAFETY: `dst` covers `src.len()` values; the copy is synchronous
        // with respect to `src` (pageable memory is staged before the call
        // returns), so `src` may be dropped afterwards.
        unsafe {
            cudarc::driver::result::memcpy_htod_async(dst.ptr, src, self.stream().cu_stream())
        }
        .map_err(device_error("upload"))
    }
    fn upload_index(&self, src: &[u32], dst: &mut Self::Index) -> Result<()> {
        check_len("upload_index", dst.len, src.len())?;
        if src.is_empty() {
            return Ok(());
        }
        self.bind()?;
        let ptr = self.base(dst);
        // SAFETY: as in `upload`.
        unsafe { cudarc::driver::result::memcpy_htod_async(ptr, src, self.stream().cu_stream()) }
            .map_err(device_error("upload_index"))
    }
    fn download(&self, src: View<'_>, dst: &mut [f32]) -> Result<()> {
        check_len("download", src.len, dst.len())?;
        if dst.is_empty() {
            return Ok(());
        }
        self.bind()?;
        // SAFETY: `src` covers `dst.len()` values; the stream is synchronised
        // before `dst` is handed back.
        unsafe {
            cudarc::driver::result::memcpy_dtoh_async(dst, src.ptr, self.stream().cu_stream())
        }
        .map_err(device_error("download"))?;
        self.synchronize()
    }
    fn synchronize(&self) -> Result<()> {
        self.bind()?;
        self.stream()
            .synchronize()
            .map_err(device_error("a kernel or copy failed"))
    }

    fn fill(&self, dst: ViewMut<'_>, value: f32) -> Result<()> {
        let mut l = self.launcher("fill");
        l.arg(dst.ptr).arg(dst.len as i64).arg(value);
        l.launch(elementwise(dst.len))
    }
    fn copy_block(
        &self,
        rows: usize,
        width: usize,
        src: View<'_>,
        src_cols: usize,
        src_col0: usize,
        dst: ViewMut<'_>,
        dst_cols: usize,
        dst_col0: usize,
    ) -> Result<()> {
        if src_col0 + width > src_cols || dst_col0 + width > dst_cols {
            return Err(Error::shape(format!(
                "copy_block: columns {src_col0}+{width} of {src_cols} into {dst_col0}+{width} of {dst_cols}"
            )));
        }
        check_len("copy_block source", src.len, rows * src_cols)?;
        check_len("copy_block destination", dst.len, rows * dst_cols)?;
        let mut l = self.launcher("copy_block");
        l.arg(src.ptr)
            .arg(src_cols as i64)
            .arg(src_col0 as i64)
            .arg(dst.ptr)
            .arg(dst_cols as i64)
            .arg(dst_col0 as i64)
            .arg(rows as i64)
            .arg(width as i64);
        l.launch(elementwise(rows * width))
    }

    fn gemm(&self, op: &Gemm, a: View<'_>, b: View<'_>, c: ViewMut<'_>) -> Result<()> {
        op.check()?;
        let (ea, eb, ec) = op.extents();
        check_len("gemm A", a.len, ea)?;
        check_len("gemm B", b.len, eb)?;
        check_len("gemm C", c.len, ec)?;
        if op.m == 0 || op.n == 0 {
            return Ok(());
        }
        if op.k == 0 || op.alpha == 0.0 {
            // Nothing to sum: C = beta C, as the CPU does. cuBLAS rejects
            // the leading dimensions of an empty operand (lda = k = 0 < 1).
            let mut l = self.launcher("scale_rows");
            l.arg(c.ptr)
                .arg(op.m as i64)
                .arg(op.n as i64)
                .arg(op.ldc as i64)
                .arg(op.beta);
            return l.launch(elementwise(op.m * op.n));
        }
        self.bind()?;
        let blas = self.inner.blas.lock().unwrap_or_else(|p| p.into_inner());
        launch::gemm(&blas, op, a.ptr, b.ptr, c.ptr)
    }

    fn bias_act_forward(
        &self,
        act: Activation,
        cols: usize,
        bias: View<'_>,
        x: ViewMut<'_>,
    ) -> Result<()> {
        if cols == 0 || x.len % cols != 0 || bias.len != cols {
            return Err(Error::shape(format!(
                "bias_act_forward: {} values, {cols} columns, bias of {}",
                x.len, bias.len
            )));
        }
        let mut l = self.launcher("bias_act_forward");
        l.arg(x.ptr)
            .arg(bias.ptr)
            .arg(x.len as i64)
            .arg(cols as i64)
            .arg(act_code(act));
        l.launch(elementwise(x.len))
    }
    fn act_backward(
        &self,
        act: Activation,
        y: View<'_>,
        dy: View<'_>,
        dx: ViewMut<'_>,
    ) -> Result<()> {
        if y.len != dx.len || dy.len != dx.len {
            return Err(Error::shape("act_backward: mismatched lengths"));
        }
        let mut l = self.launcher("act_backward");
        l.arg(y.ptr)
            .arg(dy.ptr)
            .arg(dx.ptr)
            .arg(dx.len as i64)
            .arg(act_code(act));
        l.launch(elementwise(dx.len))
    }
    fn col_sum(&self, cols: usize, x: View<'_>, out: ViewMut<'_>, accumulate: bool) -> Result<()> {
        if out.len != cols || (cols == 0 && x.len != 0) || (cols > 0 && x.len % cols != 0) {
            return Err(Error::shape(format!(
                "col_sum: {} values into {} sums of {cols} columns",
                x.len, out.len
            )));
        }
        if cols == 0 {
            return Ok(());
        }
        let mut l = self.launcher("col_sum");
        l.arg(x.ptr)
            .arg(out.ptr)
            .arg((x.len / cols) as i64)
            .arg(cols as i64)
            .arg(accumulate as i32);
        // One thread per column (each adds its rows in order, for the CPU's
        // bits), in blocks of one warp: the 4H columns of an LSTM bias
        // gradient spread over 4H / 32 multiprocessors instead of 4H / 256.
        l.launch((
            cols.div_ceil(COL_SUM_THREADS) as u32,
            COL_SUM_THREADS as u32,
        ))
    }

    fn lstm_forward(
        &self,
        s: LstmShape,
        lengths: View<'_, u32>,
        w_hh: View<'_>,
        bias: View<'_>,
        gates: ViewMut<'_>,
        c: ViewMut<'_>,
        h: ViewMut<'_>,
    ) -> Result<()> {
        let (hid, g) = (s.hidden, 4 * s.hidden);
        let state = s.batch * hid;
        check_len("lstm lengths", lengths.len, s.batch)?;
        check_len("lstm W_hh", w_hh.len, g * hid)?;
        check_len("lstm bias", bias.len, g)?;
        check_len("lstm gates", gates.len, s.steps * s.batch * g)?;
        check_len("lstm c", c.len, (s.steps + 1) * state)?;
        check_len("lstm h", h.len, (s.steps + 1) * state)?;
        if state == 0 {
            return Ok(());
        }
        // h_{t-1} [batch, H] times W_hh^T [H, 4H], added into the step's gates.
        let recurrent = Gemm::new(Transpose::No, Transpose::Yes, s.batch, g, hid).beta(1.0);
        for t in 0..s.steps {
            let gates_t = at::<f32>(gates.ptr, t * s.batch * g);
            if t > 0 {
                self.bind()?;
                let blas = self.inner.blas.lock().unwrap_or_else(|p| p.into_inner());
                launch::gemm(
                    &blas,
                    &recurrent,
                    at::<f32>(h.ptr, t * state),
                    w_hh.ptr,
                    gates_t,
                )?;
            }
            let mut l = self.launcher("lstm_cell_forward");
            l.arg(hid as i64)
                .arg(s.batch as i64)
                .arg(t as i64)
                .arg(lengths.ptr)
                .arg(bias.ptr)
                .arg(gates_t)
                .arg(at::<f32>(c.ptr, t * state))
                .arg(at::<f32>(h.ptr, t * state))
                .arg(at::<f32>(c.ptr, (t + 1) * state))
                .arg(at::<f32>(h.ptr, (t + 1) * state));
            l.launch(elementwise(state))?;
        }
        Ok(())
    }
    fn lstm_layer_forward(
        &self,
        s: LstmShape,
        input: usize,
        x: View<'_>,
        w_ih: View<'_>,
        lengths: View<'_, u32>,
        w_hh: View<'_>,
        bias: View<'_>,
        gates: ViewMut<'_>,
        c: ViewMut<'_>,
        h: ViewMut<'_>,
    ) -> Result<()> {
        // One product over the whole sequence, then the recurrence: on the
        // GPU the big GEMM is the efficient form of the input product.
        let rows = s.steps * s.batch;
        let input_product = Gemm::new(Transpose::No, Transpose::Yes, rows, 4 * s.hidden, input);
        let gates_of_product = ViewMut {
            ptr: gates.ptr,
            len: gates.len,
            _buf: PhantomData,
        };
        self.gemm(&input_product, x, w_ih, gates_of_product)?;
        self.lstm_forward(s, lengths, w_hh, bias, gates, c, h)
    }
    fn lstm_backward(
        &self,
        s: LstmShape,
        lengths: View<'_, u32>,
        w_hh: View<'_>,
        gates: View<'_>,
        c: View<'_>,
        dh: ViewMut<'_>,
        dgates: ViewMut<'_>,
        scratch: ViewMut<'_>,
    ) -> Result<()> {
        let (hid, g) = (s.hidden, 4 * s.hidden);
        let state = s.batch * hid;
        check_len("lstm lengths", lengths.len, s.batch)?;
        check_len("lstm W_hh", w_hh.len, g * hid)?;
        check_len("lstm gates", gates.len, s.steps * s.batch * g)?;
        check_len("lstm dgates", dgates.len, s.steps * s.batch * g)?;
        check_len("lstm c", c.len, (s.steps + 1) * state)?;
        check_len("lstm dh", dh.len, s.steps * state)?;
        check_len("lstm scratch", scratch.len, 3 * state)?;
        if state == 0 {
            return Ok(());
        }
        // scratch: [unused, dc, the carry out of step 0 (discarded)]; the
        // cell reads dh[t] in place and adds only into dh[t - 1], so it
        // needs no copy of dh[t] as the CPU's does.
        let dc = at::<f32>(scratch.ptr, state);
        let dh_initial = at::<f32>(scratch.ptr, 2 * state);
        {
            let mut l = self.launcher("fill");
            l.arg(dc).arg(state as i64).arg(0.0f32);
            l.launch(elementwise(state))?;
        }
        // dgates_t [batch, 4H] times W_hh [4H, H], added into dh_{t-1}.
        let recurrent = Gemm::new(Transpose::No, Transpose::No, s.batch, hid, g).beta(1.0);
        for t in (0..s.steps).rev() {
            let carry = if t > 0 {
                at::<f32>(dh.ptr, (t - 1) * state)
            } else {
                dh_initial
            };
            let dgates_t = at::<f32>(dgates.ptr, t * s.batch * g);
            let mut l = self.launcher("lstm_cell_backward");
            l.arg(hid as i64)
                .arg(s.batch as i64)
                .arg(t as i64)
                .arg(lengths.ptr)
                .arg(at::<f32>(gates.ptr, t * s.batch * g))
                .arg(at::<f32>(c.ptr, t * state))
                .arg(at::<f32>(c.ptr, (t + 1) * state))
                .arg(at::<f32>(dh.ptr, t * state))
                .arg(dc)
                .arg(dgates_t)
                .arg(carry);
            l.launch(elementwise(state))?;
            if t > 0 {
                self.bind()?;
                let blas = self.inner.blas.lock().unwrap_or_else(|p| p.into_inner());
                launch::gemm(&blas, &recurrent, dgates_t, w_hh.ptr, carry)?;
            }
        }
        Ok(())
    }

    fn gaussian_forward(
        &self,
        mu: View<'_>,
        logvar: View<'_>,
        eps: View<'_>,
        z: ViewMut<'_>,
        kl: ViewMut<'_>,
    ) -> Result<()> {
        let n = mu.len;
        if logvar.len != n || eps.len != n || z.len != n || kl.len == 0 {
            return Err(Error::shape("gaussian_forward: mismatched lengths"));
        }
        let partials = self
            .inner
            .partials
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let p = self.partials_ptr(&partials);
        let mut l = self.launcher("gaussian_forward");
        l.arg(mu.ptr)
            .arg(logvar.ptr)
            .arg(eps.ptr)
            .arg(z.ptr)
            .arg(p)
            .arg(n as i64);
        l.launch((REDUCE_BLOCKS, REDUCE_THREADS))?;
        self.finish_sum(p, kl.ptr, -0.5)
    }
    fn gaussian_backward(
        &self,
        kl_scale: f32,
        mu: View<'_>,
        logvar: View<'_>,
        eps: View<'_>,
        dz: View<'_>,
        dmu: ViewMut<'_>,
        dlogvar: ViewMut<'_>,
    ) -> Result<()> {
        let n = mu.len;
        if [logvar.len, eps.len, dz.len, dmu.len, dlogvar.len]
            .iter()
            .any(|&l| l != n)
        {
            return Err(Error::shape("gaussian_backward: mismatched lengths"));
        }
        let mut l = self.launcher("gaussian_backward");
        l.arg(kl_scale)
            .arg(mu.ptr)
            .arg(logvar.ptr)
            .arg(eps.ptr)
            .arg(dz.ptr)
            .arg(dmu.ptr)
            .arg(dlogvar.ptr)
            .arg(n as i64);
        l.launch(elementwise(n))
    }

    fn sse_loss(
        &self,
        rows: usize,
        pred: View<'_>,
        target: View<'_>,
        dpred: ViewMut<'_>,
        loss: ViewMut<'_>,
    ) -> Result<()> {
        let n = pred.len;
        if target.len != n || dpred.len != n || rows == 0 || loss.len == 0 {
            return Err(Error::shape(format!(
                "sse_loss: rows {rows}, lengths {n}, {}, {}",
                target.len, dpred.len
            )));
        }
        let partials = self
            .inner
            .partials
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let p = self.partials_ptr(&partials);
        let mut l = self.launcher("sse_loss");
        l.arg(pred.ptr)
            .arg(target.ptr)
            .arg(dpred.ptr)
            .arg(p)
            .arg(n as i64)
            .arg(2.0 / rows as f32);
        l.launch((REDUCE_BLOCKS, REDUCE_THREADS))?;
        self.finish_sum(p, loss.ptr, 1.0 / rows as f64)
    }
    fn softmax_xent(
        &self,
        classes: usize,
        logits: View<'_>,
        labels: View<'_, u32>,
        probs: ViewMut<'_>,
        dlogits: ViewMut<'_>,
        loss: ViewMut<'_>,
    ) -> Result<()> {
        let rows = labels.len;
        if classes == 0
            || rows == 0
            || logits.len != rows * classes
            || probs.len != logits.len
            || dlogits.len != logits.len
            || loss.len == 0
        {
            return Err(Error::shape(format!(
                "softmax_xent: {rows} labels, {classes} classes, {} logits",
                logits.len
            )));
        }
        let partials = self
            .inner
            .partials
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let p = self.partials_ptr(&partials);
        let mut l = self.launcher("softmax_xent");
        l.arg(logits.ptr)
            .arg(labels.ptr)
            .arg(probs.ptr)
            .arg(dlogits.ptr)
            .arg(p)
            .arg(rows as i64)
            .arg(classes as i64)
            .arg(1.0 / rows as f32);
        l.launch((REDUCE_BLOCKS, REDUCE_THREADS))?;
        self.finish_sum(p, loss.ptr, 1.0 / rows as f64)
    }

    fn adam(
        &self,
        hp: AdamStep,
        params: ViewMut<'_>,
        grads: View<'_>,
        m: ViewMut<'_>,
        v: ViewMut<'_>,
    ) -> Result<()> {
        let n = params.len;
        if grads.len != n || m.len != n || v.len != n || hp.step == 0 {
            return Err(Error::shape("adam: mismatched lengths or step 0"));
        }
        // The bias corrections in double, exactly as the CPU computes them.
        let t = hp.step as i32;
        let bc1 = 1.0 - f64::from(hp.beta1).powi(t);
        let bc2 = 1.0 - f64::from(hp.beta2).powi(t);
        let mut l = self.launcher("adam");
        l.arg(params.ptr)
            .arg(grads.ptr)
            .arg(m.ptr)
            .arg(v.ptr)
            .arg(n as i64)
            .arg(hp.beta1)
            .arg(1.0 - hp.beta1)
            .arg(hp.beta2)
            .arg(1.0 - hp.beta2)
            .arg((f64::from(hp.lr) / bc1) as f32)
            .arg((1.0 / bc2.sqrt()) as f32)
            .arg(hp.eps);
        l.launch(elementwise(n))
    }
}
