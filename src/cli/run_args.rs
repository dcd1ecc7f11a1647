//! The corpus options of the commands that run experiments (`crossval`,
//! `reproduce`, `train`): those of every command that reads a corpus, plus a
//! LogMel cache.

use super::corpus_input::{self, report_skipped};
use crate::config::Config;
use crate::error::Result;
use crate::eval::dataset::{CorpusData, DimensionalUtterances};
use crate::output_check::{check_output_file, OutputKind};
use std::path::PathBuf;

pub use super::corpus_input::progress;

#[derive(clap::Args, Debug, Clone)]
pub struct CorpusArgs {
    #[command(flatten)]
    pub input: corpus_input::CorpusArgs,
    /// LogMel cache file to reuse and update between runs (see `vaeser
    /// features`); without it the features are computed afresh.
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,
}

impl CorpusArgs {
    /// Refuses, before any work, a `--cache` path that holds something
    /// other than a LogMel cache (unless `force`) or cannot be written.
    pub fn check_cache(&self, force: bool) -> Result<()> {
        match &self.cache {
            Some(path) => check_output_file(path, OutputKind::FeatureCache, force),
            None => Ok(()),
        }
    }

    /// Loads the corpus and computes the segments of every utterance.
    pub fn load(&self, config: &Config) -> Result<CorpusData> {
        self.load_with(config, DimensionalUtterances::FourClass)
    }

    /// As `load`; with `DimensionalUtterances::Rated` the utterances whose
    /// label is not one of the four classes but which have V/A/D ratings are
    /// loaded too (for the dimensional tasks).
    pub fn load_with(&self, config: &Config, which: DimensionalUtterances) -> Result<CorpusData> {
        let mut corpus = self.input.load()?;
        if which == DimensionalUtterances::Rated && !corpus.rated_other.is_empty() {
            println!(
                "  {} rated utterances of other labels kept for the dimensional tasks",
                corpus.rated_other.len()
            );
            corpus.include_rated_other();
        }
        let listed = corpus.skipped.len();
        let data = CorpusData::from_corpus(
            self.input.corpus.into(),
            corpus,
            &config.segments,
            self.cache.as_deref(),
            self.input.strict,
            progress(),
        )?;
        report_skipped("while reading audio", &data.skipped[listed..]);
        println!("  {} utterances with usable audio", data.utterances.len());
        Ok(data)
    }
}
