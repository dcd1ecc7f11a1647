//! Every hyper-parameter of a run, with the defaults of SPEC §2-§5. A run is
//! fully described by its configuration and seed; `vaeser config` prints the
//! defaults as TOML and `--config FILE` reads one back (missing keys keep
//! their defaults). Reading and writing TOML needs the `cli` feature; without
//! it a program builds its configuration in code, from [`Config::default`] or
//! [`Config::preset`].

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
#[cfg(feature = "cli")]
use std::path::Path;

/// The names `Config::preset` knows.
pub const PRESETS: [&str; 2] = ["spec", "quick"];

/// A run's hyper-parameters, one table per stage; [`Config::default`] is the
/// SPEC's. As TOML each field is a table (`[segments]`, `[learner]`, ...);
/// unknown keys are rejected, missing ones keep their defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How LogMel frames are cut into segments (SPEC §2).
    pub segments: SegmentConfig,
    /// The AE/VAE/CVAE feature learner and its training (SPEC §3).
    pub learner: LearnerConfig,
    /// The LSTM classifier and its training (SPEC §4).
    pub classifier: ClassifierConfig,
    /// What `reproduce` runs besides Table 1 (SPEC §5).
    pub experiment: ExperimentConfig,
}

/// How an utterance's LogMel frames become the fixed-size segments the
/// feature learner reads (SPEC §2): `frames` x 80 values each, frame-major.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentConfig {
    /// Frames per segment (10 frames of 10 ms = 100 ms).
    pub frames: usize,
    /// Hop between segments, in frames (equal to `frames`: no overlap).
    pub hop: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
/// The Adam moment decay rates the feature learner trains with (SPEC §3);
/// the classifier always uses [`AdamPreset::Default`].
#[serde(rename_all = "lowercase")]
pub enum AdamPreset {
    /// betas (0.9, 0.999), eps 1e-8.
    Default,
    /// The betas printed in the paper: (0.999, 0.99), eps 1e-8.
    Paper,
}

impl AdamPreset {
    /// (beta1, beta2): the decay rates of the first and second moment
    /// estimates.
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

/// The feature learner (AE, VAE or CVAE) and how it is trained (SPEC §3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearnerConfig {
    /// Latent size L (default 128, 1..=4096); the classifier reads 2L values
    /// per segment with [`EncodeMode::MuLogvar`], L otherwise.
    pub latent: usize,
    /// Encoder hidden widths from the input side (default `[512, 256]`); the
    /// decoder mirrors them.
    pub hidden: Vec<usize>,
    /// Adam learning rate (default 1e-3).
    #[serde(serialize_with = "shortest_f32")]
    pub lr: f32,
    /// Adam betas (default [`AdamPreset::Default`]).
    pub adam: AdamPreset,
    /// Segments per mini-batch (default 256).
    pub batch: usize,
    /// Most epochs trained (default 20).
    pub max_epochs: usize,
    /// Epochs without a lower validation reconstruction loss before training
    /// stops; the best epoch's weights are kept (default 3).
    pub patience: usize,
    /// Fraction of the training segments held out for early stopping.
    #[serde(serialize_with = "shortest_f32")]
    pub validation_fraction: f32,
    /// What each segment is encoded to for the classifier (default
    /// [`EncodeMode::MuLogvar`]).
    pub encode: EncodeMode,
    /// The condition a CVAE encodes with (default [`CvaeCondition::Uniform`]).
    pub cvae_condition: CvaeCondition,
    /// Beta: the weight of the KL term in the VAE/CVAE loss (1: the paper's
    /// loss; the AE has no KL term).
    #[serde(serialize_with = "shortest_f32")]
    pub kl_weight: f32,
}

/// The LSTM classifier and how it is trained (SPEC §4): `layers` LSTM
/// layers of `hidden` units, a ReLU dense layer of `dense` units, softmax.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifierConfig {
    /// Hidden (and cell) size of every LSTM layer (default 128).
    pub hidden: usize,
    /// Number of stacked LSTM layers (default 2).
    pub layers: usize,
    /// Width of the ReLU dense layer before the softmax (default 64).
    pub dense: usize,
    /// Adam learning rate, default betas (default 1e-3).
    #[serde(serialize_with = "shortest_f32")]
    pub lr: f32,
    /// Utterances per mini-batch (default 32).
    pub batch: usize,
    /// Most epochs trained (default 20).
    pub max_epochs: usize,
    /// Epochs without a higher validation UA before training stops; the best
    /// epoch's weights are kept (default 5).
    pub patience: usize,
    /// Fraction of the training utterances held out (stratified) for early stopping.
    #[serde(serialize_with = "shortest_f32")]
    pub validation_fraction: f32,
}

/// What `reproduce` runs besides Table 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Latent sizes of Figure 2's sweep (SPEC §5: 32, 64, 128, 256, 512).
    pub latent_sweep: Vec<usize>,
    /// Feature learners swept over the latent sizes ("ae", "vae", "cvae").
    pub sweep_models: Vec<String>,
    /// Run Table 2 (valence, arousal, dominance) where the corpus has them.
    pub dimensional: bool,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        ExperimentConfig {
            latent_sweep: vec![32, 64, 128, 256, 512],
            sweep_models: vec!["vae".into()],
            dimensional: true,
        }
    }
}

impl SegmentConfig {
    /// Errors unless frames and hop are within 1..=[`crate::limits::MAX_SEGMENT_FRAMES`].
    pub fn validate(&self) -> Result<()> {
        let max = crate::limits::MAX_SEGMENT_FRAMES;
        for (key, v) in [("segments.frames", self.frames), ("segments.hop", self.hop)] {
            crate::limits::check_size("value", v, max)
                .map_err(|m| Error::config(format!("{key}: {m}")))?;
        }
        Ok(())
    }
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
            kl_weight: 1.0,
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
    #[cfg(feature = "cli")]
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

    #[cfg(feature = "cli")]
    /// Reads a TOML file over `base`: keys the file names replace those of
    /// `base` (table by table), the others keep `base`'s values.
    pub fn load_over(base: &Config, path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let overrides: toml::Table =
            toml::from_str(&text).map_err(|e| Error::format(path, e.to_string()))?;
        let mut merged = toml::Table::try_from(base)
            .map_err(|e| Error::config(format!("configuration does not serialise: {e}")))?;
        merge_tables(&mut merged, overrides);
        let config: Config = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| Error::format(path, e.to_string()))?;
        config
            .validate()
            .map_err(|e| Error::format(path, e.to_string()))?;
        Ok(config)
    }

    /// A named starting point: `spec` (the SPEC's values) or `quick` (the
    /// demo's reduced budget: smaller networks, fewer epochs and a shorter
    /// latent sweep; the layer structure and the protocol are unchanged).
    pub fn preset(name: &str) -> Result<Config> {
        match name {
            "spec" => Ok(Config::default()),
            "quick" => {
                // The demo's budget (the whole experiment on the small
                // synthetic corpus in about a minute and a half on two
                // cores): smaller networks, fewer epochs, a shorter sweep.
                // Folds, splits and early stopping are the SPEC's.
                let mut c = Config::default();
                c.learner.latent = 64;
                c.learner.hidden = vec![256, 128];
                c.learner.batch = 128;
                c.learner.max_epochs = 4;
                c.learner.patience = 1;
                c.classifier.hidden = 64;
                c.classifier.dense = 32;
                c.classifier.lr = 3e-3;
                c.classifier.batch = 16;
                c.classifier.max_epochs = 10;
                c.classifier.patience = 3;
                c.experiment.latent_sweep = vec![16, 64, 256];
                Ok(c)
            }
            other => Err(Error::config(format!(
                "unknown preset {other:?} (known: {})",
                PRESETS.join(", ")
            ))),
        }
    }

    /// The configuration as TOML, as `--config` reads it back.
    #[cfg(feature = "cli")]
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
        let usable = |lr: f32| lr > 0.0 && lr.is_finite();
        if !(usable(self.learner.lr) && usable(self.classifier.lr)) {
            return bad("lr", "must be positive and finite");
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
        if !(self.learner.kl_weight >= 0.0 && self.learner.kl_weight.is_finite()) {
            return bad("learner.kl_weight", "must be a finite number >= 0");
        }
        if self.classifier.layers == 0 || self.classifier.hidden == 0 {
            return bad("classifier.layers/hidden", "must be at least 1");
        }
        if self.classifier.dense == 0 {
            return bad("classifier.dense", "must be at least 1");
        }
        if self.learner.max_epochs == 0 || self.classifier.max_epochs == 0 {
            return bad("max_epochs", "must be at least 1");
        }
        if let Some(l) = self
            .experiment
            .latent_sweep
            .iter()
            .find(|l| !(1..=4096).contains(*l))
        {
            return bad(
                "experiment.latent_sweep",
                &format!("{l} is not between 1 and 4096"),
            );
        }
        if let Some(m) = self
            .experiment
            .sweep_models
            .iter()
            .find(|m| !["ae", "vae", "cvae"].contains(&m.as_str()))
        {
            return bad(
                "experiment.sweep_models",
                &format!("unknown model {m:?} (ae, vae or cvae)"),
            );
        }
        self.validate_sizes()
    }
}

impl Config {
    /// Checks every size that memory is allocated from against
    /// [`crate::limits`], so an absurd value is an error naming its key
    /// before any buffer exists. Models are checked at their largest
    /// (a CVAE's conditions and the classifier reading mu and log sigma^2).
    fn validate_sizes(&self) -> Result<()> {
        use crate::limits::{self, check_size};
        fn key(k: &'static str) -> impl Fn(String) -> Error {
            move |m| Error::config(format!("{k}: {m}"))
        }
        self.segments.validate()?;
        check_size("value", self.learner.batch, limits::MAX_BATCH).map_err(key("learner.batch"))?;
        check_size("value", self.classifier.batch, limits::MAX_BATCH)
            .map_err(key("classifier.batch"))?;
        let input = self.segments.frames * crate::audio::N_MELS;
        let classes = 4;
        let latents = std::iter::once(self.learner.latent)
            .chain(self.experiment.latent_sweep.iter().copied());
        for latent in latents {
            limits::autoencoder_params(input, classes, &self.learner.hidden, latent, true)
                .map_err(key("learner.hidden/latent"))?;
            limits::classifier_params(
                2 * latent,
                self.classifier.hidden,
                self.classifier.layers,
                self.classifier.dense,
                classes,
            )
            .map_err(key("classifier.hidden/layers/dense"))?;
        }
        Ok(())
    }
}

/// Writes an f32 as the shortest decimal that reads back to it (0.001, not
/// 0.0010000000474974513), so printed configurations read like the SPEC.
fn shortest_f32<S: serde::Serializer>(v: &f32, s: S) -> std::result::Result<S::Ok, S::Error> {
    let shortest: f64 = v.to_string().parse().unwrap_or(f64::from(*v));
    s.serialize_f64(shortest)
}

#[cfg(feature = "cli")]
fn merge_tables(base: &mut toml::Table, overrides: toml::Table) {
    for (key, value) in overrides {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

#[cfg(all(test, feature = "cli"))]
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

    #[test]
    fn file_over_preset_replaces_only_named_keys() {
        let dir = std::env::temp_dir().join(format!("vaeser-config-{}", std::process::id()));
        let path = dir.join("c.toml");
        crate::fsutil::write_atomic(&path, b"[classifier]\nhidden = 32\n").unwrap();
        let quick = Config::preset("quick").unwrap();
        let c = Config::load_over(&quick, &path).unwrap();
        assert_eq!(c.classifier.hidden, 32);
        assert_eq!(c.classifier.max_epochs, quick.classifier.max_epochs);
        assert_eq!(c.learner, quick.learner);
        crate::fsutil::write_atomic(&path, b"[classifier]\nhiden = 32\n").unwrap();
        let err = Config::load_over(&quick, &path).unwrap_err().to_string();
        assert!(err.contains("c.toml") && err.contains("hiden"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(Config::preset("fast").is_err());
    }
}
