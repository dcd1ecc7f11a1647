//! A trained feature learner through its checkpoint: identical features
//! after a save/load round trip, clear errors for another kind or shape, and
//! the encoding modes of SPEC §3.

#[path = "common/scratch_dirs.rs"]
mod scratch_dirs;

use rand_distr::{Distribution, Normal};
use vaeser::backend::cpu::Cpu;
use vaeser::checkpoint::Checkpoint;
use vaeser::config::{CvaeCondition, EncodeMode, LearnerConfig, SegmentConfig};
use vaeser::models::autoencoder::{AutoencoderShape, LearnerKind};
use vaeser::models::feature_learner::{EncodeOptions, FeatureLearner};
use vaeser::train::autoencoder::{fit, FitRequest};
use vaeser::train::log::JsonLinesLog;

const N: usize = 120;

fn data() -> (Vec<f32>, Vec<usize>) {
    let mut rng = vaeser::rng::stream(2, "checkpoint-data", 0, 0);
    let noise = Normal::new(0.0f32, 1.5).unwrap();
    let x = (0..N * 800)
        .map(|i| -5.0 + (i % 80) as f32 * 0.1 + noise.sample(&mut rng))
        .collect();
    let labels = (0..N).map(|i| i % 4).collect();
    (x, labels)
}

fn train(kind: LearnerKind) -> FeatureLearner<Cpu> {
    let (x, labels) = data();
    let config = LearnerConfig {
        latent: 8,
        hidden: vec![32, 16],
        batch: 32,
        max_epochs: 2,
        ..LearnerConfig::default()
    };
    let names: Vec<String> = ["neutral", "happy", "sad", "angry"]
        .map(String::from)
        .to_vec();
    let req = FitRequest {
        kind,
        config: &config,
        segments_config: &SegmentConfig::default(),
        segments: &x,
        labels: Some(&labels),
        label_names: &names,
        seed: 4,
        fold: Some(2),
    };
    fit(&Cpu, &req, &mut JsonLinesLog::in_memory()).unwrap()
}

fn tmp(name: &str) -> std::path::PathBuf {
    scratch_dirs::scratch_path("learner-checkpoint").join(name)
}

fn opts(mode: EncodeMode, condition: CvaeCondition) -> EncodeOptions {
    EncodeOptions {
        mode,
        condition,
        noise_key: 0,
    }
}

#[test]
fn saved_learner_encodes_exactly_as_the_trained_one() {
    let (x, _) = data();
    let utterances: Vec<&[f32]> =
        vec![&x[..3 * 800], &x[3 * 800..10 * 800], &x[10 * 800..11 * 800]];
    for kind in [LearnerKind::Ae, LearnerKind::Vae, LearnerKind::Cvae] {
        let learner = train(kind);
        let path = tmp(&format!("{kind}.safetensors"));
        learner.save(&path).unwrap();
        let back = FeatureLearner::load(&Cpu, &path, Some(kind)).unwrap();
        assert_eq!(back.kind(), kind);
        assert_eq!(back.normalization, learner.normalization);
        assert_eq!(back.label_names, learner.label_names);
        assert_eq!(back.summary, learner.summary);
        assert_eq!(
            back.to_checkpoint().unwrap().to_bytes(),
            std::fs::read(&path).unwrap()
        );
        let o = opts(EncodeMode::MuLogvar, CvaeCondition::Uniform);
        let a = learner.encode_utterances(&utterances, None, &o).unwrap();
        let b = back.encode_utterances(&utterances, None, &o).unwrap();
        assert_eq!(a, b, "{kind}");
        assert_eq!(a[1].len(), 7 * learner.feature_dim(o.mode));
        // Encoding utterances one at a time gives the same features.
        let single = learner.encode_utterance(utterances[1], None, &o).unwrap();
        assert_eq!(single, a[1], "{kind}");
    }
}

#[test]
fn another_kind_or_shape_is_refused_clearly() {
    let learner = train(LearnerKind::Vae);
    let path = tmp("vae-for-ae.safetensors");
    learner.save(&path).unwrap();
    let e = FeatureLearner::load(&Cpu, &path, Some(LearnerKind::Ae))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("'vae'") && e.contains("'ae'") && e.contains("vae-for-ae"),
        "{e}"
    );

    // Metadata claiming a larger latent code than the tensors hold.
    let mut ck = Checkpoint::load(&path).unwrap();
    let mut shape: AutoencoderShape = ck.meta("shape").unwrap();
    shape.latent = 16;
    ck.set_meta("shape", &shape);
    let e = FeatureLearner::read_from(&Cpu, &ck, "")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("mu.weight") && e.contains("[8, 16]") && e.contains("[16, 16]"),
        "{e}"
    );

    // A classifier checkpoint (or anything else) is not a feature learner.
    let other = Checkpoint::new("classifier");
    let p = tmp("classifier.safetensors");
    other.save(&p).unwrap();
    let e = FeatureLearner::load(&Cpu, &p, None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("'classifier'"), "{e}");
}

#[test]
fn encoding_modes_and_cvae_conditions() {
    let (x, _) = data();
    let u: Vec<&[f32]> = vec![&x[..4 * 800], &x[4 * 800..6 * 800]];
    let vae = train(LearnerKind::Vae);
    let l = vae.latent();
    let both = vae
        .encode_utterance(
            u[0],
            None,
            &opts(EncodeMode::MuLogvar, CvaeCondition::Uniform),
        )
        .unwrap();
    let mu = vae
        .encode_utterance(u[0], None, &opts(EncodeMode::Mu, CvaeCondition::Uniform))
        .unwrap();
    assert_eq!(both.len(), 4 * 2 * l);
    assert_eq!(mu.len(), 4 * l);
    for s in 0..4 {
        assert_eq!(&both[s * 2 * l..s * 2 * l + l], &mu[s * l..(s + 1) * l]);
    }
    let sample = |key| {
        let o = EncodeOptions {
            noise_key: key,
            ..opts(EncodeMode::Sample, CvaeCondition::Uniform)
        };
        vae.encode_utterances(&u, None, &o).unwrap()
    };
    assert_eq!(sample(1), sample(1));
    assert_ne!(sample(1), sample(2));
    assert_ne!(sample(1)[0], mu);

    let ae = train(LearnerKind::Ae);
    let code = ae
        .encode_utterance(
            u[0],
            None,
            &opts(EncodeMode::MuLogvar, CvaeCondition::Uniform),
        )
        .unwrap();
    assert_eq!(code.len(), 4 * ae.latent());

    let cvae = train(LearnerKind::Cvae);
    let uniform = cvae
        .encode_utterances(&u, None, &opts(EncodeMode::Mu, CvaeCondition::Uniform))
        .unwrap();
    let oracle = cvae
        .encode_utterances(
            &u,
            Some(&[0, 3]),
            &opts(EncodeMode::Mu, CvaeCondition::Oracle),
        )
        .unwrap();
    assert_ne!(uniform, oracle, "the condition must reach the encoder");
    let e = cvae
        .encode_utterances(&u, None, &opts(EncodeMode::Mu, CvaeCondition::Oracle))
        .unwrap_err()
        .to_string();
    assert!(e.contains("label"), "{e}");
    let e = cvae
        .encode_utterances(
            &u,
            Some(&[0, 4]),
            &opts(EncodeMode::Mu, CvaeCondition::Oracle),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("label 4"), "{e}");
    let e = vae
        .encode_utterance(
            &x[..799],
            None,
            &opts(EncodeMode::Mu, CvaeCondition::Uniform),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("799"), "{e}");
}
