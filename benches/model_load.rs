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

use criterion::{criterion_group, criterion_main, Criterion};
use peak::median_seconds;
use std::path::{Path, PathBuf};
use vaeser::backend::cpu::Cpu;
use vaeser::config::{ClassifierConfig, LearnerConfig, SegmentConfig};
use vaeser::models::autoencoder::LearnerKind;
use vaeser::models::bundle::{FrontEnd, ModelBundle};
use vaeser::models::classifier::{shape_for, Classifier, ClassifierShape};
use vaeser::train::autoencoder::{fit, FitRequest};
use vaeser::train::log::JsonLinesLog;

/// A model file of the SPEC's sizes; the learner is trained for one epoch on
/// noise (its weights' values do not matter to loading, their sizes do).
fn model_file() -> PathBuf {
    let config = LearnerConfig {
        max_epochs: 1,
        ..LearnerConfig::default()
    };
    let mut segments = vec![0.0f32; 64 * 800];
    vaeser::nn::init::uniform(
        &mut vaeser::rng::stream(1, "bench-segments", 0, 0),
        1.0,
        &mut segments,
    );
    let names: Vec<String> = ["neutral", "happy", "sad", "angry"]
        .map(String::from)
        .to_vec();
    let learner = fit(
        &Cpu,
        &FitRequest {
            kind: LearnerKind::Vae,
            config: &config,
            segments_config: &SegmentConfig::default(),
            segments: &segments,
            labels: None,
            label_names: &names,
            seed: 1,
            fold: None,
        },
        &mut JsonLinesLog::in_memory(),
    )
    .unwrap();
    let encode = config.encode;
    let shape: ClassifierShape =
        shape_for(&ClassifierConfig::default(), learner.feature_dim(encode), 4);
    let bundle = ModelBundle {
        classifier: Classifier::new(&Cpu, shape, 1, None).unwrap(),
        learner,
        labels: names,
        task: vaeser::task::Task::Categorical,
        encode,
        corpus: "noise".into(),
        front_end: FrontEnd::current(),
    };
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
