//! What a training run reports per epoch (its log lines and the records the
//! cross-validation keeps).

use serde::{Deserialize, Serialize};

/// One epoch of feature-learner training, as its log reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LearnerEpoch {
    #[serde(with = "crate::numbering::from_one")]
    pub epoch: usize,
    pub train_loss: f64,
    pub val_recon: f64,
    pub val_kl: f64,
}

/// One epoch of classifier training.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassifierEpoch {
    #[serde(with = "crate::numbering::from_one")]
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    pub val_wa: f64,
    pub val_ua: f64,
}
