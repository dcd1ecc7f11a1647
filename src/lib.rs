//! vaeser: speech emotion features learned with variational autoencoders and
//! classified with an LSTM (Latif et al., Interspeech 2018), on a hand-written
//! numeric engine with explicit forward and backward passes.
//!
//! # Quick start
//!
//! A model file written by `vaeser train` predicts from a WAV file or from
//! samples in memory (mono, any sample rate):
//!
//! ```no_run
//! use vaeser::backend::cpu::Cpu;
//! use vaeser::models::bundle::ModelBundle;
//!
//! # fn main() -> vaeser::Result<()> {
//! let model = ModelBundle::load(&Cpu, "model.safetensors".as_ref())?;
//! let p = model.predict_file("speech.wav".as_ref())?;
//! println!("{}: {:?}", p.label, p.probabilities); // in the order of model.labels
//! let samples = vec![0.0f32; 44_100];
//! let p = model.predict_samples(&samples, 44_100)?;
//! # let _ = p;
//! # Ok(())
//! # }
//! ```
//!
//! Many inputs at once, in parallel with results in input order, are
//! [`predict::run::predict_all`]; one label per window of a long recording
//! is [`predict::windows::predict_windows`]. Training goes through
//! [`train`] (feature learners, classifier) and [`eval`] (cross-validation,
//! the paper's experiment); every command-line subcommand is a function of
//! [`cli`] over these.

pub mod audio;
pub mod backend;
pub mod checkpoint;
pub mod checksum;
/// The command line (`vaeser`'s subcommands); public for the binary only.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
pub mod config;
pub mod corpus;
pub mod error;
pub mod eval;
pub mod features;
pub mod fsutil;
mod hugepages;
pub mod interrupt;
pub mod limits;
pub mod models;
pub mod nn;
pub mod numbering;
pub mod output_check;
pub mod predict;
pub mod provenance;
pub mod rng;
pub mod sha256;
pub mod task;
pub mod train;

pub use error::{Error, Result};
