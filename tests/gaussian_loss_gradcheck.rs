//! Central finite-difference checks of the Gaussian layer (reparameterisation
//! with fixed noise plus the KL term) and of both losses, through the public
//! layer API on each backend.
//!
//! The losses are scalar f32 results of f64 sums; with a step of 1e-2 the
//! rounding noise of a difference quotient is at most ~2e-4 (one f32 ulp of a
//! loss near 35, divided by 2e-2) and the truncation error of the central
//! difference ~1e-5 for these smooth functions, while the gradient entries are
//! O(0.1..1). The tolerance `1e-3 + 1e-3 |g|` is thus a few times above the
//! noise and far below what a wrong sign, a missing term or swapped indices
//! produce: each test also feeds such a corrupted gradient to the same check
//! and asserts that it is rejected.

mod common;

use common::backends::{download, upload, upload_index};
use common::gradcheck::FiniteDifferences;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vaeser::backend::Backend;
use vaeser::nn::gaussian::Gaussian;
use vaeser::nn::loss;

const FD: FiniteDifferences = FiniteDifferences {
    step: 1e-2,
    atol: 1e-3,
    rtol: 1e-3,
};

fn random(rng: &mut ChaCha8Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(lo..hi)).collect()
}

/// Asserts that `compare` accepts `good` and rejects the usual mistakes.
fn assert_check_discriminates(name: &str, good: &[f32], numeric: &[f64]) {
    let worst = FD.compare(name, good, numeric).unwrap();
    assert!(worst < 5e-4, "{name}: unexpectedly large error {worst}");
    let big = (0..good.len())
        .max_by(|&a, &b| good[a].abs().total_cmp(&good[b].abs()))
        .unwrap();
    let mut flipped = good.to_vec();
    flipped[big] = -flipped[big];
    assert!(
        FD.compare(name, &flipped, numeric).is_err(),
        "{name}: sign flip accepted"
    );
    let mut halved = good.to_vec();
    halved[big] *= 0.5;
    assert!(
        FD.compare(name, &halved, numeric).is_err(),
        "{name}: halved entry accepted"
    );
    let mut swapped = good.to_vec();
    let other = (big + 1) % good.len();
    swapped.swap(big, other);
    if (good[big] - good[other]).abs() > 1e-2 {
        assert!(
            FD.compare(name, &swapped, numeric).is_err(),
            "{name}: swap accepted"
        );
    }
}

on_each_backend!(gaussian_layer_gradient_with_kl_term, gaussian_gradient);
fn gaussian_gradient<B: Backend>(be: &B) {
    let mut rng = ChaCha8Rng::seed_from_u64(101);
    let (rows, latent) = (3, 11); // 33 values: the f32x8 part and a scalar tail
    let n = rows * latent;
    let g = Gaussian::new(latent);
    let mu = random(&mut rng, n, -1.5, 1.5);
    let logvar = random(&mut rng, n, -2.0, 1.0);
    let mut eps = vec![0.0; n];
    Gaussian::draw_eps(&mut rng, &mut eps);
    // Downstream loss L(z) = sum(w * z), so dL/dz = w.
    let w = random(&mut rng, n, -1.0, 1.0);
    let kl_weight = 1.0 / rows as f32;
    let eps_b = upload(be, &eps);
    let mut z = upload(be, &vec![0.0; n]);
    let mut kl = upload(be, &[0.0]);
    let mut loss = |mu: &[f32], lv: &[f32]| -> f64 {
        let (mu, lv) = (upload(be, mu), upload(be, lv));
        g.forward(
            be,
            rows,
            &mu,
            &lv,
            &eps_b,
            &mut z,
            be.view_mut(&mut kl, 0..1),
        )
        .unwrap();
        let lz: f64 = download(be, &z)
            .iter()
            .zip(&w)
            .map(|(&z, &w)| z as f64 * w as f64)
            .sum();
        lz + kl_weight as f64 * download(be, &kl)[0] as f64
    };
    let backward = |kl_weight: f32| {
        let (mut dmu, mut dlv) = (upload(be, &vec![0.0; n]), upload(be, &vec![0.0; n]));
        let (mu, lv, w) = (upload(be, &mu), upload(be, &logvar), upload(be, &w));
        g.backward(
            be, rows, kl_weight, &mu, &lv, &eps_b, &w, &mut dmu, &mut dlv,
        )
        .unwrap();
        (download(be, &dmu), download(be, &dlv))
    };
    let (dmu, dlv) = backward(kl_weight);

    let num_mu = FD.numeric_gradient(&mut mu.clone(), |m| loss(m, &logvar));
    let num_lv = FD.numeric_gradient(&mut logvar.clone(), |l| loss(&mu, l));
    assert_check_discriminates("dmu", &dmu, &num_mu);
    assert_check_discriminates("dlogvar", &dlv, &num_lv);

    // Leaving out the KL term in backward must be caught.
    let (dmu0, dlv0) = backward(0.0);
    assert!(FD.compare("dmu without KL", &dmu0, &num_mu).is_err());
    assert!(FD.compare("dlogvar without KL", &dlv0, &num_lv).is_err());
}

/// The mean summed squared error of `pred` against `target` and its gradient.
fn sse<B: Backend>(
    be: &B,
    rows: usize,
    cols: usize,
    pred: &[f32],
    target: &[f32],
) -> (f64, Vec<f32>) {
    let mut d = upload(be, &vec![0.0; rows * cols]);
    let mut slot = upload(be, &[0.0]);
    let (pred, target) = (upload(be, pred), upload(be, target));
    loss::sse(
        be,
        rows,
        cols,
        &pred,
        &target,
        &mut d,
        be.view_mut(&mut slot, 0..1),
    )
    .unwrap();
    (download(be, &slot)[0] as f64, download(be, &d))
}

on_each_backend!(sse_gradient, sse_gradient_body);
fn sse_gradient_body<B: Backend>(be: &B) {
    let mut rng = ChaCha8Rng::seed_from_u64(102);
    let (rows, cols) = (4, 13);
    let pred = random(&mut rng, rows * cols, -2.0, 2.0);
    let target = random(&mut rng, rows * cols, -2.0, 2.0);
    let (l0, d) = sse(be, rows, cols, &pred, &target);
    let want: f64 = pred
        .iter()
        .zip(&target)
        .map(|(&p, &t)| (p as f64 - t as f64).powi(2))
        .sum::<f64>()
        / rows as f64;
    assert!((l0 - want).abs() < 1e-5 * want, "{l0} vs {want}");
    let num = FD.numeric_gradient(&mut pred.clone(), |p| sse(be, rows, cols, p, &target).0);
    assert_check_discriminates("dpred", &d, &num);
}

/// Softmax probabilities, logit gradient and mean cross-entropy.
fn softmax_xent<B: Backend>(
    be: &B,
    rows: usize,
    classes: usize,
    logits: &[f32],
    labels: &[u32],
) -> (Vec<f32>, Vec<f32>, f64) {
    let n = rows * classes;
    let (mut probs, mut d) = (upload(be, &vec![0.0; n]), upload(be, &vec![0.0; n]));
    let mut slot = upload(be, &[0.0]);
    let (logits, labels) = (upload(be, logits), upload_index(be, labels));
    loss::softmax_xent(
        be,
        rows,
        classes,
        &logits,
        &labels,
        &mut probs,
        &mut d,
        be.view_mut(&mut slot, 0..1),
    )
    .unwrap();
    (
        download(be, &probs),
        download(be, &d),
        download(be, &slot)[0] as f64,
    )
}

on_each_backend!(softmax_xent_gradient, softmax_xent_gradient_body);
fn softmax_xent_gradient_body<B: Backend>(be: &B) {
    let mut rng = ChaCha8Rng::seed_from_u64(103);
    let (rows, classes) = (3, 4);
    let logits = random(&mut rng, rows * classes, -3.0, 3.0);
    let labels = [2u32, 0, 3];
    let (probs, d, _) = softmax_xent(be, rows, classes, &logits, &labels);
    for r in 0..rows {
        let s: f32 = probs[r * classes..(r + 1) * classes].iter().sum();
        assert!((s - 1.0).abs() < 1e-6);
    }
    let num = FD.numeric_gradient(&mut logits.clone(), |x| {
        softmax_xent(be, rows, classes, x, &labels).2
    });
    assert_check_discriminates("dlogits", &d, &num);
}
