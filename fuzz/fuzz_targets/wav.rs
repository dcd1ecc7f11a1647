//! The WAV path: decoding, down-mixing, resampling to 16 kHz and LogMel.
//! Any input must give features or an error, never a panic or an abort.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;
use vaeser::audio::logmel::LogMelExtractor;
use vaeser::audio::{check_finite_logmel, resample, wav, SAMPLE_RATE};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.wav");
    let Ok((samples, rate)) = wav::decode_mono(data, path) else {
        return;
    };
    assert!(samples.iter().all(|s| s.is_finite()), "non-finite sample accepted");
    let Ok(resampled) = resample::try_to_rate(&samples, rate, SAMPLE_RATE) else {
        return;
    };
    static EXTRACTOR: OnceLock<LogMelExtractor> = OnceLock::new();
    let logmel = EXTRACTOR.get_or_init(LogMelExtractor::new).compute(&resampled);
    assert!(check_finite_logmel(&logmel, path).is_ok(), "non-finite LogMel from accepted audio");
});
