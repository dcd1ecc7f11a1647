//! Per-band z-score normalisation (SPEC §2). The statistics come from the
//! training part of a fold only and are applied to every part of it.
//!
//! Values are laid out frame-major (LogMel frames, or segments made of them),
//! so value `i` of any buffer belongs to band `i % bands`: one set of
//! statistics serves frames and segments alike.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Smallest standard deviation used for scaling, in natural-log units. A band
/// that never changes in the training data (e.g. always at the LogMel floor)
/// would otherwise divide by zero; with the floor its z-scores stay finite.
pub const STD_FLOOR: f32 = 1e-3;

/// Mean and standard deviation of each band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BandStats {
    /// Mean of each band, in natural-log units (the LogMel's).
    pub mean: Vec<f32>,
    /// Population standard deviation, already floored at `STD_FLOOR`.
    pub std: Vec<f32>,
}

impl BandStats {
    /// Estimates the statistics of `bands` bands over all values of `parts`
    /// (each a frame-major buffer whose length is a multiple of `bands`).
    ///
    /// Two passes with f64 accumulators in a fixed order (part by part, value
    /// by value), so the result does not depend on threads and loses no
    /// precision to the large offsets of log energies.
    pub fn fit(parts: &[&[f32]], bands: usize) -> Result<BandStats> {
        if bands == 0 {
            return Err(Error::shape("normalisation needs at least one band"));
        }
        for (i, p) in parts.iter().enumerate() {
            if p.len() % bands != 0 {
                return Err(Error::shape(format!(
                    "normalisation input {i} has {} values, not a multiple of {bands} bands",
                    p.len()
                )));
            }
        }
        let rows: usize = parts.iter().map(|p| p.len() / bands).sum();
        if rows == 0 {
            return Err(Error::shape(
                "normalisation statistics need at least one frame of training data",
            ));
        }
        let mut sum = vec![0f64; bands];
        for p in parts {
            for row in p.chunks_exact(bands) {
                for (s, &x) in sum.iter_mut().zip(row) {
                    *s += f64::from(x);
                }
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / rows as f64).collect();
        let mut sq = vec![0f64; bands];
        for p in parts {
            for row in p.chunks_exact(bands) {
                for ((s, &x), m) in sq.iter_mut().zip(row).zip(&mean) {
                    let d = f64::from(x) - m;
                    *s += d * d;
                }
            }
        }
        let mut std = Vec::with_capacity(bands);
        for (b, s) in sq.iter().enumerate() {
            let sd = (s / rows as f64).sqrt() as f32;
            if !sd.is_finite() || !mean[b].is_finite() {
                return Err(Error::shape(format!(
                    "normalisation statistics of band {b} are not finite (non-finite input values)"
                )));
            }
            std.push(sd.max(STD_FLOOR));
        }
        Ok(BandStats {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
        })
    }

    /// Number of bands the statistics cover (80 for LogMel values).
    pub fn bands(&self) -> usize {
        self.mean.len()
    }

    /// Checks that the statistics are usable (e.g. after reading them from a file).
    pub fn validate(&self) -> Result<()> {
        if self.mean.is_empty() || self.mean.len() != self.std.len() {
            return Err(Error::shape(format!(
                "normalisation statistics have {} means and {} standard deviations",
                self.mean.len(),
                self.std.len()
            )));
        }
        if self.mean.iter().any(|m| !m.is_finite())
            || self.std.iter().any(|s| !s.is_finite() || *s < STD_FLOOR)
        {
            return Err(Error::shape(
                "normalisation statistics contain a non-finite mean or a standard deviation below the floor",
            ));
        }
        Ok(())
    }

    /// In place: `x = (x - mean[band]) / std[band]` for every value of `data`
    /// (frame-major, length a multiple of the band count).
    pub fn apply(&self, data: &mut [f32]) -> Result<()> {
        let bands = self.bands();
        if bands == 0 || data.len() % bands != 0 {
            return Err(Error::shape(format!(
                "cannot normalise {} values with statistics of {bands} bands",
                data.len()
            )));
        }
        // Division, not multiplication by a reciprocal: exact z-scores cost
        // nothing here and keep the values independent of how they are computed.
        for row in data.chunks_exact_mut(bands) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *x = (*x - m) / s;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_match_a_direct_computation_and_normalised_data_is_standard() {
        // Two bands: band 0 = 100 + i (large offset), band 1 constant.
        let a: Vec<f32> = (0..6).flat_map(|i| [100.0 + i as f32, -23.0]).collect();
        let b: Vec<f32> = (6..10).flat_map(|i| [100.0 + i as f32, -23.0]).collect();
        let st = BandStats::fit(&[&a, &b], 2).unwrap();
        assert_eq!(st.mean, vec![104.5, -23.0]);
        // Population std of 0..9 = sqrt(8.25).
        assert!((st.std[0] - 8.25f32.sqrt()).abs() < 1e-6);
        assert_eq!(st.std[1], STD_FLOOR);
        let mut all = [a, b].concat();
        st.apply(&mut all).unwrap();
        let band0: Vec<f32> = all.iter().step_by(2).copied().collect();
        let mean: f32 = band0.iter().sum::<f32>() / 10.0;
        let var: f32 = band0.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / 10.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5);
        assert!(all.iter().skip(1).step_by(2).all(|&x| x == 0.0));
    }

    #[test]
    fn statistics_are_per_band_across_segments() {
        // A 2-frame "segment" of 2 bands: values 0,1 are frame 0, 2,3 frame 1.
        let seg = [1.0, 10.0, 3.0, 30.0];
        let st = BandStats::fit(&[&seg], 2).unwrap();
        assert_eq!(st.mean, vec![2.0, 20.0]);
    }

    #[test]
    fn bad_shapes_and_empty_input_are_errors() {
        assert!(BandStats::fit(&[&[1.0, 2.0, 3.0]], 2).is_err());
        assert!(BandStats::fit(&[], 2).is_err());
        let st = BandStats::fit(&[&[1.0, 2.0]], 2).unwrap();
        let e = st.apply(&mut [0.0; 3]).unwrap_err();
        assert!(e.to_string().contains("3 values"), "{e}");
    }
}
