//! The crate's error type. Every error a user can cause names what was wrong
//! and, where there is one, the file (and line) it came from.

use std::fmt;
use std::path::{Path, PathBuf};

/// Everything that can go wrong in the library and the binary; its
/// `Display` is the one-line message `vaeser` prints, and
/// [`Error::exit_code`] the process exit status.
#[derive(Debug)]
pub enum Error {
    /// Shapes that do not fit together (layers, buffers, checkpoints).
    Shape(String),
    /// An I/O failure on a file.
    Io {
        /// The file or directory the operation was on.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// A file that was read but whose content is wrong.
    Format {
        /// The file that was read.
        path: PathBuf,
        /// The 1-based line the problem is on, for line-oriented files.
        line: Option<usize>,
        /// What is wrong with the content.
        message: String,
    },
    /// A configuration or command-line value that cannot be used.
    Config(String),
    /// The CUDA backend could not be used.
    Device(String),
    /// The user interrupted a run, or another condition that stops it cleanly.
    Interrupted(String),
    /// A command-line value that cannot be used; the message names the
    /// option and says what to do instead.
    Usage(String),
    /// Input data from which no result can be made (no usable utterance, a
    /// file of the wrong kind for the command).
    Data(String),
    /// A command that carries on past bad inputs (`predict`) finished with
    /// some of them failed; each was reported where it occurred.
    Failures {
        /// What was counted, plural ("inputs").
        what: &'static str,
        /// How many of them failed (at least 1).
        failed: usize,
        /// How many there were in all.
        total: usize,
    },
    /// A buffer could not be allocated (what it was for and its size).
    OutOfMemory(String),
    /// Training produced a non-finite loss or parameter (epoch, step, tensor).
    Diverged(String),
    /// A computed value that must be finite (features, probabilities) is not.
    NonFinite(String),
    /// A path holds a file this program did not write (or of another kind):
    /// it is left alone unless the user says `--force`.
    Refused {
        /// The path that was not written to.
        path: PathBuf,
        /// Why, and what to do instead.
        message: String,
    },
}

/// The largest exit code that counts failed inputs: higher codes mean
/// signals to a shell (126-165), so larger counts are reported as 100.
pub const MAX_FAILURE_CODE: usize = 100;

/// The crate's result type: [`Error`] unless said otherwise.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
    /// An [`Error::Format`] about the whole of `path` (no line).
    pub fn format(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            line: None,
            message: message.into(),
        }
    }
    /// An [`Error::Format`] at the 1-based `line` of `path`.
    pub fn format_at(path: impl AsRef<Path>, line: usize, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            line: Some(line),
            message: message.into(),
        }
    }
    /// An [`Error::Shape`].
    pub fn shape(message: impl Into<String>) -> Self {
        Error::Shape(message.into())
    }
    /// An [`Error::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }
    /// An [`Error::Usage`]; the message should name the option.
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }
    /// An [`Error::Data`].
    pub fn data(message: impl Into<String>) -> Self {
        Error::Data(message.into())
    }

    /// The process exit code for this error: the number of failed inputs
    /// (at most 100) when a command carried on past them, else 1 (clap
    /// itself exits with 2 on a command line that does not parse).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Failures { failed, .. } => (*failed).clamp(1, MAX_FAILURE_CODE) as i32,
            _ => 1,
        }
    }
    /// An [`Error::Refused`] for `path`.
    pub fn refused(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Refused {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape(m) => write!(f, "shape mismatch: {m}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Format {
                path,
                line: Some(line),
                message,
            } => {
                write!(f, "{}:{line}: {message}", path.display())
            }
            Error::Format {
                path,
                line: None,
                message,
            } => write!(f, "{}: {message}", path.display()),
            Error::Config(m) => write!(f, "configuration: {m}"),
            Error::Device(m) => write!(f, "device: {m}"),
            Error::Interrupted(m) => write!(f, "interrupted: {m}"),
            Error::Usage(m) => write!(f, "{m}"),
            Error::Data(m) => write!(f, "{m}"),
            Error::Failures {
                what,
                failed,
                total,
            } => write!(f, "{failed} of {total} {what} failed"),
            Error::OutOfMemory(m) => write!(f, "out of memory: {m}"),
            Error::Diverged(m) => write!(f, "training diverged: {m}"),
            Error::NonFinite(m) => write!(f, "non-finite result: {m}"),
            Error::Refused { path, message } => write!(f, "{}: {message}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Checks that a buffer has the length a shape asks for.
pub fn check_len(what: &str, len: usize, shape: &[usize]) -> Result<()> {
    let want: usize = shape.iter().product();
    if len == want {
        Ok(())
    } else {
        Err(Error::Shape(format!(
            "{what}: expected shape {shape:?} ({want} values), got {len} values"
        )))
    }
}
