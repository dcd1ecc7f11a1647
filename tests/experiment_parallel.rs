//! Folds run concurrently give exactly what they give one after the other:
//! the same cell (every fold's confusion matrix and training curves), the
//! same fold files, and a stop after N folds leaves exactly N of them.

mod experiment_support;

use experiment_support::{corpus, scratch, tiny_config};
use std::path::Path;
use vaeser::backend::cpu::Cpu;
use vaeser::config::Config;
use vaeser::corpus::CorpusKind;
use vaeser::eval::crossval::{CellSpec, Driver, DriverOptions};
use vaeser::eval::dataset::CorpusData;
use vaeser::eval::results::{Subset, Task};
use vaeser::models::autoencoder::LearnerKind;
use vaeser::Error;

fn setup(dir: &Path) -> (CorpusData, Config) {
    let config = Config::load(&tiny_config(dir)).unwrap();
    let data = CorpusData::load(
        CorpusKind::Synth,
        corpus(),
        &config.segments,
        None,
        true,
        false,
    )
    .unwrap();
    (data, config)
}

/// The record part of every fold file of a cell (timings differ by run).
fn fold_records(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("fold-") && n.ends_with(".json")
        })
        .map(|e| {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                v["record"].clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn concurrent_folds_give_the_cell_of_folds_run_in_order() {
    let dir = scratch("parallel-folds");
    let (data, config) = setup(&dir);
    let spec = CellSpec::learner(LearnerKind::Vae, Task::Categorical, Subset::Complete, 8);
    let run = |workers: usize| {
        let out = dir.join(format!("workers-{workers}"));
        let mut driver = Driver::new(
            &Cpu,
            &data,
            &config,
            DriverOptions {
                seed: 5,
                out: Some(out.clone()),
                fold_workers: workers,
                ..DriverOptions::default()
            },
        );
        let outcome = driver.run_cell(&spec).unwrap();
        assert_eq!(driver.folds_computed(), 5);
        assert_eq!(driver.learner_counts(), (5, 0));
        (outcome.result, out)
    };
    let (serial, serial_dir) = run(1);
    let (parallel, parallel_dir) = run(3);
    assert_eq!(serial.folds.len(), 5);
    assert!(serial.folds.iter().all(|f| !f.classifier_epochs.is_empty()));
    assert_eq!(
        serde_json::to_string(&serial).unwrap(),
        serde_json::to_string(&parallel).unwrap(),
        "the cell differs between folds in order and folds at the same time"
    );
    let cell = format!("cells/{}/seed-5", spec.id());
    let a = fold_records(&serial_dir.join(&cell));
    let b = fold_records(&parallel_dir.join(&cell));
    assert_eq!(a.len(), 5);
    assert_eq!(a, b);
    for f in 1..=5 {
        for log in ["learner", "classifier"] {
            let name = format!("fold-{f}.{log}.jsonl");
            let strip = |p: &Path| -> Vec<serde_json::Value> {
                std::fs::read_to_string(p.join(&cell).join(&name))
                    .unwrap()
                    .lines()
                    .map(|l| {
                        let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                        v.as_object_mut().unwrap().remove("seconds");
                        v
                    })
                    .collect()
            };
            assert_eq!(strip(&serial_dir), strip(&parallel_dir), "{name}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stop_after_two_folds_leaves_two_whole_folds_and_resumes_to_the_same_cell() {
    let dir = scratch("parallel-stop");
    let (data, config) = setup(&dir);
    let spec = CellSpec::learner(LearnerKind::Ae, Task::Categorical, Subset::Complete, 8);
    let options = |out: &Path, workers: usize, stop: Option<usize>, resume: bool| DriverOptions {
        seed: 2,
        out: Some(out.to_path_buf()),
        fold_workers: workers,
        stop_after_folds: stop,
        resume,
        ..DriverOptions::default()
    };
    let out = dir.join("stopped");
    let stopped = Driver::new(&Cpu, &data, &config, options(&out, 3, Some(2), false))
        .run_cell(&spec)
        .unwrap_err();
    assert!(matches!(stopped, Error::Interrupted(_)), "{stopped}");
    let cell = out.join(format!("cells/{}/seed-2", spec.id()));
    let left = fold_records(&cell);
    let names: Vec<&str> = left.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["fold-1.json", "fold-2.json"]);

    let mut resumed = Driver::new(&Cpu, &data, &config, options(&out, 3, None, true));
    let outcome = resumed.run_cell(&spec).unwrap();
    assert_eq!((outcome.resumed_folds, resumed.folds_computed()), (2, 3));
    let fresh = Driver::new(
        &Cpu,
        &data,
        &config,
        options(&dir.join("fresh"), 1, None, false),
    )
    .run_cell(&spec)
    .unwrap();
    assert_eq!(outcome.result, fresh.result);
    std::fs::remove_dir_all(&dir).unwrap();
}
