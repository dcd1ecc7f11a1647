//! `vaeser reproduce`: the paper's whole experiment on one corpus.

use super::config::ConfigArgs;
use super::run_args::{progress, CorpusArgs};
use super::seed::SeedArg;
use super::Global;
use crate::backend::Backend;
use crate::error::Result;
use crate::eval::crossval::DriverOptions;
use crate::eval::experiment::{self, Plan};
use crate::eval::manifest::StageClock;
use crate::eval::report::tables_markdown;
use crate::eval::resume::{refuse_to_overwrite, stop_after_folds};
use crate::output_check::{check_output_dir, OutputKind};
use std::path::PathBuf;

/// Run the paper's experiment: Table 1, Table 2, Figure 2 and the report.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Runs the paper's experiment on one corpus: Table 1 (AE-, VAE- and \
CVAE-LSTM on the categorical task, for each of the improvised / scripted / complete subsets \
where the corpus has them, else one row), Table 2 (the three models on valence, arousal and \
dominance, macro F1, where the corpus has these ratings) and Figure 2 (WA/UA against the \
latent sizes of experiment.latent_sweep). Writes OUT/report.md (the tables next to where the \
paper's numbers are), OUT/results.json (every number), OUT/figures/*.svg (latent sweep, \
confusion matrices, training curves), OUT/manifest.json (configuration, seed, version, input \
checksums, wall time per stage), OUT/skipped.json and, per cell and fold, the completed \
folds and their JSON-lines training logs under OUT/cells/. Prints the tables at the end."
)]
pub struct Args {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Continue an interrupted run in OUT: completed folds are reused (the
    /// configuration, seed and corpus must be the same).
    #[arg(long)]
    pub resume: bool,
    /// Leave out Figure 2's latent sweep.
    #[arg(long)]
    pub skip_sweep: bool,
    /// Leave out Table 2 (valence, arousal, dominance).
    #[arg(long)]
    pub skip_dimensional: bool,
    #[command(flatten)]
    pub seed: SeedArg,
    /// Output directory.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run<B: Backend>(args: Args, global: &Global, backend: &B) -> Result<()> {
    let config = args.config.resolve()?;
    reproduce(
        &args.corpus,
        &config,
        &args.config.describe(),
        Plan {
            dimensional: config.experiment.dimensional && !args.skip_dimensional,
            sweep: !args.skip_sweep,
        },
        args.resume,
        &args.out,
        args.seed.seed,
        global.force,
        backend,
    )
}

/// Runs the experiment and writes its outputs; shared with `demo`.
#[allow(clippy::too_many_arguments)]
pub fn reproduce<B: Backend>(
    corpus: &CorpusArgs,
    config: &crate::config::Config,
    preset: &str,
    plan: Plan,
    resume: bool,
    out: &std::path::Path,
    seed: u64,
    force: bool,
    backend: &B,
) -> Result<()> {
    config.validate()?;
    let ours = [
        ("report.md", OutputKind::Report),
        ("results.json", OutputKind::Json),
        ("skipped.json", OutputKind::Json),
        ("manifest.json", OutputKind::Json),
    ];
    check_output_dir(out, &ours, force)?;
    corpus.check_cache(force)?;
    if !resume {
        refuse_to_overwrite(out)?;
    }
    let mut clock = StageClock::new();
    let data = clock.time("load corpus + LogMel", || corpus.load(config))?;
    let outcome = experiment::run(
        backend,
        &data,
        config,
        preset,
        plan,
        DriverOptions {
            seed,
            out: Some(out.to_path_buf()),
            resume,
            progress: progress(),
            verbose: true,
            stop_after_folds: stop_after_folds()?,
        },
        &mut clock,
    );
    let outcome = super::interrupted::finish(outcome, out, &data, config, seed, preset, &clock)?;
    if outcome.resumed_folds > 0 {
        eprintln!(
            "{} folds taken from the interrupted run",
            outcome.resumed_folds
        );
    }
    experiment::write_outputs(out, &data, &outcome, preset, &clock)?;
    println!("{}", tables_markdown(&outcome.results));
    println!(
        "report: {}  (wall time {:.1} s)",
        out.join("report.md").display(),
        clock.total_seconds()
    );
    Ok(())
}
