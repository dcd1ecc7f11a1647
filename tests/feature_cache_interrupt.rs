//! Ctrl-C while a corpus's features are computed: the extraction stops
//! before the next file with `Error::Interrupted`, and the cache keeps every
//! entry it had (nothing computed before is lost), so the next run reuses them.
//! A binary of its own: the stop request is process-wide and would stop the
//! other extraction tests too.

mod common;

use common::{scratch, set_modified_ago, utterance, write_wav};
use std::time::Duration;
use vaeser::error::Error;
use vaeser::features::cache::{extract, ExtractOptions};

#[test]
fn an_interrupted_extraction_stops_and_keeps_the_cached_features() {
    let dir = scratch("extract-interrupt");
    let utts: Vec<_> = (0..6)
        .map(|i| {
            let path = dir.join(format!("u{i}.wav"));
            write_wav(&path, 4000 + 800 * i, i as u32);
            set_modified_ago(&path, Duration::from_secs(3600));
            utterance(path)
        })
        .collect();
    let cache = dir.join("features.cache");
    let options = ExtractOptions {
        cache: Some(&cache),
        strict: true,
        progress: false,
    };
    let first = extract(&utts[..3], &options).unwrap();
    assert_eq!(first.cache.computed, 3);
    vaeser::interrupt::request();
    match extract(&utts, &options) {
        Err(Error::Interrupted(_)) => {}
        other => panic!("expected an interruption, got {other:?}"),
    }

    vaeser::interrupt::reset();
    let resumed = extract(&utts, &options).unwrap();
    assert_eq!(
        (resumed.cache.reused, resumed.cache.computed),
        (3, 3),
        "the features computed before the stop are reused, the rest computed"
    );
}
