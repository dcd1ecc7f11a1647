//! LogMel features of a whole corpus, computed in parallel (and, once the
//! cache file lands, reused between runs).

use crate::audio::{load_logmel, LogMel};
use crate::corpus::{Skipped, Utterance};
use crate::error::Result;
use rayon::prelude::*;
use std::path::Path;

#[derive(Clone, Copy, Debug, Default)]
pub struct ExtractOptions<'a> {
    /// Cache file to reuse and update; `None` computes everything afresh.
    pub cache: Option<&'a Path>,
    /// Make the first unreadable file fatal.
    pub strict: bool,
    /// Draw a progress bar.
    pub progress: bool,
}

/// The LogMel features of each utterance, `None` where the file could not be
/// used (the reason is in `skipped`).
#[derive(Clone, Debug, Default)]
pub struct Extracted {
    pub logmels: Vec<Option<LogMel>>,
    pub skipped: Vec<Skipped>,
}

pub fn extract(utterances: &[Utterance], options: &ExtractOptions<'_>) -> Result<Extracted> {
    let bar = options
        .progress
        .then(|| crate::train::progress::bar(utterances.len() as u64, "LogMel"));
    let results: Vec<Result<LogMel>> = utterances
        .par_iter()
        .map(|u| {
            let r = load_logmel(&u.path);
            if let Some(b) = &bar {
                b.inc(1);
            }
            r
        })
        .collect();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut out = Extracted::default();
    for (u, r) in utterances.iter().zip(results) {
        match r {
            Ok(lm) => out.logmels.push(Some(lm)),
            Err(e) if !options.strict => {
                out.skipped.push(Skipped {
                    path: u.path.clone(),
                    line: None,
                    reason: e.to_string(),
                });
                out.logmels.push(None);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
