//! The sizes vaeser accepts from anything a user hands it (WAV headers,
//! configuration files, model-file metadata), checked before anything is
//! allocated from them, and fallible allocation for the buffers whose size
//! follows from the data.
//!
//! A header or a metadata field costs a few bytes to write and can claim
//! anything; memory sized from it unchecked turns a 1 kB file into a 64 GB
//! request and an abort that takes every other file of a batch down with it.
//! The maxima are far above every model of the paper (widths 512, latent
//! 512, 10-frame segments) and far below what exhausts a machine.

use crate::error::{Error, Result};

/// Lowest sample rate a WAV file may have: below it, the 16 kHz resampler
/// would invent more than 16 output samples per input sample.
pub const MIN_SAMPLE_RATE: u32 = 1_000;
/// Highest sample rate a WAV file may have (the highest common studio rate).
pub const MAX_SAMPLE_RATE: u32 = 384_000;
/// Most channels a WAV file may have (wider layouts are not speech recordings).
pub const MAX_CHANNELS: u16 = 64;
/// Widest layer (autoencoder hidden, LSTM hidden, dense) a model may have.
pub const MAX_WIDTH: usize = 16_384;
/// Most hidden layers of an autoencoder, and most LSTM layers.
pub const MAX_LAYERS: usize = 16;
/// Largest latent size (SPEC §5 sweeps up to 512).
pub const MAX_LATENT: usize = 4_096;
/// Most frames in one segment (1000 frames = 10 s).
pub const MAX_SEGMENT_FRAMES: usize = 1_000;
/// Most classes or conditions.
pub const MAX_CLASSES: usize = 1_024;
/// Largest batch a configuration may ask for.
pub const MAX_BATCH: usize = 65_536;
/// Most parameters one model may have: 2^28 (1 GiB of f32; training holds
/// four times that with gradients and Adam's moments).
pub const MAX_PARAMS: usize = 1 << 28;

/// Errors unless `rate` is within [`MIN_SAMPLE_RATE`]..=[`MAX_SAMPLE_RATE`].
pub fn check_sample_rate(rate: u32) -> std::result::Result<(), String> {
    if (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        Ok(())
    } else {
        Err(format!(
            "sample rate {rate} Hz is outside the supported range {} Hz - {} Hz",
            MIN_SAMPLE_RATE, MAX_SAMPLE_RATE
        ))
    }
}

/// Errors unless `value` is within `1..=max`, naming `what`.
pub fn check_size(what: &str, value: usize, max: usize) -> std::result::Result<(), String> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!("{what} is {value}; it must be between 1 and {max}"))
    }
}

/// Parameters of a dense layer `inputs -> outputs` (weight and bias), or
/// `None` on overflow.
fn dense_params(inputs: usize, outputs: usize) -> Option<usize> {
    inputs.checked_mul(outputs)?.checked_add(outputs)
}

/// The number of parameters of an autoencoder (as its layout has them),
/// after checking every size against the maxima. `input` is the segment
/// size, `conditions` the CVAE's one-hot length (0 otherwise).
pub fn autoencoder_params(
    input: usize,
    conditions: usize,
    hidden: &[usize],
    latent: usize,
    variational: bool,
) -> std::result::Result<usize, String> {
    check_size(
        "the segment size (values per segment)",
        input,
        MAX_SEGMENT_FRAMES * crate::audio::N_MELS,
    )?;
    if conditions > MAX_CLASSES {
        return Err(format!(
            "the condition size is {conditions}; it must be at most {MAX_CLASSES}"
        ));
    }
    check_size("the number of hidden layers", hidden.len(), MAX_LAYERS)?;
    for (i, &h) in hidden.iter().enumerate() {
        check_size(&format!("hidden layer {i}'s width"), h, MAX_WIDTH)?;
    }
    check_size("the latent size", latent, MAX_LATENT)?;
    let count = || -> Option<usize> {
        let mut total = 0usize;
        let mut width = input + conditions;
        for &h in hidden {
            total = total.checked_add(dense_params(width, h)?)?;
            width = h;
        }
        let heads = if variational { 2 } else { 1 };
        total = total.checked_add(dense_params(width, latent)?.checked_mul(heads)?)?;
        let mut width = latent + conditions;
        for &h in hidden.iter().rev() {
            total = total.checked_add(dense_params(width, h)?)?;
            width = h;
        }
        total.checked_add(dense_params(width, input)?)
    };
    within_params(count())
}

/// The number of parameters of the LSTM classifier (as its layout has
/// them), after checking every size against the maxima.
pub fn classifier_params(
    input: usize,
    hidden: usize,
    layers: usize,
    dense: usize,
    classes: usize,
) -> std::result::Result<usize, String> {
    check_size(
        "the classifier's input size",
        input,
        2 * MAX_LATENT.max(MAX_WIDTH),
    )?;
    check_size("the classifier's LSTM width", hidden, MAX_WIDTH)?;
    check_size("the number of LSTM layers", layers, MAX_LAYERS)?;
    check_size("the classifier's dense width", dense, MAX_WIDTH)?;
    check_size("the number of classes", classes, MAX_CLASSES)?;
    let count = || -> Option<usize> {
        let gates = hidden.checked_mul(4)?;
        let mut total = 0usize;
        let mut width = input;
        for _ in 0..layers {
            // weight_ih, weight_hh and PyTorch's two biases.
            let layer = gates
                .checked_mul(width)?
                .checked_add(gates.checked_mul(hidden)?)?
                .checked_add(2 * gates)?;
            total = total.checked_add(layer)?;
            width = hidden;
        }
        total = total.checked_add(dense_params(hidden, dense)?)?;
        total.checked_add(dense_params(dense, classes)?)
    };
    within_params(count())
}

fn within_params(count: Option<usize>) -> std::result::Result<usize, String> {
    match count {
        Some(n) if n <= MAX_PARAMS => Ok(n),
        Some(n) => Err(format!(
            "the model would have {n} parameters; at most {MAX_PARAMS} are supported"
        )),
        None => Err(format!(
            "the model's parameter count overflows; at most {MAX_PARAMS} are supported"
        )),
    }
}

/// A zeroed buffer of `len` values whose allocation failure is an error
/// naming `what`, not an abort.
pub fn try_zeroed(len: usize, what: &str) -> Result<Vec<f32>> {
    let mut v = try_with_capacity(len, what)?;
    v.resize(len, 0.0);
    Ok(v)
}

/// An empty vector with room for `len` values; an allocation failure is an
/// error naming `what`, not an abort.
pub fn try_with_capacity<T>(len: usize, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Error::OutOfMemory(format!(
            "{what}: cannot allocate {len} values ({} bytes)",
            len.saturating_mul(std::mem::size_of::<T>())
        ))
    })?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_allocation_is_an_error_not_an_abort() {
        let err = try_zeroed(usize::MAX / 8, "test buffer").unwrap_err();
        assert!(matches!(err, Error::OutOfMemory(_)), "{err}");
        assert!(err.to_string().contains("test buffer"), "{err}");
        assert_eq!(try_zeroed(3, "small").unwrap(), vec![0.0; 3]);
    }

    #[test]
    fn parameter_counts_refuse_overflow_and_oversize() {
        assert!(autoencoder_params(800, 0, &[2_000_000_000], 128, true).is_err());
        assert!(classifier_params(256, 1_000_000_000, 2, 64, 4).is_err());
        let err = autoencoder_params(800, 0, &[16_384, 16_384, 16_384], 4096, true).unwrap_err();
        assert!(err.contains("parameters"), "{err}");
    }
}
