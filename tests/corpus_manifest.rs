//! The CSV manifest loader on tests/fixtures/manifest/manifest.csv: five
//! usable rows (one quoted, one unlabelled, one without ratings) and five
//! bad ones, each skipped with the CSV's line number.

mod common;

use common::{copy_tree, scratch, write_wav};
use std::path::{Path, PathBuf};
use vaeser::corpus::{folds, load, CorpusKind, LoadOptions};

fn fixture(name: &str) -> PathBuf {
    let root = scratch(name);
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifest"),
        &root,
    );
    for (i, f) in ["a", "b", "with, comma", "c", "sub/d", "e", "f", "g"]
        .iter()
        .enumerate()
    {
        write_wav(&root.join(format!("audio/{f}.wav")), 400, i as u32);
    }
    root
}

#[test]
fn rows_give_labels_speakers_folds_and_optional_ratings() {
    let root = fixture("manifest-ok");
    let csv = root.join("manifest.csv");
    let corpus = load(CorpusKind::Manifest, &csv, &LoadOptions::default()).unwrap();
    let rows: Vec<(&str, Option<usize>, &str, &str)> = corpus
        .utterances
        .iter()
        .map(|u| (u.id.as_str(), u.label, u.speaker.as_str(), u.group.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("audio/a.wav", Some(0), "spk1", "f1"),
            ("audio/b.wav", Some(3), "spk2", "f2"),
            ("audio/with, comma.wav", Some(1), "spk1", "f1"),
            ("audio/c.wav", None, "spk3", "f2"),
            ("audio/sub/d.wav", Some(2), "spk3", "f2"),
        ]
    );
    assert_eq!(
        corpus.utterances[2].path,
        root.join("audio/with, comma.wav")
    );
    let vad = corpus.utterances[0].vad.unwrap();
    assert_eq!((vad.valence, vad.arousal, vad.dominance), (3.0, 2.5, 3.0));
    assert_eq!(corpus.utterances[2].vad, None);
    let folds: Vec<(String, Vec<usize>)> = folds::by_group(&corpus.utterances)
        .into_iter()
        .map(|f| (f.name, f.test))
        .collect();
    assert_eq!(
        folds,
        [
            ("f1".to_string(), vec![0, 2]),
            ("f2".to_string(), vec![1, 3, 4])
        ]
    );

    let skipped: Vec<String> = corpus.skipped.iter().map(|s| s.to_string()).collect();
    assert_eq!(skipped.len(), 5, "{skipped:#?}");
    let at = |line: usize| format!("manifest.csv:{line}: ");
    assert!(skipped[0].contains(&at(8)) && skipped[0].contains("unknown label 'surprised'"));
    assert!(skipped[1].contains(&at(9)) && skipped[1].contains("3 fields where the header has 7"));
    assert!(skipped[2].contains(&at(10)) && skipped[2].contains("arousal 'x' is not a number"));
    assert!(skipped[3].contains("audio/missing.wav") && skipped[3].contains("manifest.csv:11"));
    assert!(skipped[4].contains(&at(12)) && skipped[4].contains("listed twice"));

    let err = load(
        CorpusKind::Manifest,
        &csv,
        &LoadOptions {
            strict: true,
            ..LoadOptions::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains(&at(8)), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_manifest_without_ratings_and_bad_headers() {
    let root = scratch("manifest-header");
    write_wav(&root.join("x.wav"), 400, 1);
    let csv = root.join("m.csv");
    std::fs::write(&csv, "path,label,speaker,fold\nx.wav,sad,s,1\n").unwrap();
    let corpus = load(CorpusKind::Manifest, &csv, &LoadOptions::default()).unwrap();
    assert_eq!(corpus.utterances.len(), 1);
    assert_eq!(corpus.utterances[0].vad, None);
    assert_eq!(corpus.utterances[0].label, Some(2));

    for (text, want) in [
        (
            "path,label,speaker\nx.wav,sad,s\n",
            "m.csv:1: header 'path,label,speaker'",
        ),
        ("\n\n", "m.csv: empty manifest"),
        ("path,label,speaker,fold,valence\n", "m.csv:1: header"),
    ] {
        std::fs::write(&csv, text).unwrap();
        let err = load(CorpusKind::Manifest, &csv, &LoadOptions::default()).unwrap_err();
        assert!(err.to_string().contains(want), "{err} / {want}");
    }
    let err = load(
        CorpusKind::Manifest,
        &root.join("none.csv"),
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("none.csv"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}
