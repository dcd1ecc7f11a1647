//! Losses with their gradients: summed squared error averaged over rows, and
//! softmax cross-entropy from logits averaged over rows.
//!
//! Loss values are accumulated in f64 in index order (the squared error in
//! eight lanes of the `f32x8` part, lanes added 0..8, then the tail), so they
//! are the same whatever the thread count.

use super::vec::lanes8::{load, store};
use wide::f32x8;

/// Returns `sum((pred - target)^2) / rows` and writes `dpred = 2 (pred - target) / rows`.
pub fn sse(rows: usize, pred: &[f32], target: &[f32], dpred: &mut [f32]) -> f32 {
    let n = pred.len();
    assert!(
        target.len() == n && dpred.len() == n && rows > 0,
        "sse: rows {rows}, lengths pred {n}, target {}, dpred {}",
        target.len(),
        dpred.len()
    );
    let scale = 2.0 / rows as f32;
    let vec_end = n - n % 8;
    let mut lanes = [0.0f64; 8];
    let s8 = f32x8::splat(scale);
    for j in (0..vec_end).step_by(8) {
        let d = load(pred, j) - load(target, j);
        store(dpred, j, d * s8);
        for (acc, v) in lanes.iter_mut().zip(d.to_array()) {
            let v = f64::from(v);
            *acc += v * v;
        }
    }
    let mut sum: f64 = lanes.iter().sum();
    for j in vec_end..n {
        let d = pred[j] - target[j];
        dpred[j] = d * scale;
        sum += f64::from(d) * f64::from(d);
    }
    (sum / rows as f64) as f32
}

/// Softmax cross-entropy averaged over rows: writes `probs`, writes
/// `dlogits = (probs - onehot(label)) / rows` and returns the mean loss.
/// Each row is shifted by its maximum before `exp`, so large logits never
/// overflow; the loss of a row is `ln(sum exp(x - max)) - (x_label - max)`.
///
/// # Panics
/// On a label `>= classes` (callers check labels first, see `nn::loss`).
pub fn softmax_xent(
    classes: usize,
    logits: &[f32],
    labels: &[u32],
    probs: &mut [f32],
    dlogits: &mut [f32],
) -> f32 {
    let rows = labels.len();
    assert!(
        classes > 0 && rows > 0 && logits.len() == rows * classes,
        "softmax_xent: {rows} labels, {classes} classes, {} logits",
        logits.len()
    );
    assert!(probs.len() == logits.len() && dlogits.len() == logits.len());
    let inv_rows = 1.0 / rows as f32;
    let mut total = 0.0f64;
    for (r, &label) in labels.iter().enumerate() {
        let label = label as usize;
        assert!(
            label < classes,
            "label {label} out of range for {classes} classes"
        );
        let x = &logits[r * classes..(r + 1) * classes];
        let p = &mut probs[r * classes..(r + 1) * classes];
        let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f64;
        for (pj, &xj) in p.iter_mut().zip(x) {
            *pj = (xj - max).exp();
            sum += f64::from(*pj);
        }
        let inv = (1.0 / sum) as f32;
        for pj in p.iter_mut() {
            *pj *= inv;
        }
        total += sum.ln() - f64::from(x[label] - max);
        let d = &mut dlogits[r * classes..(r + 1) * classes];
        for (j, (dj, &pj)) in d.iter_mut().zip(p.iter()).enumerate() {
            let target = if j == label { 1.0 } else { 0.0 };
            *dj = (pj - target) * inv_rows;
        }
    }
    (total / rows as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn sse_matches_scalar_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        for n in [1, 7, 8, 9, 1023] {
            let rows = if n % 3 == 0 { 3 } else { 1 };
            let p: Vec<f32> = (0..n).map(|_| rng.gen_range(-3.0..3.0)).collect();
            let t: Vec<f32> = (0..n).map(|_| rng.gen_range(-3.0..3.0)).collect();
            let mut d = vec![f32::NAN; n];
            let loss = sse(rows, &p, &t, &mut d);
            let mut want = 0.0f64;
            for j in 0..n {
                let e = p[j] as f64 - t[j] as f64;
                want += e * e;
                assert!((d[j] as f64 - 2.0 * e / rows as f64).abs() < 1e-6);
            }
            want /= rows as f64;
            assert!((loss as f64 - want).abs() < 1e-6 * (1.0 + want), "n={n}");
        }
    }

    #[test]
    fn softmax_xent_matches_reference_and_is_stable() {
        let classes = 5;
        let labels = [0u32, 4, 2];
        // The last row has logits that would overflow a naive exp.
        let logits: Vec<f32> = vec![
            0.1, -1.0, 2.0, 0.5, 0.0, //
            3.0, 3.0, -2.0, 1.0, 0.7, //
            1000.0, 998.0, 1001.0, -1000.0, 0.0,
        ];
        let mut probs = vec![0.0; 15];
        let mut d = vec![0.0; 15];
        let loss = softmax_xent(classes, &logits, &labels, &mut probs, &mut d);
        let mut want = 0.0f64;
        for (r, &y) in labels.iter().enumerate() {
            let x: Vec<f64> = logits[r * classes..][..classes]
                .iter()
                .map(|&v| v as f64)
                .collect();
            let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = x.iter().map(|v| (v - m).exp()).sum();
            want += z.ln() + m - x[y as usize];
            for j in 0..classes {
                let p = (x[j] - m).exp() / z;
                assert!((probs[r * classes + j] as f64 - p).abs() < 1e-6);
                let t = if j == y as usize { 1.0 } else { 0.0 };
                assert!((d[r * classes + j] as f64 - (p - t) / 3.0).abs() < 1e-6);
            }
        }
        want /= 3.0;
        assert!(loss.is_finite());
        assert!((loss as f64 - want).abs() < 1e-5, "{loss} vs {want}");
    }
}
