//! 100 ms segments (SPEC §2): `frames` consecutive LogMel frames of `N_MELS`
//! bands, flattened frame-major (frame 0's bands, then frame 1's, ...).
//!
//! Segments start every `hop` frames (hop = frames: no overlap). Trailing
//! frames that do not fill a segment are dropped. An utterance shorter than
//! one segment is padded by repeating its last frame, so every utterance with
//! audio gives at least one segment. An utterance with no frame at all (audio
//! shorter than one 32 ms analysis frame) has nothing to repeat: that is an
//! error naming the file, which corpus-level callers report and skip.

use crate::audio::{load_logmel, LogMel, N_MELS};
use crate::config::SegmentConfig;
use crate::corpus::{Skipped, Utterance};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::path::Path;

/// Values per segment: `frames * N_MELS` (800 with the defaults).
pub fn segment_dim(config: &SegmentConfig) -> usize {
    config.frames * N_MELS
}

/// How many segments an utterance of `n_frames` frames gives (0 only for 0 frames).
pub fn segment_count(n_frames: usize, config: &SegmentConfig) -> usize {
    if n_frames == 0 {
        0
    } else if n_frames < config.frames {
        1
    } else {
        1 + (n_frames - config.frames) / config.hop
    }
}

/// Appends the segments of one utterance to `out` (`[n, segment_dim]`,
/// row-major) and returns how many were appended. `source` names the
/// utterance in errors.
pub fn append_segments(
    logmel: &LogMel,
    config: &SegmentConfig,
    source: &Path,
    out: &mut Vec<f32>,
) -> Result<usize> {
    if config.frames == 0 || config.hop == 0 {
        return Err(Error::config(format!(
            "segments need at least one frame and a hop of at least one (frames {}, hop {})",
            config.frames, config.hop
        )));
    }
    if logmel.data.len() != logmel.n_frames * N_MELS {
        return Err(Error::format(
            source,
            format!(
                "LogMel has {} values, expected {} frames x {N_MELS} bands = {}",
                logmel.data.len(),
                logmel.n_frames,
                logmel.n_frames * N_MELS
            ),
        ));
    }
    if logmel.n_frames == 0 {
        return Err(Error::format(
            source,
            "no LogMel frame: the audio is shorter than one 32 ms analysis frame, \
             so it gives no segment",
        ));
    }
    let dim = segment_dim(config);
    let count = segment_count(logmel.n_frames, config);
    out.reserve(count * dim);
    if logmel.n_frames < config.frames {
        out.extend_from_slice(&logmel.data);
        let last = logmel.frame(logmel.n_frames - 1);
        for _ in logmel.n_frames..config.frames {
            out.extend_from_slice(last);
        }
    } else {
        for s in 0..count {
            let start = s * config.hop * N_MELS;
            out.extend_from_slice(&logmel.data[start..start + dim]);
        }
    }
    Ok(count)
}

/// The segments of one utterance as `[n, segment_dim]`.
pub fn segments(logmel: &LogMel, config: &SegmentConfig, source: &Path) -> Result<Vec<f32>> {
    let mut out = Vec::new();
    append_segments(logmel, config, source, &mut out)?;
    Ok(out)
}

/// Each utterance's raw segments (`None` where its file could not be used)
/// and what was skipped.
pub type SegmentedUtterances = (Vec<Option<Vec<f32>>>, Vec<Skipped>);

/// The segments of many utterances, their LogMel computed in parallel (with
/// a progress bar on a terminal). Entry `i` is `None` for an utterance that
/// could not be used (unreadable audio, no frame); the reasons are returned
/// alongside, and with `strict` the first one is an error instead.
pub fn segment_utterances(
    utterances: &[Utterance],
    config: &SegmentConfig,
    strict: bool,
    progress: bool,
) -> Result<SegmentedUtterances> {
    let bar = progress.then(|| {
        crate::train::progress::Progress::new(utterances.len() as u64, "LogMel + segments")
    });
    let results: Vec<Result<Vec<f32>>> = utterances
        .par_iter()
        .map(|u| {
            let r = load_logmel(&u.path).and_then(|lm| segments(&lm, config, &u.path));
            if let Some(b) = &bar {
                b.inc(1);
            }
            r
        })
        .collect();
    if let Some(b) = bar {
        b.finish();
    }
    let mut out = Vec::with_capacity(results.len());
    let mut skipped = Vec::new();
    for (u, r) in utterances.iter().zip(results) {
        match r {
            Ok(s) => out.push(Some(s)),
            Err(e) if strict => return Err(e),
            Err(e) => {
                // The path goes into `Skipped::path`, not twice into the message.
                let message = e.to_string();
                let prefix = format!("{}: ", u.path.display());
                skipped.push(Skipped {
                    path: u.path.clone(),
                    line: None,
                    reason: message
                        .strip_prefix(&prefix)
                        .unwrap_or(&message)
                        .to_string(),
                });
                out.push(None);
            }
        }
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frame `f`, band `b` holds `f * 1000 + b`, so every value says where it came from.
    fn numbered(n_frames: usize) -> LogMel {
        let data = (0..n_frames * N_MELS)
            .map(|i| ((i / N_MELS) * 1000 + i % N_MELS) as f32)
            .collect();
        LogMel { n_frames, data }
    }

    fn cfg(frames: usize, hop: usize) -> SegmentConfig {
        SegmentConfig { frames, hop }
    }

    #[test]
    fn segments_are_frame_major_and_trailing_frames_dropped() {
        let s = segments(&numbered(25), &cfg(10, 10), Path::new("u.wav")).unwrap();
        assert_eq!(s.len(), 2 * 800);
        // segment 1, frame 3, band 7 comes from frame 13.
        assert_eq!(s[800 + 3 * N_MELS + 7], 13_007.0);
        assert_eq!(s[800 - 1], 9_079.0);
        assert_eq!(segment_count(25, &cfg(10, 10)), 2);
        assert_eq!(segment_count(20, &cfg(10, 10)), 2);
        assert_eq!(segment_count(19, &cfg(10, 10)), 1);
    }

    #[test]
    fn hop_gives_overlapping_segments() {
        let s = segments(&numbered(14), &cfg(10, 2), Path::new("u.wav")).unwrap();
        assert_eq!(s.len(), 3 * 800);
        assert_eq!(s[2 * 800], 4_000.0);
        assert_eq!(s[3 * 800 - 1], 13_079.0);
    }

    #[test]
    fn short_utterance_repeats_its_last_frame() {
        let s = segments(&numbered(3), &cfg(10, 10), Path::new("u.wav")).unwrap();
        assert_eq!(s.len(), 800);
        assert_eq!(s[2 * N_MELS + 5], 2_005.0);
        for f in 3..10 {
            assert_eq!(s[f * N_MELS + 5], 2_005.0, "frame {f}");
        }
    }

    #[test]
    fn empty_or_inconsistent_utterance_is_an_error_naming_it() {
        let e = segments(&numbered(0), &cfg(10, 10), Path::new("a/empty.wav")).unwrap_err();
        assert!(e.to_string().contains("a/empty.wav"), "{e}");
        let bad = LogMel {
            n_frames: 2,
            data: vec![0.0; 100],
        };
        let e = segments(&bad, &cfg(10, 10), Path::new("b.wav")).unwrap_err();
        assert!(
            e.to_string().contains("b.wav") && e.to_string().contains("100"),
            "{e}"
        );
    }
}
