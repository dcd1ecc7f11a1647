//! The run manifest: what a run was given (configuration, seed, program
//! version, the input files with their SHA-256) and how long each stage took.
//! Unlike the results, it holds wall times, so it differs between runs.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::sha256::Sha256;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One input file of a run and its checksum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    /// Relative to the corpus root.
    pub path: PathBuf,
    /// Length in bytes.
    pub bytes: u64,
    /// SHA-256 of the content, lowercase hex (64 characters).
    pub sha256: String,
}

/// The wall time of one named stage of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    /// The stage's name (`load corpus + LogMel`, `<cell id>: classifier`, ...).
    pub stage: String,
    /// Wall time, in seconds.
    pub seconds: f64,
}

/// The content of a run's `manifest.json`: everything needed to run it
/// again (`vaeser rerun`) and to tell whether the result should agree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Program name and version, e.g. `vaeser 0.1.0`.
    pub program: String,
    /// The command line, program name first.
    pub command: Vec<String>,
    /// The command's --seed (the first of `seeds`).
    pub seed: u64,
    /// The seeds the run's cells ran with.
    pub seeds: Vec<u64>,
    /// Name of the configuration preset the run started from.
    pub preset: String,
    /// The configuration the run used (preset plus `--config` and options).
    pub config: Config,
    /// Worker threads of the run (results do not depend on it).
    pub threads: usize,
    /// Lowercase corpus kind ("iemocap", "synth", ...).
    pub corpus: String,
    /// The corpus root, absolute where it could be made so.
    pub corpus_root: PathBuf,
    /// Every audio file used, sorted by path.
    pub inputs: Vec<InputFile>,
    /// Stage wall times, in the order the stages ran.
    pub stages: Vec<StageTime>,
    /// Wall time from the clock's start to the manifest, in seconds.
    pub total_seconds: f64,
    /// The build and the machine (absent in manifests of older versions).
    #[serde(default)]
    pub provenance: Option<crate::provenance::Provenance>,
}

/// The program's name and version, as every output records it.
pub fn program_version() -> String {
    format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
}

/// The length in bytes and the SHA-256 (lowercase hex) of a file, read in
/// 64 KiB pieces; errors name the file.
pub fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((total, hex(&hasher.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checksums of `files` (sorted by path, so the manifest's order is stable).
/// Hashing runs in parallel; each file is hashed by one thread.
pub fn input_files(root: &Path, files: &[PathBuf]) -> Result<Vec<InputFile>> {
    use rayon::prelude::*;
    let mut sorted: Vec<&PathBuf> = files.iter().collect();
    sorted.sort();
    sorted.dedup();
    sorted
        .par_iter()
        .map(|p| {
            let (bytes, sha256) = sha256_file(p)?;
            Ok(InputFile {
                path: p.strip_prefix(root).unwrap_or(p).to_path_buf(),
                bytes,
                sha256,
            })
        })
        .collect()
}

/// Times named stages of a run.
#[derive(Debug)]
pub struct StageClock {
    start: Instant,
    stages: Vec<StageTime>,
}

impl Default for StageClock {
    fn default() -> Self {
        Self::new()
    }
}

impl StageClock {
    /// A clock started now, with no stage recorded.
    pub fn new() -> Self {
        StageClock {
            start: Instant::now(),
            stages: Vec::new(),
        }
    }

    /// Runs `f` and records its wall time under `stage`.
    pub fn time<T>(&mut self, stage: &str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.record(stage, t.elapsed().as_secs_f64());
        out
    }

    /// Records `seconds` of wall time under `stage` (after the stages
    /// recorded before).
    pub fn record(&mut self, stage: &str, seconds: f64) {
        self.stages.push(StageTime {
            stage: stage.to_string(),
            seconds,
        });
    }

    /// The stages recorded so far, in order.
    pub fn stages(&self) -> &[StageTime] {
        &self.stages
    }

    /// Seconds since the clock was made.
    pub fn total_seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

impl Manifest {
    /// Writes the manifest to `path`, or, where an earlier command left one
    /// there, beside it (`manifest-2.json`, ...); returns the path written.
    pub fn write(&self, path: &Path) -> Result<PathBuf> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| Error::config(format!("manifest does not serialise: {e}")))?;
        crate::fsutil::write_new_atomic(path, json.as_bytes())
    }

    /// Reads a manifest written by [`Manifest::write`].
    pub fn read(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::format(path, format!("not a vaeser run manifest: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_string() {
        let dir = std::env::temp_dir().join(format!("vaeser-manifest-{}", std::process::id()));
        let path = dir.join("abc.txt");
        crate::fsutil::write_atomic(&path, b"abc").unwrap();
        let (n, h) = sha256_file(&path).unwrap();
        assert_eq!(n, 3);
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
