//! A dense layer's forward + backward at the VAE's first encoder layer: batch
//! 256, 800 -> 512, ReLU, with the input gradient (as a hidden layer needs),
//! on one thread. Flops counted: the three GEMMs (2 per multiply-add); the
//! bias, activation and column-sum passes are not counted.
//!
//! Two references are measured in the same run: one core's FMA peak (the
//! project's target is at least 70% of the 8-lane peak, see
//! `support/peak.rs`), and the three raw `matrixmultiply::sgemm` calls the
//! layer makes, so the ratio shows what the layer adds on top of its GEMMs.
//!
//! `cargo bench --bench dense`

#[path = "support/peak.rs"]
mod peak;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use peak::SideBySide;
use vaeser::backend::cpu::Cpu;
use vaeser::backend::Activation;
use vaeser::nn::dense::{Dense, InputGrad};
use vaeser::nn::params::ParamLayout;

const BATCH: usize = 256;
const INPUTS: usize = 800;
const OUTPUTS: usize = 512;
const FLOPS: u64 = 3 * 2 * (BATCH * INPUTS * OUTPUTS) as u64;

struct Setup {
    layer: Dense,
    params: Vec<f32>,
    grads: Vec<f32>,
    x: Vec<f32>,
    y: Vec<f32>,
    dy: Vec<f32>,
    dz: Vec<f32>,
    dx: Vec<f32>,
}

fn random(len: usize, purpose: &str) -> Vec<f32> {
    let mut v = vec![0.0; len];
    vaeser::nn::init::uniform(&mut vaeser::rng::stream(1, purpose, 0, 0), 1.0, &mut v);
    v
}

impl Setup {
    fn new() -> Self {
        let mut layout = ParamLayout::new();
        let layer = Dense::new(&mut layout, "enc.0", INPUTS, OUTPUTS, Activation::Relu);
        let mut params = vec![0.0; layout.len()];
        layer
            .init(&mut vaeser::rng::stream(1, "bench-init", 0, 0), &mut params)
            .unwrap();
        Self {
            layer,
            grads: vec![0.0; params.len()],
            params,
            x: random(BATCH * INPUTS, "bench-x"),
            y: vec![0.0; BATCH * OUTPUTS],
            dy: random(BATCH * OUTPUTS, "bench-dy"),
            dz: vec![0.0; BATCH * OUTPUTS],
            dx: vec![0.0; BATCH * INPUTS],
        }
    }

    fn forward_backward(&mut self) {
        let s = self;
        s.layer
            .forward(&Cpu, BATCH, &s.params, &s.x, &mut s.y)
            .unwrap();
        s.layer
            .backward(
                &Cpu,
                BATCH,
                &s.params,
                &s.x,
                &s.y,
                &s.dy,
                &mut s.dz,
                &mut s.grads,
                InputGrad::Overwrite(&mut s.dx),
            )
            .unwrap();
    }

    /// The layer's three GEMMs, straight through matrixmultiply.
    fn raw_gemms(&mut self) {
        let s = self;
        let (b, i, o) = (BATCH, INPUTS, OUTPUTS);
        let w = &s.params[s.layer.weight_range()];
        let (w_start, w_end) = (s.layer.weight_range().start, s.layer.weight_range().end);
        // SAFETY: every operand is exactly the size its shape and strides
        // address: x [b, i], W [o, i], y/dz [b, o], dW [o, i], dx [b, i].
        unsafe {
            // y = x W^T
            matrixmultiply::sgemm(
                b,
                i,
                o,
                1.0,
                s.x.as_ptr(),
                i as isize,
                1,
                w.as_ptr(),
                1,
                i as isize,
                0.0,
                s.y.as_mut_ptr(),
                o as isize,
                1,
            );
            // dW += dz^T x
            matrixmultiply::sgemm(
                o,
                b,
                i,
                1.0,
                s.dz.as_ptr(),
                1,
                o as isize,
                s.x.as_ptr(),
                i as isize,
                1,
                1.0,
                s.grads[w_start..w_end].as_mut_ptr(),
                i as isize,
                1,
            );
            // dx = dz W
            matrixmultiply::sgemm(
                b,
                o,
                i,
                1.0,
                s.dz.as_ptr(),
                o as isize,
                1,
                w.as_ptr(),
                i as isize,
                1,
                0.0,
                s.dx.as_mut_ptr(),
                i as isize,
                1,
            );
        }
    }
}

fn bench(c: &mut Criterion) {
    // Criterion cannot move into a pool, so each measured call enters the
    // one-thread pool (microseconds against milliseconds).
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut setup = Setup::new();
    // Its own buffers, so the two closures below do not share a borrow.
    let mut raw = Setup::new();
    let r = one.install(|| {
        SideBySide::measure(
            9,
            7,
            FLOPS as f64,
            || setup.forward_backward(),
            || raw.raw_gemms(),
        )
    });
    println!(
        "dense {INPUTS}->{OUTPUTS} relu batch {BATCH}, forward + backward with dx, 1 thread: {}",
        r.describe("its 3 GEMMs as raw matrixmultiply::sgemm calls")
    );

    let mut group = c.benchmark_group("dense_800x512_b256_1thread");
    // Throughput in "elements" = flops, so criterion's Gelem/s read as GFLOP/s.
    group.throughput(Throughput::Elements(FLOPS));
    group.sample_size(20);
    group.bench_function("forward_backward", |b| {
        b.iter(|| one.install(|| setup.forward_backward()))
    });
    group.bench_function("raw_sgemm_calls", |b| {
        b.iter(|| one.install(|| raw.raw_gemms()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
