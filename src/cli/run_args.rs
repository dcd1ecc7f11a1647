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
    /// LogMel cache file to reuse and update between runs [default: the
    /// corpus's own, as `vaeser features` makes it: DATA/.vaeser-cache/
    /// logmel.bin, or for a read-only corpus a file named after it in
    /// $XDG_CACHE_HOME/vaeser or ~/.cache/vaeser].
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,
    /// Compute the features afresh, neither reading nor writing a cache.
    #[arg(long, conflicts_with = "cache")]
    pub no_cache: bool,
}

impl CorpusArgs {
    /// Refuses, before any work, a `--cache` path that holds something
    /// other than a LogMel cache (unless `force`) or cannot be written.
    pub fn check_cache(&self, force: bool) -> Result<()> {
        match self.cache_file()? {
            Some(path) => check_output_file(&path, OutputKind::FeatureCache, force),
            None => Ok(()),
        }
    }

    /// The cache file this run reads and updates: `--cache`, none with
    /// `--no-cache`, else the corpus's default one (see
    /// [`crate::features::cache::cache_location`]). A corpus that does not
    /// exist has none (loading it says so), so a mistyped `--data`
    /// creates nothing.
    pub fn cache_file(&self) -> Result<Option<PathBuf>> {
        if self.no_cache {
            return Ok(None);
        }
        if let Some(path) = &self.cache {
            return Ok(Some(path.clone()));
        }
        if self.input.check_data().is_err() {
            return Ok(None);
        }
        crate::features::cache::cache_location(&self.input.data).map(Some)
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
            self.cache_file()?.as_deref(),
            self.input.strict,
            progress(),
        )?;
        report_skipped("while reading audio", &data.skipped[listed..]);
        println!("  {} utterances with usable audio", data.utterances.len());
        Ok(data)
    }
}
