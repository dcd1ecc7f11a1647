//! `vaeser predict`: the emotion of WAV files, with a model from `vaeser train`.

use super::Global;
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::models::bundle::ModelBundle;
use std::path::PathBuf;

/// Predict the emotion of WAV files with a trained model.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Reads a model written by `vaeser train` and prints, for each WAV file \
(any common encoding, sample rate and channel count), the predicted class and the probability \
of every class, as a table or, with --json, as one JSON array. A file that cannot be read gets \
an error line (a JSON object with an \"error\" field) and the others are still classified; the \
exit code is non-zero if any file failed."
)]
pub struct Args {
    /// Model file written by `vaeser train`.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// WAV files to classify.
    #[arg(value_name = "FILE.wav", required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run<B: Backend>(args: Args, _global: &Global, backend: &B) -> Result<()> {
    let bundle = ModelBundle::load(backend, &args.model)?;
    let mut failed = 0;
    let mut json = Vec::new();
    let width = args
        .files
        .iter()
        .map(|f| f.display().to_string().len())
        .max()
        .unwrap_or(4)
        .max(4);
    if !args.json {
        let mut header = format!("{:<width$}  {:<10}", "file", "predicted");
        for l in &bundle.labels {
            header.push_str(&format!(" {l:>8}"));
        }
        println!("{header}");
    }
    for file in &args.files {
        match bundle.predict_file(file) {
            Ok(p) => {
                if args.json {
                    let probs: serde_json::Map<String, serde_json::Value> = bundle
                        .labels
                        .iter()
                        .zip(&p.probabilities)
                        .map(|(l, &v)| (l.clone(), serde_json::json!(v)))
                        .collect();
                    json.push(serde_json::json!({
                        "file": file,
                        "predicted": p.label,
                        "probabilities": probs,
                    }));
                } else {
                    let mut line = format!("{:<width$}  {:<10}", file.display(), p.label);
                    for v in &p.probabilities {
                        line.push_str(&format!(" {v:>8.3}"));
                    }
                    println!("{line}");
                }
            }
            Err(e) => {
                failed += 1;
                if args.json {
                    json.push(serde_json::json!({ "file": file, "error": e.to_string() }));
                } else {
                    println!("{:<width$}  error: {e}", file.display());
                }
            }
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_else(|_| "[]".into())
        );
    }
    if failed > 0 {
        return Err(Error::config(format!(
            "{failed} of {} files could not be classified",
            args.files.len()
        )));
    }
    Ok(())
}
