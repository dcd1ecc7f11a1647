//! Scratch directories of the integration tests, and their removal.
//!
//! Every test directory is `vaeser-test-<name>-<pid>` in the system's
//! temporary directory: the process id keeps concurrent test binaries apart.
//! The test harness has no hook that runs when a test binary exits, so a
//! binary cannot remove its own directories; instead the first directory a
//! test process asks for removes those left by test processes that have
//! exited. What a run leaves behind (for looking at after a failure) lasts
//! until the next run.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Once;

const PREFIX: &str = "vaeser-test-";

/// The path of this process's directory `name`, neither created nor emptied.
pub fn scratch_path(name: &str) -> PathBuf {
    static SWEEP: Once = Once::new();
    SWEEP.call_once(|| remove_stale(&std::env::temp_dir()));
    std::env::temp_dir().join(format!("{PREFIX}{name}-{}", std::process::id()))
}

/// A fresh empty directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = scratch_path(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Removes the test directories in `temp` whose process has exited. Where
/// there is no `/proc` to ask, nothing is removed: a directory of a running
/// process must never go.
fn remove_stale(temp: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner) else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The process id at the end of a test directory's name.
fn owner(name: &str) -> Option<u32> {
    let (_, pid) = name.strip_prefix(PREFIX)?.rsplit_once('-')?;
    pid.parse().ok()
}
