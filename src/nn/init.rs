//! Parameter initialisation as PyTorch does it, drawn from a caller-supplied
//! generator (a named ChaCha8 stream, `crate::rng::stream`), on the host.
//!
//! - `torch.nn.Linear`: weight `kaiming_uniform_(a = sqrt(5))`, which works out
//!   to `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, and bias `U(-1/sqrt(fan_in),
//!   1/sqrt(fan_in))`.
//! - `torch.nn.LSTM`: every weight and bias `U(-1/sqrt(H), 1/sqrt(H))`.
//!
//! Values are drawn in storage order (row-major, weight before bias), so a
//! given stream always gives the same parameters.

use crate::error::{Error, Result};
use rand::distributions::{Distribution, Uniform};
use rand::Rng;

/// Fills `out` with draws from `U(-bound, bound)`.
pub fn uniform(rng: &mut impl Rng, bound: f32, out: &mut [f32]) {
    if out.is_empty() {
        return;
    }
    if bound == 0.0 {
        out.fill(0.0);
        return;
    }
    let dist = Uniform::new(-bound, bound);
    for x in out.iter_mut() {
        *x = dist.sample(rng);
    }
}

/// `1 / sqrt(n)` computed in f64, the bound PyTorch uses for both `Linear`
/// (with `n = fan_in`) and `LSTM` (with `n = hidden`).
pub fn inv_sqrt_bound(n: usize) -> f32 {
    (1.0 / (n as f64).sqrt()) as f32
}

/// `torch.nn.Linear.reset_parameters`: `weight: [out, fan_in]` and
/// `bias: [out]` from `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, weight first.
///
/// Errors if `weight` is not `bias.len() * fan_in` long or `fan_in` is 0.
pub fn linear(
    rng: &mut impl Rng,
    fan_in: usize,
    weight: &mut [f32],
    bias: &mut [f32],
) -> Result<()> {
    if fan_in == 0 || weight.len() != bias.len() * fan_in {
        return Err(Error::shape(format!(
            "linear init: weight has {} values, bias {} and fan_in {fan_in}: want weight [{}, {fan_in}]",
            weight.len(),
            bias.len(),
            bias.len()
        )));
    }
    let bound = inv_sqrt_bound(fan_in);
    uniform(rng, bound, weight);
    uniform(rng, bound, bias);
    Ok(())
}

/// `torch.nn.LSTM.reset_parameters` for one tensor (weight or bias) of a
/// layer with `hidden` units: `U(-1/sqrt(hidden), 1/sqrt(hidden))`.
pub fn lstm(rng: &mut impl Rng, hidden: usize, out: &mut [f32]) -> Result<()> {
    if hidden == 0 {
        return Err(Error::shape("lstm init: hidden size 0".to_string()));
    }
    uniform(rng, inv_sqrt_bound(hidden), out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    #[test]
    fn linear_draws_within_bound_and_fill_the_range() {
        let (fan_in, out) = (800, 64);
        let mut w = vec![0.0; out * fan_in];
        let mut b = vec![0.0; out];
        linear(&mut stream(1, "init", 0, 0), fan_in, &mut w, &mut b).unwrap();
        let bound = 1.0 / (fan_in as f32).sqrt();
        for x in w.iter().chain(&b) {
            assert!(x.abs() < bound);
        }
        // A uniform draw reaches close to both ends and has variance bound^2/3.
        let max = w.iter().fold(0.0f32, |a, &x| a.max(x));
        let min = w.iter().fold(0.0f32, |a, &x| a.min(x));
        assert!(max > 0.99 * bound && min < -0.99 * bound);
        let var = w.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / w.len() as f64;
        let want = (bound as f64).powi(2) / 3.0;
        assert!(
            (var / want - 1.0).abs() < 0.03,
            "variance {var} want {want}"
        );
    }

    #[test]
    fn same_stream_same_values_other_stream_other_values() {
        let draw = |fold| {
            let mut w = vec![0.0; 12];
            let mut b = vec![0.0; 3];
            linear(&mut stream(5, "init", fold, 0), 4, &mut w, &mut b).unwrap();
            (w, b)
        };
        assert_eq!(draw(0), draw(0));
        assert_ne!(draw(0), draw(1));
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let mut rng = stream(1, "init", 0, 0);
        let err = linear(&mut rng, 4, &mut [0.0; 11], &mut [0.0; 3]).unwrap_err();
        assert!(err.to_string().contains("[3, 4]"), "{err}");
        assert!(lstm(&mut rng, 0, &mut [0.0; 4]).is_err());
    }

    #[test]
    fn lstm_bound_is_inverse_sqrt_hidden() {
        let mut w = vec![0.0; 4096];
        lstm(&mut stream(2, "init", 0, 0), 16, &mut w).unwrap();
        assert!(w.iter().all(|x| x.abs() < 0.25));
        assert!(w.iter().any(|x| x.abs() > 0.24));
    }
}
