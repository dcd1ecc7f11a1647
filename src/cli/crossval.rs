//! `vaeser crossval`: one table cell, cross-validated.

use super::config::ConfigArgs;
use super::run_args::{progress, CorpusArgs};
use super::seed::SeedArg;
use super::Global;
use crate::backend::Backend;
use crate::config::CvaeCondition;
use crate::error::{Error, Result};
use crate::eval::crossval::{CellSpec, Driver, DriverOptions};
use crate::eval::experiment::{record_timings, run_manifest};
use crate::eval::manifest::StageClock;
use crate::eval::results::{CellResult, Subset, Task};
use crate::eval::resume::{refuse_to_overwrite, stop_after_folds};
use crate::fsutil::write_atomic;
use crate::models::autoencoder::LearnerKind;
use crate::output_check::{check_output_dir, OutputKind};
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
--resume) with the folds' JSON-lines training logs, OUT/manifest.json and OUT/skipped.json."
)]
pub struct Args {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Feature learner.
    #[arg(long, value_enum, value_name = "KIND")]
    pub learner: LearnerKind,
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
    let cell_file = format!(
        "{}.json",
        CellSpec {
            model: args.learner,
            task: args.task,
            subset: args.subset,
            latent: config.learner.latent,
        }
        .id()
    );
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
    let data = clock.time("load corpus + LogMel", || args.corpus.load(&config))?;
    let spec = CellSpec {
        model: args.learner,
        task: args.task,
        subset: args.subset,
        latent: config.learner.latent,
    };
    let mut driver = Driver::new(
        backend,
        &data,
        &config,
        DriverOptions {
            seed: args.seed.seed,
            out: Some(args.out.clone()),
            resume: args.resume,
            progress: progress(),
            verbose: true,
            stop_after_folds: stop_after_folds()?,
        },
    );
    let outcome = super::interrupted::finish(
        driver.run_cell(&spec),
        &args.out,
        &data,
        &config,
        args.seed.seed,
        &args.config.describe(),
        &clock,
    )?;
    if outcome.resumed_folds > 0 {
        eprintln!(
            "{} folds taken from the interrupted run",
            outcome.resumed_folds
        );
    }
    record_timings(&mut clock, &spec.id(), &outcome.timings);
    let json = serde_json::to_string_pretty(&outcome.result)
        .map_err(|e| Error::config(format!("results do not serialise: {e}")))?;
    let result_path = args.out.join(format!("{}.json", spec.id()));
    write_atomic(&result_path, json.as_bytes())?;
    write_atomic(
        &args.out.join("skipped.json"),
        serde_json::to_string_pretty(&data.skipped)
            .unwrap_or_else(|_| "[]".into())
            .as_bytes(),
    )?;
    run_manifest(
        &data,
        &config,
        args.seed.seed,
        &args.config.describe(),
        &clock,
    )
    .write(&args.out.join("manifest.json"))?;
    print!("{}", cell_text(&outcome.result));
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
        "{}-LSTM{oracle}, {} task, {} subset, latent {}: {} folds, {} test utterances",
        cell.model,
        cell.task.name(),
        cell.subset.name(),
        cell.latent,
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
