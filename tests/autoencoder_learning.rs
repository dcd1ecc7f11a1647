//! Learning: on a small fixed set of real RAVDESS segments, each feature
//! learner's reconstruction loss falls by a large factor within a few epochs,
//! and the VAE's KL term is finite and positive. Skips, saying why, when
//! ../shared/data is absent.

mod common;

use common::shared_dir;
use std::path::{Path, PathBuf};
use vaeser::audio::load_logmel;
use vaeser::backend::cpu::Cpu;
use vaeser::config::{LearnerConfig, SegmentConfig};
use vaeser::features::segments::append_segments;
use vaeser::models::autoencoder::LearnerKind;
use vaeser::train::autoencoder::{fit, validation_split, EpochRecord, FitRequest};
use vaeser::train::log::JsonLinesLog;

/// Segments and labels of the first files of two actors (one of each
/// gender), labels from the emotion field of the RAVDESS file name.
fn load_segments(dir: &Path) -> (Vec<f32>, Vec<usize>) {
    let seg = SegmentConfig::default();
    let (mut data, mut labels) = (Vec::new(), Vec::new());
    for actor in ["Actor_01", "Actor_02"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(actor))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "wav"))
            .collect();
        files.sort();
        // Every 4th file: all four emotions, both intensities, in 14 files.
        for path in files.iter().step_by(4) {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let label = match &stem[6..8] {
                "01" => 0,
                "03" => 1,
                "04" => 2,
                "05" => 3,
                other => panic!("unexpected emotion {other} in {stem}"),
            };
            let logmel = load_logmel(path).unwrap();
            let n = append_segments(&logmel, &seg, path, &mut data).unwrap();
            labels.extend(std::iter::repeat(label).take(n));
        }
    }
    (data, labels)
}

#[test]
fn reconstruction_falls_by_a_large_factor_for_ae_vae_and_cvae() {
    let Some(dir) = shared_dir("ravdess4-16k") else {
        return;
    };
    let (data, labels) = load_segments(&dir);
    let n = labels.len();
    assert!(n > 300, "only {n} segments");
    // Smaller batches than the SPEC's 256 so a few epochs hold enough steps.
    let config = LearnerConfig {
        batch: 32,
        max_epochs: 5,
        ..LearnerConfig::default()
    };
    let seg = SegmentConfig::default();
    let names: Vec<String> = ["neutral", "happy", "sad", "angry"]
        .map(String::from)
        .to_vec();
    for kind in [LearnerKind::Ae, LearnerKind::Vae, LearnerKind::Cvae] {
        let mut log = JsonLinesLog::in_memory();
        let req = FitRequest {
            kind,
            config: &config,
            segments_config: &seg,
            segments: &data,
            labels: Some(&labels),
            label_names: &names,
            seed: 3,
            fold: Some(0),
        };
        let learner = fit(&Cpu, &req, &mut log).unwrap();
        let epochs: Vec<EpochRecord> = log
            .records()
            .iter()
            .map(|r| serde_json::from_value(r.clone()).unwrap())
            .collect();
        for e in &epochs {
            eprintln!(
                "{kind} epoch {}: train {:.1} (recon {:.1}, KL {:.2}), val recon {:.1}, val KL {:.2}",
                e.epoch, e.train_loss, e.train_reconstruction, e.train_kl, e.val_reconstruction, e.val_kl
            );
        }
        // The loss of predicting every band's mean: the normalised data's
        // sum of squares per segment (close to 800, unit variance per value).
        let mut normalised = data.clone();
        learner.normalization.apply(&mut normalised).unwrap();
        let baseline = normalised
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            / n as f64;
        assert!((700.0..900.0).contains(&baseline), "baseline {baseline}");
        let last = epochs.last().unwrap();
        assert!(
            last.val_reconstruction < baseline / 4.0,
            "{kind}: validation reconstruction {} after {} epochs",
            last.val_reconstruction,
            epochs.len()
        );
        assert!(
            last.train_reconstruction < epochs[0].train_reconstruction / 2.0,
            "{kind}: training reconstruction went from {} to {}",
            epochs[0].train_reconstruction,
            last.train_reconstruction
        );
        if kind.is_variational() {
            for e in &epochs {
                assert!(
                    e.train_kl.is_finite() && e.train_kl > 0.0,
                    "{kind}: KL {}",
                    e.train_kl
                );
                assert!(
                    e.val_kl.is_finite() && e.val_kl > 0.0,
                    "{kind}: val KL {}",
                    e.val_kl
                );
            }
        } else {
            assert!(epochs.iter().all(|e| e.train_kl == 0.0));
        }
        assert_eq!(learner.summary.epochs_run, epochs.len());

        // The best epoch's weights were kept: the returned model's loss on
        // the validation segments is the best logged validation loss.
        let (best_epoch, best) = epochs
            .iter()
            .map(|e| e.val_reconstruction)
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |b, (i, v)| if v < b.1 { (i, v) } else { b },
            );
        assert_eq!(learner.summary.best_epoch, best_epoch);
        let (_, val) = validation_split(n, config.validation_fraction, 3, Some(0));
        let val_data: Vec<f32> = val
            .iter()
            .flat_map(|&i| data[i * 800..(i + 1) * 800].iter().copied())
            .collect();
        let val_labels: Vec<usize> = val.iter().map(|&i| labels[i]).collect();
        let (recon, _) = learner
            .reconstruction_loss(&val_data, Some(&val_labels))
            .unwrap();
        assert!(
            (recon - best).abs() <= 1e-4 * best,
            "{kind}: restored model's validation loss {recon}, best logged {best} (epoch {best_epoch})"
        );
    }
}
