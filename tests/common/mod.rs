//! Helpers shared by the integration tests: the shared data
//! directory, scratch directories and tiny WAV files.
#![allow(dead_code)]

pub mod backends;
pub mod gradcheck;
mod scratch_dirs;

#[allow(unused_imports)]
pub use scratch_dirs::{scratch, scratch_path};

use std::path::{Path, PathBuf};
use vaeser::corpus::{Corpus, Gender};

/// `../shared/data/<sub>` next to the repository, or under `$VAESER_SHARED`
/// where the checkout lives elsewhere (e.g. a git worktree); `None`, with the
/// reason printed, when it is absent.
pub fn shared_dir(sub: &str) -> Option<PathBuf> {
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

/// A 16-bit mono WAV of `n` samples of a tone whose pitch depends on `seed`,
/// so different files have different features.
pub fn write_wav(path: &Path, n: usize, seed: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let f = 200.0 + 37.0 * seed as f32;
    for i in 0..n {
        let t = i as f32 / 16_000.0;
        let s = 0.3 * (2.0 * std::f32::consts::PI * f * t).sin();
        w.write_sample((s * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Copies a directory tree of fixture files.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Sets a file's modification time `ago` in the past, as for a corpus that
/// has been at rest (the feature cache does not trust files modified just
/// before they were read).
pub fn set_modified_ago(path: &Path, ago: std::time::Duration) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() - ago)
        .unwrap();
}

/// One utterance as the loader tests compare it: id, label, speaker, group
/// and gender.
pub type UtteranceRow<'a> = (&'a str, Option<usize>, &'a str, &'a str, Option<Gender>);

/// The loaded utterances in order, each as an [`UtteranceRow`].
pub fn utterance_rows(corpus: &Corpus) -> Vec<UtteranceRow<'_>> {
    corpus
        .utterances
        .iter()
        .map(|u| {
            (
                u.id.as_str(),
                u.label,
                u.speaker.as_str(),
                u.group.as_str(),
                u.gender,
            )
        })
        .collect()
}

/// A labelled utterance of one speaker at `path`, its id the file stem.
pub fn utterance(path: PathBuf) -> vaeser::corpus::Utterance {
    vaeser::corpus::Utterance {
        id: path.file_stem().unwrap().to_string_lossy().into_owned(),
        path,
        label: Some(0),
        speaker: "s".into(),
        gender: None,
        group: "g".into(),
        dialog: None,
        improvised: None,
        vad: None,
    }
}
