//! `vaeser features` end to end on a small RAVDESS-layout corpus with two bad
//! files: summary (text and JSON), cache reuse, --strict, and the cache of
//! a read-only corpus (in the user's cache directory).

mod common;

use common::{scratch, set_modified_ago, write_wav};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn vaeser(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vaeser"))
        .args(args)
        .output()
        .unwrap()
}

fn corpus(name: &str) -> std::path::PathBuf {
    let root = scratch(name);
    for (i, f) in [
        "Actor_01/03-01-01-01-01-01-01.wav",
        "Actor_01/03-01-03-02-01-01-01.wav",
        "Actor_06/03-01-05-01-02-01-06.wav",
    ]
    .iter()
    .enumerate()
    {
        let path = root.join(f);
        write_wav(&path, 8000, i as u32);
        set_modified_ago(&path, Duration::from_secs(3600));
    }
    std::fs::write(root.join("Actor_06/03-01-04-01-01-01-06.wav"), b"").unwrap();
    std::fs::write(
        root.join("Actor_06/03-01-02-01-01-01-06.wav"),
        b"calm: left out",
    )
    .unwrap();
    std::fs::write(
        root.join("Actor_06/03-01-04-02-01-01-06.wav"),
        b"not audio at all",
    )
    .unwrap();
    root
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn features_summarise_cache_and_skip() {
    let root = corpus("cli-features");
    let data = root.to_str().unwrap();
    let first = json(&vaeser(&[
        "features", "--corpus", "ravdess", "--data", data, "--json",
    ]));
    assert_eq!(first["utterances"], 5);
    assert_eq!(first["with_features"], 3);
    assert_eq!(
        first["per_label"],
        serde_json::json!({"neutral": 1, "happy": 1, "angry": 1})
    );
    assert_eq!(
        first["per_group"],
        serde_json::json!({"actors01-04": 2, "actors05-08": 1})
    );
    // 8000 samples: 1 + (8000 - 512) / 160 frames each.
    assert_eq!(first["frames"]["total"], 3 * 47);
    assert_eq!(first["excluded"], serde_json::json!({"calm": 1}));
    let skipped = first["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2);
    assert!(skipped[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("03-01-04-01-01-01-06.wav"));
    assert!(skipped[0]["reason"]
        .as_str()
        .unwrap()
        .contains("empty file"));
    assert!(skipped[1]["reason"]
        .as_str()
        .unwrap()
        .contains("not a WAV file"));
    let cache = root.join(".vaeser-cache/logmel.bin");
    assert_eq!(first["cache_file"], cache.to_str().unwrap());
    assert_eq!(first["cache"]["written"], true);
    assert!(cache.is_file());

    let second = json(&vaeser(&[
        "features", "--corpus", "ravdess", "--data", data, "--json",
    ]));
    assert_eq!(second["cache"]["reused"], 3);
    assert_eq!(second["cache"]["written"], false);
    assert_eq!(second["frames"], first["frames"]);

    let text = vaeser(&["features", "--corpus", "ravdess", "--data", data]);
    assert!(text.status.success());
    let stdout = String::from_utf8_lossy(&text.stdout);
    for expected in [
        "5 utterances of the four classes, 3 with features",
        "per label: angry 1, happy 1, neutral 1",
        "per group (2): actors01-04 2, actors05-08 1",
        "left out, not one of the four classes: calm 1",
        "3 reused",
        "skipped 2:",
        "03-01-04-01-01-01-06.wav: empty file (0 bytes)",
    ] {
        assert!(stdout.contains(expected), "{expected} not in\n{stdout}");
    }

    let strict = vaeser(&[
        "features", "--corpus", "ravdess", "--data", data, "--strict",
    ]);
    assert!(!strict.status.success());
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(
        stderr.contains("03-01-04-01-01-01-06.wav: empty file"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_read_only_corpus_caches_in_the_users_cache_directory_or_needs_an_explicit_place() {
    let root = corpus("cli-features-read-only");
    std::fs::remove_file(root.join("Actor_06/03-01-04-01-01-01-06.wav")).unwrap();
    let data = root.to_str().unwrap();
    let xdg = root.with_extension("xdg");
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o555)).unwrap();
    let features = |env: Option<&Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vaeser"));
        cmd.args(["features", "--corpus", "ravdess", "--data", data, "--json"]);
        match env {
            Some(dir) => cmd.env("XDG_CACHE_HOME", dir),
            None => cmd.env_remove("XDG_CACHE_HOME").env_remove("HOME"),
        };
        cmd.output().unwrap()
    };
    let cached = features(Some(&xdg));
    let reused = features(Some(&xdg));
    let refused = features(None);
    let elsewhere = root
        .parent()
        .unwrap()
        .join(format!("cli-ro-cache-{}.bin", std::process::id()));
    let explicit = vaeser(&[
        "features",
        "--corpus",
        "ravdess",
        "--data",
        data,
        "--cache",
        elsewhere.to_str().unwrap(),
        "--json",
    ]);
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("read-only") && stderr.contains("--cache FILE"),
        "{stderr}"
    );
    assert!(!root.join(".vaeser-cache").exists());
    assert_eq!(json(&cached)["with_features"], 3);
    assert_eq!(json(&reused)["cache"]["reused"], 3);
    let file = json(&cached)["cache_file"].as_str().unwrap().to_string();
    assert!(Path::new(&file).starts_with(xdg.join("vaeser")), "{file}");
    assert_eq!(json(&reused)["cache_file"], file.as_str());
    std::fs::remove_dir_all(&xdg).unwrap();
    assert_eq!(json(&explicit)["with_features"], 3);
    assert!(Path::new(&elsewhere).is_file());
    std::fs::remove_file(&elsewhere).unwrap();
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_mistyped_corpus_path_is_an_error_and_creates_nothing() {
    let root = scratch("cli-features-missing");
    let missing = root.join("no-such-corpus");
    let out = vaeser(&[
        "features",
        "--corpus",
        "ravdess",
        "--data",
        missing.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-corpus"));
    assert!(!missing.exists());
    std::fs::remove_dir_all(&root).unwrap();
}
