//! `vaeser inspect` on the files `train` and `fit-features` really write:
//! the JSON holds the file's own values (checked against the checkpoint
//! read by the library), the table says the same for people, and a corrupt,
//! truncated or foreign file is an error naming it.

mod experiment_support;

use experiment_support::{check, corpus, s, scratch, tiny_config, vaeser};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use vaeser::checkpoint::Checkpoint;

/// A model file from `train` (AE) and a CVAE checkpoint from
/// `fit-features --fold 2`, made once for every test of this file.
fn files() -> &'static (PathBuf, PathBuf) {
    static FILES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = scratch("inspect");
        let config = tiny_config(&dir);
        let model = dir.join("m.safetensors");
        let learner = dir.join("l.safetensors");
        let common = ["--corpus", "synth", "--data", s(corpus())];
        let mut train = vec!["--quiet", "train", "--learner", "ae", "--no-cache"];
        train.extend(common);
        train.extend(["--config", s(&config), "--out", s(&model)]);
        check(&vaeser(&train, &[]), "train");
        let mut fit = vec![
            "--quiet",
            "fit-features",
            "--learner",
            "cvae",
            "--fold",
            "2",
        ];
        fit.extend(common);
        fit.extend(["--config", s(&config), "--out", s(&learner)]);
        check(&vaeser(&fit, &[]), "fit-features");
        (model, learner)
    })
}

fn inspect_json(path: &Path) -> Value {
    let out = vaeser(&["inspect", "--format", "json", s(path)], &[]);
    check(&out, "inspect --format json");
    serde_json::from_slice(&out.stdout).expect("the whole output is one JSON value")
}

fn meta(ck: &Checkpoint, key: &str) -> Value {
    ck.meta(key).unwrap()
}

/// The `--version` line starting with `label: `.
fn version_line(label: &str) -> String {
    let out = vaeser(&["--version"], &[]);
    check(&out, "--version");
    let text = String::from_utf8(out.stdout).unwrap();
    let prefix = format!("{label}: ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {label} in {text}"))
        .to_string()
}

#[test]
fn a_model_file_is_described_with_its_own_values() {
    let (model, _) = files();
    let ck = Checkpoint::load(model).unwrap();
    let r = inspect_json(model);
    assert!(r.is_object());
    assert_eq!(r["file"], s(model));
    assert_eq!(r["bytes"], std::fs::metadata(model).unwrap().len());
    assert_eq!(r["kind"], "vaeser-model");
    assert_eq!(r["format_version"], 2);
    let (_, checksum) = ck.recorded().unwrap();
    assert!(checksum.starts_with("xxh64:"));
    assert_eq!(r["checksum"]["recorded"], checksum);
    assert_eq!(r["checksum"]["verified"], true);

    let l = &r["learner"];
    assert_eq!(l["kind"], "ae");
    assert_eq!(l["shape"]["input"], 800);
    assert_eq!(l["shape"]["hidden"], serde_json::json!([64, 32]));
    assert_eq!(l["shape"]["latent"], 8);
    assert_eq!(l["config"]["max_epochs"], 3);
    assert_eq!(l["fold"], Value::Null);
    let stored = meta(&ck, "learner.training");
    assert_eq!(l["training"]["epochs_run"], stored["epochs_run"]);
    // The file counts the kept epoch from 0; people and the JSON from 1.
    assert_eq!(
        l["training"]["best_epoch"].as_u64().unwrap(),
        stored["best_epoch"].as_u64().unwrap() + 1
    );

    let c = &r["classifier"];
    assert_eq!(c["model"], "lstm-classifier");
    assert_eq!(c["shape"]["hidden"], 16);
    assert_eq!(c["shape"]["dense"], 16);
    assert_eq!(c["shape"]["layers"], 2);
    assert_eq!(c["shape"]["classes"], 4);
    assert_eq!(c["config"], meta(&ck, "classifier.config"));
    assert_eq!(c["config"]["lr"], 0.01);
    assert_eq!(c["training"], meta(&ck, "classifier.training"));
    let best = c["training"]["best_epoch"].as_u64().unwrap();
    assert!(best >= 1 && best <= c["training"]["epochs_run"].as_u64().unwrap());

    assert_eq!(r["model"]["corpus"], "synth");
    assert_eq!(
        r["model"]["labels"],
        serde_json::json!(["neutral", "happy", "sad", "angry"])
    );
    assert_eq!(r["model"]["front_end"]["sample_rate"], 16000);

    let p = &r["provenance"];
    assert_eq!(p["build"]["git_commit"], version_line("commit").as_str());
    assert_eq!(p["build"]["rustc"], version_line("rustc").as_str());
    assert_eq!(
        p["build"]["target_features"],
        version_line("target features").as_str()
    );
    assert_eq!(
        p["machine"]["gemm_kernel"],
        version_line("gemm kernel").as_str()
    );

    let tensors = r["tensors"].as_array().unwrap();
    assert_eq!(tensors.len(), ck.tensors().len());
    for (t, want) in tensors.iter().zip(ck.tensors()) {
        assert_eq!(t["name"], want.name);
        assert_eq!(t["shape"], serde_json::json!(want.shape));
        assert_eq!(t["count"], want.data.len());
    }
    assert_eq!(tensors[0]["name"], "learner.encoder.0.weight");
    assert_eq!(tensors[0]["shape"], serde_json::json!([64, 800]));
    assert_eq!(tensors[0]["count"], 51200);
    let total: usize = ck.tensors().map(|t| t.data.len()).sum();
    assert_eq!(r["parameters"], total);
    assert_eq!(r["other_metadata"], serde_json::json!({}));
}

/// "1 epoch", "3 epochs".
fn epochs(n: &Value) -> String {
    match n.as_u64().unwrap() {
        1 => "1 epoch".into(),
        n => format!("{n} epochs"),
    }
}

#[test]
fn the_table_says_the_same_for_people() {
    let (model, _) = files();
    let r = inspect_json(model);
    let out = vaeser(&["inspect", s(model)], &[]);
    check(&out, "inspect");
    let table = String::from_utf8(out.stdout).unwrap();
    let line = |label: &str| {
        table
            .lines()
            .find(|l| l.starts_with(label) && l[label.len()..].starts_with(' '))
            .unwrap_or_else(|| panic!("no '{label}' line in\n{table}"))
            .to_string()
    };
    assert!(line("kind").contains("vaeser-model: a model file written by `vaeser train`"));
    assert!(line("checksum").contains(&format!(
        "{} (verified)",
        r["checksum"]["recorded"].as_str().unwrap()
    )));
    assert!(line("feature learner").contains("AE: input 800, hidden [64, 32], latent 8"));
    assert!(line("classifier").contains("2 layers of LSTM 16, dense 16, 4 classes"));
    let t = &r["classifier"]["training"];
    let lt = &r["learner"]["training"];
    assert!(
        line("  training").contains(&format!(
            "{}, kept epoch {} (validation reconstruction",
            epochs(&lt["epochs_run"]),
            lt["best_epoch"]
        )),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "{}, kept epoch {} (validation UA {:.1}%",
            epochs(&t["epochs_run"]),
            t["best_epoch"],
            100.0 * t["best"]["val_ua"].as_f64().unwrap()
        )),
        "{table}"
    );
    let commit = r["provenance"]["build"]["git_commit"].as_str().unwrap();
    assert!(line("written by").contains(commit));
    assert!(line("tensors").contains(&format!("{} parameters", r["parameters"])));
    let first = table
        .lines()
        .find(|l| l.trim_start().starts_with("learner.encoder.0.weight"))
        .unwrap();
    assert!(
        first.contains("[64, 800]") && first.ends_with("51200"),
        "{first}"
    );
}

#[test]
fn a_feature_learner_checkpoint_is_described_without_a_classifier() {
    let (_, learner) = files();
    let ck = Checkpoint::load(learner).unwrap();
    let r = inspect_json(learner);
    assert_eq!(r["kind"], "cvae");
    assert!(r["description"]
        .as_str()
        .unwrap()
        .contains("`vaeser fit-features`"));
    assert_eq!(r["learner"]["kind"], "cvae");
    assert_eq!(r["learner"]["shape"]["conditions"], 4);
    assert_eq!(r["learner"]["fold"], 2, "folds count from 1");
    assert_eq!(r["learner"]["seed"], meta(&ck, "seed"));
    assert_eq!(r["classifier"], Value::Null);
    assert_eq!(r["model"], Value::Null);
    assert!(r["provenance"]["build"]["version"].is_string());
    let tensors = r["tensors"].as_array().unwrap();
    assert!(tensors
        .iter()
        .all(|t| !t["name"].as_str().unwrap().starts_with("learner.")));
    let total: u64 = tensors.iter().map(|t| t["count"].as_u64().unwrap()).sum();
    assert_eq!(r["parameters"], total);
    let out = vaeser(&["inspect", s(learner)], &[]);
    check(&out, "inspect");
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("CVAE: input 800, hidden [64, 32], latent 8, 4 conditions"));
    assert!(table.contains("2 held out"), "{table}");
    assert!(!table.contains("\nclassifier "), "{table}");
}

fn refused(path: &Path, what: &str) -> String {
    for format in ["table", "json"] {
        let out = vaeser(&["inspect", "--format", format, s(path)], &[]);
        assert_eq!(out.status.code(), Some(1), "{what}");
        assert!(out.stdout.is_empty(), "{what}: nothing printed on stdout");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(s(path)), "{what}: {err}");
        if format == "json" {
            return err;
        }
    }
    unreachable!()
}

#[test]
fn corrupt_truncated_and_foreign_files_are_errors_naming_them() {
    let (model, _) = files();
    let dir = scratch("inspect-bad");
    let bytes = std::fs::read(model).unwrap();

    let flipped = dir.join("flipped.safetensors");
    let mut b = bytes.clone();
    let at = b.len() - 100;
    b[at] ^= 0x01;
    std::fs::write(&flipped, &b).unwrap();
    let err = refused(&flipped, "a flipped bit");
    assert!(err.contains("checkpoint is corrupt"), "{err}");

    let truncated = dir.join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = refused(&truncated, "half a file");
    assert!(err.contains("truncated or corrupt"), "{err}");

    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a model at all, just some words\n").unwrap();
    let err = refused(&text, "a text file");
    assert!(
        err.contains("not a readable safetensors checkpoint"),
        "{err}"
    );

    let missing = dir.join("missing.safetensors");
    let err = refused(&missing, "no file");
    assert!(err.contains("no such file"), "{err}");
}

#[test]
fn help_explains_the_command() {
    let out = vaeser(&["inspect", "--help"], &[]);
    check(&out, "inspect --help");
    let help = String::from_utf8(out.stdout).unwrap();
    for words in [
        "`vaeser train`",
        "`vaeser fit-features`",
        "checksum is verified",
        "--format json prints one JSON object",
        "GEMM kernel",
    ] {
        assert!(help.contains(words), "{words}: {help}");
    }
    let top = vaeser(&["--help"], &[]);
    assert!(String::from_utf8(top.stdout)
        .unwrap()
        .contains("Show what a model file or checkpoint holds"));
}
