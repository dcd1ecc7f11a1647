//! Corpora: loaders that turn a directory of audio and annotations into a
//! list of utterances with their labels and grouping information.

pub mod emodb;
pub mod folds;
pub mod iemocap;
pub mod manifest;
pub mod ravdess;
pub mod synth;

use crate::error::Result;
use std::path::{Path, PathBuf};

/// The four categorical classes, in this order everywhere (label indices).
pub const EMOTIONS: [&str; 4] = ["neutral", "happy", "sad", "angry"];

/// The three bins of a dimensional rating (rater mean on the 1..5 scale).
pub const LEVELS: [&str; 3] = ["low", "mid", "high"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CorpusKind {
    Iemocap,
    Ravdess,
    Emodb,
    Manifest,
    /// A corpus written by `vaeser synth`, in the IEMOCAP layout.
    Synth,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Gender {
    Female,
    Male,
}

/// Valence, arousal and dominance rater means (1..5 scale).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Vad {
    pub valence: f32,
    pub arousal: f32,
    pub dominance: f32,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Utterance {
    /// Unique within the corpus (file stem for most corpora).
    pub id: String,
    pub path: PathBuf,
    /// Index into `EMOTIONS`, or `None` for utterances without one of the four.
    pub label: Option<usize>,
    pub speaker: String,
    pub gender: Option<Gender>,
    /// The fold group of the categorical protocol (session, actor group, ...).
    pub group: String,
    pub dialog: Option<String>,
    pub improvised: Option<bool>,
    pub vad: Option<Vad>,
}

/// Something a loader could not use, with the reason; runs go on without it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub reason: String,
}

#[derive(Clone, Debug, Default)]
pub struct Corpus {
    pub root: PathBuf,
    pub utterances: Vec<Utterance>,
    pub skipped: Vec<Skipped>,
}

impl Corpus {
    /// Label names of the categorical task, in label-index order.
    pub fn emotion_names() -> Vec<String> {
        EMOTIONS.iter().map(|s| s.to_string()).collect()
    }
}

/// How strictly a loader treats what it cannot use.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Make the first unusable file or annotation line fatal instead of
    /// skipping it and reporting it at the end.
    pub strict: bool,
}

/// Loads a corpus of any kind from its root directory (for a manifest, the
/// CSV file).
pub fn load(kind: CorpusKind, root: &Path, options: &LoadOptions) -> Result<Corpus> {
    match kind {
        CorpusKind::Iemocap | CorpusKind::Synth => iemocap::load(root, options),
        CorpusKind::Ravdess => ravdess::load(root, options),
        CorpusKind::Emodb => emodb::load(root, options),
        CorpusKind::Manifest => manifest::load(root, options),
    }
}
