//! The corpus options of the commands that read audio (`fit-features`,
//! `encode`): which loader, where, how strictly; loading with a summary of
//! what was left out, and segmenting the chosen utterances.

use super::paths::{existing_dir, existing_file};
use crate::config::SegmentConfig;
use crate::corpus::{self, Corpus, CorpusKind, LoadOptions, Skipped, Utterance};
use crate::error::{Error, Result};
use crate::features::segments::segment_utterances;
use std::path::PathBuf;

/// How many skipped files are listed one by one before the rest is counted.
const LISTED_SKIPS: usize = 10;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorpusArg {
    /// IEMOCAP_full_release layout (SessionN/...).
    Iemocap,
    /// RAVDESS: Actor_NN/03-01-EE-II-SS-RR-NN.wav.
    Ravdess,
    /// EmoDB: SSTTTEV.wav in the directory or its wav/.
    Emodb,
    /// A CSV with header path,label,speaker,fold (--data is the CSV file).
    Manifest,
    /// A corpus written by `vaeser synth` (IEMOCAP layout).
    Synth,
}

impl From<CorpusArg> for CorpusKind {
    fn from(a: CorpusArg) -> CorpusKind {
        match a {
            CorpusArg::Iemocap => CorpusKind::Iemocap,
            CorpusArg::Ravdess => CorpusKind::Ravdess,
            CorpusArg::Emodb => CorpusKind::Emodb,
            CorpusArg::Manifest => CorpusKind::Manifest,
            CorpusArg::Synth => CorpusKind::Synth,
        }
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct CorpusArgs {
    /// Layout of the corpus.
    #[arg(long, value_enum, value_name = "KIND")]
    pub corpus: CorpusArg,
    /// Root directory of the corpus (for a manifest, the CSV file).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// Stop at the first unusable file or annotation instead of skipping it
    /// and listing what was skipped at the end.
    #[arg(long)]
    pub strict: bool,
    /// Accept manifest rows whose audio lies outside the manifest's folder
    /// (by default such rows are skipped, so a manifest cannot reach files
    /// it does not sit beside).
    #[arg(long)]
    pub allow_outside: bool,
}

impl CorpusArgs {
    /// Loads the corpus and prints how many utterances it gave and what was
    /// skipped or left out.
    pub fn load(&self) -> Result<Corpus> {
        self.check_data()?;
        let corpus = corpus::load(
            self.corpus.into(),
            &self.data,
            &LoadOptions {
                strict: self.strict,
                allow_outside: self.allow_outside,
            },
        )?;
        let counts = corpus.label_counts();
        println!(
            "corpus {}: {} utterances ({})",
            self.data.display(),
            corpus.utterances.len(),
            corpus::EMOTIONS
                .iter()
                .zip(counts)
                .map(|(e, c)| format!("{e} {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !corpus.excluded.is_empty() {
            println!(
                "  left out, not one of the four classes: {}",
                corpus
                    .excluded
                    .iter()
                    .map(|(label, n)| format!("{label} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        for w in &corpus.warnings {
            println!("  warning: {w}");
        }
        report_skipped("while loading the corpus", &corpus.skipped);
        Ok(corpus)
    }
}

impl CorpusArgs {
    /// Fails, naming `--data`, unless it is what the corpus kind reads: a
    /// CSV file for a manifest, a directory otherwise.
    pub fn check_data(&self) -> Result<()> {
        match self.corpus {
            CorpusArg::Manifest => existing_file("--data", &self.data),
            _ => existing_dir("--data", &self.data),
        }
    }
}

/// Prints what was skipped (the first few one by one), if anything.
pub fn report_skipped(when: &str, skipped: &[Skipped]) {
    if skipped.is_empty() {
        return;
    }
    println!("  skipped {} file(s) {when}:", skipped.len());
    for s in skipped.iter().take(LISTED_SKIPS) {
        println!("    {s}");
    }
    if skipped.len() > LISTED_SKIPS {
        println!("    ... and {} more", skipped.len() - LISTED_SKIPS);
    }
}

/// The raw segments of `utterances`, each entry `None` where the audio could
/// not be used (listed on stdout; fatal with `strict`).
pub fn segment(
    utterances: &[Utterance],
    config: &SegmentConfig,
    strict: bool,
) -> Result<Vec<Option<Vec<f32>>>> {
    let (segments, skipped) = segment_utterances(utterances, config, strict, progress())?;
    report_skipped("while reading audio", &skipped);
    if segments.iter().all(Option::is_none) {
        return Err(Error::data(format!(
            "none of the {} utterances gave usable audio",
            utterances.len()
        )));
    }
    Ok(segments)
}

/// Whether progress bars should be drawn (only on a terminal, without `--quiet`).
pub fn progress() -> bool {
    crate::train::progress::enabled()
}
