//! The dense layer's backward pass against central finite differences, for
//! every activation: weight, bias and input gradients, and a two-layer chain.
//!
//! The loss is `L = sum(y * r)` with fixed random `r` (so `dy = r`), summed
//! in f64. Each parameter is moved by `+-h` in f32 and the difference
//! quotient uses the actual f32 step, so only the forward pass's own f32
//! rounding (about 1e-7 relative on the few outputs a parameter touches) and
//! the O(h^2) curvature term remain: with h = 5e-3 both stay near 1e-4 of
//! the gradient's scale. The check asks every entry to agree within
//! `2e-3 * scale` where `scale` is the largest gradient entry of the tensor,
//! and the relative error norm of the tensor to stay below 1e-3.
//!
//! That tolerance is tight enough to catch real bugs, and the tests prove it:
//! each one also feeds the same check a flipped sign, a dropped activation
//! derivative, a bias gradient missing a row and a transposed weight
//! gradient, and asserts that every one of them is rejected.

use rand::Rng;
use vaeser::backend::cpu::Cpu;
use vaeser::backend::Activation;
use vaeser::nn::dense::{Dense, InputGrad};
use vaeser::nn::params::ParamLayout;
use vaeser::rng::stream;

const H: f32 = 5e-3;
const ACTS: [Activation; 4] = [
    Activation::Identity,
    Activation::Relu,
    Activation::Tanh,
    Activation::Sigmoid,
];

fn random(len: usize, scale: f32, id: u32) -> Vec<f32> {
    let mut rng = stream(77, "dense-gradcheck", id, 0);
    (0..len).map(|_| rng.gen_range(-scale..scale)).collect()
}

/// Compares an analytic gradient with a numeric one. `Err` says why not.
fn check(what: &str, analytic: &[f32], numeric: &[f64]) -> Result<(), String> {
    assert_eq!(analytic.len(), numeric.len());
    let scale = numeric.iter().fold(0.0f64, |a, &x| a.max(x.abs()));
    if scale < 1e-3 {
        return Err(format!("{what}: gradient too small to check ({scale:e})"));
    }
    let mut diff2 = 0.0;
    let mut norm2 = 0.0;
    for (i, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
        let d = a as f64 - n;
        if !n.is_nan() {
            diff2 += d * d;
            norm2 += n * n;
            if d.abs() > 2e-3 * scale {
                return Err(format!(
                    "{what}[{i}]: analytic {a} numeric {n} (scale {scale})"
                ));
            }
        }
    }
    let rel = (diff2 / norm2).sqrt();
    if rel > 1e-3 {
        return Err(format!("{what}: relative error norm {rel:e}"));
    }
    Ok(())
}

struct Case {
    layer: Dense,
    /// The same tensors with the identity activation: pre-activations, used
    /// to see whether a step crosses ReLU's kink.
    linear: Dense,
    rows: usize,
    params: Vec<f32>,
    x: Vec<f32>,
    r: Vec<f32>,
}

impl Case {
    fn new(act: Activation, rows: usize, inputs: usize, outputs: usize, id: u32) -> Self {
        let mut layout = ParamLayout::new();
        let layer = Dense::new(&mut layout, "fc", inputs, outputs, act);
        let linear = Dense::from_layout(&layout, "fc", Activation::Identity).unwrap();
        let mut params = vec![0.0; layout.len()];
        layer
            .init(&mut stream(77, "init", id, 0), &mut params)
            .unwrap();
        // Larger than PyTorch's bound so that tanh and sigmoid work in their
        // curved range, where a missing derivative shows.
        params.iter_mut().for_each(|p| *p *= 3.0);
        Self {
            layer,
            linear,
            rows,
            params,
            x: random(rows * inputs, 1.0, id * 10 + 1),
            r: random(rows * outputs, 1.0, id * 10 + 2),
        }
    }

    fn loss(&self, params: &[f32], x: &[f32]) -> f64 {
        let mut y = vec![0.0; self.rows * self.layer.outputs()];
        self.layer
            .forward(&Cpu, self.rows, &params.to_vec(), &x.to_vec(), &mut y)
            .unwrap();
        y.iter()
            .zip(&self.r)
            .map(|(&y, &r)| y as f64 * r as f64)
            .sum()
    }

    fn signs(&self, params: &[f32], x: &[f32]) -> Vec<bool> {
        let mut z = vec![0.0; self.rows * self.layer.outputs()];
        self.linear
            .forward(&Cpu, self.rows, &params.to_vec(), &x.to_vec(), &mut z)
            .unwrap();
        z.iter().map(|&v| v > 0.0).collect()
    }

    /// Central differences over every parameter (`wrt_x` false) or every
    /// input; NaN where a ReLU step crosses the kink (no derivative there).
    fn numeric(&self, wrt_x: bool) -> Vec<f64> {
        let n = if wrt_x {
            self.x.len()
        } else {
            self.params.len()
        };
        (0..n)
            .map(|i| {
                let (mut p_plus, mut p_minus) = (self.params.clone(), self.params.clone());
                let (mut x_plus, mut x_minus) = (self.x.clone(), self.x.clone());
                let (plus, minus) = if wrt_x {
                    (&mut x_plus[i], &mut x_minus[i])
                } else {
                    (&mut p_plus[i], &mut p_minus[i])
                };
                *plus += H;
                *minus -= H;
                let step = *plus as f64 - *minus as f64;
                if self.layer.activation() == Activation::Relu
                    && self.signs(&p_plus, &x_plus) != self.signs(&p_minus, &x_minus)
                {
                    return f64::NAN;
                }
                (self.loss(&p_plus, &x_plus) - self.loss(&p_minus, &x_minus)) / step
            })
            .collect()
    }

    /// Analytic gradients: (parameter gradients, input gradient).
    fn analytic(&self) -> (Vec<f32>, Vec<f32>) {
        let outs = self.rows * self.layer.outputs();
        let mut y = vec![0.0; outs];
        self.layer
            .forward(&Cpu, self.rows, &self.params, &self.x, &mut y)
            .unwrap();
        let mut grads = vec![0.0; self.params.len()];
        let mut dz = vec![f32::NAN; outs];
        let mut dx = vec![f32::NAN; self.x.len()];
        self.layer
            .backward(
                &Cpu,
                self.rows,
                &self.params,
                &self.x,
                &y,
                &self.r,
                &mut dz,
                &mut grads,
                InputGrad::Overwrite(&mut dx),
            )
            .unwrap();
        (grads, dx)
    }

    /// Gradients with the activation derivative left out (dz = dy).
    fn analytic_without_derivative(&self) -> (Vec<f32>, Vec<f32>) {
        let mut grads = vec![0.0; self.params.len()];
        let mut dx = vec![0.0; self.x.len()];
        let y = vec![0.0; self.r.len()];
        self.linear
            .backward(
                &Cpu,
                self.rows,
                &self.params,
                &self.x,
                &y,
                &self.r,
                &mut Vec::new(),
                &mut grads,
                InputGrad::Overwrite(&mut dx),
            )
            .unwrap();
        (grads, dx)
    }
}

#[test]
fn dense_backward_matches_finite_differences_for_every_activation() {
    let (rows, inputs, outputs) = (5, 7, 6);
    for (id, act) in ACTS.into_iter().enumerate() {
        let case = Case::new(act, rows, inputs, outputs, id as u32);
        let (grads, dx) = case.analytic();
        let num_p = case.numeric(false);
        let num_x = case.numeric(true);
        let skipped = num_p.iter().chain(&num_x).filter(|v| v.is_nan()).count();
        assert!(
            skipped * 10 < num_p.len() + num_x.len(),
            "{act:?}: {skipped} entries sit on ReLU's kink"
        );
        let (w, b) = (case.layer.weight_range(), case.layer.bias_range());
        let name = |t: &str| format!("{act:?} {t}");
        check(&name("weight"), &grads[w.clone()], &num_p[w.clone()]).unwrap();
        check(&name("bias"), &grads[b.clone()], &num_p[b.clone()]).unwrap();
        check(&name("input"), &dx, &num_x).unwrap();

        // The same check rejects each of these bugs.
        let neg = |v: &[f32]| v.iter().map(|x| -x).collect::<Vec<_>>();
        assert!(check("", &neg(&grads[w.clone()]), &num_p[w.clone()]).is_err());
        assert!(check("", &neg(&grads[b.clone()]), &num_p[b.clone()]).is_err());
        assert!(check("", &neg(&dx), &num_x).is_err());

        let transposed: Vec<f32> = (0..outputs * inputs)
            .map(|k| grads[w.start + (k % inputs) * outputs + k / inputs])
            .collect();
        assert!(check("", &transposed, &num_p[w.clone()]).is_err());

        // Bias gradient summed over all rows but the last.
        let mut y = vec![0.0; rows * outputs];
        case.layer
            .forward(&Cpu, rows, &case.params, &case.x, &mut y)
            .unwrap();
        let mut dz = vec![0.0; rows * outputs];
        vaeser::backend::cpu::simd::act_backward(act, &y, &case.r, &mut dz);
        let mut short_db = vec![0.0; outputs];
        vaeser::backend::cpu::simd::col_sum(
            outputs,
            &dz[..(rows - 1) * outputs],
            &mut short_db,
            false,
        );
        assert!(check("", &short_db, &num_p[b.clone()]).is_err());

        if act != Activation::Identity {
            let (g0, dx0) = case.analytic_without_derivative();
            assert!(check("", &g0[w.clone()], &num_p[w.clone()]).is_err());
            assert!(check("", &g0[b.clone()], &num_p[b.clone()]).is_err());
            assert!(check("", &dx0, &num_x).is_err());
        }
    }
}

/// Two layers chained: the first layer's parameter gradients depend on the
/// second's input gradient being right.
#[test]
fn two_layer_chain_matches_finite_differences() {
    let (rows, inputs, hidden, outputs) = (4, 5, 8, 3);
    let mut layout = ParamLayout::new();
    let l1 = Dense::new(&mut layout, "l1", inputs, hidden, Activation::Tanh);
    let l2 = Dense::new(&mut layout, "l2", hidden, outputs, Activation::Sigmoid);
    let mut params = vec![0.0; layout.len()];
    let mut rng = stream(78, "init", 0, 0);
    l1.init(&mut rng, &mut params).unwrap();
    l2.init(&mut rng, &mut params).unwrap();
    params.iter_mut().for_each(|p| *p *= 3.0);
    let x = random(rows * inputs, 1.0, 900);
    let r = random(rows * outputs, 1.0, 901);

    let forward = |p: &Vec<f32>| {
        let mut h = vec![0.0; rows * hidden];
        let mut y = vec![0.0; rows * outputs];
        l1.forward(&Cpu, rows, p, &x, &mut h).unwrap();
        l2.forward(&Cpu, rows, p, &h, &mut y).unwrap();
        (h, y)
    };
    let loss = |p: &Vec<f32>| -> f64 {
        let (_, y) = forward(p);
        y.iter().zip(&r).map(|(&y, &r)| y as f64 * r as f64).sum()
    };

    let (h, y) = forward(&params);
    let mut grads = vec![0.0; params.len()];
    let mut dz = vec![0.0; rows * hidden];
    let mut dh = vec![0.0; rows * hidden];
    l2.backward(
        &Cpu,
        rows,
        &params,
        &h,
        &y,
        &r,
        &mut dz,
        &mut grads,
        InputGrad::Overwrite(&mut dh),
    )
    .unwrap();
    l1.backward(
        &Cpu,
        rows,
        &params,
        &x,
        &h,
        &dh,
        &mut dz,
        &mut grads,
        InputGrad::Skip,
    )
    .unwrap();

    let numeric: Vec<f64> = (0..params.len())
        .map(|i| {
            let (mut a, mut b) = (params.clone(), params.clone());
            a[i] += H;
            b[i] -= H;
            (loss(&a) - loss(&b)) / (a[i] as f64 - b[i] as f64)
        })
        .collect();
    for t in layout.entries() {
        check(&t.name, &grads[t.range.clone()], &numeric[t.range.clone()]).unwrap();
    }
}
