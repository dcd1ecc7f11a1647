//! The paper's whole experiment as one run (what `vaeser reproduce` does):
//! Table 1 (AE-, VAE-, CVAE-LSTM x the corpus's subsets, categorical),
//! Table 2 (the three models on valence, arousal and dominance, where the
//! corpus has them) and Figure 2 (the categorical task over the latent sizes
//! of the sweep), all through one `Driver`, then the report, the results,
//! the figures and the run manifest.

use super::crossval::{CellOutcome, CellSpec, Driver, DriverOptions};
use super::dataset::{CorpusData, DimensionalUtterances};
use super::manifest::{program_version, Manifest, StageClock};
use super::method::BASELINES;
use super::paired::compare_all;
use super::report::write_report;
use super::results::{CellResult, ExperimentResults, FoldTiming, Subset, Task};
use super::seeds::{SeedList, SeedSummary};
use crate::config::{Config, CvaeCondition};
use crate::error::Result;
use crate::fsutil::write_atomic;
use crate::models::autoencoder::LearnerKind;
use std::path::{Path, PathBuf};

/// The models of Tables 1 and 2, in their row order.
pub const MODELS: [LearnerKind; 3] = [LearnerKind::Ae, LearnerKind::Vae, LearnerKind::Cvae];

/// The subset Figure 2's sweep runs on.
pub const SWEEP_SUBSET: Subset = Subset::Complete;

/// What to run besides Table 1.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Run Table 2 (skipped anyway on a corpus without V/A/D ratings).
    pub dimensional: bool,
    /// Run Figure 2's latent sweep.
    pub sweep: bool,
    /// The baselines on the tasks and subsets of Tables 1 and 2.
    pub baselines: bool,
    /// Which utterances Table 2 uses (those loaded with the corpus).
    pub dimensional_utterances: DimensionalUtterances,
}

/// The cells of a run, in the order they are computed and reported.
pub fn cells(data: &CorpusData, config: &Config, plan: Plan) -> Vec<(Table, CellSpec)> {
    let latent = config.learner.latent;
    let mut out = Vec::new();
    for model in MODELS {
        for subset in data.subsets() {
            out.push((
                Table::One,
                CellSpec::learner(model, Task::Categorical, subset, latent),
            ));
        }
    }
    if plan.dimensional && data.has_dimensions() {
        for model in MODELS {
            for task in Task::DIMENSIONS {
                out.push((
                    Table::Two,
                    CellSpec::learner(model, task, Subset::Complete, latent),
                ));
            }
        }
    }
    if plan.sweep {
        for name in &config.experiment.sweep_models {
            let Some(model) = LearnerKind::parse(name) else {
                continue;
            };
            for &latent in &config.experiment.latent_sweep {
                out.push((
                    Table::Sweep,
                    CellSpec::learner(model, Task::Categorical, SWEEP_SUBSET, latent),
                ));
            }
        }
    }
    if plan.baselines {
        let mut tasks: Vec<(Task, Subset)> = data
            .subsets()
            .into_iter()
            .map(|s| (Task::Categorical, s))
            .collect();
        if plan.dimensional && data.has_dimensions() {
            tasks.extend(Task::DIMENSIONS.map(|t| (t, Subset::Complete)));
        }
        for (task, subset) in tasks {
            for method in BASELINES {
                out.push((Table::Baseline, CellSpec::baseline(method, task, subset)));
            }
        }
    }
    out
}

/// Where a cell's result goes in [`ExperimentResults`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Table 1: categorical task per model and subset.
    One,
    /// Table 2: valence, arousal and dominance per model.
    Two,
    /// Figure 2: categorical task per latent size.
    Sweep,
    /// The baselines of Tables 1 and 2.
    Baseline,
}

/// Everything a run made, besides the files.
pub struct Outcome {
    /// The content of `results.json`.
    pub results: ExperimentResults,
    /// Sentences the report prints about how the run was done (CVAE
    /// conditioning, validation split, which utterances Table 2 used, ...).
    pub notes: Vec<String>,
    /// Folds read back from an earlier run (`--resume`).
    pub resumed_folds: usize,
    /// Folds computed by this run.
    pub folds_computed: usize,
    /// (cell, seed) pairs with folds left to other shards: no report then.
    pub incomplete_cells: usize,
}

/// Runs every cell of the plan with every seed, seed by seed (so the
/// learners of one seed are reused within it and an interrupted run has
/// whole seeds done first). A cell that appears twice (a sweep point equal
/// to a Table 1 cell) is computed once per seed. Results are ordered cell
/// by cell, seeds in the given order.
#[allow(clippy::too_many_arguments)]
pub fn run<B: crate::backend::Backend>(
    backend: &B,
    data: &CorpusData,
    config: &Config,
    preset: &str,
    plan: Plan,
    seeds: &SeedList,
    options: DriverOptions,
    clock: &mut StageClock,
) -> Result<Outcome> {
    let plan_cells = cells(data, config, plan);
    // (table, cell position, seed position, result)
    let mut computed: Vec<(Table, usize, usize, CellResult)> = Vec::new();
    let mut resumed_folds = 0;
    let (mut trained, mut reused, mut folds_computed) = (0, 0, 0);
    let (mut first_job, mut incomplete) = (0, 0);
    let jobs = plan_cells.len() * seeds.0.len();
    for (k, &seed) in seeds.0.iter().enumerate() {
        let stop_after_folds = options
            .stop_after_folds
            .map(|limit| limit.saturating_sub(folds_computed));
        let mut driver = Driver::new(
            backend,
            data,
            config,
            DriverOptions {
                seed,
                stop_after_folds,
                first_job,
                ..options.clone()
            },
        );
        // A cell visited once per seed, whether complete or left (partly) to
        // other shards: every shard numbers the same folds the same way.
        let mut done: Vec<(String, Option<CellResult>)> = Vec::new();
        for (i, (table, spec)) in plan_cells.iter().enumerate() {
            let id = spec.id();
            let cell = match done.iter().find(|(d, _)| *d == id) {
                Some((_, c)) => c.clone(),
                None => {
                    options.progress.println(&format!(
                        "[{}/{jobs}] {id} seed {seed}",
                        k * plan_cells.len() + i + 1
                    ));
                    let started = std::time::Instant::now();
                    let cell = driver.run_cell_part(spec)?.map(|outcome| {
                        let CellOutcome {
                            result,
                            timings,
                            resumed_folds: r,
                        } = outcome;
                        resumed_folds += r;
                        record_timings(clock, &format!("{id} seed {seed}"), &timings);
                        clock.record(
                            &format!("{id} seed {seed}: wall"),
                            started.elapsed().as_secs_f64(),
                        );
                        result
                    });
                    done.push((id, cell.clone()));
                    cell
                }
            };
            match cell {
                Some(cell) => computed.push((*table, i, k, cell)),
                None => incomplete += 1,
            }
        }
        first_job += driver.jobs_seen();
        folds_computed += driver.folds_computed();
        let (t, r) = driver.learner_counts();
        trained += t;
        reused += r;
    }
    options.progress.println(&format!(
        "feature learners: {trained} trained, {reused} reused from identical training data"
    ));
    computed.sort_by_key(|(_, i, k, _)| (*i, *k));
    let mut results = ExperimentResults {
        program: program_version(),
        corpus: data.corpus.clone(),
        seeds: seeds.0.clone(),
        preset: preset.to_string(),
        config: config.clone(),
        n_utterances: 0,
        table1: Vec::new(),
        table2: Vec::new(),
        sweep: Vec::new(),
        baselines: Vec::new(),
        across_seeds: Vec::new(),
        comparisons: Vec::new(),
    };
    for (table, _, _, cell) in computed {
        match table {
            Table::One => results.table1.push(cell),
            Table::Two => results.table2.push(cell),
            Table::Sweep => results.sweep.push(cell),
            Table::Baseline => results.baselines.push(cell),
        }
    }
    if incomplete == 0 {
        summarise(&mut results)?;
    }
    results.n_utterances = data
        .utterances
        .iter()
        .filter(|u| u.label.is_some() || (!results.table2.is_empty() && u.vad.is_some()))
        .count();
    let notes = notes(data, config, plan, &results);
    Ok(Outcome {
        results,
        notes,
        resumed_folds,
        folds_computed,
        incomplete_cells: incomplete,
    })
}

/// Steps of progress a run of the plan with `seeds` counts (see
/// [`Driver::fold_steps`]): every fold of every distinct cell, per seed.
pub fn plan_steps<B: crate::backend::Backend>(
    backend: &B,
    data: &CorpusData,
    config: &Config,
    plan: Plan,
    seeds: &SeedList,
) -> Result<u64> {
    let driver = Driver::new(backend, data, config, DriverOptions::default());
    let mut seen: Vec<String> = Vec::new();
    let mut steps = 0;
    for (_, spec) in cells(data, config, plan) {
        let id = spec.id();
        if !seen.contains(&id) {
            steps += driver.cell_steps(&spec)?;
            seen.push(id);
        }
    }
    Ok(steps * seeds.0.len() as u64)
}

/// Fills in the summaries over seeds and the paired comparisons from the
/// per-seed results.
pub fn summarise(results: &mut ExperimentResults) -> Result<()> {
    let mut across: Vec<SeedSummary> = Vec::new();
    for cells in [
        &results.table1,
        &results.table2,
        &results.sweep,
        &results.baselines,
    ] {
        for summary in SeedSummary::group(cells)? {
            if !across.iter().any(|a| a.cell == summary.cell) {
                across.push(summary);
            }
        }
    }
    results.across_seeds = across;
    // Each model is compared with the baselines of its own task and subset
    // (compare_all groups by them): Table 1's on the categorical task,
    // Table 2's on each dimension, all by UA over the same units (SPEC §5).
    let mut comparisons = compare_all(&results.table1, &results.baselines);
    comparisons.extend(compare_all(&results.table2, &results.baselines));
    results.comparisons = comparisons;
    Ok(())
}

/// Sums a cell's fold timings into the manifest's stages. Folds may run at
/// the same time, so these are thread seconds; the cell's `wall` stage is
/// its elapsed time.
pub fn record_timings(clock: &mut StageClock, id: &str, timings: &[FoldTiming]) {
    let sum = |f: fn(&FoldTiming) -> f64| timings.iter().map(f).sum::<f64>();
    clock.record(&format!("{id}: feature learner"), sum(|t| t.learner));
    clock.record(&format!("{id}: encode"), sum(|t| t.encode));
    clock.record(&format!("{id}: classifier"), sum(|t| t.classifier));
    clock.record(&format!("{id}: evaluate"), sum(|t| t.evaluate));
}

/// Lines of the report about how the numbers were made. Only facts that do
/// not depend on the machine, the thread count or a resume, so reports of
/// the same configuration and seed are identical.
pub fn notes(
    data: &CorpusData,
    config: &Config,
    plan: Plan,
    results: &ExperimentResults,
) -> Vec<String> {
    let mut notes = Vec::new();
    notes.push(match config.learner.cvae_condition {
        CvaeCondition::Uniform => "CVAE features: every segment (training, validation and test) encoded with the uniform condition (1/K in each label slot), so no label reaches the classifier's features".to_string(),
        CvaeCondition::Oracle => format!("CVAE features: {}: segments encoded with their true label; a diagnostic, not a result", crate::models::feature_learner::ORACLE_MARK),
    });
    notes.push(
        "each fold trains its own feature learner on that fold's training utterances of the cell (z-score statistics from those segments only); learners with identical training data are trained once and reused".to_string(),
    );
    notes.push(format!(
        "classifier validation: {}% of each fold's training utterances, stratified by label",
        (100.0 * config.classifier.validation_fraction).round()
    ));
    if plan.dimensional && data.has_dimensions() {
        let rated = data.utterances.iter().filter(|u| u.vad.is_some()).count();
        let other = data
            .utterances
            .iter()
            .filter(|u| u.vad.is_some() && u.label.is_none())
            .count();
        notes.push(match plan.dimensional_utterances {
            DimensionalUtterances::Rated => format!(
                "Table 2 uses every utterance with valence/arousal/dominance ratings (--dimensional-utterances all): {rated}, of which {other} have a label outside the four classes"
            ),
            DimensionalUtterances::FourClass => format!(
                "Table 2 uses only the utterances of the four classes (--dimensional-utterances four-class): {rated}"
            ),
        });
    }
    if !data.has_dimensions() {
        notes
            .push("Table 2 not run: the corpus has no valence/arousal/dominance annotation".into());
    } else if !plan.dimensional {
        notes.push("Table 2 not run (--skip-dimensional or experiment.dimensional = false)".into());
    }
    if plan.sweep {
        notes.push(format!(
            "Figure 2: categorical task on the {} subset; a sweep point equal to a Table 1 cell is that cell",
            SWEEP_SUBSET.name()
        ));
    } else {
        notes.push("Figure 2 not run (--skip-sweep)".into());
    }
    if plan.baselines {
        notes.push(
            "baselines on the same folds: the majority class of each fold's training utterances; logistic regression on each utterance's per-band LogMel mean and std (160 values, no seed enters it); the same LSTM classifier on the z-scored LogMel segments (no feature learner)".into(),
        );
    }
    if !data.skipped.is_empty() {
        notes.push(format!(
            "{} input files skipped (listed with the reason in skipped.json)",
            data.skipped.len()
        ));
    }
    if !data.excluded.is_empty() {
        let list: Vec<String> = data
            .excluded
            .iter()
            .map(|(label, n)| format!("{label} {n}"))
            .collect();
        notes.push(format!(
            "utterances whose label is not one of the four classes are left out of the categorical task (by label): {}",
            list.join(", ")
        ));
    }
    for w in &data.warnings {
        notes.push(format!("corpus: {w}"));
    }
    if results.table1.iter().any(|c| c.oracle_labels) {
        notes.push("cells marked \"oracle labels\" leak the test labels into the features".into());
    }
    notes
}

/// Writes `report.md`, `results.json`, `figures/`, `skipped.json` and
/// `manifest.json` under `out`.
pub fn write_outputs(
    out: &Path,
    data: &CorpusData,
    outcome: &Outcome,
    preset: &str,
    clock: &StageClock,
) -> Result<Vec<PathBuf>> {
    let mut written = write_report(out, &outcome.results, &outcome.notes)?;
    let skipped = out.join("skipped.json");
    write_atomic(
        &skipped,
        serde_json::to_string_pretty(&data.skipped)
            .unwrap_or_else(|_| "[]".into())
            .as_bytes(),
    )?;
    written.push(skipped);
    let manifest = run_manifest(
        data,
        &outcome.results.config,
        &outcome.results.seeds,
        preset,
        clock,
    )
    .write(&out.join("manifest.json"))?;
    written.push(manifest);
    Ok(written)
}

/// The manifest of a run over `data`: program, command line, seeds,
/// configuration, threads, the corpus with its input checksums, stage times
/// from `clock` and the [`Provenance`](crate::provenance::Provenance) of
/// this build and machine.
pub fn run_manifest(
    data: &CorpusData,
    config: &Config,
    seeds: &[u64],
    preset: &str,
    clock: &StageClock,
) -> Manifest {
    Manifest {
        program: program_version(),
        command: std::env::args().collect(),
        seed: seeds.first().copied().unwrap_or_default(),
        seeds: seeds.to_vec(),
        preset: preset.to_string(),
        config: config.clone(),
        threads: rayon::current_num_threads(),
        corpus: data.corpus.clone(),
        // Absolute, so that `vaeser rerun` finds the corpus from anywhere.
        corpus_root: std::path::absolute(&data.root).unwrap_or_else(|_| data.root.clone()),
        inputs: data.inputs.clone(),
        stages: clock.stages().to_vec(),
        total_seconds: clock.total_seconds(),
        provenance: Some(crate::provenance::Provenance::current()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{Utterance, Vad};

    fn data(improvised: Option<bool>, vad: Option<Vad>) -> CorpusData {
        CorpusData {
            corpus: "test".into(),
            root: "corpus".into(),
            utterances: vec![Utterance {
                id: "u".into(),
                path: "u.wav".into(),
                label: Some(0),
                speaker: "s".into(),
                gender: None,
                group: "g".into(),
                dialog: None,
                improvised,
                vad,
            }],
            segments: vec![vec![0.0; 800]],
            skipped: vec![],
            excluded: Default::default(),
            warnings: vec![],
            inputs: vec![],
            fingerprint: String::new(),
        }
    }

    #[test]
    fn the_plan_follows_what_the_corpus_has() {
        let config = Config::default();
        let plan = Plan {
            dimensional: true,
            sweep: true,
            baselines: false,
            dimensional_utterances: DimensionalUtterances::Rated,
        };
        // RAVDESS-like: no subsets, no ratings: three Table 1 rows, the sweep.
        let cells_of = |d: &CorpusData, p: Plan, t: Table| -> Vec<String> {
            cells(d, &config, p)
                .into_iter()
                .filter(|(table, _)| *table == t)
                .map(|(_, c)| c.id())
                .collect()
        };
        let plain = data(None, None);
        assert_eq!(
            cells_of(&plain, plan, Table::One),
            [
                "ae-categorical-complete-L128",
                "vae-categorical-complete-L128",
                "cvae-categorical-complete-L128"
            ]
        );
        assert!(cells_of(&plain, plan, Table::Two).is_empty());
        assert_eq!(
            cells_of(&plain, plan, Table::Sweep),
            [32, 64, 128, 256, 512].map(|l| format!("vae-categorical-complete-L{l}"))
        );
        // IEMOCAP-like: three subsets per model, three dimensions per model.
        let vad = Vad {
            valence: 3.0,
            arousal: 2.0,
            dominance: 4.0,
        };
        let full = data(Some(true), Some(vad));
        let one = cells_of(&full, plan, Table::One);
        assert_eq!(one.len(), 9);
        assert_eq!(one[1], "ae-categorical-scripted-L128");
        let two = cells_of(&full, plan, Table::Two);
        assert_eq!(two.len(), 9);
        assert_eq!(two[8], "cvae-dominance-complete-L128");
        // The baselines: majority, logistic regression, the LSTM on LogMel,
        // on each Table 1 subset and (with Table 2) each dimension.
        let with_baselines = Plan {
            baselines: true,
            ..plan
        };
        let baselines = cells_of(&full, with_baselines, Table::Baseline);
        assert_eq!(baselines.len(), 3 * 3 + 3 * 3);
        assert_eq!(
            baselines[..3],
            [
                "majority-categorical-improvised",
                "logreg-categorical-improvised",
                "logmel-categorical-improvised"
            ]
        );
        assert_eq!(baselines[17], "logmel-dominance-complete");
        let skipped = Plan {
            dimensional: false,
            sweep: false,
            baselines: false,
            dimensional_utterances: DimensionalUtterances::Rated,
        };
        assert!(cells_of(&full, skipped, Table::Two).is_empty());
        assert!(cells_of(&full, skipped, Table::Sweep).is_empty());
    }
}
