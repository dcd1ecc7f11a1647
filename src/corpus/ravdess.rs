//! RAVDESS loader (SPEC §6): `Actor_NN/MM-VV-EE-II-SS-RR-NN.wav`, with the
//! emotion in the third field and the actor in the last.

use super::{is_wav, sorted_entries, Corpus, Gender, LoadOptions, Skipped, Utterance};
use crate::error::{Error, Result};
use std::path::Path;

/// Emotion codes 01..08 in order; the 4-class task keeps neutral, happy, sad
/// and angry.
const EMOTION_NAMES: [&str; 8] = [
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
];

/// Consecutive actors that form one cross-validation group (6 groups of 4).
const ACTORS_PER_GROUP: u32 = 4;

/// Loads the `Actor_NN/*.wav` files under `root`; the groups are six runs of
/// four consecutive actors, odd actors male. Emotions other than the four
/// are counted in [`Corpus::excluded`]; unparsable names are skipped, or
/// the error in a strict load. Errors if `root` cannot be read or has no
/// `Actor_NN` directory.
pub fn load(root: &Path, options: &LoadOptions) -> Result<Corpus> {
    let mut corpus = Corpus::new(root);
    let mut actor_dirs = 0;
    for dir in sorted_entries(root)? {
        let Some(dir_actor) = actor_of_dir(&dir) else {
            continue;
        };
        actor_dirs += 1;
        for path in sorted_entries(&dir)? {
            if !is_wav(&path) {
                continue;
            }
            match parse_name(&path, dir_actor) {
                Ok(Parsed::Excluded(label)) => corpus.exclude(label),
                Ok(Parsed::Utterance(u)) => corpus.utterances.push(u),
                Err(reason) => corpus.skip(options, Skipped::new(&path, None, reason))?,
            }
        }
    }
    if actor_dirs == 0 {
        return Err(Error::format(
            root,
            "no Actor_NN directories: not a RAVDESS corpus",
        ));
    }
    Ok(corpus)
}

fn actor_of_dir(dir: &Path) -> Option<u32> {
    let name = dir.file_name()?.to_str()?;
    let digits = name.strip_prefix("Actor_")?;
    if !dir.is_dir() || digits.len() != 2 {
        return None;
    }
    digits.parse().ok()
}

enum Parsed {
    Utterance(Utterance),
    Excluded(&'static str),
}

fn parse_name(path: &Path, dir_actor: u32) -> std::result::Result<Parsed, String> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or("file name is not UTF-8")?;
    let fields: Vec<u32> = stem
        .split('-')
        .map(|f| {
            if f.len() == 2 && f.bytes().all(|b| b.is_ascii_digit()) {
                f.parse().ok()
            } else {
                None
            }
        })
        .collect::<Option<Vec<u32>>>()
        .filter(|f| f.len() == 7)
        .ok_or_else(|| {
            format!("file name '{stem}' is not of the RAVDESS form MM-VV-EE-II-SS-RR-NN")
        })?;
    let [_modality, channel, emotion, _intensity, _statement, _repetition, actor] =
        fields[..].try_into().expect("seven fields");
    if actor != dir_actor {
        return Err(format!(
            "actor {actor:02} in the file name differs from the directory's actor {dir_actor:02}"
        ));
    }
    if !(1..=24).contains(&actor) {
        return Err(format!("actor {actor:02} is outside 01..24"));
    }
    let name = match emotion {
        1..=8 => EMOTION_NAMES[emotion as usize - 1],
        _ => return Err(format!("emotion code {emotion:02} is outside 01..08")),
    };
    // Vocal channel 02 is the sung half of the database, not speech.
    if channel == 2 {
        return Ok(Parsed::Excluded("song"));
    }
    let Some(label) = super::EMOTIONS.iter().position(|&e| e == name) else {
        return Ok(Parsed::Excluded(name));
    };
    let first = (actor - 1) / ACTORS_PER_GROUP * ACTORS_PER_GROUP + 1;
    Ok(Parsed::Utterance(Utterance {
        id: stem.to_string(),
        path: path.to_path_buf(),
        label: Some(label),
        speaker: format!("Actor_{actor:02}"),
        gender: Some(if actor % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }),
        group: format!("actors{first:02}-{:02}", first + ACTORS_PER_GROUP - 1),
        dialog: None,
        improvised: None,
        vad: None,
    }))
}
