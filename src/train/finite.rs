//! Guards that stop a training run at the first non-finite value, naming
//! where it appeared, and the check for a classifier that answers one class
//! for everything.
//!
//! A NaN does not announce itself: ReLU turns it into 0, an argmax over NaN
//! probabilities still picks a class, and early stopping that watches one
//! loss term never sees a NaN in another. So every loss the loops already
//! hold on the host is checked at each step, and the parameters (downloaded
//! once per epoch, where the loops download them anyway for early stopping)
//! tensor by tensor. A non-finite gradient shows up as a non-finite
//! parameter after the Adam step that applied it, at the latest at the end
//! of that epoch; no per-step download is added for it.

use crate::error::{Error, Result};
use crate::nn::params::ParamLayout;

/// Where in a training run a value was seen.
#[derive(Clone, Copy, Debug)]
pub struct Place<'a> {
    /// "vae", "classifier", ...
    pub model: &'a str,
    /// The held-out fold (0-based), `None` when training on the whole corpus.
    pub fold: Option<u32>,
    /// 0-based, as in the logs.
    pub epoch: usize,
    /// 0-based batch index in the epoch; `None` at the end of an epoch.
    pub step: Option<usize>,
}

impl std::fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} training", self.model)?;
        match self.fold {
            Some(k) => write!(f, " (fold {k})")?,
            None => write!(f, " (all data)")?,
        }
        write!(f, ", epoch {}", self.epoch)?;
        match self.step {
            Some(s) => write!(f, ", step {s}"),
            None => write!(f, ", end of epoch"),
        }
    }
}

/// Errors unless every named value is finite.
pub fn check_values(place: &Place<'_>, values: &[(&str, f64)], hint: &str) -> Result<()> {
    match values.iter().find(|(_, v)| !v.is_finite()) {
        None => Ok(()),
        Some((name, v)) => Err(Error::Diverged(format!(
            "{place}: {name} is {v}{hint}; nothing was written"
        ))),
    }
}

/// Errors unless every per-step value is finite, naming the first step
/// (in training order) and the value that is not; `values` pairs a name
/// with one value per step.
pub fn check_steps<'a>(
    place: impl Fn(Option<usize>) -> Place<'a>,
    values: &[(&str, &[f32])],
    hint: &str,
) -> Result<()> {
    let steps = values.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    for step in 0..steps {
        for (name, v) in values {
            if let Some(x) = v.get(step).filter(|x| !x.is_finite()) {
                return Err(Error::Diverged(format!(
                    "{}: {name} is {x}{hint}; nothing was written",
                    place(Some(step))
                )));
            }
        }
    }
    Ok(())
}

/// Errors unless every parameter is finite, naming the first tensor that
/// is not (by its PyTorch name) and the index in it.
pub fn check_params(
    place: &Place<'_>,
    layout: &ParamLayout,
    params: &[f32],
    hint: &str,
) -> Result<()> {
    for e in layout.entries() {
        let values = &params[e.range.clone()];
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::Diverged(format!(
                "{place}: parameter tensor '{}' holds {} at index {i}{hint}; nothing was written",
                e.name, values[i]
            )));
        }
    }
    Ok(())
}

/// The hint every divergence message ends with.
pub fn lr_hint(key: &str, lr: f32) -> String {
    format!(" (learning rate {lr:e}; try a lower {key})")
}

/// A warning when the classifier predicted a single class for every
/// validation utterance while several classes were there to be found:
/// its UA is then 1/K whatever its "improvement", and the numbers it gives
/// say nothing about the features.
pub fn degenerate_warning(
    classes: usize,
    counts: &[u64],
    label_names: &[String],
) -> Option<String> {
    // `counts` is a confusion matrix, row-major [truth][prediction].
    let count = |t: usize, p: usize| counts[t * classes + p];
    let predicted: Vec<usize> = (0..classes)
        .filter(|&p| (0..classes).any(|t| count(t, p) > 0))
        .collect();
    let present = (0..classes)
        .filter(|&t| (0..classes).any(|p| count(t, p) > 0))
        .count();
    let total: u64 = counts.iter().sum();
    match predicted.as_slice() {
        [only] if present > 1 => Some(format!(
            "degenerate classifier: it predicts '{}' for all {total} validation utterances \
             ({present} classes present)",
            label_names
                .get(*only)
                .map_or_else(|| only.to_string(), Clone::clone),
        )),
        _ => None,
    }
}
