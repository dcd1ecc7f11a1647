//! The RAVDESS loader on the 16 kHz 4-class copy in ../shared and on a tiny
//! fixture tree with the cases the copy lacks.

mod common;

use common::{shared_dir, utterance_rows};
use std::path::{Path, PathBuf};
use vaeser::corpus::{folds, load, CorpusKind, Gender, LoadOptions};

#[test]
fn ravdess4_16k_has_the_published_counts_and_six_actor_group_folds() {
    let Some(root) = shared_dir("ravdess4-16k") else {
        return;
    };
    let corpus = load(CorpusKind::Ravdess, &root, &LoadOptions::default()).unwrap();
    assert!(corpus.skipped.is_empty(), "{:?}", corpus.skipped);
    assert_eq!(corpus.utterances.len(), 672);
    assert_eq!(corpus.label_counts(), [96, 192, 192, 192]);
    let speakers = folds::by_speaker(&corpus.utterances);
    assert_eq!(speakers.len(), 24);
    assert!(speakers.iter().all(|f| f.test.len() == 28));
    let groups = folds::by_group(&corpus.utterances);
    let names: Vec<&str> = groups.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "actors01-04",
            "actors05-08",
            "actors09-12",
            "actors13-16",
            "actors17-20",
            "actors21-24"
        ]
    );
    for fold in &groups {
        assert_eq!(fold.test.len(), 4 * 28);
        let mut actors: Vec<&str> = fold
            .test
            .iter()
            .map(|&i| corpus.utterances[i].speaker.as_str())
            .collect();
        actors.dedup();
        assert_eq!(actors.len(), 4, "{}", fold.name);
    }
    for u in &corpus.utterances {
        let actor: u32 = u.speaker["Actor_".len()..].parse().unwrap();
        let want = if actor % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        };
        assert_eq!(u.gender, Some(want), "{}", u.id);
        assert!(u.path.is_file());
        assert!(u.path.starts_with(root.join(&u.speaker)));
    }
}

fn touch(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"").unwrap();
}

fn fixture_tree(name: &str) -> PathBuf {
    let root = common::scratch_path(&format!("ravdess-{name}"));
    let _ = std::fs::remove_dir_all(&root);
    for file in [
        "Actor_05/03-01-01-01-01-01-05.wav", // neutral
        "Actor_05/03-01-02-02-01-01-05.wav", // calm: excluded
        "Actor_05/03-01-05-02-02-02-05.wav", // angry
        "Actor_05/03-02-03-01-01-01-05.wav", // song: excluded
        "Actor_05/notes.txt",                // not audio: ignored
        "Actor_12/03-01-04-01-01-01-12.wav", // sad
        "Actor_12/03-01-03-01-01-01-12.wav", // happy
        "other/03-01-03-01-01-01-12.wav",    // outside any actor directory
    ] {
        touch(&root.join(file));
    }
    root
}

#[test]
fn fixture_labels_groups_speakers_and_exclusions() {
    let root = fixture_tree("ok");
    let corpus = load(CorpusKind::Ravdess, &root, &LoadOptions::default()).unwrap();
    let got = utterance_rows(&corpus);
    assert_eq!(
        got,
        [
            (
                "03-01-01-01-01-01-05",
                Some(0),
                "Actor_05",
                "actors05-08",
                Some(Gender::Male)
            ),
            (
                "03-01-05-02-02-02-05",
                Some(3),
                "Actor_05",
                "actors05-08",
                Some(Gender::Male)
            ),
            (
                "03-01-03-01-01-01-12",
                Some(1),
                "Actor_12",
                "actors09-12",
                Some(Gender::Female)
            ),
            (
                "03-01-04-01-01-01-12",
                Some(2),
                "Actor_12",
                "actors09-12",
                Some(Gender::Female)
            ),
        ]
    );
    assert_eq!(corpus.excluded.get("calm"), Some(&1));
    assert_eq!(corpus.excluded.get("song"), Some(&1));
    assert!(corpus.skipped.is_empty());
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn malformed_names_are_skipped_with_the_file_or_fatal_when_strict() {
    let root = fixture_tree("bad");
    touch(&root.join("Actor_05/03-01-01-01-01-01-07.wav")); // actor mismatch
    touch(&root.join("Actor_05/03-01-1-01-01-01-05.wav")); // short field
    touch(&root.join("Actor_05/03-01-09-01-01-01-05.wav")); // no emotion 09
    let corpus = load(CorpusKind::Ravdess, &root, &LoadOptions::default()).unwrap();
    assert_eq!(corpus.utterances.len(), 4);
    assert_eq!(corpus.skipped.len(), 3);
    let reasons: Vec<String> = corpus.skipped.iter().map(|s| s.to_string()).collect();
    assert!(reasons[0].contains("03-01-01-01-01-01-07.wav") && reasons[0].contains("actor 07"));
    assert!(
        reasons[1].contains("03-01-09-01-01-01-05.wav") && reasons[1].contains("emotion code 09")
    );
    assert!(reasons[2].contains("03-01-1-01-01-01-05.wav") && reasons[2].contains("RAVDESS form"));
    let err = load(
        CorpusKind::Ravdess,
        &root,
        &LoadOptions {
            strict: true,
            ..LoadOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("03-01-01-01-01-01-07.wav"),
        "{err}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_directory_without_actors_is_an_error_naming_it() {
    let root = common::scratch("ravdess-empty");
    let err = load(CorpusKind::Ravdess, &root, &LoadOptions::default()).unwrap_err();
    assert!(err.to_string().contains(&*root.to_string_lossy()), "{err}");
    assert!(err.to_string().contains("Actor_NN"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
    let missing = root.join("nowhere");
    let err = load(CorpusKind::Ravdess, &missing, &LoadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
}
