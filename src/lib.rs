//! vaeser: speech emotion features learned with variational autoencoders and
//! classified with an LSTM (Latif et al., Interspeech 2018), on a hand-written
//! numeric engine with explicit forward and backward passes.
//!
//! # Quick start
//!
//! Train a model on a corpus, write it, read it back and predict, from a
//! WAV file or from samples in memory (mono, any sample rate). Here on a
//! small synthetic corpus and a reduced budget, so that it runs in seconds:
//!
//! ```
//! use vaeser::backend::cpu::Cpu;
//! use vaeser::config::Config;
//! use vaeser::corpus::{synth, CorpusKind};
//! use vaeser::eval::dataset::CorpusData;
//! use vaeser::eval::final_model::{train_bundle, TrainRequest};
//! use vaeser::models::autoencoder::LearnerKind;
//! use vaeser::models::bundle::ModelBundle;
//!
//! # fn main() -> vaeser::Result<()> {
//! # let dir = std::env::temp_dir().join(format!("vaeser-doc-{}", std::process::id()));
//! let corpus = dir.join("corpus");
//! synth::generate(&corpus, &synth::Options { seed: 1, size: synth::Size::Small })?;
//! let mut config = Config::preset("quick")?;
//! config.learner.max_epochs = 1;
//! config.classifier.max_epochs = 2;
//! let data = CorpusData::load(CorpusKind::Synth, &corpus, &config.segments, None, false, false)?;
//! let request = TrainRequest {
//!     data: &data,
//!     config: &config,
//!     kind: LearnerKind::Vae,
//!     seed: 1,
//!     progress: vaeser::train::progress::Progress::hidden(),
//!     epoch_lines: false,
//!     log_dir: None,
//! };
//! train_bundle(&Cpu, &request)?.save(&dir.join("model.safetensors"))?;
//!
//! // What `vaeser predict` does:
//! let model = ModelBundle::load(&Cpu, &dir.join("model.safetensors"))?;
//! let p = model.predict_file(&data.utterances[0].path)?;
//! println!("{}: {:?}", p.label, p.probabilities); // in the order of model.labels
//! let samples = vec![0.01f32; 44_100];
//! let p = model.predict_samples(&samples, 44_100)?;
//! assert_eq!(p.probabilities.len(), model.labels.len());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(())
//! # }
//! ```
//!
//! Many inputs at once, in parallel with results in input order, are
//! [`predict::run::predict_all`]; one label per window of a long recording
//! is [`predict::windows::predict_windows`]. Training goes through
//! [`train`] (feature learners, classifier) and [`eval`] (cross-validation,
//! the paper's experiment); the `vaeser` binary's subcommands are thin
//! layers over these.
//!
//! # Features
//!
//! - `cli` (default): the `vaeser` binary and what only it needs (argument
//!   parsing, completions, progress bars, TOML configuration files, signal
//!   handling). `default-features = false` leaves the library alone.
//! - `cuda`: the CUDA backend (`backend::cuda`), loaded at run time.

// Every public item is documented; CI builds the docs with `-D missing_docs`.
#![warn(missing_docs)]

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
pub(crate) mod fsutil;
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
