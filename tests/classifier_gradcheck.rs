//! Gradient check of the whole classifier loss: a 2-layer LSTM over a batch
//! of sequences of different lengths (unsorted, so padding sits between
//! real steps of other sequences), the dense ReLU layer, the output layer
//! and the mean softmax cross-entropy, against central finite differences of
//! the loss computed independently from `predict_proba` (in f64).
//!
//! Finite differences: step 5e-3 on f32 parameters. The f32 rounding of the
//! probabilities (~6e-8 relative) divided by the step, plus the O(step^2)
//! truncation, keeps the error near 1e-5; the tolerance `5e-4 + 2e-3 |g|`
//! leaves a wide margin, yet for every tensor the test also checks that a
//! gradient with its largest entry's sign flipped, that entry halved (a
//! missing term) or two entries swapped (a transposed index) is rejected.

mod common;

use common::gradcheck::FiniteDifferences;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vaeser::backend::Backend;
use vaeser::checkpoint::Checkpoint;
use vaeser::models::classifier::{initial_params, Classifier, ClassifierShape, Sequence};

const FD: FiniteDifferences = FiniteDifferences {
    step: 5e-3,
    atol: 5e-4,
    rtol: 2e-3,
};

on_each_backend!(
    classifier_loss_gradient_matches_finite_differences,
    classifier_gradient
);
fn classifier_gradient<B: Backend>(be: &B) {
    let shape = ClassifierShape {
        input: 3,
        hidden: 5,
        layers: 2,
        dense: 6,
        classes: 3,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    // PyTorch's initial weights, scaled up so that every tensor's gradient
    // is large enough for the discrimination checks to mean something.
    let init = initial_params(&shape, 3, Some(0)).unwrap();
    // (At 1x the first layer's gradients are ~2e-3, too small; at 5x the
    // smallest tensor maximum, weight_hh_l0's, is ~2e-2.)
    let params: Vec<f32> = init.iter().map(|&p| 5.0 * p).collect();
    let lengths = [5usize, 2, 4, 1];
    let labels = [2usize, 0, 1, 2];
    let features: Vec<Vec<f32>> = lengths
        .iter()
        .map(|&n| {
            (0..n * shape.input)
                .map(|_| rng.gen_range(-1.5..1.5))
                .collect()
        })
        .collect();
    let batch: Vec<Sequence<'_>> = features
        .iter()
        .zip(lengths.iter().zip(&labels))
        .map(|(f, (&steps, &label))| Sequence {
            features: f,
            steps,
            label,
        })
        .collect();
    let views: Vec<&[f32]> = features.iter().map(|f| f.as_slice()).collect();
    let loss_of = |p: &[f32]| -> f64 {
        let c = Classifier::from_params(be, shape.clone(), p).unwrap();
        let probs = c.predict_proba(&views).unwrap();
        probs
            .iter()
            .zip(&labels)
            .map(|(p, &l)| -(p[l] as f64).ln())
            .sum::<f64>()
            / labels.len() as f64
    };

    let model = Classifier::from_params(be, shape.clone(), &params).unwrap();
    let (loss, grad) = model.loss_and_gradient(&batch).unwrap();
    assert!(
        (loss as f64 - loss_of(&params)).abs() < 1e-5,
        "training loss {loss} differs from the loss of predict_proba {}",
        loss_of(&params)
    );

    let numeric = FD.numeric_gradient(&mut params.clone(), |p| loss_of(p));

    // Tensor names and sizes in arena order, from the checkpoint writer.
    let mut ck = Checkpoint::new("test");
    model.write_into(&mut ck, "").unwrap();
    let mut offset = 0;
    for t in ck.tensors() {
        let r = offset..offset + t.data.len();
        offset = r.end;
        // Halving an entry of |g| > 5e-3 moves it 2.5e-3, 5x the tolerance.
        FD.assert_check_discriminates(t.name, &grad[r.clone()], &numeric[r], 2e-4, 5e-3);
    }
    assert_eq!(offset, params.len());
}
