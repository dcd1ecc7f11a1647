//! The IEMOCAP annotation parser, through the corpus loader (one session,
//! one annotation file holding the input), lenient and strict.
#![no_main]

#[path = "scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use vaeser::corpus::{load, CorpusKind, LoadOptions};

fuzz_target!(|data: &[u8]| {
    let root = scratch::dir().join("iemocap");
    let file = root.join("Session1/dialog/EmoEvaluation/Ses01F_impro01.txt");
    scratch::write(&file, data);
    for strict in [false, true] {
        let options = LoadOptions {
            strict,
            ..LoadOptions::default()
        };
        let _ = load(CorpusKind::Iemocap, &root, &options);
    }
});
