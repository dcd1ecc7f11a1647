//! `--shard K/N` and `vaeser merge`: three shards compute disjoint shares of
//! the (seed, cell, fold) jobs, and merged they give the results.json and
//! report.md of the unsharded run, byte for byte.

mod experiment_support;

use experiment_support::{check, corpus, s, scratch, tiny_config, vaeser};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn reproduce(out: &Path, config: &Path, shard: Option<&str>) -> std::process::Output {
    let mut args = vec![
        "--threads",
        "1",
        "reproduce",
        "--seed",
        "2",
        "--corpus",
        "synth",
        "--data",
        s(corpus()),
        "--config",
        s(config),
        "--seeds",
        "2",
        "--skip-sweep",
        "--skip-dimensional",
        "--skip-baselines",
        "--out",
        s(out),
    ];
    if let Some(k) = shard {
        args.extend(["--shard", k]);
    }
    vaeser(&args, &[])
}

/// The fold records under `dir/cells`, relative to it.
fn folds(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let cells = dir.join("cells");
    for cell in std::fs::read_dir(&cells).unwrap().flatten() {
        for seed in std::fs::read_dir(cell.path()).unwrap().flatten() {
            for f in std::fs::read_dir(seed.path()).unwrap().flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                if name.starts_with("fold-") && name.ends_with(".json") {
                    out.insert(f.path().strip_prefix(&cells).unwrap().to_path_buf());
                }
            }
        }
    }
    out
}

#[test]
fn three_shards_merged_give_the_unsharded_results_byte_for_byte() {
    let dir = scratch("shard");
    let config = tiny_config(&dir);
    let whole = dir.join("whole");
    check(&reproduce(&whole, &config, None), "unsharded reproduce");
    let all = folds(&whole);
    // Three models x three subsets x five sessions x two seeds.
    assert_eq!(all.len(), 90);

    let mut shards = Vec::new();
    let mut union = BTreeSet::new();
    for k in 1..=3 {
        let out = dir.join(format!("shard{k}"));
        let o = reproduce(&out, &config, Some(&format!("{k}/3")));
        check(&o, "sharded reproduce");
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.contains(&format!("shard {k}/3: 30 folds computed")),
            "{stdout}"
        );
        assert!(!out.join("report.md").exists() && !out.join("results.json").exists());
        let mine = folds(&out);
        assert_eq!(mine.len(), 30);
        assert!(
            union.is_disjoint(&mine),
            "shard {k} repeats another shard's folds"
        );
        union.extend(mine);
        shards.push(out);
    }
    assert_eq!(union, all);

    let merged = dir.join("merged");
    let mut args = vec!["merge", s(&merged)];
    args.extend(shards.iter().map(|p| s(p)));
    let o = vaeser(&args, &[]);
    check(&o, "merge");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("90 folds taken from the interrupted run"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for name in ["results.json", "report.md"] {
        let a = std::fs::read(whole.join(name)).unwrap();
        let b = std::fs::read(merged.join(name)).unwrap();
        assert!(
            a == b,
            "{name} of the merged shards differs from the unsharded run's"
        );
    }

    // A shard directory holding another result for a fold is refused.
    let (one, two) = (&shards[0], &shards[1]);
    let theirs = folds(two).into_iter().next().unwrap();
    let mut file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(two.join("cells").join(&theirs)).unwrap()).unwrap();
    file["record"]["n_test"] = serde_json::json!(0);
    let forged = one.join("cells").join(&theirs);
    std::fs::write(&forged, serde_json::to_vec(&file).unwrap()).unwrap();
    let o = vaeser(&["merge", s(&dir.join("again")), s(one), s(two)], &[]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("another result for the fold"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
