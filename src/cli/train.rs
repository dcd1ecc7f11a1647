//! `vaeser train`: one model file from a whole corpus.

use super::config::ConfigArgs;
use super::run_args::CorpusArgs;
use super::seed::SeedArg;
use super::Global;
use crate::backend::Backend;
use crate::error::Result;
use crate::eval::final_model::{train_bundle, train_steps, TrainRequest, TrainedModel};
use crate::models::autoencoder::LearnerKind;
use crate::output_check::{check_output_file, OutputKind};
use crate::train::progress::Progress;
use std::path::PathBuf;

/// Train on a whole corpus and write one self-contained model file.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Trains a feature learner (AE, VAE or CVAE) and the LSTM classifier on \
every utterance of the corpus that has one of the four emotions (no fold is held out; the \
classifier's early stopping watches a stratified 10% of them), and writes one safetensors \
file holding the front-end settings, the segment configuration, the normalisation \
statistics, both networks and the label names: everything `vaeser predict` needs. The \
JSON-lines training logs are written next to it (MODEL.learner.jsonl, MODEL.classifier.jsonl), \
with the training curves as figures (MODEL.learner.svg, MODEL.classifier.svg). One line per \
epoch goes to stderr (training loss; validation reconstruction and KL for the learner, \
validation loss, UA and WA for the classifier; not with --quiet), then a summary; the model \
file's metadata keeps that summary and the configuration of both models."
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
    let bar = Progress::new(train_steps(&config), "training");
    let trained = train_bundle(
        backend,
        &TrainRequest {
            data: &data,
            config: &config,
            kind: args.learner,
            seed: args.seed.seed,
            progress: bar.clone(),
            epoch_lines: !crate::train::progress::quiet(),
            log_dir: Some(&log_dir),
        },
    )
    .and_then(|model| model.save(&args.out).map(|()| model));
    bar.finish();
    let model = match trained {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&log_dir);
            return Err(e);
        }
    };
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
    for (name, chart) in
        crate::eval::report::model_curves(&model, &args.learner.as_str().to_uppercase())
    {
        let to = args
            .out
            .with_file_name(format!("{}.{name}.svg", file_name(&args.out)));
        crate::fsutil::write_atomic(&to, chart.to_svg().as_bytes())?;
    }
    print!("{}", summary_text(&model));
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

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into())
}

/// The training summary printed at the end (and stored in the model file).
fn summary_text<B: Backend>(model: &TrainedModel<B>) -> String {
    let l = &model.bundle.learner.summary;
    let c = &model.classifier;
    let mut text = format!(
        "feature learner: {} epochs, best epoch {} (validation reconstruction {:.4}, KL {:.4}), \
{} training and {} validation segments\n",
        l.epochs_run,
        l.best_epoch + 1,
        l.best_val_reconstruction,
        l.best_val_kl,
        l.train_segments,
        l.val_segments
    );
    text.push_str(&format!(
        "classifier: {} epochs, best epoch {} (validation UA {:.1}%, WA {:.1}%, loss {:.4}), \
{} training and {} validation utterances\n",
        c.epochs_run,
        c.best_epoch,
        100.0 * c.best.val_ua,
        100.0 * c.best.val_wa,
        c.best.val_loss,
        c.train_utterances,
        c.validation_utterances
    ));
    if let Some(w) = &c.warning {
        text.push_str(&format!("warning: {w}\n"));
    }
    text
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
