//! Per-thread, 64-byte aligned scratch buffers for packed weight panels,
//! kept between calls so that a product does not allocate (and page-fault)
//! its panels every time.

use std::cell::Cell;
use std::thread::LocalKey;

/// A thread's slot: each kernel family keeps its own, so that its buffer is
/// sized for its own panels.
pub(super) type Slot = LocalKey<Cell<Vec<f32>>>;

/// Runs `f` on an aligned scratch of `len` values taken out of `slot` for
/// the call, so that a nested call (a rayon thread waiting at a barrier may
/// run another task's kernel) gets a buffer of its own; the larger of the
/// two goes back.
pub(super) fn with_scratch<R>(
    slot: &'static Slot,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    // Room to move the start to a 64-byte boundary (16 values).
    const ALIGN_SLACK: usize = 16;
    let mut buf = slot.with(Cell::take);
    if buf.len() < len + ALIGN_SLACK {
        buf = vec![0.0; len + ALIGN_SLACK];
    }
    let offset = buf.as_ptr().align_offset(64);
    let r = f(&mut buf[offset..offset + len]);
    slot.with(|slot| {
        let other = slot.take();
        slot.set(if other.len() > buf.len() { other } else { buf });
    });
    r
}
