//! The CPU backend: GEMM through matrixmultiply split over rayon, element-wise
//! kernels in `wide::f32x8` with scalar tails.
//!
//! Threads come from the current rayon pool (the global one, sized by
//! `--threads`, or a pool entered with `ThreadPool::install`). Every kernel
//! splits work only over disjoint outputs, so results never depend on the
//! number of threads.

// The kernels are public for the benches and the kernel tests only: they
// are not part of the library's interface (the `Backend` trait is), hence
// hidden from its documentation.
#[doc(hidden)]
pub mod adam;
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
mod aligned_scratch;
#[doc(hidden)]
pub mod gaussian;
#[doc(hidden)]
pub mod gemm;
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
#[allow(clippy::incompatible_msrv)]
mod gemm512;
#[doc(hidden)]
pub mod isa;
#[doc(hidden)]
pub mod loss;
#[doc(hidden)]
pub mod lstm;
#[doc(hidden)]
pub mod lstm_cell;
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
#[allow(clippy::incompatible_msrv)]
mod lstm_cell16;
// Needs Rust >= 1.89 for AVX-512 (see build.rs); the crate's minimum is 1.80.
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
#[allow(clippy::incompatible_msrv)]
mod lstm_packed;
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
mod phases;
#[doc(hidden)]
pub mod simd;
#[cfg(all(target_arch = "x86_64", vaeser_avx512))]
#[allow(clippy::incompatible_msrv)]
mod simd16;
mod vec;

use super::{Activation, AdamStep, Backend, Gemm, LstmShape};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::ops::Range;

/// The CPU backend. Stateless: buffers are plain `Vec<f32>` and `Vec<u32>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu;

/// A zero-filled vector, or an error when the memory cannot be had (instead
/// of the abort of `vec!`).
fn zeroed<T: Clone + Default>(len: usize, what: &str) -> Result<Vec<T>> {
    let mut v = reserved(len, what)?;
    v.resize(len, T::default());
    Ok(v)
}

/// An empty vector with room for exactly `len` values (huge pages advised
/// for a large one), or an error when the memory cannot be had.
fn reserved<T>(len: usize, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Error::Device(format!(
            "cannot allocate a CPU buffer of {len} {what} ({} bytes)",
            len.saturating_mul(std::mem::size_of::<T>())
        ))
    })?;
    crate::hugepages::advise(&mut v);
    Ok(v)
}

impl Backend for Cpu {
    type Buf = Vec<f32>;
    type Index = Vec<u32>;
    type View<'a> = &'a [f32];
    type ViewMut<'a> = &'a mut [f32];
    type IndexView<'a> = &'a [u32];

    fn describe(&self) -> String {
        format!(
            "cpu ({} threads, {})",
            rayon::current_num_threads(),
            instruction_sets()
        )
    }
    fn alloc(&self, len: usize) -> Result<Vec<f32>> {
        zeroed(len, "f32 values")
    }
    fn alloc_index(&self, len: usize) -> Result<Vec<u32>> {
        zeroed(len, "indices")
    }
    fn len(&self, buf: &Vec<f32>) -> usize {
        buf.len()
    }
    fn index_len(&self, buf: &Vec<u32>) -> usize {
        buf.len()
    }
    fn view<'a>(&self, buf: &'a Vec<f32>, range: Range<usize>) -> &'a [f32] {
        &buf[range]
    }
    fn view_mut<'a>(&self, buf: &'a mut Vec<f32>, range: Range<usize>) -> &'a mut [f32] {
        &mut buf[range]
    }
    fn index_view<'a>(&self, buf: &'a Vec<u32>, range: Range<usize>) -> &'a [u32] {
        &buf[range]
    }
    fn upload(&self, src: &[f32], dst: &mut [f32]) -> Result<()> {
        dst[..src.len()].copy_from_slice(src);
        Ok(())
    }
    fn buffer_from_host(&self, host: Cow<'_, [f32]>) -> Result<Vec<f32>> {
        match host {
            Cow::Owned(v) => Ok(v),
            Cow::Borrowed(src) => {
                // Not zero-filled first: every value is written by the copy.
                let mut v = reserved(src.len(), "f32 values")?;
                v.extend_from_slice(src);
                Ok(v)
            }
        }
    }
    fn upload_index(&self, src: &[u32], dst: &mut Vec<u32>) -> Result<()> {
        dst[..src.len()].copy_from_slice(src);
        Ok(())
    }
    fn download(&self, src: &[f32], dst: &mut [f32]) -> Result<()> {
        dst.copy_from_slice(&src[..dst.len()]);
        Ok(())
    }
    fn synchronize(&self) -> Result<()> {
        Ok(())
    }
    fn fill(&self, dst: &mut [f32], value: f32) -> Result<()> {
        dst.fill(value);
        Ok(())
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
    ) -> Result<()> {
        simd::copy_block(
            rows, width, src, src_cols, src_col0, dst, dst_cols, dst_col0,
        );
        Ok(())
    }
    fn gemm(&self, op: &Gemm, a: &[f32], b: &[f32], c: &mut [f32]) -> Result<()> {
        gemm::gemm_op(op, a, b, c);
        Ok(())
    }
    fn bias_act_forward(
        &self,
        act: Activation,
        cols: usize,
        bias: &[f32],
        x: &mut [f32],
    ) -> Result<()> {
        simd::bias_act_forward(act, cols, bias, x);
        Ok(())
    }
    fn act_backward(&self, act: Activation, y: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<()> {
        simd::act_backward(act, y, dy, dx);
        Ok(())
    }
    fn col_sum(&self, cols: usize, x: &[f32], out: &mut [f32], accumulate: bool) -> Result<()> {
        simd::col_sum(cols, x, out, accumulate);
        Ok(())
    }
    fn lstm_forward(
        &self,
        s: LstmShape,
        lengths: &[u32],
        w_hh: &[f32],
        bias: &[f32],
        gates: &mut [f32],
        c: &mut [f32],
        h: &mut [f32],
    ) -> Result<()> {
        lstm::forward(s, lengths, w_hh, bias, gates, c, h);
        Ok(())
    }
    fn lstm_layer_forward(
        &self,
        s: LstmShape,
        input: usize,
        x: &[f32],
        w_ih: &[f32],
        lengths: &[u32],
        w_hh: &[f32],
        bias: &[f32],
        gates: &mut [f32],
        c: &mut [f32],
        h: &mut [f32],
    ) -> Result<()> {
        let input = lstm::LayerInput {
            x,
            w_ih,
            width: input,
        };
        lstm::layer_forward(s, input, lengths, w_hh, bias, gates, c, h);
        Ok(())
    }
    fn lstm_backward(
        &self,
        s: LstmShape,
        lengths: &[u32],
        w_hh: &[f32],
        gates: &[f32],
        c: &[f32],
        dh: &mut [f32],
        dgates: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<()> {
        lstm::backward(s, lengths, w_hh, gates, c, dh, dgates, scratch);
        Ok(())
    }
    fn gaussian_forward(
        &self,
        mu: &[f32],
        logvar: &[f32],
        eps: &[f32],
        z: &mut [f32],
        kl: &mut [f32],
    ) -> Result<()> {
        kl[0] = gaussian::forward(mu, logvar, eps, z);
        Ok(())
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
    ) -> Result<()> {
        gaussian::backward(kl_scale, mu, logvar, eps, dz, dmu, dlogvar);
        Ok(())
    }
    fn sse_loss(
        &self,
        rows: usize,
        pred: &[f32],
        target: &[f32],
        dpred: &mut [f32],
        loss: &mut [f32],
    ) -> Result<()> {
        loss[0] = loss::sse(rows, pred, target, dpred);
        Ok(())
    }
    fn softmax_xent(
        &self,
        classes: usize,
        logits: &[f32],
        labels: &[u32],
        probs: &mut [f32],
        dlogits: &mut [f32],
        loss: &mut [f32],
    ) -> Result<()> {
        loss[0] = loss::softmax_xent(classes, logits, labels, probs, dlogits);
        Ok(())
    }
    fn adam(
        &self,
        hp: AdamStep,
        params: &mut [f32],
        grads: &[f32],
        m: &mut [f32],
        v: &mut [f32],
    ) -> Result<()> {
        adam::step(hp, params, grads, m, v);
        Ok(())
    }
}

/// The SIMD instruction sets the kernels use: the element-wise kernels'
/// (chosen at run time, `isa.rs`; both give the same bits) and
/// matrixmultiply's, chosen from the CPU at run time. Results are
/// bit-identical for one GEMM kernel.
pub fn instruction_sets() -> String {
    let compiled = isa::element_wise().name();
    #[cfg(target_arch = "x86_64")]
    let gemm = if std::is_x86_feature_detected!("avx512f") {
        "avx512f"
    } else if std::is_x86_feature_detected!("fma") && std::is_x86_feature_detected!("avx2") {
        "avx2+fma"
    } else {
        "sse2"
    };
    #[cfg(not(target_arch = "x86_64"))]
    let gemm = "generic";
    format!("element-wise {compiled}, gemm {gemm}")
}
