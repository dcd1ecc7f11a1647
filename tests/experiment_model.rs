//! `vaeser train` then `vaeser predict`: the model file holds everything
//! prediction needs, the predictions fit the training labels well above
//! chance, and a bad file gets an error line without stopping the others.

mod experiment_support;

use experiment_support::{check, corpus, s, scratch, tiny_config, vaeser};
use vaeser::corpus::{load, CorpusKind, LoadOptions};
use vaeser::models::bundle::ModelBundle;

#[test]
fn train_then_predict_round_trip() {
    let dir = scratch("model");
    let config = tiny_config(&dir);
    let model = dir.join("vae.safetensors");
    let o = vaeser(
        &[
            "--seed",
            "2",
            "train",
            "--corpus",
            "synth",
            "--data",
            s(corpus()),
            "--model",
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
    let mut args = vec!["predict", "--model", s(&model), "--json"];
    let paths: Vec<String> = picked
        .iter()
        .map(|u| u.path.display().to_string())
        .collect();
    args.extend(paths.iter().map(String::as_str));
    args.push(s(&bad));
    let o = vaeser(&args, &[]);
    assert!(
        !o.status.success(),
        "a bad file makes the exit code non-zero"
    );
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), picked.len() + 1);
    let bundle = ModelBundle::load(&vaeser::backend::cpu::Cpu, &model).unwrap();
    let mut correct = 0;
    for (i, (row, u)) in rows.iter().zip(&picked).enumerate() {
        let probs = row["probabilities"].as_object().unwrap();
        assert_eq!(probs.len(), 4);
        let sum: f64 = probs.values().map(|v| v.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-4, "{row}");
        let predicted = row["predicted"].as_str().unwrap();
        // The binary and the library agree.
        if i % 20 == 0 {
            assert_eq!(bundle.predict_file(&u.path).unwrap().label, predicted);
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

    // The table form: one line per file, the bad one with its error.
    let o = vaeser(&["predict", "--model", s(&model), &paths[0], s(&bad)], &[]);
    assert!(!o.status.success());
    let table = String::from_utf8_lossy(&o.stdout);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.lines().last().unwrap().contains("error"), "{table}");
    std::fs::remove_dir_all(&dir).unwrap();
}
