//! What a run that stops early (Ctrl-C, SIGTERM, `VAESER_STOP_AFTER_FOLDS`)
//! leaves behind: its completed folds are already on disk; this writes the
//! list of skipped files and the manifest of what ran, and tells the user
//! the command that continues it.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::eval::dataset::CorpusData;
use crate::eval::experiment::run_manifest;
use crate::eval::manifest::StageClock;
use crate::fsutil::write_atomic;
use std::path::Path;

/// Passes `result` through; when it is `Error::Interrupted`, first writes
/// `skipped.json` and `manifest.json` into `out` and prints the command
/// that resumes the run.
pub fn finish<T>(
    result: Result<T>,
    out: &Path,
    data: &CorpusData,
    config: &Config,
    seeds: &[u64],
    preset: &str,
    clock: &StageClock,
) -> Result<T> {
    let Err(Error::Interrupted(why)) = result else {
        return result;
    };
    let skipped = serde_json::to_string_pretty(&data.skipped).unwrap_or_else(|_| "[]".into());
    write_atomic(&out.join("skipped.json"), skipped.as_bytes())?;
    run_manifest(data, config, seeds, preset, clock).write(&out.join("manifest.json"))?;
    eprintln!(
        "completed folds are saved in {}; to continue the run:\n  {}",
        out.display(),
        resume_command()
    );
    Err(Error::Interrupted(why))
}

/// This process's command line with `--resume`, quoted for a POSIX shell.
pub fn resume_command() -> String {
    let mut args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--resume") {
        args.push("--resume".into());
    }
    args.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn arguments_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("--out"), "--out");
        assert_eq!(shell_quote("runs/a b"), "'runs/a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
