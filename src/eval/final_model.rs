//! The final model of `vaeser train`: a feature learner and a classifier
//! trained on a whole corpus (every utterance with one of the four emotions),
//! bundled into one file. Besides what prediction needs, the file records
//! how the classifier was trained (metadata `classifier.config` and
//! `classifier.training`), as it does for the feature learner
//! (`learner.config`, `learner.training`).

use super::dataset::{label_names, CorpusData};
use super::results::Subset;
use crate::backend::Backend;
use crate::config::{Config, CvaeCondition};
use crate::error::{Error, Result};
use crate::models::autoencoder::LearnerKind;
use crate::models::bundle::{FrontEnd, ModelBundle};
use crate::models::feature_learner::EncodeOptions;
use crate::task::Task;
use crate::train::autoencoder::EpochRecord;
use crate::train::autoencoder::{self as learner_fit, FitRequest};
use crate::train::classifier::{
    self as classifier_fit, stratified_sequences, ClassifierFitRequest,
};
use crate::train::history::{ClassifierEpoch, LearnerEpoch};
use crate::train::log::{JsonLinesLog, Observer};
use crate::train::progress::Progress;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// Everything [`train_bundle`] needs.
pub struct TrainRequest<'a> {
    /// The corpus; every utterance with one of the four emotions is used.
    pub data: &'a CorpusData,
    /// Sizes and training settings of both models.
    pub config: &'a Config,
    /// Which feature learner to train (AE, VAE or CVAE).
    pub kind: LearnerKind,
    /// Keys every random stream (initialisation, noise, shuffling, the
    /// validation split).
    pub seed: u64,
    /// Counts one step per epoch of each model, up to their maximum epochs
    /// ([`train_steps`] in all).
    pub progress: Progress,
    /// Print one line per epoch (above the progress bar).
    pub epoch_lines: bool,
    /// Where the JSON-lines training logs go (`learner.jsonl`,
    /// `classifier.jsonl`); `None` keeps them in memory.
    pub log_dir: Option<&'a Path>,
}

/// How the classifier of a model file was trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifierSummary {
    /// Epochs trained before early stopping (or the maximum) ended training.
    pub epochs_run: usize,
    /// The epoch whose weights were kept, from 1.
    pub best_epoch: usize,
    /// That epoch's numbers (validation UA, WA and loss; NaN, stored as
    /// null, without a validation part).
    pub best: ClassifierEpoch,
    /// Utterances the classifier was fitted on.
    pub train_utterances: usize,
    /// Utterances held out (stratified) for early stopping.
    pub validation_utterances: usize,
    /// Why the classifier is suspect (it predicts one class for every
    /// validation utterance); `None` when nothing is.
    pub warning: Option<String>,
}

/// A model made by [`train_bundle`], with how it was trained.
pub struct TrainedModel<B: Backend> {
    /// What prediction needs: front end, feature learner, classifier, labels.
    pub bundle: ModelBundle<B>,
    /// How the classifier's training went (metadata `classifier.training`).
    pub classifier: ClassifierSummary,
    /// The classifier's configuration (metadata `classifier.config`).
    pub classifier_config: crate::config::ClassifierConfig,
    /// Every epoch of both models, as their logs hold them.
    pub learner_epochs: Vec<LearnerEpoch>,
    /// The classifier's epochs (the learner's are in `learner_epochs`).
    pub classifier_epochs: Vec<ClassifierEpoch>,
}

impl<B: Backend> TrainedModel<B> {
    /// Writes the model file: the bundle plus its training metadata.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut ck = self.bundle.to_checkpoint()?;
        ck.set_meta("classifier.config", &self.classifier_config);
        ck.set_meta("classifier.training", &self.classifier);
        ck.save(path)
    }
}

/// Progress steps of [`train_bundle`]: the maximum epochs of both models.
pub fn train_steps(config: &Config) -> u64 {
    (config.learner.max_epochs + config.classifier.max_epochs) as u64
}

/// One line about a training-log record, for people watching the run;
/// `None` for a record that is not an epoch.
pub fn epoch_line(record: &serde_json::Value, max_epochs: usize) -> Option<String> {
    let epoch = record.get("epoch")?.as_u64()?;
    let model = record.get("model")?.as_str()?;
    let num = |k: &str| record.get(k).and_then(serde_json::Value::as_f64);
    let loss = num("train_loss").unwrap_or(f64::NAN);
    if model == "classifier" {
        let validation = match (num("val_ua"), num("val_wa"), num("val_loss")) {
            (Some(ua), Some(wa), Some(vl)) => format!(
                "validation loss {vl:.4}, UA {:.1}%, WA {:.1}%",
                100.0 * ua,
                100.0 * wa
            ),
            _ => "no validation part".to_string(),
        };
        Some(format!(
            "classifier epoch {epoch}/{max_epochs}: loss {loss:.4}, {validation}"
        ))
    } else {
        let recon = num("val_reconstruction").unwrap_or(f64::NAN);
        let kl = num("val_kl").unwrap_or(f64::NAN);
        Some(format!(
            "{} epoch {epoch}/{max_epochs}: loss {loss:.4}, validation reconstruction {recon:.4}, KL {kl:.4}",
            model.to_uppercase()
        ))
    }
}

/// Trains a feature learner and a classifier on `backend` on every
/// utterance of the corpus with a categorical label (no held-out fold; the
/// classifier's early stopping uses a stratified validation part of them).
pub fn train_bundle<B: Backend>(backend: &B, req: &TrainRequest<'_>) -> Result<TrainedModel<B>> {
    let config = req.config;
    if req.kind == LearnerKind::Cvae && config.learner.cvae_condition == CvaeCondition::Oracle {
        return Err(Error::config(
            "learner.cvae_condition = oracle needs the true label of every utterance to \
             predict, which `predict` does not have; train with the uniform condition",
        ));
    }
    let task = Task::Categorical;
    let names = label_names(task);
    let (selected, labels) = req.data.select(task, Subset::Complete);
    if selected.len() < 2 {
        return Err(Error::config(format!(
            "{}: {} utterances with an emotion label; training needs at least 2",
            req.data.root.display(),
            selected.len()
        )));
    }
    let log = |name: &str, max_epochs: usize| {
        let log = match req.log_dir {
            Some(d) => JsonLinesLog::to_file(d.join(name)),
            None => JsonLinesLog::in_memory(),
        };
        let progress = req.progress.clone();
        let lines = req.epoch_lines;
        let observer: Observer = Arc::new(move |record: &serde_json::Value| {
            if let Some(line) = epoch_line(record, max_epochs) {
                progress.inc(1);
                if lines {
                    progress.println(&line);
                }
            }
        });
        log.observed(observer)
    };
    let dim = crate::features::segments::segment_dim(&config.segments);
    let mut segs = Vec::new();
    let mut seg_labels = Vec::new();
    for (&i, &l) in selected.iter().zip(&labels) {
        let s = &req.data.segments[i];
        segs.extend_from_slice(s);
        seg_labels.extend(std::iter::repeat(l).take(s.len() / dim));
    }
    let mut learner_log = log("learner.jsonl", config.learner.max_epochs);
    let learner = learner_fit::fit(
        backend,
        &FitRequest {
            kind: req.kind,
            config: &config.learner,
            segments_config: &config.segments,
            segments: &segs,
            labels: (req.kind == LearnerKind::Cvae).then_some(&seg_labels[..]),
            label_names: &names,
            seed: req.seed,
            fold: None,
        },
        &mut learner_log,
    )?;
    let learner_epochs = learner_log
        .records()
        .iter()
        .filter_map(|r| serde_json::from_value::<EpochRecord>(r.clone()).ok())
        .map(|e| LearnerEpoch {
            epoch: e.epoch,
            train_loss: e.train_loss,
            val_recon: e.val_reconstruction,
            val_kl: e.val_kl,
        })
        .collect();
    req.progress
        .inc((config.learner.max_epochs as u64).saturating_sub(learner.summary.epochs_run as u64));
    drop(segs);
    let utterances: Vec<&[f32]> = selected
        .iter()
        .map(|&i| req.data.segments[i].as_slice())
        .collect();
    let options = EncodeOptions::from_config(&config.learner);
    let features = learner.encode_utterances(&utterances, None, &options)?;
    let fdim = learner.feature_dim(config.learner.encode);
    let (train, validation) = stratified_sequences(
        &features,
        &labels,
        fdim,
        config.classifier.validation_fraction,
        req.seed,
        None,
    );
    let fitted = classifier_fit::fit(
        backend,
        &ClassifierFitRequest {
            config: &config.classifier,
            train: &train,
            validation: &validation,
            label_names: &names,
            seed: req.seed,
            fold: None,
        },
        &mut log("classifier.jsonl", config.classifier.max_epochs),
    )?;
    req.progress
        .inc((config.classifier.max_epochs as u64).saturating_sub(fitted.epochs.len() as u64));
    let classifier_epochs = fitted.epochs.clone();
    let summary = ClassifierSummary {
        epochs_run: fitted.epochs.len(),
        best_epoch: fitted.best_epoch + 1,
        best: fitted
            .epochs
            .get(fitted.best_epoch)
            .cloned()
            .unwrap_or_default(),
        train_utterances: train.len(),
        validation_utterances: validation.len(),
        warning: fitted.warning,
    };
    Ok(TrainedModel {
        bundle: ModelBundle {
            learner,
            classifier: fitted.classifier,
            labels: names,
            task,
            encode: config.learner.encode,
            corpus: req.data.corpus.clone(),
            front_end: FrontEnd::current(),
        },
        classifier: summary,
        classifier_config: config.classifier.clone(),
        learner_epochs,
        classifier_epochs,
    })
}
