//! The baselines of SPEC §5, per fold: the majority class, multinomial
//! logistic regression on each utterance's per-band LogMel mean and standard
//! deviation, and the inputs of the LSTM classifier run on the z-scored
//! LogMel segments directly (no feature learner). Statistics of every
//! standardisation come from the fold's training utterances only.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::features::normalize::BandStats;
use crate::train::logreg::{self, LogRegConfig};

/// The most frequent training label (the lowest index on ties), predicted
/// for every one of `n_test` test utterances.
pub fn majority(train_labels: &[usize], classes: usize, n_test: usize) -> Result<Vec<usize>> {
    let mut counts = vec![0usize; classes];
    for &l in train_labels {
        if l >= classes {
            return Err(Error::shape(format!(
                "majority baseline: label {l} outside 0..{classes}"
            )));
        }
        counts[l] += 1;
    }
    if train_labels.is_empty() {
        return Err(Error::config("majority baseline: no training utterance"));
    }
    let mut best = 0;
    for (c, &n) in counts.iter().enumerate() {
        if n > counts[best] {
            best = c;
        }
    }
    Ok(vec![best; n_test])
}

/// Per-band mean and population standard deviation over every frame of an
/// utterance's segments (`2 * bands` values: the means, then the stds).
/// Segments are frame-major, so value `i` belongs to band `i % bands`. With
/// non-overlapping segments these are the utterance's frames, less the
/// trailing ones that do not fill a segment (and, for an utterance shorter
/// than one segment, with its last frame repeated).
pub fn mean_std(segments: &[f32], bands: usize) -> Result<Vec<f32>> {
    if bands == 0 || segments.is_empty() || segments.len() % bands != 0 {
        return Err(Error::shape(format!(
            "utterance statistics: {} values are not whole frames of {bands} bands",
            segments.len()
        )));
    }
    let frames = (segments.len() / bands) as f64;
    let mut sum = vec![0f64; bands];
    for frame in segments.chunks_exact(bands) {
        for (s, &x) in sum.iter_mut().zip(frame) {
            *s += f64::from(x);
        }
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / frames).collect();
    let mut sq = vec![0f64; bands];
    for frame in segments.chunks_exact(bands) {
        for ((s, &x), m) in sq.iter_mut().zip(frame).zip(&mean) {
            let d = f64::from(x) - m;
            *s += d * d;
        }
    }
    let mut out: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
    out.extend(sq.iter().map(|s| (s / frames).sqrt() as f32));
    Ok(out)
}

/// Logistic regression on the utterances' `mean_std` features, standardised
/// with the training utterances' statistics; the predicted class of each
/// test utterance.
pub fn logistic_regression<B: Backend>(
    be: &B,
    train: &[&[f32]],
    train_labels: &[usize],
    test: &[&[f32]],
    bands: usize,
    classes: usize,
) -> Result<Vec<usize>> {
    let features = |utts: &[&[f32]]| -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(utts.len() * 2 * bands);
        for u in utts {
            out.extend(mean_std(u, bands)?);
        }
        Ok(out)
    };
    let dim = 2 * bands;
    let mut x_train = features(train)?;
    let mut x_test = features(test)?;
    let stats = BandStats::fit(&[&x_train], dim)?;
    stats.apply(&mut x_train)?;
    stats.apply(&mut x_test)?;
    let model = logreg::fit(
        be,
        &x_train,
        dim,
        train_labels,
        classes,
        &LogRegConfig::default(),
    )?;
    model.predict(be, &x_test)
}

/// Each utterance's values, as the classifier reads them.
pub type Features = Vec<Vec<f32>>;

/// The segments of the training and test utterances, z-scored per band with
/// the statistics of the training utterances' segments: what the LSTM reads
/// when there is no feature learner.
pub fn zscored_segments(
    train: &[&[f32]],
    test: &[&[f32]],
    bands: usize,
) -> Result<(Features, Features)> {
    let stats = BandStats::fit(train, bands)?;
    let apply = |utts: &[&[f32]]| -> Result<Vec<Vec<f32>>> {
        utts.iter()
            .map(|u| {
                let mut v = u.to_vec();
                stats.apply(&mut v)?;
                Ok(v)
            })
            .collect()
    };
    Ok((apply(train)?, apply(test)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_takes_the_most_frequent_training_label() {
        assert_eq!(majority(&[2, 1, 2, 0], 4, 3).unwrap(), [2, 2, 2]);
        // Ties go to the lowest index.
        assert_eq!(majority(&[3, 1, 1, 3], 4, 1).unwrap(), [1]);
        assert!(majority(&[], 4, 1).is_err());
        assert!(majority(&[4], 4, 1).is_err());
    }

    #[test]
    fn mean_std_is_per_band_over_frames() {
        // Two bands, three frames: band 0 = 1, 2, 3; band 1 = 5, 5, 5.
        let s = [1.0, 5.0, 2.0, 5.0, 3.0, 5.0];
        let f = mean_std(&s, 2).unwrap();
        assert_eq!(f[..2], [2.0, 5.0]);
        assert!((f[2] - (2.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(f[3], 0.0);
        assert!(mean_std(&s[..5], 2).is_err());
    }

    #[test]
    fn zscoring_uses_training_statistics_only() {
        let train: Vec<&[f32]> = vec![&[0.0, 10.0], &[2.0, 30.0]];
        let test: Vec<&[f32]> = vec![&[1.0, 20.0]];
        let (tr, te) = zscored_segments(&train, &test, 2).unwrap();
        assert_eq!(tr, [vec![-1.0, -1.0], vec![1.0, 1.0]]);
        assert_eq!(te, [vec![0.0, 0.0]]);
    }
}
