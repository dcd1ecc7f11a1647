//! GEMM on the CPU: matrixmultiply's single-threaded `sgemm`, split over the
//! rows of C across the current rayon pool.
//!
//! Why rows of C: every element of C is then computed by exactly one call,
//! over the whole K range, in matrixmultiply's fixed K order (its K blocking
//! does not depend on M). A different number of chunks changes which call
//! computes an element, never how, so results are bit-identical whatever the
//! thread count. matrixmultiply's own `threading` feature is deliberately
//! not enabled: a threaded GEMM inside rayon workers would oversubscribe.
//!
//! On AVX-512 CPUs the products with `alpha == 1` (all the layers') run
//! `gemm512.rs` instead, which gives matrixmultiply's AVX-512 bits with
//! less packing.
//!
//! matrixmultiply picks its micro-kernel (AVX-512, FMA/AVX2, SSE) when the
//! program runs, from what the CPU offers, whatever the crate was compiled
//! for. Results are therefore bit-identical on one CPU model, not across CPUs
//! with different instruction sets (the determinism promise of SPEC §7 is
//! "same build and CPU"). On an AVX-512 CPU the 256x800x512 products of the
//! VAE run at about 80% of the 16-lane FMA peak on one thread
//! (`cargo bench --bench gemm`).
//!
//! Measured cost of the split (256x800x512, two threads): two OS threads
//! running half the rows each take 0.63 ms against 1.05 ms for one thread,
//! but on a machine whose cores are busy with other processes rayon's second
//! worker is rarely on a core when the halves are spawned, and one worker
//! then runs both (1.18 ms: each half packs all of B again).

use crate::backend::{Gemm, Transpose};

/// Below this many multiply-adds one thread is faster than waking others.
const PARALLEL_MIN_FLOPS: usize = 1 << 20;
/// Chunks are whole multiples of this many rows: a multiple of matrixmultiply's
/// micro-kernel height (8 for f32 on AVX2, 16 on AVX-512) keeps every chunk's
/// packing full.
const ROW_ALIGN: usize = 16;

/// `C[m, n] = alpha * op(A) op(B) + beta * C` over contiguous operands:
/// [`gemm_op`] with the leading dimensions of [`Gemm::new`].
///
/// # Panics
/// If a buffer is shorter than its shape needs. Layers check shapes first and
/// return `Error::Shape`, so this only fires on a bug in the caller.
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    ta: Transpose,
    tb: Transpose,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    b: &[f32],
    beta: f32,
    c: &mut [f32],
) {
    gemm_op(&Gemm::new(ta, tb, m, n, k).alpha(alpha).beta(beta), a, b, c)
}

/// The product `op` describes (see `Backend::gemm`). Only the `[m, n]` block
/// of `c` (rows `ldc` apart) is touched. With `beta == 0` the old contents of
/// C are never read (NaNs included).
///
/// # Panics
/// If a buffer is shorter than its shape and leading dimension need, or a
/// leading dimension is narrower than its rows.
pub fn gemm_op(op: &Gemm, a: &[f32], b: &[f32], c: &mut [f32]) {
    let Gemm { m, n, k, .. } = *op;
    if let Err(e) = op.check() {
        panic!("{e}");
    }
    let (need_a, need_b, need_c) = op.extents();
    assert!(
        a.len() >= need_a,
        "gemm: A has {} values, op(A) is [{m}, {k}] with lda {}",
        a.len(),
        op.lda
    );
    assert!(
        b.len() >= need_b,
        "gemm: B has {} values, op(B) is [{k}, {n}] with ldb {}",
        b.len(),
        op.ldb
    );
    assert!(
        c.len() >= need_c,
        "gemm: C has {} values, needs [{m}, {n}] with ldc {}",
        c.len(),
        op.ldc
    );
    if m == 0 || n == 0 {
        return;
    }
    let c = &mut c[..need_c];
    if k == 0 || op.alpha == 0.0 {
        for row in 0..m {
            scale_c(op.beta, &mut c[row * op.ldc..row * op.ldc + n]);
        }
        return;
    }

    let threads = rayon::current_num_threads();
    let chunks = if m * n * k < PARALLEL_MIN_FLOPS || threads < 2 {
        1
    } else {
        threads.min(m.div_ceil(ROW_ALIGN))
    };
    if chunks <= 1 {
        gemm_rows(op, 0, m, a, b, c);
        return;
    }
    let rows_per_chunk = m.div_ceil(chunks).div_ceil(ROW_ALIGN) * ROW_ALIGN;
    // The chunks write disjoint rows of C: parallel is safe and the order in
    // which they finish does not matter.
    rayon::scope(|s| {
        let mut rest = c;
        let mut row0 = 0;
        while row0 < m {
            let rows = rows_per_chunk.min(m - row0);
            let take = if row0 + rows == m {
                rest.len()
            } else {
                rows * op.ldc
            };
            let (c_rows, tail) = std::mem::take(&mut rest).split_at_mut(take);
            rest = tail;
            let start = row0;
            s.spawn(move |_| gemm_rows(op, start, rows, a, b, c_rows));
            row0 += rows;
        }
    });
}

/// `C = beta * C`, with `beta == 0` writing zeros rather than `0 * C` (which
/// would keep NaNs).
fn scale_c(beta: f32, c: &mut [f32]) {
    if beta == 0.0 {
        c.fill(0.0);
    } else if beta != 1.0 {
        c.iter_mut().for_each(|x| *x *= beta);
    }
}

/// Rows `row0 .. row0 + rows` of the `[m, n]` product, single-threaded;
/// `c_rows` starts at row `row0` of C.
fn gemm_rows(op: &Gemm, row0: usize, rows: usize, a: &[f32], b: &[f32], c_rows: &mut [f32]) {
    #[cfg(all(target_arch = "x86_64", vaeser_avx512))]
    if op.alpha == 1.0 && super::gemm512::available() {
        // SAFETY: AVX-512F was detected and alpha is 1; `gemm_op` checked
        // the buffers against the shape, and `c_rows` starts at row `row0`.
        unsafe { super::gemm512::gemm_rows(op, row0, rows, a, b, c_rows) };
        return;
    }
    // Strides express the transposes: element (i, p) of op(A) sits at
    // i * rsa + p * csa in the stored A.
    let (a_start, rsa, csa) = match op.ta {
        Transpose::No => (row0 * op.lda, op.lda as isize, 1),
        Transpose::Yes => (row0, 1, op.lda as isize),
    };
    let (rsb, csb) = match op.tb {
        Transpose::No => (op.ldb as isize, 1),
        Transpose::Yes => (1, op.ldb as isize),
    };
    let a_sub = &a[a_start..];
    debug_assert!(c_rows.len() >= (rows - 1) * op.ldc + op.n);
    // SAFETY: the asserts in `gemm_op` guarantee every element matrixmultiply
    // reads lies inside `a` and `b`, and that C's rows (ldc apart, n wide)
    // lie inside `c_rows`; ldc >= n, so C's elements never alias.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            op.k,
            op.n,
            op.alpha,
            a_sub.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            op.beta,
            c_rows.as_mut_ptr(),
            op.ldc as isize,
            1,
        );
    }
}
