//! Result codes of the driver (`CUresult`) and of cuBLAS
//! (`cublasStatus_t`), as the real headers number them. Only codes that
//! cudarc's enums have are ever returned: cudarc transmutes them.

use std::ffi::{c_char, CStr};

/// A `CUresult`.
pub type CuResult = u32;

pub const SUCCESS: CuResult = 0;
pub const INVALID_VALUE: CuResult = 1;
pub const OUT_OF_MEMORY: CuResult = 2;
pub const NOT_INITIALIZED: CuResult = 3;
pub const INVALID_DEVICE: CuResult = 101;
pub const INVALID_IMAGE: CuResult = 200;
pub const INVALID_CONTEXT: CuResult = 201;
pub const INVALID_PTX: CuResult = 218;
pub const INVALID_HANDLE: CuResult = 400;
pub const NOT_FOUND: CuResult = 500;
pub const ILLEGAL_ADDRESS: CuResult = 700;
pub const LAUNCH_FAILED: CuResult = 719;
pub const NOT_SUPPORTED: CuResult = 801;

/// `(name, description)` of a driver code, as `cuGetErrorName` and
/// `cuGetErrorString` return them.
pub fn describe(code: CuResult) -> Option<(&'static CStr, &'static CStr)> {
    Some(match code {
        SUCCESS => (c"CUDA_SUCCESS", c"no error"),
        INVALID_VALUE => (c"CUDA_ERROR_INVALID_VALUE", c"invalid argument"),
        OUT_OF_MEMORY => (c"CUDA_ERROR_OUT_OF_MEMORY", c"out of memory"),
        NOT_INITIALIZED => (c"CUDA_ERROR_NOT_INITIALIZED", c"initialization error"),
        INVALID_DEVICE => (c"CUDA_ERROR_INVALID_DEVICE", c"invalid device ordinal"),
        INVALID_IMAGE => (
            c"CUDA_ERROR_INVALID_IMAGE",
            c"device kernel image is invalid",
        ),
        INVALID_CONTEXT => (c"CUDA_ERROR_INVALID_CONTEXT", c"invalid device context"),
        INVALID_PTX => (c"CUDA_ERROR_INVALID_PTX", c"a PTX JIT compilation failed"),
        INVALID_HANDLE => (c"CUDA_ERROR_INVALID_HANDLE", c"invalid resource handle"),
        NOT_FOUND => (c"CUDA_ERROR_NOT_FOUND", c"named symbol not found"),
        ILLEGAL_ADDRESS => (
            c"CUDA_ERROR_ILLEGAL_ADDRESS",
            c"an illegal memory access was encountered",
        ),
        LAUNCH_FAILED => (c"CUDA_ERROR_LAUNCH_FAILED", c"unspecified launch failure"),
        NOT_SUPPORTED => (c"CUDA_ERROR_NOT_SUPPORTED", c"operation not supported"),
        _ => return None,
    })
}

/// Writes a static C string for `code` through `out`.
///
/// # Safety
/// `out` is null or valid for one pointer write.
pub unsafe fn write_str(out: *mut *const c_char, s: Option<&'static CStr>) -> CuResult {
    match (out.is_null(), s) {
        (false, Some(s)) => {
            *out = s.as_ptr();
            SUCCESS
        }
        _ => INVALID_VALUE,
    }
}

/// A `cublasStatus_t`.
pub type BlasStatus = u32;

pub const BLAS_SUCCESS: BlasStatus = 0;
pub const BLAS_NOT_INITIALIZED: BlasStatus = 1;
pub const BLAS_INVALID_VALUE: BlasStatus = 7;
pub const BLAS_EXECUTION_FAILED: BlasStatus = 13;
