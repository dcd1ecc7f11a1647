//! Ctrl-C and SIGTERM: the first signal asks the run to stop at the next
//! training step (the fold in progress is abandoned, every completed fold
//! is already on disk) or, while a corpus's features are computed, before
//! the next file (those computed go into the cache), so the command can
//! write what is complete and say how to resume; a second signal stops at once, removing this process's
//! temporary files first.
//!
//! A flag polled by the training loops rather than work done inside the
//! handler: the handler runs on its own thread, in the middle of whatever
//! the run was doing, and cannot safely write results.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status of a run stopped by a signal (128 + SIGINT, as shells report it).
pub const EXIT_CODE: i32 = 130;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once per process; later calls do nothing).
pub fn install() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let result = ctrlc::set_handler(|| {
            if REQUESTED.swap(true, Ordering::SeqCst) {
                eprintln!("\nsecond interrupt: stopping now");
                crate::fsutil::remove_own_temporaries();
                std::process::exit(EXIT_CODE);
            }
            eprintln!(
                "\ninterrupt: stopping at the next training step and writing what is complete \
                 (interrupt again to stop at once)"
            );
        });
        if let Err(e) = result {
            // Without a handler the default action (termination) applies:
            // worse, but no reason to refuse the run.
            eprintln!("warning: cannot install the interrupt handler: {e}");
        }
    });
}

/// Asks the run to stop, as the first signal does: for programs that embed
/// the library and handle signals (or a stop button) themselves.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Withdraws a stop request once it has been handled, so that a program
/// embedding the library can start another run in the same process.
pub fn reset() {
    REQUESTED.store(false, Ordering::SeqCst);
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// `Error::Interrupted` once a stop was asked for; the training loops call
/// it at every step.
pub fn check() -> Result<()> {
    if requested() {
        Err(Error::Interrupted(
            "stopped by a signal (Ctrl-C or SIGTERM)".into(),
        ))
    } else {
        Ok(())
    }
}
