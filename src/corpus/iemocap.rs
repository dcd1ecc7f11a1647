//! IEMOCAP loader (SPEC §5, §6), also used for the synthetic corpus, which is
//! written in the same layout:
//!
//! ```text
//! SessionN/dialog/EmoEvaluation/<dialog>.txt     annotations of one dialog
//! SessionN/sentences/wav/<dialog>/<utt>.wav      audio of one utterance
//! ```
//!
//! An annotation file holds a header line starting with `%`, blank lines,
//! one line per utterance
//! `[start - end]<TAB><utt><TAB><label><TAB>[V, A, D]` (e.g.
//! `[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]`),
//! each followed by the individual evaluators' lines (`C-E2:\tNeutral;\t()`,
//! `A-E3:\tval 3; act 2; dom  2;\t()`), which are not used: the utterance
//! line already holds the label and the rater means.

use super::{sorted_entries, Corpus, Gender, LoadOptions, Skipped, Utterance, Vad};
use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Labels of the annotation files that are not among the four classes.
const OTHER_LABELS: [&str; 6] = ["fru", "sur", "fea", "dis", "oth", "xxx"];

/// SPEC §5's counts of the full release: complete (neutral, happy + excited,
/// sad, angry) and improvised.
const RELEASE_COUNTS: [usize; 4] = [1708, 1636, 1084, 1103];
const RELEASE_IMPROVISED: usize = 2943;
const RELEASE_SESSIONS: usize = 5;

/// Loads an IEMOCAP release; when all five sessions are present, counts that
/// differ from SPEC §5 are reported in `Corpus::warnings`.
pub fn load(root: &Path, options: &LoadOptions) -> Result<Corpus> {
    let (mut corpus, sessions) = load_sessions(root, options)?;
    if sessions.len() == RELEASE_SESSIONS
        && sessions.iter().copied().eq(1..=RELEASE_SESSIONS as u32)
    {
        corpus.warnings.extend(release_count_differences(&corpus));
    }
    Ok(corpus)
}

/// Loads a corpus in the IEMOCAP layout that is not the release itself (the
/// synthetic corpus), so its counts are not compared with the release's.
pub fn load_layout(root: &Path, options: &LoadOptions) -> Result<Corpus> {
    Ok(load_sessions(root, options)?.0)
}

fn load_sessions(root: &Path, options: &LoadOptions) -> Result<(Corpus, BTreeSet<u32>)> {
    let mut corpus = Corpus::new(root);
    let mut sessions = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for dir in sorted_entries(root)? {
        let Some(session) = session_of_dir(&dir) else {
            continue;
        };
        sessions.insert(session);
        let evaluations = dir.join("dialog").join("EmoEvaluation");
        if !evaluations.is_dir() {
            corpus.skip(
                options,
                Skipped::new(&evaluations, None, "annotation directory is missing"),
            )?;
            continue;
        }
        for file in sorted_entries(&evaluations)? {
            let is_annotation = file.extension().is_some_and(|e| e == "txt")
                && file.is_file()
                && !file
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if is_annotation {
                load_annotation_file(&mut corpus, &mut seen, &dir, session, &file, options)?;
            }
        }
    }
    if sessions.is_empty() {
        return Err(Error::format(
            root,
            "no SessionN directories: not a corpus in the IEMOCAP layout",
        ));
    }
    Ok((corpus, sessions))
}

fn session_of_dir(dir: &Path) -> Option<u32> {
    let name = dir.file_name()?.to_str()?;
    let digits = name.strip_prefix("Session")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || !dir.is_dir() {
        return None;
    }
    digits.parse().ok()
}

fn load_annotation_file(
    corpus: &mut Corpus,
    seen: &mut BTreeSet<String>,
    session_dir: &Path,
    session: u32,
    file: &Path,
    options: &LoadOptions,
) -> Result<()> {
    let text = match std::fs::read(file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                return corpus.skip(options, Skipped::new(file, None, "not a UTF-8 text file"))
            }
        },
        Err(e) => {
            return corpus.skip(
                options,
                Skipped::new(file, None, format!("unreadable: {e}")),
            )
        }
    };
    let file_dialog = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim_end_matches('\r');
        let at_line = |reason: String| Skipped::new(file, Some(line_no), reason);
        if line.trim().is_empty() || line.starts_with('%') || is_evaluator_line(line) {
            continue;
        }
        let entry = match parse_utterance_line(line) {
            Ok(entry) => entry,
            Err(reason) => {
                corpus.skip(options, at_line(reason))?;
                continue;
            }
        };
        if let Err(reason) = entry.check_place(session, file_dialog) {
            corpus.skip(options, at_line(reason))?;
            continue;
        }
        if !seen.insert(entry.name.clone()) {
            corpus.skip(
                options,
                at_line(format!("utterance {} is annotated twice", entry.name)),
            )?;
            continue;
        }
        let label = match entry.label.as_str() {
            "neu" => Some(0),
            "hap" | "exc" => Some(1),
            "sad" => Some(2),
            "ang" => Some(3),
            other if OTHER_LABELS.contains(&other) => {
                corpus.exclude(other);
                None
            }
            other => {
                corpus.skip(options, at_line(format!("unknown label '{other}'")))?;
                continue;
            }
        };
        let wav = session_dir
            .join("sentences")
            .join("wav")
            .join(&entry.dialog)
            .join(format!("{}.wav", entry.name));
        if label.is_none() {
            // Kept aside for the dimensional tasks; a missing file of a label
            // the categorical task does not use is not worth a report.
            if wav.is_file() {
                corpus.rated_other.push(entry.into_utterance(None, wav));
            }
            continue;
        }
        if !wav.is_file() {
            corpus.skip(
                options,
                Skipped::new(
                    &wav,
                    None,
                    format!(
                        "audio file is missing (utterance annotated at {}:{line_no})",
                        file.display()
                    ),
                ),
            )?;
            continue;
        }
        corpus.utterances.push(entry.into_utterance(label, wav));
    }
    Ok(())
}

/// `C-E2:\tNeutral;\t()`, `A-F1:\tval 3; act 2; dom  2;\t()`: an evaluator
/// code of letters and digits around one dash, then a colon.
fn is_evaluator_line(line: &str) -> bool {
    let Some((code, _)) = line.split_once(':') else {
        return false;
    };
    let Some((kind, who)) = code.split_once('-') else {
        return false;
    };
    !kind.is_empty()
        && !who.is_empty()
        && kind.bytes().all(|b| b.is_ascii_alphabetic())
        && who.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// One utterance line, parsed.
#[derive(Debug)]
struct Entry {
    name: String,
    dialog: String,
    session: u32,
    speaker_letter: char,
    label: String,
    vad: Vad,
}

fn parse_utterance_line(line: &str) -> std::result::Result<Entry, String> {
    // The release separates the fields with tabs; copies that turned them
    // into spaces are read too, the two bracketed fields being delimited by
    // their brackets.
    let malformed = || {
        "malformed line: expected '[start - end]<TAB>utterance<TAB>label<TAB>[V, A, D]'".to_string()
    };
    let line = line.trim();
    let times_end = line.find(']').ok_or_else(malformed)? + 1;
    let (times, rest) = line.split_at(times_end);
    let vad_start = rest.find('[').ok_or_else(malformed)?;
    let (middle, vad) = rest.split_at(vad_start);
    let [name, label] = middle.split_whitespace().collect::<Vec<_>>()[..] else {
        return Err(format!(
            "{}, found '{}' between the time span and the ratings",
            malformed(),
            middle.trim()
        ));
    };
    parse_times(times)?;
    let (dialog, last) = name
        .rsplit_once('_')
        .ok_or_else(|| format!("malformed utterance name '{name}': no '_'"))?;
    let session = name
        .strip_prefix("Ses")
        .and_then(|s| s.get(..2))
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u32>().ok())
        .ok_or_else(|| {
            format!("malformed utterance name '{name}': it does not start with SesNN")
        })?;
    let speaker_letter = last
        .chars()
        .next()
        .filter(|c| *c == 'M' || *c == 'F')
        .ok_or_else(|| {
            format!("malformed utterance name '{name}': its last field does not start with M or F")
        })?;
    if label.is_empty() || !label.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!("malformed label '{label}'"));
    }
    Ok(Entry {
        name: name.to_string(),
        dialog: dialog.to_string(),
        session,
        speaker_letter,
        label: label.to_string(),
        vad: parse_vad(vad)?,
    })
}

fn parse_times(field: &str) -> std::result::Result<(f64, f64), String> {
    let bad = || format!("malformed time span '{field}': expected '[start - end]'");
    let inner = field
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(bad)?;
    let (start, end) = inner.split_once(" - ").ok_or_else(bad)?;
    let start: f64 = start.trim().parse().map_err(|_| bad())?;
    let end: f64 = end.trim().parse().map_err(|_| bad())?;
    if !(start.is_finite() && end.is_finite() && start <= end) {
        return Err(bad());
    }
    Ok((start, end))
}

fn parse_vad(field: &str) -> std::result::Result<Vad, String> {
    let bad = || format!("malformed rating '{field}': expected '[V, A, D]' with three numbers");
    let inner = field
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(bad)?;
    let values: Vec<f32> = inner
        .split(',')
        .map(|v| v.trim().parse::<f32>().ok().filter(|x| x.is_finite()))
        .collect::<Option<Vec<f32>>>()
        .ok_or_else(bad)?;
    let [valence, arousal, dominance] = values[..] else {
        return Err(bad());
    };
    Ok(Vad {
        valence,
        arousal,
        dominance,
    })
}

impl Entry {
    /// The utterance must belong to the session directory and the dialog
    /// file it is annotated in, or its audio would be looked for elsewhere.
    fn check_place(&self, session: u32, file_dialog: &str) -> std::result::Result<(), String> {
        if self.session != session {
            return Err(format!(
                "utterance {} of session {} is annotated in Session{session}",
                self.name, self.session
            ));
        }
        if self.dialog != file_dialog {
            return Err(format!(
                "utterance {} belongs to dialog {}, not to this file's dialog {file_dialog}",
                self.name, self.dialog
            ));
        }
        Ok(())
    }

    fn into_utterance(self, label: Option<usize>, path: PathBuf) -> Utterance {
        Utterance {
            speaker: format!("Ses{:02}{}", self.session, self.speaker_letter),
            gender: Some(if self.speaker_letter == 'M' {
                Gender::Male
            } else {
                Gender::Female
            }),
            group: format!("Session{}", self.session),
            improvised: Some(self.dialog.contains("impro")),
            dialog: Some(self.dialog),
            vad: Some(self.vad),
            label,
            path,
            id: self.name,
        }
    }
}

fn release_count_differences(corpus: &Corpus) -> Vec<String> {
    let counts = corpus.label_counts();
    let total: usize = counts.iter().sum();
    let improvised = corpus
        .utterances
        .iter()
        .filter(|u| u.improvised == Some(true))
        .count();
    let expected_total: usize = RELEASE_COUNTS.iter().sum();
    let mut warnings = Vec::new();
    if counts != RELEASE_COUNTS {
        warnings.push(format!(
            "{}: the complete set has {total} utterances (neutral {}, happy+excited {}, sad {}, angry {}), \
             SPEC §5 expects {expected_total} ({}, {}, {}, {})",
            corpus.root.display(),
            counts[0],
            counts[1],
            counts[2],
            counts[3],
            RELEASE_COUNTS[0],
            RELEASE_COUNTS[1],
            RELEASE_COUNTS[2],
            RELEASE_COUNTS[3],
        ));
    }
    if improvised != RELEASE_IMPROVISED {
        warnings.push(format!(
            "{}: the improvised set has {improvised} utterances, SPEC §5 expects {RELEASE_IMPROVISED}",
            corpus.root.display()
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utterance_lines_parse_with_exact_rater_means() {
        let e = parse_utterance_line(
            "[6.2901 - 8.2357]\tSes05M_script01_1b_F003\texc\t[3.0000, 2.5000, 4.3333]",
        )
        .unwrap();
        assert_eq!(e.dialog, "Ses05M_script01_1b");
        assert_eq!((e.session, e.speaker_letter), (5, 'F'));
        assert_eq!(e.label, "exc");
        assert_eq!(e.vad.valence, 3.0);
        assert_eq!(e.vad.arousal, 2.5);
        assert_eq!(e.vad.dominance, 4.3333);
        let spaced = parse_utterance_line(
            "[6.2901 - 8.2357]  Ses01F_impro01_M013 ang  [1.5000, 4.0000, 3.0000]  ",
        )
        .unwrap();
        assert_eq!(
            (spaced.name.as_str(), spaced.speaker_letter),
            ("Ses01F_impro01_M013", 'M')
        );
        assert_eq!(spaced.vad.dominance, 3.0);
        for bad in [
            "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu",
            "[6.2901 8.2357]\tSes01F_impro01_F000\tneu\t[2.5, 2.5, 2.5]",
            "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5, 2.5]",
            "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5, x, 2.5]",
            "[6.2901 - 8.2357]\tSes01F_impro01_X000\tneu\t[2.5, 2.5, 2.5]",
            "[6.2901 - 8.2357]\tS01F_impro01_F000\tneu\t[2.5, 2.5, 2.5]",
            "[6.2901 - 8.2357]\tSes01F\tneu\t[2.5, 2.5, 2.5]",
            "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\textra\t[2.5, 2.5, 2.5]",
            "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5, 2.5, 2.5] trailing",
            "6.2901 - 8.2357\tSes01F_impro01_F000\tneu\t[2.5, 2.5, 2.5]",
        ] {
            assert!(parse_utterance_line(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn evaluator_lines_are_recognised() {
        assert!(is_evaluator_line("C-E2:\tNeutral;\t()"));
        assert!(is_evaluator_line("A-E3:\tval 3; act 2; dom  2;\t()"));
        assert!(is_evaluator_line("C-F1:\tNeutral; Frustration;\t(curious)"));
        assert!(!is_evaluator_line(
            "[6.2 - 8.2]\tSes01F_impro01_F000\tneu\t[2.5, 2.5, 2.5]"
        ));
        assert!(!is_evaluator_line("garbage line"));
    }
}
