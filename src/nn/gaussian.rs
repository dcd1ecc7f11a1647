//! The Gaussian layer of the VAE/CVAE: reparameterisation
//! `z = mu + eps * exp(0.5 logvar)` with noise `eps ~ N(0, 1)` supplied by the
//! caller (drawn on the host from a named stream, so every backend sees the
//! same noise), and the analytic KL divergence `KL(N(mu, sigma^2) || N(0, I))`.
//!
//! All of `mu`, `logvar`, `eps`, `z` and their gradients are `[rows, latent]`.
//! Buffers may be larger (sized once for the largest batch); the first
//! `rows * latent` values are used.
//!
//! The VAE loss of SPEC §3 for a batch of `rows` is
//! `sse (already a mean over rows) + kl_sum / rows`, so its backward pass is
//!
//! ```text
//! gauss.forward(&be, rows, &mu, &logvar, &eps, &mut z, kl_slot)?;   // kl_sum
//! // loss = recon + kl_sum / rows (computed from the downloaded slots)
//! ... decoder backward gives dz ...
//! gauss.backward(&be, rows, 1.0 / rows as f32, &mu, &logvar, &eps, &dz, &mut dmu, &mut dlogvar)?;
//! ```

use super::loss::check_capacity;
use crate::backend::Backend;
use crate::error::{Error, Result};
use rand::Rng;
use rand_distr::StandardNormal;

/// Reparameterisation and KL for a latent code of `latent` values per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gaussian {
    latent: usize,
}

impl Gaussian {
    /// The layer for a latent code of `latent` values per row (it has no parameters).
    pub fn new(latent: usize) -> Self {
        Self { latent }
    }

    /// Latent values per row: the width of `mu`, `logvar`, `eps` and `z`.
    pub fn latent(&self) -> usize {
        self.latent
    }

    /// Writes `z`, and into `kl[0]` the KL divergence summed over all rows
    /// and latent values (divide by `rows` for the batch mean).
    #[allow(clippy::too_many_arguments)]
    pub fn forward<B: Backend>(
        &self,
        backend: &B,
        rows: usize,
        mu: &B::Buf,
        logvar: &B::Buf,
        eps: &B::Buf,
        z: &mut B::Buf,
        kl: B::ViewMut<'_>,
    ) -> Result<()> {
        self.check(
            backend,
            rows,
            &[("mu", mu), ("logvar", logvar), ("eps", eps)],
        )?;
        check_capacity(backend, "gaussian layer z", z, rows, self.latent)?;
        let n = rows * self.latent;
        backend.gaussian_forward(
            backend.view(mu, 0..n),
            backend.view(logvar, 0..n),
            backend.view(eps, 0..n),
            backend.view_mut(z, 0..n),
            kl,
        )
    }

    /// Backward for the loss `L(z) + kl_weight * kl_sum` given `dz = dL/dz`:
    /// overwrites `dmu` and `dlogvar`. With the batch-mean KL of the VAE loss,
    /// `kl_weight = 1 / rows`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<B: Backend>(
        &self,
        backend: &B,
        rows: usize,
        kl_weight: f32,
        mu: &B::Buf,
        logvar: &B::Buf,
        eps: &B::Buf,
        dz: &B::Buf,
        dmu: &mut B::Buf,
        dlogvar: &mut B::Buf,
    ) -> Result<()> {
        self.check(
            backend,
            rows,
            &[("mu", mu), ("logvar", logvar), ("eps", eps), ("dz", dz)],
        )?;
        check_capacity(backend, "gaussian layer dmu", dmu, rows, self.latent)?;
        check_capacity(
            backend,
            "gaussian layer dlogvar",
            dlogvar,
            rows,
            self.latent,
        )?;
        let n = rows * self.latent;
        backend.gaussian_backward(
            kl_weight,
            backend.view(mu, 0..n),
            backend.view(logvar, 0..n),
            backend.view(eps, 0..n),
            backend.view(dz, 0..n),
            backend.view_mut(dmu, 0..n),
            backend.view_mut(dlogvar, 0..n),
        )
    }

    /// Fills `eps` (host memory, `[rows, latent]`) with standard normal draws
    /// from `rng`, which should be a named stream (`crate::rng::stream`).
    pub fn draw_eps(rng: &mut impl Rng, eps: &mut [f32]) {
        for e in eps {
            *e = rng.sample(StandardNormal);
        }
    }

    fn check<B: Backend>(&self, backend: &B, rows: usize, bufs: &[(&str, &B::Buf)]) -> Result<()> {
        if rows == 0 || self.latent == 0 {
            return Err(Error::shape(format!(
                "gaussian layer over an empty batch [{rows}, {}]",
                self.latent
            )));
        }
        for (name, buf) in bufs {
            check_capacity(
                backend,
                &format!("gaussian layer {name}"),
                buf,
                rows,
                self.latent,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::Cpu;

    #[test]
    fn too_small_buffers_are_shape_errors() {
        let g = Gaussian::new(4);
        let cpu = Cpu;
        let (mu, lv, eps) = (vec![0.0; 8], vec![0.0; 7], vec![0.0; 8]);
        let mut z = vec![0.0; 8];
        let mut kl = [f32::NAN];
        let err = g
            .forward(&cpu, 2, &mu, &lv, &eps, &mut z, &mut kl[..])
            .unwrap_err();
        assert!(
            err.to_string().contains("logvar") && err.to_string().contains("[2, 4]"),
            "{err}"
        );
        let lv = vec![0.0; 8];
        // mu = 0, logvar = 0 is N(0, 1) itself: no divergence, z = eps.
        g.forward(&cpu, 2, &mu, &lv, &eps, &mut z, &mut kl[..])
            .unwrap();
        assert_eq!(kl[0], 0.0);
    }

    #[test]
    fn draw_eps_is_standard_normal() {
        let mut rng = crate::rng::stream(5, "test-eps", 0, 0);
        let mut eps = vec![0.0f32; 20000];
        Gaussian::draw_eps(&mut rng, &mut eps);
        let mean = eps.iter().map(|&e| e as f64).sum::<f64>() / eps.len() as f64;
        let var = eps.iter().map(|&e| (e as f64 - mean).powi(2)).sum::<f64>() / eps.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
