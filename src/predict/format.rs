//! The three forms of `predict`'s output, each written one line per result
//! so that it can be streamed: an aligned table for people, JSON lines and
//! CSV for programs. Every row is keyed by utterance id; with windows, by id
//! and the window's start and end (seconds).

use super::inputs::Input;
use crate::models::bundle::Prediction;
use std::fmt::Write;

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for reading: id, (window,) predicted label, one probability per class.
    Table,
    /// One JSON object per line: `id`, `path`, (`start`, `end`,) `predicted` and
    /// `probabilities` keyed by label, or `error`.
    Jsonl,
    /// CSV with a header: `id`, `path`, (`start`, `end`,) `predicted`, one column
    /// per label, `error`.
    Csv,
}

/// One line of output: a prediction (of a whole input or of one window) or
/// the error that stopped an input.
pub struct Row<'a> {
    /// The input the row is about.
    pub input: &'a Input,
    /// Start and end of the window in seconds; `None` for a whole input.
    pub window: Option<(f64, f64)>,
    /// The prediction, or the text of the error that stopped the input.
    pub outcome: std::result::Result<&'a Prediction, &'a str>,
}

/// Formats rows; it knows the labels (the columns) and, for the table, the
/// width of the id column, so lines can be written as soon as they are ready.
pub struct Writer {
    format: Format,
    labels: Vec<String>,
    id_width: usize,
    windowed: bool,
}

impl Writer {
    /// A writer for rows of a model with class names `labels` over `inputs`
    /// (which set the table's id column width); `windowed` adds the window
    /// start and end columns.
    pub fn new(format: Format, labels: &[String], inputs: &[Input], windowed: bool) -> Writer {
        let id_width = inputs
            .iter()
            .map(|i| i.id.chars().count())
            .max()
            .unwrap_or(0)
            .max(2);
        Writer {
            format,
            labels: labels.to_vec(),
            id_width,
            windowed,
        }
    }

    /// The header line (with its newline), empty for JSON lines.
    pub fn header(&self) -> String {
        let mut s = String::new();
        match self.format {
            Format::Table => {
                let _ = write!(s, "{:<w$}", "id", w = self.id_width);
                if self.windowed {
                    let _ = write!(s, " {:>8} {:>8}", "start", "end");
                }
                let _ = write!(s, "  {:<10}", "predicted");
                for l in &self.labels {
                    let _ = write!(s, " {l:>8}");
                }
                s = s.trim_end().to_string();
                s.push('\n');
            }
            Format::Csv => {
                let mut fields = vec!["id".to_string(), "path".into()];
                if self.windowed {
                    fields.extend(["start".into(), "end".into()]);
                }
                fields.push("predicted".into());
                fields.extend(self.labels.iter().cloned());
                fields.push("error".into());
                s = csv_line(&fields);
            }
            Format::Jsonl => {}
        }
        s
    }

    /// One row as a line (with its newline).
    pub fn row(&self, row: &Row<'_>) -> String {
        match self.format {
            Format::Table => self.table_row(row),
            Format::Jsonl => self.json_row(row),
            Format::Csv => self.csv_row(row),
        }
    }

    fn table_row(&self, row: &Row<'_>) -> String {
        let mut s = format!("{:<w$}", row.input.id, w = self.id_width);
        if self.windowed {
            match row.window {
                Some((a, b)) => {
                    let _ = write!(s, " {a:>8.2} {b:>8.2}");
                }
                None => {
                    let _ = write!(s, " {:>8} {:>8}", "-", "-");
                }
            }
        }
        match row.outcome {
            Ok(p) => {
                let _ = write!(s, "  {:<10}", p.label);
                for v in &p.probabilities {
                    let _ = write!(s, " {v:>8.3}");
                }
            }
            Err(e) => {
                let _ = write!(s, "  error: {e}");
            }
        }
        s.push('\n');
        s
    }

    fn json_row(&self, row: &Row<'_>) -> String {
        let mut obj = serde_json::Map::new();
        obj.insert("id".into(), row.input.id.clone().into());
        obj.insert("path".into(), row.input.path.display().to_string().into());
        if let Some((a, b)) = row.window {
            obj.insert("start".into(), serde_json::json!(a));
            obj.insert("end".into(), serde_json::json!(b));
        }
        match row.outcome {
            Ok(p) => {
                obj.insert("predicted".into(), p.label.clone().into());
                let probs: serde_json::Map<String, serde_json::Value> = self
                    .labels
                    .iter()
                    .zip(&p.probabilities)
                    .map(|(l, &v)| (l.clone(), serde_json::json!(v)))
                    .collect();
                obj.insert("probabilities".into(), probs.into());
            }
            Err(e) => {
                obj.insert("error".into(), e.into());
            }
        }
        let mut s = serde_json::Value::Object(obj).to_string();
        s.push('\n');
        s
    }

    fn csv_row(&self, row: &Row<'_>) -> String {
        let mut fields = vec![row.input.id.clone(), row.input.path.display().to_string()];
        if self.windowed {
            match row.window {
                Some((a, b)) => fields.extend([format!("{a}"), format!("{b}")]),
                None => fields.extend([String::new(), String::new()]),
            }
        }
        match row.outcome {
            Ok(p) => {
                fields.push(p.label.clone());
                fields.extend(p.probabilities.iter().map(|v| v.to_string()));
                fields.push(String::new());
            }
            Err(e) => {
                fields.extend(std::iter::repeat(String::new()).take(self.labels.len() + 1));
                fields.push(e.to_string());
            }
        }
        csv_line(&fields)
    }
}

/// Fields joined by commas, quoted (RFC 4180) where they hold a comma, a
/// quote or a line break.
fn csv_line(fields: &[String]) -> String {
    let mut s = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        if f.contains([',', '"', '\n', '\r']) {
            s.push('"');
            s.push_str(&f.replace('"', "\"\""));
            s.push('"');
        } else {
            s.push_str(f);
        }
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn prediction() -> Prediction {
        Prediction {
            label: "sad".into(),
            index: 1,
            probabilities: vec![0.25, 0.75],
        }
    }

    #[test]
    fn every_format_keys_rows_by_id_and_reports_errors() {
        let labels = ["happy".to_string(), "sad".to_string()];
        let input = Input {
            id: "u,1".into(),
            path: PathBuf::from("a.wav"),
        };
        let p = prediction();
        let ok = Row {
            input: &input,
            window: Some((0.0, 1.5)),
            outcome: Ok(&p),
        };
        let bad = Row {
            input: &input,
            window: None,
            outcome: Err("a.wav: not a WAV file"),
        };
        let inputs = [input.clone()];

        let csv = Writer::new(Format::Csv, &labels, &inputs, true);
        assert_eq!(
            csv.header(),
            "id,path,start,end,predicted,happy,sad,error\n"
        );
        assert_eq!(csv.row(&ok), "\"u,1\",a.wav,0,1.5,sad,0.25,0.75,\n");
        assert_eq!(csv.row(&bad), "\"u,1\",a.wav,,,,,,a.wav: not a WAV file\n");

        let json = Writer::new(Format::Jsonl, &labels, &inputs, true);
        assert_eq!(json.header(), "");
        let v: serde_json::Value = serde_json::from_str(&json.row(&ok)).unwrap();
        assert_eq!(v["id"], "u,1");
        assert_eq!(v["end"], 1.5);
        assert_eq!(v["probabilities"]["sad"], 0.75);
        let v: serde_json::Value = serde_json::from_str(&json.row(&bad)).unwrap();
        assert_eq!(v["error"], "a.wav: not a WAV file");

        let table = Writer::new(Format::Table, &labels, &inputs, false);
        let row = Row { window: None, ..ok };
        assert_eq!(table.header(), "id   predicted     happy      sad\n");
        assert_eq!(table.row(&row), "u,1  sad           0.250    0.750\n");
        assert!(table.row(&bad).contains("error: a.wav"));
    }
}
