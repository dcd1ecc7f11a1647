//! The VAE's Gaussian layer: reparameterisation `z = mu + eps * exp(0.5 logvar)`
//! and the analytic KL divergence to N(0, I), forward and backward, in
//! `wide::f32x8` with a scalar tail.
//!
//! The KL sum is accumulated in f64: eight lane sums over the vector part in
//! index order, then the lanes added 0..8, then the tail. The order is fixed by
//! the length alone, so the value does not depend on threads (the kernel runs
//! on one; a VAE batch is 256 x 128 values, microseconds of work).

use super::vec::lanes8::{load, store};
use super::vec::math::exp8;
use wide::f32x8;

/// Arguments of `exp(0.5 logvar)` above this are capped: `wide`'s `exp`
/// returns 0 beyond ~87.3, where the exact value is near `f32::MAX` anyway.
const HALF_LOGVAR_MAX: f32 = 87.0;

#[inline(always)]
fn std_dev(logvar: f32) -> f32 {
    (0.5 * logvar).min(HALF_LOGVAR_MAX).exp()
}

/// Forward: writes `z` and returns `KL = -0.5 * sum(1 + logvar - mu^2 - exp(logvar))`.
pub fn forward(mu: &[f32], logvar: &[f32], eps: &[f32], z: &mut [f32]) -> f32 {
    let n = mu.len();
    assert!(
        logvar.len() == n && eps.len() == n && z.len() == n,
        "gaussian forward: lengths mu {n}, logvar {}, eps {}, z {}",
        logvar.len(),
        eps.len(),
        z.len()
    );
    let vec_end = n - n % 8;
    let mut lanes = [0.0f64; 8];
    for j in (0..vec_end).step_by(8) {
        let (m, lv) = (load(mu, j), load(logvar, j));
        let s = exp8((lv * f32x8::splat(0.5)).fast_min(f32x8::splat(HALF_LOGVAR_MAX)));
        store(z, j, load(eps, j).mul_add(s, m));
        let term = (f32x8::ONE + lv) - m * m - s * s;
        for (acc, t) in lanes.iter_mut().zip(term.to_array()) {
            *acc += f64::from(t);
        }
    }
    let mut sum: f64 = lanes.iter().sum();
    for j in vec_end..n {
        let s = std_dev(logvar[j]);
        z[j] = eps[j].mul_add(s, mu[j]);
        sum += f64::from((1.0 + logvar[j]) - mu[j] * mu[j] - s * s);
    }
    (-0.5 * sum) as f32
}

/// Backward for the loss `L(z) + kl_scale * KL`:
/// `dmu = dz + kl_scale * mu`,
/// `dlogvar = dz * eps * 0.5 exp(0.5 logvar) + kl_scale * 0.5 (exp(logvar) - 1)`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    kl_scale: f32,
    mu: &[f32],
    logvar: &[f32],
    eps: &[f32],
    dz: &[f32],
    dmu: &mut [f32],
    dlogvar: &mut [f32],
) {
    let n = mu.len();
    assert!(
        logvar.len() == n
            && eps.len() == n
            && dz.len() == n
            && dmu.len() == n
            && dlogvar.len() == n,
        "gaussian backward: mismatched lengths"
    );
    let vec_end = n - n % 8;
    let half = f32x8::splat(0.5);
    let k = f32x8::splat(kl_scale);
    let half_k = f32x8::splat(0.5 * kl_scale);
    for j in (0..vec_end).step_by(8) {
        let (m, lv, e, d) = (load(mu, j), load(logvar, j), load(eps, j), load(dz, j));
        let s = exp8((lv * half).fast_min(f32x8::splat(HALF_LOGVAR_MAX)));
        store(dmu, j, k.mul_add(m, d));
        let kl_part = half_k * (s * s - f32x8::ONE);
        store(dlogvar, j, (d * e * half).mul_add(s, kl_part));
    }
    for j in vec_end..n {
        let s = std_dev(logvar[j]);
        dmu[j] = kl_scale.mul_add(mu[j], dz[j]);
        let kl_part = 0.5 * kl_scale * (s * s - 1.0);
        dlogvar[j] = (dz[j] * eps[j] * 0.5).mul_add(s, kl_part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(rng: &mut ChaCha8Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| rng.gen_range(lo..hi)).collect()
    }

    #[test]
    fn matches_scalar_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for n in [1, 7, 8, 9, 1023] {
            let mu = random(&mut rng, n, -2.0, 2.0);
            let lv = random(&mut rng, n, -6.0, 3.0);
            let eps = random(&mut rng, n, -2.5, 2.5);
            let dz = random(&mut rng, n, -1.0, 1.0);
            let mut z = vec![f32::NAN; n];
            let kl = forward(&mu, &lv, &eps, &mut z);
            let mut want_kl = 0.0f64;
            for j in 0..n {
                let (m, l, e) = (mu[j] as f64, lv[j] as f64, eps[j] as f64);
                let s = (0.5 * l).exp();
                assert!(
                    (z[j] as f64 - (m + e * s)).abs() < 1e-5 * (1.0 + s),
                    "z[{j}] n={n}"
                );
                want_kl += -0.5 * (1.0 + l - m * m - l.exp());
            }
            assert!(
                (kl as f64 - want_kl).abs() < 1e-5 * (1.0 + want_kl.abs()),
                "kl {kl} vs {want_kl} n={n}"
            );
            let (mut dmu, mut dlv) = (vec![f32::NAN; n], vec![f32::NAN; n]);
            let kls = 0.7f32;
            backward(kls, &mu, &lv, &eps, &dz, &mut dmu, &mut dlv);
            for j in 0..n {
                let (m, l, e, d) = (mu[j] as f64, lv[j] as f64, eps[j] as f64, dz[j] as f64);
                let s = (0.5 * l).exp();
                let want_dmu = d + kls as f64 * m;
                let want_dlv = d * e * 0.5 * s + kls as f64 * 0.5 * (l.exp() - 1.0);
                assert!((dmu[j] as f64 - want_dmu).abs() < 1e-5, "dmu[{j}]");
                assert!(
                    (dlv[j] as f64 - want_dlv).abs() < 1e-5 * (1.0 + s * s),
                    "dlv[{j}]"
                );
            }
        }
    }

    #[test]
    fn huge_logvar_stays_finite_in_z() {
        let mut z = [0.0; 9];
        let kl = forward(&[0.0; 9], &[300.0; 9], &[0.0; 9], &mut z);
        assert!(z.iter().all(|v| v.is_finite()));
        assert!(
            kl.is_infinite() && kl > 0.0,
            "KL of a huge variance is +inf, got {kl}"
        );
    }
}
