//! The one exp / sigmoid / tanh family of the CPU backend, in 8 lanes
//! (`wide::f32x8`) and in 16 (AVX-512) side by side, with ReLU beside them.
//!
//! The family is `wide` 0.7's `exp` (`x = n ln2 + r`, a degree-5 polynomial
//! in Estrin's order for `(exp(r) - 1 - r) / r^2`, `2^n` built in the
//! exponent bits, 0 outside `|x| < 87.3`), with
//! `sigmoid(x) = 1 / (1 + exp(min(-x, 80)))` and
//! `tanh(x) = sign(x) (1 - e) / (1 + e)`, `e = exp(-2|x|)`. The LSTM cell has
//! always computed its gates with it, so every trained model's bits depend on
//! it; the dense layers' sigmoid and tanh use it too, so that one function
//! gives one value wherever it runs.
//!
//! Accuracy (tests/kernels.rs holds it to these bounds against f64):
//! sigmoid within 3 ulp for `x >= -80` (2.4 measured), and below that held
//! at sigmoid(-80) ~ 1.8e-35, the cap that keeps `exp` inside its range;
//! tanh within 3 ulp for `|x| >= 0.625` (1.5 measured), and within 2^-23
//! absolute everywhere: below 0.625 `1 - e` cancels, so the relative error
//! grows toward 0 (tiny arguments give 0).
//!
//! The 16-lane functions transcribe the 8-lane ones operation for operation
//! (`wide`'s `exp`, `Neg` as `0 - x`, `fast_min` as `min_ps`, whose NaN
//! rule it shares, `abs` and `copysign` as bit masks). Every operation is
//! lane-wise and IEEE-exact, so each lane gets the bits `f32x8` gives it;
//! the tests of `simd16.rs` and `lstm_packed.rs` compare them bit for bit.

// The 16-lane half uses AVX-512 intrinsics (Rust 1.89); build.rs leaves it
// out of older compilers' builds through `cfg(vaeser_avx512)`.
#![allow(clippy::incompatible_msrv)]

#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
use super::lanes16::{abs, splat};
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
use std::arch::x86_64::*;
use wide::{f32x8, CmpGt};

/// `wide`'s `exp`: 0 for `|x| >= 87.3`, NaN and infinities included.
#[inline(always)]
pub fn exp8(x: f32x8) -> f32x8 {
    x.exp()
}

/// [`exp8`], lane for lane (its constants as `wide` writes them).
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
#[target_feature(enable = "avx512f")]
#[allow(clippy::excessive_precision)]
#[inline]
pub unsafe fn exp16(x: __m512) -> __m512 {
    let r = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
        _mm512_mul_ps(x, splat(std::f32::consts::LOG2_E)),
    );
    let y = _mm512_fnmadd_ps(r, splat(0.693359375), x);
    let y = _mm512_fnmadd_ps(r, splat(-2.12194440e-4), y);
    let (p0, p1, p2) = (splat(1.0 / 2.0), splat(1.0 / 6.0), splat(1.0 / 24.0));
    let (p3, p4, p5) = (splat(1.0 / 120.0), splat(1.0 / 720.0), splat(1.0 / 5040.0));
    let y2 = _mm512_mul_ps(y, y);
    let y4 = _mm512_mul_ps(y2, y2);
    let z = _mm512_fmadd_ps(
        _mm512_fmadd_ps(p3, y, p2),
        y2,
        _mm512_fmadd_ps(_mm512_fmadd_ps(p5, y, p4), y4, _mm512_fmadd_ps(p1, y, p0)),
    );
    let z = _mm512_fmadd_ps(z, _mm512_mul_ps(y, y), y);
    let biased = _mm512_add_ps(r, splat(127.0 + 8388608.0));
    let n2 = _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_castps_si512(biased)));
    let z = _mm512_mul_ps(_mm512_add_ps(z, splat(1.0)), n2);
    let in_range = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(abs(x), splat(87.3));
    let exponent = _mm512_and_si512(
        _mm512_slli_epi32::<1>(_mm512_castps_si512(x)),
        _mm512_set1_epi32(0xFF00_0000u32 as i32),
    );
    let finite = _mm512_cmpneq_epi32_mask(exponent, _mm512_set1_epi32(0xFF00_0000u32 as i32));
    _mm512_maskz_mov_ps(in_range & finite, z)
}

/// `1 / (1 + exp(-x))`. `exp` returns 0 beyond 87.3, so its argument is
/// capped: sigmoid(-80) ~ 1.8e-35 stands for everything below.
#[inline(always)]
pub fn sigmoid8(x: f32x8) -> f32x8 {
    let e = exp8((-x).fast_min(f32x8::splat(80.0)));
    f32x8::ONE / (f32x8::ONE + e)
}

/// [`sigmoid8`], lane for lane.
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
#[target_feature(enable = "avx512f")]
#[inline]
pub unsafe fn sigmoid16(x: __m512) -> __m512 {
    let e = exp16(_mm512_min_ps(
        _mm512_sub_ps(_mm512_setzero_ps(), x),
        splat(80.0),
    ));
    _mm512_div_ps(splat(1.0), _mm512_add_ps(splat(1.0), e))
}

/// `tanh(x) = sign(x) (1 - e) / (1 + e)` with `e = exp(-2|x|) <= 1`, which
/// never overflows.
#[inline(always)]
pub fn tanh8(x: f32x8) -> f32x8 {
    let e = exp8(x.abs() * f32x8::splat(-2.0));
    ((f32x8::ONE - e) / (f32x8::ONE + e)).copysign(x)
}

/// [`tanh8`], lane for lane.
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
#[target_feature(enable = "avx512f")]
#[inline]
pub unsafe fn tanh16(x: __m512) -> __m512 {
    let e = exp16(_mm512_mul_ps(abs(x), splat(-2.0)));
    let t = _mm512_div_ps(_mm512_sub_ps(splat(1.0), e), _mm512_add_ps(splat(1.0), e));
    let sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(i32::MIN));
    _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(abs(t)), sign))
}

/// `v > 0 ? v : 0` (NaN and -0 give +0).
#[inline(always)]
pub fn relu8(v: f32x8) -> f32x8 {
    v.cmp_gt(f32x8::ZERO).blend(v, f32x8::ZERO)
}

/// [`relu8`], lane for lane.
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
#[inline(always)]
pub unsafe fn relu16(v: __m512) -> __m512 {
    _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, _mm512_setzero_ps()), v)
}
