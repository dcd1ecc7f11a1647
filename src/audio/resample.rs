//! Owned by the front-end work; not written yet.

/// Band-limited resampling from `from` Hz to `to` Hz.
pub fn to_rate(_samples: &[f32], _from: u32, _to: u32) -> Vec<f32> {
    todo!()
}
