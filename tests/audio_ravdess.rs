//! The real-world WAV files in ../shared (RAVDESS originals at 48 kHz with
//! extra RIFF chunks, one stereo, and their 16 kHz conversions) decode.

use std::path::{Path, PathBuf};
use vaeser::audio::{load_logmel, wav};

/// `../shared` next to the repository, or `$VAESER_SHARED` where the
/// checkout lives elsewhere (e.g. a git worktree).
fn shared_dir(sub: &str) -> Option<PathBuf> {
    let shared = std::env::var_os("VAESER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let dir = shared.join("data").join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: {} is absent", dir.display());
        None
    }
}

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
