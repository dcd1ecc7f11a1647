//! Progress of long work: one bar per run, drawn on stderr only when it is
//! a terminal and the user did not ask for quiet output, so logs, pipes and
//! CI output stay line-oriented (whole lines, no cursor control).
//!
//! This is the only module that knows how a bar is drawn; the rest of the
//! library sees [`Progress`], a handle that counts work done and prints
//! lines without tearing the bar.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Asks for no bar at all, whatever stderr is (`--quiet`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether the user asked for quiet output.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Whether a bar would be drawn: stderr is a terminal and output is not quiet.
pub fn enabled() -> bool {
    !quiet() && std::io::stderr().is_terminal()
}

/// A count of work done out of a known total, shared by every thread of a
/// run (clones are handles to the same bar). A hidden one counts nothing
/// and prints lines plainly.
#[derive(Clone, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.bar {
            Some(b) => write!(f, "Progress({}/{:?})", b.position(), b.length()),
            None => f.write_str("Progress(hidden)"),
        }
    }
}

impl Progress {
    /// Counts nothing and draws nothing.
    pub fn hidden() -> Self {
        Progress { bar: None }
    }

    /// A bar of `len` steps labelled `what`, drawn only where [`enabled`]
    /// says; hidden otherwise.
    pub fn new(len: u64, what: &str) -> Self {
        if !enabled() {
            return Self::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>20} [{bar:30}] {percent:>3}% {elapsed_precise} eta {eta_precise}",
            )
            .expect("valid progress template")
            .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        Progress { bar: Some(bar) }
    }

    /// Whether a bar is drawn.
    pub fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }

    /// Records `n` more steps done.
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Records `n` steps that took no time (resumed or reused work), so
    /// that they do not make the remaining time look shorter than it is.
    pub fn skip(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
            b.reset_eta();
        }
    }

    /// Prints one line on stderr, above the bar when one is drawn.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar (the work is done or abandoned).
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
