//! LogMel features exactly as SPEC §1, i.e. librosa's
//! `melspectrogram(sr=16000, n_fft=512, win_length=400, hop_length=160,
//! window='hamming', center=False, power=2.0, n_mels=80, fmin=0, fmax=8000,
//! htk=False, norm='slaney')` followed by `ln(max(S, 1e-10))`.
//!
//! The signal is not padded: a frame starts every `HOP` samples while a whole
//! `N_FFT` samples remain, so a signal shorter than `N_FFT` samples has no
//! frames at all (the segmenter pads short utterances, SPEC §2).

use super::{LogMel, N_MELS, SAMPLE_RATE};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// FFT size; the window sits in the middle of each `N_FFT`-sample frame.
pub const N_FFT: usize = 512;
/// Hamming window length (25 ms).
pub const WIN_LENGTH: usize = 400;
/// Frame hop (10 ms).
pub const HOP: usize = 160;
/// Mel energies are clamped to this before the logarithm.
pub const FLOOR: f32 = 1e-10;
/// Bins of the one-sided spectrum.
const N_BINS: usize = N_FFT / 2 + 1;
/// The real FFT of `N_FFT` points runs as a complex FFT of half the size.
const HALF: usize = N_FFT / 2;
/// Zeros either side of the window inside a frame.
const WIN_OFFSET: usize = (N_FFT - WIN_LENGTH) / 2;

/// Frames a signal of `n_samples` samples gives: `1 + (n - N_FFT) / HOP`, and
/// none below `N_FFT` samples.
pub fn n_frames(n_samples: usize) -> usize {
    if n_samples < N_FFT {
        0
    } else {
        1 + (n_samples - N_FFT) / HOP
    }
}

/// One mel band: its weights over consecutive spectrum bins from `start`.
struct MelFilter {
    start: usize,
    weights: Vec<f32>,
}

/// Slaney's mel scale (librosa `hz_to_mel(htk=False)`): linear below 1 kHz,
/// logarithmic above.
fn hz_to_mel(hz: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= min_log_hz {
        min_log_mel + (hz / min_log_hz).ln() / logstep
    } else {
        hz / f_sp
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        min_log_hz * (logstep * (mel - min_log_mel)).exp()
    } else {
        f_sp * mel
    }
}

/// The `N_MELS + 2` band edges in Hz: band `m` rises from edge `m`, peaks at
/// edge `m + 1` and falls to zero at edge `m + 2`.
pub fn mel_band_edges_hz() -> Vec<f64> {
    mel_edges(0.0, SAMPLE_RATE as f64 / 2.0, N_MELS)
}

fn mel_edges(fmin: f64, fmax: f64, n_mels: usize) -> Vec<f64> {
    let (mel_min, mel_max) = (hz_to_mel(fmin), hz_to_mel(fmax));
    (0..n_mels + 2)
        .map(|i| mel_to_hz(mel_min + (mel_max - mel_min) * i as f64 / (n_mels + 1) as f64))
        .collect()
}

/// The mel filterbank of librosa `filters.mel(norm='slaney', htk=False)`:
/// triangles between consecutive mel-spaced edges, each scaled by
/// `2 / (upper - lower)` so that every band has unit area in Hz. Computed in
/// float64 and stored as float32, as librosa does.
fn mel_filters(
    sample_rate: f64,
    n_fft: usize,
    n_mels: usize,
    fmin: f64,
    fmax: f64,
) -> Vec<MelFilter> {
    let n_bins = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..n_bins)
        .map(|k| k as f64 * (sample_rate / 2.0) / (n_bins - 1) as f64)
        .collect();
    let edges = mel_edges(fmin, fmax, n_mels);
    (0..n_mels)
        .map(|m| {
            let (lower, centre, upper) = (edges[m], edges[m + 1], edges[m + 2]);
            let enorm = 2.0 / (upper - lower);
            let row: Vec<f32> = fft_freqs
                .iter()
                .map(|&f| {
                    let rising = (f - lower) / (centre - lower);
                    let falling = (upper - f) / (upper - centre);
                    (rising.min(falling).max(0.0) * enorm) as f32
                })
                .collect();
            let start = row.iter().position(|&w| w > 0.0).unwrap_or(0);
            let end = row.iter().rposition(|&w| w > 0.0).map_or(start, |e| e + 1);
            MelFilter {
                start,
                weights: row[start..end].to_vec(),
            }
        })
        .collect()
}

/// Precomputed window, FFT plan and mel filterbank (SPEC §1). Build once and
/// share: `compute` takes `&self` and is safe to call from many threads.
pub struct LogMelExtractor {
    fft: Arc<dyn Fft<f32>>,
    /// Periodic Hamming window of `WIN_LENGTH` samples.
    window: Vec<f32>,
    /// `exp(-2 pi i k / N_FFT)` for splitting the half-size complex FFT.
    twiddles: Vec<Complex<f32>>,
    filters: Vec<MelFilter>,
}

/// Per-call buffers, so that no frame allocates.
struct Workspace {
    buffer: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
}

impl LogMelExtractor {
    /// Plans the FFT and builds the window and the 80 mel filters; one
    /// extractor serves any number of calls (and threads: it is `Sync`).
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let fft = FftPlanner::<f32>::new().plan_fft_forward(HALF);
        // scipy's get_window('hamming', 400, fftbins=True): periodic.
        let window = (0..WIN_LENGTH)
            .map(|n| {
                (0.54 - 0.46 * (2.0 * std::f64::consts::PI * n as f64 / WIN_LENGTH as f64).cos())
                    as f32
            })
            .collect();
        let twiddles = (0..N_BINS)
            .map(|k| {
                let angle = -2.0 * std::f64::consts::PI * k as f64 / N_FFT as f64;
                Complex::new(angle.cos() as f32, angle.sin() as f32)
            })
            .collect();
        let filters = mel_filters(
            SAMPLE_RATE as f64,
            N_FFT,
            N_MELS,
            0.0,
            SAMPLE_RATE as f64 / 2.0,
        );
        LogMelExtractor {
            fft,
            window,
            twiddles,
            filters,
        }
    }

    fn workspace(&self) -> Workspace {
        Workspace {
            buffer: vec![Complex::new(0.0, 0.0); HALF],
            scratch: vec![Complex::new(0.0, 0.0); self.fft.get_inplace_scratch_len()],
            power: vec![0.0; N_BINS],
        }
    }

    /// LogMel of 16 kHz mono samples: `n_frames(samples.len())` frames.
    pub fn compute(&self, samples: &[f32]) -> LogMel {
        let n = n_frames(samples.len());
        let mut data = vec![0.0f32; n * N_MELS];
        let mut ws = self.workspace();
        for (t, out) in data.chunks_exact_mut(N_MELS).enumerate() {
            self.frame(&samples[t * HOP..t * HOP + N_FFT], out, &mut ws);
        }
        LogMel { n_frames: n, data }
    }

    /// One frame of `N_FFT` samples to `N_MELS` log mel energies.
    fn frame(&self, frame: &[f32], out: &mut [f32], ws: &mut Workspace) {
        // Pack the windowed real frame as HALF complex values (even samples
        // real, odd imaginary); the window is zero outside its centre.
        let windowed = &frame[WIN_OFFSET..WIN_OFFSET + WIN_LENGTH];
        let first = WIN_OFFSET / 2;
        let buffer = &mut ws.buffer;
        buffer[..first].fill(Complex::new(0.0, 0.0));
        buffer[first + WIN_LENGTH / 2..].fill(Complex::new(0.0, 0.0));
        for (i, (x, w)) in windowed
            .chunks_exact(2)
            .zip(self.window.chunks_exact(2))
            .enumerate()
        {
            buffer[first + i] = Complex::new(x[0] * w[0], x[1] * w[1]);
        }
        self.fft.process_with_scratch(buffer, &mut ws.scratch);

        // Split Z = FFT(even + i odd) into the spectrum X of the real frame:
        // X[k] = E[k] + exp(-2 pi i k / N) O[k], with
        // E[k] = (Z[k] + conj Z[HALF-k]) / 2, O[k] = (Z[k] - conj Z[HALF-k]) / 2i.
        let z0 = buffer[0];
        ws.power[0] = (z0.re + z0.im) * (z0.re + z0.im);
        ws.power[HALF] = (z0.re - z0.im) * (z0.re - z0.im);
        for k in 1..HALF {
            let a = buffer[k];
            let b = buffer[HALF - k].conj();
            let even = (a + b) * 0.5;
            let odd = (a - b) * Complex::new(0.0, -0.5);
            let x = even + self.twiddles[k] * odd;
            ws.power[k] = x.re * x.re + x.im * x.im;
        }

        for (o, filter) in out.iter_mut().zip(&self.filters) {
            let bins = &ws.power[filter.start..filter.start + filter.weights.len()];
            let energy: f32 = bins.iter().zip(&filter.weights).map(|(p, w)| p * w).sum();
            *o = energy.max(FLOOR).ln();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_count_follows_the_unpadded_formula() {
        assert_eq!(n_frames(0), 0);
        assert_eq!(n_frames(511), 0);
        assert_eq!(n_frames(512), 1);
        assert_eq!(n_frames(671), 1);
        assert_eq!(n_frames(672), 2);
        assert_eq!(n_frames(16_000), 97);
    }

    #[test]
    fn slaney_mel_scale_round_trips_and_is_linear_below_1khz() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        for hz in [0.0, 123.0, 999.0, 1000.0, 4321.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9 * (1.0 + hz));
        }
    }

    /// The real-FFT split must equal a direct DFT of the windowed frame.
    #[test]
    fn power_spectrum_matches_a_direct_dft() {
        let ex = LogMelExtractor::new();
        let frame: Vec<f32> = (0..N_FFT)
            .map(|n| ((n * 7919 % 613) as f32 / 613.0 - 0.5) + (0.05 * n as f32).sin())
            .collect();
        let mut ws = ex.workspace();
        let mut out = vec![0.0; N_MELS];
        ex.frame(&frame, &mut out, &mut ws);
        let windowed: Vec<f64> = (0..N_FFT)
            .map(|n| {
                if (WIN_OFFSET..WIN_OFFSET + WIN_LENGTH).contains(&n) {
                    frame[n] as f64 * ex.window[n - WIN_OFFSET] as f64
                } else {
                    0.0
                }
            })
            .collect();
        let total: f64 = windowed.iter().map(|x| x * x).sum::<f64>() * N_FFT as f64;
        for k in 0..N_BINS {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            for (n, x) in windowed.iter().enumerate() {
                let a = -2.0 * std::f64::consts::PI * (k * n) as f64 / N_FFT as f64;
                re += x * a.cos();
                im += x * a.sin();
            }
            let direct = re * re + im * im;
            // f32 rounding error relative to the frame's total energy
            // (Parseval); a wrong twiddle sign or index is off by O(total).
            assert!(
                (ws.power[k] as f64 - direct).abs() < 1e-5 * total,
                "bin {k}: {} vs {direct}",
                ws.power[k]
            );
        }
    }

    #[test]
    fn mel_bands_cover_the_spectrum_with_unit_area() {
        let filters = mel_filters(16_000.0, N_FFT, N_MELS, 0.0, 8_000.0);
        assert_eq!(filters.len(), N_MELS);
        let bin_hz = 16_000.0 / N_FFT as f64;
        let mut checked = 0;
        for (m, f) in filters.iter().enumerate() {
            assert!(!f.weights.is_empty(), "band {m} is empty");
            // Slaney normalisation: each triangle's area in Hz is 1, so the
            // weights summed over bins times the bin width is close to 1
            // once a band spans enough bins for the sum to approximate the
            // integral (an unnormalised band is off by its width in Hz / 2).
            if f.weights.len() >= 8 {
                let area: f64 = f.weights.iter().map(|&w| w as f64).sum::<f64>() * bin_hz;
                assert!((area - 1.0).abs() < 0.05, "band {m}: area {area}");
                checked += 1;
            }
        }
        assert!(checked > 20);
    }
}
