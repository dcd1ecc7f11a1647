//! Classification metrics of SPEC §5: weighted accuracy (WA), unweighted
//! accuracy (UA, the mean of per-class recalls), macro F1 and the confusion
//! matrix, per fold and pooled over folds, with the mean and standard
//! deviation of the per-fold values.
//!
//! Conventions, fixed once so every number in a report means one thing:
//! - the confusion matrix is indexed `[truth][prediction]`;
//! - UA averages the recall of the classes that occur in the truth: a class
//!   absent from a test fold has no recall (0/0) and is left out rather than
//!   counted as 0 or 1;
//! - macro F1 averages the F1 of the classes that occur in the truth or in the
//!   predictions (scikit-learn's `f1_score(average="macro")` over the labels
//!   seen); a class with no true positive has F1 = 0;
//! - the standard deviation over folds is the sample one (divisor n - 1), and 0
//!   for a single fold.

use serde::{Deserialize, Serialize};

pub use crate::train::confusion::{mean, Confusion, Scores};

/// Metrics of a cross-validation: per fold, pooled over folds, and the mean and
/// standard deviation of the per-fold scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldSummary {
    /// Each fold's scores, in fold order.
    pub per_fold: Vec<Scores>,
    /// Scores of the pooled confusion matrix (all test utterances at once).
    pub pooled: Scores,
    /// Mean of the per-fold scores.
    pub mean: Scores,
    /// Sample standard deviation of the per-fold scores (0 for one fold).
    pub std: Scores,
    /// The folds' confusion matrices summed, `[truth][prediction]`.
    pub confusion: Confusion,
}

impl FoldSummary {
    /// Summarises the confusion matrices of the folds, in fold order.
    ///
    /// # Panics
    /// If `folds` is empty.
    pub fn from_folds(folds: &[Confusion]) -> Self {
        assert!(!folds.is_empty(), "a summary needs at least one fold");
        let mut pooled = Confusion::new(folds[0].classes);
        for f in folds {
            pooled.merge(f);
        }
        let per_fold: Vec<Scores> = folds.iter().map(Confusion::scores).collect();
        let column = |pick: fn(&Scores) -> f64| -> Vec<f64> { per_fold.iter().map(pick).collect() };
        let (wa, ua, f1) = (column(|s| s.wa), column(|s| s.ua), column(|s| s.macro_f1));
        FoldSummary {
            mean: Scores {
                wa: mean(&wa),
                ua: mean(&ua),
                macro_f1: mean(&f1),
            },
            std: Scores {
                wa: sample_std(&wa),
                ua: sample_std(&ua),
                macro_f1: sample_std(&f1),
            },
            pooled: pooled.scores(),
            per_fold,
            confusion: pooled,
        }
    }
}

/// Sample standard deviation (divisor n - 1); 0 for fewer than two values.
pub fn sample_std(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    (ss / (values.len() - 1) as f64).sqrt()
}
