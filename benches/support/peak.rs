//! The reference that the GEMM and dense benches express their speed against:
//! one core's fused multiply-add peak, measured in the same run by a loop of
//! independent FMAs with no memory traffic.
//!
//! Two widths are measured because matrixmultiply picks its kernel at run
//! time: on a CPU with AVX-512 its sgemm uses 16-lane FMAs although the crate
//! itself is compiled for AVX2 (8 lanes). The project's target ("70% of one
//! core's FMA peak") is stated against the 8-lane peak; the 16-lane one is
//! printed as well so that nobody mistakes the first percentage for
//! efficiency on the wider unit.
//!
//! The machine the project is developed on is a shared two-core virtual
//! machine: while other processes compete for the cores, a timed run loses
//! half its speed or more to time slicing. The benches therefore
//! measure the peak in several rounds interleaved with their subject and take
//! the fastest round as the peak (interference can only slow the loop down).
//! The subject's median against that peak errs on the side of a lower
//! percentage; its fastest run, measured the same way as the peak, is
//! printed next to it.
//!
//! Its timing helpers (`median_seconds`, `min_seconds`) serve the benches
//! that compare against other references as well.

use std::time::Instant;

/// Independent accumulators: more than latency (4 cycles) x FMA pipes (2) so
/// the loop is throughput-bound, few enough to stay in registers.
const CHAINS: usize = 12;
const ITERS: usize = 2_000_000;

/// The median of `values` (sorted in place).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Seconds of the fastest of `reps` timed calls of `f`.
pub fn min_seconds(mut f: impl FnMut(), reps: usize) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Median seconds of `reps` timed calls of `f` after one warm-up call.
pub fn median_seconds(mut f: impl FnMut(), reps: usize) -> f64 {
    f();
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    median(&mut times)
}

/// One core's FMA peak in GFLOP/s (an FMA counts as 2 flops).
pub struct FmaPeak {
    /// 8-lane (AVX2) FMAs: the width the crate's own kernels use.
    pub lanes8: f64,
    /// 16-lane (AVX-512) FMAs, when the CPU has them.
    pub lanes16: Option<f64>,
}

impl FmaPeak {
    /// Measures both widths on the calling thread (fastest of `reps` runs).
    pub fn measure(reps: usize) -> Self {
        let flops8 = (2 * 8 * CHAINS * ITERS) as f64;
        let t8 = min_seconds(
            || {
                std::hint::black_box(fma_loop_8());
            },
            reps,
        );
        let lanes16 = lanes16_seconds(reps).map(|t| 2.0 * flops8 / t * 1e-9);
        FmaPeak {
            lanes8: flops8 / t8 * 1e-9,
            lanes16,
        }
    }
}

/// A subject and a reference doing the same `flops`, timed in interleaved
/// rounds on the calling thread together with the FMA peak. Times are
/// medians over the rounds, the time ratio is the median of the per-round
/// ratios, and the peak is the fastest round's (see the module comment).
pub struct SideBySide {
    pub flops: f64,
    pub subject_s: f64,
    /// The subject's fastest run, measured like the peak (fastest of all).
    pub subject_fastest_s: f64,
    pub reference_s: f64,
    /// Subject time / reference time.
    pub ratio: f64,
    pub peak: FmaPeak,
}

impl SideBySide {
    pub fn measure(
        rounds: usize,
        reps: usize,
        flops: f64,
        mut subject: impl FnMut(),
        mut reference: impl FnMut(),
    ) -> Self {
        let (mut ts, mut tr, mut ratio) = (vec![], vec![], vec![]);
        let mut fastest = f64::INFINITY;
        let mut peak = FmaPeak {
            lanes8: 0.0,
            lanes16: None,
        };
        for _ in 0..rounds {
            let p = FmaPeak::measure(3);
            peak.lanes8 = peak.lanes8.max(p.lanes8);
            peak.lanes16 = match (peak.lanes16, p.lanes16) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            let t_subject = median_seconds(&mut subject, reps);
            fastest = fastest.min(min_seconds(&mut subject, reps));
            let t_reference = median_seconds(&mut reference, reps);
            ts.push(t_subject);
            tr.push(t_reference);
            ratio.push(t_subject / t_reference);
        }
        SideBySide {
            flops,
            subject_s: median(&mut ts),
            subject_fastest_s: fastest,
            reference_s: median(&mut tr),
            ratio: median(&mut ratio),
            peak,
        }
    }

    /// "time, GFLOP/s, share of peak (peak); reference time, GFLOP/s, ratio".
    pub fn describe(&self, reference: &str) -> String {
        let gf = |t: f64| self.flops / t * 1e-9;
        let g = gf(self.subject_s);
        let mut s = format!(
            "median {:.3} ms, {g:.1} GFLOP/s = {:.0}% of the 8-lane FMA peak ({:.1} GFLOP/s",
            self.subject_s * 1e3,
            100.0 * g / self.peak.lanes8,
            self.peak.lanes8
        );
        if let Some(p) = self.peak.lanes16 {
            s += &format!(
                "), {:.0}% of the 16-lane peak ({p:.1} GFLOP/s",
                100.0 * g / p
            );
        }
        let best = gf(self.subject_fastest_s);
        s += &format!(
            "); fastest run {:.3} ms, {best:.1} GFLOP/s = {:.0}% of the 8-lane peak",
            self.subject_fastest_s * 1e3,
            100.0 * best / self.peak.lanes8
        );
        if let Some(p) = self.peak.lanes16 {
            s += &format!(", {:.0}% of the 16-lane peak", 100.0 * best / p);
        }
        s += &format!(
            "; {reference}: {:.3} ms, {:.1} GFLOP/s; time ratio {:.3}",
            self.reference_s * 1e3,
            gf(self.reference_s),
            self.ratio
        );
        s
    }
}

fn fma_loop_8() -> f32 {
    use wide::f32x8;
    let mut acc = [f32x8::splat(0.0); CHAINS];
    for (i, a) in acc.iter_mut().enumerate() {
        *a = f32x8::splat(i as f32 * 1e-3);
    }
    // Multiplier just below one and a tiny addend keep the values finite
    // and normal over millions of iterations.
    let mul = std::hint::black_box(f32x8::splat(0.999_999));
    let add = std::hint::black_box(f32x8::splat(1e-7));
    for _ in 0..ITERS {
        for a in acc.iter_mut() {
            *a = a.mul_add(mul, add);
        }
    }
    acc.iter().map(|a| a.reduce_add()).sum()
}

#[cfg(target_arch = "x86_64")]
fn lanes16_seconds(reps: usize) -> Option<f64> {
    if !std::arch::is_x86_feature_detected!("avx512f") {
        return None;
    }
    // SAFETY: avx512f was detected above.
    Some(min_seconds(
        || {
            std::hint::black_box(unsafe { fma_loop_16() });
        },
        reps,
    ))
}

#[cfg(not(target_arch = "x86_64"))]
fn lanes16_seconds(_reps: usize) -> Option<f64> {
    None
}

// AVX-512 intrinsics are stable from Rust 1.89, above the crate's declared
// minimum; only this bench reference needs them, the library does not.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::incompatible_msrv)]
unsafe fn fma_loop_16() -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm512_setzero_ps(); CHAINS];
    for (i, a) in acc.iter_mut().enumerate() {
        *a = _mm512_set1_ps(i as f32 * 1e-3);
    }
    let mul = _mm512_set1_ps(std::hint::black_box(0.999_999));
    let add = _mm512_set1_ps(std::hint::black_box(1e-7));
    for _ in 0..ITERS {
        for a in acc.iter_mut() {
            *a = _mm512_fmadd_ps(*a, mul, add);
        }
    }
    acc.iter().map(|&a| _mm512_reduce_add_ps(a)).sum()
}
