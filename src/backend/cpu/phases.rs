//! Phases of disjoint parts, run by the caller and helper threads: the
//! packed LSTM's step scheduler. Step `t + 1` needs every part of step `t`,
//! so each step is a phase, and a barrier separates the phases.
//!
//! Parts never write the same value and nothing is reduced across them, so
//! which thread runs a part changes no result. The barrier waits only for a
//! part some thread has claimed and is running: a late or absent helper
//! thread only means the caller does its parts too.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A pointer into a buffer whose disjoint parts several threads write.
#[derive(Clone, Copy)]
pub(super) struct Shared(pub(super) *mut f32);
// SAFETY: the threads that share one write disjoint elements, and every read
// of another part's writes is ordered after them by `run_phases`' barrier.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

/// Slices of `len` values at `p + offset`.
///
/// # Safety
/// The range lies in one live buffer and, for `mut_at`, no other thread or
/// live reference touches it for `'a`.
pub(super) unsafe fn at<'a>(p: Shared, offset: usize, len: usize) -> &'a [f32] {
    std::slice::from_raw_parts(p.0.add(offset), len)
}
pub(super) unsafe fn mut_at<'a>(p: Shared, offset: usize, len: usize) -> &'a mut [f32] {
    std::slice::from_raw_parts_mut(p.0.add(offset), len)
}

/// Blocks `part` of `parts` owns: a contiguous, balanced range.
pub(super) fn part_blocks(blocks: usize, parts: usize, part: usize) -> std::ops::Range<usize> {
    blocks * part / parts..blocks * (part + 1) / parts
}

/// Runs `work(phase, part)` for every phase `0..phases` and part
/// `0..parts`, every part of a phase finishing before any part of the next
/// starts.
///
/// Up to `parts` threads of the current rayon pool take part: the caller
/// and `parts - 1` spawned helpers. A thread claims an unclaimed part of
/// the current phase (its own part first, so that a part's panels stay in
/// one core's cache), runs it, and otherwise spins until the phase is
/// complete. Waiting is only ever for a part some thread has claimed and is
/// running, so the loop cannot deadlock when a helper starts late or never
/// (busy cores, a pool of one): the caller then runs every part itself.
/// `work` must not use rayon itself (a part is never waited for from
/// inside another).
pub(super) fn run_phases(phases: usize, parts: usize, work: &(dyn Fn(usize, usize) + Sync)) {
    if parts <= 1 {
        for t in 0..phases {
            work(t, 0);
        }
        return;
    }
    // `next[p]`: the first phase whose part p nobody has claimed yet.
    let next: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
    // Parts completed over all phases: phase t is complete at (t + 1) parts.
    let completed = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let total = phases * parts;
    let worker = |me: usize| {
        /// Marks the run failed when a part panics, so that the other
        /// threads stop waiting for it and the panic reaches the caller.
        struct Poison<'a>(&'a AtomicBool);
        impl Drop for Poison<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
        }
        let _poison = Poison(&failed);
        let mut idle = 0u32;
        loop {
            // Acquire: the writes of every completed part are visible.
            let done = completed.load(Ordering::Acquire);
            if done >= total {
                return;
            }
            let t = done / parts;
            let claimed = (0..parts).map(|i| (me + i) % parts).find(|&p| {
                next[p].load(Ordering::Relaxed) == t
                    && next[p]
                        .compare_exchange(t, t + 1, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
            });
            match claimed {
                Some(p) => {
                    work(t, p);
                    // Release: publishes the part's writes with its count.
                    completed.fetch_add(1, Ordering::Release);
                    idle = 0;
                }
                None => {
                    assert!(
                        !failed.load(Ordering::Relaxed),
                        "lstm: a part of the recurrence panicked on another thread"
                    );
                    idle += 1;
                    if idle < 4096 {
                        std::hint::spin_loop();
                    } else {
                        // A part's thread was descheduled: let it run.
                        std::thread::yield_now();
                    }
                }
            }
        }
    };
    rayon::scope(|s| {
        for me in 1..parts {
            let worker = &worker;
            s.spawn(move |_| worker(me));
        }
        worker(0);
    });
}
