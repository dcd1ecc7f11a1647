//! `vaeser reproduce`: the paper's whole experiment on one corpus.

use super::config::ConfigArgs;
use super::run_args::CorpusArgs;
use super::seed::SeedArg;
use super::seeds_arg::SeedsArgs;
use super::Global;
use crate::backend::Backend;
use crate::error::Result;
use crate::eval::crossval::DriverOptions;
use crate::eval::dataset::DimensionalUtterances;
use crate::eval::experiment::{self, Plan};
use crate::eval::manifest::StageClock;
use crate::eval::report::tables_markdown;
use crate::eval::resume::{refuse_to_overwrite, stop_after_folds};
use crate::eval::seeds::SeedList;
use crate::eval::shard::Shard;
use crate::output_check::{check_output_dir, OutputKind};
use crate::train::progress::Progress;
use std::path::{Path, PathBuf};

/// Run the paper's experiment: Table 1, Table 2, Figure 2 and the report.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Runs the paper's experiment on one corpus: Table 1 (AE-, VAE- and \
CVAE-LSTM on the categorical task, for each of the improvised / scripted / complete subsets \
where the corpus has them, else one row), Table 2 (the three models on valence, arousal and \
dominance, macro F1, where the corpus has these ratings) and Figure 2 (WA/UA against the \
latent sizes of experiment.latent_sweep), with the baselines (majority class, logistic \
regression on each utterance's per-band LogMel mean and std, the LSTM on the z-scored LogMel \
segments) on the same folds and paired comparisons of every two models. With --seeds every \
cell runs once per seed and the report gives means with 95% intervals. Writes OUT/report.md (the tables next to where the \
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
    /// Leave out the baselines (majority class, logistic regression on
    /// LogMel mean/std, the LSTM on the LogMel segments).
    #[arg(long)]
    pub skip_baselines: bool,
    #[command(flatten)]
    pub seeds: SeedsArgs,
    /// Which utterances the dimensional tasks use: all (every utterance with
    /// V/A/D ratings, on IEMOCAP also frustrated, surprised, xxx, ...) or
    /// four-class (only neutral, happy, sad, angry).
    #[arg(long, value_enum, value_name = "WHICH", default_value_t = DimensionalUtterances::Rated)]
    pub dimensional_utterances: DimensionalUtterances,
    /// Compute only shard K of N of the (seed, cell, fold) jobs, into OUT
    /// (e.g. --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT); `vaeser
    /// merge` assembles the report from every shard's directory.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub seed: SeedArg,
    /// Output directory.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run<B: Backend>(args: Args, global: &Global, backend: &B) -> Result<()> {
    let config = args.config.resolve()?;
    let seeds = args.seeds.resolve(args.seed.seed)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    reproduce(
        &args.corpus,
        &config,
        &args.config.describe(),
        &Request {
            plan: Plan {
                dimensional: config.experiment.dimensional && !args.skip_dimensional,
                sweep: !args.skip_sweep,
                baselines: !args.skip_baselines,
                dimensional_utterances: args.dimensional_utterances,
            },
            seeds: &seeds,
            shard,
            resume: args.resume,
            out: &args.out,
        },
        args.seed.seed,
        global,
        backend,
    )
}

/// What a `reproduce` run computes and where it writes it.
pub struct Request<'a> {
    pub plan: Plan,
    pub seeds: &'a SeedList,
    /// Compute only this shard's folds (no report then).
    pub shard: Option<Shard>,
    pub resume: bool,
    pub out: &'a Path,
}

/// Runs the experiment and writes its outputs; shared with `demo` and `merge`.
pub fn reproduce<B: Backend>(
    corpus: &CorpusArgs,
    config: &crate::config::Config,
    preset: &str,
    request: &Request<'_>,
    seed: u64,
    global: &Global,
    backend: &B,
) -> Result<()> {
    let force = global.force;
    let Request {
        plan,
        seeds,
        shard,
        resume,
        out,
    } = *request;
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
    let which = if plan.dimensional {
        plan.dimensional_utterances
    } else {
        DimensionalUtterances::FourClass
    };
    let data = clock.time("load corpus + LogMel", || corpus.load_with(config, which))?;
    let bar = Progress::new(
        experiment::plan_steps(backend, &data, config, plan, seeds)?,
        "reproduce",
    );
    let outcome = experiment::run(
        backend,
        &data,
        config,
        preset,
        plan,
        seeds,
        DriverOptions {
            seed,
            out: Some(out.to_path_buf()),
            resume,
            progress: bar.clone(),
            fold_workers: global.fold_workers(),
            verbose: true,
            stop_after_folds: stop_after_folds()?,
            shard,
            first_job: 0,
        },
        &mut clock,
    );
    bar.finish();
    let outcome =
        super::interrupted::finish(outcome, out, &data, config, &seeds.0, preset, &clock)?;
    if outcome.resumed_folds > 0 {
        eprintln!(
            "{} folds taken from the interrupted run",
            outcome.resumed_folds
        );
    }
    if outcome.incomplete_cells > 0 {
        // The manifest records the command, which `vaeser merge` reruns.
        experiment::run_manifest(&data, config, &seeds.0, preset, &clock)
            .write(&out.join("manifest.json"))?;
        println!(
            "shard {}: {} folds computed into {}; {} (cell, seed) pairs have folds of other shards. \
When every shard is done: vaeser merge OUT {} ... (from this directory), or gather their cells/ \
into one directory and rerun this command there with --resume and without --shard.",
            shard.map(|s| s.to_string()).unwrap_or_default(),
            outcome.folds_computed,
            out.display(),
            outcome.incomplete_cells,
            out.display()
        );
        return Ok(());
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
