//! `vaeser inspect FILE`: what a model file or feature-learner checkpoint
//! holds, read from its metadata and tensor table without building the
//! networks, so that a file can be examined on any machine and by any
//! build that reads its format.

use super::model_file::describe;
use super::paths::existing_file;
use super::Global;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::models::bundle;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Show what a model file or checkpoint holds.
#[derive(clap::Args, Debug)]
#[command(
    about = "Show what a model file or checkpoint holds",
    long_about = "Reads a model file written by `vaeser train` or a feature-learner \
checkpoint written by `vaeser fit-features` and prints what it holds: the kind of file, the \
feature learner (AE, VAE or CVAE) with its layer sizes, segment configuration, training \
configuration and summary; for a model file also the classifier's sizes, configuration and \
training summary, the label names, the corpus and the LogMel front end; the build and machine \
that wrote it (version, git commit, rustc, target features, CPU, GEMM kernel; files written \
before it was recorded say so); and every tensor with its shape and number of values, with \
the total number of parameters. The tensor checksum is verified first: a corrupt or \
truncated file, or a file that is not a vaeser checkpoint, is an error naming the file \
(exit code 1).\n\n\
--format json prints one JSON object with the same content: `file`, `bytes`, `kind`, \
`description`, `format_version`, `checksum` {`recorded`, `verified`}, `learner`, \
`classifier`, `model` (model files), `provenance` (null when not recorded), `tensors` (each \
`name`, `shape`, `count`), `parameters` and `other_metadata` (any entry not shown \
elsewhere). Metadata values are as the file stores them, except that epochs are counted \
from 1."
)]
pub struct Args {
    /// The file to inspect.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// `table` (lines for people) or `json` (one JSON object).
    #[arg(long, value_enum, default_value = "table", value_name = "FORMAT")]
    pub format: Format,
}

/// How the description is printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Labelled lines for people, the tensors as an aligned table.
    Table,
    /// One JSON object.
    Json,
}

/// Prints the description of `args.file`.
pub fn run(args: Args, _global: &Global) -> Result<()> {
    existing_file("FILE", &args.file)?;
    let ck = Checkpoint::load(&args.file)?;
    let bytes = std::fs::metadata(&args.file)
        .map_err(|e| Error::io(&args.file, e))?
        .len();
    let report = report(&ck, &args.file, bytes)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a JSON value serialises")
        ),
        Format::Table => print!("{}", table(&report)),
    }
    Ok(())
}

/// The description of a checkpoint read from `path` (`bytes` long), as one
/// JSON object; the table is drawn from it, so both say the same.
pub fn report(ck: &Checkpoint, path: &Path, bytes: u64) -> Result<Value> {
    let mut meta = BTreeMap::new();
    for (key, text) in ck.metadata() {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Error::format(
                path,
                format!("checkpoint metadata '{key}' is not JSON: {e}"),
            )
        })?;
        meta.insert(key.to_string(), value);
    }
    let (version, checksum) = ck
        .recorded()
        .expect("a checkpoint read from a file records its version and checksum");
    let mut out = Map::new();
    out.insert("file".into(), path.display().to_string().into());
    out.insert("bytes".into(), bytes.into());
    out.insert("kind".into(), ck.kind().into());
    out.insert("description".into(), describe(ck.kind()).into());
    out.insert("format_version".into(), version.into());
    // Loading refuses a file whose checksum does not match, so a report
    // exists only for a verified one.
    out.insert(
        "checksum".into(),
        json!({ "recorded": checksum, "verified": true }),
    );
    let learner_prefix = match ck.kind() {
        bundle::KIND => Some("learner."),
        "ae" | "vae" | "cvae" => Some(""),
        _ => None,
    };
    out.insert(
        "learner".into(),
        learner_prefix.map_or(Value::Null, |p| learner(&mut meta, p)),
    );
    let is_model = ck.kind() == bundle::KIND;
    out.insert(
        "classifier".into(),
        if is_model {
            classifier(&mut meta)
        } else {
            Value::Null
        },
    );
    out.insert(
        "model".into(),
        if is_model {
            let mut m = Map::new();
            for key in ["corpus", "task", "labels", "encode", "front_end"] {
                m.insert(key.into(), take(&mut meta, key));
            }
            m.into()
        } else {
            Value::Null
        },
    );
    out.insert("provenance".into(), take(&mut meta, "provenance"));
    let tensors: Vec<Value> = ck
        .tensors()
        .map(|t| json!({ "name": t.name, "shape": t.shape, "count": t.data.len() }))
        .collect();
    let parameters: usize = ck.tensors().map(|t| t.data.len()).sum();
    out.insert("tensors".into(), tensors.into());
    out.insert("parameters".into(), parameters.into());
    out.insert(
        "other_metadata".into(),
        meta.into_iter().collect::<Map<_, _>>().into(),
    );
    Ok(out.into())
}

fn take(meta: &mut BTreeMap<String, Value>, key: &str) -> Value {
    meta.remove(key).unwrap_or(Value::Null)
}

/// The feature learner's entries under `prefix`, its kind lifted out of
/// its shape; the kept epoch counted from 1 (the file counts it from 0).
fn learner(meta: &mut BTreeMap<String, Value>, prefix: &str) -> Value {
    let mut m = Map::new();
    let shape = take(meta, &format!("{prefix}shape"));
    m.insert(
        "kind".into(),
        shape.get("kind").cloned().unwrap_or_default(),
    );
    m.insert("shape".into(), shape);
    for key in [
        "latent",
        "labels",
        "segments",
        "config",
        "seed",
        "fold",
        "training",
        "normalization",
    ] {
        m.insert(key.into(), take(meta, &format!("{prefix}{key}")));
    }
    if let Some(best) = m.get_mut("training").and_then(|t| t.get_mut("best_epoch")) {
        if let Some(n) = best.as_u64() {
            *best = (n + 1).into();
        }
    }
    if let Some(fold) = m.get_mut("fold") {
        if let Some(n) = fold.as_u64() {
            *fold = (n + 1).into();
        }
    }
    m.into()
}

/// The classifier's entries of a model file (its training summary already
/// counts epochs from 1).
fn classifier(meta: &mut BTreeMap<String, Value>) -> Value {
    let mut m = Map::new();
    for (key, stored) in [
        ("model", "classifier.model"),
        ("shape", "classifier.shape"),
        ("config", "classifier.config"),
        ("training", "classifier.training"),
    ] {
        m.insert(key.into(), take(meta, stored));
    }
    m.into()
}

/// The report as lines for people.
pub fn table(r: &Value) -> String {
    let mut out = String::new();
    let mut line = |label: &str, text: String| out.push_str(&format!("{label:<18} {text}\n"));
    line(
        "file",
        format!("{} ({} bytes)", text(&r["file"]), r["bytes"]),
    );
    line(
        "kind",
        format!(
            "{}: {} (format version {})",
            text(&r["kind"]),
            text(&r["description"]),
            r["format_version"]
        ),
    );
    line(
        "checksum",
        format!("{} (verified)", text(&r["checksum"]["recorded"])),
    );
    let m = &r["model"];
    if !m.is_null() {
        line("corpus", text(&m["corpus"]));
        line("task", text(&m["task"]));
        line("labels", inline(&m["labels"]));
        line("features", text(&m["encode"]));
        line("front end", inline(&m["front_end"]));
    }
    let l = &r["learner"];
    if !l.is_null() {
        let s = &l["shape"];
        let conditions = match s["conditions"].as_u64() {
            Some(0) | None => String::new(),
            Some(n) => format!(", {n} conditions"),
        };
        line(
            "feature learner",
            format!(
                "{}: input {}, hidden {}, latent {}{conditions}",
                text(&l["kind"]).to_uppercase(),
                s["input"],
                inline(&s["hidden"]),
                s["latent"]
            ),
        );
        line("  segments", inline(&l["segments"]));
        line("  config", inline(&l["config"]));
        let fold = match &l["fold"] {
            Value::Null => "none held out".to_string(),
            f => format!("{f} held out"),
        };
        line("  seed, fold", format!("{}, {fold}", l["seed"]));
        let t = &l["training"];
        if !t.is_null() {
            line(
                "  training",
                format!(
                    "{}, kept epoch {} (validation reconstruction {}, KL {}), {} \
                     training and {} validation segments",
                    epochs(&t["epochs_run"]),
                    t["best_epoch"],
                    number(&t["best_val_reconstruction"], 4),
                    number(&t["best_val_kl"], 4),
                    t["train_segments"],
                    t["val_segments"]
                ),
            );
        }
    }
    let c = &r["classifier"];
    if !c.is_null() {
        let s = &c["shape"];
        line(
            "classifier",
            format!(
                "{} layers of LSTM {}, dense {}, {} classes, input {}",
                s["layers"], s["hidden"], s["dense"], s["classes"], s["input"]
            ),
        );
        line(
            "  config",
            if c["config"].is_null() {
                "not recorded".into()
            } else {
                inline(&c["config"])
            },
        );
        let t = &c["training"];
        line(
            "  training",
            if t.is_null() {
                "not recorded".into()
            } else {
                format!(
                    "{}, kept epoch {} (validation UA {}, WA {}, loss {}), {} training \
                     and {} validation utterances{}",
                    epochs(&t["epochs_run"]),
                    t["best_epoch"],
                    percent(&t["best"]["val_ua"]),
                    percent(&t["best"]["val_wa"]),
                    number(&t["best"]["val_loss"], 4),
                    t["train_utterances"],
                    t["validation_utterances"],
                    match t["warning"].as_str() {
                        Some(w) => format!("; warning: {w}"),
                        None => String::new(),
                    }
                )
            },
        );
    }
    let p = &r["provenance"];
    if p.is_null() {
        line(
            "written by",
            "not recorded (a file from an older build)".into(),
        );
    } else {
        let b = &p["build"];
        let mach = &p["machine"];
        line(
            "written by",
            format!(
                "vaeser {}, commit {}",
                text(&b["version"]),
                text(&b["git_commit"])
            ),
        );
        line("  rustc", text(&b["rustc"]));
        line(
            "  target",
            format!("{} ({} profile)", text(&b["target"]), text(&b["profile"])),
        );
        line("  target features", text(&b["target_features"]));
        line("  cpu", text(&mach["cpu"]));
        line("  gemm kernel", text(&mach["gemm_kernel"]));
        line("  element-wise", text(&mach["element_wise_kernel"]));
    }
    if let Some(other) = r["other_metadata"].as_object().filter(|o| !o.is_empty()) {
        line("other metadata", String::new());
        for (k, v) in other {
            line(&format!("  {k}"), inline(v));
        }
    }
    let tensors = r["tensors"].as_array().map_or(&[][..], Vec::as_slice);
    line(
        "tensors",
        format!("{}, {} parameters", tensors.len(), r["parameters"]),
    );
    let name_width = tensors
        .iter()
        .map(|t| text(&t["name"]).len())
        .max()
        .unwrap_or(0);
    let shapes: Vec<String> = tensors.iter().map(|t| inline(&t["shape"])).collect();
    let shape_width = shapes.iter().map(String::len).max().unwrap_or(0);
    for (t, shape) in tensors.iter().zip(&shapes) {
        out.push_str(&format!(
            "  {:<name_width$}  {:<shape_width$}  {:>9}\n",
            text(&t["name"]),
            shape,
            t["count"]
        ));
    }
    out
}

/// A JSON string's text, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A value on one line: objects as `key value, ...`, arrays in brackets,
/// long arrays of numbers (normalisation statistics) by their length.
fn inline(v: &Value) -> String {
    match v {
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k} {}", inline(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(a) if a.len() > 16 => format!("[{} values]", a.len()),
        Value::Array(a) => format!("[{}]", a.iter().map(inline).collect::<Vec<_>>().join(", ")),
        other => text(other),
    }
}

fn epochs(v: &Value) -> String {
    match v.as_u64() {
        Some(1) => "1 epoch".into(),
        _ => format!("{v} epochs"),
    }
}

fn number(v: &Value, decimals: usize) -> String {
    v.as_f64()
        .map_or_else(|| "-".into(), |x| format!("{x:.decimals$}"))
}

fn percent(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "-".into(), |x| format!("{:.1}%", 100.0 * x))
}
