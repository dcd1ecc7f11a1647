//! `--seeds`: every cell runs once per seed on the same folds, the report and
//! results.json give each seed's values and their mean with a 95% Student-t
//! interval, and a seed's numbers are those of a run with that seed alone,
//! whether its feature learners were reused from other cells or not.

mod experiment_support;

use experiment_support::{check, corpus, s, scratch, tiny_config, vaeser};
use vaeser::eval::results::{CellResult, ExperimentResults, Task};
use vaeser::eval::seeds::{t975, CellSeeds};

#[test]
fn each_seed_gives_the_numbers_of_a_run_with_that_seed_alone() {
    let dir = scratch("seeds");
    let config = tiny_config(&dir);
    let out = dir.join("run");
    let o = vaeser(
        &[
            "--threads",
            "2",
            "reproduce",
            "--seed",
            "3",
            "--corpus",
            "synth",
            "--data",
            s(corpus()),
            "--config",
            s(&config),
            "--seeds",
            "2",
            "--skip-sweep",
            "--skip-baselines",
            "--out",
            s(&out),
        ],
        &[],
    );
    check(&o, "reproduce --seeds 2");
    let stderr = String::from_utf8_lossy(&o.stderr);
    // The AE and VAE learners of the three dimensional tasks share folds and
    // utterances: within each seed they are trained once.
    let reused: usize = stderr
        .lines()
        .find_map(|l| l.strip_prefix("feature learners: "))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no learner count in {stderr}"));
    assert!(reused > 0, "{stderr}");

    let results: ExperimentResults =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results.seeds, [3, 4]);
    // Cell by cell, each with both seeds in order.
    assert_eq!(results.table1.len(), 18);
    for pair in results.table1.chunks(2) {
        assert_eq!(pair[0].id(), pair[1].id());
        assert_eq!((pair[0].seed, pair[1].seed), (3, 4));
        assert_eq!(pair[0].folds.len(), pair[1].folds.len());
        assert_ne!(
            pair[0].folds,
            pair[1].folds,
            "{}: seeds had no effect",
            pair[0].id()
        );
    }
    assert_eq!(results.table2.len(), 18);
    // The summaries over seeds: mean and Student-t half width (1 degree of
    // freedom) of the two pooled values.
    assert_eq!(results.across_seeds.len(), 18);
    for summary in &results.across_seeds {
        let runs: Vec<&CellResult> = results
            .table1
            .iter()
            .chain(&results.table2)
            .filter(|c| c.id() == summary.cell)
            .collect();
        assert_eq!(runs.len(), 2, "{}", summary.cell);
        let (a, b) = (runs[0].summary.pooled.ua, runs[1].summary.pooled.ua);
        assert_eq!(summary.per_seed[1].ua, b);
        assert!((summary.ua.mean - (a + b) / 2.0).abs() < 1e-12);
        let half = summary.ua.half_width.unwrap();
        assert!(
            (half - t975(1) * (a - b).abs() / 2.0).abs() < 1e-9,
            "{summary:?}"
        );
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("- seeds: 3, 4"), "{report}");
    assert!(report.contains("UA mean [95% CI]"), "{report}");
    assert!(report.contains("| Cell | Seed | Fold |"), "{report}");

    // One cell alone, seeds in the other order: each seed's result is the
    // reproduce run's, although there the VAE learner of the arousal task
    // was reused from the valence task.
    let alone = dir.join("alone");
    let o = vaeser(
        &[
            "--threads",
            "1",
            "crossval",
            "--corpus",
            "synth",
            "--data",
            s(corpus()),
            "--learner",
            "vae",
            "--task",
            "arousal",
            "--config",
            s(&config),
            "--seeds",
            "4,3",
            "--out",
            s(&alone),
        ],
        &[],
    );
    check(&o, "crossval --seeds 4,3");
    let cell: CellSeeds =
        serde_json::from_slice(&std::fs::read(alone.join("vae-arousal-complete-L8.json")).unwrap())
            .unwrap();
    assert_eq!(cell.seeds, [4, 3]);
    for run in &cell.runs {
        let same = results
            .table2
            .iter()
            .find(|c| c.task == Task::Arousal && c.model == "VAE" && c.seed == run.seed)
            .unwrap();
        assert_eq!(run, same, "seed {}", run.seed);
    }
    assert_eq!(cell.across_seeds.seeds, [4, 3]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("over 2 seeds"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}
