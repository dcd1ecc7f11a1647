//! Every operation of the Backend trait on the CUDA backend against the CPU
//! backend (the reference), on random inputs of awkward sizes: 1, 7, 31, 33,
//! 1023, odd batch and hidden sizes, leading dimensions wider than the rows.
//! The bodies are generic over the backend: `outputs(&Cpu)` is the
//! reference, `outputs(&gpu)` is checked against it, and a second
//! `outputs(&gpu)` must be bit-identical to the first.
//!
//! Built only with `--features cuda`; without a GPU (or without the CUDA
//! libraries) each test prints why and passes without checking anything,
//! unless `VAESER_REQUIRE_CUDA=1` makes that a failure (CI runs these on
//! the emulated driver, emu/).
//!
//! Tolerances, and why they are not zero:
//! - element-wise kernels (activations, Gaussian, Adam, losses, the LSTM
//!   cell): the CPU evaluates exp/tanh with its own polynomials (1-2 ulp),
//!   CUDA with expf/tanhf (2 ulp), and NVRTC contracts a*b+c into FMAs in
//!   places where the CPU rounds twice: a few ulp, so |gpu - cpu| <=
//!   1e-6 + 4e-6 |cpu| (relative error well under 1e-5);
//! - GEMM: cuBLAS sums the k products in another order than matrixmultiply;
//!   the classic bound for two orders is 2 k eps sum_k |a||b| per value;
//! - the LSTM recurrence: the GEMM and cell differences above, fed through
//!   the steps: 1e-5 + 1e-4 |cpu|;
//! - column sums: one thread per column in row order, as on the CPU: exact;
//! - summed losses (KL, SSE, cross-entropy): double accumulation in another
//!   order, rounded to f32 once: 1e-6 relative.
#![cfg(feature = "cuda")]

mod common;

use common::backends::{cuda, download, upload, upload_index};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vaeser::backend::cpu::Cpu;
use vaeser::backend::{Activation, AdamStep, Backend, Gemm, LstmShape, Transpose};

fn random(rng: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
}

/// Named outputs of one body.
type Outputs = Vec<(String, Vec<f32>)>;

/// Checks `gpu` against `cpu` with `|g - c| <= tol(i, c)`, and a second GPU
/// run for bit-identity.
fn compare(cpu: &Outputs, gpu: &Outputs, again: &Outputs, tol: impl Fn(&str, usize, f32) -> f32) {
    assert_eq!(cpu.len(), gpu.len());
    for ((name, c), (_, g)) in cpu.iter().zip(gpu) {
        assert_eq!(c.len(), g.len(), "{name}: lengths");
        for (i, (&cv, &gv)) in c.iter().zip(g).enumerate() {
            let t = tol(name, i, cv);
            assert!(
                (gv - cv).abs() <= t || (gv.is_nan() && cv.is_nan()),
                "{name}[{i}]: gpu {gv} vs cpu {cv} (tolerance {t})"
            );
        }
    }
    for ((name, g), (_, a)) in gpu.iter().zip(again) {
        let same = g.iter().zip(a).all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "{name}: two GPU runs differ");
    }
}

fn elementwise_tol(_: &str, _: usize, c: f32) -> f32 {
    1e-6 + 4e-6 * c.abs()
}

fn dense_outputs<B: Backend>(b: &B) -> Outputs {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let mut out = Vec::new();
    for (rows, cols) in [(1, 1), (7, 33), (31, 7), (1023, 3), (33, 31), (2, 1023)] {
        for act in [
            Activation::Identity,
            Activation::Relu,
            Activation::Tanh,
            Activation::Sigmoid,
        ] {
            let x = random(&mut rng, rows * cols, 6.0);
            let bias = random(&mut rng, cols, 1.0);
            let dy = random(&mut rng, rows * cols, 1.0);
            let bias_b = upload(b, &bias);
            let mut x_b = upload(b, &x);
            let n = rows * cols;
            b.bias_act_forward(
                act,
                cols,
                b.view(&bias_b, 0..cols),
                b.view_mut(&mut x_b, 0..n),
            )
            .unwrap();
            let y = download(b, &x_b);
            // The backward from the CPU's y on both sides, so that only the
            // backward kernel is compared.
            let y_ref = {
                let mut y = x.clone();
                Cpu.bias_act_forward(act, cols, &bias, &mut y).unwrap();
                y
            };
            let (y_b, dy_b) = (upload(b, &y_ref), upload(b, &dy));
            let mut dx_b = b.alloc(n).unwrap();
            b.act_backward(
                act,
                b.view(&y_b, 0..n),
                b.view(&dy_b, 0..n),
                b.view_mut(&mut dx_b, 0..n),
            )
            .unwrap();
            out.push((format!("bias_act_forward {act:?} {rows}x{cols}"), y));
            out.push((
                format!("act_backward {act:?} {rows}x{cols}"),
                download(b, &dx_b),
            ));
        }
    }
    out
}

#[test]
fn dense_kernels_match_the_cpu() {
    let Some(g) = cuda() else { return };
    compare(
        &dense_outputs(&Cpu),
        &dense_outputs(&g),
        &dense_outputs(&g),
        elementwise_tol,
    );
}

fn memory_outputs<B: Backend>(b: &B) -> Outputs {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut out = Vec::new();
    for (rows, src_cols, dst_cols, width, s0, d0) in [
        (1, 1, 1, 1, 0, 0),
        (7, 33, 40, 31, 2, 9),
        (1023, 7, 12, 5, 1, 7),
    ] {
        let src = random(&mut rng, rows * src_cols, 1.0);
        let dst = random(&mut rng, rows * dst_cols, 1.0);
        let src_b = upload(b, &src);
        let mut dst_b = upload(b, &dst);
        b.copy_block(
            rows,
            width,
            b.view(&src_b, 0..rows * src_cols),
            src_cols,
            s0,
            b.view_mut(&mut dst_b, 0..rows * dst_cols),
            dst_cols,
            d0,
        )
        .unwrap();
        out.push((format!("copy_block {rows}x{width}"), download(b, &dst_b)));
    }
    let mut buf = upload(b, &random(&mut rng, 1033, 1.0));
    b.fill(b.view_mut(&mut buf, 7..1030), 0.25).unwrap();
    out.push(("fill 7..1030 of 1033".into(), download(b, &buf)));
    out
}

#[test]
fn copy_block_and_fill_match_the_cpu_exactly() {
    let Some(g) = cuda() else { return };
    compare(
        &memory_outputs(&Cpu),
        &memory_outputs(&g),
        &memory_outputs(&g),
        |_, _, _| 0.0,
    );
}

fn col_sum_outputs<B: Backend>(b: &B) -> Outputs {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut out = Vec::new();
    for (rows, cols) in [(1, 1), (1023, 7), (1, 33), (31, 1), (33, 1023)] {
        for accumulate in [false, true] {
            let x_b = upload(b, &random(&mut rng, rows * cols, 1.0));
            let mut o_b = upload(b, &random(&mut rng, cols, 1.0));
            b.col_sum(
                cols,
                b.view(&x_b, 0..rows * cols),
                b.view_mut(&mut o_b, 0..cols),
                accumulate,
            )
            .unwrap();
            out.push((
                format!("col_sum {rows}x{cols} {accumulate}"),
                download(b, &o_b),
            ));
        }
    }
    out
}

#[test]
fn column_sums_match_the_cpu_exactly() {
    let Some(g) = cuda() else { return };
    compare(
        &col_sum_outputs(&Cpu),
        &col_sum_outputs(&g),
        &col_sum_outputs(&g),
        |_, _, _| 0.0,
    );
}

struct GemmCase {
    op: Gemm,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

fn gemm_cases() -> Vec<GemmCase> {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut cases = Vec::new();
    for (m, n, k) in [
        (1, 1, 1),
        (7, 33, 31),
        (31, 7, 1023),
        (33, 1023, 7),
        (1023, 1, 33),
    ] {
        for ta in [Transpose::No, Transpose::Yes] {
            for tb in [Transpose::No, Transpose::Yes] {
                for wide in [false, true] {
                    let mut op = Gemm::new(ta, tb, m, n, k);
                    if wide {
                        // Leading dimensions past the rows, alpha and beta
                        // other than 1 and 0.
                        op = op
                            .lda(op.lda + 3)
                            .ldb(op.ldb + 5)
                            .ldc(op.ldc + 2)
                            .alpha(0.5)
                            .beta(1.0);
                    }
                    let (ea, eb, ec) = op.extents();
                    cases.push(GemmCase {
                        op,
                        a: random(&mut rng, ea, 1.0),
                        b: random(&mut rng, eb, 1.0),
                        c: random(&mut rng, ec, 1.0),
                    });
                }
            }
        }
    }
    cases
}

fn gemm_outputs<B: Backend>(b: &B, cases: &[GemmCase]) -> Outputs {
    cases
        .iter()
        .map(|case| {
            let (a_b, b_b) = (upload(b, &case.a), upload(b, &case.b));
            let mut c_b = upload(b, &case.c);
            b.gemm(
                &case.op,
                b.view(&a_b, 0..case.a.len()),
                b.view(&b_b, 0..case.b.len()),
                b.view_mut(&mut c_b, 0..case.c.len()),
            )
            .unwrap();
            (format!("{:?}", case.op), download(b, &c_b))
        })
        .collect()
}

#[test]
fn gemm_matches_the_cpu_within_the_summation_order_bound() {
    let Some(g) = cuda() else { return };
    let cases = gemm_cases();
    let cpu = gemm_outputs(&Cpu, &cases);
    let gpu_out = gemm_outputs(&g, &cases);
    let again = gemm_outputs(&g, &cases);
    // All inputs lie in [-1, 1]: sum_k |a||b| <= k, plus |beta c| <= 1.
    compare(&cpu, &gpu_out, &again, |name, _, _| {
        let k: f32 = name
            .split("k: ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.trim().parse().ok())
            .expect("k in the case name");
        2.0 * (k + 1.0) * (k + 1.0) * f32::EPSILON
    });
}

fn lstm_outputs<B: Backend>(b: &B) -> Outputs {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let mut out = Vec::new();
    for (hidden, steps, batch) in [(1, 1, 1), (7, 5, 3), (33, 9, 7), (31, 4, 33), (3, 12, 1)] {
        let s = LstmShape {
            hidden,
            steps,
            batch,
        };
        let (g, state) = (4 * hidden, batch * hidden);
        // Unsorted lengths, at least one full-length sequence.
        let mut lengths: Vec<u32> = (0..batch)
            .map(|_| rng.gen_range(1..=steps as u32))
            .collect();
        lengths[batch / 2] = steps as u32;
        let w_hh = random(&mut rng, g * hidden, 0.5);
        let bias = random(&mut rng, g, 0.5);
        let x_part = random(&mut rng, steps * batch * g, 2.0);
        let dh_in = random(&mut rng, steps * state, 1.0);
        let len_b = upload_index(b, &lengths);
        let (w_b, bias_b) = (upload(b, &w_hh), upload(b, &bias));
        let mut gates_b = upload(b, &x_part);
        let mut c_b = b.alloc((steps + 1) * state).unwrap();
        let mut h_b = b.alloc((steps + 1) * state).unwrap();
        b.lstm_forward(
            s,
            b.index_view(&len_b, 0..batch),
            b.view(&w_b, 0..g * hidden),
            b.view(&bias_b, 0..g),
            b.view_mut(&mut gates_b, 0..steps * batch * g),
            b.view_mut(&mut c_b, 0..(steps + 1) * state),
            b.view_mut(&mut h_b, 0..(steps + 1) * state),
        )
        .unwrap();
        let mut dh_b = upload(b, &dh_in);
        let mut dgates_b = b.alloc(steps * batch * g).unwrap();
        let mut scratch_b = b.alloc(3 * state).unwrap();
        b.lstm_backward(
            s,
            b.index_view(&len_b, 0..batch),
            b.view(&w_b, 0..g * hidden),
            b.view(&gates_b, 0..steps * batch * g),
            b.view(&c_b, 0..(steps + 1) * state),
            b.view_mut(&mut dh_b, 0..steps * state),
            b.view_mut(&mut dgates_b, 0..steps * batch * g),
            b.view_mut(&mut scratch_b, 0..3 * state),
        )
        .unwrap();
        // Gate rows of padded steps are unspecified: keep the real steps.
        let gates = download(b, &gates_b);
        let real: Vec<f32> = (0..steps * batch)
            .filter(|row| (row / batch) < lengths[row % batch] as usize)
            .flat_map(|row| gates[row * g..(row + 1) * g].to_vec())
            .collect();
        let tag = format!("H{hidden} T{steps} B{batch}");
        out.push((format!("lstm gates {tag}"), real));
        out.push((format!("lstm c {tag}"), download(b, &c_b)));
        out.push((format!("lstm h {tag}"), download(b, &h_b)));
        out.push((format!("lstm dgates {tag}"), download(b, &dgates_b)));
    }
    out
}

#[test]
fn lstm_recurrence_matches_the_cpu() {
    let Some(g) = cuda() else { return };
    compare(
        &lstm_outputs(&Cpu),
        &lstm_outputs(&g),
        &lstm_outputs(&g),
        |_, _, c| 1e-5 + 1e-4 * c.abs(),
    );
}

/// Products with nothing to sum (k = 0, or alpha = 0): C = beta C, beta = 0
/// writing zeros over whatever C held (NaN included), into a block of a
/// wider C, as BLAS and the CPU do.
fn empty_sum_outputs<B: Backend>(b: &B) -> Outputs {
    let mut out = Vec::new();
    for (k, alpha, beta) in [(0, 1.0, 0.0), (0, 1.0, 0.5), (0, 1.0, 1.0), (3, 0.0, -2.0)] {
        let (m, n, ldc) = (5, 3, 7);
        let mut c: Vec<f32> = (0..m * ldc).map(|i| i as f32 - 11.0).collect();
        c[1] = f32::NAN;
        let a = vec![1.0; m * k];
        let bm = vec![1.0; k * n];
        let op = Gemm::new(Transpose::No, Transpose::No, m, n, k)
            .alpha(alpha)
            .beta(beta)
            .ldc(ldc);
        let (a_b, b_b) = (upload(b, &a), upload(b, &bm));
        let mut c_b = upload(b, &c);
        b.gemm(
            &op,
            b.view(&a_b, 0..a.len()),
            b.view(&b_b, 0..bm.len()),
            b.view_mut(&mut c_b, 0..c.len()),
        )
        .unwrap();
        out.push((
            format!("k {k} alpha {alpha} beta {beta}"),
            download(b, &c_b),
        ));
    }
    out
}

#[test]
fn a_product_with_nothing_to_sum_scales_c_as_the_cpu_does() {
    let Some(g) = cuda() else { return };
    let exact = |_: &str, _: usize, _: f32| 0.0;
    let cpu = empty_sum_outputs(&Cpu);
    // beta = 0 overwrote the NaN; beta = 1 kept it.
    assert_eq!(cpu[0].1[1], 0.0);
    assert!(cpu[2].1[1].is_nan());
    compare(&cpu, &empty_sum_outputs(&g), &empty_sum_outputs(&g), exact);
}

/// An LSTM layer with no inputs (input size 0): its input product is a GEMM
/// with k = 0, which writes zeros, then the recurrence runs from them.
fn inputless_layer_outputs<B: Backend>(b: &B) -> Outputs {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let (hidden, steps, batch) = (5, 4, 3);
    let s = LstmShape {
        hidden,
        steps,
        batch,
    };
    let (g, state) = (4 * hidden, batch * hidden);
    let lengths = [4u32, 2, 3];
    let (w_hh, bias) = (random(&mut rng, g * hidden, 0.5), random(&mut rng, g, 0.5));
    let len_b = upload_index(b, &lengths);
    let (w_b, bias_b) = (upload(b, &w_hh), upload(b, &bias));
    let (x_b, w_ih_b) = (b.alloc(0).unwrap(), b.alloc(0).unwrap());
    // Garbage where the product must write zeros.
    let mut gates_b = upload(b, &vec![f32::NAN; steps * batch * g]);
    let mut c_b = b.alloc((steps + 1) * state).unwrap();
    let mut h_b = b.alloc((steps + 1) * state).unwrap();
    b.lstm_layer_forward(
        s,
        0,
        b.view(&x_b, 0..0),
        b.view(&w_ih_b, 0..0),
        b.index_view(&len_b, 0..batch),
        b.view(&w_b, 0..g * hidden),
        b.view(&bias_b, 0..g),
        b.view_mut(&mut gates_b, 0..steps * batch * g),
        b.view_mut(&mut c_b, 0..(steps + 1) * state),
        b.view_mut(&mut h_b, 0..(steps + 1) * state),
    )
    .unwrap();
    vec![
        ("inputless c".into(), download(b, &c_b)),
        ("inputless h".into(), download(b, &h_b)),
    ]
}

#[test]
fn an_lstm_layer_without_inputs_matches_the_cpu() {
    let Some(g) = cuda() else { return };
    let cpu = inputless_layer_outputs(&Cpu);
    assert!(cpu.iter().all(|(_, v)| v.iter().all(|x| x.is_finite())));
    compare(
        &cpu,
        &inputless_layer_outputs(&g),
        &inputless_layer_outputs(&g),
        |_, _, c| 1e-5 + 1e-4 * c.abs(),
    );
}

/// A buffer dropped on a thread that never used the GPU is freed there: no
/// error is left behind for the next call of another thread to report.
#[test]
fn a_buffer_dropped_on_another_thread_is_freed_cleanly() {
    let Some(g) = cuda() else { return };
    for _ in 0..3 {
        let buf = upload(&g, &[1.0; 1000]);
        std::thread::spawn(move || drop(buf)).join().unwrap();
    }
    let values = [2.0, 3.0];
    let buf = upload(&g, &values);
    assert_eq!(download(&g, &buf), values);
    g.synchronize().unwrap();
}

/// The backend keeps freed memory in the device's pool (release threshold
/// unlimited) instead of handing it back at every synchronisation.
#[test]
fn freed_memory_stays_in_the_pool() {
    let Some(g) = cuda() else { return };
    assert_eq!(g.pool_release_threshold().unwrap(), u64::MAX);
}

fn loss_outputs<B: Backend>(b: &B) -> Outputs {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let mut out = Vec::new();
    for n in [1, 7, 31, 33, 1023, 100_003] {
        let (mu, lv, eps, dz) = (
            random(&mut rng, n, 2.0),
            random(&mut rng, n, 3.0),
            random(&mut rng, n, 2.0),
            random(&mut rng, n, 1.0),
        );
        let (mu_b, lv_b, eps_b, dz_b) = (
            upload(b, &mu),
            upload(b, &lv),
            upload(b, &eps),
            upload(b, &dz),
        );
        let mut z_b = b.alloc(n).unwrap();
        let mut kl_b = b.alloc(1).unwrap();
        b.gaussian_forward(
            b.view(&mu_b, 0..n),
            b.view(&lv_b, 0..n),
            b.view(&eps_b, 0..n),
            b.view_mut(&mut z_b, 0..n),
            b.view_mut(&mut kl_b, 0..1),
        )
        .unwrap();
        let (mut dmu_b, mut dlv_b) = (b.alloc(n).unwrap(), b.alloc(n).unwrap());
        b.gaussian_backward(
            0.7,
            b.view(&mu_b, 0..n),
            b.view(&lv_b, 0..n),
            b.view(&eps_b, 0..n),
            b.view(&dz_b, 0..n),
            b.view_mut(&mut dmu_b, 0..n),
            b.view_mut(&mut dlv_b, 0..n),
        )
        .unwrap();
        out.push((format!("gaussian z {n}"), download(b, &z_b)));
        out.push((format!("sum kl {n}"), download(b, &kl_b)));
        out.push((format!("gaussian dmu {n}"), download(b, &dmu_b)));
        out.push((format!("gaussian dlogvar {n}"), download(b, &dlv_b)));

        let rows = if n % 7 == 0 { 7 } else { 1 };
        let mut dpred_b = b.alloc(n).unwrap();
        let mut loss_b = b.alloc(1).unwrap();
        b.sse_loss(
            rows,
            b.view(&mu_b, 0..n),
            b.view(&eps_b, 0..n),
            b.view_mut(&mut dpred_b, 0..n),
            b.view_mut(&mut loss_b, 0..1),
        )
        .unwrap();
        out.push((format!("sse dpred {n}"), download(b, &dpred_b)));
        out.push((format!("sum sse {n}"), download(b, &loss_b)));
    }
    for (rows, classes) in [(1, 1), (7, 4), (1023, 7), (33, 31)] {
        let logits = random(&mut rng, rows * classes, 8.0);
        let labels: Vec<u32> = (0..rows)
            .map(|_| rng.gen_range(0..classes as u32))
            .collect();
        let (l_b, lab_b) = (upload(b, &logits), upload_index(b, &labels));
        let n = rows * classes;
        let (mut p_b, mut d_b, mut loss_b) = (
            b.alloc(n).unwrap(),
            b.alloc(n).unwrap(),
            b.alloc(1).unwrap(),
        );
        b.softmax_xent(
            classes,
            b.view(&l_b, 0..n),
            b.index_view(&lab_b, 0..rows),
            b.view_mut(&mut p_b, 0..n),
            b.view_mut(&mut d_b, 0..n),
            b.view_mut(&mut loss_b, 0..1),
        )
        .unwrap();
        out.push((format!("softmax probs {rows}x{classes}"), download(b, &p_b)));
        out.push((
            format!("softmax dlogits {rows}x{classes}"),
            download(b, &d_b),
        ));
        out.push((format!("sum xent {rows}x{classes}"), download(b, &loss_b)));
    }
    out
}

#[test]
fn gaussian_and_loss_kernels_match_the_cpu() {
    let Some(g) = cuda() else { return };
    compare(
        &loss_outputs(&Cpu),
        &loss_outputs(&g),
        &loss_outputs(&g),
        |name, _, c| {
            if name.starts_with("sum ") {
                1e-6 * c.abs().max(1e-3)
            } else {
                elementwise_tol(name, 0, c)
            }
        },
    );
}

fn adam_outputs<B: Backend>(b: &B) -> Outputs {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let mut out = Vec::new();
    for n in [1, 7, 31, 33, 1023, 40_001] {
        let mut p_b = upload(b, &random(&mut rng, n, 1.0));
        let mut m_b = b.alloc(n).unwrap();
        let mut v_b = b.alloc(n).unwrap();
        for step in 1..=3 {
            let g_b = upload(b, &random(&mut rng, n, 1.0));
            let hp = AdamStep {
                lr: 1e-3,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                step,
            };
            b.adam(
                hp,
                b.view_mut(&mut p_b, 0..n),
                b.view(&g_b, 0..n),
                b.view_mut(&mut m_b, 0..n),
                b.view_mut(&mut v_b, 0..n),
            )
            .unwrap();
        }
        out.push((format!("adam params {n}"), download(b, &p_b)));
        out.push((format!("adam m {n}"), download(b, &m_b)));
        out.push((format!("adam v {n}"), download(b, &v_b)));
    }
    out
}

#[test]
fn adam_matches_the_cpu() {
    let Some(g) = cuda() else { return };
    compare(
        &adam_outputs(&Cpu),
        &adam_outputs(&g),
        &adam_outputs(&g),
        elementwise_tol,
    );
}

/// A missing GPU or library is an error value with a message, never a panic.
#[test]
fn cuda_new_reports_instead_of_panicking() {
    match std::panic::catch_unwind(vaeser::backend::cuda::Cuda::new) {
        Ok(Ok(g)) => eprintln!("found {}", g.describe()),
        Ok(Err(e)) => {
            let msg = e.to_string();
            assert!(msg.contains("cuda"), "the error names the device: {msg}");
        }
        Err(_) => panic!("Cuda::new panicked"),
    }
}
