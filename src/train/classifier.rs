//! Training the classifier of SPEC §4: Adam over length-bucketed batches,
//! early stopping on validation UA with the best weights restored.
//!
//! Batches: each epoch the training utterances are shuffled, cut into
//! chunks of [`BUCKET_BATCHES`] batches, each chunk sorted by decreasing
//! length (ties keep the shuffled order) and cut into batches, and the
//! batches themselves are shuffled. Utterances in a batch then have similar
//! lengths (little padding), the longest first (so the LSTM's per-step
//! GEMMs skip the finished ones), while the batches still mix the corpus.
//!
//! Randomness, all from named streams keyed by (seed, fold, epoch):
//! `classifier-init` (weights, PyTorch's initialisation), `classifier-shuffle`
//! (batches of each epoch), `classifier-validation` (the stratified split,
//! one stream per class).

use super::confusion::Confusion;
use super::early_stop::{Decision, Direction, EarlyStopping};
use super::finite;
use super::history::ClassifierEpoch;
use super::log::JsonLinesLog;
use crate::backend::Backend;
use crate::config::{AdamPreset, ClassifierConfig};
use crate::error::{Error, Result};
use crate::models::classifier::{shape_for, Classifier, ClassifierShape, Sequence};
use crate::models::classifier_net::{run_all, NetWorkspace, Network};
use crate::nn::adam::Adam;
use crate::nn::params::ParamArena;
use crate::rng::stream;
use rand::seq::SliceRandom;
use std::time::Instant;

/// Batches per length-sorted chunk of an epoch.
pub const BUCKET_BATCHES: usize = 8;

/// One line of the training log.
#[derive(serde::Serialize)]
struct EpochLine<'a> {
    model: &'static str,
    #[serde(with = "crate::numbering::from_one_opt")]
    fold: Option<u32>,
    #[serde(flatten)]
    epoch: &'a ClassifierEpoch,
    seconds: f64,
}

/// Everything one classifier training run needs.
#[derive(Clone, Copy, Debug)]
pub struct ClassifierFitRequest<'a> {
    /// Sizes, learning rate, batch size and early-stopping settings.
    pub config: &'a ClassifierConfig,
    /// The training utterances; at least one.
    pub train: &'a [Sequence<'a>],
    /// Early stopping watches UA on these.
    pub validation: &'a [Sequence<'a>],
    /// Class names, in label-index order; their count is the number of classes.
    pub label_names: &'a [String],
    /// The seed of every random stream of the run.
    pub seed: u64,
    /// The held-out fold, `None` when training on the whole corpus.
    pub fold: Option<u32>,
}

/// The trained classifier (best validation UA weights) and its per-epoch history.
#[derive(Debug)]
pub struct ClassifierFit<B: Backend> {
    /// The classifier with the kept weights, on the training backend.
    pub classifier: Classifier<B>,
    /// One record per epoch run, in order.
    pub epochs: Vec<ClassifierEpoch>,
    /// Index into `epochs` of the kept weights' epoch (0-based).
    pub best_epoch: usize,
    /// Set when the kept weights predict one class for every validation
    /// utterance (see [`super::finite::degenerate_warning`]).
    pub warning: Option<String>,
}

/// Trains a classifier on backend `be`: Adam (lr from the config, default
/// betas), shuffled length-bucketed batches, one log line per epoch, early
/// stopping on validation UA (patience and maximum epochs from the config)
/// with the best epoch's weights returned.
///
/// With an empty validation set there is nothing to stop on: training runs
/// `max_epochs` epochs and keeps the last weights; the epochs' `val_*`
/// values are NaN (null in the JSON log) and `best_epoch` is the last one.
///
/// The parameters, Adam's moments and the workspace stay on the backend for
/// the whole run; each batch goes up once, and the training losses come down
/// once per epoch (one slot per batch).
pub fn fit<B: Backend>(
    be: &B,
    req: &ClassifierFitRequest<'_>,
    log: &mut JsonLinesLog,
) -> Result<ClassifierFit<B>> {
    fit_bucketed(be, req, log, BUCKET_BATCHES)
}

/// [`fit`] with `bucket_batches` batches per length-sorted chunk instead
/// of [`BUCKET_BATCHES`]; 1 sorts each batch only and 0 not at all (plain
/// shuffled batches: the reference the classifier bench compares against).
pub fn fit_bucketed<B: Backend>(
    be: &B,
    req: &ClassifierFitRequest<'_>,
    log: &mut JsonLinesLog,
    bucket_batches: usize,
) -> Result<ClassifierFit<B>> {
    let cfg = req.config;
    if req.train.is_empty() {
        return Err(Error::config(
            "the classifier needs at least one training utterance",
        ));
    }
    if cfg.batch == 0 || cfg.max_epochs == 0 {
        return Err(Error::config(
            "classifier.batch and classifier.max_epochs must be at least 1",
        ));
    }
    let first = &req.train[0];
    if first.steps == 0 || first.features.len() % first.steps != 0 {
        return Err(Error::shape(format!(
            "training utterance 0: {} feature values are not {} whole steps",
            first.features.len(),
            first.steps
        )));
    }
    let input = first.features.len() / first.steps;
    let classes = req.label_names.len();
    let shape: ClassifierShape = shape_for(cfg, input, classes);
    let net = Network::new(&shape)?;
    let max_steps = req
        .train
        .iter()
        .chain(req.validation)
        .map(|s| s.steps)
        .max()
        .unwrap_or(1)
        .max(1);
    for (part, seqs) in [("training", req.train), ("validation", req.validation)] {
        for (i, s) in seqs.iter().enumerate() {
            net.check_sequence(s, max_steps)
                .map_err(|e| Error::shape(format!("{part} utterance {i}: {e}")))?;
        }
    }

    let fold_key = req.fold.unwrap_or(u32::MAX);
    let mut host = vec![0.0f32; net.layout().len()];
    net.init(
        &mut stream(req.seed, "classifier-init", fold_key, 0),
        &mut host,
    )?;
    let mut arena = ParamArena::from_host(be, net.layout().clone(), &host)?;
    let mut adam = Adam::new(be, arena.len(), cfg.lr, AdamPreset::Default)?;
    let max_batch = cfg.batch.min(req.train.len().max(req.validation.len()));
    let mut ws = net.workspace(be, max_steps, max_batch)?;

    let batch_size = cfg.batch.min(req.train.len());
    let mut order: Vec<usize> = (0..req.train.len()).collect();
    let mut batches: Vec<std::ops::Range<usize>> = Vec::new();
    let mut batch: Vec<Sequence<'_>> = Vec::with_capacity(batch_size);
    let mut early = EarlyStopping::new(Direction::Maximize, cfg.patience);
    let mut epochs = Vec::new();
    let mut best_epoch = 0;
    // The best epoch's weights, kept on the backend.
    let mut best_params = be.alloc(arena.len())?;
    let mut have_best = false;
    let mut best_confusion: Option<Confusion> = None;
    let hint = finite::lr_hint("classifier.lr", cfg.lr);
    let n_params = arena.len();
    let mut losses = be.alloc(req.train.len().div_ceil(batch_size))?;
    let mut host_losses = vec![0f32; req.train.len().div_ceil(batch_size)];
    let fold_text = req
        .fold
        .map_or_else(|| "all".to_string(), |f| (f + 1).to_string());

    for epoch in 0..cfg.max_epochs {
        let started = Instant::now();
        let mut rng = stream(req.seed, "classifier-shuffle", fold_key, epoch as u32);
        plan_batches(
            &mut rng,
            req.train,
            batch_size,
            bucket_batches,
            &mut order,
            &mut batches,
        );
        for (step, range) in batches.iter().enumerate() {
            crate::interrupt::check()?;
            batch.clear();
            batch.extend(order[range.clone()].iter().map(|&i| req.train[i]));
            net.load_batch(be, &mut ws, &batch)?;
            net.forward(be, &arena.params, &mut ws)?;
            net.loss(be, &mut ws, be.view_mut(&mut losses, step..step + 1))?;
            arena.zero_grads(be)?;
            net.backward(be, &arena.params, &mut arena.grads, &mut ws)?;
            adam.step(be, &mut arena.params, &arena.grads)?;
        }
        let host_losses = &mut host_losses[..batches.len()];
        be.download(be.view(&losses, 0..batches.len()), host_losses)?;
        let mut loss_sum = 0f64;
        for (range, &loss) in batches.iter().zip(host_losses.iter()) {
            loss_sum += f64::from(loss) * range.len() as f64;
        }
        let place = |step| finite::Place {
            model: "classifier",
            fold: req.fold,
            epoch,
            step,
        };
        finite::check_steps(place, &[("loss", &*host_losses)], &hint)?;
        finite::check_params(&place(None), net.layout(), &arena.download(be)?, &hint)?;
        let (val_loss, confusion) = validate(be, &net, &arena.params, &mut ws, req.validation)?;
        if confusion.is_some() {
            finite::check_values(&place(None), &[("validation loss", val_loss)], &hint)?;
        }
        let record = ClassifierEpoch {
            epoch,
            train_loss: loss_sum / req.train.len() as f64,
            val_loss,
            val_wa: confusion.as_ref().map_or(f64::NAN, Confusion::wa),
            val_ua: confusion.as_ref().map_or(f64::NAN, Confusion::ua),
        };
        log.record(&EpochLine {
            model: "classifier",
            fold: req.fold,
            epoch: &record,
            seconds: started.elapsed().as_secs_f64(),
        })?;
        let ua = record.val_ua;
        epochs.push(record);
        if req.validation.is_empty() {
            best_epoch = epoch;
            continue;
        }
        match early.update(epoch, ua) {
            Decision::Improved => {
                best_epoch = epoch;
                be.copy_block(
                    1,
                    n_params,
                    be.view(&arena.params, 0..n_params),
                    n_params,
                    0,
                    be.view_mut(&mut best_params, 0..n_params),
                    n_params,
                    0,
                )?;
                have_best = true;
                best_confusion = confusion;
            }
            Decision::Continue => {}
            Decision::Stop => break,
        }
    }
    let params = if have_best {
        best_params
    } else if req.validation.is_empty() {
        arena.params
    } else {
        return Err(Error::config(format!(
            "classifier training (fold {fold_text}) diverged: no epoch gave a finite validation UA \
             (try a lower classifier.lr)"
        )));
    };
    let warning = best_confusion
        .and_then(|c| finite::degenerate_warning(c.classes, &c.counts, req.label_names));
    if let Some(w) = &warning {
        eprintln!("warning: classifier fold {fold_text}: {w}");
        log.record(&serde_json::json!({"model": "classifier", "fold": req.fold, "warning": w}))?;
    }
    Ok(ClassifierFit {
        classifier: Classifier::from_buffer(be, shape, params)?,
        epochs,
        best_epoch,
        warning,
    })
}

/// One epoch's batches (see the module documentation): `order` becomes a
/// permutation of the training indices and `batches` ranges of it, in the
/// order they are trained on.
fn plan_batches(
    rng: &mut impl rand::Rng,
    train: &[Sequence<'_>],
    batch_size: usize,
    bucket_batches: usize,
    order: &mut [usize],
    batches: &mut Vec<std::ops::Range<usize>>,
) {
    for (j, o) in order.iter_mut().enumerate() {
        *o = j;
    }
    order.shuffle(rng);
    if bucket_batches > 0 {
        for chunk in order.chunks_mut(batch_size * bucket_batches) {
            // Stable: equal lengths keep their shuffled order.
            chunk.sort_by_key(|&i| std::cmp::Reverse(train[i].steps));
        }
    }
    batches.clear();
    let n = order.len();
    batches
        .extend((0..n.div_ceil(batch_size)).map(|b| b * batch_size..((b + 1) * batch_size).min(n)));
    batches.shuffle(rng);
}

/// Mean loss and confusion matrix over the validation utterances (`None`
/// and NaN when there are none).
fn validate<B: Backend>(
    be: &B,
    net: &Network,
    params: &B::Buf,
    ws: &mut NetWorkspace<B>,
    validation: &[Sequence<'_>],
) -> Result<(f64, Option<Confusion>)> {
    if validation.is_empty() {
        return Ok((f64::NAN, None));
    }
    let k = net.shape().classes;
    let mut confusion = Confusion::new(k);
    let total = run_all(net, be, params, ws, validation, |i, probs| {
        confusion.add(validation[i].label, argmax(probs));
    })?;
    Ok((total / validation.len() as f64, Some(confusion)))
}

/// Index of the largest value (the first of equal ones; NaN never wins).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] || values[best].is_nan() {
            best = i;
        }
    }
    best
}

/// Splits utterance indices `0..labels.len()` into (train, validation),
/// each sorted, with `fraction` of each class in validation: per class, its
/// indices are shuffled by the `classifier-validation` stream of (seed,
/// fold, class) and the first `round(fraction * n)` taken, at least one and
/// never all when the class has two or more members and `fraction > 0` (a
/// class with one member stays in training).
pub fn stratified_split(
    labels: &[usize],
    fraction: f32,
    seed: u64,
    fold: Option<u32>,
) -> (Vec<usize>, Vec<usize>) {
    let fold_key = fold.unwrap_or(u32::MAX);
    let classes = labels.iter().max().map_or(0, |&m| m + 1);
    let fraction = if fraction.is_finite() {
        f64::from(fraction).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut train = Vec::with_capacity(labels.len());
    let mut val = Vec::new();
    for c in 0..classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        let n = members.len();
        let take = if fraction > 0.0 && n >= 2 {
            ((fraction * n as f64).round() as usize).clamp(1, n - 1)
        } else {
            0
        };
        members.shuffle(&mut stream(
            seed,
            "classifier-validation",
            fold_key,
            c as u32,
        ));
        val.extend_from_slice(&members[..take]);
        train.extend_from_slice(&members[take..]);
    }
    train.sort_unstable();
    val.sort_unstable();
    (train, val)
}

/// The utterances, `features[i]` holding `dim` values per step and labelled
/// `labels[i]`, as (training, validation) sequences split by
/// [`stratified_split`].
pub fn stratified_sequences<'a>(
    features: &'a [Vec<f32>],
    labels: &[usize],
    dim: usize,
    fraction: f32,
    seed: u64,
    fold: Option<u32>,
) -> (Vec<Sequence<'a>>, Vec<Sequence<'a>>) {
    let (fit_idx, val_idx) = stratified_split(labels, fraction, seed, fold);
    let sequence = |i: usize| Sequence {
        features: &features[i],
        steps: features[i].len() / dim,
        label: labels[i],
    };
    (
        fit_idx.iter().map(|&i| sequence(i)).collect(),
        val_idx.iter().map(|&i| sequence(i)).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_largest() {
        assert_eq!(argmax(&[0.1, 0.5, 0.5, 0.2]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.5, 0.2]), 1);
        assert_eq!(argmax(&[3.0]), 0);
    }

    #[test]
    fn batches_cover_every_utterance_once_with_similar_lengths() {
        let feats = vec![0.0f32; 100];
        let train: Vec<Sequence<'_>> = (0..100)
            .map(|i| Sequence {
                features: &feats[..(i % 37) + 1],
                steps: (i % 37) + 1,
                label: 0,
            })
            .collect();
        let mut order = vec![0; 100];
        let mut batches = Vec::new();
        plan_batches(
            &mut stream(1, "t", 0, 0),
            &train,
            8,
            BUCKET_BATCHES,
            &mut order,
            &mut batches,
        );
        assert_eq!(batches.len(), 13);
        let mut seen: Vec<usize> = batches
            .iter()
            .flat_map(|r| order[r.clone()].to_vec())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        for r in &batches {
            let lens: Vec<usize> = order[r.clone()].iter().map(|&i| train[i].steps).collect();
            assert!(
                lens.windows(2).all(|w| w[0] >= w[1]),
                "longest first: {lens:?}"
            );
        }
        let mut again = vec![0; 100];
        let mut batches2 = Vec::new();
        plan_batches(
            &mut stream(1, "t", 0, 0),
            &train,
            8,
            BUCKET_BATCHES,
            &mut again,
            &mut batches2,
        );
        assert_eq!((&order, &batches), (&again, &batches2));
        plan_batches(
            &mut stream(1, "t", 0, 1),
            &train,
            8,
            BUCKET_BATCHES,
            &mut again,
            &mut batches,
        );
        assert_ne!(order, again);

        // Padded steps: bucketing leaves far fewer than plain batches.
        let padding = |bucket: usize| {
            let (mut o, mut b) = (vec![0; 100], Vec::new());
            plan_batches(&mut stream(1, "t", 0, 0), &train, 8, bucket, &mut o, &mut b);
            b.iter()
                .map(|r| {
                    let lens: Vec<usize> = o[r.clone()].iter().map(|&i| train[i].steps).collect();
                    let max = lens.iter().max().unwrap();
                    lens.iter().map(|l| max - l).sum::<usize>()
                })
                .sum::<usize>()
        };
        assert!(
            3 * padding(BUCKET_BATCHES) < padding(0),
            "{} vs {}",
            padding(BUCKET_BATCHES),
            padding(0)
        );
    }
}
