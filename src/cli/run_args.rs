//! The corpus options of the commands that run experiments (`crossval`,
//! `reproduce`, `train`): those of every command that reads a corpus, plus a
//! LogMel cache.

use super::corpus_input::{self, report_skipped};
use crate::config::Config;
use crate::error::Result;
use crate::eval::dataset::{CorpusData, DimensionalUtterances};
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
