//! A CUDA driver and cuBLAS for machines without a GPU, so the vaeser CUDA
//! backend (src/backend/cuda, through cudarc, both unchanged) runs and is
//! checked against the CPU in every test run. Built as one shared library
//! and installed as both `libcuda.so` and `libcublas.so` (emu/install.sh);
//! cudarc opens them by name from `LD_LIBRARY_PATH` and resolves each entry
//! point on its first call. NVRTC stays the real library: the kernels are
//! compiled to PTX as on a GPU machine, and each PTX entry is matched to a
//! host build of the same kernels/*.cu (see build.rs and host/).
//!
//! What it checks, and what only a GPU can: emu/README.md.
//!
//! The entry points keep CUDA's contracts (valid handles and pointers from
//! the caller), so their safety requirements are the driver's documented ones.
#![allow(clippy::missing_safety_doc, non_snake_case)]

mod blas;
mod device;
mod driver;
mod gemm;
mod kernels;
mod memory;
mod ptx;
mod status;
