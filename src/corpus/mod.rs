//! Corpora: loaders that turn a directory of audio and annotations into a
//! list of utterances with their labels and grouping information.

pub mod emodb;
pub mod folds;
pub mod iemocap;
pub mod manifest;
pub mod ravdess;
pub mod synth;

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The four categorical classes, in this order everywhere (label indices).
pub const EMOTIONS: [&str; 4] = ["neutral", "happy", "sad", "angry"];

/// The three bins of a dimensional rating (rater mean on the 1..5 scale).
pub const LEVELS: [&str; 3] = ["low", "mid", "high"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
/// The layouts [`load`] reads (SPEC §6); serialised in lowercase, as the
/// `--corpus` option spells them.
#[serde(rename_all = "lowercase")]
pub enum CorpusKind {
    /// IEMOCAP_full_release: `SessionN/sentences/wav/<dialog>/<utt>.wav` with
    /// `SessionN/dialog/EmoEvaluation/<dialog>.txt` annotations.
    Iemocap,
    /// RAVDESS speech: `Actor_NN/03-01-EE-II-SS-RR-NN.wav`.
    Ravdess,
    /// Berlin EmoDB: `SSTTTEV.wav` file names carry speaker and emotion.
    Emodb,
    /// A CSV `path,label,speaker,fold[,valence,arousal,dominance]`; the
    /// root given to [`load`] is the CSV file.
    Manifest,
    /// A corpus written by `vaeser synth`, in the IEMOCAP layout.
    Synth,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
/// A speaker's gender, where the corpus records it.
pub enum Gender {
    /// Female speaker.
    Female,
    /// Male speaker.
    Male,
}

/// Valence, arousal and dominance rater means (1..5 scale).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Vad {
    /// Valence (negative to positive).
    pub valence: f32,
    /// Arousal, also called activation (calm to excited).
    pub arousal: f32,
    /// Dominance, also called power (weak to strong).
    pub dominance: f32,
}

/// One recording and everything the protocols need to know about it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Utterance {
    /// Unique within the corpus (file stem for most corpora).
    pub id: String,
    /// The WAV file: the corpus root (a manifest's folder) joined with the
    /// file's place in the layout.
    pub path: PathBuf,
    /// Index into `EMOTIONS`, or `None` for utterances without one of the four.
    pub label: Option<usize>,
    /// The speaker, unique within the corpus (`Ses01F`, `Actor_03`, `03`);
    /// the fold unit of the dimensional protocol.
    pub speaker: String,
    /// The speaker's gender; `None` where the corpus does not say (manifests).
    pub gender: Option<Gender>,
    /// The fold group of the categorical protocol (session, actor group, ...).
    pub group: String,
    /// The IEMOCAP dialog the utterance belongs to (`Ses01F_impro01`);
    /// `None` for other corpora.
    pub dialog: Option<String>,
    /// IEMOCAP: whether the dialog is improvised (its name contains "impro")
    /// rather than scripted; `None` for other corpora.
    pub improvised: Option<bool>,
    /// Rater means, where the corpus has them (IEMOCAP, synthetic, manifests
    /// with the optional columns); the dimensional tasks bin them.
    pub vad: Option<Vad>,
}

/// Something a loader could not use, with the reason; runs go on without it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Skipped {
    /// The audio or annotation file concerned.
    pub path: PathBuf,
    /// The 1-based line of an annotation or manifest file, when the problem
    /// is one line.
    pub line: Option<usize>,
    /// What is wrong, for a person to read.
    pub reason: String,
}

impl Skipped {
    /// A skipped file (or line of it) with the reason.
    pub fn new(path: impl Into<PathBuf>, line: Option<usize>, reason: impl Into<String>) -> Self {
        Skipped {
            path: path.into(),
            line,
            reason: reason.into(),
        }
    }

    /// The error a strict run stops with.
    pub fn into_error(self) -> Error {
        Error::Format {
            path: self.path,
            line: self.line,
            message: self.reason,
        }
    }
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.reason),
            None => write!(f, "{}: {}", self.path.display(), self.reason),
        }
    }
}

/// What a loader found: the usable utterances, and an account of what it
/// left out and why.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    /// The directory the corpus was loaded from (a manifest's folder).
    pub root: PathBuf,
    /// Usable utterances, in a deterministic order (sorted file names; a
    /// manifest's row order). Unlabelled ones (`label: None`) are those of a
    /// manifest's empty labels and those [`Corpus::include_rated_other`] added.
    pub utterances: Vec<Utterance>,
    /// Files and annotation lines that could not be used (lenient loads).
    pub skipped: Vec<Skipped>,
    /// Well-formed utterances left out because their label is not one of the
    /// four classes, counted by the corpus's own label (e.g. "calm", "xxx").
    pub excluded: BTreeMap<String, usize>,
    /// The excluded utterances that have valence/arousal/dominance ratings
    /// and audio (label `None`): the dimensional tasks can use them.
    pub rated_other: Vec<Utterance>,
    /// Things the user should know that are not about one file (e.g. counts
    /// of a full release that differ from the published ones).
    pub warnings: Vec<String>,
}

impl Corpus {
    /// An empty corpus rooted at `root`.
    pub fn new(root: &Path) -> Self {
        Corpus {
            root: root.to_path_buf(),
            ..Corpus::default()
        }
    }

    /// Records something unusable: skipped in a lenient run, the run's error
    /// in a strict one.
    pub fn skip(&mut self, options: &LoadOptions, skipped: Skipped) -> Result<()> {
        if options.strict {
            Err(skipped.into_error())
        } else {
            self.skipped.push(skipped);
            Ok(())
        }
    }

    /// Moves the rated utterances of other labels into `utterances`, so
    /// that the dimensional tasks use every rated utterance (the categorical
    /// task still sees only the four classes: their label is `None`).
    pub fn include_rated_other(&mut self) {
        self.utterances.append(&mut self.rated_other);
    }

    /// Counts one well-formed utterance left out for its label (`label` is
    /// the corpus's own name for it) in [`Corpus::excluded`].
    pub fn exclude(&mut self, label: &str) {
        *self.excluded.entry(label.to_string()).or_default() += 1;
    }

    /// Utterances per label index (`EMOTIONS` order); unlabelled ones are not
    /// counted.
    pub fn label_counts(&self) -> [usize; 4] {
        let mut counts = [0; 4];
        for u in &self.utterances {
            if let Some(l) = u.label {
                counts[l] += 1;
            }
        }
        counts
    }

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
    /// Accept manifest rows whose audio lies outside the manifest's folder
    /// (after following `..` and symbolic links).
    pub allow_outside: bool,
}

/// The sorted entries of a directory, with the error naming it.
pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        paths.push(entry.map_err(|e| Error::io(dir, e))?.path());
    }
    paths.sort();
    Ok(paths)
}

pub(crate) fn is_wav(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
}

/// Loads a corpus of any kind from its root directory (for a manifest, the
/// CSV file).
pub fn load(kind: CorpusKind, root: &Path, options: &LoadOptions) -> Result<Corpus> {
    match kind {
        CorpusKind::Iemocap => iemocap::load(root, options),
        CorpusKind::Synth => iemocap::load_layout(root, options),
        CorpusKind::Ravdess => ravdess::load(root, options),
        CorpusKind::Emodb => emodb::load(root, options),
        CorpusKind::Manifest => manifest::load(root, options),
    }
}
