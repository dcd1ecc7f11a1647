//! The models of SPEC §3 and §4, written against the `Backend` trait.

pub mod autoencoder;
pub mod bundle;
pub mod classifier;
pub mod classifier_fit;
pub mod classifier_net;
pub mod feature_learner;
pub mod fit_autoencoder;
