//! Transparent huge pages for large buffers (Linux): a fresh 6 MB buffer
//! touched page by page costs ~1500 page faults of a few microseconds each,
//! more than reading a model file or running a prediction; with 2 MB pages
//! it costs three. Kernels configured with THP in `madvise` mode (the usual
//! default) give huge pages only to memory that asks, hence this advice.
//! Contents and results do not change; where the advice is refused, or on
//! other systems, nothing happens.

/// Buffers smaller than this keep ordinary pages.
const MIN_BYTES: usize = 4 << 20;
const HUGE: usize = 2 << 20;

/// Asks for huge pages under the whole 2 MB-aligned part of `v`'s
/// allocation (call it before the memory is first touched).
pub(crate) fn advise<T>(v: &mut Vec<T>) {
    let bytes = v.capacity() * std::mem::size_of::<T>();
    if bytes < MIN_BYTES {
        return;
    }
    let start = v.as_mut_ptr() as usize;
    let first = start.next_multiple_of(HUGE);
    let last = (start + bytes) / HUGE * HUGE;
    if last > first {
        sys::advise(first, last - first);
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use std::ffi::{c_int, c_void};

    const MADV_HUGEPAGE: c_int = 14;

    extern "C" {
        fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
    }

    pub(super) fn advise(addr: usize, len: usize) {
        // SAFETY: the range lies inside one live allocation of this process
        // and is aligned to 2 MB; MADV_HUGEPAGE changes no contents, and its
        // failure (e.g. THP disabled) leaves the memory as it was.
        unsafe {
            madvise(addr as *mut c_void, len, MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    pub(super) fn advise(_addr: usize, _len: usize) {}
}
