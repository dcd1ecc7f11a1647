//! Every hyper-parameter of a run, with the defaults of SPEC §2-§5. A run is
//! fully described by its configuration and seed; `vaeser config` prints the
//! defaults as TOML and `--config FILE` reads one back (missing keys keep
//! their defaults).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub segments: SegmentConfig,
    pub learner: LearnerConfig,
    pub classifier: ClassifierConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentConfig {
    /// Frames per segment (10 frames of 10 ms = 100 ms).
    pub frames: usize,
    /// Hop between segments, in frames (equal to `frames`: no overlap).
    pub hop: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdamPreset {
    /// betas (0.9, 0.999), eps 1e-8.
    Default,
    /// The betas printed in the paper: (0.999, 0.99), eps 1e-8.
    Paper,
}

impl AdamPreset {
    pub fn betas(self) -> (f32, f32) {
        match self {
            AdamPreset::Default => (0.9, 0.999),
            AdamPreset::Paper => (0.999, 0.99),
        }
    }
}

/// What a feature learner hands the classifier for each segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncodeMode {
    /// mu and log sigma^2 concatenated (2L values): the default.
    MuLogvar,
    /// mu only (L values).
    Mu,
    /// One sample z (L values).
    Sample,
}

/// How the CVAE is conditioned when encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CvaeCondition {
    /// 1/K in every label slot: no label information reaches the features.
    Uniform,
    /// The true label (diagnostic only: a label leak, marked in every report).
    Oracle,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearnerConfig {
    pub latent: usize,
    pub hidden: Vec<usize>,
    pub lr: f32,
    pub adam: AdamPreset,
    pub batch: usize,
    pub max_epochs: usize,
    pub patience: usize,
    /// Fraction of the training segments held out for early stopping.
    pub validation_fraction: f32,
    pub encode: EncodeMode,
    pub cvae_condition: CvaeCondition,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifierConfig {
    pub hidden: usize,
    pub layers: usize,
    pub dense: usize,
    pub lr: f32,
    pub batch: usize,
    pub max_epochs: usize,
    pub patience: usize,
    /// Fraction of the training utterances held out (stratified) for early stopping.
    pub validation_fraction: f32,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        SegmentConfig {
            frames: 10,
            hop: 10,
        }
    }
}

impl Default for LearnerConfig {
    fn default() -> Self {
        LearnerConfig {
            latent: 128,
            hidden: vec![512, 256],
            lr: 1e-3,
            adam: AdamPreset::Default,
            batch: 256,
            max_epochs: 20,
            patience: 3,
            validation_fraction: 0.1,
            encode: EncodeMode::MuLogvar,
            cvae_condition: CvaeCondition::Uniform,
        }
    }
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            hidden: 128,
            layers: 2,
            dense: 64,
            lr: 1e-3,
            batch: 32,
            max_epochs: 20,
            patience: 5,
            validation_fraction: 0.1,
        }
    }
}

impl Config {
    /// Reads a TOML configuration; keys it does not name keep their defaults.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let config: Config =
            toml::from_str(&text).map_err(|e| Error::format(path, e.to_string()))?;
        config
            .validate()
            .map_err(|e| Error::format(path, e.to_string()))?;
        Ok(config)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("configuration serialises")
    }

    /// Rejects values no run can use, with the key in the message.
    pub fn validate(&self) -> Result<()> {
        let bad = |key: &str, why: &str| Err(Error::config(format!("{key}: {why}")));
        if self.segments.frames == 0 || self.segments.hop == 0 {
            return bad("segments.frames/hop", "must be at least 1");
        }
        if !(1..=4096).contains(&self.learner.latent) {
            return bad("learner.latent", "must be between 1 and 4096");
        }
        if self.learner.batch == 0 || self.classifier.batch == 0 {
            return bad("batch", "must be at least 1");
        }
        if !(self.learner.lr > 0.0 && self.classifier.lr > 0.0) {
            return bad("lr", "must be positive");
        }
        for (key, f) in [
            (
                "learner.validation_fraction",
                self.learner.validation_fraction,
            ),
            (
                "classifier.validation_fraction",
                self.classifier.validation_fraction,
            ),
        ] {
            if !(0.0..1.0).contains(&f) {
                return bad(key, "must be in [0, 1)");
            }
        }
        if self.classifier.layers == 0 || self.classifier.hidden == 0 {
            return bad("classifier.layers/hidden", "must be at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml() {
        let c = Config::default();
        let back: Config = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(c, back);
    }

    #[test]
    fn partial_file_keeps_defaults_and_unknown_keys_are_rejected() {
        let c: Config = toml::from_str("[learner]\nlatent = 32\n").unwrap();
        assert_eq!(c.learner.latent, 32);
        assert_eq!(c.classifier, ClassifierConfig::default());
        assert!(toml::from_str::<Config>("[learner]\nlatnet = 32\n").is_err());
    }
}
