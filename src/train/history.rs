//! What a training run reports per epoch (its log lines and the records the
//! cross-validation keeps).

use serde::{Deserialize, Serialize};

/// One epoch of feature-learner training, as its log reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LearnerEpoch {
    /// The epoch (0-based in memory, from 1 when serialised).
    #[serde(with = "crate::numbering::from_one")]
    pub epoch: usize,
    /// Training loss (reconstruction + `kl_weight` * KL), mean over segments.
    pub train_loss: f64,
    /// Validation reconstruction loss, mean over segments.
    pub val_recon: f64,
    /// Validation KL divergence, mean over segments.
    pub val_kl: f64,
}

/// One epoch of classifier training.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassifierEpoch {
    /// The epoch (0-based in memory, from 1 when serialised).
    #[serde(with = "crate::numbering::from_one")]
    pub epoch: usize,
    /// Cross-entropy on the training utterances, mean over utterances.
    pub train_loss: f64,
    /// Cross-entropy on the validation utterances, mean over utterances (NaN without validation).
    pub val_loss: f64,
    /// Weighted accuracy on the validation utterances, in [0, 1] (NaN without validation).
    pub val_wa: f64,
    /// Unweighted accuracy on the validation utterances, in [0, 1]; early stopping
    /// watches it (NaN without validation).
    pub val_ua: f64,
}
