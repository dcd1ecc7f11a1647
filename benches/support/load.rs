//! Foreign CPU load during a timed section, from /proc/stat: the machine's
//! busy time minus this process's own CPU time (from /proc/self/stat),
//! as a fraction of the wall time times the number of CPUs. The benches
//! drop trials during which other processes used more than [`MAX_FOREIGN`]
//! of the machine, since on a shared machine those measure the neighbours.

use std::time::Instant;

/// The largest share of the machine that other processes may use during a
/// kept trial.
pub const MAX_FOREIGN: f64 = 0.10;

/// CPU-busy ticks of the whole machine (all fields but idle and iowait).
fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal guest guest_nice;
    // guest time is already counted in user.
    let busy: u64 = v
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, x)| x)
        .sum();
    Some(busy)
}

/// This process's user + system ticks (all threads, children excluded).
fn own_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after ')'.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Clock ticks per second of /proc/stat (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

pub struct Watch {
    start: Instant,
    machine: Option<u64>,
    own: Option<u64>,
    /// Ticks of other processes already measured elsewhere (e.g. a child
    /// process doing the reference's half of the trial), not foreign.
    pub excused_ticks: u64,
}

impl Watch {
    pub fn start() -> Self {
        Watch {
            start: Instant::now(),
            machine: machine_busy_ticks(),
            own: own_ticks(),
            excused_ticks: 0,
        }
    }

    /// Share of the machine (0 = none, 1 = every CPU) that processes other
    /// than this one (and the excused ticks) kept busy since `start`; 0 where
    /// /proc is not readable.
    pub fn foreign_load(&self) -> f64 {
        let (Some(m0), Some(o0), Some(m1), Some(o1)) =
            (self.machine, self.own, machine_busy_ticks(), own_ticks())
        else {
            return 0.0;
        };
        let foreign = (m1 - m0)
            .saturating_sub(o1 - o0)
            .saturating_sub(self.excused_ticks);
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let wall = self.start.elapsed().as_secs_f64();
        foreign as f64 / TICKS_PER_SECOND / (wall * cpus)
    }
}

/// From trials `(a, b, foreign load)`: the times of `a`, of `b`, and the
/// per-trial ratios `a / b` of the trials without foreign load, and a note
/// saying how many were kept. When every trial had foreign load all are
/// used and the note says so (the ratio of side-by-side trials still means
/// something; absolute times do not).
pub fn keep_clean(trials: &[(f64, f64, f64)]) -> (Vec<f64>, Vec<f64>, Vec<f64>, String) {
    let clean: Vec<_> = trials.iter().filter(|t| t.2 <= MAX_FOREIGN).collect();
    let (used, note) = if clean.is_empty() {
        let worst = trials.iter().map(|t| t.2).fold(0.0, f64::max);
        (
            trials.iter().collect::<Vec<_>>(),
            format!(
                "0/{} clean (loaded, up to {:.0}%)",
                trials.len(),
                100.0 * worst
            ),
        )
    } else {
        let n = clean.len();
        (clean, format!("{n}/{}", trials.len()))
    };
    (
        used.iter().map(|t| t.0).collect(),
        used.iter().map(|t| t.1).collect(),
        used.iter().map(|t| t.0 / t.1).collect(),
        note,
    )
}

/// Nanoseconds this process's threads have spent on a CPU (the first field
/// of each /proc/self/task/*/schedstat). On one thread this is the time a
/// trial really computed, unaffected by time slicing on a busy machine; on
/// two it also counts spin-waiting, so it is quoted for one thread only.
pub fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}
