//! A label per window of a long recording: `--window SECONDS --hop
//! SECONDS`. Windows start at 0, hop, 2 hop, ...; where they stop short of
//! the end, one more window ends exactly at the end, so every sample is
//! covered by a full-length window (never by a sliver too short to label);
//! a recording shorter than a window is one window. Each window is predicted exactly as a file
//! holding only its samples would be.

use super::samples::logmel_of;
use crate::audio::SAMPLE_RATE;
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::models::bundle::{ModelBundle, Prediction};
use std::path::Path;

/// Window length and hop, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowSpec {
    /// Window length in seconds, at least one 32 ms frame.
    pub window: f64,
    /// Seconds from one window's start to the next's; positive.
    pub hop: f64,
}

impl WindowSpec {
    /// Checks the values of `--window` and `--hop` (hop defaults to the window).
    pub fn new(window: f64, hop: Option<f64>) -> Result<WindowSpec> {
        let hop = hop.unwrap_or(window);
        // A window must hold at least one LogMel frame (32 ms) to give a label.
        let min = 512.0 / f64::from(SAMPLE_RATE);
        if !window.is_finite() || window < min {
            return Err(Error::usage(format!(
                "--window {window}: a window must be at least {min} s (one 32 ms frame)"
            )));
        }
        if !hop.is_finite() || hop * f64::from(SAMPLE_RATE) < 1.0 {
            return Err(Error::usage(format!(
                "--hop {hop}: the hop must be a positive number of seconds"
            )));
        }
        Ok(WindowSpec { window, hop })
    }

    /// The windows of `n` samples at 16 kHz, as sample ranges.
    pub fn plan(&self, n: usize) -> Vec<std::ops::Range<usize>> {
        let rate = f64::from(SAMPLE_RATE);
        let len = (self.window * rate).round() as usize;
        let hop = ((self.hop * rate).round() as usize).max(1);
        if n <= len {
            return std::iter::once(0..n).collect();
        }
        let mut out: Vec<_> = (0..=(n - len) / hop)
            .map(|k| k * hop..k * hop + len)
            .collect();
        if out.last().is_some_and(|w| w.end < n) {
            out.push(n - len..n);
        }
        out
    }
}

/// One window's prediction, with its place in the recording in seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowPrediction {
    /// Where the window starts, in seconds from the start of the recording.
    pub start: f64,
    /// Where the window ends, in seconds from the start of the recording.
    pub end: f64,
    /// The prediction for the window's samples.
    pub prediction: Prediction,
}

/// Predicts every window of mono `samples` at `sample_rate` Hz.
pub fn predict_windows<B: Backend>(
    bundle: &ModelBundle<B>,
    samples: &[f32],
    sample_rate: u32,
    spec: &WindowSpec,
    source: &Path,
) -> Result<Vec<WindowPrediction>> {
    let at_16k;
    let samples = if sample_rate == SAMPLE_RATE {
        samples
    } else {
        at_16k = crate::audio::resample::to_rate(samples, sample_rate, SAMPLE_RATE);
        &at_16k
    };
    let rate = f64::from(SAMPLE_RATE);
    spec.plan(samples.len())
        .into_iter()
        .map(|range| {
            let logmel = logmel_of(&samples[range.clone()], SAMPLE_RATE);
            Ok(WindowPrediction {
                start: range.start as f64 / rate,
                end: range.end as f64 / rate,
                prediction: bundle.predict_logmel(&logmel, source)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_recording_and_the_last_ends_at_its_end() {
        let spec = WindowSpec::new(1.0, Some(0.5)).unwrap();
        let plan = spec.plan(40_000);
        let want = [0..16_000, 8_000..24_000, 16_000..32_000, 24_000..40_000];
        assert_eq!(plan, want);
        assert_eq!(
            spec.plan(5_000),
            std::iter::once(0..5_000).collect::<Vec<_>>()
        );
        let no_overlap = WindowSpec::new(1.0, None).unwrap().plan(33_000);
        assert_eq!(no_overlap, [0..16_000, 16_000..32_000, 17_000..33_000]);
    }

    #[test]
    fn windows_and_hops_that_cannot_work_are_refused() {
        assert!(WindowSpec::new(0.01, None)
            .unwrap_err()
            .to_string()
            .contains("--window"));
        assert!(WindowSpec::new(1.0, Some(0.0))
            .unwrap_err()
            .to_string()
            .contains("--hop"));
        assert!(WindowSpec::new(f64::NAN, None).is_err());
    }
}
