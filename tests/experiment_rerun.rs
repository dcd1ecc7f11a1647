//! Provenance: a run's manifest records the build and the machine, a second
//! command into the same directory keeps the first one's manifest, and
//! `vaeser rerun` repeats a run byte for byte from its manifest alone.

mod experiment_support;

use experiment_support::{check, corpus, s, scratch, tiny_config, vaeser};
use std::path::Path;

const CELL: &str = "ae-categorical-complete-L8.json";

fn crossval(out: &Path, config: &Path, task: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "-j",
        "2",
        "crossval",
        "--corpus",
        "synth",
        "--data",
        s(corpus()),
        "--learner",
        "ae",
        "--task",
        task,
        "--config",
        s(config),
        "--seed",
        "4",
        "-o",
        s(out),
    ];
    args.extend_from_slice(extra);
    vaeser(&args, &[])
}

#[test]
fn rerun_repeats_a_run_byte_for_byte_from_its_manifest() {
    let dir = scratch("rerun");
    let config = tiny_config(&dir);
    let first = dir.join("first");
    check(&crossval(&first, &config, "categorical", &[]), "crossval");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(first.join("manifest.json")).unwrap()).unwrap();
    let provenance = &manifest["provenance"];
    for key in ["git_commit", "rustc", "target_features"] {
        assert!(
            provenance["build"][key]
                .as_str()
                .is_some_and(|v| !v.is_empty()),
            "{provenance}"
        );
    }
    assert!(
        provenance["machine"]["gemm_kernel"].as_str().is_some(),
        "{provenance}"
    );
    assert!(
        provenance["machine"]["cpu"].as_str().is_some(),
        "{provenance}"
    );

    // The configuration file changes afterwards: the rerun must not read it.
    std::fs::write(&config, "[classifier]\nmax_epochs = 1\n").unwrap();
    let again = dir.join("again");
    let o = vaeser(
        &[
            "-j",
            "1",
            "rerun",
            s(&first.join("manifest.json")),
            "-o",
            s(&again),
        ],
        &[],
    );
    check(&o, "rerun");
    let a = std::fs::read(first.join(CELL)).unwrap();
    let b = std::fs::read(again.join(CELL)).unwrap();
    assert!(a == b, "the rerun's results differ from the original's");

    // A second command into the first directory (another cell, added with
    // --resume) writes its own manifest.
    let before = std::fs::read(first.join("manifest.json")).unwrap();
    let kept = dir.join("kept");
    std::fs::create_dir_all(&kept).unwrap();
    let tiny = tiny_config(&kept);
    check(
        &crossval(&first, &tiny, "valence", &["--resume"]),
        "second crossval",
    );
    assert_eq!(std::fs::read(first.join("manifest.json")).unwrap(), before);
    let second: serde_json::Value =
        serde_json::from_slice(&std::fs::read(first.join("manifest-2.json")).unwrap()).unwrap();
    assert!(
        second["command"].to_string().contains("valence"),
        "{second}"
    );

    // An input that no longer matches its checksum stops a rerun.
    let mut tampered = manifest.clone();
    tampered["inputs"][0]["sha256"] = "0".repeat(64).into();
    let path = dir.join("tampered.json");
    std::fs::write(&path, tampered.to_string()).unwrap();
    let o = vaeser(&["rerun", s(&path), "-o", s(&dir.join("never"))], &[]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    let first_input = tampered["inputs"][0]["path"].as_str().unwrap();
    assert!(
        stderr.contains(first_input) && stderr.contains("changed"),
        "{stderr}"
    );
    assert!(!dir.join("never").join(CELL).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
