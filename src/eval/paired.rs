//! Paired comparisons of two cells run on the same folds and seeds (SPEC §5):
//! the units are (seed, fold) pairs, the statistic is the mean over units of
//! UA(A) - UA(B) on that fold's test utterances. The report gives the mean
//! difference with a 95% Student-t interval over the units and a two-sided
//! sign-flip permutation test: under the null hypothesis that A and B are
//! exchangeable, each unit's difference is as likely to have either sign.
//!
//! The permutations come from a named stream keyed by the two cells, not by
//! the run's seeds, so a comparison is a deterministic function of its
//! results. Units of one fold under different seeds share their test
//! utterances, so they are not independent: the interval and the test treat
//! them as if they were, which makes both somewhat optimistic; the report
//! says so.

use super::results::{CellResult, Subset, Task};
use super::seeds::Interval;
use crate::rng::stream;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Random sign patterns per test (the p-value's resolution is 1 / 10 001).
pub const PERMUTATIONS: usize = 10_000;

/// The p-value below which a difference is called distinguishable from noise.
pub const LEVEL: f64 = 0.05;

/// Two cells of one task and subset compared on their common (seed, fold)
/// units, as `results.json` and the report hold it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Cell ids (without seed) of the two sides: the difference is A - B.
    pub a: String,
    /// Cell id of side B.
    pub b: String,
    /// Side A's model name ("VAE", "LogMel", ...).
    pub a_model: String,
    /// Side B's model name.
    pub b_model: String,
    /// The task both cells ran.
    pub task: Task,
    /// The subset both cells ran on.
    pub subset: Subset,
    /// (seed, fold) units both sides have.
    pub units: usize,
    /// Mean of UA(A) - UA(B) over the units, as a fraction, with its interval.
    pub ua_difference: Interval,
    /// Random sign patterns drawn for the test ([`PERMUTATIONS`]).
    pub permutations: usize,
    /// Two-sided sign-flip permutation p-value, (1 + hits) / (1 + permutations).
    pub p_value: f64,
    /// Both the test (p < 5%) and the interval (0 outside it) say the
    /// difference is not noise. With few units they can disagree: six units
    /// all of one sign give p = 2/64 whatever their spread.
    pub distinguishable: bool,
}

/// Per-unit UA differences of A and B: units are the (seed, fold) pairs
/// present in both, in A's order.
pub fn unit_differences(a: &[&CellResult], b: &[&CellResult]) -> Vec<f64> {
    let mut out = Vec::new();
    for ra in a {
        let Some(rb) = b.iter().find(|r| r.seed == ra.seed) else {
            continue;
        };
        for (fa, sa) in ra.folds.iter().zip(&ra.summary.per_fold) {
            let other = rb
                .folds
                .iter()
                .zip(&rb.summary.per_fold)
                .find(|(fb, _)| fb.fold == fa.fold);
            if let Some((_, sb)) = other {
                out.push(sa.ua - sb.ua);
            }
        }
    }
    out
}

/// The two-sided sign-flip p-value of the mean of `diffs`, from `permutations`
/// random sign patterns of the named stream `purpose`.
pub fn sign_flip_p(diffs: &[f64], permutations: usize, purpose: &str) -> f64 {
    if diffs.is_empty() {
        return 1.0;
    }
    let observed = diffs.iter().sum::<f64>().abs();
    // Sums of the same magnitudes in another order can differ in the last
    // bits; a pattern that reproduces the observed sum counts as a hit.
    let tolerance = 1e-12 * diffs.iter().map(|d| d.abs()).sum::<f64>().max(1.0);
    let mut rng = stream(0, purpose, 0, 0);
    let mut hits = 0usize;
    for _ in 0..permutations {
        let mut sum = 0.0;
        for &d in diffs {
            sum += if rng.gen::<bool>() { d } else { -d };
        }
        if sum.abs() >= observed - tolerance {
            hits += 1;
        }
    }
    (1 + hits) as f64 / (1 + permutations) as f64
}

/// Compares A with B (each given as its results over the seeds).
pub fn compare(a: &[&CellResult], b: &[&CellResult]) -> Option<Comparison> {
    let (fa, fb) = (a.first()?, b.first()?);
    let diffs = unit_differences(a, b);
    if diffs.is_empty() {
        return None;
    }
    let purpose = format!("paired-sign-flip/{}/{}", fa.id(), fb.id());
    let p_value = sign_flip_p(&diffs, PERMUTATIONS, &purpose);
    let ua_difference = Interval::of(&diffs);
    Some(Comparison {
        a: fa.id(),
        b: fb.id(),
        a_model: fa.model.clone(),
        b_model: fb.model.clone(),
        task: fa.task,
        subset: fa.subset,
        units: diffs.len(),
        distinguishable: p_value < LEVEL && excludes_zero(&ua_difference),
        ua_difference,
        permutations: PERMUTATIONS,
        p_value,
    })
}

/// Every pair of models (in row order), then each baseline against each
/// model, per task and subset of `models`.
pub fn compare_all(models: &[CellResult], baselines: &[CellResult]) -> Vec<Comparison> {
    let mut groups: Vec<(Task, Subset)> = Vec::new();
    for c in models {
        if !groups.contains(&(c.task, c.subset)) {
            groups.push((c.task, c.subset));
        }
    }
    let mut out = Vec::new();
    for (task, subset) in groups {
        let by_id = |cells: &[CellResult]| -> Vec<Vec<CellResult>> {
            let mut ids: Vec<String> = Vec::new();
            for c in cells
                .iter()
                .filter(|c| c.task == task && c.subset == subset)
            {
                if !ids.contains(&c.id()) {
                    ids.push(c.id());
                }
            }
            ids.iter()
                .map(|id| cells.iter().filter(|c| c.id() == *id).cloned().collect())
                .collect()
        };
        let m = by_id(models);
        let bl = by_id(baselines);
        for i in 0..m.len() {
            for j in i + 1..m.len() {
                out.extend(compare(&refs(&m[i]), &refs(&m[j])));
            }
        }
        for b in &bl {
            for a in &m {
                out.extend(compare(&refs(a), &refs(b)));
            }
        }
    }
    out
}

/// Whether a 95% interval leaves 0 out.
pub fn excludes_zero(i: &Interval) -> bool {
    i.half_width
        .is_some_and(|h| i.mean - h > 0.0 || i.mean + h < 0.0)
}

fn refs(v: &[CellResult]) -> Vec<&CellResult> {
    v.iter().collect()
}

/// The report's sentence about one comparison.
pub fn sentence(c: &Comparison, name: impl Fn(&str) -> String) -> String {
    let d = &c.ua_difference;
    let interval = match d.half_width {
        Some(h) => format!(
            "95% interval [{:+.1}, {:+.1}]",
            100.0 * (d.mean - h),
            100.0 * (d.mean + h)
        ),
        None => "no interval (one unit)".into(),
    };
    let verdict = if c.distinguishable {
        format!(
            "distinguishable from noise at the {:.0}% level",
            100.0 * LEVEL
        )
    } else if c.p_value < LEVEL {
        format!(
            "not clearly distinguishable from noise: the test is below {:.0}% but the interval includes 0",
            100.0 * LEVEL
        )
    } else {
        format!(
            "not distinguishable from noise at the {:.0}% level",
            100.0 * LEVEL
        )
    };
    format!(
        "{} minus {}: {:+.1} UA points over {} (seed, fold) units, {interval}; sign-flip p = {:.4}: {verdict}.",
        name(&c.a_model),
        name(&c.b_model),
        100.0 * d.mean,
        c.units,
        c.p_value
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_flip_test_separates_a_consistent_shift_from_noise() {
        // Twelve units, all +2 points: only the all-plus and all-minus
        // patterns reach the observed |sum|, so p is near 2 / 4096.
        let shift = vec![0.02; 12];
        let p = sign_flip_p(&shift, PERMUTATIONS, "test");
        assert!(p < 0.002, "{p}");
        // Symmetric differences: the observed sum is 0, every pattern hits.
        let noise = [0.05, -0.05, 0.03, -0.03, 0.01, -0.01];
        assert_eq!(sign_flip_p(&noise, 1000, "test"), 1.0);
        // Deterministic for a stream name.
        let mixed = [0.04, -0.01, 0.02, 0.03, -0.02, 0.01, 0.05, 0.0];
        let p1 = sign_flip_p(&mixed, 2000, "x");
        assert_eq!(p1, sign_flip_p(&mixed, 2000, "x"));
        assert!(p1 > 0.05 && p1 < 0.5, "{p1}");
        assert_eq!(sign_flip_p(&[], 100, "x"), 1.0);
    }

    #[test]
    fn an_interval_excludes_zero_only_when_both_ends_are_on_one_side() {
        let of = |mean, h| Interval {
            mean,
            half_width: Some(h),
        };
        assert!(excludes_zero(&of(0.05, 0.03)));
        assert!(excludes_zero(&of(-0.05, 0.03)));
        assert!(!excludes_zero(&of(0.056, 0.078)));
        assert!(!excludes_zero(&Interval {
            mean: 0.1,
            half_width: None
        }));
    }
}
