//! `vaeser completions SHELL`: the shell completion script, generated from
//! the same definitions that parse the command line, so it never drifts.

use super::Cli;
use crate::error::Result;
use clap::CommandFactory;

/// Print a shell completion script.
#[derive(clap::Args, Debug)]
#[command(
    about = "Print a shell completion script",
    long_about = "Prints the completion script for SHELL on stdout. Install it where the \
shell looks for completions, e.g.\n\
  bash: vaeser completions bash > ~/.local/share/bash-completion/completions/vaeser\n\
  zsh:  vaeser completions zsh > ~/.zfunc/_vaeser   (with fpath+=~/.zfunc before compinit)\n\
  fish: vaeser completions fish > ~/.config/fish/completions/vaeser.fish"
)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

pub fn run(args: Args) -> Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "vaeser", &mut std::io::stdout());
    Ok(())
}
