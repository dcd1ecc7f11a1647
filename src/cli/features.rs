//! `vaeser features`: computes the LogMel features of a whole corpus in
//! parallel, keeps them in a cache file for later runs, and summarises what
//! the corpus holds and what could not be used.

use super::corpus_input::{progress, CorpusArgs};
use super::Global;
use crate::corpus::{self, Corpus, LoadOptions, Skipped, EMOTIONS};
use crate::error::{Error, Result};
use crate::features::cache::{check_writable, extract, CacheReport, ExtractOptions};
use crate::output_check::{check_output_file, OutputKind};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Compute (and cache) LogMel features for a corpus.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Loads a corpus, computes the LogMel features (SPEC §1) of every utterance of \
the four emotion classes in parallel and stores them in a cache file that later runs reuse. \
The cache records the front-end configuration and a checksum: a cache of another \
configuration, or a damaged one, is reported and rebuilt; an audio file whose size or \
modification time changed is computed again. Prints utterances per label and per group, \
frame counts, and every file that was skipped with the reason (--json: the same as JSON)."
)]
pub struct Args {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Cache file [default: DATA/.vaeser-cache/logmel.bin, next to the CSV
    /// for a manifest; for a read-only corpus, a file named after the
    /// corpus in $XDG_CACHE_HOME/vaeser or ~/.cache/vaeser].
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,
    /// Compute everything, neither reading nor writing a cache.
    #[arg(long, conflicts_with = "cache")]
    pub no_cache: bool,
    /// Print the summary as JSON on stdout (the progress bar stays on stderr).
    #[arg(long)]
    pub json: bool,
}

#[derive(serde::Serialize)]
struct Summary {
    corpus: corpus::CorpusKind,
    data: PathBuf,
    /// Utterances of the four classes the loader found.
    utterances: usize,
    /// Of those, the ones whose audio gave features.
    with_features: usize,
    per_label: BTreeMap<String, usize>,
    per_group: BTreeMap<String, usize>,
    frames: FrameStats,
    /// Utterances left out because their label is not one of the four.
    excluded: BTreeMap<String, usize>,
    warnings: Vec<String>,
    skipped: Vec<Skipped>,
    cache_file: Option<PathBuf>,
    cache: CacheReport,
    seconds: f64,
}

#[derive(serde::Serialize, Default)]
struct FrameStats {
    total: usize,
    min: usize,
    median: usize,
    max: usize,
    /// Utterances too short for a single frame (32 ms).
    empty: usize,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let kind = args.corpus.corpus.into();
    let data = &args.corpus.data;
    let start = Instant::now();
    args.corpus.check_data()?;
    let corpus = corpus::load(
        kind,
        data,
        &LoadOptions {
            strict: args.corpus.strict,
            allow_outside: args.corpus.allow_outside,
        },
    )?;
    // Only once the corpus is known to exist, so that a mistyped --data
    // does not create a directory.
    let cache_file = if args.no_cache {
        None
    } else {
        let path = cache_location(&args)?;
        check_output_file(&path, OutputKind::FeatureCache, global.force)?;
        Some(path)
    };
    let extracted = extract(
        &corpus.utterances,
        &ExtractOptions {
            cache: cache_file.as_deref(),
            strict: args.corpus.strict,
            progress: progress(),
        },
    )?;
    let seconds = start.elapsed().as_secs_f64();
    let Corpus {
        utterances,
        mut skipped,
        excluded,
        warnings,
        ..
    } = corpus;
    skipped.extend(extracted.skipped);

    let mut per_label = BTreeMap::new();
    let mut per_group = BTreeMap::new();
    let mut frames = Vec::new();
    for (u, lm) in utterances.iter().zip(&extracted.logmels) {
        let Some(lm) = lm else { continue };
        let label = u.label.map_or("unlabelled", |l| EMOTIONS[l]);
        *per_label.entry(label.to_string()).or_insert(0) += 1;
        *per_group.entry(u.group.clone()).or_insert(0) += 1;
        frames.push(lm.n_frames);
    }
    frames.sort_unstable();
    let frame_stats = if frames.is_empty() {
        FrameStats::default()
    } else {
        FrameStats {
            total: frames.iter().sum(),
            min: frames[0],
            median: frames[frames.len() / 2],
            max: frames[frames.len() - 1],
            empty: frames.iter().filter(|&&n| n == 0).count(),
        }
    };
    let summary = Summary {
        corpus: kind,
        data: data.clone(),
        utterances: utterances.len(),
        with_features: frames.len(),
        per_label,
        per_group,
        frames: frame_stats,
        excluded,
        warnings,
        skipped,
        cache_file,
        cache: extracted.cache,
        seconds,
    };
    if args.json {
        let text = serde_json::to_string_pretty(&summary)
            .map_err(|e| Error::config(format!("cannot write the summary as JSON: {e}")))?;
        println!("{text}");
    } else {
        print_summary(&summary);
    }
    if summary.with_features == 0 {
        return Err(Error::data(format!(
            "{}: no utterance gave features ({} skipped)",
            data.display(),
            summary.skipped.len()
        )));
    }
    Ok(())
}

/// The cache file to use, checked to be writable before any work is done.
fn cache_location(args: &Args) -> Result<PathBuf> {
    match &args.cache {
        Some(path) => {
            check_writable(path).map_err(|e| {
                Error::config(format!(
                    "cannot write the feature cache {}: {e}",
                    path.display()
                ))
            })?;
            Ok(path.clone())
        }
        None => crate::features::cache::cache_location(&args.corpus.data),
    }
}

fn print_summary(s: &Summary) {
    let join = |m: &BTreeMap<String, usize>| {
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "{} ({:?}): {} utterances of the four classes, {} with features, in {:.1} s",
        s.data.display(),
        s.corpus,
        s.utterances,
        s.with_features,
        s.seconds
    );
    println!("  per label: {}", join(&s.per_label));
    println!(
        "  per group ({}): {}",
        s.per_group.len(),
        join(&s.per_group)
    );
    let f = &s.frames;
    println!(
        "  frames: {} in all ({:.1} min of audio); per utterance min {}, median {}, max {}",
        f.total,
        f.total as f64 / 100.0 / 60.0,
        f.min,
        f.median,
        f.max
    );
    if f.empty > 0 {
        println!("  {} utterance(s) shorter than one frame (32 ms)", f.empty);
    }
    if !s.excluded.is_empty() {
        println!(
            "  left out, not one of the four classes: {}",
            join(&s.excluded)
        );
    }
    for w in &s.warnings {
        println!("  warning: {w}");
    }
    match &s.cache_file {
        Some(path) => println!(
            "  cache {}: {} reused, {} computed{}",
            path.display(),
            s.cache.reused,
            s.cache.computed,
            if s.cache.written { ", written" } else { "" }
        ),
        None => println!("  no cache: {} computed", s.cache.computed),
    }
    for note in &s.cache.notes {
        println!("    {note}");
    }
    if s.skipped.is_empty() {
        println!("  nothing skipped");
    } else {
        println!("  skipped {}:", s.skipped.len());
        for skipped in &s.skipped {
            println!("    {skipped}");
        }
    }
}
