//! The `--seed` option, offered only by the commands whose results depend on
//! a random stream (a global option would be accepted, and silently ignored,
//! by `predict`, `encode`, `features` and `config`).

#[derive(clap::Args, Debug, Clone, Copy)]
pub struct SeedArg {
    /// Seed of every random stream of the run (initialisation, noise,
    /// shuffling, validation split); the folds never depend on it.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
}
