//! A corpus made ready for cross-validation: its usable utterances with their
//! raw LogMel segments (computed once per run, shared by every table cell),
//! what had to be skipped, the checksums of the input files, and a
//! fingerprint that identifies all of it for `--resume`.

use super::manifest::{input_files, InputFile};
use super::results::{Subset, Task};
use crate::config::SegmentConfig;
use crate::corpus::{self, Corpus, CorpusKind, LoadOptions, Skipped, Utterance, EMOTIONS, LEVELS};
use crate::error::{Error, Result};
use crate::features::cache::{extract, ExtractOptions};
use crate::features::segments::segments;
use crate::sha256::Sha256;
use std::path::{Path, PathBuf};

/// Which utterances the dimensional tasks use (SPEC §5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum DimensionalUtterances {
    /// Every utterance with valence/arousal/dominance ratings, whatever its
    /// categorical label (on IEMOCAP also frustrated, surprised, xxx, ...).
    #[default]
    #[cfg_attr(feature = "cli", value(name = "all"))]
    Rated,
    /// Only the utterances of the four categorical classes.
    FourClass,
}

impl DimensionalUtterances {
    /// The value of `--dimensional-utterances` that selects it.
    pub fn name(self) -> &'static str {
        match self {
            DimensionalUtterances::Rated => "all",
            DimensionalUtterances::FourClass => "four-class",
        }
    }
}

/// The utterances of a corpus that have audio, with their raw segments.
#[derive(Clone, Debug)]
pub struct CorpusData {
    /// Lowercase corpus kind ("ravdess", "synth", ...).
    pub corpus: String,
    /// The corpus root as loaded (a manifest's folder).
    pub root: PathBuf,
    /// Only utterances whose audio gave at least one segment.
    pub utterances: Vec<Utterance>,
    /// Raw (not normalised) segments of each utterance, `[n, segment_dim]`.
    pub segments: Vec<Vec<f32>>,
    /// Files the loader or the front end could not use, with the reason.
    pub skipped: Vec<Skipped>,
    /// Well-formed utterances left out for a label outside the four classes,
    /// by that label.
    pub excluded: std::collections::BTreeMap<String, usize>,
    /// What the loader found worth saying about the corpus as a whole.
    pub warnings: Vec<String>,
    /// SHA-256 of every audio file used.
    pub inputs: Vec<InputFile>,
    /// Identifies the utterance list, its annotations and the audio bytes.
    pub fingerprint: String,
}

impl CorpusData {
    /// Loads a corpus, computes the LogMel segments of every utterance once
    /// and checksums the audio. Unusable files are skipped and listed
    /// (`strict`: the first one is an error instead).
    pub fn load(
        kind: CorpusKind,
        root: &Path,
        segments_config: &SegmentConfig,
        cache: Option<&Path>,
        strict: bool,
        progress: bool,
    ) -> Result<CorpusData> {
        let corpus = corpus::load(
            kind,
            root,
            &LoadOptions {
                strict,
                allow_outside: false,
            },
        )?;
        Self::from_corpus(kind, corpus, segments_config, cache, strict, progress)
    }

    /// As `load`, from a corpus already listed. `cache`: a LogMel cache file
    /// to reuse and update (see `features::cache`).
    pub fn from_corpus(
        kind: CorpusKind,
        corpus: Corpus,
        segments_config: &SegmentConfig,
        cache: Option<&Path>,
        strict: bool,
        progress: bool,
    ) -> Result<CorpusData> {
        let Corpus {
            root,
            utterances: all,
            mut skipped,
            excluded,
            warnings,
            rated_other: _,
        } = corpus;
        let extracted = extract(
            &all,
            &ExtractOptions {
                cache,
                strict,
                progress,
            },
        )?;
        if cache.is_some() {
            let c = &extracted.cache;
            eprintln!(
                "LogMel: {} from the cache, {} computed",
                c.reused, c.computed
            );
            for note in &c.notes {
                eprintln!("  cache: {note}");
            }
        }
        skipped.extend(extracted.skipped);
        let mut utterances = Vec::with_capacity(all.len());
        let mut segs = Vec::with_capacity(all.len());
        for (u, lm) in all.into_iter().zip(extracted.logmels) {
            let Some(lm) = lm else { continue };
            match segments(&lm, segments_config, &u.path) {
                Ok(s) => {
                    utterances.push(u);
                    segs.push(s);
                }
                Err(e) if strict => return Err(e),
                Err(e) => skipped.push(Skipped {
                    path: u.path.clone(),
                    line: None,
                    reason: e.to_string(),
                }),
            }
        }
        if utterances.is_empty() {
            return Err(Error::config(format!(
                "{}: no usable utterance ({} skipped)",
                root.display(),
                skipped.len()
            )));
        }
        let paths: Vec<PathBuf> = utterances.iter().map(|u| u.path.clone()).collect();
        let inputs = input_files(&root, &paths)?;
        let fingerprint = fingerprint(kind, &utterances, &inputs, segments_config);
        Ok(CorpusData {
            corpus: serde_name(&kind),
            root,
            utterances,
            segments: segs,
            skipped,
            excluded,
            warnings,
            inputs,
            fingerprint,
        })
    }

    /// Whether some utterances say whether they are improvised or scripted.
    pub fn has_subsets(&self) -> bool {
        self.utterances.iter().any(|u| u.improvised.is_some())
    }

    /// Whether some utterances have valence/arousal/dominance ratings.
    pub fn has_dimensions(&self) -> bool {
        self.utterances.iter().any(|u| u.vad.is_some())
    }

    /// The subsets Table 1 has rows for: all three where the corpus marks
    /// improvised and scripted sessions, else only `complete`.
    pub fn subsets(&self) -> Vec<Subset> {
        if self.has_subsets() {
            Subset::ALL.to_vec()
        } else {
            vec![Subset::Complete]
        }
    }

    /// Indices of the utterances a task and subset use, with their labels.
    pub fn select(&self, task: Task, subset: Subset) -> (Vec<usize>, Vec<usize>) {
        let mut idx = Vec::new();
        let mut labels = Vec::new();
        for (i, u) in self.utterances.iter().enumerate() {
            if !subset.contains(u.improvised) {
                continue;
            }
            if let Some(l) = task_label(u, task) {
                idx.push(i);
                labels.push(l);
            }
        }
        (idx, labels)
    }
}

/// Class names of a task, in label-index order.
pub fn label_names(task: Task) -> Vec<String> {
    let names: &[&str] = if task.is_dimensional() {
        &LEVELS
    } else {
        &EMOTIONS
    };
    names.iter().map(|s| s.to_string()).collect()
}

/// Bins a rater mean on the 1..5 scale (SPEC §5): low < 3, mid = 3, high > 3.
pub fn level(rating: f32) -> Option<usize> {
    if !rating.is_finite() {
        None
    } else if rating < 3.0 {
        Some(0)
    } else if rating == 3.0 {
        Some(1)
    } else {
        Some(2)
    }
}

/// The class of an utterance in a task, `None` when it has no such label.
pub fn task_label(u: &Utterance, task: Task) -> Option<usize> {
    match task {
        Task::Categorical => u.label,
        Task::Valence => u.vad.and_then(|v| level(v.valence)),
        Task::Arousal => u.vad.and_then(|v| level(v.arousal)),
        Task::Dominance => u.vad.and_then(|v| level(v.dominance)),
    }
}

fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{:?}", serde_json::to_value(value).ok()),
    }
}

/// SHA-256 over everything about the corpus a result depends on: the kind,
/// each utterance's annotations (paths relative to the root, so a moved
/// corpus still matches), the audio checksums and the segment settings.
fn fingerprint(
    kind: CorpusKind,
    utterances: &[Utterance],
    inputs: &[InputFile],
    segments_config: &SegmentConfig,
) -> String {
    let mut h = Sha256::new();
    let mut put = |v: serde_json::Value| {
        h.update(v.to_string().as_bytes());
        h.update(b"\n");
    };
    put(serde_json::json!({ "kind": kind, "segments": segments_config }));
    for u in utterances {
        put(serde_json::json!({
            "id": u.id,
            "label": u.label,
            "speaker": u.speaker,
            "group": u.group,
            "dialog": u.dialog,
            "improvised": u.improvised,
            "vad": u.vad,
        }));
    }
    for f in inputs {
        put(serde_json::json!({ "path": f.path, "sha256": f.sha256 }));
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Vad;

    #[test]
    fn ratings_fall_into_three_levels() {
        assert_eq!(level(1.0), Some(0));
        assert_eq!(level(2.9999), Some(0));
        assert_eq!(level(3.0), Some(1));
        assert_eq!(level(3.0001), Some(2));
        assert_eq!(level(5.0), Some(2));
        assert_eq!(level(f32::NAN), None);
    }

    #[test]
    fn task_labels_come_from_the_right_annotation() {
        let u = Utterance {
            id: "a".into(),
            path: "a.wav".into(),
            label: Some(2),
            speaker: "s".into(),
            gender: None,
            group: "g".into(),
            dialog: None,
            improvised: Some(true),
            vad: Some(Vad {
                valence: 2.5,
                arousal: 3.0,
                dominance: 4.5,
            }),
        };
        assert_eq!(task_label(&u, Task::Categorical), Some(2));
        assert_eq!(task_label(&u, Task::Valence), Some(0));
        assert_eq!(task_label(&u, Task::Arousal), Some(1));
        assert_eq!(task_label(&u, Task::Dominance), Some(2));
        let bare = Utterance { vad: None, ..u };
        assert_eq!(task_label(&bare, Task::Valence), None);
    }
}
