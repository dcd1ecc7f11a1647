//! Central finite-difference gradient checks, shared by the gradient-check
//! tests; each test chooses (and justifies in its header) its step and
//! tolerances.

/// The step and the tolerance `atol + rtol |analytic|` of one family of
/// checks.
pub struct FiniteDifferences {
    pub step: f32,
    pub atol: f64,
    pub rtol: f64,
}

impl FiniteDifferences {
    /// The first entry where `|numeric - analytic| > atol + rtol |analytic|`,
    /// as `Err(description)`, or `Ok(max abs error)`.
    pub fn compare(&self, name: &str, analytic: &[f32], numeric: &[f64]) -> Result<f64, String> {
        let mut worst = 0.0f64;
        for (j, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
            let err = (a as f64 - n).abs();
            // Written so that a NaN on either side fails too.
            let within = err <= self.atol + self.rtol * (a as f64).abs();
            if !within {
                return Err(format!("{name}[{j}]: analytic {a}, numeric {n}"));
            }
            worst = worst.max(err);
        }
        Ok(worst)
    }

    /// Central difference of `f` w.r.t. every entry of `x`, with the step
    /// measured after rounding to f32.
    pub fn numeric_gradient(&self, x: &mut [f32], mut f: impl FnMut(&[f32]) -> f64) -> Vec<f64> {
        (0..x.len())
            .map(|j| {
                let orig = x[j];
                x[j] = orig + self.step;
                let (xp, fp) = (x[j], f(x));
                x[j] = orig - self.step;
                let (xm, fm) = (x[j], f(x));
                x[j] = orig;
                (fp - fm) / (xp as f64 - xm as f64)
            })
            .collect()
    }

    /// Asserts that `compare` accepts `good` with an error below
    /// `max_error`, and rejects it with its largest entry's sign flipped,
    /// that entry halved (a missing term) or swapped with the first entry
    /// that differs from it by more than `min_entry` (a transposed index);
    /// the largest entry must itself exceed `min_entry` for the halving to
    /// be detectable.
    pub fn assert_check_discriminates(
        &self,
        name: &str,
        good: &[f32],
        numeric: &[f64],
        max_error: f64,
        min_entry: f32,
    ) {
        let worst = self.compare(name, good, numeric).unwrap();
        assert!(
            worst < max_error,
            "{name}: unexpectedly large error {worst}"
        );
        let big = (0..good.len())
            .max_by(|&a, &b| good[a].abs().total_cmp(&good[b].abs()))
            .unwrap();
        assert!(
            good[big].abs() > min_entry,
            "{name}: gradient too small to test ({})",
            good[big]
        );
        let mut flipped = good.to_vec();
        flipped[big] = -flipped[big];
        assert!(
            self.compare(name, &flipped, numeric).is_err(),
            "{name}: sign flip accepted"
        );
        let mut halved = good.to_vec();
        halved[big] *= 0.5;
        assert!(
            self.compare(name, &halved, numeric).is_err(),
            "{name}: halved entry accepted"
        );
        let other = (0..good.len())
            .find(|&j| (good[j] - good[big]).abs() > min_entry)
            .unwrap();
        let mut swapped = good.to_vec();
        swapped.swap(big, other);
        assert!(
            self.compare(name, &swapped, numeric).is_err(),
            "{name}: swap accepted"
        );
    }
}
