//! Runs a model over many inputs in parallel and hands each input's results
//! to a sink in input order, as soon as that input and all before it are
//! done: output is streamed, and it is the same whatever the thread count.

use super::inputs::Input;
use super::windows::{predict_windows, WindowPrediction, WindowSpec};
use crate::audio::wav::read_mono;
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::models::bundle::{ModelBundle, Prediction};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::mpsc;

/// What one input gave: one prediction for the whole input, one per window,
/// or the error that stopped it (as the text an error line shows).
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// One prediction for the whole recording.
    Whole(Prediction),
    /// One prediction per window, in time order.
    Windows(Vec<WindowPrediction>),
    /// The error that stopped this input, as its error line shows it.
    Failed(String),
}

/// Predicts one input (the whole file, or its windows).
pub fn predict_input<B: Backend>(
    bundle: &ModelBundle<B>,
    input: &Input,
    windows: Option<&WindowSpec>,
) -> Outcome {
    let result = match windows {
        None => bundle.predict_file(&input.path).map(Outcome::Whole),
        Some(spec) => read_mono(&input.path).and_then(|(samples, rate)| {
            predict_windows(bundle, &samples, rate, spec, &input.path).map(Outcome::Windows)
        }),
    };
    result.unwrap_or_else(|e| Outcome::Failed(e.to_string()))
}

/// Predicts every input on the rayon pool and calls `sink(index, input,
/// outcome)` in input order. Returns the number of inputs that failed; an
/// error of the sink (e.g. a closed stdout) stops the run and is returned.
pub fn predict_all<B: Backend>(
    bundle: &ModelBundle<B>,
    inputs: &[Input],
    windows: Option<&WindowSpec>,
    mut sink: impl FnMut(usize, &Input, &Outcome) -> Result<()>,
) -> Result<usize> {
    let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
    let mut failed = 0;
    let mut sink_error: Option<Error> = None;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            inputs
                .par_iter()
                .enumerate()
                .for_each_with(tx, |tx, (i, input)| {
                    // A closed receiver means the sink failed; the remaining
                    // inputs still run but their results are dropped.
                    let _ = tx.send((i, predict_input(bundle, input, windows)));
                });
        });
        let mut pending = BTreeMap::new();
        let mut next = 0;
        for (i, outcome) in rx.iter() {
            pending.insert(i, outcome);
            while let Some(outcome) = pending.remove(&next) {
                if matches!(outcome, Outcome::Failed(_)) {
                    failed += 1;
                }
                if sink_error.is_none() {
                    if let Err(e) = sink(next, &inputs[next], &outcome) {
                        sink_error = Some(e);
                    }
                }
                next += 1;
            }
            if sink_error.is_some() {
                break;
            }
        }
        drop(rx);
    });
    match sink_error {
        Some(e) => Err(e),
        None => Ok(failed),
    }
}
