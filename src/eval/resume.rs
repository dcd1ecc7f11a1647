//! Completed folds on disk, so an interrupted cross-validation continues
//! where it stopped: `DIR/cells/<cell-id>/seed-S/fold-N.json` holds one fold's
//! record and timing together with the fingerprint of everything the result
//! depends on (program version, configuration, seed, corpus, cell). A file is
//! written atomically once its fold is complete, so it is either whole or
//! absent.

use super::results::{FoldRecord, FoldTiming};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Makes the driver stop with `Error::Interrupted` after this many folds have
/// been completed (and saved) by the process: a way to interrupt a run at a
/// fold boundary on purpose, e.g. to test `--resume`.
pub const STOP_AFTER_FOLDS_ENV: &str = "VAESER_STOP_AFTER_FOLDS";

/// The content of a `fold-N.json` file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldFile {
    /// The cell's fingerprint
    /// ([`Driver::cell_fingerprint`](super::crossval::Driver::cell_fingerprint));
    /// a resumed run uses the file only if its own fingerprint is the same.
    pub fingerprint: String,
    /// The fold's results.
    pub record: FoldRecord,
    /// Its stage times (they go to the manifest, not the results).
    pub timing: FoldTiming,
}

/// Where a cell's folds live under a run's output directory.
pub fn cell_dir(out: &Path, cell_id: &str) -> PathBuf {
    out.join("cells").join(cell_id)
}

/// Where one seed's folds of a cell live inside the cell's directory.
pub fn seed_dir(cell_dir: &Path, seed: u64) -> PathBuf {
    cell_dir.join(format!("seed-{seed}"))
}

/// The file of the 0-based `fold` (`fold-1.json` for fold 0) inside a
/// directory made by [`seed_dir`].
pub fn fold_path(cell_dir: &Path, fold: usize) -> PathBuf {
    cell_dir.join(format!("fold-{}.json", crate::numbering::one_based(fold)))
}

/// Writes a completed fold as pretty JSON, atomically (a reader finds the
/// whole file or none); errors name the file.
pub fn write_fold(path: &Path, file: &FoldFile) -> Result<()> {
    let json = serde_json::to_string_pretty(file)
        .map_err(|e| Error::config(format!("fold record does not serialise: {e}")))?;
    write_atomic(path, json.as_bytes())
}

/// Reads a completed fold, checking that it belongs to this run. `None` when
/// the fold has not been completed yet.
pub fn read_fold(path: &Path, fingerprint: &str) -> Result<Option<FoldFile>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let file: FoldFile = serde_json::from_str(&text)
        .map_err(|e| Error::format(path, format!("not a fold record: {e}")))?;
    if file.fingerprint != fingerprint {
        return Err(Error::format(
            path,
            "this fold was computed with another program version, configuration, seed or \
             corpus than the run being resumed; use the same options, or another --out \
             directory to start afresh",
        ));
    }
    Ok(Some(file))
}

/// Fails when `out` already holds completed folds and the run was not asked
/// to resume, so that a finished or interrupted run is never overwritten by
/// accident.
pub fn refuse_to_overwrite(out: &Path) -> Result<()> {
    let cells = out.join("cells");
    let Ok(entries) = std::fs::read_dir(&cells) else {
        return Ok(());
    };
    let holds_fold = |dir: &Path| -> bool {
        let Ok(files) = std::fs::read_dir(dir) else {
            return false;
        };
        files.flatten().any(|f| {
            let name = f.file_name().to_string_lossy().into_owned();
            name.starts_with("fold-") && name.ends_with(".json")
        })
    };
    for cell in entries.flatten() {
        let seeds = std::fs::read_dir(cell.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir());
        let mut dirs = std::iter::once(cell.path()).chain(seeds);
        if dirs.any(|d| holds_fold(&d)) {
            return Err(Error::usage(format!(
                "--out {} already holds completed folds of a run; pass --resume to continue it, \
                 or choose another --out directory",
                out.display()
            )));
        }
    }
    Ok(())
}

/// The fold limit set by `STOP_AFTER_FOLDS_ENV`, if any.
pub fn stop_after_folds() -> Result<Option<usize>> {
    match std::env::var(STOP_AFTER_FOLDS_ENV) {
        Ok(v) => v.trim().parse().map(Some).map_err(|_| {
            Error::config(format!(
                "{STOP_AFTER_FOLDS_ENV}={v:?} is not a number of folds"
            ))
        }),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::metrics::Confusion;

    fn file(fingerprint: &str) -> FoldFile {
        FoldFile {
            fingerprint: fingerprint.into(),
            record: FoldRecord {
                fold: 2,
                test_group: "Ses03".into(),
                n_train: 9,
                n_validation: 1,
                n_test: 3,
                confusion: Confusion::from_labels(2, &[0, 1, 1], &[0, 1, 0]),
                learner_epochs: vec![],
                classifier_epochs: vec![],
                classifier_best_epoch: 0,
                classifier_warning: None,
            },
            timing: FoldTiming {
                learner: 0.1 + 0.2,
                ..FoldTiming::default()
            },
        }
    }

    #[test]
    fn folds_read_back_exactly_and_only_for_their_own_run() {
        let out = std::env::temp_dir().join(format!("vaeser-resume-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        refuse_to_overwrite(&out).unwrap();
        let dir = seed_dir(&cell_dir(&out, "vae-categorical-complete-L128"), 1);
        let path = fold_path(&dir, 2);
        assert!(read_fold(&path, "abc").unwrap().is_none());
        write_fold(&path, &file("abc")).unwrap();
        assert_eq!(read_fold(&path, "abc").unwrap(), Some(file("abc")));
        let e = read_fold(&path, "abd").unwrap_err().to_string();
        assert!(e.contains("fold-3.json") && e.contains("seed"), "{e}");
        let e = refuse_to_overwrite(&out).unwrap_err().to_string();
        assert!(e.contains("--resume"), "{e}");
        std::fs::write(&path, b"{\"fingerprint\": 3").unwrap();
        let e = read_fold(&path, "abc").unwrap_err().to_string();
        assert!(
            e.contains("fold-3.json") && e.contains("not a fold record"),
            "{e}"
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
}
