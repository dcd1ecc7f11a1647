//! The report of a `reproduce` run: a markdown file with Table 1 (categorical
//! WA/UA), Table 2 (dimensional F1), Figure 2 (the latent-size sweep) and the
//! pooled confusion matrices, next to where the paper's published values are;
//! `results.json` with every number; SVG figures. Everything here is a pure
//! function of the results, so two runs with the same seed give the same
//! bytes.
//!
//! The paper (Latif et al., Interspeech 2018) reports IEMOCAP only. This
//! module does not copy its numbers: a reader is pointed at the table of the
//! paper to compare with, so no published value can be misquoted here.

use super::method::row_label;
use super::metrics::Scores;
use super::paired::sentence;
use super::results::{CellResult, ExperimentResults, FoldRecord, Subset, Task};
use super::seeds::{interval_text, SeedSummary};
#[cfg(test)]
use super::svg::nice_ticks;
use super::svg::{confusion_svg, LineChart, Reference, Series};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::train::history::{ClassifierEpoch, LearnerEpoch};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The name a configuration enum has in TOML files.
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Percent with one decimal.
fn pct(v: f64) -> String {
    format!("{:.1}", 100.0 * v)
}

fn pm(mean: f64, std: f64) -> String {
    format!("{} ± {}", pct(mean), pct(std))
}

/// Where the paper's value for a table can be found, for this corpus.
fn paper_pointer(corpus: &str, table: &str) -> String {
    if corpus.eq_ignore_ascii_case("iemocap") {
        format!("see {table} of the paper")
    } else {
        "none (the paper reports IEMOCAP only)".to_string()
    }
}

fn oracle_mark(cell: &CellResult) -> &'static str {
    if cell.oracle_labels {
        " (oracle labels: label leak)"
    } else {
        ""
    }
}

/// The row name of a cell: its model (or baseline) and the oracle mark.
fn row_name(cell: &CellResult) -> String {
    format!("{}{}", row_label(&cell.model), oracle_mark(cell))
}

fn multi_seed(results: &ExperimentResults) -> bool {
    results.seeds.len() > 1
}

/// The results of the first seed only (the cells' order is kept).
fn first_seed<'a>(results: &ExperimentResults, cells: &'a [CellResult]) -> Vec<&'a CellResult> {
    let first = results.seeds.first().copied();
    cells.iter().filter(|c| Some(c.seed) == first).collect()
}

/// The summary over seeds of each distinct cell of `cells`, in order.
fn summaries<'a>(
    results: &'a ExperimentResults,
    cells: &[&CellResult],
) -> Vec<(&'a SeedSummary, bool)> {
    let mut out: Vec<(&SeedSummary, bool)> = Vec::new();
    for c in cells {
        if out.iter().any(|(s, _)| s.cell == c.id()) {
            continue;
        }
        if let Some(s) = results.across_seeds.iter().find(|s| s.cell == c.id()) {
            out.push((s, c.oracle_labels));
        }
    }
    out
}

fn per_seed_text(values: impl Iterator<Item = f64>) -> String {
    values.map(pct).collect::<Vec<_>>().join(", ")
}

fn categorical_baselines(results: &ExperimentResults) -> Vec<&CellResult> {
    results
        .baselines
        .iter()
        .filter(|c| c.task == Task::Categorical)
        .collect()
}

/// Table 1: one row per model and subset, then the baselines.
pub fn table1_markdown(results: &ExperimentResults) -> String {
    let mut s = String::new();
    let paper = paper_pointer(&results.corpus, "Table 1");
    let cells: Vec<&CellResult> = results
        .table1
        .iter()
        .chain(categorical_baselines(results))
        .collect();
    if multi_seed(results) {
        let _ = writeln!(
            s,
            "| Model | Subset | WA mean [95% CI] | UA mean [95% CI] | UA per seed | Paper |"
        );
        let _ = writeln!(s, "|---|---|---:|---:|---|---|");
        for (sm, oracle) in summaries(results, &cells) {
            let mark = if oracle {
                " (oracle labels: label leak)"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "| {}{mark} | {} | {} | {} | {} | {} |",
                row_label(&sm.model),
                sm.subset.name(),
                interval_text(&sm.wa),
                interval_text(&sm.ua),
                per_seed_text(sm.per_seed.iter().map(|x| x.ua)),
                if sm.latent > 0 { paper.as_str() } else { "–" }
            );
        }
        return s;
    }
    let _ = writeln!(
        s,
        "| Model | Subset | WA pooled | UA pooled | WA fold mean ± std | UA fold mean ± std | Paper |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---|");
    for cell in cells {
        let sm = &cell.summary;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row_name(cell),
            cell.subset.name(),
            pct(sm.pooled.wa),
            pct(sm.pooled.ua),
            pm(sm.mean.wa, sm.std.wa),
            pm(sm.mean.ua, sm.std.ua),
            if cell.latent > 0 {
                paper.as_str()
            } else {
                "–"
            }
        );
    }
    s
}

/// Table 2: one row per model (then the baselines), macro F1 per dimension
/// and their mean; pooled over folds and as fold mean ± std (one seed), or
/// as the mean over seeds with its 95% interval.
pub fn table2_markdown(results: &ExperimentResults) -> String {
    let mut s = String::new();
    let paper = paper_pointer(&results.corpus, "Table 2");
    let cells: Vec<&CellResult> = results
        .table2
        .iter()
        .chain(results.baselines.iter().filter(|c| c.task.is_dimensional()))
        .collect();
    let _ = writeln!(
        s,
        "| Model | Valence F1 | Arousal F1 | Dominance F1 | Mean F1 | Paper |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---|");
    let mut models: Vec<String> = Vec::new();
    for c in &cells {
        if !models.contains(&c.model) {
            models.push(c.model.clone());
        }
    }
    let multi = multi_seed(results);
    let first = results.seeds.first().copied();
    for model in models {
        let of_model: Vec<&CellResult> = cells
            .iter()
            .copied()
            .filter(|c| c.model == model && (multi || Some(c.seed) == first))
            .collect();
        let mark = of_model.first().map(|c| oracle_mark(c)).unwrap_or("");
        let mut row = format!("| {}{mark} |", row_label(&model));
        let mut pooled = Vec::new();
        for &task in &Task::DIMENSIONS {
            let Some(c) = of_model.iter().find(|c| c.task == task) else {
                row.push_str(" – |");
                continue;
            };
            if multi {
                match results.across_seeds.iter().find(|x| x.cell == c.id()) {
                    Some(sm) => {
                        pooled.push(sm.macro_f1.mean);
                        let _ = write!(row, " {} |", interval_text(&sm.macro_f1));
                    }
                    None => row.push_str(" – |"),
                }
            } else {
                let sm = &c.summary;
                pooled.push(sm.pooled.macro_f1);
                let _ = write!(
                    row,
                    " {} ({}) |",
                    pct(sm.pooled.macro_f1),
                    pm(sm.mean.macro_f1, sm.std.macro_f1)
                );
            }
        }
        let mean = super::metrics::mean(&pooled);
        let shown = if of_model.first().is_some_and(|c| c.latent > 0) {
            paper.as_str()
        } else {
            "–"
        };
        let _ = writeln!(s, "{row} {} | {shown} |", pct(mean));
    }
    if multi {
        let _ = writeln!(
            s,
            "\nEach cell: macro F1 pooled over all folds, as the mean over the seeds with its 95% Student-t interval. Mean F1: the mean of the three means."
        );
    } else {
        let _ = writeln!(
            s,
            "\nEach cell: macro F1 pooled over all folds, in brackets the mean ± std of the per-fold values. Mean F1: the mean of the three pooled values."
        );
    }
    s
}

/// The latent-size sweep as a table (Figure 2's numbers).
pub fn sweep_markdown(results: &ExperimentResults) -> String {
    let mut s = String::new();
    if multi_seed(results) {
        let cells: Vec<&CellResult> = results.sweep.iter().collect();
        let _ = writeln!(
            s,
            "| Model | Subset | Latent L | WA mean [95% CI] | UA mean [95% CI] | UA per seed |"
        );
        let _ = writeln!(s, "|---|---|---:|---:|---:|---|");
        for (sm, oracle) in summaries(results, &cells) {
            let mark = if oracle {
                " (oracle labels: label leak)"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "| {}{mark} | {} | {} | {} | {} | {} |",
                row_label(&sm.model),
                sm.subset.name(),
                sm.latent,
                interval_text(&sm.wa),
                interval_text(&sm.ua),
                per_seed_text(sm.per_seed.iter().map(|x| x.ua))
            );
        }
        return s;
    }
    let _ = writeln!(
        s,
        "| Model | Subset | Latent L | WA pooled | UA pooled | WA fold mean ± std | UA fold mean ± std |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|");
    for cell in &results.sweep {
        let sm = &cell.summary;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row_name(cell),
            cell.subset.name(),
            cell.latent,
            pct(sm.pooled.wa),
            pct(sm.pooled.ua),
            pm(sm.mean.wa, sm.std.wa),
            pm(sm.mean.ua, sm.std.ua)
        );
    }
    s
}

/// The paired comparisons, one sentence each, grouped by task and subset.
pub fn comparisons_markdown(results: &ExperimentResults) -> String {
    let mut s = String::new();
    let mut last: Option<(Task, super::results::Subset)> = None;
    for c in &results.comparisons {
        if last != Some((c.task, c.subset)) {
            let _ = writeln!(s, "\n{} task, {} subset:\n", c.task.name(), c.subset.name());
            last = Some((c.task, c.subset));
        }
        let _ = writeln!(s, "- {}", sentence(c, row_label));
    }
    s
}

fn confusion_markdown(cell: &CellResult) -> String {
    let c = &cell.summary.confusion;
    let mut s = String::new();
    let _ = write!(s, "| true \\ predicted |");
    for l in &cell.labels {
        let _ = write!(s, " {l} |");
    }
    let _ = write!(s, " recall |\n|---|");
    for _ in 0..=cell.labels.len() {
        s.push_str("---:|");
    }
    s.push('\n');
    for (t, l) in cell.labels.iter().enumerate() {
        let _ = write!(s, "| {l} |");
        for p in 0..c.classes {
            let _ = write!(s, " {} |", c.get(t, p));
        }
        let recall = c.recall(t).map(pct).unwrap_or_else(|| "–".into());
        let _ = writeln!(s, " {recall} |");
    }
    s
}

/// The tables alone, as printed at the end of a run.
pub fn tables_markdown(results: &ExperimentResults) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Table 1: categorical, 4 classes ({}), leave one group out, %\n",
        results
            .table1
            .first()
            .map(|c| c.labels.join(", "))
            .unwrap_or_default()
    );
    s.push_str(&table1_markdown(results));
    if !results.table2.is_empty() {
        s.push_str("\nTable 2: dimensional, 3 classes (low < 3, mid = 3, high > 3), leave one speaker out, %\n\n");
        s.push_str(&table2_markdown(results));
    }
    if !results.sweep.is_empty() {
        s.push_str("\nFigure 2: categorical WA/UA against the latent size, %\n\n");
        s.push_str(&sweep_markdown(results));
    }
    s
}

/// The whole markdown report. `notes` are lines about how the run was made
/// (the preset, anything a reader must know to interpret the numbers).
pub fn render_markdown(results: &ExperimentResults, notes: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}\n", crate::output_check::REPORT_TITLE);
    let _ = writeln!(
        s,
        "Reproduction of Latif, Rana, Qadir and Epps, \"Variational Autoencoders for Learning Latent \
Representations of Speech Emotion: A Preliminary Study\" (Interspeech 2018), made by {}.\n",
        results.program
    );
    let _ = writeln!(
        s,
        "- corpus: {} ({} utterances used)",
        results.corpus, results.n_utterances
    );
    if multi_seed(results) {
        let list: Vec<String> = results.seeds.iter().map(u64::to_string).collect();
        let _ = writeln!(
            s,
            "- seeds: {} (every cell runs once per seed on the same folds)",
            list.join(", ")
        );
    } else {
        let _ = writeln!(
            s,
            "- seed: {}",
            results.seeds.first().copied().unwrap_or_default()
        );
    }
    let _ = writeln!(s, "- preset: {}", results.preset);
    let c = &results.config;
    let _ = writeln!(
        s,
        "- feature learner: encoder 800-{:?}-L, latent L = {}, KL weight (beta) {}, Adam lr {} ({} betas {:?}), batch {}, at most {} epochs, patience {}; classifier features: {}",
        c.learner.hidden, c.learner.latent, c.learner.kl_weight, c.learner.lr, serde_name(&c.learner.adam),
        c.learner.adam.betas(), c.learner.batch,
        c.learner.max_epochs, c.learner.patience, serde_name(&c.learner.encode)
    );
    let _ = writeln!(
        s,
        "- classifier: {} LSTM layers of {}, dense {} ReLU, softmax; Adam lr {}, batch {}, at most {} epochs, patience {} on validation UA",
        c.classifier.layers, c.classifier.hidden, c.classifier.dense, c.classifier.lr,
        c.classifier.batch, c.classifier.max_epochs, c.classifier.patience
    );
    for n in notes {
        let _ = writeln!(s, "- {n}");
    }
    let _ = writeln!(
        s,
        "\nWA: accuracy over all test utterances. UA: mean of per-class recalls. \"Pooled\": computed \
from the confusion matrix summed over all folds; \"fold mean ± std\": mean and sample standard \
deviation of the per-fold values. All values in %.\n"
    );
    if multi_seed(results) {
        let _ = writeln!(
            s,
            "With several seeds a value is the mean over the seeds of the pooled value, with its 95% \
Student-t interval in brackets; the per-seed pooled values follow.\n"
        );
    }

    let _ = writeln!(s, "## Table 1: categorical emotion (WA, UA)\n");
    s.push_str(&table1_markdown(results));
    let _ = writeln!(s);

    let _ = writeln!(s, "## Table 2: valence, arousal, dominance (macro F1)\n");
    if results.table2.is_empty() {
        let _ = writeln!(
            s,
            "Not run: the corpus has no valence/arousal/dominance annotation.\n"
        );
    } else {
        s.push_str(&table2_markdown(results));
        let _ = writeln!(s);
    }

    let _ = writeln!(s, "## Paired comparisons (UA)\n");
    if results.comparisons.is_empty() {
        let _ = writeln!(s, "None: fewer than two rows in Table 1.\n");
    } else {
        let _ = writeln!(
            s,
            "For each pair, on the (seed, fold) units both share: the mean UA difference (percentage \
points), its 95% Student-t interval over the units, and a two-sided sign-flip permutation test ({} \
random sign patterns from a stream named after the pair). Units of the same fold under different \
seeds share their test utterances, so they are not independent and both the interval and the \
p-value are somewhat optimistic.",
            super::paired::PERMUTATIONS
        );
        s.push_str(&comparisons_markdown(results));
        let _ = writeln!(s);
    }

    let _ = writeln!(s, "## Figure 2: WA and UA against the latent size\n");
    if results.sweep.is_empty() {
        let _ = writeln!(s, "Not run.\n");
    } else {
        let _ = writeln!(s, "![latent sweep](figures/latent_sweep.svg)\n");
        s.push_str(&sweep_markdown(results));
        let _ = writeln!(
            s,
            "\nPaper: {}.\n",
            paper_pointer(&results.corpus, "Figure 2")
        );
    }

    if multi_seed(results) {
        let _ = writeln!(
            s,
            "## Confusion matrices (pooled over folds, seed {})\n",
            results.seeds[0]
        );
    } else {
        let _ = writeln!(s, "## Confusion matrices (pooled over folds)\n");
    }
    let shown: Vec<&CellResult> = first_seed(results, &results.table1)
        .into_iter()
        .chain(first_seed(results, &results.table2))
        .chain(first_seed(results, &results.baselines))
        .collect();
    for cell in shown {
        let _ = writeln!(
            s,
            "### {}, {}, {}\n",
            row_name(cell),
            cell.task.name(),
            cell.subset.name()
        );
        s.push_str(&confusion_markdown(cell));
        let id = cell.id();
        let _ = write!(s, "\n![confusion](figures/confusion_{id}.svg)");
        if has_classifier_curves(cell) {
            let _ = write!(
                s,
                " ![classifier training](figures/curves_{id}_classifier.svg)"
            );
        }
        if has_learner_curves(cell) {
            let _ = write!(
                s,
                " ![feature learner training](figures/curves_{id}_learner.svg)"
            );
        }
        let _ = writeln!(s, "\n");
    }

    let _ = writeln!(s, "## Per-fold results\n");
    let _ = writeln!(
        s,
        "| Cell | Seed | Fold | Held out | Train | Val | Test | WA | UA | macro F1 | best epoch |"
    );
    let _ = writeln!(s, "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for cell in results
        .table1
        .iter()
        .chain(&results.table2)
        .chain(&results.sweep)
        .chain(&results.baselines)
    {
        for (f, score) in cell.folds.iter().zip(&cell.summary.per_fold) {
            let Scores { wa, ua, macro_f1 } = *score;
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell.id(),
                cell.seed,
                f.fold + 1,
                f.test_group,
                f.n_train,
                f.n_validation,
                f.n_test,
                pct(wa),
                pct(ua),
                pct(macro_f1),
                f.classifier_best_epoch + 1
            );
        }
    }
    let warnings: Vec<String> = results
        .table1
        .iter()
        .chain(&results.table2)
        .chain(&results.sweep)
        .flat_map(|cell| {
            cell.folds.iter().filter_map(move |f| {
                f.classifier_warning
                    .as_ref()
                    .map(|w| format!("- {} fold {}: {w}", cell.id(), f.fold))
            })
        })
        .collect();
    if !warnings.is_empty() {
        let _ = writeln!(
            s,
            "\n## Warnings\n\nThese folds' numbers say little about the features:\n"
        );
        for w in warnings {
            let _ = writeln!(s, "{w}");
        }
    }
    s
}

/// A cell in words, for figure titles: "VAE-LSTM, categorical task,
/// complete subset, latent 64".
pub fn cell_title(cell: &CellResult) -> String {
    let mut t = format!(
        "{}{}, {} task, {} subset",
        row_label(&cell.model),
        oracle_mark(cell),
        cell.task.name(),
        cell.subset.name()
    );
    if cell.latent > 0 {
        let _ = write!(t, ", latent {}", cell.latent);
    }
    t
}

/// The latent sweep as a line chart: per model, UA (solid) and WA (dashed),
/// each the mean over folds with an error bar of one standard deviation,
/// and the chance level of UA (one class in K).
pub fn sweep_chart(results: &ExperimentResults) -> LineChart {
    let mut series = Vec::new();
    let mut groups: Vec<(String, Subset)> = Vec::new();
    for c in &results.sweep {
        if !groups.contains(&(c.model.clone(), c.subset)) {
            groups.push((c.model.clone(), c.subset));
        }
    }
    let several_subsets = groups.iter().any(|g| g.1 != groups[0].1);
    for (model, subset) in &groups {
        let cells: Vec<&CellResult> = results
            .sweep
            .iter()
            .filter(|c| c.model == *model && c.subset == *subset)
            .collect();
        let colour = series.len();
        for (metric, dashed) in [("UA", false), ("WA", true)] {
            let value = |c: &CellResult| {
                let s = &c.summary;
                if dashed {
                    (s.mean.wa, s.std.wa)
                } else {
                    (s.mean.ua, s.std.ua)
                }
            };
            let name = if several_subsets {
                format!("{model} {metric} ({})", subset.name())
            } else {
                format!("{model} {metric}")
            };
            series.push(Series {
                name,
                points: cells
                    .iter()
                    .map(|c| (c.latent as f64, 100.0 * value(c).0))
                    .collect(),
                dashed,
                errors: cells.iter().map(|c| 100.0 * value(c).1).collect(),
                colour_of: dashed.then_some(colour),
                marked: Vec::new(),
            });
        }
    }
    let classes = results.sweep.first().map_or(0, |c| c.labels.len());
    let references = if classes > 0 {
        vec![Reference {
            y: 100.0 / classes as f64,
            label: format!("chance UA ({classes} classes)"),
        }]
    } else {
        Vec::new()
    };
    let subset = if several_subsets || groups.is_empty() {
        String::new()
    } else {
        format!(", {} subset", groups[0].1.name())
    };
    LineChart {
        title: format!(
            "Accuracy against latent size ({}, categorical task{subset})",
            corpus_title(&results.corpus)
        ),
        x_label: "latent size L".into(),
        y_label: "% (mean over folds ± std)".into(),
        series,
        x_log2: true,
        y_range: None,
        references,
        marker_name: String::new(),
    }
}

/// A corpus name as people write it.
fn corpus_title(corpus: &str) -> String {
    match corpus {
        "iemocap" => "IEMOCAP".into(),
        "ravdess" => "RAVDESS".into(),
        "emodb" => "EmoDB".into(),
        "synth" => "generated corpus".into(),
        other => other.to_string(),
    }
}

fn has_classifier_curves(cell: &CellResult) -> bool {
    cell.folds.iter().any(|f| !f.classifier_epochs.is_empty())
}

fn has_learner_curves(cell: &CellResult) -> bool {
    cell.folds.iter().any(|f| !f.learner_epochs.is_empty())
}

/// One training run's curves: its name (a fold, or the whole corpus) and
/// its epochs.
pub struct Curves<'a, E> {
    /// The legend entry ("fold 3 (Session3)", "whole corpus").
    pub name: String,
    /// Its epochs in order, from the first.
    pub epochs: &'a [E],
}

/// Classifier training: training loss (dashed) and validation loss (solid)
/// per run, the epoch whose weights were kept (best validation UA) marked.
pub fn classifier_chart(title: String, runs: &[(Curves<'_, ClassifierEpoch>, usize)]) -> LineChart {
    let mut series = Vec::new();
    for (run, best) in runs {
        let colour = series.len() / 2;
        let point = |e: &ClassifierEpoch, v: f64| ((e.epoch + 1) as f64, v);
        series.extend(validation_and_training(
            run.name.clone(),
            run.epochs.iter().map(|e| point(e, e.val_loss)).collect(),
            run.epochs.get(*best).map(|e| point(e, e.val_loss)),
            run.epochs.iter().map(|e| point(e, e.train_loss)).collect(),
            colour,
        ));
    }
    LineChart {
        title,
        x_label: "epoch".into(),
        y_label: "cross-entropy (solid: validation, dashed: training)".into(),
        series,
        marker_name: "kept (best validation UA)".into(),
        ..LineChart::default()
    }
}

/// One run's two curves in one colour: validation solid (named, with the
/// kept epoch marked), training dashed (unnamed: the legend shows the run once).
fn validation_and_training(
    name: String,
    validation: Vec<(f64, f64)>,
    kept: Option<(f64, f64)>,
    training: Vec<(f64, f64)>,
    colour: usize,
) -> [Series; 2] {
    [
        Series {
            name,
            points: validation,
            marked: kept.into_iter().collect(),
            colour_of: Some(colour),
            ..Series::default()
        },
        Series {
            name: String::new(),
            points: training,
            dashed: true,
            colour_of: Some(colour),
            ..Series::default()
        },
    ]
}

/// Feature-learner training: training loss (dashed) and validation
/// reconstruction + KL (solid) per run, the kept epoch (lowest validation
/// reconstruction, what early stopping watches) marked.
pub fn learner_chart(title: String, runs: &[Curves<'_, LearnerEpoch>]) -> LineChart {
    let mut series = Vec::new();
    for run in runs {
        let colour = series.len() / 2;
        let point = |e: &LearnerEpoch, v: f64| ((e.epoch + 1) as f64, v);
        let mut best: Option<&LearnerEpoch> = None;
        for e in run.epochs {
            if e.val_recon.is_finite() && best.map_or(true, |b| e.val_recon < b.val_recon) {
                best = Some(e);
            }
        }
        series.extend(validation_and_training(
            run.name.clone(),
            run.epochs
                .iter()
                .map(|e| point(e, e.val_recon + e.val_kl))
                .collect(),
            best.map(|e| point(e, e.val_recon + e.val_kl)),
            run.epochs.iter().map(|e| point(e, e.train_loss)).collect(),
            colour,
        ));
    }
    LineChart {
        title,
        x_label: "epoch".into(),
        y_label: "loss per segment (solid: validation, dashed: training)".into(),
        series,
        marker_name: "kept (best validation reconstruction)".into(),
        ..LineChart::default()
    }
}

fn fold_name(f: &FoldRecord) -> String {
    format!("fold {} ({})", f.fold + 1, f.test_group)
}

/// [`classifier_chart`] of every fold of a cell, titled by the cell.
pub fn classifier_curves(cell: &CellResult) -> LineChart {
    let runs: Vec<_> = cell
        .folds
        .iter()
        .map(|f| {
            (
                Curves {
                    name: fold_name(f),
                    epochs: &f.classifier_epochs[..],
                },
                f.classifier_best_epoch,
            )
        })
        .collect();
    classifier_chart(format!("Classifier training: {}", cell_title(cell)), &runs)
}

/// [`learner_chart`] of every fold of a cell, titled by the cell.
pub fn learner_curves(cell: &CellResult) -> LineChart {
    let runs: Vec<_> = cell
        .folds
        .iter()
        .map(|f| Curves {
            name: fold_name(f),
            epochs: &f.learner_epochs[..],
        })
        .collect();
    learner_chart(
        format!("Feature learner training: {}", cell_title(cell)),
        &runs,
    )
}

/// The figures of one cell: `(file name, svg)` for its confusion matrix
/// and, where it trained models, their training curves; `suffix` goes
/// before the extension (e.g. a seed).
pub fn cell_figures(cell: &CellResult, suffix: &str) -> Vec<(String, String)> {
    let id = cell.id();
    let mut out = vec![(
        format!("confusion_{id}{suffix}.svg"),
        confusion_svg(&cell_title(cell), &cell.labels, &cell.summary.confusion),
    )];
    if has_classifier_curves(cell) {
        out.push((
            format!("curves_{id}_classifier{suffix}.svg"),
            classifier_curves(cell).to_svg(),
        ));
    }
    if has_learner_curves(cell) {
        out.push((
            format!("curves_{id}_learner{suffix}.svg"),
            learner_curves(cell).to_svg(),
        ));
    }
    out
}

/// The training curves of a model made by `vaeser train`: `("learner",
/// chart)` and `("classifier", chart)`; `name` names the learner ("VAE").
pub fn model_curves<B: crate::backend::Backend>(
    model: &crate::eval::final_model::TrainedModel<B>,
    name: &str,
) -> Vec<(&'static str, LineChart)> {
    let corpus = corpus_title(&model.bundle.corpus);
    vec![
        (
            "learner",
            learner_chart(
                format!("{name} feature learner training, whole {corpus}"),
                &[Curves {
                    name: "whole corpus".into(),
                    epochs: &model.learner_epochs,
                }],
            ),
        ),
        (
            "classifier",
            classifier_chart(
                format!("{name}-LSTM classifier training, whole {corpus}"),
                &[(
                    Curves {
                        name: "whole corpus".into(),
                        epochs: &model.classifier_epochs,
                    },
                    model.classifier.best_epoch.saturating_sub(1),
                )],
            ),
        ),
    ]
}

/// Writes `report.md`, `results.json` and `figures/*.svg` under `dir`
/// (atomically, each) and returns the paths written.
pub fn write_report(
    dir: &Path,
    results: &ExperimentResults,
    notes: &[String],
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut put = |rel: String, bytes: &[u8]| -> Result<()> {
        let path = dir.join(rel);
        write_atomic(&path, bytes)?;
        written.push(path);
        Ok(())
    };
    put(
        "report.md".into(),
        render_markdown(results, notes).as_bytes(),
    )?;
    let json = serde_json::to_string_pretty(results)
        .map_err(|e| Error::config(format!("results do not serialise: {e}")))?;
    put("results.json".into(), json.as_bytes())?;
    if !results.sweep.is_empty() {
        put(
            "figures/latent_sweep.svg".into(),
            sweep_chart(results).to_svg().as_bytes(),
        )?;
    }
    let mut done: Vec<String> = Vec::new();
    for cell in results
        .table1
        .iter()
        .chain(&results.table2)
        .chain(&results.sweep)
        .chain(&results.baselines)
    {
        let id = cell.id();
        if done.contains(&id) {
            continue;
        }
        for (name, svg) in cell_figures(cell, "") {
            put(format!("figures/{name}"), svg.as_bytes())?;
        }
        done.push(id);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::metrics::{Confusion, FoldSummary};
    use crate::eval::results::FoldRecord;

    fn cell(model: &str, task: Task, oracle: bool) -> CellResult {
        let confusion = Confusion::from_labels(3, &[0, 1, 2, 2], &[0, 1, 2, 0]);
        CellResult {
            model: model.into(),
            task,
            subset: Subset::Complete,
            latent: 128,
            seed: 1,
            labels: vec!["low".into(), "mid".into(), "high".into()],
            oracle_labels: oracle,
            folds: vec![FoldRecord {
                fold: 0,
                test_group: "Ses01".into(),
                n_train: 10,
                n_validation: 2,
                n_test: 4,
                confusion: confusion.clone(),
                learner_epochs: vec![],
                classifier_epochs: vec![],
                classifier_best_epoch: 1,
                classifier_warning: None,
            }],
            summary: FoldSummary::from_folds(&[confusion]),
        }
    }

    #[test]
    fn tables_hold_every_cell_and_mark_oracle_runs() {
        let results = ExperimentResults {
            program: program_name(),
            corpus: "ravdess".into(),
            seeds: vec![1],
            preset: "spec".into(),
            config: Default::default(),
            n_utterances: 4,
            table1: vec![cell("AE", Task::Categorical, false)],
            table2: vec![
                cell("CVAE", Task::Valence, true),
                cell("CVAE", Task::Arousal, true),
                cell("CVAE", Task::Dominance, true),
            ],
            sweep: vec![],
            baselines: vec![],
            across_seeds: vec![],
            comparisons: vec![],
        };
        let md = render_markdown(&results, &["quick preset".into()]);
        // WA 3/4 = 75.0, UA (1 + 1 + 0.5) / 3 = 83.3.
        assert!(md.contains("| AE-LSTM | complete | 75.0 | 83.3 |"), "{md}");
        assert!(md.contains("CVAE-LSTM (oracle labels: label leak)"));
        assert!(md.contains("none (the paper reports IEMOCAP only)"));
        assert!(md.contains("- quick preset"));
        // Macro F1 per dimension: F1 = 2 tp / (support + predicted) gives
        // 2/3, 2/2, 2/3 for low, mid, high; their mean is 7/9 = 77.8.
        assert!(md.contains("| 77.8 (77.8 ± 0.0) |"), "{md}");
    }

    fn program_name() -> String {
        crate::eval::manifest::program_version()
    }

    #[test]
    fn sweep_chart_has_fold_error_bars_a_chance_line_and_a_title_in_words() {
        let sweep: Vec<CellResult> = [16, 32, 64]
            .into_iter()
            .map(|latent| {
                let mut c = cell("VAE", Task::Categorical, false);
                let other = Confusion::from_labels(3, &[0, 1, 2, 2], &[0, 0, 0, 0]);
                let mut second = c.folds[0].clone();
                second.fold = 1;
                second.confusion = other.clone();
                c.folds.push(second);
                c.summary = FoldSummary::from_folds(&[c.folds[0].confusion.clone(), other]);
                c.latent = latent;
                c
            })
            .collect();
        let results = ExperimentResults {
            program: program_name(),
            corpus: "ravdess".into(),
            seeds: vec![1],
            preset: "spec".into(),
            config: Default::default(),
            n_utterances: 4,
            table1: vec![],
            table2: vec![],
            sweep,
            baselines: vec![],
            across_seeds: vec![],
            comparisons: vec![],
        };
        let svg = sweep_chart(&results).to_svg();
        // UA and WA at three latent sizes, each fold-to-fold spread shown.
        assert_eq!(svg.matches(r#"class="error-bar""#).count(), 6, "{svg}");
        assert_eq!(svg.matches(r#"class="reference""#).count(), 1);
        assert!(svg.contains("chance UA (3 classes)"));
        let title = svg
            .lines()
            .find(|l| l.contains(r#"class="title""#))
            .unwrap();
        assert!(
            title.ends_with(
                ">Accuracy against latent size (RAVDESS, categorical task, complete subset)</text>"
            ),
            "{title}"
        );
        for tick in [">16<", ">32<", ">64<"] {
            assert!(svg.contains(tick), "x tick {tick}");
        }
        assert!(!svg.contains("vae-categorical"), "no cell ids");
    }

    #[test]
    fn ticks_are_round_numbers_covering_the_range() {
        assert_eq!(nice_ticks(0.0, 100.0), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(
            nice_ticks(31.0, 58.0),
            [30.0, 35.0, 40.0, 45.0, 50.0, 55.0, 60.0]
        );
        let t = nice_ticks(0.013, 0.061);
        assert!(
            t[0] <= 0.013 && *t.last().unwrap() >= 0.061 && t.len() <= 8,
            "{t:?}"
        );
    }
}
