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
    let log =
        std::fs::read_to_string(out.join("cells/cvae-arousal-complete-L4/fold-3.classifier.jsonl"))
            .unwrap();
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["val_ua"].is_number(), "{line}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
