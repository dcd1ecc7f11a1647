//! `--seeds`, taken by the commands that cross-validate (`crossval`,
//! `reproduce`).

use crate::error::Result;
use crate::eval::seeds::SeedList;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct SeedsArgs {
    /// Run every cell with several seeds: N (the N seeds counting up from
    /// --seed) or a list A,B,C. A seed changes learner and classifier
    /// initialisation, noise, shuffling and the validation split; the folds
    /// stay fixed. Metrics are then reported as the mean over the seeds with a
    /// 95% Student-t interval, beside each seed's value. Default: --seed alone.
    #[arg(long, value_name = "N|A,B,...")]
    pub seeds: Option<String>,
}

impl SeedsArgs {
    /// `first`: the command's --seed.
    pub fn resolve(&self, first: u64) -> Result<SeedList> {
        match &self.seeds {
            Some(text) => SeedList::parse(text, first),
            None => Ok(SeedList::single(first)),
        }
    }
}
