//! What a table cell runs: one of the paper's feature learners followed by
//! the LSTM classifier, or one of the baselines every report shows next to
//! them (SPEC §5), all cross-validated by the same driver on the same folds.

use crate::models::autoencoder::LearnerKind;
use serde::{Deserialize, Serialize};

/// The model of a table cell: a feature learner with the LSTM, or a baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// A feature learner per fold, its features classified by the LSTM.
    Learner(LearnerKind),
    /// The LSTM classifier directly on the z-scored LogMel segments.
    NoLearner,
    /// The most frequent class of the fold's training utterances.
    Majority,
    /// Multinomial logistic regression on each utterance's per-band LogMel
    /// mean and standard deviation.
    LogReg,
}

/// The baselines, in their row order after the models.
pub const BASELINES: [Method; 3] = [Method::Majority, Method::LogReg, Method::NoLearner];

impl Method {
    /// The name results and cell ids carry ("AE", ..., "LogMel", "Majority", "LogReg").
    pub fn model_name(self) -> String {
        match self {
            Method::Learner(k) => k.as_str().to_uppercase(),
            Method::NoLearner => "LogMel".into(),
            Method::Majority => "Majority".into(),
            Method::LogReg => "LogReg".into(),
        }
    }

    /// The feature learner, or `None` for a baseline.
    pub fn learner(self) -> Option<LearnerKind> {
        match self {
            Method::Learner(k) => Some(k),
            _ => None,
        }
    }

    /// Whether the cell's numbers depend on the latent size.
    pub fn has_latent(self) -> bool {
        matches!(self, Method::Learner(_))
    }

    /// Whether this is one of [`BASELINES`] rather than a feature learner.
    pub fn is_baseline(self) -> bool {
        !self.has_latent()
    }
}

/// How a result's model name reads in a table row.
pub fn row_label(model: &str) -> String {
    match model {
        "LogMel" => "LogMel-LSTM (no feature learner)".into(),
        "Majority" => "majority class".into(),
        "LogReg" => "logistic regression (LogMel mean/std)".into(),
        m => format!("{m}-LSTM"),
    }
}

/// The value of the command line's learner option: a feature learner, or
/// `none` for the classifier on the LogMel segments themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum LearnerChoice {
    /// Autoencoder.
    Ae,
    /// Variational autoencoder.
    Vae,
    /// Conditional VAE.
    Cvae,
    /// No feature learner: the LSTM reads the z-scored LogMel segments.
    None,
    /// Baseline: the majority class of each fold's training utterances.
    Majority,
    /// Baseline: logistic regression on per-band LogMel mean and std.
    Logreg,
}

impl From<LearnerChoice> for Method {
    fn from(c: LearnerChoice) -> Method {
        match c {
            LearnerChoice::Ae => Method::Learner(LearnerKind::Ae),
            LearnerChoice::Vae => Method::Learner(LearnerKind::Vae),
            LearnerChoice::Cvae => Method::Learner(LearnerKind::Cvae),
            LearnerChoice::None => Method::NoLearner,
            LearnerChoice::Majority => Method::Majority,
            LearnerChoice::Logreg => Method::LogReg,
        }
    }
}
