//! Bad input, one case per test: unreadable, empty, truncated and non-WAV
//! audio, unknown labels and malformed annotation lines. Each gives an error
//! naming the file (and line) and what is wrong; a lenient run goes on with
//! the other utterances and lists what it skipped; a strict run stops at it.

mod common;

use common::{scratch, write_wav};
use std::path::{Path, PathBuf};
use vaeser::corpus::{load, CorpusKind, LoadOptions};
use vaeser::features::cache::{extract, ExtractOptions};

const BAD: &str = "Actor_01/03-01-05-01-01-01-01.wav";

/// A RAVDESS tree of three good recordings plus `BAD`, which `make_bad`
/// creates.
fn ravdess_with(name: &str, make_bad: impl FnOnce(&Path)) -> PathBuf {
    let root = scratch(name);
    for (i, good) in [
        "Actor_01/03-01-01-01-01-01-01.wav",
        "Actor_01/03-01-03-01-01-01-01.wav",
        "Actor_02/03-01-04-01-01-01-02.wav",
    ]
    .iter()
    .enumerate()
    {
        write_wav(&root.join(good), 3200, i as u32);
    }
    make_bad(&root.join(BAD));
    root
}

/// The bad audio file is skipped with `reason` in a lenient run, the other
/// three give features, and a strict run fails naming it.
fn assert_audio_skipped(root: &Path, reason: &str) {
    let bad = root.join(BAD);
    let corpus = load(CorpusKind::Ravdess, root, &LoadOptions::default()).unwrap();
    assert_eq!(corpus.utterances.len(), 4);
    let lenient = extract(&corpus.utterances, &ExtractOptions::default()).unwrap();
    assert_eq!(lenient.logmels.iter().filter(|l| l.is_some()).count(), 3);
    assert_eq!(lenient.skipped.len(), 1, "{:?}", lenient.skipped);
    let skipped = &lenient.skipped[0];
    assert_eq!(skipped.path, bad);
    let shown = skipped.to_string();
    assert!(
        shown.contains(&*bad.to_string_lossy()) && shown.contains(reason),
        "{shown}"
    );

    let strict = ExtractOptions {
        strict: true,
        ..Default::default()
    };
    let err = extract(&corpus.utterances, &strict)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&*bad.to_string_lossy()) && err.contains(reason),
        "{err}"
    );
    std::fs::remove_dir_all(root).unwrap();
}

/// A path that cannot be read as a file (here a directory with a WAV name:
/// permission bits do not stop a test run as root).
#[test]
fn unreadable_audio_is_skipped_naming_the_file() {
    let root = ravdess_with("bad-unreadable", |p| std::fs::create_dir_all(p).unwrap());
    assert_audio_skipped(&root, "Is a directory");
}

#[test]
fn empty_audio_is_skipped_naming_the_file() {
    let root = ravdess_with("bad-empty", |p| std::fs::write(p, b"").unwrap());
    assert_audio_skipped(&root, "empty file (0 bytes)");
}

#[test]
fn truncated_audio_is_skipped_naming_the_file() {
    let root = ravdess_with("bad-truncated", |p| {
        write_wav(p, 3200, 5);
        let bytes = std::fs::read(p).unwrap();
        std::fs::write(p, &bytes[..bytes.len() / 2]).unwrap();
    });
    assert_audio_skipped(&root, "truncated");
}

#[test]
fn non_wav_audio_is_skipped_naming_the_file() {
    let root = ravdess_with("bad-not-wav", |p| {
        std::fs::write(p, b"ID3\x04\0\0\0\0\0\0 this is an MP3, not a WAV file").unwrap()
    });
    assert_audio_skipped(&root, "not a WAV file");
}

/// An IEMOCAP-layout session with two good utterances around `bad_line`
/// (line 5 of the annotation file).
fn iemocap_with(name: &str, bad_line: &str) -> PathBuf {
    let root = scratch(name);
    let eval = root.join("Session2/dialog/EmoEvaluation/Ses02F_impro03.txt");
    std::fs::create_dir_all(eval.parent().unwrap()).unwrap();
    std::fs::write(
        &eval,
        format!(
            "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n\
             [1.0000 - 2.0000]\tSes02F_impro03_F000\tneu\t[3.0000, 2.0000, 2.5000]\n\n\
             {bad_line}\n\n\
             [5.0000 - 6.0000]\tSes02F_impro03_M002\tsad\t[1.5000, 2.0000, 2.0000]\n\
             C-E1:\tSadness;\t()\n"
        ),
    )
    .unwrap();
    for utt in ["F000", "M001", "M002"] {
        write_wav(
            &root.join(format!(
                "Session2/sentences/wav/Ses02F_impro03/Ses02F_impro03_{utt}.wav"
            )),
            1600,
            3,
        );
    }
    root
}

fn assert_line_skipped(root: &Path, reason: &str) {
    let corpus = load(CorpusKind::Iemocap, root, &LoadOptions::default()).unwrap();
    let ids: Vec<&str> = corpus.utterances.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["Ses02F_impro03_F000", "Ses02F_impro03_M002"]);
    assert_eq!(corpus.skipped.len(), 1, "{:?}", corpus.skipped);
    let shown = corpus.skipped[0].to_string();
    assert!(
        shown.contains("EmoEvaluation/Ses02F_impro03.txt:5: "),
        "{shown}"
    );
    assert!(shown.contains(reason), "{shown}");
    let err = load(
        CorpusKind::Iemocap,
        root,
        &LoadOptions {
            strict: true,
            ..LoadOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(err, shown);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn unknown_labels_are_skipped_naming_the_file_and_line() {
    let root = iemocap_with(
        "bad-label",
        "[3.0000 - 4.0000]\tSes02F_impro03_M001\tjoy\t[4.0000, 3.0000, 3.0000]",
    );
    assert_line_skipped(&root, "unknown label 'joy'");
}

#[test]
fn malformed_annotation_lines_are_skipped_naming_the_file_and_line() {
    let root = iemocap_with(
        "bad-line",
        "[3.0000 - 4.0000]\tSes02F_impro03_M001\tang\t[4.0000; 3.0000; 3.0000]",
    );
    assert_line_skipped(&root, "malformed rating '[4.0000; 3.0000; 3.0000]'");
    let root = iemocap_with("bad-garbage", "this line is not part of the format");
    assert_line_skipped(&root, "malformed line");
}
