//! The element-wise kernels of `simd.rs` and `adam.rs` in 16 AVX-512 lanes.
//!
//! Each function transcribes its 8-lane counterpart (`wide::f32x8`, 8-lane
//! AVX2 + FMA under the build's x86-64-v3 pin) operation for operation, with
//! the activations of `vec::math` in their 16-lane form: the same adds,
//! multiplies, fused multiply-adds, divisions, square roots, ordered
//! compares, round-to-nearest and bit masks, in the same order. All are
//! lane-wise and IEEE-exact, so every element gets the bits the 8-lane code
//! gives it; only the instruction count halves. Tails shorter than 16 lanes
//! use masked loads and stores (a lane never sees another's value, so what
//! the masked-off lanes hold does not matter). Column sums keep each
//! column's row order. `isa.rs` chooses between the two paths; the tests
//! below compare them bit for bit.

use super::adam::Coefficients;
use super::vec::lanes16::{load_masked, splat, store_masked, tail_mask, LANES};
use super::vec::math::{relu16, sigmoid16, tanh16};
use crate::backend::Activation;
use std::arch::x86_64::*;

/// `simd::bias_rows`: `x = act(x + bias)` on every row of `cols` values.
///
/// # Safety
/// AVX-512F is available; `bias.len() == cols` and `x.len()` is a multiple of `cols`.
#[target_feature(enable = "avx512f")]
pub unsafe fn bias_rows(act: Activation, cols: usize, bias: &[f32], x: &mut [f32]) {
    debug_assert!(bias.len() == cols && x.len() % cols == 0);
    // The activation is matched once per call, not per vector.
    macro_rules! rows {
        ($v:ident => $f:expr) => {
            for row in x.chunks_exact_mut(cols) {
                let mut j = 0;
                while j < cols {
                    let m = tail_mask(cols, j);
                    let $v = _mm512_add_ps(
                        load_masked(row.as_ptr().add(j), m),
                        load_masked(bias.as_ptr().add(j), m),
                    );
                    store_masked(row.as_mut_ptr().add(j), m, $f);
                    j += LANES;
                }
            }
        };
    }
    match act {
        Activation::Identity => rows!(v => v),
        Activation::Relu => rows!(v => relu16(v)),
        Activation::Tanh => rows!(v => tanh16(v)),
        Activation::Sigmoid => rows!(v => sigmoid16(v)),
    }
}

/// `simd::act_backward`'s products for one chunk: `dx = dy * act'(y)`.
///
/// # Safety
/// AVX-512F is available; the three slices have one length.
#[target_feature(enable = "avx512f")]
pub unsafe fn act_backward(act: Activation, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    debug_assert!(y.len() == dx.len() && dy.len() == dx.len());
    let n = dx.len();
    macro_rules! map {
        ($y:ident, $dy:ident => $f:expr) => {{
            let mut i = 0;
            while i < n {
                let m = tail_mask(n, i);
                let $y = load_masked(y.as_ptr().add(i), m);
                let $dy = load_masked(dy.as_ptr().add(i), m);
                let v = $f;
                store_masked(dx.as_mut_ptr().add(i), m, v);
                i += LANES;
            }
        }};
    }
    match act {
        Activation::Identity => dx.copy_from_slice(dy),
        Activation::Relu => map!(yv, dyv => _mm512_maskz_mov_ps(
            _mm512_cmp_ps_mask::<_CMP_GT_OQ>(yv, _mm512_setzero_ps()),
            dyv
        )),
        Activation::Tanh => {
            map!(yv, dyv => _mm512_mul_ps(dyv, _mm512_fnmadd_ps(yv, yv, splat(1.0))))
        }
        Activation::Sigmoid => map!(yv, dyv => _mm512_mul_ps(
            dyv,
            _mm512_mul_ps(yv, _mm512_sub_ps(splat(1.0), yv))
        )),
    }
}

/// Accumulators per pass over the rows: 8 vectors, 128 columns.
const COL_BLOCK: usize = 8;

/// `simd::col_sum_range`: adds every row of `x[:, col0 .. col0 + out.len()]`
/// into `out`, each column in row order.
///
/// # Safety
/// AVX-512F is available; `x` is whole rows of `cols` values and
/// `col0 + out.len() <= cols`.
#[target_feature(enable = "avx512f")]
pub unsafe fn col_sum_range(cols: usize, col0: usize, x: &[f32], out: &mut [f32]) {
    let width = out.len();
    debug_assert!(col0 + width <= cols && x.len() % cols == 0);
    let rows = x.len() / cols;
    let mut j = 0;
    while j < width {
        let n = COL_BLOCK.min((width - j).div_ceil(LANES));
        let masks: [__mmask16; COL_BLOCK] = std::array::from_fn(|v| {
            if v < n {
                tail_mask(width, j + v * LANES)
            } else {
                0
            }
        });
        let mut acc = [_mm512_setzero_ps(); COL_BLOCK];
        for v in 0..n {
            acc[v] = load_masked(out.as_ptr().add(j + v * LANES), masks[v]);
        }
        let base = x.as_ptr().add(col0 + j);
        for r in 0..rows {
            let row = base.add(r * cols);
            for v in 0..n {
                acc[v] = _mm512_add_ps(acc[v], load_masked(row.add(v * LANES), masks[v]));
            }
        }
        for v in 0..n {
            store_masked(out.as_mut_ptr().add(j + v * LANES), masks[v], acc[v]);
        }
        j += n * LANES;
    }
}

/// `adam::step_serial`: one Adam step over equal-length slices.
///
/// # Safety
/// AVX-512F is available; the four slices have one length.
#[target_feature(enable = "avx512f")]
pub unsafe fn adam_step(k: &Coefficients, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    let n = p.len();
    debug_assert!(g.len() == n && m.len() == n && v.len() == n);
    let (b1, omb1) = (splat(k.beta1), splat(k.one_minus_beta1));
    let (b2, omb2) = (splat(k.beta2), splat(k.one_minus_beta2));
    let (inv, eps, step) = (splat(k.inv_sqrt_bc2), splat(k.eps), splat(k.step_size));
    let mut i = 0;
    while i < n {
        let mask = tail_mask(n, i);
        let gv = load_masked(g.as_ptr().add(i), mask);
        let mv = load_masked(m.as_ptr().add(i), mask);
        let vv = load_masked(v.as_ptr().add(i), mask);
        let pv = load_masked(p.as_ptr().add(i), mask);
        let mv = _mm512_add_ps(_mm512_mul_ps(mv, b1), _mm512_mul_ps(gv, omb1));
        let vv = _mm512_add_ps(
            _mm512_mul_ps(vv, b2),
            _mm512_mul_ps(_mm512_mul_ps(gv, gv), omb2),
        );
        let denom = _mm512_add_ps(_mm512_mul_ps(_mm512_sqrt_ps(vv), inv), eps);
        let pv = _mm512_sub_ps(pv, _mm512_mul_ps(step, _mm512_div_ps(mv, denom)));
        store_masked(p.as_mut_ptr().add(i), mask, pv);
        store_masked(m.as_mut_ptr().add(i), mask, mv);
        store_masked(v.as_mut_ptr().add(i), mask, vv);
        i += LANES;
    }
}

#[cfg(test)]
mod tests {
    use super::super::{adam, simd};
    use super::*;
    use crate::backend::AdamStep;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const LENGTHS: [usize; 9] = [1, 7, 8, 15, 16, 17, 31, 129, 1023];
    const ACTS: [Activation; 4] = [
        Activation::Identity,
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
    ];

    fn available() -> bool {
        let ok = std::is_x86_feature_detected!("avx512f");
        if !ok {
            eprintln!("no AVX-512F on this CPU: the 16-lane kernels cannot run here");
        }
        ok
    }

    /// Values that exercise every branch: both signs, zeros of both signs,
    /// small values (where tanh's `1 - e` cancels), saturation, sigmoid's
    /// floor and `exp`'s range limit, NaN, infinities.
    fn values(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
        const SPECIAL: [f32; 10] = [
            0.0,
            -0.0,
            0.624,
            -0.626,
            90.0,
            -90.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e-30,
        ];
        (0..n)
            .map(|i| match i % 5 {
                0 => SPECIAL[rng.gen_range(0..SPECIAL.len())],
                1 => rng.gen_range(-0.7..0.7),
                _ => rng.gen_range(-12.0..12.0),
            })
            .collect()
    }

    fn same_bits(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(g.to_bits(), w.to_bits(), "{what}: element {i}: {g} vs {w}");
        }
    }

    fn scalar_act(act: Activation, x: f64) -> f64 {
        match act {
            Activation::Identity => x,
            Activation::Relu => x.max(0.0),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        }
    }

    #[test]
    fn bias_act_matches_the_8_lane_path_bit_for_bit_and_a_scalar_reference() {
        if !available() {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(16);
        for &cols in &LENGTHS {
            for rows in [1, 3] {
                let bias = values(&mut rng, cols);
                let x = values(&mut rng, rows * cols);
                for act in ACTS {
                    let mut want = x.clone();
                    simd::bias_act_rows8(act, cols, &bias, &mut want);
                    let mut got = x.clone();
                    unsafe { bias_rows(act, cols, &bias, &mut got) };
                    same_bits(&got, &want, &format!("{act:?} cols {cols} rows {rows}"));
                    for (i, &g) in got.iter().enumerate() {
                        let pre = x[i] as f64 + bias[i % cols] as f64;
                        if !pre.is_finite() || (pre as f32) != x[i] + bias[i % cols] {
                            continue;
                        }
                        let want = scalar_act(act, (x[i] + bias[i % cols]) as f64);
                        assert!(
                            (g as f64 - want).abs() <= 4e-7 * (1.0 + want.abs()),
                            "{act:?} of {pre}: {g} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn act_backward_matches_the_8_lane_path_bit_for_bit_and_a_scalar_reference() {
        if !available() {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        for &n in &LENGTHS {
            let y: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let dy = values(&mut rng, n);
            for act in ACTS {
                let mut want = vec![f32::NAN; n];
                simd::act_backward8(act, &y, &dy, &mut want);
                let mut got = vec![f32::NAN; n];
                unsafe { act_backward(act, &y, &dy, &mut got) };
                same_bits(&got, &want, &format!("{act:?} n {n}"));
                for i in 0..n {
                    let (yv, d) = (y[i] as f64, dy[i] as f64);
                    let deriv = match act {
                        Activation::Identity => 1.0,
                        Activation::Relu => f64::from(u8::from(yv > 0.0)),
                        Activation::Tanh => 1.0 - yv * yv,
                        Activation::Sigmoid => yv * (1.0 - yv),
                    };
                    let want = d * deriv;
                    if want.is_finite() {
                        assert!(
                            (got[i] as f64 - want).abs() <= 1e-6 * (1.0 + want.abs()),
                            "{act:?} y {yv} dy {d}: {} vs {want}",
                            got[i]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn col_sum_matches_the_8_lane_path_bit_for_bit_and_a_scalar_reference() {
        if !available() {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(18);
        for &cols in &LENGTHS {
            for rows in [1, 5, 40] {
                let x: Vec<f32> = (0..rows * cols).map(|_| rng.gen_range(-3.0..3.0)).collect();
                // Whole rows and a column range that starts off a vector boundary.
                for col0 in [0, cols / 3] {
                    let width = cols - col0;
                    let start: Vec<f32> = (0..width).map(|_| rng.gen_range(-1.0..1.0)).collect();
                    let mut want = start.clone();
                    simd::col_sum_range8(cols, col0, &x, &mut want);
                    let mut got = start.clone();
                    unsafe { col_sum_range(cols, col0, &x, &mut got) };
                    same_bits(&got, &want, &format!("cols {cols} rows {rows} col0 {col0}"));
                    for j in 0..width {
                        let mut acc = start[j];
                        for r in 0..rows {
                            acc += x[r * cols + col0 + j];
                        }
                        assert_eq!(got[j].to_bits(), acc.to_bits(), "column {j}");
                    }
                }
            }
        }
    }

    #[test]
    fn adam_matches_the_8_lane_path_bit_for_bit_and_a_scalar_reference() {
        if !available() {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(19);
        let hp = AdamStep {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            step: 3,
        };
        let k = adam::Coefficients::new(hp);
        for &n in &LENGTHS {
            let mut rand =
                |lo: f32, hi: f32| -> Vec<f32> { (0..n).map(|_| rng.gen_range(lo..hi)).collect() };
            let (p, g, m, v) = (
                rand(-1.0, 1.0),
                rand(-2.0, 2.0),
                rand(-0.1, 0.1),
                rand(0.0, 0.01),
            );
            let (mut p8, mut m8, mut v8) = (p.clone(), m.clone(), v.clone());
            adam::step_serial8(&k, &mut p8, &g, &mut m8, &mut v8);
            let (mut p16, mut m16, mut v16) = (p.clone(), m.clone(), v.clone());
            unsafe { adam_step(&k, &mut p16, &g, &mut m16, &mut v16) };
            same_bits(&p16, &p8, &format!("params n {n}"));
            same_bits(&m16, &m8, &format!("m n {n}"));
            same_bits(&v16, &v8, &format!("v n {n}"));
            for i in 0..n {
                let (b1, b2) = (0.9f64, 0.999f64);
                let gi = g[i] as f64;
                let mi = b1 * m[i] as f64 + (1.0 - b1) * gi;
                let vi = b2 * v[i] as f64 + (1.0 - b2) * gi * gi;
                let mhat = mi / (1.0 - b1.powi(3));
                let vhat = vi / (1.0 - b2.powi(3));
                let want = p[i] as f64 - 1e-3 * mhat / (vhat.sqrt() + 1e-8);
                assert!(
                    (p16[i] as f64 - want).abs() < 1e-6,
                    "param {i}: {} vs {want}",
                    p16[i]
                );
            }
        }
    }
}
