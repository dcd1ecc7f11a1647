//! Several seeds per cell (SPEC §5): which seeds a run uses, and each
//! metric's mean over the seeds with a 95% Student-t interval, beside the
//! per-seed pooled values. Folds never change with the seed; learner and
//! classifier initialisation, noise, shuffling and the validation split do.

use super::metrics::Scores;
use super::results::{CellResult, Subset, Task};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The seeds of a run, in the order they are computed and reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedList(pub Vec<u64>);

impl SeedList {
    /// `"N"`: N seeds counting up from `first` (the `--seed` value);
    /// `"A,B,C"`: exactly those seeds. Repeated seeds are an error (they
    /// would count one run twice in an interval).
    pub fn parse(text: &str, first: u64) -> Result<SeedList> {
        let bad = |why: String| Error::config(format!("--seeds {text:?}: {why}"));
        let text = text.trim();
        let seeds: Vec<u64> = if text.contains(',') {
            text.split(',')
                .map(|p| {
                    p.trim()
                        .parse::<u64>()
                        .map_err(|_| bad(format!("{:?} is not a seed", p.trim())))
                })
                .collect::<Result<_>>()?
        } else {
            let n: u64 = text
                .parse()
                .map_err(|_| bad("not a number of seeds nor a comma-separated list".into()))?;
            if n == 0 {
                return Err(bad("at least one seed is needed".into()));
            }
            (0..n)
                .map(|i| {
                    first
                        .checked_add(i)
                        .ok_or_else(|| bad("the seeds run past the largest seed".into()))
                })
                .collect::<Result<_>>()?
        };
        for (i, s) in seeds.iter().enumerate() {
            if seeds[..i].contains(s) {
                return Err(bad(format!("seed {s} is given twice")));
            }
        }
        Ok(SeedList(seeds))
    }

    /// Just `seed`: a run without `--seeds`.
    pub fn single(seed: u64) -> SeedList {
        SeedList(vec![seed])
    }
}

/// The 0.975 quantile of Student's t distribution with `df` degrees of
/// freedom (the half-width factor of a two-sided 95% interval). Exact to
/// the printed digits up to 30 degrees of freedom (the usual table); beyond,
/// the Cornish-Fisher expansion, whose error there is below 1e-5.
pub fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010,
        2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739,
        2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    ];
    if df == 0 {
        return f64::NAN;
    }
    if df <= TABLE.len() {
        return TABLE[df - 1];
    }
    let z = 1.959_963_984_540_054_f64;
    let n = df as f64;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n * n * n)
}

/// Mean and 95% interval of a sample: `(mean, half_width)`; the half width
/// is `None` with fewer than two values (no spread to estimate).
pub fn mean_interval(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, None);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, None);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, Some(t975(n - 1) * (var / n as f64).sqrt()))
}

/// One metric over the seeds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Mean over the seeds (NaN for none); scores are fractions, not percent.
    pub mean: f64,
    /// Half width of the 95% Student-t interval; `None` for one seed.
    pub half_width: Option<f64>,
}

impl Interval {
    /// The mean and 95% Student-t interval of `values` (see [`mean_interval`]).
    pub fn of(values: &[f64]) -> Interval {
        let (mean, half_width) = mean_interval(values);
        Interval { mean, half_width }
    }
}

/// A cell over every seed it ran with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedSummary {
    /// The cell id without the seed (e.g. `vae-categorical-complete-L128`).
    pub cell: String,
    /// The cell's model name ("VAE", "LogMel", ...).
    pub model: String,
    /// The cell's task.
    pub task: Task,
    /// The cell's subset.
    pub subset: Subset,
    /// The cell's latent size (0 for a baseline).
    pub latent: usize,
    /// The seeds summarised, in run order.
    pub seeds: Vec<u64>,
    /// The pooled (over folds) scores of each seed, in `seeds` order.
    pub per_seed: Vec<Scores>,
    /// Weighted accuracy over the seeds.
    pub wa: Interval,
    /// Unweighted accuracy over the seeds.
    pub ua: Interval,
    /// Macro F1 over the seeds.
    pub macro_f1: Interval,
}

impl SeedSummary {
    /// Summarises the runs of one cell (all with the same id), one per seed.
    pub fn of(runs: &[&CellResult]) -> Result<SeedSummary> {
        let first = runs
            .first()
            .ok_or_else(|| Error::config("a cell summary needs at least one seed's result"))?;
        if let Some(other) = runs.iter().find(|r| r.id() != first.id()) {
            return Err(Error::config(format!(
                "cannot summarise {} and {} as one cell",
                first.id(),
                other.id()
            )));
        }
        let per_seed: Vec<Scores> = runs.iter().map(|r| r.summary.pooled).collect();
        let metric =
            |f: fn(&Scores) -> f64| Interval::of(&per_seed.iter().map(f).collect::<Vec<_>>());
        Ok(SeedSummary {
            cell: first.id(),
            model: first.model.clone(),
            task: first.task,
            subset: first.subset,
            latent: first.latent,
            seeds: runs.iter().map(|r| r.seed).collect(),
            wa: metric(|s| s.wa),
            ua: metric(|s| s.ua),
            macro_f1: metric(|s| s.macro_f1),
            per_seed,
        })
    }

    /// One summary per distinct cell of `cells` (in first-appearance order),
    /// each over that cell's seeds.
    pub fn group(cells: &[CellResult]) -> Result<Vec<SeedSummary>> {
        let mut ids: Vec<String> = Vec::new();
        for c in cells {
            if !ids.contains(&c.id()) {
                ids.push(c.id());
            }
        }
        ids.iter()
            .map(|id| {
                let runs: Vec<&CellResult> = cells.iter().filter(|c| c.id() == *id).collect();
                SeedSummary::of(&runs)
            })
            .collect()
    }
}

/// What `crossval` writes for one cell run with several seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellSeeds {
    /// The seeds, in run order.
    pub seeds: Vec<u64>,
    /// One result per seed, in `seeds` order.
    pub runs: Vec<CellResult>,
    /// The metrics over the seeds.
    pub across_seeds: SeedSummary,
}

/// `mean [lo, hi]` in percent, or the mean alone for one seed.
pub fn interval_text(i: &Interval) -> String {
    match i.half_width {
        Some(h) => format!(
            "{:.1} [{:.1}, {:.1}]",
            100.0 * i.mean,
            100.0 * (i.mean - h),
            100.0 * (i.mean + h)
        ),
        None => format!("{:.1}", 100.0 * i.mean),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_lists_count_up_or_name_seeds() {
        assert_eq!(SeedList::parse("3", 7).unwrap().0, [7, 8, 9]);
        assert_eq!(SeedList::parse("1", 1).unwrap().0, [1]);
        assert_eq!(SeedList::parse("1, 2,5", 9).unwrap().0, [1, 2, 5]);
        for bad in ["0", "x", "1,,2", "2,2", "-1"] {
            let e = SeedList::parse(bad, 1).unwrap_err().to_string();
            assert!(e.contains("--seeds"), "{bad}: {e}");
        }
    }

    #[test]
    fn t_quantiles_match_the_table_and_join_the_expansion_smoothly() {
        assert!((t975(1) - 12.7062).abs() < 1e-4);
        assert!((t975(4) - 2.7764).abs() < 1e-4);
        // Published values beyond the table: 40 -> 2.0211, 60 -> 2.0003, 120 -> 1.9799.
        assert!((t975(40) - 2.0211).abs() < 1e-4, "{}", t975(40));
        assert!((t975(60) - 2.0003).abs() < 1e-4, "{}", t975(60));
        assert!((t975(120) - 1.9799).abs() < 1e-4, "{}", t975(120));
        assert!(t975(31) < t975(30) && t975(31) > t975(32));
    }

    #[test]
    fn intervals_are_student_t_over_the_values() {
        // Values 1..5: mean 3, sample std sqrt(2.5), half width t(4) * sqrt(2.5 / 5).
        let (m, h) = mean_interval(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m, 3.0);
        assert!((h.unwrap() - 2.7764 * 0.5f64.sqrt()).abs() < 1e-4);
        assert_eq!(mean_interval(&[0.4]), (0.4, None));
        assert_eq!(mean_interval(&[0.4, 0.4]).1, Some(0.0));
    }
}
