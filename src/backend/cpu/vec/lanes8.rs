//! Loads and stores of `wide::f32x8` (8-lane AVX2 + FMA under the build's
//! x86-64-v3 pin) at an index of a slice.

use wide::f32x8;

pub const LANES: usize = 8;

/// The 8 values at `s[j..]`.
///
/// # Panics
/// If fewer than 8 values follow `j`.
#[inline(always)]
pub fn load(s: &[f32], j: usize) -> f32x8 {
    let a: [f32; LANES] = s[j..j + LANES].try_into().unwrap();
    f32x8::from(a)
}

/// Writes `v` to `s[j..j + 8]`.
///
/// # Panics
/// If fewer than 8 values follow `j`.
#[inline(always)]
pub fn store(s: &mut [f32], j: usize, v: f32x8) {
    s[j..j + LANES].copy_from_slice(&v.to_array());
}

/// A partial vector (`s.len() < 8`), zero-padded, so that a tail runs
/// through the same vector code as the full vectors before it.
#[inline(always)]
pub fn load_tail(s: &[f32]) -> f32x8 {
    let mut a = [0.0f32; LANES];
    a[..s.len()].copy_from_slice(s);
    f32x8::from(a)
}

/// The first `s.len()` lanes of `v` into `s`.
#[inline(always)]
pub fn store_tail(s: &mut [f32], v: f32x8) {
    let n = s.len();
    s.copy_from_slice(&v.to_array()[..n]);
}
