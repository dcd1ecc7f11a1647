//! `vaeser predict`: the emotion of WAV files, with a model from `vaeser train`.

use super::model_file::read_bundle;
use super::Global;
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::predict::format::{Format, Row, Writer};
use crate::predict::inputs::{gather, Source};
use crate::predict::run::{predict_all, Outcome};
use crate::predict::windows::WindowSpec;
use std::io::Write;
use std::path::PathBuf;

/// Predict the emotion of WAV files with a trained model.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Reads a model written by `vaeser train` and prints, for each input, the \
predicted class and the probability of every class, keyed by utterance id.\n\n\
Inputs: WAV files (any common encoding: PCM 8/16/24/32-bit or 32-bit float, any sample rate, \
any number of channels; channels are averaged and the audio resampled to 16 kHz), directories \
(every *.wav under them, recursively, in path order), a list (--list FILE: Kaldi's wav.scp, \
`utt-id path` per line, paths relative to the current directory; or a CSV whose header has a \
`path` column and optionally an `id` column, paths relative to the CSV), and `-` for a list \
on standard input. A file's id is its path as given, a listed one's the list's id.\n\n\
Inputs run in parallel; results are written in input order, each as soon as it and those \
before it are done. --window SECONDS (with --hop SECONDS, default the window) gives one label \
per window of each recording instead of one per recording.\n\n\
A file that cannot be read or classified gets an error line (table), an object with an \
\"error\" field (jsonl) or a row with the error column filled (csv), and the others are still \
classified. Exit status: 0 when every input was classified, else the number of inputs that \
failed (at most 100); 1 also when the run cannot start (no model, bad option, unreadable list)."
)]
pub struct Args {
    /// Model file written by `vaeser train`.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Output format: an aligned table, JSON lines or CSV.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// A list of inputs: Kaldi wav.scp (`utt-id path`) or a CSV with a
    /// `path` column (and optionally `id`). May be repeated.
    #[arg(long, value_name = "FILE")]
    pub list: Vec<PathBuf>,
    /// One label per window of this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub window: Option<f64>,
    /// Step between windows in seconds (default: the window, no overlap).
    #[arg(long, value_name = "SECONDS", requires = "window")]
    pub hop: Option<f64>,
    /// WAV files, directories (searched for *.wav), or `-` for a list on stdin.
    #[arg(value_name = "INPUT", required_unless_present = "list")]
    pub inputs: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Table,
    Jsonl,
    Csv,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Csv => Format::Csv,
        }
    }
}

pub fn run<B: Backend>(args: Args, _global: &Global, backend: &B) -> Result<()> {
    let windows = args
        .window
        .map(|w| WindowSpec::new(w, args.hop))
        .transpose()?;
    for list in &args.list {
        super::paths::existing_file("--list", list)?;
    }
    let bundle = read_bundle(backend, "--model", &args.model)?;
    let mut sources: Vec<Source> = args
        .inputs
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                Source::Stdin
            } else {
                Source::Path(p.clone())
            }
        })
        .collect();
    sources.extend(args.list.iter().cloned().map(Source::List));
    let inputs = gather(&sources, &mut std::io::stdin().lock())?;
    if inputs.is_empty() {
        return Err(Error::usage(
            "no input: the directories hold no *.wav file and the lists are empty",
        ));
    }
    let writer = Writer::new(
        args.format.into(),
        &bundle.labels,
        &inputs,
        windows.is_some(),
    );
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let write = |out: &mut std::io::StdoutLock<'_>, text: &str| {
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Error::io("<stdout>", e))
    };
    write(&mut out, &writer.header())?;
    let failed = predict_all(&bundle, &inputs, windows.as_ref(), |_, input, outcome| {
        let mut text = String::new();
        match outcome {
            Outcome::Whole(p) => text.push_str(&writer.row(&Row {
                input,
                window: None,
                outcome: Ok(p),
            })),
            Outcome::Windows(ws) => {
                for w in ws {
                    text.push_str(&writer.row(&Row {
                        input,
                        window: Some((w.start, w.end)),
                        outcome: Ok(&w.prediction),
                    }));
                }
            }
            Outcome::Failed(e) => text.push_str(&writer.row(&Row {
                input,
                window: None,
                outcome: Err(e),
            })),
        }
        write(&mut out, &text)
    })?;
    if failed > 0 {
        return Err(Error::Failures {
            what: "inputs",
            failed,
            total: inputs.len(),
        });
    }
    Ok(())
}
