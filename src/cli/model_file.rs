//! Reading the files `--model` names: each command accepts the kinds it can
//! use, and a file of another kind is refused with what it is and which
//! command makes the right one, instead of a bare "unexpected kind".

use crate::backend::Backend;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::models::bundle::{self, ModelBundle};
use crate::models::feature_learner::FeatureLearner;
use std::path::Path;

use super::encode::FEATURES_KIND;
use super::paths::existing_file;

/// What a checkpoint of `kind` is, in the words of the command that made it.
pub fn describe(kind: &str) -> &'static str {
    match kind {
        "ae" | "vae" | "cvae" => "a feature learner written by `vaeser fit-features`",
        bundle::KIND => "a model file written by `vaeser train`",
        FEATURES_KIND => "a features file written by `vaeser encode`",
        _ => "a checkpoint of another kind",
    }
}

/// The model `vaeser predict` runs: a bundle from `vaeser train`.
pub fn read_bundle<B: Backend>(backend: &B, option: &str, path: &Path) -> Result<ModelBundle<B>> {
    existing_file(option, path)?;
    let ck = Checkpoint::load(path)?;
    if ck.kind() != bundle::KIND {
        return Err(Error::usage(format!(
            "{option} {}: this is {} (kind '{}'); prediction needs a model file, which \
             `vaeser train` makes",
            path.display(),
            describe(ck.kind()),
            ck.kind()
        )));
    }
    ModelBundle::from_checkpoint_owned(backend, ck)
}

/// The feature learner `vaeser encode` runs: a checkpoint from
/// `fit-features`, or the learner inside a model file from `train`.
pub fn read_learner<B: Backend>(
    backend: &B,
    option: &str,
    path: &Path,
) -> Result<FeatureLearner<B>> {
    existing_file(option, path)?;
    let ck = Checkpoint::load(path)?;
    match ck.kind() {
        "ae" | "vae" | "cvae" => FeatureLearner::load(backend, path, None),
        bundle::KIND => FeatureLearner::read_from(backend, &ck, "learner."),
        other => Err(Error::usage(format!(
            "{option} {}: this is {} (kind '{other}'); encoding needs a feature learner \
             (`vaeser fit-features`) or a model file (`vaeser train`)",
            path.display(),
            describe(other),
        ))),
    }
}
