//! A JSON-lines training log: one JSON object per epoch. The whole file is
//! rewritten atomically after each record (logs hold a few dozen lines), so
//! a reader never sees a half-written line and an interrupted run leaves a
//! valid log of the epochs it finished. The records also stay in memory, for
//! training curves in reports, and may be shown to an observer as they are
//! made (progress, per-epoch console lines).

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Called with every record as it is made.
pub type Observer = Arc<dyn Fn(&serde_json::Value) + Send + Sync>;

/// A training log: records kept in memory, optionally mirrored to a
/// JSON-lines file (see the module docs).
#[derive(Clone, Default)]
pub struct JsonLinesLog {
    path: Option<PathBuf>,
    records: Vec<serde_json::Value>,
    observer: Option<Observer>,
}

impl std::fmt::Debug for JsonLinesLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLinesLog")
            .field("path", &self.path)
            .field("records", &self.records.len())
            .field("observed", &self.observer.is_some())
            .finish()
    }
}

impl JsonLinesLog {
    /// A log written to `path` (replacing any previous file at the first record).
    pub fn to_file(path: impl AsRef<Path>) -> Self {
        JsonLinesLog {
            path: Some(path.as_ref().to_path_buf()),
            records: Vec::new(),
            observer: None,
        }
    }

    /// This log, with `observer` called on every record after it is stored.
    pub fn observed(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// A log kept in memory only.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Appends one record; it must serialise to a JSON object.
    pub fn record<T: Serialize>(&mut self, entry: &T) -> Result<()> {
        let value = serde_json::to_value(entry)
            .map_err(|e| Error::config(format!("log record does not serialise: {e}")))?;
        if !value.is_object() {
            return Err(Error::config(format!(
                "a log record must be a JSON object, got {value}"
            )));
        }
        self.records.push(value);
        if let Some(path) = &self.path {
            write_atomic(path, self.to_jsonl().as_bytes())?;
        }
        if let (Some(observe), Some(last)) = (&self.observer, self.records.last()) {
            observe(last);
        }
        Ok(())
    }

    /// Every record so far, in order.
    pub fn records(&self) -> &[serde_json::Value] {
        &self.records
    }

    /// The file the log is written to, `None` for an in-memory log.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The log as text: one compact JSON object per line.
    pub fn to_jsonl(&self) -> String {
        let mut text = String::new();
        for r in &self.records {
            text.push_str(&r.to_string());
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Epoch {
        epoch: usize,
        loss: f64,
    }

    #[test]
    fn writes_one_object_per_line_and_rejects_non_objects() {
        let dir = std::env::temp_dir().join(format!("vaeser-log-{}", std::process::id()));
        let path = dir.join("train.jsonl");
        let mut log = JsonLinesLog::to_file(&path);
        log.record(&Epoch {
            epoch: 0,
            loss: 2.5,
        })
        .unwrap();
        log.record(&Epoch {
            epoch: 1,
            loss: 1.25,
        })
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["epoch"], 1);
        assert_eq!(lines[1]["loss"], 1.25);
        assert!(log.record(&3.0).is_err());
        assert_eq!(log.records().len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
