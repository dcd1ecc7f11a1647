//! Resampler response, measured with stepped sine sweeps: each tone is
//! resampled on its own and the output fitted, by least squares, with a
//! sinusoid at the tone's frequency. The fitted amplitude gives the passband
//! gain; what the fit leaves over (aliases, images, noise) and the output of
//! tones above the output Nyquist frequency give the rejection.

use vaeser::audio::resample::{to_rate, Resampler};

/// Tone of `freq` Hz, amplitude 0.5, `seconds` long at `rate`.
fn tone(freq: f64, rate: u32, seconds: f64) -> Vec<f32> {
    let n = (seconds * rate as f64) as usize;
    (0..n)
        .map(|i| {
            (0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64 + 0.3).sin()) as f32
        })
        .collect()
}

/// Least-squares fit of `a sin + b cos` at `freq` to the output away from its
/// edges (where the zero padding outside the signal shows); returns the
/// amplitude and the RMS of the residual.
fn fit(output: &[f32], freq: f64, rate: u32) -> (f64, f64) {
    let edge = rate as usize / 100; // 10 ms, more than the filter's half length
    let y = &output[edge..output.len() - edge];
    let w = 2.0 * std::f64::consts::PI * freq / rate as f64;
    let (mut ss, mut sc, mut cc, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &v) in y.iter().enumerate() {
        let t = (i + edge) as f64 * w;
        let (s, c) = (t.sin(), t.cos());
        ss += s * s;
        sc += s * c;
        cc += c * c;
        sy += s * v as f64;
        cy += c * v as f64;
    }
    let det = ss * cc - sc * sc;
    let a = (sy * cc - cy * sc) / det;
    let b = (cy * ss - sy * sc) / det;
    let mut residual = 0.0;
    for (i, &v) in y.iter().enumerate() {
        let t = (i + edge) as f64 * w;
        let r = v as f64 - a * t.sin() - b * t.cos();
        residual += r * r;
    }
    ((a * a + b * b).sqrt(), (residual / y.len() as f64).sqrt())
}

fn rms(x: &[f32], edge: usize) -> f64 {
    let x = &x[edge..x.len() - edge];
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

struct Response {
    /// Largest |gain| in dB over the passband tones.
    passband_db: f64,
    /// Weakest rejection (dB below the input) over out-of-band tones and the
    /// residuals of passband tones.
    rejection_db: f64,
}

/// Sweeps `from` -> `to` with tones every `step` Hz: up to `pass_hz` for the
/// passband, and from the output Nyquist frequency to the input Nyquist
/// frequency for the stopband (downsampling only).
fn measure(from: u32, to: u32, pass_hz: f64, step: f64) -> Response {
    let input_rms = 0.5 / 2f64.sqrt();
    let resampler = Resampler::new(from, to);
    let mut passband_db = 0.0f64;
    let mut rejection_db = f64::INFINITY;
    let mut f = step;
    while f <= pass_hz {
        let out = resampler.process(&tone(f, from, 0.1));
        let (amplitude, residual) = fit(&out, f, to);
        passband_db = passband_db.max(db(amplitude / 0.5).abs());
        rejection_db = rejection_db.min(-db(residual / input_rms));
        f += step;
    }
    let mut f = to as f64 / 2.0;
    while f < from as f64 / 2.0 {
        let out = resampler.process(&tone(f, from, 0.1));
        rejection_db = rejection_db.min(-db(rms(&out, to as usize / 100) / input_rms));
        f += step;
    }
    Response {
        passband_db,
        rejection_db,
    }
}

#[test]
fn downsampling_48k_keeps_0_1_db_to_7khz_and_rejects_aliases_by_60_db() {
    let r = measure(48_000, 16_000, 7_000.0, 50.0);
    println!(
        "48 kHz -> 16 kHz: passband (50 Hz..7 kHz) max |gain| {:.4} dB; aliases (8..24 kHz) and residuals at least {:.1} dB down",
        r.passband_db, r.rejection_db
    );
    assert!(r.passband_db < 0.1, "passband {} dB", r.passband_db);
    assert!(r.rejection_db > 60.0, "rejection {} dB", r.rejection_db);
}

#[test]
fn other_rates_meet_the_same_response() {
    // 44.1 kHz and 22.05 kHz use 160 and 320 filter phases; 32 kHz is 2:1.
    for from in [44_100, 32_000, 22_050] {
        let r = measure(from, 16_000, 7_000.0, 130.0);
        println!(
            "{from} Hz -> 16 kHz: passband max |gain| {:.4} dB, rejection {:.1} dB",
            r.passband_db, r.rejection_db
        );
        assert!(r.passband_db < 0.1, "{from}: passband {} dB", r.passband_db);
        assert!(
            r.rejection_db > 60.0,
            "{from}: rejection {} dB",
            r.rejection_db
        );
    }
    // Up-sampling: the passband is 7/8 of the input's Nyquist frequency; the
    // images the interpolation filter must remove show in the residual.
    for from in [8_000, 11_025] {
        let r = measure(from, 16_000, from as f64 / 2.0 * 0.875, 70.0);
        println!(
            "{from} Hz -> 16 kHz: passband max |gain| {:.4} dB, images at least {:.1} dB down",
            r.passband_db, r.rejection_db
        );
        assert!(r.passband_db < 0.1, "{from}: passband {} dB", r.passband_db);
        assert!(
            r.rejection_db > 60.0,
            "{from}: rejection {} dB",
            r.rejection_db
        );
    }
}

#[test]
fn nearly_coprime_rates_compute_coefficients_on_the_fly_with_the_same_response() {
    // 44 101 / 16 000 share no factor: 16 000 phases are too many to store.
    let r = measure(44_101, 16_000, 7_000.0, 1_000.0);
    assert!(r.passband_db < 0.1, "passband {} dB", r.passband_db);
    assert!(r.rejection_db > 60.0, "rejection {} dB", r.rejection_db);
}

#[test]
fn output_length_and_timing_follow_the_rate_ratio() {
    for (from, n, want) in [
        (48_000u32, 158_558usize, 52_853usize), // a RAVDESS file and its sox conversion
        (48_000, 3, 1),
        (44_100, 44_100, 16_000),
        (8_000, 5, 10),
        (22_050, 1, 1),
    ] {
        assert_eq!(
            Resampler::new(from, 16_000).output_len(n),
            want,
            "{from} Hz, {n}"
        );
        assert_eq!(to_rate(&vec![0.0; n], from, 16_000).len(), want);
    }
    // No delay: an impulse at input time t comes out centred at output time t.
    let mut impulse = vec![0.0f32; 4800];
    impulse[2400] = 1.0;
    let out = to_rate(&impulse, 48_000, 16_000);
    let peak = (0..out.len())
        .max_by(|&a, &b| out[a].partial_cmp(&out[b]).unwrap())
        .unwrap();
    assert_eq!(peak, 800);
    assert!(
        (out[799] - out[801]).abs() < 1e-6,
        "response must be symmetric"
    );
}

#[test]
fn same_rate_is_the_identity_and_dc_passes_exactly() {
    let x = tone(440.0, 16_000, 0.05);
    assert_eq!(to_rate(&x, 16_000, 16_000), x);
    for from in [48_000, 44_100, 8_000] {
        let out = to_rate(&vec![0.25; from as usize / 10], from, 16_000);
        let interior = &out[200..out.len() - 200];
        assert!(
            interior.iter().all(|&v| (v - 0.25).abs() < 1e-6),
            "{from}: DC gain"
        );
    }
    assert!(to_rate(&[], 48_000, 16_000).is_empty());
}
