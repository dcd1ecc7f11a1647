//! From LogMel frames to what the models consume: the feature cache, 100 ms
//! segments and per-fold z-score normalisation.

pub mod cache;
pub mod normalize;
pub mod npy;
pub mod segments;
