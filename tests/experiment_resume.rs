//! `--resume`: a cross-validation stopped between folds and resumed ends with
//! exactly the results of an uninterrupted run; a resume with other settings
//! is refused, and so is a fresh run into a directory that holds folds.

mod experiment_support;

use experiment_support::{check, corpus, s, scratch, tiny_config, vaeser};
use std::path::Path;

fn crossval(
    out: &Path,
    config: &Path,
    seed: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut args = vec![
        "--threads",
        "2",
        "crossval",
        "--seed",
        seed,
        "--corpus",
        "synth",
        "--data",
        s(corpus()),
        "--learner",
        "cvae",
        "--task",
        "categorical",
        "--config",
        s(config),
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    vaeser(&args, env)
}

const CELL: &str = "cvae-categorical-complete-L8.json";

#[test]
fn an_interrupted_run_resumes_to_the_uninterrupted_results() {
    let dir = scratch("resume");
    let config = tiny_config(&dir);

    let whole = dir.join("whole");
    check(
        &crossval(&whole, &config, "5", &[], &[]),
        "uninterrupted crossval",
    );

    let parts = dir.join("parts");
    let stopped = crossval(
        &parts,
        &config,
        "5",
        &[],
        &[("VAESER_STOP_AFTER_FOLDS", "2")],
    );
    assert!(
        !stopped.status.success(),
        "the run should stop after 2 folds"
    );
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
    let cell_dir = parts.join("cells/cvae-categorical-complete-L8/seed-5");
    let folds: Vec<_> = (1..=5)
        .filter(|f| cell_dir.join(format!("fold-{f}.json")).exists())
        .collect();
    assert_eq!(folds, [1, 2]);
    assert!(!parts.join(CELL).exists());

    // A fresh run into the same directory is refused ...
    let refused = crossval(&parts, &config, "5", &[], &[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));
    // ... and so is a resume with another configuration, naming the fold
    // file. (Another seed is not a conflict: each seed's folds have their
    // own directory, so a run with more seeds adds to a finished one.)
    let other_config = dir.join("other.toml");
    std::fs::write(
        &other_config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("lr = 0.01", "lr = 0.02"),
    )
    .unwrap();
    let other = crossval(&parts, &other_config, "5", &["--resume"], &[]);
    assert!(!other.status.success());
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(
        stderr.contains("fold-1.json") && stderr.contains("configuration"),
        "{stderr}"
    );

    let resumed = crossval(&parts, &config, "5", &["--resume"], &[]);
    check(&resumed, "resumed crossval");
    assert!(
        String::from_utf8_lossy(&resumed.stderr).contains("2 folds taken from the interrupted run")
    );
    let a = std::fs::read(whole.join(CELL)).unwrap();
    let b = std::fs::read(parts.join(CELL)).unwrap();
    assert!(a == b, "resumed results differ from the uninterrupted run");
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        stdout.contains("confusion matrix") && stdout.contains("UA"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
