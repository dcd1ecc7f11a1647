//! `vaeser crossval`: one table cell, cross-validated.

use super::config::ConfigArgs;
use super::run_args::CorpusArgs;
use super::seed::SeedArg;
use super::seeds_arg::SeedsArgs;
use super::Global;
use crate::backend::Backend;
use crate::config::CvaeCondition;
use crate::error::{Error, Result};
use crate::eval::crossval::{CellSpec, Driver, DriverOptions};
use crate::eval::dataset::DimensionalUtterances;
use crate::eval::experiment::{record_timings, run_manifest};
use crate::eval::manifest::StageClock;
use crate::eval::method::{row_label, LearnerChoice, Method};
use crate::eval::results::{CellResult, Subset, Task};
use crate::eval::resume::{refuse_to_overwrite, stop_after_folds};
use crate::eval::seeds::{interval_text, CellSeeds, SeedSummary};
use crate::fsutil::write_atomic;
use crate::output_check::{check_output_dir, OutputKind};
use crate::train::progress::Progress;
use std::fmt::Write;
use std::path::PathBuf;

/// Cross-validate one feature learner + LSTM classifier on one task.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Cross-validates one cell of the paper's tables: a feature learner \
(AE, VAE or CVAE) trained per fold on that fold's training utterances, their features \
classified by the two-layer LSTM. Categorical tasks leave one group out (IEMOCAP session, \
RAVDESS actor group, EmoDB speaker, manifest fold); valence, arousal and dominance (3 classes: \
low < 3, mid = 3, high > 3) leave one speaker out. Prints WA, UA and macro F1 pooled over the \
folds and as the mean ± std of the per-fold values, and the pooled confusion matrix. Writes \
OUT/<cell>.json (every number), OUT/cells/<cell>/fold-N.json (each completed fold, for \
--resume) with the folds' JSON-lines training logs, OUT/figures/ (the confusion matrix and \
the training curves of every fold, the kept epoch marked), OUT/manifest.json and \
OUT/skipped.json. With several threads, folds run at the same time, one thread each; the \
results are the same whatever the number of threads."
)]
pub struct Args {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Feature learner (none: the classifier on the z-scored LogMel
    /// segments; majority, logreg: the baselines without the classifier).
    #[arg(long, value_enum, value_name = "KIND")]
    pub learner: LearnerChoice,
    /// What to classify.
    #[arg(long, value_enum, default_value_t = Task::Categorical)]
    pub task: Task,
    /// Utterances used (improvised / scripted exist for IEMOCAP-like corpora).
    #[arg(long, value_enum, default_value_t = Subset::Complete)]
    pub subset: Subset,
    /// Latent size L (default: learner.latent of the configuration).
    #[arg(long, value_name = "L")]
    pub latent: Option<usize>,
    /// How the CVAE is conditioned when encoding: uniform (no label
    /// information) or oracle (the true label: a label leak, for diagnosis
    /// only; results are marked "oracle labels").
    #[arg(long, value_enum, value_name = "CONDITION")]
    pub cvae_condition: Option<CvaeConditionArg>,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub seeds: SeedsArgs,
    /// Which utterances a dimensional task uses: all (every utterance with
    /// V/A/D ratings, on IEMOCAP also frustrated, surprised, xxx, ...) or
    /// four-class (only neutral, happy, sad, angry).
    #[arg(long, value_enum, value_name = "WHICH", default_value_t = DimensionalUtterances::Rated)]
    pub dimensional_utterances: DimensionalUtterances,
    /// Continue an interrupted run in OUT: completed folds are reused (the
    /// configuration, seed and corpus must be the same).
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub seed: SeedArg,
    /// Output directory.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum CvaeConditionArg {
    Uniform,
    Oracle,
}

impl From<CvaeConditionArg> for CvaeCondition {
    fn from(a: CvaeConditionArg) -> Self {
        match a {
            CvaeConditionArg::Uniform => CvaeCondition::Uniform,
            CvaeConditionArg::Oracle => CvaeCondition::Oracle,
        }
    }
}

pub fn run<B: Backend>(args: Args, global: &Global, backend: &B) -> Result<()> {
    let mut config = args.config.resolve()?;
    if let Some(l) = args.latent {
        config.learner.latent = l;
    }
    if let Some(c) = args.cvae_condition {
        config.learner.cvae_condition = c.into();
    }
    config.validate()?;
    let method = Method::from(args.learner);
    let spec = if method.has_latent() {
        CellSpec {
            model: method,
            task: args.task,
            subset: args.subset,
            latent: config.learner.latent,
        }
    } else {
        CellSpec::baseline(method, args.task, args.subset)
    };
    let cell_file = format!("{}.json", spec.id());
    let ours = [
        (cell_file.as_str(), OutputKind::Json),
        ("skipped.json", OutputKind::Json),
        ("manifest.json", OutputKind::Json),
    ];
    check_output_dir(&args.out, &ours, global.force)?;
    args.corpus.check_cache(global.force)?;
    if !args.resume {
        refuse_to_overwrite(&args.out)?;
    }
    let mut clock = StageClock::new();
    let which = if args.task.is_dimensional() {
        args.dimensional_utterances
    } else {
        DimensionalUtterances::FourClass
    };
    let data = clock.time("load corpus + LogMel", || {
        args.corpus.load_with(&config, which)
    })?;
    if args.task.is_dimensional() {
        let rated = data.utterances.iter().filter(|u| u.vad.is_some()).count();
        eprintln!(
            "{} task on {rated} rated utterances (--dimensional-utterances {})",
            args.task.name(),
            which.name()
        );
    }
    let seeds = args.seeds.resolve(args.seed.seed)?;
    let bar = {
        let driver = Driver::new(backend, &data, &config, DriverOptions::default());
        Progress::new(driver.cell_steps(&spec)? * seeds.0.len() as u64, &spec.id())
    };
    let mut runs = Vec::with_capacity(seeds.0.len());
    let mut folds_computed = 0;
    let limit = stop_after_folds()?;
    for &seed in &seeds.0 {
        let mut driver = Driver::new(
            backend,
            &data,
            &config,
            DriverOptions {
                seed,
                out: Some(args.out.clone()),
                resume: args.resume,
                progress: bar.clone(),
                fold_workers: global.fold_workers(),
                verbose: true,
                stop_after_folds: limit.map(|l| l.saturating_sub(folds_computed)),
                shard: None,
                first_job: 0,
            },
        );
        let started = std::time::Instant::now();
        let outcome = driver.run_cell(&spec);
        if outcome.is_err() {
            bar.finish();
        }
        let outcome = super::interrupted::finish(
            outcome,
            &args.out,
            &data,
            &config,
            &seeds.0,
            &args.config.describe(),
            &clock,
        )?;
        folds_computed += driver.folds_computed();
        if outcome.resumed_folds > 0 {
            eprintln!(
                "seed {seed}: {} folds taken from the interrupted run",
                outcome.resumed_folds
            );
        }
        record_timings(
            &mut clock,
            &format!("{} seed {seed}", spec.id()),
            &outcome.timings,
        );
        clock.record(
            &format!("{} seed {seed}: wall", spec.id()),
            started.elapsed().as_secs_f64(),
        );
        runs.push(outcome.result);
    }
    bar.finish();
    let json = if runs.len() == 1 {
        serde_json::to_string_pretty(&runs[0])
    } else {
        let refs: Vec<&CellResult> = runs.iter().collect();
        serde_json::to_string_pretty(&CellSeeds {
            seeds: seeds.0.clone(),
            across_seeds: SeedSummary::of(&refs)?,
            runs: runs.clone(),
        })
    }
    .map_err(|e| Error::config(format!("results do not serialise: {e}")))?;
    let result_path = args.out.join(format!("{}.json", spec.id()));
    write_atomic(&result_path, json.as_bytes())?;
    for run in &runs {
        let suffix = if runs.len() > 1 {
            format!("_seed{}", run.seed)
        } else {
            String::new()
        };
        for (name, svg) in crate::eval::report::cell_figures(run, &suffix) {
            write_atomic(&args.out.join("figures").join(name), svg.as_bytes())?;
        }
    }
    write_atomic(
        &args.out.join("skipped.json"),
        serde_json::to_string_pretty(&data.skipped)
            .unwrap_or_else(|_| "[]".into())
            .as_bytes(),
    )?;
    run_manifest(&data, &config, &seeds.0, &args.config.describe(), &clock)
        .write(&args.out.join("manifest.json"))?;
    for run in &runs {
        if runs.len() > 1 {
            println!("\nseed {}:", run.seed);
        }
        print!("{}", cell_text(run));
    }
    if runs.len() > 1 {
        let refs: Vec<&CellResult> = runs.iter().collect();
        let summary = SeedSummary::of(&refs)?;
        println!(
            "\nover {} seeds, mean [95% Student-t interval], %: WA {}  UA {}  macro F1 {}",
            runs.len(),
            interval_text(&summary.wa),
            interval_text(&summary.ua),
            interval_text(&summary.macro_f1)
        );
    }
    println!("\nwritten: {}", result_path.display());
    Ok(())
}

/// A cell's scores and pooled confusion matrix as plain text.
pub fn cell_text(cell: &CellResult) -> String {
    let s = &cell.summary;
    let mut t = String::new();
    let oracle = if cell.oracle_labels {
        " (oracle labels: label leak)"
    } else {
        ""
    };
    let _ = writeln!(
        t,
        "{}{oracle}, {} task, {} subset{}: {} folds, {} test utterances",
        row_label(&cell.model),
        cell.task.name(),
        cell.subset.name(),
        if cell.latent > 0 {
            format!(", latent {}", cell.latent)
        } else {
            String::new()
        },
        cell.folds.len(),
        s.confusion.total()
    );
    let _ = writeln!(
        t,
        "{:<10} {:>8} {:>18}",
        "metric %", "pooled", "fold mean ± std"
    );
    for (name, pooled, mean, std) in [
        ("WA", s.pooled.wa, s.mean.wa, s.std.wa),
        ("UA", s.pooled.ua, s.mean.ua, s.std.ua),
        (
            "macro F1",
            s.pooled.macro_f1,
            s.mean.macro_f1,
            s.std.macro_f1,
        ),
    ] {
        let _ = writeln!(
            t,
            "{name:<10} {:>8.1} {:>11.1} ± {:>4.1}",
            100.0 * pooled,
            100.0 * mean,
            100.0 * std
        );
    }
    let _ = writeln!(t, "\nconfusion matrix (rows: truth, columns: prediction)");
    let width = cell
        .labels
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(5)
        .max(7);
    let _ = write!(t, "{:<width$}", "");
    for l in &cell.labels {
        let _ = write!(t, " {l:>width$}");
    }
    let _ = writeln!(t);
    for (i, l) in cell.labels.iter().enumerate() {
        let _ = write!(t, "{l:<width$}");
        for j in 0..cell.labels.len() {
            let _ = write!(t, " {:>width$}", s.confusion.get(i, j));
        }
        let _ = writeln!(t);
    }
    t
}
