//! CPU kernels against plain scalar references: GEMM against a naive triple
//! loop in f64, element-wise kernels against f64 formulas, column sums against
//! a sequential f32 loop (bit for bit: the order is part of the contract), and
//! bit-identical results with one and two threads.

// Reference loops index explicitly: clearer than iterator chains for formulas.
#![allow(clippy::needless_range_loop)]

use rand::Rng;
use vaeser::backend::cpu::{adam, gemm, simd};
use vaeser::backend::{Activation, AdamStep, Transpose};
use vaeser::rng::stream;

const LENGTHS: [usize; 5] = [1, 7, 8, 9, 1023];
const ACTS: [Activation; 4] = [
    Activation::Identity,
    Activation::Relu,
    Activation::Tanh,
    Activation::Sigmoid,
];

fn random(len: usize, scale: f32, seed: u32) -> Vec<f32> {
    let mut rng = stream(1234, "kernels-test", seed, len as u32);
    (0..len).map(|_| rng.gen_range(-scale..scale)).collect()
}

fn with_threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(f)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

// ---------------------------------------------------------------- GEMM

/// `alpha * op(A) op(B) + beta * C` in f64, plus the sum of |terms| that
/// bounds the f32 rounding error.
#[allow(clippy::too_many_arguments)]
fn naive_gemm(
    ta: Transpose,
    tb: Transpose,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    b: &[f32],
    beta: f32,
    c: &[f32],
) -> (Vec<f64>, Vec<f64>) {
    let at = |i: usize, p: usize| match ta {
        Transpose::No => a[i * k + p],
        Transpose::Yes => a[p * m + i],
    } as f64;
    let bt = |p: usize, j: usize| match tb {
        Transpose::No => b[p * n + j],
        Transpose::Yes => b[j * k + p],
    } as f64;
    let mut out = vec![0.0; m * n];
    let mut mag = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            let mut sa = 0.0;
            for p in 0..k {
                s += at(i, p) * bt(p, j);
                sa += (at(i, p) * bt(p, j)).abs();
            }
            let old = if beta == 0.0 {
                0.0
            } else {
                beta as f64 * c[i * n + j] as f64
            };
            out[i * n + j] = alpha as f64 * s + old;
            mag[i * n + j] = (alpha as f64 * sa).abs() + old.abs();
        }
    }
    (out, mag)
}

const TRANSPOSES: [(Transpose, Transpose); 4] = [
    (Transpose::No, Transpose::No),
    (Transpose::No, Transpose::Yes),
    (Transpose::Yes, Transpose::No),
    (Transpose::Yes, Transpose::Yes),
];

fn check_gemm(ta: Transpose, tb: Transpose, m: usize, n: usize, k: usize, alpha: f32, beta: f32) {
    let a = random(m * k, 1.0, 1);
    let b = random(k * n, 1.0, 2);
    let c0 = random(m * n, 1.0, 3);
    let mut c = c0.clone();
    gemm::gemm(ta, tb, m, n, k, alpha, &a, &b, beta, &mut c);
    let (want, mag) = naive_gemm(ta, tb, m, n, k, alpha, &a, &b, beta, &c0);
    for idx in 0..m * n {
        // f32 accumulation over k terms errs by at most ~k ulp of the summed
        // magnitudes; a transposed index or a dropped beta term is off by O(1).
        let tol = 4.0 * (k as f64 + 2.0) * f32::EPSILON as f64 * mag[idx] + 1e-30;
        let err = (c[idx] as f64 - want[idx]).abs();
        assert!(
            err <= tol,
            "{ta:?}{tb:?} {m}x{n}x{k} alpha {alpha} beta {beta}: C[{idx}] = {} want {} (err {err:e}, tol {tol:e})",
            c[idx],
            want[idx]
        );
    }
}

#[test]
fn gemm_matches_naive_for_all_transposes_and_odd_shapes() {
    let shapes = [
        (1, 1, 1),
        (3, 5, 7),
        (17, 33, 65),
        (129, 70, 257),
        (8, 1, 300),
        (1, 40, 9),
    ];
    for (ta, tb) in TRANSPOSES {
        for &(m, n, k) in &shapes {
            for (alpha, beta) in [(1.0, 0.0), (0.5, 1.0), (-1.5, 0.25)] {
                check_gemm(ta, tb, m, n, k, alpha, beta);
            }
        }
    }
}

#[test]
fn gemm_parallel_path_matches_naive() {
    // Large enough to be split over threads (rows of C in chunks).
    with_threads(2, || {
        for (ta, tb) in TRANSPOSES {
            check_gemm(ta, tb, 150, 96, 200, 1.0, 0.5);
        }
    });
}

#[test]
fn gemm_beta_zero_ignores_nan_in_c() {
    for (ta, tb) in TRANSPOSES {
        for (m, n, k) in [(3, 5, 7), (200, 64, 128)] {
            let a = random(m * k, 1.0, 4);
            let b = random(k * n, 1.0, 5);
            let mut c = vec![f32::NAN; m * n];
            gemm::gemm(ta, tb, m, n, k, 1.0, &a, &b, 0.0, &mut c);
            assert!(c.iter().all(|x| x.is_finite()), "{ta:?}{tb:?} {m}x{n}x{k}");
            // k = 0: C = beta C = 0, NaN still ignored.
            let mut c = vec![f32::NAN; m * n];
            gemm::gemm(ta, tb, m, n, 0, 1.0, &[], &[], 0.0, &mut c);
            assert!(c.iter().all(|&x| x == 0.0));
        }
    }
}

#[test]
fn gemm_k_zero_scales_c_by_beta() {
    let mut c = vec![2.0f32; 6];
    gemm::gemm(
        Transpose::No,
        Transpose::No,
        2,
        3,
        0,
        1.0,
        &[],
        &[],
        0.5,
        &mut c,
    );
    assert_eq!(c, vec![1.0; 6]);
}

#[test]
fn gemm_is_bit_identical_with_one_and_two_threads() {
    for (ta, tb) in TRANSPOSES {
        let (m, n, k) = (257, 130, 191);
        let a = random(m * k, 1.0, 6);
        let b = random(k * n, 1.0, 7);
        let c0 = random(m * n, 1.0, 8);
        let run = |threads: usize| {
            let mut c = c0.clone();
            with_threads(threads, || {
                gemm::gemm(ta, tb, m, n, k, 0.7, &a, &b, 0.3, &mut c)
            });
            bits(&c)
        };
        let one = run(1);
        assert_eq!(one, run(2), "{ta:?}{tb:?}");
        assert_eq!(one, run(3), "{ta:?}{tb:?}");
    }
}

// ---------------------------------------------------------------- element-wise

fn act_ref(act: Activation, x: f64) -> f64 {
    match act {
        Activation::Identity => x,
        Activation::Relu => x.max(0.0),
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
    }
}

/// Distance in units in the last place of the f32 nearest to `want`.
fn ulps(got: f32, want: f64) -> f64 {
    let w = want as f32;
    let ulp = if w == 0.0 {
        f32::from_bits(1) as f64
    } else {
        (f32::from_bits(w.abs().to_bits() + 1) - w.abs()) as f64
    };
    (got as f64 - want).abs() / ulp
}

/// Below this, sigmoid's argument to `exp` is capped (`exp` returns 0 past
/// 87.3): every result is sigmoid(-80) ~ 1.8e-35.
const SIGMOID_FLOOR_AT: f32 = -80.0;
/// Below this |x|, tanh's `(1 - e) / (1 + e)` cancels (`e = exp(-2|x|)`
/// nears 1), so its error is bounded in absolute terms only.
const TANH_CANCELS_BELOW: f32 = 0.625;
/// tanh's absolute error bound: one ulp of 1, the spacing of `e` near 1.
const TANH_ABS_ERROR: f64 = 1.0 / (1u32 << 23) as f64;

/// How far the kernels' sigmoid and tanh (the LSTM cell's family, the one
/// every trained model depends on) may stray from the exact value at `x`:
/// 3 eps relative (at least 3 ulp) where the family is accurate to a few ulp
/// (2.4 ulp measured for sigmoid, 1.5 for tanh over 23 million points of
/// [-100, 100]), and the bounds above elsewhere. Identity and ReLU are
/// exact.
fn act_tolerance(act: Activation, x: f32, want: f64) -> f64 {
    let rel = 3.0 * f32::EPSILON as f64 * want.abs() + 1e-37;
    match act {
        Activation::Identity | Activation::Relu => rel,
        // The result there is the floor and the exact value lies in (0, floor).
        Activation::Sigmoid if x < SIGMOID_FLOOR_AT => {
            simd::activate(Activation::Sigmoid, SIGMOID_FLOOR_AT) as f64
        }
        Activation::Tanh if x.abs() < TANH_CANCELS_BELOW => TANH_ABS_ERROR,
        Activation::Sigmoid | Activation::Tanh => rel,
    }
}

/// tanh and sigmoid stay within a few ulp of the exact function (f64) where
/// the family is accurate, and within its stated bounds in the far negative
/// tail of sigmoid and near zero for tanh.
#[test]
fn tanh_and_sigmoid_are_accurate_to_a_few_ulp_and_bounded_elsewhere() {
    let mut xs: Vec<f32> = (-40000..=40000).map(|i| i as f32 * 5e-4).collect();
    xs.extend((-200..=200).map(|i| i as f32 * 0.5));
    xs.extend([
        1e-30, -1e-30, 1e-7, -1e-7, 0.0, -0.0, 0.625, -0.625, 0.6249999, 87.0, -87.0, -80.0,
        -80.001, -79.999,
    ]);
    let floor = simd::activate(Activation::Sigmoid, SIGMOID_FLOOR_AT);
    for act in [Activation::Tanh, Activation::Sigmoid] {
        let mut worst: (f64, f32) = (0.0, 0.0);
        let mut worst_abs: (f64, f32) = (0.0, 0.0);
        for &x in &xs {
            let want = act_ref(act, x as f64);
            let got = simd::activate(act, x);
            let abs = (got as f64 - want).abs();
            let accurate = match act {
                Activation::Sigmoid if x < SIGMOID_FLOOR_AT => {
                    assert_eq!(got.to_bits(), floor.to_bits(), "sigmoid({x}) is the floor");
                    false
                }
                Activation::Tanh => x.abs() >= TANH_CANCELS_BELOW,
                _ => true,
            };
            if accurate {
                let e = ulps(got, want);
                if e > worst.0 {
                    worst = (e, x);
                }
            }
            if abs > worst_abs.0 {
                worst_abs = (abs, x);
            }
        }
        assert!(
            worst.0 <= 3.0,
            "{act:?}: {} ulp at x = {}",
            worst.0,
            worst.1
        );
        if act == Activation::Tanh {
            assert!(
                worst_abs.0 <= TANH_ABS_ERROR,
                "tanh: {} off at x = {}",
                worst_abs.0,
                worst_abs.1
            );
        }
    }
}

#[test]
fn bias_act_forward_matches_scalar_reference() {
    for act in ACTS {
        for &cols in &LENGTHS {
            for rows in [1, 3] {
                let x0 = random(rows * cols, 6.0, 10);
                let bias = random(cols, 2.0, 11);
                let mut x = x0.clone();
                simd::bias_act_forward(act, cols, &bias, &mut x);
                for r in 0..rows {
                    for j in 0..cols {
                        let i = r * cols + j;
                        // The bias add is one f32 rounding, as in the kernel.
                        let pre = x0[i] + bias[j];
                        let want = act_ref(act, pre as f64);
                        let tol = act_tolerance(act, pre, want);
                        assert!(
                            (x[i] as f64 - want).abs() <= tol,
                            "{act:?} rows {rows} cols {cols} at {i}: {} want {want}",
                            x[i]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn act_backward_matches_scalar_reference() {
    for act in ACTS {
        for &len in &LENGTHS {
            let pre = random(len, 4.0, 12);
            let y: Vec<f32> = pre.iter().map(|&p| simd::activate(act, p)).collect();
            let dy = random(len, 3.0, 13);
            let mut dx = vec![f32::NAN; len];
            simd::act_backward(act, &y, &dy, &mut dx);
            for i in 0..len {
                let (yi, g) = (y[i] as f64, dy[i] as f64);
                let deriv = match act {
                    Activation::Identity => 1.0,
                    Activation::Relu => {
                        if yi > 0.0 {
                            1.0
                        } else {
                            0.0
                        }
                    }
                    Activation::Tanh => 1.0 - yi * yi,
                    Activation::Sigmoid => yi * (1.0 - yi),
                };
                let want = g * deriv;
                let tol = 3.0 * f32::EPSILON as f64 * (g.abs() + want.abs());
                assert!(
                    (dx[i] as f64 - want).abs() <= tol,
                    "{act:?} len {len} at {i}: {} want {want}",
                    dx[i]
                );
            }
        }
    }
}

#[test]
fn col_sum_adds_rows_in_order_bit_for_bit() {
    for &cols in &LENGTHS {
        for rows in [1, 5, 64] {
            let x = random(rows * cols, 1.0, 14);
            let start = random(cols, 1.0, 15);
            for accumulate in [false, true] {
                let mut want: Vec<f32> = if accumulate {
                    start.clone()
                } else {
                    vec![0.0; cols]
                };
                for r in 0..rows {
                    for j in 0..cols {
                        want[j] += x[r * cols + j];
                    }
                }
                for threads in [1, 2] {
                    let mut out = if accumulate {
                        start.clone()
                    } else {
                        vec![f32::NAN; cols]
                    };
                    with_threads(threads, || simd::col_sum(cols, &x, &mut out, accumulate));
                    assert_eq!(
                        bits(&out),
                        bits(&want),
                        "cols {cols} rows {rows} accumulate {accumulate} threads {threads}"
                    );
                }
            }
        }
    }
}

#[test]
fn copy_block_moves_exactly_the_block() {
    let (rows, src_cols, dst_cols) = (4, 9, 13);
    let src = random(rows * src_cols, 1.0, 16);
    for (width, s0, d0) in [(1, 0, 0), (7, 2, 6), (9, 0, 4), (0, 3, 3)] {
        let mut dst = vec![-7.0f32; rows * dst_cols];
        simd::copy_block(rows, width, &src, src_cols, s0, &mut dst, dst_cols, d0);
        for r in 0..rows {
            for j in 0..dst_cols {
                let want = if j >= d0 && j < d0 + width {
                    src[r * src_cols + s0 + j - d0]
                } else {
                    -7.0
                };
                assert_eq!(dst[r * dst_cols + j], want, "width {width} row {r} col {j}");
            }
        }
    }
}

#[test]
fn elementwise_kernels_are_bit_identical_with_one_and_two_threads() {
    // Big enough to take the parallel paths.
    let (rows, cols) = (70, 1023);
    let x0 = random(rows * cols, 5.0, 17);
    let bias = random(cols, 1.0, 18);
    let dy = random(rows * cols, 1.0, 19);
    for act in ACTS {
        let run = |threads: usize| {
            with_threads(threads, || {
                let mut y = x0.clone();
                simd::bias_act_forward(act, cols, &bias, &mut y);
                let mut dx = vec![0.0; rows * cols];
                simd::act_backward(act, &y, &dy, &mut dx);
                let mut db = vec![0.0; cols];
                simd::col_sum(cols, &dx, &mut db, false);
                (bits(&y), bits(&dx), bits(&db))
            })
        };
        assert_eq!(run(1), run(2), "{act:?}");
    }
}

// ---------------------------------------------------------------- Adam

#[test]
fn adam_kernel_matches_scalar_reference() {
    let hp = AdamStep {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        step: 3,
    };
    for &len in &LENGTHS {
        let p0 = random(len, 1.0, 20);
        let g = random(len, 1.0, 21);
        let m0 = random(len, 0.1, 22);
        let v0: Vec<f32> = random(len, 0.1, 23).iter().map(|x| x * x).collect();
        let (mut p, mut m, mut v) = (p0.clone(), m0.clone(), v0.clone());
        adam::step(hp, &mut p, &g, &mut m, &mut v);
        for i in 0..len {
            // The betas are f32 values; widen those, not the decimal constants.
            let (b1, b2) = (0.9f32 as f64, 0.999f32 as f64);
            let gi = g[i] as f64;
            let mi = b1 * m0[i] as f64 + (1.0 - b1) * gi;
            let vi = b2 * v0[i] as f64 + (1.0 - b2) * gi * gi;
            let mhat = mi / (1.0 - b1.powi(3));
            let vhat = vi / (1.0 - b2.powi(3));
            let pi = p0[i] as f64 - 1e-3 * mhat / (vhat.sqrt() + 1e-8);
            // Tolerances scale with the terms' magnitudes: b1 m + (1 - b1) g
            // may cancel.
            let m_mag = (b1 * m0[i] as f64).abs() + ((1.0 - b1) * gi).abs();
            assert!((m[i] as f64 - mi).abs() <= 1e-6 * m_mag, "m {i}");
            assert!((v[i] as f64 - vi).abs() <= 1e-6 * vi.abs() + 1e-12, "v {i}");
            let step_mag = 1e-3 * m_mag / (1.0 - b1.powi(3)) / (vhat.sqrt() + 1e-8);
            let step = p0[i] as f64 - pi;
            let got = p0[i] as f64 - p[i] as f64;
            assert!(
                (got - step).abs() <= 1e-5 * step_mag + 2e-7,
                "p {i}: {got} vs {step}"
            );
        }
    }
}

#[test]
fn adam_kernel_is_bit_identical_with_one_and_two_threads() {
    let len = 100_003;
    let p0 = random(len, 1.0, 24);
    let g = random(len, 1.0, 25);
    let hp = AdamStep {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        step: 1,
    };
    let run = |threads: usize| {
        with_threads(threads, || {
            let (mut p, mut m, mut v) = (p0.clone(), vec![0.0; len], vec![0.0; len]);
            for s in 1..=3 {
                adam::step(AdamStep { step: s, ..hp }, &mut p, &g, &mut m, &mut v);
            }
            (bits(&p), bits(&m), bits(&v))
        })
    };
    assert_eq!(run(1), run(2));
}
