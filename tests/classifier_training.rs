//! Classifier training: it learns a sequence task that needs memory, keeps
//! the best validation epoch's weights, logs one line per epoch, and is bit
//! for bit reproducible across runs and thread counts.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vaeser::backend::cpu::Cpu;
use vaeser::config::ClassifierConfig;
use vaeser::eval::metrics::Confusion;
use vaeser::models::classifier::Sequence;
use vaeser::train::classifier::{self, stratified_split, ClassifierFitRequest};

type ClassifierFit = classifier::ClassifierFit<Cpu>;

/// Trains on the CPU backend.
fn fit(
    request: &ClassifierFitRequest<'_>,
    log: &mut JsonLinesLog,
) -> vaeser::Result<ClassifierFit> {
    classifier::fit(&Cpu, request, log)
}
use vaeser::train::log::JsonLinesLog;

const FEATURES: usize = 6;

/// Utterances of 4..20 steps whose class is in the time course of feature 0
/// under uniform noise of the same size: class 0 is positive throughout,
/// class 1 negative throughout, class 2 positive in its first half and
/// negative in its second (so telling 1 from 2 needs the early steps).
fn synthetic(seed: u64, n: usize) -> Vec<(Vec<f32>, usize, usize)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let label = i % 3;
            let steps = rng.gen_range(4..=20);
            let mut f = vec![0.0f32; steps * FEATURES];
            for t in 0..steps {
                for j in 0..FEATURES {
                    f[t * FEATURES + j] = rng.gen_range(-1.0..1.0);
                }
                let sign = match label {
                    0 => 1.0,
                    1 => -1.0,
                    _ if t < steps / 2 => 1.0,
                    _ => -1.0,
                };
                f[t * FEATURES] += 0.8 * sign;
            }
            (f, steps, label)
        })
        .collect()
}

fn sequences(data: &[(Vec<f32>, usize, usize)]) -> Vec<Sequence<'_>> {
    data.iter()
        .map(|(f, steps, label)| Sequence {
            features: f,
            steps: *steps,
            label: *label,
        })
        .collect()
}

fn labels() -> Vec<String> {
    ["up", "down", "up-down"].map(String::from).to_vec()
}

#[test]
fn learns_a_sequence_task_and_keeps_the_best_epoch() {
    let data = synthetic(1, 330);
    let all = sequences(&data);
    let (train_idx, val_idx) = stratified_split(
        &all.iter().map(|s| s.label).collect::<Vec<_>>(),
        0.1,
        4,
        Some(0),
    );
    let train: Vec<_> = train_idx.iter().map(|&i| all[i]).collect();
    let validation: Vec<_> = val_idx.iter().map(|&i| all[i]).collect();
    let config = ClassifierConfig {
        hidden: 16,
        dense: 16,
        lr: 1e-2,
        max_epochs: 12,
        ..ClassifierConfig::default()
    };
    let names = labels();
    let request = ClassifierFitRequest {
        config: &config,
        train: &train,
        validation: &validation,
        label_names: &names,
        seed: 7,
        fold: Some(0),
    };
    let mut log = JsonLinesLog::in_memory();
    let fitted = fit(&request, &mut log).unwrap();

    let n_epochs = fitted.epochs.len();
    assert!((1..=12).contains(&n_epochs));
    assert_eq!(log.records().len(), n_epochs);
    for (e, (rec, line)) in fitted.epochs.iter().zip(log.records()).enumerate() {
        assert_eq!(rec.epoch, e);
        // Inside 0-based, in the log counted from 1.
        assert_eq!(line["epoch"], e + 1);
        assert_eq!(line["fold"], 1);
        assert_eq!(line["val_ua"].as_f64(), Some(rec.val_ua));
        assert!(line["seconds"].as_f64().unwrap() >= 0.0);
        assert!(rec.train_loss.is_finite() && rec.val_loss.is_finite());
    }
    let best = &fitted.epochs[fitted.best_epoch];
    assert!(fitted.epochs.iter().all(|e| e.val_ua <= best.val_ua));
    // Training loss falls from near ln 3.
    assert!(fitted.epochs[0].train_loss > fitted.epochs[n_epochs - 1].train_loss);

    // The returned weights are the best epoch's: they reproduce its UA.
    let model = &fitted.classifier;
    let predict = |seqs: &[Sequence<'_>]| {
        let views: Vec<&[f32]> = seqs.iter().map(|s| s.features).collect();
        let probs = model.predict_proba(&views).unwrap();
        let predicted: Vec<usize> = probs
            .iter()
            .map(|p| (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap())
            .collect();
        let truth: Vec<usize> = seqs.iter().map(|s| s.label).collect();
        Confusion::from_labels(3, &truth, &predicted)
    };
    assert_eq!(predict(&validation).ua(), best.val_ua);
    // Bit for bit: a run stopped at the best epoch (same seed, so the same
    // trajectory up to there) ends with the same weights.
    assert!(
        n_epochs > fitted.best_epoch + 1,
        "training went on past the best epoch"
    );
    let stopped = fit_for_epochs(request, fitted.best_epoch + 1);
    assert_eq!(
        stopped.classifier.host_params().unwrap(),
        model.host_params().unwrap()
    );

    // Fresh utterances: far above chance (1/3).
    let test_data = synthetic(2, 150);
    let ua = predict(&sequences(&test_data)).ua();
    assert!(ua > 0.8, "test UA {ua}, epochs {:?}", fitted.epochs);
}

/// `request` again, with training stopped after `max_epochs`.
fn fit_for_epochs(request: ClassifierFitRequest, max_epochs: usize) -> ClassifierFit {
    let config = ClassifierConfig {
        max_epochs,
        ..request.config.clone()
    };
    fit(
        &ClassifierFitRequest {
            config: &config,
            ..request
        },
        &mut JsonLinesLog::in_memory(),
    )
    .unwrap()
}

fn train_small(seed: u64) -> ClassifierFit {
    // The SPEC's sizes: large enough that the GEMMs, the LSTM cell
    // (batch x hidden = 4096 values), the bias column sums and Adam are
    // split over threads.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let data: Vec<(Vec<f32>, usize, usize)> = (0..96)
        .map(|i| {
            let steps = rng.gen_range(10..=30);
            let f = (0..steps * 32).map(|_| rng.gen_range(-1.0..1.0)).collect();
            (f, steps, i % 4)
        })
        .collect();
    let all = sequences(&data);
    let config = ClassifierConfig {
        max_epochs: 2,
        ..ClassifierConfig::default()
    };
    let names: Vec<String> = (0..4).map(|c| c.to_string()).collect();
    fit(
        &ClassifierFitRequest {
            config: &config,
            train: &all[..80],
            validation: &all[80..],
            label_names: &names,
            seed,
            fold: Some(1),
        },
        &mut JsonLinesLog::in_memory(),
    )
    .unwrap()
}

fn bits(fit: &ClassifierFit) -> Vec<u32> {
    fit.classifier
        .host_params()
        .unwrap()
        .iter()
        .map(|x| x.to_bits())
        .collect()
}

#[test]
fn training_is_bit_identical_across_runs_and_thread_counts() {
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let one = pool(1).install(|| train_small(5));
    let two = pool(2).install(|| train_small(5));
    let again = pool(2).install(|| train_small(5));
    assert_eq!(bits(&one), bits(&two));
    assert_eq!(bits(&two), bits(&again));
    assert_eq!(one.epochs, two.epochs);
    assert_ne!(bits(&one), bits(&train_small(6)));
}

#[test]
fn without_validation_it_trains_every_epoch_and_keeps_the_last() {
    let data = synthetic(3, 40);
    let train = sequences(&data);
    let config = ClassifierConfig {
        hidden: 8,
        dense: 8,
        max_epochs: 3,
        patience: 1,
        ..ClassifierConfig::default()
    };
    let names = labels();
    let request = ClassifierFitRequest {
        config: &config,
        train: &train,
        validation: &[],
        label_names: &names,
        seed: 1,
        fold: None,
    };
    let fitted = fit(&request, &mut JsonLinesLog::in_memory()).unwrap();
    assert_eq!(fitted.epochs.len(), 3);
    assert_eq!(fitted.best_epoch, 2);
    assert!(fitted.epochs.iter().all(|e| e.val_ua.is_nan()));
    // The last weights: one more epoch changes them, so 2 epochs differ from 3.
    let two = fit_for_epochs(request, 2);
    assert_ne!(
        two.classifier.host_params().unwrap(),
        fitted.classifier.host_params().unwrap()
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let data = synthetic(3, 10);
    let mut train = sequences(&data);
    let config = ClassifierConfig::default();
    let names = labels();
    let short = [0.0f32; 5];
    train[4].features = &short;
    let request = ClassifierFitRequest {
        config: &config,
        train: &train,
        validation: &[],
        label_names: &names,
        seed: 1,
        fold: None,
    };
    let err = fit(&request, &mut JsonLinesLog::in_memory())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("training utterance 4") && err.contains("5 feature values"),
        "{err}"
    );
    let mut val = sequences(&data);
    val[2].label = 3;
    let err = fit(
        &ClassifierFitRequest {
            train: &val[..1],
            validation: &val,
            ..request
        },
        &mut JsonLinesLog::in_memory(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("validation utterance 2") && err.contains("label 3"),
        "{err}"
    );
    let err = fit(
        &ClassifierFitRequest {
            train: &[],
            ..request
        },
        &mut JsonLinesLog::in_memory(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("at least one training utterance"), "{err}");
}
