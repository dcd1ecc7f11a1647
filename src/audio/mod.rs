//! Audio front end: WAV decoding, down-mixing and resampling to 16 kHz, and
//! the LogMel features of SPEC §1.

pub mod logmel;
pub mod resample;
pub mod wav;

/// The sample rate every feature is computed at.
pub const SAMPLE_RATE: u32 = 16_000;
/// Mel bands per frame.
pub const N_MELS: usize = 80;

use crate::error::{Error, Result};
use std::path::Path;
use std::sync::OnceLock;

/// LogMel features of one utterance: `n_frames` frames of `N_MELS` natural-log
/// mel energies, frame-major.
#[derive(Clone, Debug, PartialEq)]
pub struct LogMel {
    /// Number of 10 ms frames (`1 + (samples - 512) / 160` at 16 kHz).
    pub n_frames: usize,
    /// `n_frames * N_MELS` values: frame 0's bands from low to high, then
    /// frame 1's, ...
    pub data: Vec<f32>,
}

impl LogMel {
    /// The `N_MELS` bands of frame `i`.
    ///
    /// # Panics
    /// If `i >= n_frames`.
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
    let logmel = if rate == SAMPLE_RATE {
        extractor.compute(&samples)
    } else {
        let resampled = resample::try_to_rate(&samples, rate, SAMPLE_RATE)
            .map_err(|e| Error::format(path, e.to_string()))?;
        extractor.compute(&resampled)
    };
    check_finite_logmel(&logmel, path)?;
    Ok(logmel)
}

/// LogMel values are logarithms of bounded energies, so a non-finite one
/// means the decoder or the front end let something through: refuse the
/// file rather than hand the models an infinity.
pub fn check_finite_logmel(logmel: &LogMel, path: &Path) -> Result<()> {
    match logmel.data.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::format(
            path,
            format!(
                "LogMel value {} (frame {}, band {}) is not finite",
                logmel.data[i],
                i / N_MELS,
                i % N_MELS
            ),
        )),
    }
}
