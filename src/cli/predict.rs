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

/// Recordings up to this size are predicted on the calling thread alone:
/// 2 MiB is about a minute of 16 kHz 16-bit mono.
const SINGLE_THREAD_MAX_BYTES: u64 = 2 << 20;

/// A pool of just the calling thread, for a run of one short recording
/// without windows and without `--threads`: starting a worker per core
/// costs more CPU time than the few small products of one recording gain
/// from them (and results do not depend on the thread count).
fn single_thread_pool(
    inputs: &[crate::predict::inputs::Input],
    windows: bool,
    global: &Global,
) -> Result<Option<rayon::ThreadPool>> {
    let [input] = inputs else { return Ok(None) };
    let short = std::fs::metadata(&input.path).is_ok_and(|m| m.len() <= SINGLE_THREAD_MAX_BYTES);
    if windows || global.threads.is_some() || !short {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build()
        .map(Some)
        .map_err(|e| Error::Device(format!("cannot set up the calling thread as a pool: {e}")))
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

pub fn run<B: Backend>(args: Args, global: &Global, backend: &B) -> Result<()> {
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
    // Locked per write, not held: the sink may run inside a rayon pool,
    // which wants it sendable.
    let write = |text: &str| {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Error::io("<stdout>", e))
    };
    write(&writer.header())?;
    let sink = |_: usize, input: &crate::predict::inputs::Input, outcome: &Outcome| {
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
        write(&text)
    };
    let failed = match single_thread_pool(&inputs, windows.is_some(), global)? {
        Some(pool) => pool.install(|| predict_all(&bundle, &inputs, windows.as_ref(), sink)),
        None => predict_all(&bundle, &inputs, windows.as_ref(), sink),
    }?;
    if failed > 0 {
        return Err(Error::Failures {
            what: "inputs",
            failed,
            total: inputs.len(),
        });
    }
    Ok(())
}
