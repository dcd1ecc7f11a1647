//! The cuBLAS entry points the backend calls. A handle remembers its
//! stream and math mode; `cublasSgemm_v2` checks its arguments as cuBLAS
//! does and queues the product on the stream, after the work issued before it.

use crate::device::{device, report, Work};
use crate::gemm::{Op, Sgemm};
use crate::status::*;
use std::ffi::{c_int, c_void};

struct Handle {
    math_mode: u32,
}

type BlasHandle = *mut c_void;

/// `CUBLAS_DEFAULT_MATH`: FP32 products in FP32. Others (TF32 tensor-core
/// rounding) change results on a GPU in ways the emulator does not model.
const DEFAULT_MATH: u32 = 0;

#[no_mangle]
pub unsafe extern "C" fn cublasCreate_v2(out: *mut BlasHandle) -> BlasStatus {
    if out.is_null() {
        return BLAS_INVALID_VALUE;
    }
    if !device().initialized {
        return BLAS_NOT_INITIALIZED;
    }
    *out = Box::into_raw(Box::new(Handle {
        math_mode: DEFAULT_MATH,
    })) as BlasHandle;
    BLAS_SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cublasDestroy_v2(handle: BlasHandle) -> BlasStatus {
    if handle.is_null() {
        return BLAS_NOT_INITIALIZED;
    }
    drop(Box::from_raw(handle as *mut Handle));
    BLAS_SUCCESS
}

#[no_mangle]
pub extern "C" fn cublasSetStream_v2(handle: BlasHandle, stream: *mut c_void) -> BlasStatus {
    if handle.is_null() {
        return BLAS_NOT_INITIALIZED;
    }
    if !stream.is_null() {
        report("cublasSetStream_v2: only the default stream is emulated");
        return BLAS_INVALID_VALUE;
    }
    BLAS_SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cublasSetMathMode(handle: BlasHandle, mode: u32) -> BlasStatus {
    if handle.is_null() {
        return BLAS_NOT_INITIALIZED;
    }
    (*(handle as *mut Handle)).math_mode = mode;
    BLAS_SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cublasSgemm_v2(
    handle: BlasHandle,
    transa: u32,
    transb: u32,
    m: c_int,
    n: c_int,
    k: c_int,
    alpha: *const f32,
    a: *const f32,
    lda: c_int,
    b: *const f32,
    ldb: c_int,
    beta: *const f32,
    c: *mut f32,
    ldc: c_int,
) -> BlasStatus {
    if handle.is_null() {
        return BLAS_NOT_INITIALIZED;
    }
    if (*(handle as *const Handle)).math_mode != DEFAULT_MATH {
        report("cublasSgemm_v2: only CUBLAS_DEFAULT_MATH (plain FP32) is emulated");
        return BLAS_INVALID_VALUE;
    }
    let (Some(transa), Some(transb)) = (Op::from_raw(transa), Op::from_raw(transb)) else {
        return BLAS_INVALID_VALUE;
    };
    if alpha.is_null() || beta.is_null() {
        return BLAS_INVALID_VALUE;
    }
    let g = Sgemm {
        transa,
        transb,
        m,
        n,
        k,
        alpha: *alpha,
        a: a as u64,
        lda,
        b: b as u64,
        ldb,
        beta: *beta,
        c: c as u64,
        ldc,
    };
    if let Err(msg) = g.check() {
        report(&format!("cublasSgemm_v2: {msg}"));
        return BLAS_INVALID_VALUE;
    }
    match device().submit(Work::Gemm(g)) {
        SUCCESS => BLAS_SUCCESS,
        _ => BLAS_EXECUTION_FAILED,
    }
}
