//! Training: the loops of the feature learners and of the classifier, early
//! stopping, training logs and progress, written against the `Backend` trait
//! over the networks of `models/`.

pub mod autoencoder;
pub mod classifier;
pub mod confusion;
pub mod early_stop;
pub mod finite;
pub mod history;
pub mod log;
pub mod logreg;
pub mod progress;
