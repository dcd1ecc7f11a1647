//! `vaeser merge OUT DIR...`: gathers the folds that the shards of a sharded
//! `reproduce` wrote into their directories, then reruns the shards' command
//! on OUT with --resume and without --shard, which reads every fold back and
//! writes the report, exactly as an unsharded run would have.

use super::{Cli, Command, Global};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::eval::manifest::Manifest;
use crate::eval::resume::FoldFile;
use crate::fsutil::write_atomic;
use clap::Parser;
use std::path::{Path, PathBuf};

/// Assemble the report of a sharded `reproduce` run.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Copies the completed folds (cells/<cell>/seed-S/fold-N.json and their training \
logs) of every shard directory into OUT, refusing two different results for one fold, then \
reruns the command recorded in the first shard's manifest.json on OUT with --resume and \
without --shard: every fold is read back, none is computed, and OUT gets the report, \
results.json and figures of the whole run (byte-identical to an unsharded run's results.json). \
Run it from the directory the shards ran in when their command used relative paths."
)]
pub struct Args {
    /// Directory of the merged run.
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// The shards' output directories.
    #[arg(value_name = "DIR", required = true)]
    pub shards: Vec<PathBuf>,
}

pub fn run<B: Backend>(args: Args, global: &Global, backend: &B) -> Result<()> {
    let mut copied = 0;
    for dir in &args.shards {
        copied += gather(&dir.join("cells"), &args.out.join("cells"))?;
    }
    eprintln!(
        "merge: {copied} fold files from {} shard directories",
        args.shards.len()
    );
    let manifest_path = args.shards[0].join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| Error::format(&manifest_path, format!("not a run manifest: {e}")))?;
    let recorded = Cli::try_parse_from(&manifest.command).map_err(|e| {
        Error::format(
            &manifest_path,
            format!("the recorded command does not parse: {e}"),
        )
    })?;
    let Command::Reproduce(mut run) = recorded.command else {
        return Err(Error::format(
            &manifest_path,
            "the recorded command is not `vaeser reproduce`",
        ));
    };
    run.out = args.out.clone();
    run.resume = true;
    run.shard = None;
    // The recorded seeds (part of the command); this invocation's threads
    // and device: every fold is read back, none computed.
    super::reproduce::run(run, global, backend)
}

/// Copies every `seed-*/` file of every cell under `from` into `to`; returns
/// the number of fold records copied. A fold present on both sides must
/// hold the same result (its timing may differ).
fn gather(from: &Path, to: &Path) -> Result<usize> {
    let mut copied = 0;
    for cell in sorted_dirs(from)? {
        for seed in sorted_dirs(&cell)? {
            let rel = seed.strip_prefix(from).unwrap_or(&seed).to_path_buf();
            let mut files: Vec<PathBuf> = std::fs::read_dir(&seed)
                .map_err(|e| Error::io(&seed, e))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for file in files {
                let name = file.file_name().unwrap_or_default().to_owned();
                // A temporary file of an interrupted atomic write.
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                let target = to.join(&rel).join(&name);
                let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
                let is_fold = name.to_string_lossy().ends_with(".json");
                if target.exists() {
                    if is_fold && fold_of(&target)? != fold_of(&file)? {
                        return Err(Error::format(
                            &file,
                            format!(
                                "holds another result for the fold already in {}; were the shards \
                                 run with the same command?",
                                target.display()
                            ),
                        ));
                    }
                    continue;
                }
                write_atomic(&target, &bytes)?;
                if is_fold {
                    copied += 1;
                }
            }
        }
    }
    Ok(copied)
}

/// A fold file's fingerprint and record (not its timing).
fn fold_of(path: &Path) -> Result<(String, crate::eval::results::FoldRecord)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let f: FoldFile = serde_json::from_str(&text)
        .map_err(|e| Error::format(path, format!("not a fold record: {e}")))?;
    Ok((f.fingerprint, f.record))
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    Ok(dirs)
}
