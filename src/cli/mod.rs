//! The command line: one file per subcommand; this file only parses the
//! global options and dispatches.

pub mod completions;
pub mod config;
pub mod corpus_input;
pub mod crossval;
pub mod demo;
pub mod encode;
pub mod features;
pub mod fit_features;
pub mod inspect;
pub mod interrupted;
pub mod merge;
pub mod model_file;
pub mod paths;
pub mod predict;
pub mod reproduce;
pub mod rerun;
pub mod run_args;
pub mod seed;
pub mod seeds_arg;
pub mod synth;
pub mod train;

use crate::backend::cpu::Cpu;
use crate::backend::{Backend, Device};
use crate::error::{Error, Result};
use crate::provenance::Provenance;
use clap::{Parser, Subcommand};

/// The heading the options that every subcommand takes are listed under, so
/// that a subcommand's own options stand out in its help.
pub const GLOBAL_HEADING: &str = "Global options";

#[derive(Parser, Debug)]
#[command(
    name = "vaeser",
    version,
    about = "Speech emotion recognition with VAE features and an LSTM classifier",
    long_about = "Learns speech emotion features with autoencoders (AE, VAE, CVAE) on 100 ms \
LogMel segments and classifies utterances with a two-layer LSTM, reproducing Latif et al., \
Interspeech 2018. Every run is deterministic for a given configuration and seed, whatever \
the number of threads.\n\n\
Typical use: `vaeser demo` (the whole experiment on generated data), `vaeser train` (one \
model file from a corpus), then `vaeser predict --model FILE a.wav ...`. \
`vaeser COMMAND --help` explains each command in full."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = GLOBAL_HEADING)]
pub struct Global {
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(short = 'j', long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Replace an output file (model, cache, report) that vaeser did not
    /// write or that holds another kind of file; without it such a file is
    /// left alone and the run refused before any work.
    #[arg(long, global = true)]
    pub force: bool,
    /// Where training, encoding and prediction run: `cpu`, or `cuda` (an
    /// NVIDIA GPU; needs a build with `--features cuda`).
    #[arg(long, global = true, default_value = "cpu", value_name = "DEVICE", value_parser = parse_device)]
    pub device: Device,
    /// No progress bar and no per-epoch lines: only whole lines about
    /// stages and folds, as when stderr is not a terminal.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

impl Global {
    /// Folds of a cross-validation computed at the same time: one per
    /// thread on the CPU (each fold then runs on one thread), one at a time
    /// on a GPU.
    pub fn fold_workers(&self) -> usize {
        match self.device {
            Device::Cpu => rayon::current_num_threads(),
            Device::Cuda => 1,
        }
    }
}

fn parse_device(s: &str) -> std::result::Result<Device, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

// The variants carry no doc comments on purpose: a doc comment here would
// replace the `about` and `long_about` of the subcommand's own `Args`, and
// every `--help` would lose its long text.
#[derive(Subcommand, Debug)]
pub enum Command {
    Demo(demo::Args),
    Synth(synth::Args),
    Features(features::Args),
    FitFeatures(fit_features::Args),
    Encode(encode::Args),
    Crossval(crossval::Args),
    Reproduce(reproduce::Args),
    Merge(merge::Args),
    Train(train::Args),
    Predict(predict::Args),
    Inspect(inspect::Args),
    Config(config::Args),
    Rerun(rerun::Args),
    Completions(completions::Args),
}

/// Parses the command line and runs it; returns the process exit code:
/// 0 on success, 1 when an error stopped the command, 2 for a command line
/// that does not parse, and for a command that carries on past failed
/// inputs (`predict`) the number of inputs that failed (see
/// [`Error::exit_code`]).
pub fn main() -> i32 {
    let cli = parse();
    // Commands that write no files keep the default action of a signal
    // (stop at once) and do not start the handler's thread.
    if !matches!(
        cli.command,
        Command::Predict(_) | Command::Inspect(_) | Command::Completions(_)
    ) {
        crate::interrupt::install();
    }
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            if crate::interrupt::requested() {
                crate::interrupt::EXIT_CODE
            } else {
                e.exit_code()
            }
        }
    }
}

/// Parses the process's arguments; `--version` prints the build and machine
/// (commit, rustc, target features, CPU, GEMM kernel), `-V` the version only.
fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    // clap wants a 'static text; it is built once per process.
    let long: &'static str = Box::leak(Provenance::current().describe().into_boxed_str());
    let matches = Cli::command().long_version(long).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

pub fn run(cli: Cli) -> Result<()> {
    if let Some(n) = cli.global.threads {
        if n == 0 {
            return Err(Error::usage("--threads 0: at least 1 thread is needed"));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| Error::usage(format!("--threads {n}: cannot start the threads: {e}")))?;
    }
    let g = &cli.global;
    crate::train::progress::set_quiet(g.quiet);
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
        Command::Merge(a) => merge::run(a, g, backend),
        Command::Train(a) => train::run(a, g, backend),
        Command::Predict(a) => predict::run(a, g, backend),
        Command::Inspect(a) => inspect::run(a, g),
        Command::Config(a) => config::run(a, g),
        Command::Rerun(a) => rerun::run(a, g, backend),
        Command::Completions(a) => completions::run(a),
    }
}
