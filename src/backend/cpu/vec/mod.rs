//! The CPU's vector arithmetic, written once: the lane helpers of 8-lane
//! `wide::f32x8` and of 16-lane AVX-512, the one exp / sigmoid / tanh family
//! in both widths, and the AVX-512 tile that both the GEMM and the packed
//! LSTM multiply with.
//!
//! Every kernel that promises bits (the 16-lane element-wise kernels equal to
//! the 8-lane ones, the packed LSTM equal to the GEMM path, `gemm512` equal
//! to matrixmultiply) keeps its promise by calling these functions instead
//! of transcribing them again, so a change here is made once and the tests
//! of every caller see it.

pub mod lanes8;
pub mod math;

#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
#[allow(clippy::incompatible_msrv)]
pub mod lanes16;
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
#[allow(clippy::incompatible_msrv)]
pub mod tile512;
