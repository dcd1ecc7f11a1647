//! Training loops shared by the feature learners and the classifier.

pub mod early_stop;
pub mod log;
pub mod logreg;
pub mod progress;
