//! `vaeser reproduce` end to end on the small synthetic corpus with a tiny
//! configuration: every cell of Table 1, Table 2 and the sweep is produced,
//! accuracy is clearly above chance, and the run gives the same bytes with
//! one thread (folds one after the other) and with two (two folds at a
//! time, one thread each).

mod experiment_support;

use experiment_support::{check, corpus, s, scratch, tiny_config, vaeser};
use std::path::Path;
use vaeser::eval::results::{ExperimentResults, Subset, Task};

fn reproduce(dir: &Path, config: &Path, threads: &str) -> std::path::PathBuf {
    let out = dir.join(format!("threads-{threads}"));
    let o = vaeser(
        &[
            "--threads",
            threads,
            "reproduce",
            "--seed",
            "3",
            "--corpus",
            "synth",
            "--data",
            s(corpus()),
            "--config",
            s(config),
            "--out",
            s(&out),
        ],
        &[],
    );
    check(&o, "reproduce");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("Table 1") && stdout.contains("Table 2"),
        "{stdout}"
    );
    out
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_cell_is_produced_above_chance_and_identical_on_one_and_two_threads() {
    let dir = scratch("reproduce");
    let config = tiny_config(&dir);
    let one = reproduce(&dir, &config, "1");
    let two = reproduce(&dir, &config, "2");

    for name in ["report.md", "results.json"] {
        let a = std::fs::read(one.join(name)).unwrap();
        let b = std::fs::read(two.join(name)).unwrap();
        assert!(a == b, "{name} differs between 1 and 2 threads");
    }
    let figures = files_under(&one.join("figures"));
    assert!(figures.len() > 20, "{} figures", figures.len());
    for f in &figures {
        let other = two.join("figures").join(f.file_name().unwrap());
        assert!(
            std::fs::read(f).unwrap() == std::fs::read(&other).unwrap(),
            "{} differs between 1 and 2 threads",
            f.display()
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["threads"], 1);
    assert!(!manifest["inputs"].as_array().unwrap().is_empty());

    let results: ExperimentResults =
        serde_json::from_slice(&std::fs::read(one.join("results.json")).unwrap()).unwrap();
    // Table 1: three models x three subsets, five sessions each.
    assert_eq!(results.table1.len(), 9);
    for (i, cell) in results.table1.iter().enumerate() {
        assert_eq!(cell.model, ["AE", "VAE", "CVAE"][i / 3]);
        assert_eq!(cell.subset, Subset::ALL[i % 3]);
        assert_eq!(cell.task, Task::Categorical);
        assert_eq!(cell.folds.len(), 5, "{}", cell.id());
        assert!(!cell.oracle_labels);
    }
    // The subsets partition the complete set.
    let tested = |c: usize| results.table1[c].summary.confusion.total();
    assert_eq!(tested(0) + tested(1), tested(2));
    // Table 2: three models x three dimensions, ten speakers each.
    assert_eq!(results.table2.len(), 9);
    for cell in &results.table2 {
        assert!(cell.task.is_dimensional());
        assert_eq!(cell.folds.len(), 10, "{}", cell.id());
        assert_eq!(cell.labels, ["low", "mid", "high"]);
    }
    // The sweep: the VAE at L = 4 and 8; L = 8 is Table 1's complete VAE cell.
    let latents: Vec<usize> = results.sweep.iter().map(|c| c.latent).collect();
    assert_eq!(latents, [4, 8]);
    assert_eq!(results.sweep[1], results.table1[5]);

    // Chance is 25% UA on four classes, and a macro F1 of at most 33% on
    // three. The synthetic emotions differ in pitch, rate, loudness and voice
    // quality; tiny networks trained for a few epochs pick that up, less
    // reliably on the smaller subsets.
    let ua: Vec<f64> = results.table1.iter().map(|c| c.summary.pooled.ua).collect();
    let mean_ua = ua.iter().sum::<f64>() / ua.len() as f64;
    assert!(mean_ua > 0.38, "Table 1 mean pooled UA {mean_ua}: {ua:?}");
    for cell in results
        .table1
        .iter()
        .filter(|c| c.subset == Subset::Complete)
    {
        let ua = cell.summary.pooled.ua;
        assert!(ua > 0.40, "{}: pooled UA {ua}", cell.id());
    }
    let arousal: Vec<f64> = results
        .table2
        .iter()
        .filter(|c| c.task == Task::Arousal)
        .map(|c| c.summary.pooled.macro_f1)
        .collect();
    let mean_f1 = arousal.iter().sum::<f64>() / 3.0;
    assert!(mean_f1 > 0.36, "arousal macro F1 {arousal:?}");
    let report = std::fs::read_to_string(one.join("report.md")).unwrap();
    assert!(report.contains("| CVAE-LSTM | improvised |"), "{report}");

    // The baselines, on every task and subset of the tables, by the same
    // driver on the same folds.
    assert_eq!(results.baselines.len(), 3 * 3 + 3 * 3);
    for cell in &results.baselines {
        let twin = results
            .table1
            .iter()
            .chain(&results.table2)
            .find(|c| c.task == cell.task && c.subset == cell.subset)
            .unwrap();
        let groups = |c: &vaeser::eval::results::CellResult| -> Vec<String> {
            c.folds.iter().map(|f| f.test_group.clone()).collect()
        };
        assert_eq!(groups(cell), groups(twin), "{}", cell.id());
        let tested: Vec<usize> = cell.folds.iter().map(|f| f.n_test).collect();
        let twin_tested: Vec<usize> = twin.folds.iter().map(|f| f.n_test).collect();
        assert_eq!(tested, twin_tested, "{}", cell.id());
    }
    let baseline = |model: &str, subset: Subset| {
        results
            .baselines
            .iter()
            .find(|c| c.model == model && c.task == Task::Categorical && c.subset == subset)
            .unwrap()
    };
    // The majority class predicts one class per fold.
    for f in &baseline("Majority", Subset::Complete).folds {
        let c = &f.confusion;
        let columns: Vec<usize> = (0..c.classes)
            .filter(|&p| (0..c.classes).any(|t| c.get(t, p) > 0))
            .collect();
        assert_eq!(columns.len(), 1, "{f:?}");
    }
    // Per-utterance loudness and spectral statistics separate the synthetic
    // emotions well; the LSTM on raw segments is above chance.
    let lr = baseline("LogReg", Subset::Complete).summary.pooled.ua;
    assert!(lr > 0.5, "logistic regression UA {lr}");
    let raw = baseline("LogMel", Subset::Complete).summary.pooled.ua;
    assert!(raw > 0.3, "LSTM on LogMel UA {raw}");
    // Paired comparisons: 3 model pairs and 3 x 3 baseline-model pairs per
    // group, for the 3 subsets of Table 1 and the 3 dimensions of Table 2,
    // each over the folds of its own protocol (one seed).
    assert_eq!(results.comparisons.len(), (3 + 3) * (3 + 9));
    for c in &results.comparisons {
        let folds = results
            .table1
            .iter()
            .chain(&results.table2)
            .find(|m| m.id() == c.a)
            .map(|m| m.folds.len())
            .unwrap();
        let expected = if c.task == Task::Categorical {
            5
        } else {
            folds
        };
        assert_eq!(c.units, expected, "{c:?}");
        assert!(c.p_value > 0.0 && c.p_value <= 1.0, "{c:?}");
    }
    assert_eq!(
        results
            .comparisons
            .iter()
            .filter(|c| c.task == Task::Valence)
            .count(),
        3 + 9
    );
    assert!(report.contains("## Paired comparisons (UA)"), "{report}");
    assert!(report.contains("| majority class | complete |"), "{report}");
    assert!(
        report.contains("AE-LSTM minus logistic regression (LogMel mean/std)"),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
