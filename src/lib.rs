//! vaeser: speech emotion features learned with variational autoencoders and
//! classified with an LSTM (Latif et al., Interspeech 2018), on a hand-written
//! numeric engine with explicit forward and backward passes.

pub mod audio;
pub mod backend;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod corpus;
pub mod error;
pub mod eval;
pub mod features;
pub mod fsutil;
pub mod models;
pub mod nn;
pub mod rng;
pub mod task;
pub mod train;

pub use error::{Error, Result};
