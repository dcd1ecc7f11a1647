//! Audio front end: WAV decoding, down-mixing and resampling to 16 kHz, and
//! the LogMel features of SPEC §1.

pub mod logmel;
pub mod resample;
pub mod wav;

/// The sample rate every feature is computed at.
pub const SAMPLE_RATE: u32 = 16_000;
/// Mel bands per frame.
pub const N_MELS: usize = 80;
