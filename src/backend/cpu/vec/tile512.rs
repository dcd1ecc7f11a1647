//! The AVX-512 multiply tile of `gemm512.rs` and `lstm_packed.rs`: up to
//! [`MR`] rows of A times one panel of [`NR`] columns (four 16-lane
//! registers) over a block of at most [`KC`] values of `k`.
//!
//! # Registers
//! 6 rows x 4 registers accumulate, 4 hold the panel's row and one a
//! broadcast value of A: 29 of the 32, so each `k` costs 4 loads and 6
//! broadcasts for 24 FMAs (matrixmultiply's 16 x 16 tile: 17 loads for 16).
//!
//! # Rounding
//! Both callers promise matrixmultiply's bits (its AVX-512 kernel, alpha 1):
//! every element of C is, for each block of [`KC`] values of `k` from 0, one
//! chain of fused multiply-adds in ascending `k` started from zero, added to
//! C once per block. The first block writes `acc` (beta 0) or
//! `C * beta + acc` (one rounding each, as matrixmultiply's
//! `fma(alpha, acc, C * beta)` with alpha 1), later blocks `C + acc`
//! ([`Epilogue`]). A caller keeps the promise by cutting `k` at multiples of
//! [`KC`] and passing each block's epilogue, as [`panel_product`] does.

use super::lanes16::{load_masked, store_masked, LANES};
use std::arch::x86_64::*;

/// matrixmultiply's `S_KC`: its products add into C once per this many
/// values of `k`, and so do the tiles, to round the same way.
pub const KC: usize = 256;
/// Rows of a tile (see the module comment for the register count).
pub const MR: usize = 6;
/// Columns of a panel: four 16-lane registers.
pub const NR: usize = 4 * LANES;

/// Where a tile reads A: element `(r, k)` at `a + r * rs + k * cs`.
#[derive(Clone, Copy)]
pub struct Rows {
    pub a: *const f32,
    pub rs: usize,
    pub cs: usize,
}

impl Rows {
    /// The operand from row `r0` and value `k0` on.
    ///
    /// # Safety
    /// The element stays inside A's buffer.
    #[inline(always)]
    pub unsafe fn at(self, r0: usize, k0: usize) -> Self {
        Rows {
            a: self.a.add(r0 * self.rs + k0 * self.cs),
            ..self
        }
    }
}

/// Where a tile reads its 64 columns of B: row `k` at `b + k * stride`, the
/// lanes of `masks` only (a row-major B's last panel may be narrower).
#[derive(Clone, Copy)]
pub struct Panel {
    pub b: *const f32,
    pub stride: usize,
    pub masks: [u16; 4],
}

impl Panel {
    /// The panel from row `k0` on.
    ///
    /// # Safety
    /// The row stays inside the panel's buffer.
    #[inline(always)]
    pub unsafe fn at_k(self, k0: usize) -> Self {
        Panel {
            b: self.b.add(k0 * self.stride),
            ..self
        }
    }
}

/// Where a tile's sums go: register `q` of row `r` at
/// `c + r * ldc + offsets[q]`, the lanes of `masks[q]` only.
#[derive(Clone, Copy)]
pub struct Dest {
    pub c: *mut f32,
    pub ldc: usize,
    pub offsets: [usize; 4],
    pub masks: [u16; 4],
}

impl Dest {
    /// The destination from row `r0` on.
    ///
    /// # Safety
    /// The row stays inside C's buffer.
    #[inline(always)]
    pub unsafe fn at_row(self, r0: usize) -> Self {
        Dest {
            c: self.c.add(r0 * self.ldc),
            ..self
        }
    }
}

/// How a block's sums reach C (see the module comment).
#[derive(Clone, Copy)]
pub struct Epilogue {
    /// The first block of `k`: `C * beta + acc`, or `acc` when beta is 0
    /// (C's old values are then not read).
    pub first: bool,
    pub beta: f32,
}

impl Epilogue {
    /// The epilogue of the block starting at `k0` of a product with `beta`.
    pub fn block(k0: usize, beta: f32) -> Self {
        Epilogue {
            first: k0 == 0,
            beta,
        }
    }
}

/// The masks of four registers whose columns start `left` columns before
/// the end of C's row.
pub fn masks(left: usize) -> [u16; 4] {
    std::array::from_fn(|q| super::lanes16::first_lanes(left.saturating_sub(q * LANES)))
}

/// `R` rows of C times one panel, over one block of `kc` values of `k`.
/// `FULL`: every lane of the panel is read; otherwise only its masks' lanes.
///
/// Always inlined, and without a `target_feature` of its own, so that it is
/// compiled into its caller's AVX-512 code: [`panel_product`] then is one
/// loop nest with the packed panel's stride and A's unit step as constants,
/// as the LSTM's product was before the tile was shared, instead of a call
/// per tile with its operands passed through memory.
///
/// # Safety
/// AVX-512F is available (the caller enables it); `a` reaches `R` rows of
/// `kc` values, the panel `kc` rows of its lanes, and every lane of C that
/// `c` names lies in memory the caller may write and no other thread
/// touches.
#[inline(always)]
unsafe fn tile<const R: usize, const FULL: bool>(
    kc: usize,
    a: Rows,
    panel: Panel,
    c: Dest,
    e: Epilogue,
) {
    let mut acc = [[_mm512_setzero_ps(); 4]; R];
    let m = panel.masks;
    for kk in 0..kc {
        let p = panel.b.add(kk * panel.stride);
        let b: [__m512; 4] = if FULL {
            std::array::from_fn(|q| _mm512_loadu_ps(p.add(q * LANES)))
        } else {
            std::array::from_fn(|q| _mm512_maskz_loadu_ps(m[q], p.add(q * LANES)))
        };
        let a_k = a.a.add(kk * a.cs);
        for (r, acc) in acc.iter_mut().enumerate() {
            let x = _mm512_set1_ps(*a_k.add(r * a.rs));
            for q in 0..4 {
                acc[q] = _mm512_fmadd_ps(x, b[q], acc[q]);
            }
        }
    }
    let beta = _mm512_set1_ps(e.beta);
    for (r, acc) in acc.iter().enumerate() {
        for (q, (&sum, &m)) in acc.iter().zip(&c.masks).enumerate() {
            if m == 0 {
                continue;
            }
            let dst = c.c.add(r * c.ldc + c.offsets[q]);
            let v = if e.first && e.beta == 0.0 {
                sum
            } else {
                let old = load_masked(dst, m);
                let old = if e.first {
                    _mm512_mul_ps(old, beta)
                } else {
                    old
                };
                _mm512_add_ps(old, sum)
            };
            store_masked(dst, m, v);
        }
    }
}

/// [`tile`] for the first `min(left, MR)` rows.
///
/// # Safety
/// As [`tile`].
#[inline(always)]
unsafe fn tile_for<const FULL: bool>(
    left: usize,
    kc: usize,
    a: Rows,
    b: Panel,
    c: Dest,
    e: Epilogue,
) {
    match left.min(MR) {
        1 => tile::<1, FULL>(kc, a, b, c, e),
        2 => tile::<2, FULL>(kc, a, b, c, e),
        3 => tile::<3, FULL>(kc, a, b, c, e),
        4 => tile::<4, FULL>(kc, a, b, c, e),
        5 => tile::<5, FULL>(kc, a, b, c, e),
        _ => tile::<MR, FULL>(kc, a, b, c, e),
    }
}

/// One tile of the first `min(left, MR)` rows, for callers compiled without
/// AVX-512 (one call per tile); the panel is read whole when its masks are
/// full.
///
/// # Safety
/// As [`tile`].
#[target_feature(enable = "avx512f")]
pub unsafe fn tile_rows(left: usize, kc: usize, a: Rows, b: Panel, c: Dest, e: Epilogue) {
    if b.masks == [u16::MAX; 4] {
        tile_for::<true>(left, kc, a, b, c, e)
    } else {
        tile_for::<false>(left, kc, a, b, c, e)
    }
}

/// `C (+)= A B` for `rows` rows of a row-major A (`lda` apart), `k` values
/// and one packed panel holding all `k` rows of B ([`NR`] values apart, read
/// whole): tiles of [`MR`] rows for every block of [`KC`] values of `k`, in
/// matrixmultiply's rounding. With `overwrite` the first block writes C
/// (beta 0: C is not read), else every block adds into C.
///
/// # Safety
/// As [`tile`], for all `rows` rows and `k` values.
#[target_feature(enable = "avx512f")]
pub unsafe fn panel_product(
    overwrite: bool,
    rows: usize,
    k: usize,
    a: *const f32,
    lda: usize,
    panel: *const f32,
    c: Dest,
) {
    let a = Rows { a, rs: lda, cs: 1 };
    let b = Panel {
        b: panel,
        stride: NR,
        masks: [u16::MAX; 4],
    };
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        let e = Epilogue {
            first: overwrite && k0 == 0,
            beta: 0.0,
        };
        for r0 in (0..rows).step_by(MR) {
            let (a, b, c) = (a.at(r0, k0), b.at_k(k0), c.at_row(r0));
            tile_for::<true>(rows - r0, kc, a, b, c, e);
        }
    }
}
