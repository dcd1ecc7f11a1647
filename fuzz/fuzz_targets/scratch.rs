//! A per-process scratch directory: the loaders under test read files, so
//! each input is written to one first.

use std::path::{Path, PathBuf};

pub fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("vaeser-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn write(path: &Path, data: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, data).unwrap();
}
