//! Loading a model file of the SPEC's sizes (VAE 800-512-256-128 with its
//! decoder, two LSTM layers of 128 over 256 features, dense 64): what every
//! `vaeser predict` pays before its first prediction.
//!
//! The reference, measured in interleaved rounds in the same run, is reading
//! the file's bytes (`std::fs::read`, from the page cache): the part no
//! parser can avoid without mapping the file.
//!
//! `cargo bench --bench model_load`

#[path = "support/peak.rs"]
#[allow(dead_code)]
mod peak;
#[path = "support/spec_bundle.rs"]
mod spec_bundle;

use criterion::{criterion_group, criterion_main, Criterion};
use peak::median_seconds;
use std::path::{Path, PathBuf};
use vaeser::backend::cpu::Cpu;
use vaeser::models::bundle::ModelBundle;

/// A model file of the SPEC's sizes, written once for the run.
fn model_file() -> PathBuf {
    let bundle = spec_bundle::spec_bundle();
    let path = std::env::temp_dir().join(format!(
        "vaeser-bench-model-{}.safetensors",
        std::process::id()
    ));
    bundle.save(&path).unwrap();
    path
}

fn bench(c: &mut Criterion) {
    let path = model_file();
    let size = std::fs::metadata(&path).unwrap().len();
    let load = |p: &Path| {
        std::hint::black_box(ModelBundle::load(&Cpu, p).unwrap());
    };
    let read = |p: &Path| {
        std::hint::black_box(std::fs::read(p).unwrap());
    };
    load(&path);
    let (mut loads, mut reads) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        loads.push(median_seconds(|| load(&path), 5));
        reads.push(median_seconds(|| read(&path), 5));
    }
    let l = peak::median(&mut loads);
    let r = peak::median(&mut reads);
    println!(
        "model file of {:.1} MB: load {:.2} ms, read of its bytes {:.2} ms ({:.1}x the read)",
        size as f64 / 1e6,
        1e3 * l,
        1e3 * r,
        l / r
    );
    c.bench_function("ModelBundle::load", |b| b.iter(|| load(&path)));
    let _ = std::fs::remove_file(&path);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
