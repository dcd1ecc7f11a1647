//! The models of SPEC §3 and §4, written against the `Backend` trait.

pub mod autoencoder;
pub mod classifier;
