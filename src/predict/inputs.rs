//! What `predict` runs on: WAV files named directly, every `*.wav` under a
//! directory, and lists of utterances, each with the utterance id its
//! results are keyed by.
//!
//! A list is either Kaldi's `wav.scp` (`utt-id path` per line; a line with
//! only a path uses the path as its id) or a CSV whose header has a `path`
//! column and, optionally, an `id` (or `utt`) column. Relative paths in a
//! CSV are relative to the CSV, as in a corpus manifest; in a `wav.scp`
//! (and a list on stdin) to the current directory, as Kaldi has them.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One utterance to classify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The key of its results: the list's id, or the path as given.
    pub id: String,
    /// The WAV file, a list's relative paths already resolved (see the module
    /// docs). It may not exist: that is reported when it is predicted.
    pub path: PathBuf,
}

/// Where the inputs come from, in the order they are listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A WAV file, or a directory searched recursively for `*.wav`.
    Path(PathBuf),
    /// A list file (`wav.scp` or CSV).
    List(PathBuf),
    /// A list on standard input (`-`).
    Stdin,
}

/// The inputs of `sources`, in order (a directory's files sorted by path).
/// A named file that does not exist is kept: it becomes an error line when
/// it is predicted, like any other bad file. Fails on an unreadable list or
/// directory and on an utterance id used twice.
pub fn gather(sources: &[Source], stdin: &mut dyn Read) -> Result<Vec<Input>> {
    let mut inputs = Vec::new();
    let mut stdin_read = false;
    for source in sources {
        match source {
            Source::Path(p) if p.is_dir() => {
                let mut found = Vec::new();
                wav_files_under(p, &mut found)?;
                found.sort();
                inputs.extend(found.into_iter().map(|path| Input {
                    id: path.display().to_string(),
                    path,
                }));
            }
            Source::Path(p) => inputs.push(Input {
                id: p.display().to_string(),
                path: p.clone(),
            }),
            Source::List(list) => {
                let text = std::fs::read_to_string(list).map_err(|e| Error::io(list, e))?;
                let base = list.parent().unwrap_or(Path::new(""));
                inputs.extend(parse_list(&text, list, base)?);
            }
            Source::Stdin => {
                if stdin_read {
                    return Err(Error::usage("`-` (a list on stdin) given twice"));
                }
                stdin_read = true;
                let mut text = String::new();
                stdin
                    .read_to_string(&mut text)
                    .map_err(|e| Error::io("<stdin>", e))?;
                inputs.extend(parse_list(&text, Path::new("<stdin>"), Path::new(""))?);
            }
        }
    }
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for input in &inputs {
        if let Some(first) = seen.insert(&input.id, &input.path) {
            return Err(Error::usage(format!(
                "utterance id '{}' is given twice ({} and {}); results are keyed by id",
                input.id,
                first.display(),
                input.path.display()
            )));
        }
    }
    Ok(inputs)
}

/// Every `*.wav` file (any letter case) under `dir`, recursively; symbolic
/// links are followed as the file system resolves them.
fn wav_files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            wav_files_under(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses a `wav.scp` or CSV list read from `source`; relative CSV paths
/// are joined to `csv_base`.
pub fn parse_list(text: &str, source: &Path, csv_base: &Path) -> Result<Vec<Input>> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((first_no, first)) = lines.next() else {
        return Ok(Vec::new());
    };
    let header: Vec<&str> = first.split(',').map(str::trim).collect();
    if header.len() > 1 && header.contains(&"path") {
        let path_col = header.iter().position(|&h| h == "path").unwrap_or(0);
        let id_col = header.iter().position(|&h| h == "id" || h == "utt");
        let mut out = Vec::new();
        for (no, line) in lines {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != header.len() {
                return Err(Error::format_at(
                    source,
                    no,
                    format!(
                        "{} fields, the header (line {first_no}) has {} (quoted fields are not \
                         supported)",
                        fields.len(),
                        header.len()
                    ),
                ));
            }
            let path = csv_base.join(fields[path_col]);
            let id = match id_col {
                Some(c) => fields[c].to_string(),
                None => fields[path_col].to_string(),
            };
            out.push(Input { id, path });
        }
        return Ok(out);
    }
    std::iter::once((first_no, first))
        .chain(lines)
        .map(|(no, line)| scp_line(line, source, no))
        .collect()
}

/// One `utt-id path` (or bare `path`) line of a `wav.scp`.
fn scp_line(line: &str, source: &Path, no: usize) -> Result<Input> {
    let line = line.trim();
    if line.ends_with('|') {
        return Err(Error::format_at(
            source,
            no,
            "a piped command (`... |`); only WAV file paths are supported: convert the audio \
             first, e.g. with sox",
        ));
    }
    Ok(match line.split_once(char::is_whitespace) {
        Some((id, path)) => Input {
            id: id.to_string(),
            path: PathBuf::from(path.trim()),
        },
        None => Input {
            id: line.to_string(),
            path: PathBuf::from(line),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scp_lines_give_ids_and_paths() {
        let list = "utt1 a/b.wav\n\nutt2\tc d.wav\r\nplain.wav\n";
        let got = parse_list(list, Path::new("wav.scp"), Path::new("/base")).unwrap();
        let want = [
            ("utt1", "a/b.wav"),
            ("utt2", "c d.wav"),
            ("plain.wav", "plain.wav"),
        ];
        assert_eq!(got.len(), want.len());
        for (g, (id, path)) in got.iter().zip(want) {
            assert_eq!((g.id.as_str(), g.path.as_path()), (id, Path::new(path)));
        }
    }

    #[test]
    fn csv_lists_are_relative_to_the_csv() {
        let list = "label,path,id\nsad,x/1.wav,one\nhappy,2.wav,two\n";
        let got = parse_list(list, Path::new("l.csv"), Path::new("/data")).unwrap();
        assert_eq!(got[0].id, "one");
        assert_eq!(got[0].path, Path::new("/data/x/1.wav"));
        assert_eq!(got[1].path, Path::new("/data/2.wav"));
        let no_id = parse_list(
            "path,label\na.wav,sad\n",
            Path::new("l.csv"),
            Path::new("d"),
        )
        .unwrap();
        assert_eq!(no_id[0].id, "a.wav");
    }

    #[test]
    fn bad_lists_name_the_line() {
        let e = parse_list("path,label\na.wav\n", Path::new("l.csv"), Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("l.csv:2:"), "{e}");
        let e = parse_list(
            "u1 a.wav\nu2 sox b.flac -t wav - |\n",
            Path::new("wav.scp"),
            Path::new(""),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("wav.scp:2:") && e.contains("piped"), "{e}");
    }

    #[test]
    fn a_duplicate_id_is_refused() {
        let mut stdin = "u1 a.wav\nu1 b.wav\n".as_bytes();
        let e = gather(&[Source::Stdin], &mut stdin)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'u1'") && e.contains("twice"), "{e}");
    }
}
