//! Checks of the paths options name, made before any work starts, so that a
//! mistyped path is reported with the option it was given to.

use crate::error::{Error, Result};
use std::path::Path;

/// Fails unless `path` (given to `option`) is an existing file.
pub fn existing_file(option: &str, path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(Error::usage(format!(
            "{option} {}: a directory, not a file",
            path.display()
        ))),
        Err(e) => Err(not_found(option, path, "file", e)),
    }
}

/// Fails unless `path` (given to `option`) is an existing directory.
pub fn existing_dir(option: &str, path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::usage(format!(
            "{option} {}: a file, not a directory",
            path.display()
        ))),
        Err(e) => Err(not_found(option, path, "directory", e)),
    }
}

fn not_found(option: &str, path: &Path, what: &str, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::usage(format!("{option} {}: no such {what}", path.display()))
    } else {
        Error::usage(format!("{option} {}: {e}", path.display()))
    }
}
