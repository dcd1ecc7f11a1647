//! The manifest reader: the input is the CSV, beside one real WAV file.
#![no_main]

#[path = "scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use vaeser::corpus::{load, CorpusKind, LoadOptions};

fuzz_target!(|data: &[u8]| {
    let root = scratch::dir().join("manifest");
    let wav = root.join("u1.wav");
    if !wav.exists() {
        // 0.1 s of 16-bit silence at 16 kHz.
        let mut bytes = b"RIFF\xa4\x0c\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x80\x3e\0\0\0\x7d\0\0\x02\0\x10\0data\x80\x0c\0\0".to_vec();
        bytes.resize(bytes.len() + 3200, 0);
        scratch::write(&wav, &bytes);
    }
    let csv = root.join("m.csv");
    scratch::write(&csv, data);
    for strict in [false, true] {
        let options = LoadOptions {
            strict,
            ..LoadOptions::default()
        };
        let _ = load(CorpusKind::Manifest, &csv, &options);
    }
});
