//! LogMel parity with librosa (SPEC §1) on a signal defined by formula.
//!
//! tests/fixtures/logmel/make_reference.py defines the same signal and wrote
//! librosa's values; this test needs no Python.

use std::path::Path;
use vaeser::audio::logmel::{LogMelExtractor, FLOOR};
use vaeser::audio::N_MELS;

/// The signal of make_reference.py, computed the same way (float64, libm
/// sin, the same operation order, a 32-bit LCG), then cast to float32.
fn reference_signal() -> Vec<f32> {
    const SR: f64 = 16000.0;
    const N: usize = 16000;
    let two_pi = 2.0 * std::f64::consts::PI;
    let mut state: u32 = 12345;
    (0..N)
        .map(|n| {
            let t = n as f64 / SR;
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            let noise = state as f64 / 4294967296.0 - 0.5;
            let mut x = 0.3 * (two_pi * 220.0 * t).sin();
            x += 0.2 * (two_pi * 1234.5 * t + 0.3).sin();
            x += 0.1 * (two_pi * 3100.0 * t + 1.0).sin();
            x += 0.05 * (two_pi * 6500.0 * t).sin();
            x += 0.15 * (two_pi * (100.0 * t + 0.5 * (7800.0 - 100.0) * t * t)).sin();
            x += 0.02 * noise;
            if n >= N - N / 10 {
                x = 0.0;
            }
            x as f32
        })
        .collect()
}

fn fixture_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logmel")
}

fn read_reference() -> (usize, usize, Vec<f32>) {
    let bytes = std::fs::read(fixture_dir().join("librosa_reference.bin")).unwrap();
    assert_eq!(&bytes[..8], b"LOGMELv1");
    let n_frames = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let n_mels = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let values: Vec<f32> = bytes[16..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(values.len(), n_frames * n_mels);
    (n_frames, n_mels, values)
}

#[test]
fn regenerated_signal_matches_the_one_librosa_saw() {
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_dir().join("librosa_reference.json")).unwrap(),
    )
    .unwrap();
    let y = reference_signal();
    assert_eq!(y.len() as u64, meta["signal_len"].as_u64().unwrap());
    for (i, v) in meta["signal_head"].as_array().unwrap().iter().enumerate() {
        assert_eq!(y[i], v.as_f64().unwrap() as f32, "sample {i}");
    }
    let sum: f64 = y.iter().map(|&v| v as f64).sum();
    let abs_sum: f64 = y.iter().map(|&v| v.abs() as f64).sum();
    // Both sums are exact sums of the same float32 values in float64 (up to
    // summation order), so any regenerated sample that differs shows here.
    assert!((sum - meta["signal_sum"].as_f64().unwrap()).abs() < 1e-9);
    assert!((abs_sum - meta["signal_abs_sum"].as_f64().unwrap()).abs() < 1e-9);
}

#[test]
fn logmel_matches_librosa_within_1e_3() {
    let (n_frames, n_mels, reference) = read_reference();
    assert_eq!(n_mels, N_MELS);
    let ours = LogMelExtractor::new().compute(&reference_signal());
    assert_eq!(ours.n_frames, n_frames);
    let floor = FLOOR.ln();
    let mut max_diff = 0.0f32;
    let mut compared = 0;
    let mut floored = 0;
    for (i, (&a, &b)) in ours.data.iter().zip(&reference).enumerate() {
        if b <= floor + 1e-3 {
            // Silent frames: both must sit exactly on the floor.
            assert_eq!(a, b, "frame {} band {}: floor", i / n_mels, i % n_mels);
            floored += 1;
        } else {
            max_diff = max_diff.max((a - b).abs());
            compared += 1;
        }
    }
    println!("librosa parity: max |ln diff| = {max_diff:.3e} over {compared} values ({floored} on the floor)");
    assert!(compared > n_frames * n_mels / 2);
    assert!(
        floored > 0,
        "the fixture's silent tail must reach the floor"
    );
    assert!(max_diff < 1e-3, "max |ln diff| {max_diff}");
}
