//! The real-world WAV files in ../shared (RAVDESS originals at 48 kHz with
//! extra RIFF chunks, one stereo, and their 16 kHz conversions) decode.

mod common;

use common::shared_dir;
use std::path::{Path, PathBuf};
use vaeser::audio::logmel::mel_band_edges_hz;
use vaeser::audio::{load_logmel, wav, N_MELS};

fn wav_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    files.sort();
    files
}

/// Sizes taken from the files' own chunk lists (fmt, FLLR, data, LIST, bext,
/// _PMX): the data chunk is the only audio, and the chunks after it are not.
#[test]
fn original_48k_files_with_extra_chunks_decode_completely() {
    let Some(dir) = shared_dir("ravdess-48k-samples") else {
        return;
    };
    let files = wav_files(&dir);
    assert_eq!(files.len(), 6);
    let mut stereo = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let data_pos = bytes.windows(4).position(|w| w == b"data").unwrap();
        let data_len = u32::from_le_bytes(bytes[data_pos + 4..data_pos + 8].try_into().unwrap());
        let channels = u16::from_le_bytes(bytes[22..24].try_into().unwrap()) as u32;
        stereo += (channels == 2) as usize;
        let (samples, rate) = wav::read_mono(path).unwrap();
        assert_eq!(rate, 48_000);
        assert_eq!(
            samples.len() as u32,
            data_len / (2 * channels),
            "{}",
            path.display()
        );
        let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(
            peak > 0.01 && peak <= 1.0,
            "{}: peak {peak}",
            path.display()
        );
        let logmel = load_logmel(path).unwrap();
        assert_eq!(logmel.n_frames, 1 + (samples.len().div_ceil(3) - 512) / 160);
        assert!(logmel.data.iter().all(|v| v.is_finite()));
    }
    assert_eq!(stereo, 1);
}

/// Our 48 kHz -> 16 kHz path against sox's conversion of the same
/// recordings to 16 kHz, 16-bit (ravdess4-16k).
///
/// The two differ in three ways: the anti-alias filters (ours is flat within
/// 0.1 dB to 7 kHz and falls to -80 dB at 8 kHz; sox's passes further up),
/// sox's 16-bit quantisation with TPDF dither (noise variance LSB^2/4,
/// LSB = 2^-15), and float rounding. So the comparison is limited to
///  - bands that end below 7 kHz, where both filters are flat: a gain or
///    filter error shows as a bias there (0.1 dB is 0.023 in ln units);
///  - values at least 40 dB above sox's dither floor. That floor is the noise
///    variance times the window's energy (158.8) times a band's summed
///    weights (~1/31.25 Hz): e^-20.5; 40 dB above it is ln energy -11.3.
///    There the noise is 1e-4 of the power, and its cross term with the
///    signal, 2 |N| / |S|, moves a single FFT bin by up to ~0.02 in ln units,
///    less after the mel band averages several bins.
///
/// Tolerances per file: mean |diff| < 0.01, 99th percentile < 0.05, and
/// |mean signed diff| < 0.005. Observed on the six files: mean 0.0018-0.0032,
/// p99 0.013-0.019, max 0.039, bias below 0.0002. The differences shrink
/// about threefold for each 10 dB the threshold rises, as noise does, which
/// shows they are sox's dither and not a systematic error. A wrong down-mix
/// (sum instead of mean: bias ln 4), a 0.1 dB passband error (bias 0.023) or
/// resampled output one sample (62.5 us) late (mean 0.011 on the stereo
/// file) fails.
#[test]
fn resampled_48k_originals_match_sox_16k_conversions() {
    let (Some(originals), Some(converted)) = (
        shared_dir("ravdess-48k-samples"),
        shared_dir("ravdess4-16k"),
    ) else {
        return;
    };
    const ABOVE_DITHER_FLOOR: f32 = -11.3;
    let edges = mel_band_edges_hz();
    let flat_bands = (0..N_MELS).filter(|&m| edges[m + 2] <= 7000.0).count();
    for path in wav_files(&originals) {
        let name = path.file_name().unwrap().to_str().unwrap();
        // RAVDESS names end in the actor number: ...-NN.wav
        let actor = &name[name.len() - 6..name.len() - 4];
        let sox_path = converted.join(format!("Actor_{actor}")).join(name);
        let ours = load_logmel(&path).unwrap();
        let sox = load_logmel(&sox_path).unwrap();
        assert_eq!(ours.n_frames, sox.n_frames, "{name}");
        let mut diffs: Vec<f32> = Vec::new();
        let mut signed = 0.0f64;
        for (i, (&a, &b)) in ours.data.iter().zip(&sox.data).enumerate() {
            if i % N_MELS < flat_bands && b > ABOVE_DITHER_FLOOR {
                diffs.push((a - b).abs());
                signed += (a - b) as f64;
            }
        }
        assert!(
            diffs.len() > 1000,
            "{name}: only {} values compared",
            diffs.len()
        );
        let bias = signed / diffs.len() as f64;
        diffs.sort_by(|a, b| a.total_cmp(b));
        let mean = diffs.iter().map(|&d| d as f64).sum::<f64>() / diffs.len() as f64;
        let p99 = diffs[diffs.len() * 99 / 100];
        let max = diffs[diffs.len() - 1];
        println!(
            "{name}: {} values in bands 0..{flat_bands}: mean |diff| {mean:.4}, p99 {p99:.4}, max {max:.4}, bias {bias:+.5}",
            diffs.len()
        );
        assert!(mean < 0.01, "{name}: mean |diff| {mean}");
        assert!(p99 < 0.05, "{name}: p99 {p99}");
        assert!(bias.abs() < 0.005, "{name}: bias {bias}");
    }
}
