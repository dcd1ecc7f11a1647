//! The classifier outside training: its predictions against an f64
//! reference of the PyTorch modules its checkpoint tensors are named after
//! (swapping two gates in the reference makes it fail), padding invariance
//! of `predict_proba`, the stratified validation split, and checkpoints
//! (PyTorch names, bit-exact round trip, clear errors on a mismatch).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
mod common;
use common::backends::assert_batch_invariant;

use vaeser::backend::Backend;
use vaeser::checkpoint::Checkpoint;
use vaeser::models::classifier::{Classifier, ClassifierShape, PREDICT_BATCH};
use vaeser::train::classifier::stratified_split;

fn shape() -> ClassifierShape {
    ClassifierShape {
        input: 7,
        hidden: 12,
        layers: 2,
        dense: 9,
        classes: 4,
    }
}

fn random_sequences(seed: u64, n: usize, input: usize) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let steps = rng.gen_range(1..30);
            (0..steps * input)
                .map(|_| rng.gen_range(-2.0..2.0))
                .collect()
        })
        .collect()
}

on_each_backend!(
    a_sequence_gets_the_same_probabilities_alone_or_in_any_padded_batch,
    a_sequence_gets_the_same_probabilities_alone_or_in_any_padded_batch_on
);
fn a_sequence_gets_the_same_probabilities_alone_or_in_any_padded_batch_on<B: Backend>(be: &B) {
    let model = Classifier::new(be, shape(), 5, Some(1)).unwrap();
    // More than one batch, lengths 1..30 in random order.
    let seqs = random_sequences(1, PREDICT_BATCH + 13, 7);
    let views: Vec<&[f32]> = seqs.iter().map(|s| s.as_slice()).collect();
    let together = model.predict_proba(&views).unwrap();
    assert_eq!(together.len(), seqs.len());
    let reversed: Vec<&[f32]> = views.iter().rev().copied().collect();
    let mut backwards = model.predict_proba(&reversed).unwrap();
    backwards.reverse();
    for (i, v) in views.iter().enumerate() {
        let alone = model.predict_proba(&[v]).unwrap();
        assert_batch_invariant::<B>(&format!("sequence {i}"), &alone[0], &together[i]);
        assert_batch_invariant::<B>(
            &format!("sequence {i} in another batch"),
            &backwards[i],
            &together[i],
        );
        let sum: f32 = together[i].iter().sum();
        assert!((sum - 1.0).abs() < 1e-5 && together[i].iter().all(|&p| p > 0.0));
    }
    // The probabilities do depend on the input.
    assert_ne!(together[0], together[1]);
}

on_each_backend!(
    predict_rejects_sequences_of_the_wrong_width,
    predict_rejects_sequences_of_the_wrong_width_on
);
fn predict_rejects_sequences_of_the_wrong_width_on<B: Backend>(be: &B) {
    let model = Classifier::new(be, shape(), 5, None).unwrap();
    let err = model
        .predict_proba(&[&[0.0; 14], &[0.0; 10]])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sequence 1") && err.contains("10 values"),
        "{err}"
    );
    assert!(model.predict_proba(&[&[]]).is_err());
    assert!(model.predict_proba(&[]).unwrap().is_empty());
}

#[test]
fn stratified_split_takes_the_fraction_of_each_class() {
    // Class sizes 50, 20, 7, 1, 2, interleaved.
    let sizes = [50usize, 20, 7, 1, 2];
    let mut labels = Vec::new();
    for round in 0..50 {
        for (c, &n) in sizes.iter().enumerate() {
            if round < n {
                labels.push(c);
            }
        }
    }
    let (train, val) = stratified_split(&labels, 0.1, 9, Some(2));
    let count = |idx: &[usize], c: usize| idx.iter().filter(|&&i| labels[i] == c).count();
    // round(0.1 n), at least 1 for classes of 2 or more, none of a singleton.
    let want = [5, 2, 1, 0, 1];
    for (c, &w) in want.iter().enumerate() {
        assert_eq!(count(&val, c), w, "class {c}");
        assert_eq!(count(&train, c), sizes[c] - w, "class {c}");
    }
    assert!(train.windows(2).all(|w| w[0] < w[1]) && val.windows(2).all(|w| w[0] < w[1]));
    let mut all = [train.clone(), val.clone()].concat();
    all.sort_unstable();
    assert_eq!(all, (0..labels.len()).collect::<Vec<_>>());

    assert_eq!(
        stratified_split(&labels, 0.1, 9, Some(2)),
        (train, val.clone())
    );
    assert_ne!(stratified_split(&labels, 0.1, 10, Some(2)).1, val);
    assert_ne!(stratified_split(&labels, 0.1, 9, Some(3)).1, val);
    assert_ne!(stratified_split(&labels, 0.1, 9, None).1, val);
    let (train0, val0) = stratified_split(&labels, 0.0, 9, None);
    assert!(val0.is_empty() && train0.len() == labels.len());
    // Never a whole class, even with fraction 1.
    let (train1, _) = stratified_split(&labels, 1.0, 9, None);
    for c in [0, 1, 2, 4] {
        assert_eq!(count(&train1, c), 1, "class {c}");
    }
}

on_each_backend!(
    checkpoint_round_trip_is_bit_identical_with_pytorch_names,
    checkpoint_round_trip_is_bit_identical_with_pytorch_names_on
);
fn checkpoint_round_trip_is_bit_identical_with_pytorch_names_on<B: Backend>(be: &B) {
    let model = Classifier::new(be, shape(), 21, Some(0)).unwrap();
    let mut ck = Checkpoint::new("model");
    model.write_into(&mut ck, "classifier.").unwrap();
    let names: Vec<(&str, &[usize])> = ck.tensors().map(|t| (t.name, t.shape)).collect();
    let want: Vec<(&str, &[usize])> = vec![
        ("classifier.lstm.weight_ih_l0", &[48, 7]),
        ("classifier.lstm.weight_hh_l0", &[48, 12]),
        ("classifier.lstm.bias_ih_l0", &[48]),
        ("classifier.lstm.bias_hh_l0", &[48]),
        ("classifier.lstm.weight_ih_l1", &[48, 12]),
        ("classifier.lstm.weight_hh_l1", &[48, 12]),
        ("classifier.lstm.bias_ih_l1", &[48]),
        ("classifier.lstm.bias_hh_l1", &[48]),
        ("classifier.fc.weight", &[9, 12]),
        ("classifier.fc.bias", &[9]),
        ("classifier.out.weight", &[4, 9]),
        ("classifier.out.bias", &[4]),
    ];
    assert_eq!(names, want);

    let bytes = ck.to_bytes();
    let back = Checkpoint::from_bytes(&bytes, Path::new("model.safetensors")).unwrap();
    let read = Classifier::read_from(be, &back, "classifier.").unwrap();
    assert_eq!(read.shape(), model.shape());
    let bits = |p: &[f32]| p.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&read.host_params().unwrap()),
        bits(&model.host_params().unwrap())
    );
    let mut again = Checkpoint::new("model");
    read.write_into(&mut again, "classifier.").unwrap();
    assert_eq!(again.to_bytes(), bytes);
}

on_each_backend!(
    a_mismatched_checkpoint_is_a_clear_error,
    a_mismatched_checkpoint_is_a_clear_error_on
);
fn a_mismatched_checkpoint_is_a_clear_error_on<B: Backend>(be: &B) {
    let model = Classifier::new(be, shape(), 21, Some(0)).unwrap();
    let mut ck = Checkpoint::new("model");
    model.write_into(&mut ck, "classifier.").unwrap();
    let read = |ck: &Checkpoint, prefix: &str| {
        let bytes = ck.to_bytes();
        let ck = Checkpoint::from_bytes(&bytes, Path::new("bad.safetensors")).unwrap();
        Classifier::read_from(be, &ck, prefix)
            .unwrap_err()
            .to_string()
    };

    // Metadata claiming another shape than the tensors have.
    let mut wrong = ck.clone();
    wrong.set_meta(
        "classifier.shape",
        &ClassifierShape {
            hidden: 16,
            ..shape()
        },
    );
    let err = read(&wrong, "classifier.");
    assert!(
        err.contains("bad.safetensors")
            && err.contains("classifier.lstm.weight_ih_l0")
            && err.contains("[48, 7]")
            && err.contains("[64, 7]"),
        "{err}"
    );

    // Nothing stored under that prefix.
    let err = read(&ck, "other.");
    assert!(err.contains("no classifier stored under 'other.'"), "{err}");

    // Something else stored under the marker.
    let mut other = ck.clone();
    other.set_meta("classifier.model", "vae");
    let err = read(&other, "classifier.");
    assert!(
        err.contains("'vae'") && err.contains("lstm-classifier"),
        "{err}"
    );

    // A shape that cannot be a classifier.
    let mut zero = ck.clone();
    zero.set_meta(
        "classifier.shape",
        &ClassifierShape {
            classes: 0,
            ..shape()
        },
    );
    let err = read(&zero, "classifier.");
    assert!(err.contains("classes 0"), "{err}");
}

/// PyTorch's `nn.LSTM` (gate order i, f, g, o), `nn.Linear` + ReLU,
/// `nn.Linear` and softmax, in f64 on one unpadded sequence, reading the
/// parameters by their checkpoint names.
fn pytorch_reference(ck: &Checkpoint, shape: &ClassifierShape, x: &[f32]) -> Vec<f64> {
    let t = |name: &str| -> Vec<f64> {
        ck.tensor(name)
            .unwrap()
            .data
            .iter()
            .map(|&v| v as f64)
            .collect()
    };
    let h = shape.hidden;
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    let mut layer_in: Vec<Vec<f64>> = x
        .chunks(shape.input)
        .map(|s| s.iter().map(|&v| v as f64).collect())
        .collect();
    for l in 0..shape.layers {
        let (w_ih, w_hh) = (
            t(&format!("lstm.weight_ih_l{l}")),
            t(&format!("lstm.weight_hh_l{l}")),
        );
        let (b_ih, b_hh) = (
            t(&format!("lstm.bias_ih_l{l}")),
            t(&format!("lstm.bias_hh_l{l}")),
        );
        let n_in = layer_in[0].len();
        let (mut hs, mut cs) = (vec![0.0; h], vec![0.0; h]);
        let mut outputs = Vec::new();
        for xt in &layer_in {
            let gate = |row: usize| -> f64 {
                let a: f64 = (0..n_in).map(|j| w_ih[row * n_in + j] * xt[j]).sum();
                let b: f64 = (0..h).map(|j| w_hh[row * h + j] * hs[j]).sum();
                a + b + b_ih[row] + b_hh[row]
            };
            let (mut h_new, mut c_new) = (vec![0.0; h], vec![0.0; h]);
            for u in 0..h {
                let i = sigmoid(gate(u));
                let f = sigmoid(gate(h + u));
                let g = gate(2 * h + u).tanh();
                let o = sigmoid(gate(3 * h + u));
                c_new[u] = f * cs[u] + i * g;
                h_new[u] = o * c_new[u].tanh();
            }
            hs = h_new;
            cs = c_new;
            outputs.push(hs.clone());
        }
        layer_in = outputs;
    }
    let last = layer_in.last().unwrap();
    let linear = |w: &[f64], b: &[f64], x: &[f64]| -> Vec<f64> {
        b.iter()
            .enumerate()
            .map(|(r, &bias)| {
                bias + x
                    .iter()
                    .enumerate()
                    .map(|(j, &v)| w[r * x.len() + j] * v)
                    .sum::<f64>()
            })
            .collect()
    };
    let fc: Vec<f64> = linear(&t("fc.weight"), &t("fc.bias"), last)
        .into_iter()
        .map(|v| v.max(0.0))
        .collect();
    let logits = linear(&t("out.weight"), &t("out.bias"), &fc);
    let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|&v| (v - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}

on_each_backend!(
    predictions_equal_pytorch_semantics_of_the_stored_tensors,
    predictions_equal_pytorch_semantics_of_the_stored_tensors_on
);
fn predictions_equal_pytorch_semantics_of_the_stored_tensors_on<B: Backend>(be: &B) {
    let model = Classifier::new(be, shape(), 8, Some(3)).unwrap();
    // Larger weights than the initial ones, so that every gate matters.
    let params: Vec<f32> = model
        .host_params()
        .unwrap()
        .iter()
        .map(|&p| 3.0 * p)
        .collect();
    let model = Classifier::from_params(be, shape(), &params).unwrap();
    let mut ck = Checkpoint::new("test");
    model.write_into(&mut ck, "").unwrap();
    let seqs = random_sequences(4, 10, 7);
    let views: Vec<&[f32]> = seqs.iter().map(|s| s.as_slice()).collect();
    let probs = model.predict_proba(&views).unwrap();
    let mut spread = 0.0f64;
    for (i, s) in seqs.iter().enumerate() {
        let want = pytorch_reference(&ck, &shape(), s);
        for (c, (&got, &w)) in probs[i].iter().zip(&want).enumerate() {
            assert!(
                (got as f64 - w).abs() < 2e-6,
                "sequence {i} class {c}: {got} vs reference {w}"
            );
            spread = spread.max((w - 0.25).abs());
        }
    }
    // The check compares something: probabilities far from uniform.
    assert!(spread > 0.1, "probabilities too close to uniform: {spread}");
}
