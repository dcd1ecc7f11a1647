//! Adam over a whole parameter arena, vectorised, split over disjoint chunks.

use super::vec::lanes8::{load, load_tail, store, store_tail, LANES};
use crate::backend::AdamStep;
use rayon::prelude::*;
use wide::f32x8;

/// Below this many parameters one thread does the whole step.
const PARALLEL_MIN_LEN: usize = 1 << 15;

/// One Adam step with bias correction, PyTorch's formulation:
/// `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
/// `p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
/// The bias corrections are computed once in f64.
///
/// # Panics
/// If the four buffers differ in length or `hp.step == 0`.
pub fn step(hp: AdamStep, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
    let n = params.len();
    assert!(
        grads.len() == n && m.len() == n && v.len() == n,
        "adam: params {n}, grads {}, m {}, v {} values",
        grads.len(),
        m.len(),
        v.len()
    );
    assert!(hp.step >= 1, "adam: the step counter is 1-based");
    let k = Coefficients::new(hp);
    let threads = rayon::current_num_threads();
    if n < PARALLEL_MIN_LEN || threads < 2 {
        step_serial(&k, params, grads, m, v);
        return;
    }
    let chunk = n.div_ceil(threads).div_ceil(LANES) * LANES;
    params
        .par_chunks_mut(chunk)
        .zip(grads.par_chunks(chunk))
        .zip(m.par_chunks_mut(chunk).zip(v.par_chunks_mut(chunk)))
        .for_each(|((p, g), (m, v))| step_serial(&k, p, g, m, v));
}

/// One step's constants, shared by the 8- and 16-lane kernels.
pub(super) struct Coefficients {
    pub(super) beta1: f32,
    pub(super) one_minus_beta1: f32,
    pub(super) beta2: f32,
    pub(super) one_minus_beta2: f32,
    /// lr / (1 - b1^t)
    pub(super) step_size: f32,
    /// 1 / sqrt(1 - b2^t)
    pub(super) inv_sqrt_bc2: f32,
    pub(super) eps: f32,
}

impl Coefficients {
    pub(super) fn new(hp: AdamStep) -> Self {
        let t = hp.step as i32;
        let bc1 = 1.0 - f64::from(hp.beta1).powi(t);
        let bc2 = 1.0 - f64::from(hp.beta2).powi(t);
        Coefficients {
            beta1: hp.beta1,
            one_minus_beta1: 1.0 - hp.beta1,
            beta2: hp.beta2,
            one_minus_beta2: 1.0 - hp.beta2,
            step_size: (f64::from(hp.lr) / bc1) as f32,
            inv_sqrt_bc2: (1.0 / bc2.sqrt()) as f32,
            eps: hp.eps,
        }
    }

    #[inline(always)]
    fn apply(&self, p: f32x8, g: f32x8, m: f32x8, v: f32x8) -> (f32x8, f32x8, f32x8) {
        let m = m * f32x8::splat(self.beta1) + g * f32x8::splat(self.one_minus_beta1);
        let v = v * f32x8::splat(self.beta2) + (g * g) * f32x8::splat(self.one_minus_beta2);
        let denom = v.sqrt() * f32x8::splat(self.inv_sqrt_bc2) + f32x8::splat(self.eps);
        let p = p - f32x8::splat(self.step_size) * (m / denom);
        (p, m, v)
    }
}

fn step_serial(k: &Coefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    #[cfg(all(target_arch = "x86_64", vaeser_avx512))]
    if super::isa::element_wise() == super::isa::ElementWise::Lanes16 {
        // SAFETY: `Lanes16` is only chosen where AVX-512F runs; `step`
        // checked the four lengths (and chunks them alike).
        unsafe { super::simd16::adam_step(k, p, g, m, v) };
        return;
    }
    step_serial8(k, p, g, m, v)
}

/// [`step_serial`] in 8 lanes (`wide::f32x8`).
pub(super) fn step_serial8(
    k: &Coefficients,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    let full = p.len() / LANES * LANES;
    let mut i = 0;
    while i < full {
        let (np, nm, nv) = k.apply(load(p, i), load(g, i), load(m, i), load(v, i));
        store(p, i, np);
        store(m, i, nm);
        store(v, i, nv);
        i += LANES;
    }
    if full < p.len() {
        // The tail goes through the same vector code, zero-padded, so every
        // parameter gets bit-identical arithmetic wherever it sits.
        let (np, nm, nv) = k.apply(
            load_tail(&p[full..]),
            load_tail(&g[full..]),
            load_tail(&m[full..]),
            load_tail(&v[full..]),
        );
        store_tail(&mut p[full..], np);
        store_tail(&mut m[full..], nm);
        store_tail(&mut v[full..], nv);
    }
}
