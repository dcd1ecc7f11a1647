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

use crate::backend::Transpose;

/// Below this many multiply-adds one thread is faster than waking others.
const PARALLEL_MIN_FLOPS: usize = 1 << 20;
/// Chunks are whole multiples of this many rows: a multiple of matrixmultiply's
/// micro-kernel height (8 for f32 on AVX2, 16 on AVX-512) keeps every chunk's
/// packing full.
const ROW_ALIGN: usize = 16;

/// `C[m, n] = alpha * op(A) op(B) + beta * C`, see `Backend::gemm`.
///
/// `A` is stored `[m, k]` (No) or `[k, m]` (Yes); `B` is stored `[k, n]` (No)
/// or `[n, k]` (Yes). Only the first `m * n` values of `c` are touched. With
/// `beta == 0` the old contents of C are never read (NaNs included).
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
    assert!(
        a.len() >= m * k,
        "gemm: A has {} values, op(A) is [{m}, {k}]",
        a.len()
    );
    assert!(
        b.len() >= k * n,
        "gemm: B has {} values, op(B) is [{k}, {n}]",
        b.len()
    );
    assert!(
        c.len() >= m * n,
        "gemm: C has {} values, needs [{m}, {n}]",
        c.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    let c = &mut c[..m * n];
    if k == 0 || alpha == 0.0 {
        scale_c(beta, c);
        return;
    }

    let threads = rayon::current_num_threads();
    let chunks = if m * n * k < PARALLEL_MIN_FLOPS || threads < 2 {
        1
    } else {
        threads.min(m.div_ceil(ROW_ALIGN))
    };
    if chunks <= 1 {
        gemm_rows(ta, tb, m, 0, m, n, k, alpha, a, b, beta, c);
        return;
    }
    let rows_per_chunk = m.div_ceil(chunks).div_ceil(ROW_ALIGN) * ROW_ALIGN;
    // The chunks write disjoint rows of C: parallel is safe and the order in
    // which they finish does not matter.
    rayon::scope(|s| {
        for (i, c_rows) in c.chunks_mut(rows_per_chunk * n).enumerate() {
            let row0 = i * rows_per_chunk;
            let rows = c_rows.len() / n;
            s.spawn(move |_| gemm_rows(ta, tb, m, row0, rows, n, k, alpha, a, b, beta, c_rows));
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

/// Rows `row0 .. row0 + rows` of the `[m, n]` product, single-threaded.
#[allow(clippy::too_many_arguments)]
fn gemm_rows(
    ta: Transpose,
    tb: Transpose,
    m: usize,
    row0: usize,
    rows: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    b: &[f32],
    beta: f32,
    c_rows: &mut [f32],
) {
    // Strides express the transposes: element (i, p) of op(A) sits at
    // i * rsa + p * csa in the stored A.
    let (a_start, rsa, csa) = match ta {
        Transpose::No => (row0 * k, k as isize, 1),
        Transpose::Yes => (row0, 1, m as isize),
    };
    let (rsb, csb) = match tb {
        Transpose::No => (n as isize, 1),
        Transpose::Yes => (1, k as isize),
    };
    let a_sub = &a[a_start..];
    debug_assert_eq!(c_rows.len(), rows * n);
    // SAFETY: the asserts in `gemm` guarantee every element matrixmultiply
    // reads lies inside `a` and `b`, and that C's `rows * n` values lie inside
    // `c_rows`; C's strides (n, 1) never alias.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            k,
            n,
            alpha,
            a_sub.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c_rows.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}
