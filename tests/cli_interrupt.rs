//! The command line under interruption and misdirected outputs: SIGINT in
//! the middle of a cross-validation exits 130 having written the manifest
//! and the skipped list, printing the `--resume` command and leaving no
//! temporary file; output paths that hold something else (the user's
//! manifest as `--cache`, a directory as a model file, a file as `--out`
//! directory) are refused before any work, unless `--force`.

mod experiment_support;

use experiment_support::{corpus, s, scratch, vaeser, TINY_CONFIG};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn temporaries(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.contains(".tmp.") || name.starts_with(".vaeser-") {
            found.push(e.path().display().to_string());
        }
        if e.path().is_dir() {
            found.extend(temporaries(&e.path()));
        }
    }
    found
}

#[test]
fn sigint_mid_fold_exits_130_with_manifest_and_resume_command() {
    let dir = scratch("sigint");
    // Many cheap epochs: the run is certainly inside a fold when signalled.
    let config = dir.join("long.toml");
    std::fs::write(
        &config,
        TINY_CONFIG.replace(
            "max_epochs = 3\npatience = 2",
            "max_epochs = 500\npatience = 500",
        ),
    )
    .unwrap();
    let out = dir.join("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vaeser"))
        .args([
            "crossval",
            "--corpus",
            "synth",
            "--data",
            s(corpus()),
            "--learner",
            "vae",
            "--task",
            "categorical",
            "--config",
            s(&config),
            "--out",
            s(&out),
        ])
        .env_remove("VAESER_STOP_AFTER_FOLDS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = out.join("cells/vae-categorical-complete-L8/seed-1/fold-1.learner.jsonl");
    let started = Instant::now();
    while !log.is_file() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "training never started"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("--resume") && stderr.contains("stopped by a signal"),
        "{stderr}"
    );
    for f in ["manifest.json", "skipped.json"] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap();
    }
    // The signal arrives during fold 1's training or, on a fast machine,
    // just after fold 1 completed: either way the run stops before the last
    // fold, and every fold file it left is a complete, readable fold.
    let cell = out.join("cells/vae-categorical-complete-L8/seed-1");
    let folds: Vec<_> = std::fs::read_dir(&cell)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("fold-") && n.ends_with(".json"))
        .collect();
    assert!(folds.len() < 5, "the run went on to the end: {folds:?}");
    for f in &folds {
        let text = std::fs::read_to_string(cell.join(f)).unwrap();
        let fold: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(fold.get("record").is_some(), "{f} is not a complete fold");
    }
    assert_eq!(temporaries(&out), Vec::<String>::new());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn outputs_holding_other_files_are_refused_before_any_work() {
    let dir = scratch("foreign-outputs");
    let root = dir.join("m");
    common_wav(&root.join("u1.wav"));
    let csv = root.join("m.csv");
    let manifest = "path,label,speaker,fold\nu1.wav,happy,s1,1\n";
    std::fs::write(&csv, manifest).unwrap();

    let features = |extra: &[&str]| {
        let mut args = vec!["features", "--corpus", "manifest", "--data", s(&csv)];
        args.extend_from_slice(extra);
        vaeser(&args, &[])
    };
    let refused = features(&["--cache", s(&csv)]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains(&*csv.to_string_lossy()) && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), manifest);

    // A cache of ours at the same place is reused, not refused.
    let cache = dir.join("logmel.bin");
    for _ in 0..2 {
        let o = features(&["--cache", s(&cache)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // --force replaces a foreign file.
    let other = dir.join("notes.txt");
    std::fs::write(&other, "mine").unwrap();
    let forced = vaeser(
        &[
            "--force",
            "features",
            "--corpus",
            "manifest",
            "--data",
            s(&csv),
            "--cache",
            s(&other),
        ],
        &[],
    );
    assert!(forced.status.success());
    assert_ne!(std::fs::read(&other).unwrap(), b"mine");

    // A directory as the model file, a file as the output directory: both
    // refused at once (no corpus is even read: --data does not exist).
    let started = Instant::now();
    let folder = dir.join("model.safetensors");
    std::fs::create_dir_all(&folder).unwrap();
    let train = vaeser(
        &[
            "train",
            "--corpus",
            "synth",
            "--data",
            "/nonexistent",
            "--learner",
            "vae",
            "--out",
            s(&folder),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&train.stderr);
    assert!(
        !train.status.success() && stderr.contains("is a directory"),
        "{stderr}"
    );
    let crossval = vaeser(
        &[
            "crossval",
            "--corpus",
            "synth",
            "--data",
            "/nonexistent",
            "--learner",
            "vae",
            "--task",
            "categorical",
            "--out",
            s(&other),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&crossval.stderr);
    assert!(
        !crossval.status.success() && stderr.contains("not a directory"),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A 0.2 s 16-bit tone at 16 kHz.
fn common_wav(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..3200 {
        let t = i as f32 / 16_000.0;
        w.write_sample(((2.0 * std::f32::consts::PI * 300.0 * t).sin() * 9000.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}
