//! Owned by the front-end work; not written yet.
use super::LogMel;

/// Precomputed window, FFT plan and mel filterbank (SPEC §1).
pub struct LogMelExtractor {}

impl LogMelExtractor {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        todo!()
    }
    /// LogMel of 16 kHz mono samples.
    pub fn compute(&self, _samples: &[f32]) -> LogMel {
        todo!()
    }
}
