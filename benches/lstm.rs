//! The classifier's LSTM, forward + backward: 2 layers, batch 32, 50 steps,
//! input 256, hidden 128, on one thread. Reported in GFLOP/s (GEMM
//! multiply-adds counted as 2 flops; the pointwise passes are not counted) next
//! to the time, together with a reference measured in the same run: the same
//! GEMM calls alone, so the ratio shows what the pointwise passes, copies and
//! bias sums cost on top.
//!
//! `cargo bench --bench lstm`

#[path = "support/peak.rs"]
#[allow(dead_code)]
mod peak;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use peak::median_seconds;
use vaeser::backend::cpu::Cpu;
use vaeser::backend::Transpose;
use vaeser::nn::lstm::{Lstm, LstmWorkspace};
use vaeser::nn::params::ParamLayout;

const BATCH: usize = 32;
const STEPS: usize = 50;
const INPUT: usize = 256;
const HIDDEN: usize = 128;
const LAYERS: usize = 2;

struct Setup {
    lstm: Lstm,
    params: Vec<f32>,
    grads: Vec<f32>,
    x: Vec<f32>,
    lengths: Vec<usize>,
    d_final: Vec<f32>,
    ws: LstmWorkspace<Cpu>,
}

impl Setup {
    fn new() -> Self {
        let mut layout = ParamLayout::new();
        let lstm = Lstm::new(&mut layout, "lstm", INPUT, HIDDEN, LAYERS).unwrap();
        let mut params = vec![0.0; layout.len()];
        lstm.init(&mut vaeser::rng::stream(1, "bench-init", 0, 0), &mut params)
            .unwrap();
        let mut rng = vaeser::rng::stream(1, "bench-data", 0, 0);
        let mut x = vec![0.0; STEPS * BATCH * INPUT];
        vaeser::nn::init::uniform(&mut rng, 1.0, &mut x);
        let mut d_final = vec![0.0; BATCH * HIDDEN];
        vaeser::nn::init::uniform(&mut rng, 1.0, &mut d_final);
        let ws = lstm.workspace(&Cpu, STEPS, BATCH).unwrap();
        Self {
            grads: vec![0.0; layout.len()],
            lstm,
            params,
            x,
            // Full-length sequences: the work is then exactly what is counted.
            lengths: vec![STEPS; BATCH],
            d_final,
            ws,
        }
    }

    /// One training step's LSTM work, as the classifier does it: gradient
    /// only at the final state, none w.r.t. the input features.
    fn forward_backward(&mut self) {
        let cpu = Cpu;
        self.lstm
            .forward(
                &cpu,
                &self.params,
                &self.x,
                STEPS,
                BATCH,
                &self.lengths,
                &mut self.ws,
            )
            .unwrap();
        self.grads.fill(0.0);
        self.lstm
            .backward(
                &cpu,
                &self.params,
                &self.x,
                &mut self.ws,
                None,
                Some(&self.d_final),
                &mut self.grads,
                None,
            )
            .unwrap();
    }
}

/// Every GEMM of `forward_backward`, with the same shapes, and their flops.
struct GemmOnly {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

impl GemmOnly {
    fn new() -> Self {
        let rows = STEPS * BATCH;
        let n = rows * 4 * HIDDEN;
        Self {
            a: vec![0.01; n],
            b: vec![0.01; n],
            c: vec![0.0; n],
        }
    }

    /// `(m, n, k, ta, tb, beta, times)` of each GEMM kind.
    fn calls() -> Vec<(usize, usize, usize, Transpose, Transpose, f32, usize)> {
        use Transpose::{No, Yes};
        let (rows, g, h) = (STEPS * BATCH, 4 * HIDDEN, HIDDEN);
        let mut calls = Vec::new();
        for layer in 0..LAYERS {
            let input = if layer == 0 { INPUT } else { HIDDEN };
            calls.push((rows, g, input, No, Yes, 0.0, 1)); // input part of the gates
            calls.push((BATCH, g, h, No, Yes, 1.0, STEPS - 1)); // recurrent, forward
            calls.push((BATCH, h, g, No, No, 1.0, STEPS - 1)); // recurrent, backward
            calls.push((g, input, rows, Yes, No, 1.0, 1)); // dW_ih
            calls.push((g, h, rows, Yes, No, 1.0, 1)); // dW_hh
            if layer > 0 {
                calls.push((rows, input, g, No, No, 0.0, 1)); // d input
            }
        }
        calls
    }

    fn flops() -> u64 {
        Self::calls()
            .iter()
            .map(|&(m, n, k, _, _, _, times)| 2 * (m * n * k * times) as u64)
            .sum()
    }

    fn run(&mut self) {
        for (m, n, k, ta, tb, beta, times) in Self::calls() {
            for _ in 0..times {
                vaeser::backend::cpu::gemm::gemm(
                    ta,
                    tb,
                    m,
                    n,
                    k,
                    1.0,
                    &self.a,
                    &self.b,
                    beta,
                    &mut self.c,
                );
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    // Criterion itself cannot move into a pool, so each measured call enters
    // the one-thread pool (microseconds against tens of milliseconds).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let flops = GemmOnly::flops();
    let mut setup = Setup::new();
    let mut gemm = GemmOnly::new();
    let t_lstm = median_seconds(|| pool.install(|| setup.forward_backward()), 11);
    let t_gemm = median_seconds(|| pool.install(|| gemm.run()), 11);
    println!(
        "lstm 2x{HIDDEN} batch {BATCH} steps {STEPS} input {INPUT}, fwd+bwd, 1 thread \
         (avx2 {}, fma {}): median {:.2} ms, {:.1} GFLOP/s; the same GEMMs alone: {:.2} ms, \
         {:.1} GFLOP/s; GEMM share of the time {:.0}%",
        cfg!(target_feature = "avx2"),
        cfg!(target_feature = "fma"),
        t_lstm * 1e3,
        flops as f64 / t_lstm * 1e-9,
        t_gemm * 1e3,
        flops as f64 / t_gemm * 1e-9,
        100.0 * t_gemm / t_lstm
    );

    for (m, n, k, ta, tb, beta, times) in GemmOnly::calls() {
        let t = median_seconds(
            || {
                pool.install(|| {
                    for _ in 0..times {
                        vaeser::backend::cpu::gemm::gemm(
                            ta,
                            tb,
                            m,
                            n,
                            k,
                            1.0,
                            &gemm.a,
                            &gemm.b,
                            beta,
                            &mut gemm.c,
                        );
                    }
                })
            },
            5,
        );
        println!(
            "  gemm m {m:5} n {n:4} k {k:5} {ta:?}/{tb:?} x{times:2}: {:7.2} ms, {:5.1} GFLOP/s",
            t * 1e3,
            2.0 * (m * n * k * times) as f64 / t * 1e-9
        );
    }

    let mut group = c.benchmark_group("lstm_2x128_b32_t50_in256_1thread");
    // Throughput in "elements" = flops, so criterion's Gelem/s read as GFLOP/s.
    group.throughput(Throughput::Elements(flops));
    group.sample_size(10);
    group.bench_function("forward_backward", |b| {
        b.iter(|| pool.install(|| setup.forward_backward()))
    });
    group.bench_function("gemms_only", |b| b.iter(|| pool.install(|| gemm.run())));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
