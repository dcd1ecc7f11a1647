//! Owned by the front-end work; not written yet.
use crate::error::Result;
use std::path::Path;

/// Decodes a WAV file and averages its channels; returns samples in [-1, 1]
/// and the sample rate.
pub fn read_mono(_path: &Path) -> Result<(Vec<f32>, u32)> {
    todo!()
}
