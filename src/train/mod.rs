//! Training loops shared by the feature learners and the classifier.

pub mod early_stop;
pub mod finite;
pub mod log;
pub mod progress;
