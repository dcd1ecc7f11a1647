//! `vaeser crossval` on a dimensional task: leave one speaker out, three
//! levels, and the oracle CVAE condition marked wherever its numbers appear.

mod experiment_support;

use experiment_support::{check, corpus, s, scratch, tiny_config, vaeser};
use vaeser::eval::results::{CellResult, Task};

#[test]
fn dimensional_cell_leaves_one_speaker_out_and_oracle_runs_are_marked() {
    let dir = scratch("crossval");
    let config = tiny_config(&dir);
    let out = dir.join("arousal");
    let o = vaeser(
        &[
            "crossval",
            "--corpus",
            "synth",
            "--data",
            s(corpus()),
            "--learner",
            "cvae",
            "--task",
            "arousal",
            "--cvae-condition",
            "oracle",
            "--latent",
            "4",
            "--config",
            s(&config),
            "--out",
            s(&out),
        ],
        &[],
    );
    check(&o, "crossval");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("oracle labels"), "{stdout}");
    let cell: CellResult =
        serde_json::from_slice(&std::fs::read(out.join("cvae-arousal-complete-L4.json")).unwrap())
            .unwrap();
    assert!(cell.oracle_labels);
    assert_eq!(cell.task, Task::Arousal);
    assert_eq!(cell.latent, 4);
    assert_eq!(cell.labels, ["low", "mid", "high"]);
    // Ten speakers, each held out once; no utterance tested twice.
    assert_eq!(cell.folds.len(), 10);
    let mut groups: Vec<&str> = cell.folds.iter().map(|f| f.test_group.as_str()).collect();
    groups.dedup();
    assert_eq!(groups.len(), 10);
    let tested: usize = cell.folds.iter().map(|f| f.n_test).sum();
    assert_eq!(tested as u64, cell.summary.confusion.total());
    for f in &cell.folds {
        assert!(
            f.n_validation > 0 && f.n_train > 5 * f.n_validation,
            "{f:?}"
        );
        assert!(!f.learner_epochs.is_empty() && !f.classifier_epochs.is_empty());
    }
    // The per-fold logs are JSON lines.
    let log = std::fs::read_to_string(
        out.join("cells/cvae-arousal-complete-L4/seed-1/fold-3.classifier.jsonl"),
    )
    .unwrap();
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["val_ua"].is_number(), "{line}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Dimensional tasks use every rated utterance by default (the synthetic
/// corpus has frustrated and xxx ones, as IEMOCAP does); four-class keeps
/// only neutral, happy, sad and angry. The folds (speakers) are the same.
#[test]
fn dimensional_tasks_use_every_rated_utterance_unless_asked_for_four_classes() {
    let dir = scratch("crossval-rated");
    let rated_other = vaeser::corpus::load(
        vaeser::corpus::CorpusKind::Synth,
        corpus(),
        &vaeser::corpus::LoadOptions::default(),
    )
    .unwrap()
    .rated_other
    .len();
    assert!(rated_other > 0);
    let run = |which: &str| -> CellResult {
        let out = dir.join(which);
        let o = vaeser(
            &[
                "crossval",
                "--corpus",
                "synth",
                "--data",
                s(corpus()),
                "--learner",
                "majority",
                "--task",
                "valence",
                "--dimensional-utterances",
                which,
                "--out",
                s(&out),
            ],
            &[],
        );
        check(&o, "crossval");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains(&format!("--dimensional-utterances {which}")),
            "{stderr}"
        );
        serde_json::from_slice(&std::fs::read(out.join("majority-valence-complete.json")).unwrap())
            .unwrap()
    };
    let all = run("all");
    let four = run("four-class");
    assert_eq!(all.folds.len(), 10);
    assert_eq!(four.folds.len(), 10);
    assert_eq!(
        all.summary.confusion.total(),
        four.summary.confusion.total() + rated_other as u64
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
