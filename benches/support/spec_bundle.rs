//! The model every latency benchmark measures, built the same way in each.

use vaeser::backend::cpu::Cpu;
use vaeser::config::{ClassifierConfig, LearnerConfig, SegmentConfig};
use vaeser::models::autoencoder::LearnerKind;
use vaeser::models::bundle::{FrontEnd, ModelBundle};
use vaeser::models::classifier::{shape_for, Classifier, ClassifierShape};
use vaeser::train::autoencoder::{fit, FitRequest};
use vaeser::train::log::JsonLinesLog;

/// A bundle of the SPEC's sizes (VAE 800-512-256-128 with its decoder, two
/// LSTM layers of 128, dense 64); the learner is trained for one epoch on
/// noise: the values of its weights change neither the work nor the file
/// size, their sizes do.
pub fn spec_bundle() -> ModelBundle<Cpu> {
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
    ModelBundle {
        classifier: Classifier::new(&Cpu, shape, 1, None).unwrap(),
        learner,
        labels: names,
        task: vaeser::task::Task::Categorical,
        encode,
        corpus: "noise".into(),
        front_end: FrontEnd::current(),
    }
}
