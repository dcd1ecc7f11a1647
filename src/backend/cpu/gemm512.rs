//! An AVX-512 GEMM that gives matrixmultiply's bits with less packing.
//!
//! # Why
//! matrixmultiply packs both operands of every product, one scalar at a
//! time whenever an operand is not contiguous along its packing direction:
//! the activations `x` (row-major A, packed down its columns) and the
//! weights of a forward pass (`W^T`, packed across its rows). At the VAE's
//! batch of 256 that packing was a fifth of the GEMM time. Here A is never
//! packed (its values are broadcast straight from memory, whatever its
//! strides), and B is packed once per block of `k` into 64-column panels,
//! with whole-row copies when B is row-major.
//!
//! # Results
//! Bit-identical to matrixmultiply's AVX-512 kernel for `alpha == 1` (the
//! only alpha this path takes): the tiles of `vec::tile512` round as it does
//! (see there), given each block of `k` with its epilogue. The tests compare
//! the two over odd shapes, transposes, betas and several blocks of `k`.
//!
//! # Tiles
//! `vec::tile512`'s 6-row x 64-column tile, row tiles outside and panels
//! inside, so that a tile's rows of A stay in L1 while the panels stream past.

use super::vec::lanes16::LANES;
use super::vec::tile512::{masks, tile_rows, Dest, Epilogue, Panel, Rows, KC, MR, NR};
use crate::backend::{Gemm, Transpose};
use std::arch::x86_64::*;
use std::cell::Cell;

/// Whether this CPU runs this path: where matrixmultiply would choose its
/// AVX-512 kernel, whose bits this path reproduces (and unless
/// `VAESER_NO_AVX512=1` asks for matrixmultiply itself, see `isa.rs`).
pub(super) fn available() -> bool {
    super::isa::avx512_allowed()
}

thread_local! {
    /// The packed panels of B, kept between calls so that a product does not
    /// allocate (and page-fault) its buffer every time.
    static PACKED: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

fn with_packed<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    super::aligned_scratch::with_scratch(&PACKED, len, f)
}

/// Rows `row0 .. row0 + rows` of `C = op(A) op(B) + beta C` (alpha 1),
/// single-threaded; `c_rows` starts at row `row0` of C.
///
/// # Safety
/// AVX-512F is available (see [`available`]); `op.alpha == 1`; the buffers
/// hold what `op` describes (checked by `gemm::gemm_op`), and `c_rows`
/// holds rows `row0 .. row0 + rows` of C, `op.ldc` apart.
pub(super) unsafe fn gemm_rows(
    op: &Gemm,
    row0: usize,
    rows: usize,
    a: &[f32],
    b: &[f32],
    c_rows: &mut [f32],
) {
    debug_assert!(op.alpha == 1.0);
    let (n, k) = (op.n, op.k);
    // Element (i, p) of op(A) at i * rsa + p * csa; (p, j) of op(B) at
    // p * rsb + j * csb.
    let (a_start, rsa, csa) = match op.ta {
        Transpose::No => (row0 * op.lda, op.lda, 1),
        Transpose::Yes => (row0, 1, op.lda),
    };
    let (rsb, csb) = match op.tb {
        Transpose::No => (op.ldb, 1),
        Transpose::Yes => (1, op.ldb),
    };
    let panels = n.div_ceil(NR);
    let a = Rows {
        a: a.as_ptr().add(a_start),
        rs: rsa,
        cs: csa,
    };
    // Columns `j0 ..` of rows `r0 ..` of C: the four registers side by side,
    // the lanes up to column `n`.
    let c_ptr = c_rows.as_mut_ptr();
    let c = |r0: usize, j0: usize| Dest {
        c: c_ptr.add(r0 * op.ldc + j0),
        ldc: op.ldc,
        offsets: [0, LANES, 2 * LANES, 3 * LANES],
        masks: masks(n - j0),
    };
    if csb == 1 {
        // Row-major B: its rows are the panels' rows already (`ldb` apart),
        // so the tiles read them in place; nothing is packed.
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for_tiles(rows, panels, |r0, p| {
                let j0 = p * NR;
                let panel = Panel {
                    b: b.as_ptr().add(k0 * rsb + j0),
                    stride: rsb,
                    masks: masks(n - j0),
                };
                let e = Epilogue::block(k0, op.beta);
                tile_rows(rows - r0, kc, a.at(r0, k0), panel, c(r0, j0), e);
            });
        }
        return;
    }
    let kc_max = KC.min(k);
    with_packed(panels * kc_max * NR, |packed| {
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            pack_transposed(b, csb, k0, kc, n, packed);
            for_tiles(rows, panels, |r0, p| {
                let j0 = p * NR;
                let panel = Panel {
                    b: packed.as_ptr().add(p * kc * NR),
                    stride: NR,
                    masks: [u16::MAX; 4],
                };
                let e = Epilogue::block(k0, op.beta);
                tile_rows(rows - r0, kc, a.at(r0, k0), panel, c(r0, j0), e);
            });
        }
    });
}

/// Calls `f(r0, panel)` for every tile: row tiles of [`MR`] outside, so that
/// a tile's rows of A stay in L1 while the panels stream past.
#[inline(always)]
fn for_tiles(rows: usize, panels: usize, mut f: impl FnMut(usize, usize)) {
    let mut r0 = 0;
    while r0 < rows {
        for p in 0..panels {
            f(r0, p);
        }
        r0 += MR;
    }
}

/// Rows `k0 .. k0 + kc` of op(B) = W^T (W row-major, rows `ldw` apart)
/// into panels of [`NR`] columns: panel `p` holds, for each `k`, the values
/// of columns `p NR ..`, zero past `n`.
///
/// # Safety
/// `w` holds rows `0 .. n` of W up to column `k0 + kc`; `packed` holds
/// `n.div_ceil(NR) * kc * NR` values.
unsafe fn pack_transposed(
    w: &[f32],
    ldw: usize,
    k0: usize,
    kc: usize,
    n: usize,
    packed: &mut [f32],
) {
    let panels = n.div_ceil(NR);
    debug_assert!(packed.len() >= panels * kc * NR);
    for p in 0..panels {
        let j0 = p * NR;
        let width = NR.min(n - j0);
        let panel = &mut packed[p * kc * NR..(p + 1) * kc * NR];
        if width < NR {
            panel.fill(0.0);
        }
        // Column j of the panel is a slice of row j0 + j of W. Groups of 16
        // whole rows go through 16 x 16 register transposes; the rest (a
        // last narrow group, `kc % 16` trailing values) one value at a time.
        let kc16 = kc / LANES * LANES;
        for g in 0..width.div_ceil(LANES) {
            let rows = LANES.min(width - g * LANES);
            let scalar_from = if rows == LANES { kc16 } else { 0 };
            if rows == LANES {
                for kb in (0..kc16).step_by(LANES) {
                    let src = w.as_ptr().add((j0 + g * LANES) * ldw + k0 + kb);
                    let dst = panel.as_mut_ptr().add(kb * NR + g * LANES);
                    transpose16(src, ldw, dst, NR);
                }
            }
            for j in g * LANES..g * LANES + rows {
                let src = &w[(j0 + j) * ldw + k0..(j0 + j) * ldw + k0 + kc];
                for (kk, &v) in src.iter().enumerate().skip(scalar_from) {
                    *panel.get_unchecked_mut(kk * NR + j) = v;
                }
            }
        }
    }
}

/// `dst[t * ldd + i] = src[i * lds + t]` for `i, t < 16`: a 16 x 16 block
/// transposed in registers (unpack pairs of rows, then pairs of pairs, then
/// 128-bit lanes twice).
///
/// # Safety
/// AVX-512F; both blocks lie in memory the caller may read / write.
#[target_feature(enable = "avx512f")]
unsafe fn transpose16(src: *const f32, lds: usize, dst: *mut f32, ldd: usize) {
    let r: [__m512; 16] = std::array::from_fn(|i| _mm512_loadu_ps(src.add(i * lds)));
    let mut t = [_mm512_setzero_ps(); 16];
    for i in 0..8 {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    let pd = _mm512_castps_pd;
    let ps = _mm512_castpd_ps;
    let mut u = [_mm512_setzero_ps(); 16];
    for b in 0..4 {
        let (x0, x1, x2, x3) = (t[4 * b], t[4 * b + 1], t[4 * b + 2], t[4 * b + 3]);
        u[4 * b] = ps(_mm512_unpacklo_pd(pd(x0), pd(x2)));
        u[4 * b + 1] = ps(_mm512_unpackhi_pd(pd(x0), pd(x2)));
        u[4 * b + 2] = ps(_mm512_unpacklo_pd(pd(x1), pd(x3)));
        u[4 * b + 3] = ps(_mm512_unpackhi_pd(pd(x1), pd(x3)));
    }
    for h in 0..2 {
        let o = 8 * h;
        for i in 0..4 {
            t[o + i] = _mm512_shuffle_f32x4::<0x88>(u[o + i], u[o + 4 + i]);
            t[o + 4 + i] = _mm512_shuffle_f32x4::<0xdd>(u[o + i], u[o + 4 + i]);
        }
    }
    for i in 0..8 {
        let lo = _mm512_shuffle_f32x4::<0x88>(t[i], t[8 + i]);
        let hi = _mm512_shuffle_f32x4::<0xdd>(t[i], t[8 + i]);
        _mm512_storeu_ps(dst.add(i * ldd), lo);
        _mm512_storeu_ps(dst.add((8 + i) * ldd), hi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn reference(op: &Gemm, a: &[f32], b: &[f32], c: &mut [f32]) {
        let (rsa, csa) = match op.ta {
            Transpose::No => (op.lda as isize, 1),
            Transpose::Yes => (1, op.lda as isize),
        };
        let (rsb, csb) = match op.tb {
            Transpose::No => (op.ldb as isize, 1),
            Transpose::Yes => (1, op.ldb as isize),
        };
        // SAFETY: the shapes below fit the buffers.
        unsafe {
            matrixmultiply::sgemm(
                op.m,
                op.k,
                op.n,
                op.alpha,
                a.as_ptr(),
                rsa,
                csa,
                b.as_ptr(),
                rsb,
                csb,
                op.beta,
                c.as_mut_ptr(),
                op.ldc as isize,
                1,
            )
        }
    }

    #[test]
    fn transpose16_transposes() {
        if !std::is_x86_feature_detected!("avx512f") {
            return;
        }
        let (lds, ldd) = (19, 21);
        let src: Vec<f32> = (0..16 * lds).map(|v| v as f32).collect();
        let mut dst = vec![-1.0f32; 16 * ldd];
        unsafe { transpose16(src.as_ptr(), lds, dst.as_mut_ptr(), ldd) };
        for i in 0..16 {
            for t in 0..16 {
                assert_eq!(dst[t * ldd + i], src[i * lds + t], "row {i} column {t}");
            }
            for pad in 16..ldd {
                assert_eq!(dst[i * ldd + pad], -1.0, "untouched past the block");
            }
        }
    }

    #[test]
    fn matches_matrixmultiply_bit_for_bit() {
        if !std::is_x86_feature_detected!("avx512f") {
            eprintln!("no AVX-512F: the path cannot run here");
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(512);
        let shapes = [
            (1, 1, 1),
            (7, 17, 15),
            (6, 64, 256),
            (13, 65, 257),
            (33, 130, 513),
            (256, 128, 800),
            (40, 800, 31),
            (17, 100, 1023),
        ];
        let mut cases = 0;
        for &(m, n, k) in &shapes {
            for ta in [Transpose::No, Transpose::Yes] {
                for tb in [Transpose::No, Transpose::Yes] {
                    for beta in [0.0f32, 1.0, 0.5] {
                        // Leading dimensions wider than the operands, and a
                        // C with room either side of the block.
                        let lda = if ta == Transpose::No { k + 3 } else { m + 2 };
                        let ldb = if tb == Transpose::No { n + 1 } else { k + 5 };
                        let ldc = n + 4;
                        let op = Gemm {
                            ta,
                            tb,
                            m,
                            n,
                            k,
                            alpha: 1.0,
                            beta,
                            lda,
                            ldb,
                            ldc,
                        };
                        let (na, nb, nc) = op.extents();
                        let a: Vec<f32> = (0..na).map(|_| rng.gen_range(-1.0..1.0)).collect();
                        let b: Vec<f32> = (0..nb).map(|_| rng.gen_range(-1.0..1.0)).collect();
                        let c0: Vec<f32> = (0..nc).map(|_| rng.gen_range(-1.0..1.0)).collect();
                        let mut want = c0.clone();
                        reference(&op, &a, &b, &mut want);
                        // Whole, and split into row ranges as threads do.
                        for split in [m, 6, 16] {
                            let mut got = c0.clone();
                            let mut row0 = 0;
                            while row0 < m {
                                let rows = split.min(m - row0);
                                unsafe {
                                    gemm_rows(&op, row0, rows, &a, &b, &mut got[row0 * ldc..]);
                                }
                                row0 += rows;
                            }
                            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                                assert_eq!(
                                    g.to_bits(),
                                    w.to_bits(),
                                    "m {m} n {n} k {k} {ta:?} {tb:?} beta {beta} split {split}: \
                                     element {i}: {g} vs {w}"
                                );
                            }
                            cases += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(cases, shapes.len() * 4 * 3 * 3);
    }
}
