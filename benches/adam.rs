//! One Adam step over 1.2 M parameters (about the VAE's size), on one thread,
//! in GB/s of memory traffic (params, grads, m and v read; params, m and v
//! written: 28 bytes per parameter) next to the time.
//!
//! The reference, measured in interleaved rounds in the same run, is the same
//! update written as a plain scalar loop (what the compiler makes of the
//! formula without `wide`), so the ratio shows what the vector kernel gains.
//! A second reference moves the same bytes with trivial arithmetic (the
//! bandwidth ceiling). A last line gives the two-thread speed-up.
//!
//! `cargo bench --bench adam`

#[path = "support/peak.rs"]
#[allow(dead_code)]
mod peak;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use peak::{median, median_seconds, min_seconds};
use vaeser::backend::cpu::adam;
use vaeser::backend::AdamStep;

const PARAMS: usize = 1_200_000;
const BYTES_PER_PARAM: usize = 7 * 4;

struct State {
    params: Vec<f32>,
    grads: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    step: u32,
}

impl State {
    fn new() -> Self {
        let mut grads = vec![0.0; PARAMS];
        vaeser::nn::init::uniform(
            &mut vaeser::rng::stream(1, "bench-grads", 0, 0),
            1e-2,
            &mut grads,
        );
        Self {
            params: vec![0.1; PARAMS],
            grads,
            m: vec![0.0; PARAMS],
            v: vec![0.0; PARAMS],
            step: 0,
        }
    }

    fn hyper(&mut self) -> AdamStep {
        // Cycle the counter so the bias corrections stay in their usual range.
        self.step = self.step % 1000 + 1;
        AdamStep {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            step: self.step,
        }
    }

    fn kernel(&mut self) {
        let hp = self.hyper();
        adam::step(hp, &mut self.params, &self.grads, &mut self.m, &mut self.v);
    }

    /// The same update as a plain scalar loop.
    fn scalar(&mut self) {
        let hp = self.hyper();
        let t = hp.step as i32;
        let step_size = (f64::from(hp.lr) / (1.0 - f64::from(hp.beta1).powi(t))) as f32;
        let inv_sqrt_bc2 = (1.0 / (1.0 - f64::from(hp.beta2).powi(t)).sqrt()) as f32;
        for (((p, &g), m), v) in self
            .params
            .iter_mut()
            .zip(&self.grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            *m = hp.beta1 * *m + (1.0 - hp.beta1) * g;
            *v = hp.beta2 * *v + (1.0 - hp.beta2) * g * g;
            *p -= step_size * *m / (v.sqrt() * inv_sqrt_bc2 + hp.eps);
        }
    }

    /// The same memory traffic with trivial arithmetic: the bandwidth ceiling.
    fn traffic_only(&mut self) {
        for (((p, &g), m), v) in self
            .params
            .iter_mut()
            .zip(&self.grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            *m += g;
            *v += *m;
            *p += *v;
        }
    }
}

fn bench(c: &mut Criterion) {
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let (one, two) = (pool(1), pool(2));
    let mut kernel = State::new();
    let mut scalar = State::new();
    let mut traffic = State::new();
    let bytes = (PARAMS * BYTES_PER_PARAM) as f64;
    let (mut tk, mut ts, mut tt, mut ratio, mut ceiling) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..7 {
        let k = median_seconds(|| one.install(|| kernel.kernel()), 9);
        let s = median_seconds(|| one.install(|| scalar.scalar()), 9);
        let t = median_seconds(|| one.install(|| traffic.traffic_only()), 9);
        tk.push(k);
        ts.push(s);
        tt.push(t);
        ratio.push(s / k);
        ceiling.push(t / k);
    }
    let (tk, ts, tt) = (median(&mut tk), median(&mut ts), median(&mut tt));
    println!(
        "adam {PARAMS} parameters, 1 thread: median {:.3} ms, {:.1} GB/s; plain scalar loop: \
         {:.3} ms, {:.1} GB/s; speed-up of the kernel {:.2}; same traffic without the \
         arithmetic: {:.3} ms, {:.1} GB/s, kernel at {:.0}% of that",
        tk * 1e3,
        bytes / tk * 1e-9,
        ts * 1e3,
        bytes / ts * 1e-9,
        median(&mut ratio),
        tt * 1e3,
        bytes / tt * 1e-9,
        100.0 * median(&mut ceiling)
    );
    // Fastest runs: a split over two threads waits for its slower half, so
    // under competing load the median says more about the neighbours.
    let t1 = min_seconds(|| one.install(|| kernel.kernel()), 21);
    let t2 = min_seconds(|| two.install(|| kernel.kernel()), 21);
    println!(
        "  fastest of 21 runs: 1 thread {:.3} ms, 2 threads {:.3} ms, {:.1} GB/s, speed-up {:.2}",
        t1 * 1e3,
        t2 * 1e3,
        bytes / t2 * 1e-9,
        t1 / t2
    );

    let mut group = c.benchmark_group("adam_1.2M_1thread");
    group.throughput(Throughput::Bytes((PARAMS * BYTES_PER_PARAM) as u64));
    group.sample_size(20);
    group.bench_function("kernel", |b| b.iter(|| one.install(|| kernel.kernel())));
    group.bench_function("scalar_loop", |b| {
        b.iter(|| one.install(|| scalar.scalar()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
