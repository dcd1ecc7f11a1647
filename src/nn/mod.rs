//! Layers, each a pair of `forward` and `backward` functions side by side,
//! written against the `Backend` trait. Parameter gradients accumulate (`+=`),
//! activation gradients overwrite.

pub mod adam;
pub mod dense;
pub mod gaussian;
pub mod init;
pub mod loss;
pub mod lstm;
pub mod params;
