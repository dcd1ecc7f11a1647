//! `vaeser train` then `vaeser predict`: the model file holds everything
//! prediction needs, the predictions fit the training labels well above
//! chance, and a bad file gets an error line without stopping the others.

mod experiment_support;

use experiment_support::{check, corpus, s, scratch, tiny_config, vaeser};
use vaeser::audio::wav::read_mono;
use vaeser::corpus::{load, CorpusKind, LoadOptions};
use vaeser::models::bundle::ModelBundle;

#[test]
fn train_then_predict_round_trip() {
    let dir = scratch("model");
    let config = tiny_config(&dir);
    let model = dir.join("vae.safetensors");
    let o = vaeser(
        &[
            "train",
            "--seed",
            "2",
            "--corpus",
            "synth",
            "--data",
            s(corpus()),
            "--learner",
            "vae",
            "--config",
            s(&config),
            "--out",
            s(&model),
        ],
        &[],
    );
    check(&o, "train");
    assert!(dir.join("vae.safetensors.classifier.jsonl").exists());

    // Every labelled utterance of the corpus (all of them trained the model).
    let listed = load(CorpusKind::Synth, corpus(), &LoadOptions::default()).unwrap();
    let picked: Vec<_> = listed
        .utterances
        .iter()
        .filter(|u| u.label.is_some())
        .collect();
    assert!(picked.len() > 100);
    let bad = dir.join("not-audio.wav");
    std::fs::write(&bad, b"this is not a WAV file").unwrap();
    let mut args = vec!["predict", "--model", s(&model), "--format", "jsonl"];
    let paths: Vec<String> = picked
        .iter()
        .map(|u| u.path.display().to_string())
        .collect();
    args.extend(paths.iter().map(String::as_str));
    args.push(s(&bad));
    let o = vaeser(&args, &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the exit code counts the failed inputs"
    );
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), picked.len() + 1);
    let bundle = ModelBundle::load(&vaeser::backend::cpu::Cpu, &model).unwrap();
    let mut correct = 0;
    for (i, (row, u)) in rows.iter().zip(&picked).enumerate() {
        assert_eq!(row["id"].as_str().unwrap(), paths[i], "input order is kept");
        let probs = row["probabilities"].as_object().unwrap();
        assert_eq!(probs.len(), 4);
        let sum: f64 = probs.values().map(|v| v.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-4, "{row}");
        let predicted = row["predicted"].as_str().unwrap();
        // The binary and the library agree, from a file and from samples.
        if i % 20 == 0 {
            let from_file = bundle.predict_file(&u.path).unwrap();
            assert_eq!(from_file.label, predicted);
            let (samples, rate) = read_mono(&u.path).unwrap();
            assert_eq!(bundle.predict_samples(&samples, rate).unwrap(), from_file);
        }
        correct += usize::from(Some(predicted) == u.label.map(|l| bundle.labels[l].as_str()));
    }
    // Chance is about 25% (four classes in roughly equal numbers); tiny
    // networks trained for a few epochs get well above it.
    let accuracy = correct as f64 / picked.len() as f64;
    assert!(
        accuracy > 0.38,
        "{correct} of {} training utterances",
        picked.len()
    );
    let last = &rows[picked.len()];
    assert!(
        last["error"].as_str().unwrap().contains("not-audio.wav"),
        "{last}"
    );

    // The table form: a header, one line per file, the bad one with its error.
    let o = vaeser(&["predict", "--model", s(&model), &paths[0], s(&bad)], &[]);
    assert_eq!(o.status.code(), Some(1));
    let table = String::from_utf8_lossy(&o.stdout);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.lines().last().unwrap().contains("error"), "{table}");

    // A directory gives every WAV under it, in path order; the output is
    // byte for byte the same on one thread and on two.
    let session = corpus().join("Session1");
    let mut in_session: Vec<&String> = paths
        .iter()
        .filter(|p| p.starts_with(s(&session)))
        .collect();
    in_session.sort();
    let csv = |threads: &str| {
        let o = vaeser(
            &[
                "-j",
                threads,
                "predict",
                "--model",
                s(&model),
                "--format",
                "csv",
                s(&session),
            ],
            &[],
        );
        check(&o, "predict a directory");
        String::from_utf8(o.stdout).unwrap()
    };
    let one = csv("1");
    assert_eq!(one, csv("2"));
    let lines: Vec<&str> = one.lines().collect();
    assert!(lines[0].starts_with("id,path,predicted,"), "{one}");
    // Session 1 also holds utterances outside the four classes.
    assert!(lines.len() > in_session.len(), "{one}");
    let csv_ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let mut sorted = csv_ids.clone();
    sorted.sort();
    assert_eq!(csv_ids, sorted);
    for p in &in_session {
        assert!(csv_ids.contains(&p.as_str()), "{p} missing");
    }

    // Lists: a wav.scp on stdin and a CSV, keyed by their ids.
    let scp = format!("first {}\nsecond {}\n", paths[0], paths[1]);
    let o = vaeser_stdin(
        &["predict", "--model", s(&model), "--format", "jsonl", "-"],
        &scp,
    );
    check(&o, "predict a list on stdin");
    let ids: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["first", "second"]);
    let list = dir.join("list.csv");
    std::fs::write(
        &list,
        format!("id,path\nthird,{}\nmissing,nowhere.wav\n", paths[2]),
    )
    .unwrap();
    let o = vaeser(&["predict", "--model", s(&model), "--list", s(&list)], &[]);
    assert_eq!(o.status.code(), Some(1), "one listed file does not exist");
    let table = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[1].starts_with("third "), "{table}");
    assert!(
        lines[2].starts_with("missing ") && lines[2].contains("error"),
        "{table}"
    );

    // Windows: every window is predicted as a file holding only its samples.
    let long = &picked
        .iter()
        .max_by_key(|u| std::fs::metadata(&u.path).unwrap().len())
        .unwrap()
        .path;
    let o = vaeser(
        &[
            "predict",
            "--model",
            s(&model),
            "--format",
            "jsonl",
            "--window",
            "0.5",
            "--hop",
            "0.25",
            s(long),
        ],
        &[],
    );
    check(&o, "predict windows");
    let windows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (samples, rate) = read_mono(long).unwrap();
    assert_eq!(rate, 16_000);
    let duration = samples.len() as f64 / 16_000.0;
    assert!(windows.len() >= 3, "{} s: {windows:?}", duration);
    assert_eq!(windows[1]["start"], 0.25);
    assert!((windows.last().unwrap()["end"].as_f64().unwrap() - duration).abs() < 1e-9);
    let w = &windows[1];
    let cut = &samples[4_000..12_000];
    let p = bundle.predict_samples(cut, 16_000).unwrap();
    assert_eq!(w["predicted"].as_str().unwrap(), p.label);
    assert_eq!(
        w["probabilities"][&p.label].as_f64().unwrap(),
        f64::from(p.probabilities[p.index])
    );

    // A feature learner is not a model file: the error says which command makes one.
    let learner = dir.join("learner.safetensors");
    bundle.learner.save(&learner).unwrap();
    let o = vaeser(&["predict", "--model", s(&learner), &paths[0]], &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("--model")
            && stderr.contains("feature learner")
            && stderr.contains("vaeser train"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs the binary with `input` on its standard input.
fn vaeser_stdin(args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vaeser"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}
