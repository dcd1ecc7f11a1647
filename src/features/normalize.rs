//! Owned by the feature-learner work; not written yet.
