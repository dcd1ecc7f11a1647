//! Progress bars for long work. They draw on stderr only when it is a
//! terminal, so logs and CI output stay clean.
//!
//! Without the `cli` feature the library draws nothing: [`bar`] returns a
//! sink with the same methods, so callers need no feature checks of their own.

#[cfg(feature = "cli")]
pub use indicatif::ProgressBar;

/// A bar of `len` steps labelled `what`.
#[cfg(feature = "cli")]
pub fn bar(len: u64, what: &str) -> ProgressBar {
    use indicatif::ProgressStyle;
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>24} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .expect("valid progress template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// The library without the command line draws no bars: every call is a no-op.
#[cfg(not(feature = "cli"))]
#[derive(Debug)]
pub struct ProgressBar;

#[cfg(not(feature = "cli"))]
impl ProgressBar {
    /// Does nothing.
    pub fn inc(&self, _delta: u64) {}
    /// Does nothing.
    pub fn finish_and_clear(&self) {}
}

/// A sink of `len` steps (no bar is drawn without the `cli` feature).
#[cfg(not(feature = "cli"))]
pub fn bar(_len: u64, _what: &str) -> ProgressBar {
    ProgressBar
}
