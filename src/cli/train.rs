//! `vaeser train`: one model file from a whole corpus.

use super::config::ConfigArgs;
use super::run_args::{progress, CorpusArgs};
use super::seed::SeedArg;
use super::Global;
use crate::backend::Backend;
use crate::error::Result;
use crate::eval::final_model::{train_bundle, TrainRequest};
use crate::models::autoencoder::LearnerKind;
use crate::output_check::{check_output_file, OutputKind};
use std::path::PathBuf;

/// Train on a whole corpus and write one self-contained model file.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Trains a feature learner (AE, VAE or CVAE) and the LSTM classifier on \
every utterance of the corpus that has one of the four emotions (no fold is held out; the \
classifier's early stopping watches a stratified 10% of them), and writes one safetensors \
file holding the front-end settings, the segment configuration, the normalisation \
statistics, both networks and the label names: everything `vaeser predict` needs. The \
JSON-lines training logs are written next to it (MODEL.learner.jsonl, MODEL.classifier.jsonl)."
)]
pub struct Args {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Feature learner.
    #[arg(long, value_enum, value_name = "KIND")]
    pub learner: LearnerKind,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub seed: SeedArg,
    /// The model file to write (safetensors).
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
}

pub fn run<B: Backend>(args: Args, global: &Global, backend: &B) -> Result<()> {
    let config = args.config.resolve()?;
    check_output_file(
        &args.out,
        OutputKind::Checkpoint(&[crate::models::bundle::KIND]),
        global.force,
    )?;
    args.corpus.check_cache(global.force)?;
    let data = args.corpus.load(&config)?;
    let log_dir = tempdir_next_to(&args.out);
    if let Some(parent) = log_dir.parent() {
        crate::fsutil::remove_stale(parent, LOG_DIR_PREFIX);
    }
    let _temporary = crate::fsutil::Temporary::register(&log_dir);
    let trained = train_bundle(
        backend,
        &TrainRequest {
            data: &data,
            config: &config,
            kind: args.learner,
            seed: args.seed.seed,
            progress: progress(),
            log_dir: Some(&log_dir),
        },
    )
    .and_then(|bundle| bundle.save(&args.out));
    if let Err(e) = trained {
        let _ = std::fs::remove_dir_all(&log_dir);
        return Err(e);
    }
    let name = args
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    for log in ["learner.jsonl", "classifier.jsonl"] {
        let from = log_dir.join(log);
        let to = args.out.with_file_name(format!("{name}.{log}"));
        if from.exists() {
            std::fs::rename(&from, &to).map_err(|e| crate::Error::io(&to, e))?;
        }
    }
    let _ = std::fs::remove_dir(&log_dir);
    println!(
        "{}-LSTM trained on {} utterances of {}: written {}",
        args.learner.as_str().to_uppercase(),
        data.select(
            crate::eval::results::Task::Categorical,
            crate::eval::results::Subset::Complete
        )
        .0
        .len(),
        args.corpus.input.data.display(),
        args.out.display()
    );
    Ok(())
}

/// A private directory beside the model file for the logs being written.
fn tempdir_next_to(model: &std::path::Path) -> PathBuf {
    let dir = model
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    dir.join(format!("{LOG_DIR_PREFIX}{}", std::process::id()))
}

/// Name of the log directory, before the process id.
const LOG_DIR_PREFIX: &str = ".vaeser-train-logs.";
