//! `vaeser fit-features` and `vaeser encode` end to end on a small corpus in
//! the RAVDESS layout, generated here (so the test needs no shared data):
//! `--fold` keeps the held-out group out of training and out of the
//! normalisation statistics, the log has one line per epoch, the features
//! file holds exactly what the library's encoder gives, and the oracle CVAE
//! condition is marked as a label leak.

#[path = "common/scratch_dirs.rs"]
mod scratch_dirs;

use std::path::{Path, PathBuf};
use vaeser::audio::load_logmel;
use vaeser::backend::cpu::Cpu;
use vaeser::checkpoint::Checkpoint;
use vaeser::cli::{run, Cli};
use vaeser::config::{CvaeCondition, EncodeMode, SegmentConfig};
use vaeser::features::normalize::BandStats;
use vaeser::features::segments::segments;
use vaeser::models::autoencoder::LearnerKind;
use vaeser::models::feature_learner::{EncodeOptions, FeatureLearner, ORACLE_MARK};

use clap::Parser;

const RATE: u32 = 16_000;
/// RAVDESS emotion codes of the four classes.
const EMOTION_CODES: [u32; 4] = [1, 3, 4, 5];
/// Actors 1 and 2 form group actors01-04 (fold 1), actor 5 group actors05-08 (fold 2).
const ACTORS: [u32; 3] = [1, 2, 5];

fn temp_dir(test: &str) -> PathBuf {
    scratch_dirs::scratch(&format!("cli-{test}"))
}

fn wav_path(root: &Path, actor: u32, emotion: u32) -> PathBuf {
    root.join(format!("Actor_{actor:02}"))
        .join(format!("03-01-{emotion:02}-01-01-01-{actor:02}.wav"))
}

/// Twelve short utterances: a tone whose pitch depends on actor and emotion,
/// with a little deterministic noise so no band is constant.
fn write_corpus(root: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut state = 12345u32;
    for actor in ACTORS {
        std::fs::create_dir_all(root.join(format!("Actor_{actor:02}"))).unwrap();
        for (e, &code) in EMOTION_CODES.iter().enumerate() {
            let mut w = hound::WavWriter::create(wav_path(root, actor, code), spec).unwrap();
            let f = 150.0 + 60.0 * e as f64 + 25.0 * actor as f64;
            // 0.5 to 0.8 s: 5 to 8 segments of 100 ms.
            let len = (RATE as usize / 10) * (5 + (actor as usize + e) % 4);
            for i in 0..len {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (state >> 8) as f64 / (1u32 << 24) as f64 - 0.5;
                let t = i as f64 / RATE as f64;
                let v = 0.5 * (2.0 * std::f64::consts::PI * f * t).sin() + 0.05 * noise;
                w.write_sample((v * 32767.0) as i16).unwrap();
            }
            w.finalize().unwrap();
        }
    }
}

fn vaeser(args: &[&str]) -> vaeser::Result<()> {
    let mut argv = vec!["vaeser"];
    argv.extend_from_slice(args);
    run(Cli::try_parse_from(argv).unwrap())
}

fn path_arg(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// `vaeser fit-features` of a `model` learner on the RAVDESS-layout `corpus`,
/// with the options in `extra`, written to `out`.
fn fit_features(corpus: &Path, model: &str, extra: &[&str], out: &Path) -> vaeser::Result<()> {
    let (corpus, out) = (path_arg(corpus), path_arg(out));
    let mut args = vec![
        "fit-features",
        "--corpus",
        "ravdess",
        "--data",
        &corpus,
        "--learner",
        model,
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--out", &out]);
    vaeser(&args)
}

/// `vaeser encode` of the RAVDESS-layout `corpus` with the learner in
/// `model`, with the options in `extra`, written to `out`.
fn encode(model: &Path, corpus: &Path, extra: &[&str], out: &Path) -> vaeser::Result<()> {
    let (model, corpus, out) = (path_arg(model), path_arg(corpus), path_arg(out));
    let mut args = vec![
        "encode", "--model", &model, "--corpus", "ravdess", "--data", &corpus,
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--out", &out]);
    vaeser(&args)
}

/// A configuration small enough for a test: two epochs of a narrow network.
fn write_config(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(
        &path,
        "[learner]\nmax_epochs = 2\nhidden = [32, 16]\nbatch = 16\n",
    )
    .unwrap();
    path
}

fn raw_segments(path: &Path) -> Vec<f32> {
    segments(&load_logmel(path).unwrap(), &SegmentConfig::default(), path).unwrap()
}

#[test]
fn fit_features_holds_the_fold_out_and_encode_matches_the_library() {
    let dir = temp_dir("fit-encode");
    let corpus = dir.join("ravdess");
    write_corpus(&corpus);
    let config = write_config(&dir);
    let model = dir.join("vae.safetensors");
    let config = path_arg(&config);
    fit_features(
        &corpus,
        "vae",
        &["--fold", "1", "--latent", "4", "--config", &config],
        &model,
    )
    .unwrap();

    let learner = FeatureLearner::load(&Cpu, &model, Some(LearnerKind::Vae)).unwrap();
    // The checkpoint keeps the internal, 0-based fold index.
    assert_eq!(learner.fold, Some(0));
    assert_eq!(learner.latent(), 4);
    let log = std::fs::read_to_string(dir.join("vae.log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), learner.summary.epochs_run);
    assert!(learner.summary.epochs_run >= 1 && learner.summary.epochs_run <= 2);

    // Fold 1 is actors 1 and 2: the statistics come from actor 5 alone.
    let train: Vec<Vec<f32>> = EMOTION_CODES
        .iter()
        .map(|&e| raw_segments(&wav_path(&corpus, 5, e)))
        .collect();
    let parts: Vec<&[f32]> = train.iter().map(|v| v.as_slice()).collect();
    let expected = BandStats::fit(&parts, 80).unwrap();
    assert_eq!(learner.normalization, expected);
    let n_train: usize = train.iter().map(|v| v.len() / 800).sum();
    assert_eq!(
        learner.summary.train_segments + learner.summary.val_segments,
        n_train
    );

    let features = dir.join("features.safetensors");
    encode(&model, &corpus, &["--mode", "mu"], &features).unwrap();
    let ck = Checkpoint::load(&features).unwrap();
    assert_eq!(ck.kind(), "features");
    assert_eq!(ck.tensors().len(), ACTORS.len() * EMOTION_CODES.len());
    assert!(!ck.has_meta("label_leak"));
    assert_eq!(ck.meta::<usize>("feature_dim").unwrap(), 4);
    let options = EncodeOptions {
        mode: EncodeMode::Mu,
        condition: CvaeCondition::Uniform,
        noise_key: 0,
    };
    // A held-out utterance (actor 1, sad) and a training one (actor 5, angry).
    for (actor, code) in [(1, 4), (5, 5)] {
        let path = wav_path(&corpus, actor, code);
        let raw = raw_segments(&path);
        let want = learner.encode_utterance(&raw, None, &options).unwrap();
        let id = path.file_stem().unwrap().to_str().unwrap();
        let got = ck.tensor(id).unwrap();
        assert_eq!(got.shape, vec![raw.len() / 800, 4]);
        assert_eq!(
            got.data.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            "{id}"
        );
    }
    let described: Vec<serde_json::Value> = ck.meta("utterances").unwrap();
    let sad1 = described
        .iter()
        .find(|u| u["id"] == "03-01-04-01-01-01-01")
        .unwrap();
    assert_eq!(sad1["label"], "sad");
    assert_eq!(sad1["group"], "actors01-04");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn oracle_cvae_features_are_marked_as_a_label_leak() {
    let dir = temp_dir("oracle");
    let corpus = dir.join("ravdess");
    write_corpus(&corpus);
    let config = write_config(&dir);
    let model = dir.join("cvae.safetensors");
    let config = path_arg(&config);
    fit_features(
        &corpus,
        "cvae",
        &["--latent", "3", "--config", &config],
        &model,
    )
    .unwrap();
    assert_eq!(FeatureLearner::load(&Cpu, &model, None).unwrap().fold, None);

    let encode_with = |condition: &str, out: &Path| {
        encode(&model, &corpus, &["--cvae-condition", condition], out).unwrap();
        Checkpoint::load(out).unwrap()
    };
    let uniform = encode_with("uniform", &dir.join("uniform.safetensors"));
    let oracle = encode_with("oracle", &dir.join("oracle.safetensors"));
    assert!(!uniform.has_meta("label_leak"));
    assert_eq!(oracle.meta::<String>("label_leak").unwrap(), ORACLE_MARK);
    // mu and log sigma^2 by default; the condition changes the features.
    assert_eq!(oracle.meta::<usize>("feature_dim").unwrap(), 6);
    let id = "03-01-05-01-01-01-02";
    assert_ne!(
        uniform.tensor(id).unwrap().data,
        oracle.tensor(id).unwrap().data
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fold_the_corpus_does_not_have_is_an_error_listing_the_folds() {
    let dir = temp_dir("bad-fold");
    let corpus = dir.join("ravdess");
    write_corpus(&corpus);
    let err = fit_features(&corpus, "ae", &["--fold", "3"], &dir.join("ae.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--fold 3")
            && err.contains("2 folds")
            && err.contains("1 (actors01-04")
            && err.contains("actors05-08"),
        "{err}"
    );
    assert!(!dir.join("ae.safetensors").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
