//! A corpus described by a CSV manifest (SPEC §6): header
//! `path,label,speaker,fold`, optionally followed by
//! `valence,arousal,dominance`; paths are relative to the CSV file; a label
//! is one of the four classes or empty (no categorical label); the fold
//! column is the cross-validation group. Fields may be double-quoted (with
//! `""` for a quote) but may not span lines.

use super::{Corpus, LoadOptions, Skipped, Utterance, Vad, EMOTIONS};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

const REQUIRED: [&str; 4] = ["path", "label", "speaker", "fold"];
const DIMENSIONS: [&str; 3] = ["valence", "arousal", "dominance"];

/// Loads the corpus the CSV file `csv` lists; [`Corpus::root`] is its
/// folder. Bad rows, missing audio, a file listed twice and (unless
/// [`LoadOptions::allow_outside`]) audio outside the folder are skipped,
/// or the error in a strict load. Errors if the file cannot be read, is not
/// UTF-8, or its header is not exactly those columns in that order.
pub fn load(csv: &Path, options: &LoadOptions) -> Result<Corpus> {
    let bytes = std::fs::read(csv).map_err(|e| Error::io(csv, e))?;
    let text = String::from_utf8(bytes).map_err(|_| Error::format(csv, "not a UTF-8 text file"))?;
    let base = csv.parent().unwrap_or(Path::new(""));
    let mut corpus = Corpus::new(base);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let (header_no, header) = lines.find(|(_, l)| !l.trim().is_empty()).ok_or_else(|| {
        Error::format(
            csv,
            "empty manifest: expected a header 'path,label,speaker,fold'",
        )
    })?;
    let columns = split_row(header)
        .map_err(|m| Error::format_at(csv, header_no, m))?
        .into_iter()
        .map(|c| c.trim().to_ascii_lowercase())
        .collect::<Vec<_>>();
    let has_vad = check_header(&columns).map_err(|m| Error::format_at(csv, header_no, m))?;
    let mut seen = BTreeMap::new();
    let folder = canonical_folder(csv, base)?;
    for (line_no, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        match parse_row(line, &columns, has_vad, base) {
            Ok(u) => {
                // Two spellings of one file (`x/../u1.wav` beside `u1.wav`)
                // would put the same audio in two folds: rows are compared
                // by the file they resolve to.
                let canonical = std::fs::canonicalize(&u.path).unwrap_or_else(|_| u.path.clone());
                if let Some(first) = seen.get(&canonical) {
                    corpus.skip(
                        options,
                        Skipped::new(
                            csv,
                            Some(line_no),
                            format!("{} is listed twice (the same file as line {first})", u.id),
                        ),
                    )?;
                    continue;
                }
                seen.insert(canonical.clone(), line_no);
                if !options.allow_outside && u.path.is_file() && !canonical.starts_with(&folder) {
                    corpus.skip(
                        options,
                        Skipped::new(
                            csv,
                            Some(line_no),
                            format!(
                                "{} resolves to {}, outside the manifest's folder {} \
                                 (pass --allow-outside to accept it)",
                                u.id,
                                canonical.display(),
                                folder.display()
                            ),
                        ),
                    )?;
                } else if !u.path.is_file() {
                    corpus.skip(
                        options,
                        Skipped::new(
                            &u.path,
                            None,
                            format!(
                                "audio file is missing (listed at {}:{line_no})",
                                csv.display()
                            ),
                        ),
                    )?;
                } else {
                    corpus.utterances.push(u);
                }
            }
            Err(reason) => corpus.skip(options, Skipped::new(csv, Some(line_no), reason))?,
        }
    }
    Ok(corpus)
}

/// The manifest's folder with `..` and links resolved, for comparing
/// rows' resolved paths against.
fn canonical_folder(csv: &Path, base: &Path) -> Result<std::path::PathBuf> {
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    std::fs::canonicalize(base).map_err(|e| Error::io(csv, e))
}

/// Whether the optional rating columns are present.
fn check_header(columns: &[String]) -> std::result::Result<bool, String> {
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let expected =
        "expected 'path,label,speaker,fold' optionally followed by ',valence,arousal,dominance'";
    if names == REQUIRED {
        Ok(false)
    } else if names.len() == 7 && names[..4] == REQUIRED && names[4..] == DIMENSIONS {
        Ok(true)
    } else {
        Err(format!("header '{}': {expected}", names.join(",")))
    }
}

fn parse_row(
    line: &str,
    columns: &[String],
    has_vad: bool,
    base: &Path,
) -> std::result::Result<Utterance, String> {
    let fields = split_row(line)?;
    if fields.len() != columns.len() {
        return Err(format!(
            "{} fields where the header has {}",
            fields.len(),
            columns.len()
        ));
    }
    let field = |i: usize| fields[i].trim();
    let (path, label, speaker, fold) = (field(0), field(1), field(2), field(3));
    if path.is_empty() {
        return Err("empty path".into());
    }
    let label = match label {
        "" => None,
        name => Some(EMOTIONS.iter().position(|&e| e == name).ok_or_else(|| {
            format!(
                "unknown label '{name}' (expected one of {} or empty)",
                EMOTIONS.join(", ")
            )
        })?),
    };
    if speaker.is_empty() {
        return Err("empty speaker".into());
    }
    if fold.is_empty() {
        return Err("empty fold".into());
    }
    let vad = if has_vad {
        parse_vad(&[field(4), field(5), field(6)])?
    } else {
        None
    };
    Ok(Utterance {
        id: path.to_string(),
        path: base.join(path),
        label,
        speaker: speaker.to_string(),
        gender: None,
        group: fold.to_string(),
        dialog: None,
        improvised: None,
        vad,
    })
}

/// All three ratings, or none (all empty).
fn parse_vad(fields: &[&str; 3]) -> std::result::Result<Option<Vad>, String> {
    if fields.iter().all(|f| f.is_empty()) {
        return Ok(None);
    }
    let mut values = [0.0f32; 3];
    for ((value, field), name) in values.iter_mut().zip(fields).zip(DIMENSIONS) {
        *value = field
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                format!("{name} '{field}' is not a number (give all three ratings or none)")
            })?;
    }
    Ok(Some(Vad {
        valence: values[0],
        arousal: values[1],
        dominance: values[2],
    }))
}

/// Splits one CSV line into fields, undoing double-quoting.
fn split_row(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            (false, '"') => return Err("a quote inside an unquoted field".into()),
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, c) if was_quoted && !c.is_whitespace() => {
                return Err("text after a closing quote".into())
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    fields.push(field);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_split_with_quotes() {
        assert_eq!(split_row("a,b,,d").unwrap(), ["a", "b", "", "d"]);
        assert_eq!(
            split_row("\"x, y.wav\",happy,\"say \"\"hi\"\"\",1").unwrap(),
            ["x, y.wav", "happy", "say \"hi\"", "1"]
        );
        assert!(split_row("\"open,happy").is_err());
        assert!(split_row("a\"b,c").is_err());
        assert!(split_row("\"a\"b,c").is_err());
    }
}
