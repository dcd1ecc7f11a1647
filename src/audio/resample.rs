//! Band-limited resampling between any two integer rates: an exact rational
//! polyphase filter bank built from a Kaiser-windowed sinc.
//!
//! Written here rather than taken from a crate because the job is small (one
//! table and one dot product per output sample), the result must be
//! bit-identical on every run and thread count, and the filter must meet a
//! specific, tested response: flat within 0.1 dB up to 7/8 of the lower
//! Nyquist frequency (7 kHz for 16 kHz output) and at least 60 dB down from
//! the Nyquist frequency on (8 kHz), designed for 80 dB for margin.
//!
//! Output sample `n` lies at input time `n * from / to`: the filter is
//! symmetric (zero phase), so nothing is delayed and the first output sample
//! is the first input instant, as in sox. Samples outside the signal are zero.

/// Stop-band attenuation the Kaiser window is designed for, in dB.
const ATTENUATION_DB: f64 = 80.0;
/// Passband edge as a fraction of the lower Nyquist frequency.
const PASSBAND: f64 = 0.875;
/// Phase tables larger than this many coefficients are not stored; such rate
/// pairs (nearly coprime rates, e.g. 44101 Hz) compute coefficients per
/// output sample instead.
const MAX_TABLE: usize = 1 << 20;

use crate::error::{Error, Result};
use crate::limits::{check_sample_rate, try_with_capacity, try_zeroed};

/// A resampler from one rate to another; build once, apply to many signals.
pub struct Resampler {
    /// Output samples advance `down / up` input samples each.
    up: u64,
    down: u64,
    /// Taps reach `half` input samples either side of the output instant.
    half: usize,
    cutoff: f64,
    half_width: f64,
    beta: f64,
    /// `bessel_i0(beta)`, the window's normaliser.
    i0_beta: f64,
    /// `up` phases of `2 * half + 1` taps each (empty when too large).
    table: Vec<f32>,
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > 1e-17 * sum {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

impl Resampler {
    /// # Panics
    /// If a rate is 0 (the WAV reader rejects such files).
    pub fn new(from: u32, to: u32) -> Self {
        assert!(from > 0 && to > 0, "sample rates must be positive");
        let g = gcd(from as u64, to as u64);
        let (up, down) = (to as u64 / g, from as u64 / g);
        let nyquist = from.min(to) as f64 / 2.0;
        let transition = (1.0 - PASSBAND) * nyquist;
        // Cut-off in cycles per input sample, centred in the transition band.
        let cutoff = (PASSBAND * nyquist + transition / 2.0) / from as f64;
        // Kaiser's design formulas for the window shape and length.
        let beta = 0.1102 * (ATTENUATION_DB - 8.7);
        let length = (ATTENUATION_DB - 7.95)
            / (2.285 * 2.0 * std::f64::consts::PI)
            / (transition / from as f64);
        let half_width = length / 2.0;
        let half = half_width.ceil() as usize;
        let mut resampler = Resampler {
            up,
            down,
            half,
            cutoff,
            half_width,
            beta,
            i0_beta: bessel_i0(beta),
            table: Vec::new(),
        };
        let taps = resampler.taps();
        if (up as usize).saturating_mul(taps) <= MAX_TABLE {
            let mut table = vec![0.0f32; up as usize * taps];
            for (phase, row) in table.chunks_exact_mut(taps).enumerate() {
                resampler.phase_coefficients(phase as u64, row);
            }
            resampler.table = table;
        }
        resampler
    }

    fn taps(&self) -> usize {
        2 * self.half + 1
    }

    /// The impulse response at `t` input samples from its centre; unit area.
    fn impulse(&self, t: f64) -> f64 {
        if t.abs() >= self.half_width {
            return 0.0;
        }
        let x = 2.0 * self.cutoff * t;
        let sinc = if x == 0.0 {
            1.0
        } else {
            (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
        };
        let r = t / self.half_width;
        let window = bessel_i0(self.beta * (1.0 - r * r).sqrt()) / self.i0_beta;
        2.0 * self.cutoff * sinc * window
    }

    /// Taps for an output instant `phase / up` input samples after input
    /// sample `k`, applied to inputs `k - half ..= k + half`. Each phase is
    /// scaled to unit sum, so DC passes exactly whatever the phase.
    fn phase_coefficients(&self, phase: u64, out: &mut [f32]) {
        let frac = phase as f64 / self.up as f64;
        let mut coeffs = vec![0.0f64; out.len()];
        for (j, c) in coeffs.iter_mut().enumerate() {
            *c = self.impulse(frac - (j as f64 - self.half as f64));
        }
        let sum: f64 = coeffs.iter().sum();
        for (o, c) in out.iter_mut().zip(&coeffs) {
            *o = (c / sum) as f32;
        }
    }

    /// Number of output samples for `n` input samples: every output instant
    /// that falls inside the input, `ceil(n * to / from)`.
    pub fn output_len(&self, n: usize) -> usize {
        (n as u64 * self.up).div_ceil(self.down) as usize
    }

    /// # Panics
    /// If the output cannot be allocated; [`Resampler::try_process`] returns
    /// an error instead.
    pub fn process(&self, samples: &[f32]) -> Vec<f32> {
        self.try_process(samples)
            .expect("resampler buffers fit in memory")
    }

    /// Resamples `samples`; a buffer that cannot be allocated is an error.
    pub fn try_process(&self, samples: &[f32]) -> Result<Vec<f32>> {
        let taps = self.taps();
        let mut padded = try_zeroed(samples.len() + 2 * self.half + 1, "resampler input")?;
        padded[self.half..self.half + samples.len()].copy_from_slice(samples);
        let mut scratch = if self.table.is_empty() {
            vec![0.0f32; taps]
        } else {
            Vec::new()
        };
        let out_len = self.output_len(samples.len());
        let mut out = try_with_capacity(out_len, "resampler output")?;
        out.extend((0..out_len as u64).map(|n| {
            let position = n * self.down;
            let k = (position / self.up) as usize;
            let phase = position % self.up;
            // padded[k] is input sample k - half.
            let window = &padded[k..k + taps];
            if self.table.is_empty() {
                self.phase_coefficients(phase, &mut scratch);
                dot(window, &scratch)
            } else {
                let p = phase as usize;
                dot(window, &self.table[p * taps..(p + 1) * taps])
            }
        }));
        Ok(out)
    }
}

/// Dot product with eight partial sums in a fixed order: vectorisable and
/// deterministic.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = a.len() / 8;
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            acc[l] += ca[l] * cb[l];
        }
    }
    let mut tail = 0.0f32;
    for i in chunks * 8..a.len() {
        tail += a[i] * b[i];
    }
    let pairs = [
        acc[0] + acc[4],
        acc[1] + acc[5],
        acc[2] + acc[6],
        acc[3] + acc[7],
    ];
    (pairs[0] + pairs[2]) + (pairs[1] + pairs[3]) + tail
}

/// Band-limited resampling from `from` Hz to `to` Hz (a copy when equal),
/// for rates a WAV file may have (see [`crate::limits::check_sample_rate`]):
/// other rates and allocation failures are errors, checked before the filter
/// or any buffer is built.
pub fn try_to_rate(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    for rate in [from, to] {
        check_sample_rate(rate).map_err(Error::config)?;
    }
    if from == to {
        let mut out = try_with_capacity(samples.len(), "resampler output")?;
        out.extend_from_slice(samples);
        return Ok(out);
    }
    shared(from, to).try_process(samples)
}

/// Band-limited resampling from `from` Hz to `to` Hz (a copy when equal).
pub fn to_rate(samples: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to {
        return samples.to_vec();
    }
    shared(from, to).process(samples)
}

/// Rate pairs whose built resampler is kept for the rest of the process.
const CACHED_PAIRS: usize = 8;

/// The resampler for a rate pair, built once per process: a corpus or a
/// batch `predict` holds thousands of files at the same one or two rates,
/// and building the phase table (up to a million windowed-sinc values) per
/// file would cost more than resampling a short file. A resampler depends
/// on its two rates only, so sharing one changes no output bit. The cache
/// is bounded (a corpus of many odd rates rebuilds beyond the first few).
fn shared(from: u32, to: u32) -> std::sync::Arc<Resampler> {
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache = Mutex<Vec<((u32, u32), Arc<Resampler>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    if let Some((_, r)) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(pair, _)| *pair == (from, to))
    {
        return Arc::clone(r);
    }
    // Built outside the lock: other threads resampling at other rates need
    // not wait for this table.
    let built = Arc::new(Resampler::new(from, to));
    let mut entries = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, r)) = entries.iter().find(|(pair, _)| *pair == (from, to)) {
        return Arc::clone(r);
    }
    if entries.len() < CACHED_PAIRS {
        entries.push(((from, to), Arc::clone(&built)));
    }
    built
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_shared_resampler_gives_the_output_of_a_fresh_one() {
        let x: Vec<f32> = (0..4410)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let fresh = Resampler::new(44_100, 16_000).process(&x);
        for _ in 0..2 {
            let via_cache = try_to_rate(&x, 44_100, 16_000).unwrap();
            assert_eq!(
                fresh.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                via_cache.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
        assert!(Arc::ptr_eq(
            &shared(44_100, 16_000),
            &shared(44_100, 16_000)
        ));
    }

    #[test]
    fn stored_and_on_the_fly_coefficients_give_identical_output() {
        let stored = Resampler::new(44_100, 16_000);
        assert!(!stored.table.is_empty());
        let mut on_the_fly = Resampler::new(44_100, 16_000);
        on_the_fly.table.clear();
        let x: Vec<f32> = (0..4410)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        assert_eq!(stored.process(&x), on_the_fly.process(&x));
        assert!(Resampler::new(44_101, 16_000).table.is_empty());
    }

    #[test]
    fn bessel_i0_matches_known_values() {
        assert_eq!(bessel_i0(0.0), 1.0);
        assert!((bessel_i0(1.0) - 1.266_065_877_752_008_4).abs() < 1e-15);
        // scipy.special.i0(7.857)
        assert!((bessel_i0(7.857) / 374.073_710_869_965_2 - 1.0).abs() < 1e-13);
    }
}
