//! The final model of `vaeser train`: a feature learner and a classifier
//! trained on a whole corpus (every utterance with one of the four emotions),
//! bundled into one file.

use super::dataset::{label_names, CorpusData};
use super::results::Subset;
use crate::backend::Backend;
use crate::config::{Config, CvaeCondition};
use crate::error::{Error, Result};
use crate::models::autoencoder::LearnerKind;
use crate::models::bundle::{FrontEnd, ModelBundle};
use crate::models::feature_learner::EncodeOptions;
use crate::task::Task;
use crate::train::autoencoder::{self as learner_fit, FitRequest};
use crate::train::classifier::{
    self as classifier_fit, stratified_sequences, ClassifierFitRequest,
};
use crate::train::log::JsonLinesLog;
use std::path::Path;

/// Everything [`train_bundle`] needs.
pub struct TrainRequest<'a> {
    pub data: &'a CorpusData,
    pub config: &'a Config,
    pub kind: LearnerKind,
    pub seed: u64,
    pub progress: bool,
    /// Where the JSON-lines training logs go (`learner.jsonl`,
    /// `classifier.jsonl`); `None` keeps them in memory.
    pub log_dir: Option<&'a Path>,
}

/// Trains a feature learner and a classifier on `backend` on every
/// utterance of the corpus with a categorical label (no held-out fold; the
/// classifier's early stopping uses a stratified validation part of them).
pub fn train_bundle<B: Backend>(backend: &B, req: &TrainRequest<'_>) -> Result<ModelBundle<B>> {
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
    let log = |name: &str| match req.log_dir {
        Some(d) => JsonLinesLog::to_file(d.join(name)),
        None => JsonLinesLog::in_memory(),
    };
    let dim = crate::features::segments::segment_dim(&config.segments);
    let mut segs = Vec::new();
    let mut seg_labels = Vec::new();
    for (&i, &l) in selected.iter().zip(&labels) {
        let s = &req.data.segments[i];
        segs.extend_from_slice(s);
        seg_labels.extend(std::iter::repeat(l).take(s.len() / dim));
    }
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
            progress: req.progress,
        },
        &mut log("learner.jsonl"),
    )?;
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
            progress: req.progress,
        },
        &mut log("classifier.jsonl"),
    )?;
    Ok(ModelBundle {
        learner,
        classifier: fitted.classifier,
        labels: names,
        task,
        encode: config.learner.encode,
        corpus: req.data.corpus.clone(),
        front_end: FrontEnd::current(),
    })
}
