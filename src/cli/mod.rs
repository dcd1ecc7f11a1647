//! The command line: one file per subcommand; this file only parses the
//! global options and dispatches.

pub mod config;
pub mod corpus_input;
pub mod crossval;
pub mod demo;
pub mod encode;
pub mod features;
pub mod fit_features;
pub mod predict;
pub mod reproduce;
pub mod run_args;
pub mod synth;
pub mod train;

use crate::backend::cpu::Cpu;
use crate::backend::{Backend, Device};
use crate::error::{Error, Result};
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "vaeser",
    version,
    about = "Speech emotion recognition with VAE features and an LSTM classifier",
    long_about = "Learns speech emotion features with autoencoders (AE, VAE, CVAE) on 100 ms \
LogMel segments and classifies utterances with a two-layer LSTM, reproducing Latif et al., \
Interspeech 2018. Every run is deterministic for a given configuration and seed, whatever \
the number of threads."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Seed of every random stream of the run.
    #[arg(long, global = true, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Where training, encoding and prediction run: `cpu`, or `cuda` (an
    /// NVIDIA GPU; needs a build with `--features cuda`).
    #[arg(long, global = true, default_value = "cpu", value_name = "DEVICE", value_parser = parse_device)]
    pub device: Device,
}

fn parse_device(s: &str) -> std::result::Result<Device, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate the small synthetic corpus and run the whole experiment on it.
    Demo(demo::Args),
    /// Write a synthetic corpus in the IEMOCAP layout.
    Synth(synth::Args),
    /// Compute (and cache) LogMel features for a corpus.
    Features(features::Args),
    /// Train a feature learner (AE, VAE or CVAE) and save it as a checkpoint.
    FitFeatures(fit_features::Args),
    /// Encode a corpus with a saved feature learner.
    Encode(encode::Args),
    /// Cross-validate one feature learner + classifier on one task.
    Crossval(crossval::Args),
    /// Run the paper's whole experiment: tables, figure and report.
    Reproduce(reproduce::Args),
    /// Train on a whole corpus and write one self-contained model file.
    Train(train::Args),
    /// Predict the emotion of WAV files with a trained model.
    Predict(predict::Args),
    /// Print the default configuration (TOML).
    Config(config::Args),
}

/// Parses the command line and runs it; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

pub fn run(cli: Cli) -> Result<()> {
    if let Some(n) = cli.global.threads {
        if n == 0 {
            return Err(Error::config("--threads must be at least 1"));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| Error::config(format!("cannot start {n} threads: {e}")))?;
    }
    let g = &cli.global;
    match g.device {
        Device::Cpu => run_on(&Cpu, cli.command, g),
        Device::Cuda => run_on_cuda(cli.command, g),
    }
}

#[cfg(not(feature = "cuda"))]
fn run_on_cuda(_command: Command, _global: &Global) -> Result<()> {
    Device::Cuda.check_compiled_in()
}

#[cfg(feature = "cuda")]
fn run_on_cuda(command: Command, global: &Global) -> Result<()> {
    run_on(&crate::backend::cuda::Cuda::new()?, command, global)
}

/// Runs one command with every model on `backend`.
fn run_on<B: Backend>(backend: &B, command: Command, g: &Global) -> Result<()> {
    match command {
        Command::Demo(a) => demo::run(a, g, backend),
        Command::Synth(a) => synth::run(a, g),
        Command::Features(a) => features::run(a, g),
        Command::FitFeatures(a) => fit_features::run(a, g, backend),
        Command::Encode(a) => encode::run(a, g, backend),
        Command::Crossval(a) => crossval::run(a, g, backend),
        Command::Reproduce(a) => reproduce::run(a, g, backend),
        Command::Train(a) => train::run(a, g, backend),
        Command::Predict(a) => predict::run(a, g, backend),
        Command::Config(a) => config::run(a, g),
    }
}
