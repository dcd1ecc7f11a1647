//! The IEMOCAP loader on a fixture in the release's exact annotation format
//! (tests/fixtures/iemocap: four dialogs of sessions 1, 3 and 5), with the
//! audio files written by the test.

mod common;

use common::{copy_tree, scratch, write_wav};
use std::path::{Path, PathBuf};
use vaeser::corpus::{folds, load, Corpus, CorpusKind, Gender, LoadOptions};

const WITH_AUDIO: [&str; 8] = [
    "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav",
    "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M000.wav",
    "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F002.wav",
    "Session1/sentences/wav/Ses01M_script01_1/Ses01M_script01_1_M000.wav",
    "Session1/sentences/wav/Ses01M_script01_1/Ses01M_script01_1_F000.wav",
    "Session3/sentences/wav/Ses03M_impro05a/Ses03M_impro05a_F000.wav",
    "Session3/sentences/wav/Ses03M_impro05a/Ses03M_impro05a_M000.wav",
    "Session5/sentences/wav/Ses05M_script01_1b/Ses05M_script01_1b_F000.wav",
];

/// The fixture's annotations with the audio of every 4-class utterance but
/// one (`Ses05M_script01_1b_M001`, labelled angry).
fn fixture(name: &str) -> PathBuf {
    let root = scratch(name);
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iemocap"),
        &root,
    );
    for (i, wav) in WITH_AUDIO.iter().enumerate() {
        write_wav(&root.join(wav), 800, i as u32);
    }
    root
}

fn find<'a>(corpus: &'a Corpus, id: &str) -> &'a vaeser::corpus::Utterance {
    corpus
        .utterances
        .iter()
        .find(|u| u.id == id)
        .unwrap_or_else(|| panic!("{id} not loaded"))
}

#[test]
fn labels_speakers_dialogs_and_ratings_follow_the_annotations() {
    let root = fixture("iemocap-fields");
    let corpus = load(CorpusKind::Iemocap, &root, &LoadOptions::default()).unwrap();
    let ids: Vec<&str> = corpus.utterances.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "Ses01F_impro01_F000",
            "Ses01F_impro01_M000",
            "Ses01F_impro01_F002",
            "Ses01M_script01_1_M000",
            "Ses01M_script01_1_F000",
            "Ses03M_impro05a_F000",
            "Ses03M_impro05a_M000",
            "Ses05M_script01_1b_F000",
        ]
    );
    for (u, wav) in corpus.utterances.iter().zip(WITH_AUDIO) {
        assert_eq!(u.path, root.join(wav));
    }
    // neutral, happy (hap + exc), sad, angry
    assert_eq!(corpus.label_counts(), [2, 3, 2, 1]);
    assert_eq!(
        find(&corpus, "Ses01F_impro01_M000").label,
        Some(1),
        "exc is happy"
    );

    // The speaker comes from the utterance's last field, not the dialog's letter.
    let u = find(&corpus, "Ses01M_script01_1_F000");
    assert_eq!(u.speaker, "Ses01F");
    assert_eq!(u.gender, Some(Gender::Female));
    assert_eq!(u.dialog.as_deref(), Some("Ses01M_script01_1"));
    assert_eq!(u.group, "Session1");
    assert_eq!(u.improvised, Some(false));
    let u = find(&corpus, "Ses03M_impro05a_F000");
    assert_eq!(u.speaker, "Ses03F");
    assert_eq!(u.dialog.as_deref(), Some("Ses03M_impro05a"));
    assert_eq!(u.improvised, Some(true));
    let u = find(&corpus, "Ses01F_impro01_M000");
    assert_eq!(
        (u.speaker.as_str(), u.gender),
        ("Ses01M", Some(Gender::Male))
    );

    // Rater means exactly as written, 3.0 included (the "mid" bin).
    let vad = find(&corpus, "Ses05M_script01_1b_F000").vad.unwrap();
    assert_eq!((vad.valence, vad.arousal, vad.dominance), (3.0, 2.0, 4.5));
    assert_eq!(
        find(&corpus, "Ses05M_script01_1b_F000").dialog.as_deref(),
        Some("Ses05M_script01_1b")
    );
    let vad = find(&corpus, "Ses01F_impro01_M000").vad.unwrap();
    assert_eq!((vad.valence, vad.arousal, vad.dominance), (3.0, 3.0, 3.0));
    let vad = find(&corpus, "Ses01F_impro01_F002").vad.unwrap();
    assert_eq!((vad.valence, vad.arousal, vad.dominance), (1.5, 4.0, 4.0));

    // xxx, fru and sur are left out and counted; nothing else is reported.
    let excluded: Vec<(&str, usize)> = corpus
        .excluded
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(excluded, [("fru", 1), ("sur", 1), ("xxx", 1)]);
    assert!(corpus.warnings.is_empty(), "{:?}", corpus.warnings);

    // The labelled utterance without audio is the one thing skipped.
    assert_eq!(corpus.skipped.len(), 1, "{:?}", corpus.skipped);
    let s = &corpus.skipped[0];
    assert!(s
        .path
        .ends_with("Session5/sentences/wav/Ses05M_script01_1b/Ses05M_script01_1b_M001.wav"));
    assert!(s.to_string().contains("Ses05M_script01_1b.txt:7"), "{s}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn subsets_and_folds_by_session_and_by_speaker() {
    let root = fixture("iemocap-folds");
    let corpus = load(CorpusKind::Iemocap, &root, &LoadOptions::default()).unwrap();
    let improvised: Vec<&str> = corpus
        .utterances
        .iter()
        .filter(|u| u.improvised == Some(true))
        .map(|u| u.id.as_str())
        .collect();
    assert_eq!(
        improvised,
        [
            "Ses01F_impro01_F000",
            "Ses01F_impro01_M000",
            "Ses01F_impro01_F002",
            "Ses03M_impro05a_F000",
            "Ses03M_impro05a_M000",
        ]
    );
    let scripted = corpus
        .utterances
        .iter()
        .filter(|u| u.improvised == Some(false))
        .count();
    assert_eq!(scripted, 3);

    let sessions: Vec<(String, Vec<usize>)> = folds::by_group(&corpus.utterances)
        .into_iter()
        .map(|f| (f.name, f.test))
        .collect();
    assert_eq!(
        sessions,
        [
            ("Session1".to_string(), vec![0, 1, 2, 3, 4]),
            ("Session3".to_string(), vec![5, 6]),
            ("Session5".to_string(), vec![7]),
        ]
    );
    let speakers: Vec<(String, Vec<usize>)> = folds::by_speaker(&corpus.utterances)
        .into_iter()
        .map(|f| (f.name, f.test))
        .collect();
    assert_eq!(
        speakers,
        [
            ("Ses01F".to_string(), vec![0, 2, 4]),
            ("Ses01M".to_string(), vec![1, 3]),
            ("Ses03F".to_string(), vec![5]),
            ("Ses03M".to_string(), vec![6]),
            ("Ses05F".to_string(), vec![7]),
        ]
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn strict_loading_stops_at_the_missing_audio() {
    let root = fixture("iemocap-strict");
    let err = load(
        CorpusKind::Iemocap,
        &root,
        &LoadOptions {
            strict: true,
            ..LoadOptions::default()
        },
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("Ses05M_script01_1b_M001.wav"), "{msg}");
    assert!(msg.contains("missing"), "{msg}");
    std::fs::remove_dir_all(&root).unwrap();
}

/// With all five sessions present the loader compares the counts with the
/// published ones (SPEC §5) and says how they differ; the synthetic corpus,
/// in the same layout, is not compared.
#[test]
fn a_five_session_release_with_other_counts_is_reported() {
    let root = scratch("iemocap-release-counts");
    for s in 1..=5 {
        let dialog = format!("Ses0{s}F_impro01");
        let utt = format!("{dialog}_F000");
        let eval = root.join(format!("Session{s}/dialog/EmoEvaluation/{dialog}.txt"));
        std::fs::create_dir_all(eval.parent().unwrap()).unwrap();
        std::fs::write(
            &eval,
            format!("% header\n\n[0.1000 - 1.0000]\t{utt}\tneu\t[2.0000, 2.0000, 2.0000]\n"),
        )
        .unwrap();
        write_wav(
            &root.join(format!("Session{s}/sentences/wav/{dialog}/{utt}.wav")),
            800,
            s,
        );
    }
    let corpus = load(CorpusKind::Iemocap, &root, &LoadOptions::default()).unwrap();
    assert_eq!(corpus.utterances.len(), 5);
    assert_eq!(corpus.warnings.len(), 2, "{:?}", corpus.warnings);
    assert!(
        corpus.warnings[0].contains("5 utterances (neutral 5, happy+excited 0, sad 0, angry 0)")
    );
    assert!(corpus.warnings[0].contains("expects 5531 (1708, 1636, 1084, 1103)"));
    assert!(corpus.warnings[1].contains("improvised set has 5 utterances"));
    assert!(corpus.warnings[1].contains("2943"));
    let synth = load(CorpusKind::Synth, &root, &LoadOptions::default()).unwrap();
    assert_eq!(synth.utterances, corpus.utterances);
    assert!(synth.warnings.is_empty());
    std::fs::remove_dir_all(&root).unwrap();
}
