//! Output paths are checked before any work: a run that would end by
//! failing to write (a directory where a file goes, an unwritable folder)
//! or by replacing a file vaeser did not write (the user's manifest given
//! as `--cache`, a WAV given as `--out`) is refused at once, not after an
//! hour of training. `--force` lets a file of another kind be replaced;
//! nothing lets a directory be replaced by a file.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// What a file written by vaeser holds, as far as recognising it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind<'a> {
    /// A safetensors checkpoint with `format: vaeser` whose `kind` is one of these.
    Checkpoint(&'a [&'a str]),
    /// A LogMel cache (`features::cache`).
    FeatureCache,
    /// A JSON document (results, skipped files, manifest).
    Json,
    /// The markdown report of `reproduce`.
    Report,
}

impl std::fmt::Display for OutputKind<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputKind::Checkpoint(kinds) => {
                write!(f, "a vaeser checkpoint of kind {}", kinds.join(" or "))
            }
            OutputKind::FeatureCache => f.write_str("a vaeser LogMel cache"),
            OutputKind::Json => f.write_str("a JSON file written by vaeser"),
            OutputKind::Report => f.write_str("a vaeser report"),
        }
    }
}

/// The first bytes of a LogMel cache file.
pub const FEATURE_CACHE_MAGIC: &[u8; 8] = b"VSRLOGML";

/// The first line of every report.md.
pub const REPORT_TITLE: &str = "# Speech emotion recognition with AE, VAE and CVAE features";

/// Longest checkpoint header read to recognise a file (real ones are a
/// few kilobytes; anything claiming more is not ours).
const MAX_HEADER: u64 = 64 << 20;

/// Errors unless `path` can receive a file of `kind`: it is not a
/// directory, its folder exists or can be created and accepts new files,
/// and any file already there is of `kind` (or `force` is set) or empty.
pub fn check_output_file(path: &Path, kind: OutputKind<'_>, force: bool) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(Error::refused(
                path,
                format!("is a directory; the output is {kind}: name a file"),
            ))
        }
        Ok(m) if m.len() > 0 && !force && !is_kind(path, kind) => {
            return Err(Error::refused(
                path,
                format!(
                    "holds a file that is not {kind}; refusing to overwrite it \
                     (pass --force to replace it)"
                ),
            ))
        }
        _ => {}
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    check_writable_dir(dir)
}

/// Errors unless `dir` can hold a run's outputs: it is a directory or can
/// be created as one, and accepts new files. The files of `ours` already in
/// it must be of their kinds unless `force`.
pub fn check_output_dir(dir: &Path, ours: &[(&str, OutputKind<'_>)], force: bool) -> Result<()> {
    if let Ok(m) = std::fs::metadata(dir) {
        if !m.is_dir() {
            return Err(Error::refused(
                dir,
                "is a file, not a directory; --out names the directory the run writes into",
            ));
        }
    }
    check_writable_dir(dir)?;
    for (name, kind) in ours {
        check_output_file(&dir.join(name), *kind, force)?;
    }
    Ok(())
}

/// Creates `dir` if needed and proves it accepts a new file.
fn check_writable_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let probe = dir.join(format!(".vaeser-write-test.{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| Error::io(dir, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Whether the file at `path` is of `kind`, judged from its first bytes.
fn is_kind(path: &Path, kind: OutputKind<'_>) -> bool {
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    match kind {
        OutputKind::FeatureCache => {
            let mut magic = [0u8; 8];
            file.read_exact(&mut magic).is_ok() && &magic == FEATURE_CACHE_MAGIC
        }
        OutputKind::Checkpoint(kinds) => {
            checkpoint_kind(&mut file).is_some_and(|k| kinds.contains(&k.as_str()))
        }
        OutputKind::Report => {
            let mut start = vec![0u8; REPORT_TITLE.len()];
            file.read_exact(&mut start).is_ok() && start == REPORT_TITLE.as_bytes()
        }
        OutputKind::Json => {
            let mut text = String::new();
            file.take(MAX_HEADER).read_to_string(&mut text).is_ok()
                && serde_json::from_str::<serde_json::Value>(&text).is_ok()
        }
    }
}

/// The `kind` of a vaeser checkpoint, read from its header only.
fn checkpoint_kind(file: &mut std::fs::File) -> Option<String> {
    let mut len = [0u8; 8];
    file.read_exact(&mut len).ok()?;
    let len = u64::from_le_bytes(len);
    if len > MAX_HEADER {
        return None;
    }
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header).ok()?;
    let header: serde_json::Value = serde_json::from_slice(&header).ok()?;
    let meta = header.get("__metadata__")?;
    if meta.get("format")?.as_str()? != crate::checkpoint::FORMAT {
        return None;
    }
    Some(meta.get("kind")?.as_str()?.to_string())
}
