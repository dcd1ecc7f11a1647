//! AVX-512 lane helpers: broadcasts, lane masks, full and masked loads and
//! stores.
//!
//! A masked load zeroes the lanes outside its mask and a masked store leaves
//! them untouched in memory; the kernels are lane-wise, so what a masked-off
//! lane holds never reaches another lane.

use std::arch::x86_64::*;

pub const LANES: usize = 16;

/// `v` in every lane.
#[inline(always)]
pub unsafe fn splat(v: f32) -> __m512 {
    _mm512_set1_ps(v)
}

/// The mask of the first `min(n, 16)` lanes.
#[inline(always)]
pub fn first_lanes(n: usize) -> __mmask16 {
    ((1u32 << n.min(LANES)) - 1) as __mmask16
}

/// The lanes of a 16-value block starting at `j` of `len` values.
#[inline(always)]
pub fn tail_mask(len: usize, j: usize) -> __mmask16 {
    first_lanes(len - j)
}

/// The 16 values at `s[j..]`.
///
/// # Safety
/// AVX-512F is available and `j + 16 <= s.len()`.
#[inline(always)]
pub unsafe fn load(s: &[f32], j: usize) -> __m512 {
    debug_assert!(j + LANES <= s.len());
    _mm512_loadu_ps(s.as_ptr().add(j))
}

/// Writes `v` to `s[j..j + 16]`.
///
/// # Safety
/// AVX-512F is available and `j + 16 <= s.len()`.
#[inline(always)]
pub unsafe fn store(s: &mut [f32], j: usize, v: __m512) {
    debug_assert!(j + LANES <= s.len());
    _mm512_storeu_ps(s.as_mut_ptr().add(j), v)
}

/// The lanes of `m` at `p` (the others zero); a full mask is a plain load.
///
/// # Safety
/// AVX-512F is available and the lanes of `m` lie in memory the caller may read.
#[inline(always)]
pub unsafe fn load_masked(p: *const f32, m: __mmask16) -> __m512 {
    if m == u16::MAX {
        _mm512_loadu_ps(p)
    } else {
        _mm512_maskz_loadu_ps(m, p)
    }
}

/// The lanes of `m` of `v` to `p`; a full mask is a plain store.
///
/// # Safety
/// AVX-512F is available and the lanes of `m` lie in memory the caller may write.
#[inline(always)]
pub unsafe fn store_masked(p: *mut f32, m: __mmask16, v: __m512) {
    if m == u16::MAX {
        _mm512_storeu_ps(p, v)
    } else {
        _mm512_mask_storeu_ps(p, m, v)
    }
}

/// `|v|`: the sign bit cleared (as `wide`'s `abs`).
///
/// Compiled with AVX-512 enabled, unlike the helpers above, so that LLVM
/// sees the mask as `fabs` and shares it with `exp`'s range test: as a
/// plain inlined helper it cost the LSTM cell one more AND per `exp`.
#[target_feature(enable = "avx512f")]
#[inline]
pub unsafe fn abs(v: __m512) -> __m512 {
    _mm512_castsi512_ps(_mm512_and_si512(
        _mm512_castps_si512(v),
        _mm512_set1_epi32(i32::MAX),
    ))
}
