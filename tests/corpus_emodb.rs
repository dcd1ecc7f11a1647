//! The EmoDB loader by its file-name convention, on a fixture directory of
//! empty files (the loader reads names only).

mod common;

use common::{scratch, utterance_rows};
use vaeser::corpus::{folds, load, CorpusKind, Gender, LoadOptions};

#[test]
fn names_give_speaker_emotion_and_speaker_folds() {
    let root = scratch("emodb");
    let wav = root.join("wav");
    std::fs::create_dir_all(&wav).unwrap();
    for name in [
        "03a01Fa.wav", // happy, male speaker 03
        "03a01Nc.wav", // neutral
        "08b02Tb.wav", // sad, female speaker 08
        "16a05Wa.wav", // angry, female speaker 16
        "11b03La.wav", // boredom: excluded
        "13a04Ea.wav", // disgust: excluded
        "13a04Ab.wav", // fear: excluded
        "10a07Xa.wav", // unknown emotion code
        "3a01Fa.wav",  // malformed
        "readme.txt",  // not audio
    ] {
        std::fs::write(wav.join(name), b"").unwrap();
    }
    let corpus = load(CorpusKind::Emodb, &root, &LoadOptions::default()).unwrap();
    let got = utterance_rows(&corpus);
    assert_eq!(
        got,
        [
            ("03a01Fa", Some(1), "03", "03", Some(Gender::Male)),
            ("03a01Nc", Some(0), "03", "03", Some(Gender::Male)),
            ("08b02Tb", Some(2), "08", "08", Some(Gender::Female)),
            ("16a05Wa", Some(3), "16", "16", Some(Gender::Female)),
        ]
    );
    let excluded: Vec<(&str, usize)> = corpus
        .excluded
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(excluded, [("boredom", 1), ("disgust", 1), ("fear", 1)]);
    let skipped: Vec<String> = corpus.skipped.iter().map(|s| s.to_string()).collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped[0].contains("10a07Xa.wav") && skipped[0].contains("unknown emotion code 'X'"));
    assert!(skipped[1].contains("3a01Fa.wav") && skipped[1].contains("SSTTTEV"));
    assert_eq!(folds::by_group(&corpus.utterances).len(), 3);

    let err = load(
        CorpusKind::Emodb,
        &root,
        &LoadOptions {
            strict: true,
            ..LoadOptions::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("10a07Xa.wav"), "{err}");

    // The files may also lie directly in the corpus directory.
    let flat = load(CorpusKind::Emodb, &wav, &LoadOptions::default()).unwrap();
    assert_eq!(flat.utterances.len(), 4);
    std::fs::remove_dir_all(&root).unwrap();
}
