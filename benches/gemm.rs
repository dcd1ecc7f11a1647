//! GEMM at the VAE's shapes (a 256-row batch through an 800 -> 512 layer): the
//! three products a dense layer's forward and backward make, plus the plain
//! 256x800 by 800x512 product, on one thread.
//!
//! Each line prints the time, GFLOP/s, the percentage of one core's FMA peak
//! measured in the same run (see `support/peak.rs`), and the time ratio
//! against the raw `matrixmultiply::sgemm` call with the same operands, i.e.
//! what our wrapper (shape checks, row splitting, pool) costs. A second line
//! shows the two-thread speed-up, from the fastest of several runs (the
//! machine may be shared).
//!
//! `cargo bench --bench gemm`

#[path = "support/peak.rs"]
mod peak;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use peak::{min_seconds, SideBySide};
use vaeser::backend::cpu::gemm::gemm;
use vaeser::backend::Transpose::{self, No, Yes};

const BATCH: usize = 256;
const INPUTS: usize = 800;
const OUTPUTS: usize = 512;

struct Shape {
    name: &'static str,
    ta: Transpose,
    tb: Transpose,
    m: usize,
    n: usize,
    k: usize,
    beta: f32,
}

fn shapes() -> [Shape; 4] {
    [
        Shape {
            name: "NN  x[256,800] . W'[800,512]",
            ta: No,
            tb: No,
            m: BATCH,
            n: OUTPUTS,
            k: INPUTS,
            beta: 0.0,
        },
        Shape {
            name: "NT  forward x . W^T",
            ta: No,
            tb: Yes,
            m: BATCH,
            n: OUTPUTS,
            k: INPUTS,
            beta: 0.0,
        },
        Shape {
            name: "TN  dW += dz^T . x",
            ta: Yes,
            tb: No,
            m: OUTPUTS,
            n: INPUTS,
            k: BATCH,
            beta: 1.0,
        },
        Shape {
            name: "NN  dx = dz . W",
            ta: No,
            tb: No,
            m: BATCH,
            n: INPUTS,
            k: OUTPUTS,
            beta: 0.0,
        },
    ]
}

/// The same product straight through matrixmultiply, no wrapper.
#[allow(clippy::too_many_arguments)]
fn raw_sgemm(s: &Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let (rsa, csa) = match s.ta {
        No => (s.k as isize, 1),
        Yes => (1, s.m as isize),
    };
    let (rsb, csb) = match s.tb {
        No => (s.n as isize, 1),
        Yes => (1, s.k as isize),
    };
    assert!(a.len() >= s.m * s.k && b.len() >= s.k * s.n && c.len() >= s.m * s.n);
    // SAFETY: the assert above keeps every access inside the three buffers.
    unsafe {
        matrixmultiply::sgemm(
            s.m,
            s.k,
            s.n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            s.beta,
            c.as_mut_ptr(),
            s.n as isize,
            1,
        );
    }
}

fn random(len: usize, purpose: &str) -> Vec<f32> {
    let mut v = vec![0.0; len];
    vaeser::nn::init::uniform(&mut vaeser::rng::stream(1, purpose, 0, 0), 1.0, &mut v);
    v
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let one = pool(1);
    let two = pool(2);
    let len = BATCH * INPUTS.max(OUTPUTS).max(BATCH) * 2;
    let a = random(len, "bench-gemm-a");
    let b = random(len, "bench-gemm-b");
    let mut out = vec![0.0; len];

    for s in shapes() {
        let flops = 2.0 * (s.m * s.n * s.k) as f64;
        let mut out_raw = out.clone();
        let r = one.install(|| {
            SideBySide::measure(
                7,
                9,
                flops,
                || gemm(s.ta, s.tb, s.m, s.n, s.k, 1.0, &a, &b, s.beta, &mut out),
                || raw_sgemm(&s, &a, &b, &mut out_raw),
            )
        });
        println!(
            "gemm {} (m {} n {} k {}), 1 thread: {}",
            s.name,
            s.m,
            s.n,
            s.k,
            r.describe("raw matrixmultiply::sgemm")
        );
        // Fastest runs: a split over two threads waits for its slower half,
        // so under competing load the median says more about the neighbours.
        let t1 = min_seconds(
            || one.install(|| gemm(s.ta, s.tb, s.m, s.n, s.k, 1.0, &a, &b, s.beta, &mut out)),
            21,
        );
        let t2 = min_seconds(
            || two.install(|| gemm(s.ta, s.tb, s.m, s.n, s.k, 1.0, &a, &b, s.beta, &mut out)),
            21,
        );
        println!(
            "  fastest of 21 runs: 1 thread {:.3} ms, 2 threads {:.3} ms, speed-up {:.2}",
            t1 * 1e3,
            t2 * 1e3,
            t1 / t2
        );
    }

    let mut group = c.benchmark_group("gemm_vae_shapes_1thread");
    group.sample_size(20);
    for s in shapes() {
        // Throughput in "elements" = flops, so criterion's Gelem/s read as GFLOP/s.
        group.throughput(Throughput::Elements(2 * (s.m * s.n * s.k) as u64));
        group.bench_function(s.name, |bch| {
            bch.iter(|| {
                one.install(|| gemm(s.ta, s.tb, s.m, s.n, s.k, 1.0, &a, &b, s.beta, &mut out))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
