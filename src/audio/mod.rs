//! Audio front end: WAV decoding, down-mixing and resampling to 16 kHz, and
//! the LogMel features of SPEC §1.

pub mod logmel;
pub mod resample;
pub mod wav;

/// The sample rate every feature is computed at.
pub const SAMPLE_RATE: u32 = 16_000;
/// Mel bands per frame.
pub const N_MELS: usize = 80;

use crate::error::Result;
use std::path::Path;
use std::sync::OnceLock;

/// LogMel features of one utterance: `n_frames` frames of `N_MELS` natural-log
/// mel energies, frame-major.
#[derive(Clone, Debug, PartialEq)]
pub struct LogMel {
    pub n_frames: usize,
    pub data: Vec<f32>,
}

impl LogMel {
    pub fn frame(&self, i: usize) -> &[f32] {
        &self.data[i * N_MELS..(i + 1) * N_MELS]
    }
}

/// Decodes a WAV file of any supported encoding, mixes it to mono, resamples
/// it to 16 kHz and computes its LogMel features (SPEC §1). A recording
/// shorter than 512 samples at 16 kHz (32 ms) gives 0 frames.
pub fn load_logmel(path: &Path) -> Result<LogMel> {
    static EXTRACTOR: OnceLock<logmel::LogMelExtractor> = OnceLock::new();
    let extractor = EXTRACTOR.get_or_init(logmel::LogMelExtractor::new);
    let (samples, rate) = wav::read_mono(path)?;
    if rate == SAMPLE_RATE {
        Ok(extractor.compute(&samples))
    } else {
        Ok(extractor.compute(&resample::to_rate(&samples, rate, SAMPLE_RATE)))
    }
}
