//! What a classifier predicts: the task of SPEC §5.

use serde::{Deserialize, Serialize};

/// What a classifier predicts (SPEC §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Four emotions (neutral, happy, sad, angry); leave one group out.
    Categorical,
    /// Valence in three bins; leave one speaker out.
    Valence,
    /// Arousal (activation) in three bins; leave one speaker out.
    Arousal,
    /// Dominance (power) in three bins; leave one speaker out.
    Dominance,
}

impl Task {
    /// The three dimensional tasks, in the order reports list them.
    pub const DIMENSIONS: [Task; 3] = [Task::Valence, Task::Arousal, Task::Dominance];

    /// The lowercase name used on the command line, in file names and in
    /// JSON (`"categorical"`, `"valence"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Task::Categorical => "categorical",
            Task::Valence => "valence",
            Task::Arousal => "arousal",
            Task::Dominance => "dominance",
        }
    }

    /// Whether this is one of the three-bin dimensional tasks (valence,
    /// arousal, dominance) rather than the four-emotion one.
    pub fn is_dimensional(self) -> bool {
        self != Task::Categorical
    }
}
