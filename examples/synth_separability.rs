//! How separable the synthetic corpus's emotions are for simple baselines:
//! each utterance becomes the mean and standard deviation of its LogMel bands
//! (160 values), and nearest-class-mean and softmax-regression classifiers
//! are scored leave-one-session-out (unweighted accuracy, UA). The generator
//! is tuned so that these land well above chance and well below 100%.
//!
//! cargo run --release --example synth_separability -- [--size small|full] [--seed S] [--data DIR]
//!
//! Without `--data` it generates a corpus into a temporary directory.

use rayon::prelude::*;
use std::path::PathBuf;
use std::time::Instant;
use vaeser::audio::{load_logmel, N_MELS};
use vaeser::corpus::synth::{self, Options, Size};
use vaeser::corpus::{load, CorpusKind, LoadOptions, Utterance, EMOTIONS};

const DIM: usize = 2 * N_MELS;

fn main() {
    let mut size = Size::Small;
    let mut seed = 1u64;
    let mut data: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--size" => {
                size = if value == "full" {
                    Size::Full
                } else {
                    Size::Small
                }
            }
            "--seed" => seed = value.parse().expect("--seed takes an integer"),
            "--data" => data = Some(PathBuf::from(value)),
            other => panic!("unknown option {other}"),
        }
    }
    let (root, temporary) = match data {
        Some(d) => (d, false),
        None => {
            let dir =
                std::env::temp_dir().join(format!("vaeser-separability-{}", std::process::id()));
            let started = Instant::now();
            synth::generate(&dir, &Options { seed, size }).expect("generate");
            println!(
                "generated {} corpus (seed {seed}) in {:.2} s",
                size.name(),
                started.elapsed().as_secs_f64()
            );
            (dir, true)
        }
    };
    let corpus = load(CorpusKind::Synth, &root, &LoadOptions::default()).expect("load");
    let utterances = &corpus.utterances;
    let features: Vec<[f64; DIM]> = utterances.par_iter().map(summary_vector).collect();
    let labels: Vec<usize> = utterances.iter().map(|u| u.label.unwrap()).collect();
    println!(
        "{} utterances, label counts {:?} ({:?})",
        utterances.len(),
        corpus.label_counts(),
        EMOTIONS
    );

    let mut groups: Vec<&str> = utterances.iter().map(|u| u.group.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    let mut ncm = vec![[0usize; 4]; 4];
    let mut softmax = vec![[0usize; 4]; 4];
    for group in &groups {
        let train: Vec<usize> = (0..utterances.len())
            .filter(|&i| utterances[i].group != *group)
            .collect();
        let test: Vec<usize> = (0..utterances.len())
            .filter(|&i| utterances[i].group == *group)
            .collect();
        let (mean, std) = standardiser(&features, &train);
        let z = |i: usize| -> Vec<f64> {
            (0..DIM)
                .map(|k| (features[i][k] - mean[k]) / std[k])
                .collect()
        };
        let train_z: Vec<Vec<f64>> = train.iter().map(|&i| z(i)).collect();
        let train_y: Vec<usize> = train.iter().map(|&i| labels[i]).collect();
        let centroids = class_means(&train_z, &train_y);
        let weights = fit_softmax(&train_z, &train_y);
        for &i in &test {
            let x = z(i);
            ncm[labels[i]][nearest(&centroids, &x)] += 1;
            softmax[labels[i]][predict(&weights, &x)] += 1;
        }
    }
    report("nearest class mean", &ncm);
    report("softmax regression", &softmax);
    if temporary {
        let _ = std::fs::remove_dir_all(&root);
    }
}

/// Mean and standard deviation over frames of each LogMel band.
fn summary_vector(u: &Utterance) -> [f64; DIM] {
    let logmel = load_logmel(&u.path).expect("audio");
    let mut out = [0.0; DIM];
    let n = logmel.n_frames.max(1) as f64;
    for f in 0..logmel.n_frames {
        for (b, &v) in logmel.frame(f).iter().enumerate() {
            out[b] += f64::from(v) / n;
        }
    }
    for f in 0..logmel.n_frames {
        for (b, &v) in logmel.frame(f).iter().enumerate() {
            out[N_MELS + b] += (f64::from(v) - out[b]).powi(2) / n;
        }
    }
    for v in &mut out[N_MELS..] {
        *v = v.sqrt();
    }
    out
}

fn standardiser(features: &[[f64; DIM]], rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() as f64;
    let mut mean = vec![0.0; DIM];
    let mut std = vec![0.0; DIM];
    for &i in rows {
        for k in 0..DIM {
            mean[k] += features[i][k] / n;
        }
    }
    for &i in rows {
        for k in 0..DIM {
            std[k] += (features[i][k] - mean[k]).powi(2) / n;
        }
    }
    (mean, std.into_iter().map(|v| v.sqrt().max(1e-6)).collect())
}

fn class_means(x: &[Vec<f64>], y: &[usize]) -> Vec<Vec<f64>> {
    let mut sums = vec![vec![0.0; DIM]; 4];
    let mut counts = [0usize; 4];
    for (row, &c) in x.iter().zip(y) {
        counts[c] += 1;
        for (s, v) in sums[c].iter_mut().zip(row) {
            *s += v;
        }
    }
    for (s, &n) in sums.iter_mut().zip(&counts) {
        for v in s.iter_mut() {
            *v /= n.max(1) as f64;
        }
    }
    sums
}

fn nearest(centroids: &[Vec<f64>], x: &[f64]) -> usize {
    let distance = |c: &Vec<f64>| c.iter().zip(x).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
    (0..centroids.len())
        .min_by(|&a, &b| distance(&centroids[a]).total_cmp(&distance(&centroids[b])))
        .unwrap()
}

/// Weights (4 x (DIM + 1)) of an L2-regularised softmax regression fitted by
/// full-batch gradient descent, with class-balanced sample weights.
fn fit_softmax(x: &[Vec<f64>], y: &[usize]) -> Vec<Vec<f64>> {
    let mut counts = [0usize; 4];
    for &c in y {
        counts[c] += 1;
    }
    let balance: Vec<f64> = counts
        .iter()
        .map(|&n| x.len() as f64 / (4.0 * n.max(1) as f64))
        .collect();
    let mut w = vec![vec![0.0; DIM + 1]; 4];
    let (rate, l2) = (0.1, 1e-2);
    for _ in 0..400 {
        let mut grad = vec![vec![0.0; DIM + 1]; 4];
        for (row, &c) in x.iter().zip(y) {
            let p = probabilities(&w, row);
            for k in 0..4 {
                let g = (p[k] - if k == c { 1.0 } else { 0.0 }) * balance[c];
                for (gk, v) in grad[k].iter_mut().zip(row) {
                    *gk += g * v;
                }
                grad[k][DIM] += g;
            }
        }
        for k in 0..4 {
            for j in 0..=DIM {
                let decay = if j < DIM { l2 * w[k][j] } else { 0.0 };
                w[k][j] -= rate * (grad[k][j] / x.len() as f64 + decay);
            }
        }
    }
    w
}

fn probabilities(w: &[Vec<f64>], x: &[f64]) -> [f64; 4] {
    let mut logits = [0.0; 4];
    for (l, wk) in logits.iter_mut().zip(w) {
        *l = wk[DIM] + wk[..DIM].iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
    }
    let max = logits.iter().cloned().fold(f64::MIN, f64::max);
    let mut p = logits.map(|l| (l - max).exp());
    let total: f64 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= total);
    p
}

fn predict(w: &[Vec<f64>], x: &[f64]) -> usize {
    let p = probabilities(w, x);
    (0..4).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap()
}

fn report(name: &str, confusion: &[[usize; 4]]) {
    let recalls: Vec<f64> = confusion
        .iter()
        .enumerate()
        .map(|(c, row)| row[c] as f64 / row.iter().sum::<usize>().max(1) as f64)
        .collect();
    let ua = recalls.iter().sum::<f64>() / 4.0;
    let correct: usize = (0..4).map(|c| confusion[c][c]).sum();
    let total: usize = confusion.iter().flatten().sum();
    println!(
        "{name}, leave one session out: UA {:.1}%, WA {:.1}%, recalls {}",
        100.0 * ua,
        100.0 * correct as f64 / total as f64,
        recalls
            .iter()
            .zip(EMOTIONS)
            .map(|(r, e)| format!("{e} {:.0}%", 100.0 * r))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("  confusion (rows true, columns predicted): {confusion:?}");
}
