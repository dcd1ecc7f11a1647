//! The whole AE / VAE / CVAE loss (encoder, heads, reparameterisation with
//! fixed noise, decoder, KL) against an independent f64 reference written
//! from SPEC §3: the backend's loss must equal the reference's, and the
//! backend's analytic gradient must equal central finite differences of the
//! reference, for every parameter of a tiny model.
//!
//! Finite differences run in f64 (step 1e-5), so their own error is ~1e-9
//! and the tolerance can be tight: |num - ana| <= 1e-4 + 1e-3 |num| per
//! parameter. A wrong sign, a missing term (e.g. the KL's mu or logvar part,
//! the condition block, a bias) or a transposed index changes the affected
//! gradients by amounts of the order of the gradients themselves (~1e-2..1),
//! which that bound rejects. Perturbations that move a ReLU across its kink
//! are detected (the activation pattern changes) and those parameters are
//! skipped; the test requires that almost none are.

mod common;

use common::backends::{download, upload};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use vaeser::backend::Backend;
use vaeser::models::autoencoder::{Autoencoder, AutoencoderShape, LearnerKind, LossParts};
use vaeser::nn::params::ParamLayout;

const ROWS: usize = 5;

struct Inputs {
    x: Vec<f32>,
    cond: Vec<f32>,
    eps: Vec<f32>,
}

/// The loss of SPEC §3 in f64, straight from its definition, reading the
/// parameters by their PyTorch names. Returns (reconstruction, KL, ReLU
/// pattern) with both losses averaged over the rows.
fn reference(
    shape: &AutoencoderShape,
    layout: &ParamLayout,
    p: &[f64],
    inp: &Inputs,
) -> (f64, f64, Vec<bool>) {
    let tensor = |name: &str| {
        let e = layout.get(name).unwrap();
        (&p[e.range.clone()], e.shape.clone())
    };
    let linear = |name: &str, x: &[f64]| -> Vec<f64> {
        let (w, s) = tensor(&format!("{name}.weight"));
        let (b, _) = tensor(&format!("{name}.bias"));
        let (out, inn) = (s[0], s[1]);
        assert_eq!(inn, x.len(), "{name}");
        (0..out)
            .map(|o| b[o] + (0..inn).map(|i| w[o * inn + i] * x[i]).sum::<f64>())
            .collect()
    };
    let (d, k, l) = (shape.input, shape.conditions, shape.latent);
    let mut pattern = Vec::new();
    let mut relu = |v: Vec<f64>| -> Vec<f64> {
        pattern.extend(v.iter().map(|&a| a > 0.0));
        v.into_iter().map(|a| a.max(0.0)).collect()
    };
    let (mut recon, mut kl) = (0.0, 0.0);
    for r in 0..ROWS {
        let x: Vec<f64> = inp.x[r * d..(r + 1) * d]
            .iter()
            .map(|&v| v as f64)
            .collect();
        let c: Vec<f64> = inp.cond[r * k..(r + 1) * k]
            .iter()
            .map(|&v| v as f64)
            .collect();
        let mut h = [x.clone(), c.clone()].concat();
        for i in 0..shape.hidden.len() {
            h = relu(linear(&format!("encoder.{}", 2 * i), &h));
        }
        let z: Vec<f64> = if shape.kind == LearnerKind::Ae {
            linear("code", &h)
        } else {
            let mu = linear("mu", &h);
            let lv = linear("logvar", &h);
            for j in 0..l {
                kl += -0.5 * (1.0 + lv[j] - mu[j] * mu[j] - lv[j].exp());
            }
            (0..l)
                .map(|j| mu[j] + inp.eps[r * l + j] as f64 * (0.5 * lv[j]).exp())
                .collect()
        };
        let mut h = [z, c].concat();
        let n = shape.hidden.len();
        for i in 0..n {
            h = relu(linear(&format!("decoder.{}", 2 * i), &h));
        }
        let out = linear(&format!("decoder.{}", 2 * n), &h);
        recon += out
            .iter()
            .zip(&x)
            .map(|(o, t)| (o - t) * (o - t))
            .sum::<f64>();
    }
    (recon / ROWS as f64, kl / ROWS as f64, pattern)
}

fn check<B: Backend>(be: &B, kind: LearnerKind) {
    check_with_beta(be, kind, 1.0);
}

/// `beta`: the KL weight; the reference loss is reconstruction + beta * KL.
fn check_with_beta<B: Backend>(be: &B, kind: LearnerKind, beta: f64) {
    let conditions = if kind == LearnerKind::Cvae { 4 } else { 0 };
    let shape = AutoencoderShape {
        kind,
        input: 12,
        conditions,
        hidden: vec![8, 6],
        latent: 3,
    };
    let mut rng = vaeser::rng::stream(11, "gradcheck", 0, kind as u32);
    let mut model = Autoencoder::new(shape.clone()).unwrap();
    model.set_kl_weight(beta as f32);
    let mut params = vec![0.0; model.layout().len()];
    model.init(&mut rng, &mut params).unwrap();
    let inp = Inputs {
        x: (0..ROWS * 12)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect(),
        cond: (0..ROWS * conditions)
            .map(|i| {
                if i % conditions == (i / conditions) % conditions {
                    1.0
                } else {
                    0.0
                }
            })
            .collect(),
        eps: (0..ROWS * 3)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect(),
    };
    // Larger log-variances than at initialisation, so exp(0.5 logvar) and
    // the KL's exp term are exercised away from 1.
    if kind != LearnerKind::Ae {
        let b = model.layout().get("logvar.bias").unwrap().range.clone();
        for v in &mut params[b] {
            *v += rng.gen_range(-1.0..1.0);
        }
    }

    let mut ws = model.workspace(be, ROWS).unwrap();
    be.upload(&inp.x, be.view_mut(&mut ws.x, 0..ROWS * 12))
        .unwrap();
    be.upload(&inp.cond, be.view_mut(&mut ws.cond, 0..ROWS * conditions))
        .unwrap();
    be.upload(&inp.eps, be.view_mut(&mut ws.eps, 0..ROWS * 3))
        .unwrap();
    let p = upload(be, &params);
    let mut grads = upload(be, &vec![f32::NAN; params.len()]);
    let (mut recon, mut kl_sum) = (upload(be, &[0.0]), upload(be, &[0.0]));
    model
        .forward(
            be,
            &p,
            &mut ws,
            ROWS,
            be.view_mut(&mut recon, 0..1),
            be.view_mut(&mut kl_sum, 0..1),
        )
        .unwrap();
    model.backward(be, &p, &mut grads, &mut ws, ROWS).unwrap();
    let loss = LossParts::from_slots(download(be, &recon)[0], download(be, &kl_sum)[0], ROWS);
    let analytic = download(be, &grads);

    let layout = model.layout().clone();
    let p64: Vec<f64> = params.iter().map(|&v| v as f64).collect();
    let (recon, kl, pattern) = reference(&shape, &layout, &p64, &inp);
    assert!(
        (loss.reconstruction as f64 - recon).abs() <= 1e-5 * recon.abs().max(1.0),
        "{kind}: reconstruction {} vs reference {recon}",
        loss.reconstruction
    );
    assert!(
        (loss.kl as f64 - kl).abs() <= 1e-5 * kl.abs().max(1.0),
        "{kind}: KL {} vs reference {kl}",
        loss.kl
    );
    if kind != LearnerKind::Ae {
        assert!(kl > 0.0, "{kind}: KL must be positive here");
    }

    let h = 1e-5;
    let mut skipped = 0;
    let mut worst = 0.0f64;
    for entry in layout.entries() {
        for i in entry.range.clone() {
            let mut q = p64.clone();
            q[i] = p64[i] + h;
            let (r1, k1, pat1) = reference(&shape, &layout, &q, &inp);
            q[i] = p64[i] - h;
            let (r2, k2, pat2) = reference(&shape, &layout, &q, &inp);
            if pat1 != pattern || pat2 != pattern {
                skipped += 1;
                continue;
            }
            let num = ((r1 + beta * k1) - (r2 + beta * k2)) / (2.0 * h);
            let ana = analytic[i] as f64;
            let err = (num - ana).abs();
            worst = worst.max(err / (1e-4 + 1e-3 * num.abs()));
            assert!(
                err <= 1e-4 + 1e-3 * num.abs(),
                "{kind}: d loss / d {}[{}]: analytic {ana}, finite differences {num}",
                entry.name,
                i - entry.range.start
            );
        }
    }
    assert!(
        skipped * 20 < layout.len(),
        "{kind}: {skipped} of {} parameters sit on a ReLU kink",
        layout.len()
    );
    eprintln!(
        "{kind}: {} parameters checked, {skipped} skipped at kinks, worst error {worst:.3} of the tolerance",
        layout.len()
    );
}

fn check_ae<B: Backend>(be: &B) {
    check(be, LearnerKind::Ae);
}
on_each_backend!(ae_gradient_matches_finite_differences, check_ae);

fn check_vae<B: Backend>(be: &B) {
    check(be, LearnerKind::Vae);
}
on_each_backend!(vae_gradient_matches_finite_differences, check_vae);

fn check_cvae<B: Backend>(be: &B) {
    check(be, LearnerKind::Cvae);
}
on_each_backend!(cvae_gradient_matches_finite_differences, check_cvae);

/// learner.kl_weight: the backward pass differentiates reconstruction +
/// beta * KL (a beta that were ignored would leave the KL part of every
/// encoder gradient four times too large).
fn check_beta<B: Backend>(be: &B) {
    check_with_beta(be, LearnerKind::Vae, 0.25);
    check_with_beta(be, LearnerKind::Cvae, 0.25);
}
on_each_backend!(
    vae_and_cvae_gradients_weight_the_kl_term_by_beta,
    check_beta
);
