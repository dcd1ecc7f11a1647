//! Prediction from samples in memory, for programs that have audio but no
//! WAV file: the same front end as `predict_file` (mix-down is the caller's,
//! resampling to 16 kHz, LogMel, segments), so both give the same answer.

use crate::audio::logmel::LogMelExtractor;
use crate::audio::{resample, LogMel, SAMPLE_RATE};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::features::segments::segments;
use crate::models::bundle::{ModelBundle, Prediction};
use std::path::Path;
use std::sync::OnceLock;

/// The extractor's FFT plan and filter bank are built once per process.
fn extractor() -> &'static LogMelExtractor {
    static EXTRACTOR: OnceLock<LogMelExtractor> = OnceLock::new();
    EXTRACTOR.get_or_init(LogMelExtractor::new)
}

/// LogMel features of mono `samples` at `sample_rate` Hz (resampled to
/// 16 kHz first where needed).
pub fn logmel_of(samples: &[f32], sample_rate: u32) -> LogMel {
    if sample_rate == SAMPLE_RATE {
        extractor().compute(samples)
    } else {
        extractor().compute(&resample::to_rate(samples, sample_rate, SAMPLE_RATE))
    }
}

impl<B: Backend> ModelBundle<B> {
    /// Predicts the class of mono audio at any sample rate.
    ///
    /// ```no_run
    /// # fn main() -> vaeser::Result<()> {
    /// use vaeser::backend::cpu::Cpu;
    /// use vaeser::models::bundle::ModelBundle;
    /// let model = ModelBundle::load(&Cpu, "model.safetensors".as_ref())?;
    /// let one_second_of_silence = vec![0.0f32; 48_000];
    /// let p = model.predict_samples(&one_second_of_silence, 48_000)?;
    /// println!("{} ({:.0}%)", p.label, 100.0 * p.probabilities[p.index]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn predict_samples(&self, samples: &[f32], sample_rate: u32) -> Result<Prediction> {
        if sample_rate == 0 {
            return Err(Error::usage("a sample rate of 0 Hz"));
        }
        self.predict_logmel(&logmel_of(samples, sample_rate), Path::new("<samples>"))
    }

    /// Predicts from LogMel features; `source` names them in errors.
    pub fn predict_logmel(&self, logmel: &LogMel, source: &Path) -> Result<Prediction> {
        let segs = segments(logmel, &self.learner.segments, source)?;
        let features = self
            .learner
            .encode_utterance(&segs, None, &self.encode_options())?;
        let probabilities = self
            .classifier
            .predict_proba(&[&features])?
            .pop()
            .ok_or_else(|| Error::shape("the classifier gave no prediction"))?;
        if probabilities.len() != self.labels.len() || probabilities.iter().any(|p| !p.is_finite())
        {
            return Err(Error::format(
                source,
                "the classifier gave no valid probabilities for this audio",
            ));
        }
        let mut index = 0;
        for (i, &p) in probabilities.iter().enumerate() {
            if p > probabilities[index] {
                index = i;
            }
        }
        Ok(Prediction {
            label: self.labels[index].clone(),
            index,
            probabilities,
        })
    }
}
