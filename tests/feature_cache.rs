//! The LogMel cache: reused on a second run with bit-identical features,
//! recomputed for changed audio, a changed configuration or a damaged file.

mod common;

use common::{scratch, set_modified_ago, utterance, write_wav};
use std::path::{Path, PathBuf};
use std::time::Duration;
use vaeser::audio::load_logmel;
use vaeser::corpus::Utterance;
use vaeser::features::cache::{extract, ExtractOptions, Extracted};

/// Four short WAV files last modified an hour ago, as in a corpus at rest.
fn corpus(name: &str) -> (PathBuf, Vec<Utterance>) {
    let dir = scratch(name);
    let utts = (0..4)
        .map(|i| {
            let path = dir.join(format!("u{i}.wav"));
            write_wav(&path, 4000 + 800 * i, i as u32);
            set_modified_ago(&path, Duration::from_secs(3600));
            utterance(path)
        })
        .collect();
    (dir, utts)
}

fn run(utts: &[Utterance], cache: &Path) -> Extracted {
    extract(
        utts,
        &ExtractOptions {
            cache: Some(cache),
            strict: true,
            progress: false,
        },
    )
    .unwrap()
}

fn assert_fresh(utts: &[Utterance], got: &Extracted) {
    for (u, lm) in utts.iter().zip(&got.logmels) {
        assert_eq!(
            lm.as_ref().unwrap(),
            &load_logmel(&u.path).unwrap(),
            "{}",
            u.id
        );
    }
}

#[test]
fn a_second_run_reuses_the_cache_with_identical_features() {
    let (dir, utts) = corpus("cache-reuse");
    let cache = dir.join("cache/logmel.bin");
    let first = run(&utts, &cache);
    assert_eq!((first.cache.reused, first.cache.computed), (0, 4));
    assert!(first.cache.written && cache.is_file());
    assert!(
        first.cache.notes[0].contains("no cache yet"),
        "{:?}",
        first.cache.notes
    );
    assert_fresh(&utts, &first);
    let bytes = std::fs::read(&cache).unwrap();

    let second = run(&utts, &cache);
    assert_eq!((second.cache.reused, second.cache.computed), (4, 0));
    assert!(!second.cache.written && second.cache.notes.is_empty());
    assert_eq!(second.logmels, first.logmels);
    assert_eq!(std::fs::read(&cache).unwrap(), bytes);

    // A subset of the corpus reuses its entries and prunes the others.
    let third = run(&utts[1..3], &cache);
    assert_eq!((third.cache.reused, third.cache.computed), (2, 0));
    assert!(third.cache.written);
    assert!(std::fs::read(&cache).unwrap().len() < bytes.len());
    let leftovers: Vec<_> = std::fs::read_dir(cache.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["logmel.bin"],
        "no temporary file is left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn changed_audio_is_recomputed() {
    let (dir, utts) = corpus("cache-changed-audio");
    let cache = dir.join("logmel.bin");
    run(&utts, &cache);
    // Same size, other content, modified later.
    let size = std::fs::metadata(&utts[2].path).unwrap().len();
    write_wav(&utts[2].path, 4000 + 800 * 2, 9);
    assert_eq!(std::fs::metadata(&utts[2].path).unwrap().len(), size);
    set_modified_ago(&utts[2].path, Duration::from_secs(1800));
    let second = run(&utts, &cache);
    assert_eq!((second.cache.reused, second.cache.computed), (3, 1));
    assert!(second.cache.written);
    assert_fresh(&utts, &second);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A file modified just before it was read may change again within the
/// same clock tick without its modification time changing: not trusted.
#[test]
fn a_file_read_right_after_it_was_written_is_not_trusted() {
    let (dir, utts) = corpus("cache-racy");
    write_wav(&utts[0].path, 4000, 7);
    let cache = dir.join("logmel.bin");
    let first = run(&utts, &cache);
    assert!(
        first.cache.notes[1].contains("1 file(s) were modified less than 2 s before"),
        "{:?}",
        first.cache.notes
    );
    let second = run(&utts, &cache);
    assert_eq!((second.cache.reused, second.cache.computed), (3, 1));
    assert_fresh(&utts, &second);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn replace_once(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    bytes[at..at + to.len()].copy_from_slice(to);
}

#[test]
fn a_cache_of_another_front_end_configuration_is_not_used() {
    let (dir, utts) = corpus("cache-config");
    let cache = dir.join("logmel.bin");
    run(&utts, &cache);
    let mut bytes = std::fs::read(&cache).unwrap();
    assert!(String::from_utf8_lossy(&bytes[..300]).contains("hop=160 n_mels=80"));
    replace_once(&mut bytes, b"hop=160", b"hop=128");
    std::fs::write(&cache, &bytes).unwrap();
    let second = run(&utts, &cache);
    assert_eq!((second.cache.reused, second.cache.computed), (0, 4));
    assert!(
        second.cache.notes[0].contains("another front-end configuration"),
        "{:?}",
        second.cache.notes
    );
    assert!(second.cache.written);
    assert_fresh(&utts, &second);
    assert_eq!(run(&utts, &cache).cache.reused, 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_cache_is_reported_and_rebuilt() {
    let (dir, utts) = corpus("cache-corrupt");
    let cache = dir.join("logmel.bin");
    run(&utts, &cache);
    let good = std::fs::read(&cache).unwrap();
    let mut flipped = good.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x40; // one feature value
    let mut huge_count = good.clone();
    let header_len = u32::from_le_bytes(good[12..16].try_into().unwrap()) as usize;
    let payload = 16 + header_len + 32;
    huge_count[payload..payload + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    for (damaged, why) in [
        (flipped, "checksum mismatch"),
        (good[..good.len() - 100].to_vec(), "truncated"),
        (
            [good.clone(), vec![0]].concat(),
            "bytes after the last entry",
        ),
        (huge_count, "truncated"),
        (b"RIFF....WAVEfmt ".to_vec(), "not a vaeser feature cache"),
        (Vec::new(), "truncated"),
    ] {
        std::fs::write(&cache, &damaged).unwrap();
        let got = run(&utts, &cache);
        assert_eq!((got.cache.reused, got.cache.computed), (0, 4), "{why}");
        let note = &got.cache.notes[0];
        assert!(
            note.contains("corrupt cache file") && note.contains(why),
            "{note} / {why}"
        );
        assert!(note.contains("logmel.bin"), "{note}");
        assert_fresh(&utts, &got);
        assert!(got.cache.written);
        assert_eq!(run(&utts, &cache).cache.reused, 4, "rebuilt after {why}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_a_cache_everything_is_computed_and_nothing_written() {
    let (dir, utts) = corpus("cache-none");
    let got = extract(&utts, &ExtractOptions::default()).unwrap();
    assert_eq!(
        (got.cache.reused, got.cache.computed, got.cache.written),
        (0, 4, false)
    );
    assert_fresh(&utts, &got);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}
