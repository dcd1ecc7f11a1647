//! The records a cross-validation produces: one per fold, one per table cell
//! (a feature learner on a task and subset at one latent size) and one for a
//! whole `reproduce` run. They are what `results.json` holds and what the
//! report is rendered from. Nothing here depends on wall time, so the records
//! of a run are bit-identical whatever the machine load or thread count;
//! timings live in the run manifest.

use super::metrics::{Confusion, FoldSummary};
use crate::config::Config;
use serde::{Deserialize, Serialize};

pub use crate::task::Task;

/// IEMOCAP's subsets (SPEC §5); corpora without them use `Complete`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Subset {
    /// IEMOCAP's improvised dialogs (names containing "impro").
    Improvised,
    /// IEMOCAP's scripted dialogs.
    Scripted,
    /// Every utterance.
    Complete,
}

impl Subset {
    /// The three subsets, in the order Table 1 lists them.
    pub const ALL: [Subset; 3] = [Subset::Improvised, Subset::Scripted, Subset::Complete];

    /// The lowercase name used in cell ids, file names and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Subset::Improvised => "improvised",
            Subset::Scripted => "scripted",
            Subset::Complete => "complete",
        }
    }

    /// Whether an utterance with the given improvised flag belongs to the
    /// subset (`None`: the corpus does not say, so only `Complete` takes it).
    pub fn contains(self, improvised: Option<bool>) -> bool {
        match self {
            Subset::Complete => true,
            Subset::Improvised => improvised == Some(true),
            Subset::Scripted => improvised == Some(false),
        }
    }
}

pub use crate::train::history::{ClassifierEpoch, LearnerEpoch};

/// Everything one fold of a cross-validation produced, except timings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldRecord {
    /// The fold's index, from 0 (written from 1 in JSON).
    #[serde(with = "crate::numbering::from_one")]
    pub fold: usize,
    /// The group (session, speaker group or speaker) held out for testing.
    pub test_group: String,
    /// Utterances the classifier was fitted on (the training part less the
    /// validation part; all of it for the baselines without one).
    pub n_train: usize,
    /// Utterances held out from training for early stopping.
    pub n_validation: usize,
    /// Utterances of the held-out group, all predicted.
    pub n_test: usize,
    /// The test utterances, `[truth][prediction]`.
    pub confusion: Confusion,
    /// The feature learner's epochs (empty for the baselines).
    pub learner_epochs: Vec<LearnerEpoch>,
    /// The classifier's epochs (empty for the baselines without one).
    pub classifier_epochs: Vec<ClassifierEpoch>,
    /// The epoch whose classifier weights were kept (best validation UA).
    #[serde(with = "crate::numbering::from_one")]
    pub classifier_best_epoch: usize,
    /// Why this fold's numbers are suspect (a classifier that predicts one
    /// class for every validation utterance); absent when nothing is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier_warning: Option<String>,
}

/// Wall time of the stages of one fold, in seconds (manifest only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FoldTiming {
    /// Training the feature learner (about 0 when a cached one was reused, 0
    /// without one).
    pub learner: f64,
    /// Encoding the training and test utterances (z-scoring, for the LogMel
    /// baseline).
    pub encode: f64,
    /// Training the classifier (or fitting a baseline).
    pub classifier: f64,
    /// Predicting the test utterances.
    pub evaluate: f64,
}

/// One cell of a table: a feature learner + classifier cross-validated on one
/// task, subset and latent size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// "AE", "VAE" or "CVAE"; a baseline: "LogMel" (the classifier on the
    /// LogMel segments), "Majority" or "LogReg".
    pub model: String,
    /// What the classifier predicts.
    pub task: Task,
    /// Which utterances took part.
    pub subset: Subset,
    /// 0 for a baseline (no latent space).
    pub latent: usize,
    /// The seed of every random stream of this result.
    pub seed: u64,
    /// Class names in label-index order (the rows and columns of the
    /// confusion matrices).
    pub labels: Vec<String>,
    /// True when the CVAE was conditioned on the true labels (a label leak);
    /// every report of such a cell says "oracle labels".
    pub oracle_labels: bool,
    /// One record per fold, in fold order.
    pub folds: Vec<FoldRecord>,
    /// WA, UA and macro F1 over the folds.
    pub summary: FoldSummary,
}

impl CellResult {
    /// A file-name-safe identifier, e.g. `vae-categorical-complete-L128`.
    pub fn id(&self) -> String {
        cell_id(&self.model, self.task, self.subset, self.latent)
    }
}

/// A baseline (latent 0) has no latent size in its id.
pub fn cell_id(model: &str, task: Task, subset: Subset, latent: usize) -> String {
    let base = format!("{}-{}-{}", model.to_lowercase(), task.name(), subset.name());
    if latent == 0 {
        base
    } else {
        format!("{base}-L{latent}")
    }
}

/// Everything a `reproduce` run measured (the content of `results.json`).
/// With several seeds, each of `table1`, `table2`, `sweep` and `baselines`
/// holds one result per cell and seed (cell by cell, seeds in `seeds` order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentResults {
    /// Program name and version, e.g. `vaeser 0.1.0`.
    pub program: String,
    /// Lowercase corpus kind ("iemocap", "synth", ...).
    pub corpus: String,
    /// The seeds every cell ran with, in order.
    pub seeds: Vec<u64>,
    /// Name of the configuration preset the run started from.
    pub preset: String,
    /// The configuration every cell ran with.
    pub config: Config,
    /// Utterances used by at least one table: those with a categorical
    /// label, plus rated ones when Table 2 ran.
    pub n_utterances: usize,
    /// Table 1: categorical task, per model and subset.
    pub table1: Vec<CellResult>,
    /// Table 2: dimensional tasks, per model and dimension (empty when the
    /// corpus has no valence/arousal/dominance annotation).
    pub table2: Vec<CellResult>,
    /// Figure 2: the categorical task at each latent size of the sweep.
    pub sweep: Vec<CellResult>,
    /// The baselines on the tasks and subsets of Tables 1 and 2.
    pub baselines: Vec<CellResult>,
    /// Each cell of the tables and the baselines over its seeds.
    pub across_seeds: Vec<super::seeds::SeedSummary>,
    /// Models and baselines compared on the same (seed, fold) units.
    pub comparisons: Vec<super::paired::Comparison>,
}
