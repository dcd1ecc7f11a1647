//! The models of SPEC §3 and §4, written against the `Backend` trait:
//! networks are stateless descriptions over a parameter arena and a
//! caller-owned workspace (`Autoencoder`, `classifier_net::Network`); trained
//! models own their parameters on their backend (`FeatureLearner`,
//! `Classifier`, `ModelBundle`). Training lives in `train/`.

pub mod autoencoder;
pub mod bundle;
pub mod classifier;
pub mod classifier_net;
pub mod feature_learner;
