//! Element-wise CPU kernels in `wide::f32x8`, or in 16 AVX-512 lanes
//! (`simd16.rs`, the same bits) where `isa::element_wise` chose them.
//!
//! Tails shorter than eight lanes are copied into a padded vector and run
//! through the same vector code, so an element's result never depends on
//! where it sits in the buffer nor on how the buffer is split among threads.
//! Large inputs are split over the current rayon pool into disjoint chunks;
//! no kernel here reduces across chunks.
//!
//! `tanh` and `sigmoid` are the LSTM cell's (`vec::math`), so one function
//! gives one value in every layer; tests/kernels.rs measures their accuracy
//! against f64 references.

use super::vec::lanes8::{load, load_tail, store, store_tail, LANES};
use super::vec::math::{relu8, sigmoid8, tanh8};
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
use super::{
    isa::{element_wise, ElementWise},
    simd16,
};
use crate::backend::Activation;
use rayon::prelude::*;
use wide::{f32x8, CmpGt};

/// Inputs shorter than this stay on one thread: spawning costs more.
const PARALLEL_MIN_LEN: usize = 1 << 15;

/// How many values each parallel chunk gets: whole multiples of `unit`
/// (a row, or a vector), at least `PARALLEL_MIN_LEN / 2`, about one chunk per
/// thread. Returns `len` (one chunk) when splitting is not worth it.
fn chunk_len(len: usize, unit: usize) -> usize {
    let threads = rayon::current_num_threads();
    if threads < 2 || len < PARALLEL_MIN_LEN || unit == 0 {
        return len.max(1);
    }
    let per_thread = len.div_ceil(threads).max(PARALLEL_MIN_LEN / 2);
    (per_thread.div_ceil(unit) * unit).max(unit)
}

/// Copies a `[rows, width]` block between matrices of different widths:
/// `dst[r, dst_col0 + j] = src[r, src_col0 + j]` for `j < width`.
///
/// # Panics
/// If the block does not fit in either matrix (a bug in the caller).
#[allow(clippy::too_many_arguments)]
pub fn copy_block(
    rows: usize,
    width: usize,
    src: &[f32],
    src_cols: usize,
    src_col0: usize,
    dst: &mut [f32],
    dst_cols: usize,
    dst_col0: usize,
) {
    assert!(
        src_col0 + width <= src_cols && dst_col0 + width <= dst_cols,
        "copy_block: columns {src_col0}+{width} of {src_cols} -> {dst_col0}+{width} of {dst_cols}"
    );
    assert!(
        src.len() >= rows * src_cols && dst.len() >= rows * dst_cols,
        "copy_block: {rows} rows need [{rows}, {src_cols}] -> [{rows}, {dst_cols}], got {} and {} values",
        src.len(),
        dst.len()
    );
    if width == 0 {
        return;
    }
    for r in 0..rows {
        let s = r * src_cols + src_col0;
        let d = r * dst_cols + dst_col0;
        dst[d..d + width].copy_from_slice(&src[s..s + width]);
    }
}

/// In place on `x: [rows, cols]`: `x = act(x + bias)` with `bias: [cols]`.
///
/// # Panics
/// If `bias.len() != cols` or `x.len()` is not a multiple of `cols`.
pub fn bias_act_forward(act: Activation, cols: usize, bias: &[f32], x: &mut [f32]) {
    assert_eq!(bias.len(), cols, "bias_act_forward: bias length vs cols");
    if cols == 0 {
        assert!(x.is_empty(), "bias_act_forward: cols 0 with values");
        return;
    }
    assert_eq!(
        x.len() % cols,
        0,
        "bias_act_forward: {} values is not a whole number of rows of {cols}",
        x.len()
    );
    let chunk = chunk_len(x.len(), cols);
    let run = |part: &mut [f32]| {
        #[cfg(all(target_arch = "x86_64", vaeser_avx512))]
        if element_wise() == ElementWise::Lanes16 {
            // SAFETY: `Lanes16` is only chosen where AVX-512F runs; the
            // shapes were checked above and every part is whole rows.
            unsafe { simd16::bias_rows(act, cols, bias, part) };
            return;
        }
        bias_act_rows8(act, cols, bias, part)
    };
    if chunk >= x.len() {
        run(x);
    } else {
        x.par_chunks_mut(chunk).for_each(run);
    }
}

/// `x = act(x + bias)` on whole rows, one thread, in 8 lanes.
pub(super) fn bias_act_rows8(act: Activation, cols: usize, bias: &[f32], x: &mut [f32]) {
    match act {
        Activation::Identity => bias_rows(cols, bias, x, |v| v),
        Activation::Relu => bias_rows(cols, bias, x, relu8),
        Activation::Tanh => bias_rows(cols, bias, x, tanh8),
        Activation::Sigmoid => bias_rows(cols, bias, x, sigmoid8),
    }
}

#[inline(always)]
fn bias_rows(cols: usize, bias: &[f32], x: &mut [f32], f: impl Fn(f32x8) -> f32x8) {
    let full = cols / LANES * LANES;
    for row in x.chunks_exact_mut(cols) {
        let mut j = 0;
        while j < full {
            let v = load(row, j) + load(bias, j);
            store(row, j, f(v));
            j += LANES;
        }
        if full < cols {
            let v = load_tail(&row[full..]) + load_tail(&bias[full..]);
            store_tail(&mut row[full..], f(v));
        }
    }
}

/// `dx = dy * act'(.)`, the derivative computed from the activation's output
/// `y`: ReLU `y > 0`, tanh `1 - y^2`, sigmoid `y (1 - y)`, identity 1.
///
/// # Panics
/// If the three buffers differ in length.
pub fn act_backward(act: Activation, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert!(
        y.len() == dx.len() && dy.len() == dx.len(),
        "act_backward: y {}, dy {}, dx {} values",
        y.len(),
        dy.len(),
        dx.len()
    );
    #[cfg(all(target_arch = "x86_64", vaeser_avx512))]
    if act != Activation::Identity && element_wise() == ElementWise::Lanes16 {
        // SAFETY: `Lanes16` is only chosen where AVX-512F runs; the chunks
        // of the three buffers have one length.
        let run =
            |y: &[f32], dy: &[f32], dx: &mut [f32]| unsafe { simd16::act_backward(act, y, dy, dx) };
        let chunk = chunk_len(dx.len(), LANES);
        if chunk >= dx.len() {
            run(y, dy, dx);
        } else {
            dx.par_chunks_mut(chunk)
                .zip(y.par_chunks(chunk).zip(dy.par_chunks(chunk)))
                .for_each(|(o, (y, dy))| run(y, dy, o));
        }
        return;
    }
    act_backward8(act, y, dy, dx)
}

/// [`act_backward`] in 8 lanes.
pub(super) fn act_backward8(act: Activation, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    match act {
        Activation::Identity => dx.copy_from_slice(dy),
        Activation::Relu => zip_map(y, dy, dx, |y, dy| {
            y.cmp_gt(f32x8::ZERO).blend(dy, f32x8::ZERO)
        }),
        Activation::Tanh => zip_map(y, dy, dx, |y, dy| dy * y.mul_neg_add(y, f32x8::ONE)),
        Activation::Sigmoid => zip_map(y, dy, dx, |y, dy| dy * (y * (f32x8::ONE - y))),
    }
}

/// `out[i] = f(a[i], b[i])` over equal-length buffers, in parallel chunks.
#[inline(always)]
fn zip_map(a: &[f32], b: &[f32], out: &mut [f32], f: impl Fn(f32x8, f32x8) -> f32x8 + Sync) {
    let serial = |a: &[f32], b: &[f32], out: &mut [f32]| {
        let full = out.len() / LANES * LANES;
        let mut i = 0;
        while i < full {
            store(out, i, f(load(a, i), load(b, i)));
            i += LANES;
        }
        if full < out.len() {
            let v = f(load_tail(&a[full..]), load_tail(&b[full..]));
            store_tail(&mut out[full..], v);
        }
    };
    let chunk = chunk_len(out.len(), LANES);
    if chunk >= out.len() {
        serial(a, b, out);
    } else {
        out.par_chunks_mut(chunk)
            .zip(a.par_chunks(chunk).zip(b.par_chunks(chunk)))
            .for_each(|(o, (a, b))| serial(a, b, o));
    }
}

/// Column sums of `x: [rows, cols]` into `out: [cols]`. Each column is summed
/// over rows 0, 1, 2, ... in that order (starting from `out` itself when
/// `accumulate`), so the result does not depend on the thread count.
///
/// # Panics
/// If `out.len() != cols` or `x.len()` is not a multiple of `cols`.
pub fn col_sum(cols: usize, x: &[f32], out: &mut [f32], accumulate: bool) {
    assert_eq!(out.len(), cols, "col_sum: out length vs cols");
    if cols == 0 {
        assert!(x.is_empty(), "col_sum: cols 0 with values");
        return;
    }
    assert_eq!(
        x.len() % cols,
        0,
        "col_sum: {} values is not a whole number of rows of {cols}",
        x.len()
    );
    if !accumulate {
        out.fill(0.0);
    }
    // Parallel over disjoint column ranges: each column's sum stays whole on
    // one thread, in row order.
    let rows = x.len() / cols;
    let col_chunk = if rows * cols < PARALLEL_MIN_LEN || rayon::current_num_threads() < 2 {
        cols
    } else {
        (cols.div_ceil(rayon::current_num_threads()).div_ceil(LANES) * LANES).max(LANES)
    };
    if col_chunk >= cols {
        col_sum_range(cols, 0, x, out);
    } else {
        out.par_chunks_mut(col_chunk)
            .enumerate()
            .for_each(|(i, o)| col_sum_range(cols, i * col_chunk, x, o));
    }
}

/// Vectors of columns summed in one pass over the rows: 8 accumulators of
/// 8 lanes, 64 columns, so that each row's cache lines are read once per
/// 64 columns instead of once per 8 (the LSTM bias gradient sums 1600 rows
/// of 512-1024 columns: with one vector per pass every pass strode through
/// the whole matrix, 4 KB apart).
const COL_BLOCK: usize = 8;

/// Adds every row of `x[:, col0 .. col0 + out.len()]` into `out`, in row order.
fn col_sum_range(cols: usize, col0: usize, x: &[f32], out: &mut [f32]) {
    #[cfg(all(target_arch = "x86_64", vaeser_avx512))]
    if element_wise() == ElementWise::Lanes16 {
        // SAFETY: `Lanes16` is only chosen where AVX-512F runs; `col_sum`
        // checked that `x` is whole rows and the range lies in them.
        unsafe { simd16::col_sum_range(cols, col0, x, out) };
        return;
    }
    col_sum_range8(cols, col0, x, out)
}

/// [`col_sum_range`] in 8 lanes.
pub(super) fn col_sum_range8(cols: usize, col0: usize, x: &[f32], out: &mut [f32]) {
    let width = out.len();
    let full = width / LANES * LANES;
    let mut j = 0;
    while j < full {
        let n = COL_BLOCK.min((full - j) / LANES);
        let mut acc = [f32x8::ZERO; COL_BLOCK];
        for (v, a) in acc.iter_mut().enumerate().take(n) {
            *a = load(out, j + v * LANES);
        }
        for row in x.chunks_exact(cols) {
            let row = &row[col0 + j..col0 + j + n * LANES];
            for (v, a) in acc.iter_mut().enumerate().take(n) {
                *a += load(row, v * LANES);
            }
        }
        for (v, a) in acc.iter().enumerate().take(n) {
            store(out, j + v * LANES, *a);
        }
        j += n * LANES;
    }
    for (jj, o) in out.iter_mut().enumerate().skip(full) {
        let mut acc = *o;
        for row in x.chunks_exact(cols) {
            acc += row[col0 + jj];
        }
        *o = acc;
    }
}

/// The activation applied to one value, through the same vector code as the
/// kernels (so it matches them bit for bit). For code paths that work on
/// single values, and for tests.
pub fn activate(act: Activation, x: f32) -> f32 {
    let v = f32x8::splat(x);
    let y = match act {
        Activation::Identity => v,
        Activation::Relu => relu8(v),
        Activation::Tanh => tanh8(v),
        Activation::Sigmoid => sigmoid8(v),
    };
    y.to_array()[0]
}

/// `tanh` over a buffer in place, with the kernel's approximation.
pub fn tanh_in_place(x: &mut [f32]) {
    map_in_place(x, tanh8)
}

/// `sigmoid` over a buffer in place, with the kernel's approximation.
pub fn sigmoid_in_place(x: &mut [f32]) {
    map_in_place(x, sigmoid8)
}

fn map_in_place(x: &mut [f32], f: impl Fn(f32x8) -> f32x8 + Sync) {
    let serial = |x: &mut [f32]| {
        let full = x.len() / LANES * LANES;
        let mut i = 0;
        while i < full {
            let v = f(load(x, i));
            store(x, i, v);
            i += LANES;
        }
        if full < x.len() {
            let v = f(load_tail(&x[full..]));
            store_tail(&mut x[full..], v);
        }
    };
    let chunk = chunk_len(x.len(), LANES);
    if chunk >= x.len() {
        serial(x);
    } else {
        x.par_chunks_mut(chunk).for_each(serial);
    }
}
