//! EmoDB (Berlin Database of Emotional Speech) loader (SPEC §6): files
//! `SSTTTEV.wav` (e.g. `03a01Fa.wav`), speaker in the first two digits,
//! emotion in the sixth character, in the corpus directory or its `wav/`.

use super::{is_wav, sorted_entries, Corpus, Gender, LoadOptions, Skipped, Utterance};
use crate::error::Result;
use std::path::Path;

/// The database's ten speakers and their gender (from its documentation).
const SPEAKERS: [(&str, Gender); 10] = [
    ("03", Gender::Male),
    ("08", Gender::Female),
    ("09", Gender::Female),
    ("10", Gender::Male),
    ("11", Gender::Male),
    ("12", Gender::Male),
    ("13", Gender::Female),
    ("14", Gender::Female),
    ("15", Gender::Male),
    ("16", Gender::Female),
];

/// Loads the `.wav` files of `root/wav/` (or of `root` itself when it has
/// no `wav/`); one group per speaker. Emotions other than the four are
/// counted in [`Corpus::excluded`]; unparsable names are skipped, or the
/// error in a strict load. Errors if the directory cannot be read.
pub fn load(root: &Path, options: &LoadOptions) -> Result<Corpus> {
    let mut corpus = Corpus::new(root);
    let wav_dir = root.join("wav");
    let dir = if wav_dir.is_dir() {
        wav_dir
    } else {
        root.to_path_buf()
    };
    for path in sorted_entries(&dir)? {
        if !is_wav(&path) || !path.is_file() {
            continue;
        }
        match parse_name(&path) {
            Ok(Parsed::Utterance(u)) => corpus.utterances.push(u),
            Ok(Parsed::Excluded(label)) => corpus.exclude(label),
            Err(reason) => corpus.skip(options, Skipped::new(&path, None, reason))?,
        }
    }
    Ok(corpus)
}

enum Parsed {
    Utterance(Utterance),
    Excluded(&'static str),
}

fn parse_name(path: &Path) -> std::result::Result<Parsed, String> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or("file name is not UTF-8")?;
    let chars: Vec<char> = stem.chars().collect();
    let well_formed = chars.len() == 7
        && chars[..2].iter().all(char::is_ascii_digit)
        && chars[2].is_ascii_lowercase()
        && chars[3..5].iter().all(char::is_ascii_digit)
        && chars[5].is_ascii_uppercase()
        && chars[6].is_ascii_lowercase();
    if !well_formed {
        return Err(format!(
            "file name '{stem}' is not of the EmoDB form SSTTTEV (e.g. 03a01Fa)"
        ));
    }
    let label = match chars[5] {
        'N' => 0,
        'F' => 1,
        'T' => 2,
        'W' => 3,
        'L' => return Ok(Parsed::Excluded("boredom")),
        'E' => return Ok(Parsed::Excluded("disgust")),
        'A' => return Ok(Parsed::Excluded("fear")),
        other => return Err(format!("unknown emotion code '{other}' in '{stem}'")),
    };
    let speaker = &stem[..2];
    Ok(Parsed::Utterance(Utterance {
        id: stem.to_string(),
        path: path.to_path_buf(),
        label: Some(label),
        speaker: speaker.to_string(),
        gender: SPEAKERS
            .iter()
            .find(|(s, _)| *s == speaker)
            .map(|(_, g)| *g),
        group: speaker.to_string(),
        dialog: None,
        improvised: None,
        vad: None,
    }))
}
