//! Options shared by the commands that run experiments on a corpus.

use crate::config::Config;
use crate::corpus::CorpusKind;
use crate::error::Result;
use crate::eval::dataset::CorpusData;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Which corpus, where.
#[derive(clap::Args, Debug, Clone)]
pub struct CorpusArgs {
    /// Corpus layout: iemocap, ravdess, emodb, manifest (a CSV file with
    /// path,label,speaker,fold[,valence,arousal,dominance]) or synth (a
    /// corpus written by `vaeser synth`).
    #[arg(long, value_name = "KIND", value_parser = parse_corpus_kind)]
    pub corpus: CorpusKind,
    /// The corpus root directory (for a manifest, the CSV file).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// LogMel cache file to reuse and update between runs (see `vaeser
    /// features`); without it the features are computed afresh.
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,
    /// Stop at the first unusable file or annotation line instead of
    /// skipping it and listing it at the end.
    #[arg(long)]
    pub strict: bool,
}

impl CorpusArgs {
    /// Loads the corpus and computes the segments of every utterance.
    pub fn load(&self, config: &Config) -> Result<CorpusData> {
        let data = CorpusData::load(
            self.corpus,
            &self.data,
            &config.segments,
            self.cache.as_deref(),
            self.strict,
            progress(),
        )?;
        eprintln!(
            "{}: {} utterances with audio, {} files skipped",
            self.data.display(),
            data.utterances.len(),
            data.skipped.len()
        );
        for s in data.skipped.iter().take(10) {
            eprintln!("  skipped {s}");
        }
        if data.skipped.len() > 10 {
            eprintln!(
                "  ... and {} more (see skipped.json)",
                data.skipped.len() - 10
            );
        }
        if !data.excluded.is_empty() {
            let list: Vec<String> = data
                .excluded
                .iter()
                .map(|(label, n)| format!("{label} {n}"))
                .collect();
            eprintln!(
                "  left out (not one of the four classes): {}",
                list.join(", ")
            );
        }
        for w in &data.warnings {
            eprintln!("  warning: {w}");
        }
        Ok(data)
    }
}

pub fn parse_corpus_kind(s: &str) -> std::result::Result<CorpusKind, String> {
    serde_json::from_value(serde_json::Value::String(s.to_lowercase())).map_err(|_| {
        format!("unknown corpus kind {s:?} (iemocap, ravdess, emodb, manifest or synth)")
    })
}

/// Whether progress bars can be drawn (stderr is a terminal).
pub fn progress() -> bool {
    std::io::stderr().is_terminal()
}
