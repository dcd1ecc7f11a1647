//! Training never returns a model with non-finite weights: an absurd
//! learning rate stops the feature learner and the classifier at the first
//! non-finite loss or parameter with `Error::Diverged` naming the model,
//! epoch and step or tensor; and a classifier that answers one class for
//! every validation utterance is flagged.

use vaeser::backend::cpu::Cpu;
use vaeser::config::{ClassifierConfig, LearnerConfig, SegmentConfig};
use vaeser::models::autoencoder::LearnerKind;
use vaeser::models::classifier::Sequence;
use vaeser::train::autoencoder::{self as fit_autoencoder, FitRequest};
use vaeser::train::classifier::{fit, ClassifierFitRequest};
use vaeser::train::log::JsonLinesLog;
use vaeser::Error;

fn names() -> Vec<String> {
    ["neutral", "happy", "sad", "angry"]
        .map(String::from)
        .to_vec()
}

/// Deterministic LogMel-like segments (natural-log energies around -5).
fn segments(n: usize, dim: usize) -> Vec<f32> {
    (0..n * dim)
        .map(|i| -5.0 + ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * 4.0)
        .collect()
}

#[test]
fn feature_learner_with_absurd_learning_rate_stops_naming_epoch_and_step() {
    let seg = SegmentConfig::default();
    let dim = seg.frames * 80;
    let data = segments(64, dim);
    for kind in [LearnerKind::Ae, LearnerKind::Vae] {
        let config = LearnerConfig {
            hidden: vec![32, 16],
            latent: 8,
            batch: 16,
            max_epochs: 5,
            lr: 1e30,
            ..LearnerConfig::default()
        };
        let mut log = JsonLinesLog::in_memory();
        let err = fit_autoencoder::fit(
            &Cpu,
            &FitRequest {
                kind,
                config: &config,
                segments_config: &seg,
                segments: &data,
                labels: None,
                label_names: &names(),
                seed: 1,
                fold: Some(2),
            },
            &mut log,
        )
        .err()
        .unwrap_or_else(|| panic!("{kind} trained with lr 1e30 without an error"));
        let text = err.to_string();
        assert!(matches!(err, Error::Diverged(_)), "{text}");
        assert!(
            text.contains(&format!("{kind} training (fold 2), epoch "))
                && (text.contains(", step ") || text.contains("parameter tensor '"))
                && text.contains("learner.lr"),
            "{text}"
        );
    }
}

#[test]
fn classifier_with_absurd_learning_rate_stops_and_one_class_answers_are_flagged() {
    let input = 6;
    let feats: Vec<Vec<f32>> = (0..24)
        .map(|u| {
            (0..3 * input)
                .map(|i| ((u * 31 + i * 17) % 23) as f32 / 23.0 - 0.5 + (u % 4) as f32)
                .collect()
        })
        .collect();
    let seqs: Vec<Sequence> = feats
        .iter()
        .enumerate()
        .map(|(u, f)| Sequence {
            features: f,
            steps: 3,
            label: u % 4,
        })
        .collect();
    let (train, validation) = seqs.split_at(16);
    let base = ClassifierConfig {
        hidden: 8,
        dense: 8,
        batch: 4,
        max_epochs: 3,
        ..ClassifierConfig::default()
    };
    let request = |config| ClassifierFitRequest {
        config,
        train,
        validation,
        label_names: &[],
        seed: 1,
        fold: Some(0),
    };
    let names = names();
    let absurd = ClassifierConfig {
        lr: 1e35,
        ..base.clone()
    };
    let err = fit(
        &Cpu,
        &ClassifierFitRequest {
            label_names: &names,
            ..request(&absurd)
        },
        &mut JsonLinesLog::in_memory(),
    )
    .expect_err("a classifier trained with lr 1e35 gave no error");
    let text = err.to_string();
    assert!(matches!(err, Error::Diverged(_)), "{text}");
    assert!(
        text.contains("classifier training (fold 0), epoch ") && text.contains("classifier.lr"),
        "{text}"
    );

    // Identical features for every utterance: whatever the weights, every
    // validation utterance gets the same answer.
    let same = vec![0.25f32; 3 * input];
    let flat: Vec<Sequence> = (0..24)
        .map(|u| Sequence {
            features: &same,
            steps: 3,
            label: u % 4,
        })
        .collect();
    let mut log = JsonLinesLog::in_memory();
    let fitted = fit(
        &Cpu,
        &ClassifierFitRequest {
            train: &flat[..16],
            validation: &flat[16..],
            label_names: &names,
            ..request(&base)
        },
        &mut log,
    )
    .unwrap();
    let warning = fitted.warning.expect("one-class classifier not flagged");
    assert!(
        warning.contains("degenerate classifier") && warning.contains("all 8 validation"),
        "{warning}"
    );
    assert!(
        log.records()
            .iter()
            .any(|r| r["warning"] == warning.as_str()),
        "warning missing from the log"
    );

    // A healthy run is not flagged.
    let healthy = fit(
        &Cpu,
        &ClassifierFitRequest {
            label_names: &names,
            ..request(&ClassifierConfig {
                max_epochs: 8,
                lr: 1e-2,
                ..base
            })
        },
        &mut JsonLinesLog::in_memory(),
    )
    .unwrap();
    assert!(healthy.warning.is_none(), "{:?}", healthy.warning);
}
