//! The CPU's vector arithmetic, written once: the lane helpers of 8-lane
//! `wide::f32x8` and of 16-lane AVX-512, and the one exp / sigmoid / tanh
//! family in both widths.
//!
//! Every kernel that promises bits (the 16-lane element-wise kernels equal to
//! the 8-lane ones, the packed LSTM's cell equal to the 8-lane cell) keeps
//! its promise by calling these functions instead
//! of transcribing them again, so a change here is made once and the tests
//! of every caller see it.

pub mod lanes8;
pub mod math;

#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
#[allow(clippy::incompatible_msrv)]
pub mod lanes16;
