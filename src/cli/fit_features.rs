//! `vaeser fit-features`: trains one feature learner (AE, VAE or CVAE) on a
//! corpus, or on all of it but one cross-validation fold, and saves it as a
//! checkpoint, with a JSON-lines log of every epoch next to it.

use super::config::ConfigArgs;
use super::corpus_input::{self, CorpusArgs};
use super::seed::SeedArg;
use super::Global;
use crate::backend::Backend;
use crate::corpus::{folds, Corpus, Utterance};
use crate::error::{Error, Result};
use crate::models::autoencoder::LearnerKind;
use crate::output_check::{check_output_file, OutputKind};
use crate::train::autoencoder::{fit, EpochRecord, FitRequest};
use crate::train::log::JsonLinesLog;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Train a feature learner and save it as a checkpoint.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Trains an AE, VAE or CVAE on the 100 ms LogMel segments of a corpus's \
utterances of the four emotion classes and saves it (weights, normalisation statistics, \
configuration, seed) as a safetensors checkpoint. With --fold N it trains on every fold but \
N (folds are the corpus's groups: IEMOCAP sessions, RAVDESS actor groups, ...), so the \
checkpoint can encode fold N's utterances without having seen them; the normalisation \
statistics come from the training part only. Each epoch is logged as one JSON line in \
OUT's name with the extension .log.jsonl."
)]
pub struct Args {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Feature learner.
    #[arg(long, value_enum, value_name = "KIND")]
    pub learner: LearnerKind,
    /// Hold fold N out (train on all the others), counted from 1 as in the
    /// reports; default: train on everything.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub fold: Option<u32>,
    /// Latent size L (overrides learner.latent of the configuration).
    #[arg(long, value_name = "L")]
    pub latent: Option<usize>,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub seed: SeedArg,
    /// The checkpoint to write (safetensors).
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
}

pub fn run<B: Backend>(args: Args, global: &Global, backend: &B) -> Result<()> {
    let mut config = args.config.resolve()?;
    if let Some(latent) = args.latent {
        config.learner.latent = latent;
        config.validate()?;
    }
    check_output_file(
        &args.out,
        OutputKind::Checkpoint(&["ae", "vae", "cvae"]),
        global.force,
    )?;
    let log_path = log_path(&args.out)?;
    let corpus = args.corpus.load()?;
    // Inside the program folds count from 0 (they key the random streams).
    let fold = args.fold.map(|n| n - 1);
    let (train, held_out) = training_utterances(&corpus, fold)?;
    println!(
        "training {} on {} utterances{held_out}",
        args.learner,
        train.len()
    );

    let segments = corpus_input::segment(&train, &config.segments, args.corpus.strict)?;
    let (mut data, mut labels) = (Vec::new(), Vec::new());
    let dim = crate::features::segments::segment_dim(&config.segments);
    for (u, s) in train.iter().zip(&segments) {
        if let Some(s) = s {
            data.extend_from_slice(s);
            let label = u.label.expect("only labelled utterances are chosen");
            labels.extend(std::iter::repeat(label).take(s.len() / dim));
        }
    }
    println!(
        "{} segments of {dim} values; latent {}, hidden {:?}, at most {} epochs, batch {}, seed {}",
        labels.len(),
        config.learner.latent,
        config.learner.hidden,
        config.learner.max_epochs,
        config.learner.batch,
        args.seed.seed
    );

    let label_names = Corpus::emotion_names();
    let request = FitRequest {
        kind: args.learner,
        config: &config.learner,
        segments_config: &config.segments,
        segments: &data,
        labels: Some(&labels),
        label_names: &label_names,
        seed: args.seed.seed,
        fold,
    };
    let mut log = JsonLinesLog::to_file(&log_path);
    let started = Instant::now();
    let learner = fit(backend, &request, &mut log)?;
    let seconds = started.elapsed().as_secs_f64();
    learner.save(&args.out)?;

    let epochs: Vec<EpochRecord> = log
        .records()
        .iter()
        .map(|r| serde_json::from_value(r.clone()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::config(format!("training log record unreadable: {e}")))?;
    let last = epochs.last().expect("fit ran at least one epoch");
    let s = &learner.summary;
    let epoch_seconds: f64 = epochs.iter().map(|e| e.seconds).sum::<f64>() / epochs.len() as f64;
    println!(
        "{} epochs ({} training / {} validation segments), {:.1} s per epoch, {:.1} s in all",
        s.epochs_run, s.train_segments, s.val_segments, epoch_seconds, seconds
    );
    println!(
        "last epoch: train loss {:.3} (reconstruction {:.3}, KL {:.3}), validation \
         reconstruction {:.3}, KL {:.3}",
        last.train_loss,
        last.train_reconstruction,
        last.train_kl,
        last.val_reconstruction,
        last.val_kl
    );
    println!(
        "kept epoch {}: validation reconstruction {:.3}, KL {:.3}",
        s.best_epoch + 1,
        s.best_val_reconstruction,
        s.best_val_kl
    );
    println!("wrote {} and {}", args.out.display(), log_path.display());
    Ok(())
}

/// The training log's path: the checkpoint's with the extension `.log.jsonl`.
fn log_path(out: &Path) -> Result<PathBuf> {
    let log = out.with_extension("log.jsonl");
    if log == out {
        return Err(Error::usage(format!(
            "--out {} would be overwritten by its own training log; choose another name",
            out.display()
        )));
    }
    Ok(log)
}

/// The labelled utterances a learner trains on: all of them, or all but
/// those of `fold` (folds by group, as the categorical protocol uses). Also
/// returns a note naming the held-out fold for the summary.
fn training_utterances(corpus: &Corpus, fold: Option<u32>) -> Result<(Vec<Utterance>, String)> {
    let labelled: Vec<Utterance> = corpus
        .utterances
        .iter()
        .filter(|u| u.label.is_some())
        .cloned()
        .collect();
    if labelled.is_empty() {
        return Err(Error::data(format!(
            "{}: no utterance of the four emotion classes",
            corpus.root.display()
        )));
    }
    let Some(index) = fold else {
        return Ok((labelled, String::new()));
    };
    let all = folds::by_group(&labelled);
    let n = index + 1;
    let Some(f) = all.get(index as usize) else {
        return Err(Error::usage(format!(
            "--fold {n}: the corpus has {} folds: {}",
            all.len(),
            all.iter()
                .map(|f| format!("{} ({}, {} utterances)", f.index + 1, f.name, f.test.len()))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let note = format!(
        ", holding out fold {n} (group {}, {} utterances)",
        f.name,
        f.test.len()
    );
    let train = f
        .train(labelled.len())
        .into_iter()
        .map(|i| labelled[i].clone())
        .collect();
    Ok((train, note))
}
