//! Launching: kernel arguments by value, grid sizes, and the row-major GEMM
//! of the trait mapped onto cuBLAS's column-major one.

use crate::backend::kernel_sources::REDUCE_THREADS;
use crate::backend::{Gemm, Transpose};
use crate::error::{Error, Result};
use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::CudaBlas;
use cudarc::driver::sys::CUdeviceptr;
use cudarc::driver::{CudaFunction, CudaStream};
use std::ffi::c_void;

/// A value a kernel takes by value: pointers (`CUdeviceptr`), sizes
/// (`long long`), flags (`int`), scalars (`float`, `double`).
pub trait KernelArg {
    /// The value's bytes in the low bytes of a u64 (x86-64 and aarch64 are
    /// little-endian), which is what the driver reads for a parameter of
    /// the value's size.
    fn bits(self) -> u64;
}
impl KernelArg for u64 {
    fn bits(self) -> u64 {
        self
    }
}
impl KernelArg for i64 {
    fn bits(self) -> u64 {
        self as u64
    }
}
impl KernelArg for i32 {
    fn bits(self) -> u64 {
        u64::from(self as u32)
    }
}
impl KernelArg for f32 {
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
}
impl KernelArg for f64 {
    fn bits(self) -> u64 {
        self.to_bits()
    }
}

/// One launch of one kernel: arguments pushed in the order of the kernel's
/// parameters, then `launch`.
pub struct LaunchOnce<'a> {
    stream: &'a CudaStream,
    function: &'a CudaFunction,
    args: Vec<u64>,
}

impl<'a> LaunchOnce<'a> {
    pub fn new(stream: &'a CudaStream, function: &'a CudaFunction) -> Self {
        LaunchOnce {
            stream,
            function,
            args: Vec::with_capacity(12),
        }
    }

    pub fn arg(&mut self, value: impl KernelArg) -> &mut Self {
        self.args.push(value.bits());
        self
    }

    /// Issues the kernel on `(blocks, threads)`; zero blocks launch nothing.
    pub fn launch(&mut self, (blocks, threads): (u32, u32)) -> Result<()> {
        if blocks == 0 {
            return Ok(());
        }
        self.stream
            .context()
            .bind_to_thread()
            .map_err(|e| Error::Device(format!("cuda: binding the context: {e}")))?;
        let mut params: Vec<*mut c_void> = self
            .args
            .iter_mut()
            .map(|a| a as *mut u64 as *mut c_void)
            .collect();
        // SAFETY: the kernels' parameter lists match the arguments pushed
        // by the callers in `super` (count, order and size); every pointer
        // is a range of a live buffer checked against the kernel's extent.
        unsafe {
            cudarc::driver::result::launch_kernel(
                self.function.cu_function(),
                (blocks, 1, 1),
                (threads, 1, 1),
                0,
                self.stream.cu_stream(),
                &mut params,
            )
        }
        .map_err(|e| Error::Device(format!("cuda: kernel launch: {e}")))
    }
}

/// Blocks cap of element-wise launches: enough to fill any current GPU
/// several times over; the grid-stride loops cover the rest.
const MAX_BLOCKS: usize = 8192;

/// `(blocks, threads)` for an element-wise kernel over `n` items.
pub fn elementwise(n: usize) -> (u32, u32) {
    let threads = REDUCE_THREADS as usize;
    (n.div_ceil(threads).min(MAX_BLOCKS) as u32, threads as u32)
}

fn op(t: Transpose) -> cublasOperation_t {
    match t {
        Transpose::No => cublasOperation_t::CUBLAS_OP_N,
        Transpose::Yes => cublasOperation_t::CUBLAS_OP_T,
    }
}

fn int(v: usize, what: &str) -> Result<i32> {
    i32::try_from(v).map_err(|_| Error::shape(format!("gemm: {what} {v} exceeds cuBLAS's int")))
}

/// The row-major `C = alpha op(A) op(B) + beta C` of [`Gemm`] in cuBLAS.
/// A row-major matrix with leading dimension `ld` is its transpose in
/// column-major with the same `ld`, so C^T = op(B)^T op(A)^T is one
/// column-major GEMM with the operands swapped and the flags kept.
pub fn gemm(
    blas: &CudaBlas,
    g: &Gemm,
    a: CUdeviceptr,
    b: CUdeviceptr,
    c: CUdeviceptr,
) -> Result<()> {
    if g.m == 0 || g.n == 0 {
        return Ok(());
    }
    let (alpha, beta) = (g.alpha, g.beta);
    // SAFETY: the caller checked each operand's extent against its buffer.
    unsafe {
        cudarc::cublas::result::sgemm(
            *blas.handle(),
            op(g.tb),
            op(g.ta),
            int(g.n, "n")?,
            int(g.m, "m")?,
            int(g.k, "k")?,
            &alpha,
            b as *const f32,
            int(g.ldb, "ldb")?,
            a as *const f32,
            int(g.lda, "lda")?,
            &beta,
            c as *mut f32,
            int(g.ldc, "ldc")?,
        )
    }
    .map_err(|e| Error::Device(format!("cuda: cuBLAS sgemm: {e}")))
}
