//! The model loaders: a feature-learner checkpoint and a model bundle.
//! Whatever the metadata claims, loading gives a model or an error, never
//! a panic or an allocation the file's size does not justify.
#![no_main]

#[path = "scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use vaeser::backend::cpu::Cpu;
use vaeser::models::bundle::ModelBundle;
use vaeser::models::feature_learner::FeatureLearner;

fuzz_target!(|data: &[u8]| {
    let path = scratch::dir().join("m.safetensors");
    scratch::write(&path, data);
    let _ = FeatureLearner::load(&Cpu, &path, None);
    let _ = ModelBundle::load(&Cpu, &path);
});
