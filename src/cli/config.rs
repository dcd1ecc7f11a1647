//! `vaeser config`: prints a configuration as TOML (the defaults, a preset,
//! or a file read over them), so every run can be described by one file.

use super::Global;
use crate::config::{Config, PRESETS};
use crate::error::Result;
use std::path::PathBuf;

/// How a command chooses its configuration: a preset, then a file over it.
#[derive(clap::Args, Debug, Clone)]
pub struct ConfigArgs {
    /// TOML file of hyper-parameters; keys it does not name keep the preset's
    /// values (see `vaeser config` for every key).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Starting point of the configuration: `spec` (the SPEC's values) or
    /// `quick` (smaller networks, fewer epochs, shorter latent sweep: the demo's budget).
    #[arg(long, value_name = "NAME", default_value = "spec", value_parser = clap::builder::PossibleValuesParser::new(PRESETS))]
    pub preset: String,
}

impl ConfigArgs {
    pub fn resolve(&self) -> Result<Config> {
        let base = Config::preset(&self.preset)?;
        match &self.config {
            Some(path) => {
                super::paths::existing_file("--config", path)?;
                Config::load_over(&base, path)
            }
            None => Ok(base),
        }
    }

    /// A short description for reports: the preset and the file, if any.
    pub fn describe(&self) -> String {
        match &self.config {
            Some(p) => format!("{} + {}", self.preset, p.display()),
            None => self.preset.clone(),
        }
    }
}

/// Print the configuration (defaults, a preset, or a file read over it) as TOML.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Prints every hyper-parameter of a run as TOML. With no option it prints the \
SPEC's defaults; save the output, edit it, and pass it to any command with --config FILE. \
Keys a file leaves out keep their default (or the --preset's) value."
)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn run(args: Args, _global: &Global) -> Result<()> {
    print!("{}", args.config.resolve()?.to_toml());
    Ok(())
}
