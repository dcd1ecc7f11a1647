//! Shared by the experiment tests: a small synthetic corpus written once per
//! test binary, a really tiny configuration, and a way to run the built
//! `vaeser` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use vaeser::corpus::synth::{generate, Options, Size};

#[path = "../common/scratch_dirs.rs"]
mod scratch_dirs;

pub use scratch_dirs::scratch;

/// The small synthetic corpus (IEMOCAP layout, with V/A/D), written once.
pub fn corpus() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch_dirs::scratch_path("corpus");
        let _ = std::fs::remove_dir_all(&dir);
        generate(
            &dir,
            &Options {
                seed: 7,
                size: Size::Small,
            },
        )
        .unwrap();
        dir
    })
}

/// Networks and epochs small enough that a whole `reproduce` takes seconds;
/// the protocol (folds, splits, early stopping) is the real one.
pub const TINY_CONFIG: &str = "\
[learner]
latent = 8
hidden = [64, 32]
batch = 64
max_epochs = 3
patience = 2

[classifier]
hidden = 16
dense = 16
lr = 0.01
batch = 16
max_epochs = 12
patience = 4

[experiment]
latent_sweep = [4, 8]
sweep_models = [\"vae\"]
";

pub fn tiny_config(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, TINY_CONFIG).unwrap();
    path
}

/// Runs the built binary with `args` (and extra environment variables).
pub fn vaeser(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vaeser"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env_remove("VAESER_STOP_AFTER_FOLDS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the vaeser binary runs")
}

/// Fails the test with the command's output unless it succeeded.
pub fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
