//! The CPU backend: GEMM through matrixmultiply split over rayon, element-wise
//! kernels in `wide::f32x8` with scalar tails.
//!
//! Threads come from the current rayon pool (the global one, sized by
//! `--threads`, or a pool entered with `ThreadPool::install`). Every kernel
//! splits work only over disjoint outputs, so results never depend on the
//! number of threads.

pub mod adam;
pub mod gaussian;
pub mod gemm;
pub mod loss;
pub mod lstm_cell;
pub mod simd;

use super::{Activation, AdamStep, Backend, Transpose};
use crate::error::Result;
use std::ops::Range;

/// The CPU backend. Stateless: buffers are plain `Vec<f32>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu;

impl Backend for Cpu {
    type Buf = Vec<f32>;
    type View<'a> = &'a [f32];
    type ViewMut<'a> = &'a mut [f32];

    fn alloc(&self, len: usize) -> Result<Vec<f32>> {
        crate::limits::try_zeroed(len, "CPU backend buffer")
    }
    fn len(&self, buf: &Vec<f32>) -> usize {
        buf.len()
    }
    fn view<'a>(&self, buf: &'a Vec<f32>, range: Range<usize>) -> &'a [f32] {
        &buf[range]
    }
    fn view_mut<'a>(&self, buf: &'a mut Vec<f32>, range: Range<usize>) -> &'a mut [f32] {
        &mut buf[range]
    }
    fn split_mut<'a>(&self, buf: &'a mut Vec<f32>, ranges: &[Range<usize>]) -> Vec<&'a mut [f32]> {
        split_disjoint_mut(buf, ranges)
    }
    fn upload(&self, src: &[f32], dst: &mut [f32]) {
        dst[..src.len()].copy_from_slice(src);
    }
    fn download(&self, src: &[f32], dst: &mut [f32]) {
        dst.copy_from_slice(&src[..dst.len()]);
    }
    fn fill(&self, dst: &mut [f32], value: f32) {
        dst.fill(value);
    }
    fn copy_block(
        &self,
        rows: usize,
        width: usize,
        src: &[f32],
        src_cols: usize,
        src_col0: usize,
        dst: &mut [f32],
        dst_cols: usize,
        dst_col0: usize,
    ) {
        simd::copy_block(
            rows, width, src, src_cols, src_col0, dst, dst_cols, dst_col0,
        )
    }
    fn gemm(
        &self,
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
        gemm::gemm(ta, tb, m, n, k, alpha, a, b, beta, c)
    }
    fn bias_act_forward(&self, act: Activation, cols: usize, bias: &[f32], x: &mut [f32]) {
        simd::bias_act_forward(act, cols, bias, x)
    }
    fn act_backward(&self, act: Activation, y: &[f32], dy: &[f32], dx: &mut [f32]) {
        simd::act_backward(act, y, dy, dx)
    }
    fn col_sum(&self, cols: usize, x: &[f32], out: &mut [f32], accumulate: bool) {
        simd::col_sum(cols, x, out, accumulate)
    }
    fn lstm_cell_forward(
        &self,
        hidden: usize,
        active: &[bool],
        bias: &[f32],
        gates: &mut [f32],
        c: &mut [f32],
        h: &mut [f32],
    ) {
        lstm_cell::forward(hidden, active, bias, gates, c, h)
    }
    fn lstm_cell_backward(
        &self,
        hidden: usize,
        active: &[bool],
        gates: &[f32],
        c_prev: &[f32],
        c: &[f32],
        dh: &[f32],
        dc: &mut [f32],
        dgates: &mut [f32],
        dh_carry: &mut [f32],
    ) {
        lstm_cell::backward(hidden, active, gates, c_prev, c, dh, dc, dgates, dh_carry)
    }
    fn gaussian_forward(&self, mu: &[f32], logvar: &[f32], eps: &[f32], z: &mut [f32]) -> f32 {
        gaussian::forward(mu, logvar, eps, z)
    }
    fn gaussian_backward(
        &self,
        kl_scale: f32,
        mu: &[f32],
        logvar: &[f32],
        eps: &[f32],
        dz: &[f32],
        dmu: &mut [f32],
        dlogvar: &mut [f32],
    ) {
        gaussian::backward(kl_scale, mu, logvar, eps, dz, dmu, dlogvar)
    }
    fn sse_loss(&self, rows: usize, pred: &[f32], target: &[f32], dpred: &mut [f32]) -> f32 {
        loss::sse(rows, pred, target, dpred)
    }
    fn softmax_xent(
        &self,
        classes: usize,
        logits: &[f32],
        labels: &[u32],
        probs: &mut [f32],
        dlogits: &mut [f32],
    ) -> f32 {
        loss::softmax_xent(classes, logits, labels, probs, dlogits)
    }
    fn adam(&self, hp: AdamStep, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
        adam::step(hp, params, grads, m, v)
    }
}

/// Splits `buf` into the given sorted, non-overlapping ranges.
///
/// # Panics
/// If the ranges are unsorted, overlap or run past the buffer: that is a bug
/// in the caller's layout, not bad input.
pub fn split_disjoint_mut<'a>(buf: &'a mut [f32], ranges: &[Range<usize>]) -> Vec<&'a mut [f32]> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut rest = buf;
    let mut consumed = 0;
    for r in ranges {
        assert!(
            r.start >= consumed && r.start <= r.end,
            "ranges must be sorted and disjoint"
        );
        let tail = std::mem::take(&mut rest);
        let (_, tail) = tail.split_at_mut(r.start - consumed);
        let (piece, tail) = tail.split_at_mut(r.end - r.start);
        out.push(piece);
        rest = tail;
        consumed = r.end;
    }
    out
}
