//! The EmoEvaluation text of one dialog, in IEMOCAP's format: a `%` header,
//! then per utterance a tab-separated line `[start - end] name label [V, A, D]`
//! followed by the categorical (`C-E2:\tNeutral;\t()`) and dimensional
//! (`A-E3:\tval 3; act 2; dom  2;\t()`) evaluator lines and a blank line.
//! The bracketed V/A/D values are the means of the `A-` lines.

use super::emotion::{Performance, Tag};
use std::fmt::Write;

/// One utterance of a dialog, with its place on the dialog's time line.
pub struct Entry<'a> {
    pub name: &'a str,
    pub tag: Tag,
    pub start_s: f64,
    pub end_s: f64,
    pub performance: &'a Performance,
}

pub fn dialog_text(entries: &[Entry<'_>]) -> String {
    let mut text = String::from("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n");
    for e in entries {
        let [v, a, d] = e.performance.vad();
        // Writing into a String cannot fail.
        let _ = writeln!(
            text,
            "[{:.4} - {:.4}]\t{}\t{}\t[{v:.4}, {a:.4}, {d:.4}]",
            e.start_s,
            e.end_s,
            e.name,
            e.tag.code()
        );
        for (who, word) in &e.performance.categorical {
            let _ = writeln!(text, "C-{who}:\t{word};\t()");
        }
        for (who, [v, a, d]) in &e.performance.ratings {
            let _ = writeln!(text, "A-{who}:\tval {v}; act {a}; dom  {d};\t()");
        }
        text.push('\n');
    }
    text
}
