//! The LSTM: gradient checks of the fused cell and of a 2-layer stack over a
//! padded batch of sequences of different lengths (w.r.t. every weight, bias
//! and input), padding invariance, and determinism of a short training loop.
//!
//! Finite differences: central, step 5e-3 on f32 parameters, loss accumulated
//! in f64 from the f32 outputs. Measured errors stay below ~5e-5 (f32
//! rounding of the forward pass divided by the step, plus O(step^2)
//! truncation); the tolerance `5e-4 + 2e-3 |g|` leaves a 10x margin, and
//! every check also asserts that a gradient with one sign flipped, one entry
//! halved (a missing term) or two entries swapped (a transposed index) fails.
//! (Transposing W_hh in the recurrent GEMM of the backward pass, reading
//! h_t instead of h_{t-1} in the dW_hh GEMM, or dropping the gradient carried
//! past a sequence's end each make these tests fail.)

mod common;

use common::backends::{assert_batch_invariant, download, upload};
use common::gradcheck::FiniteDifferences;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vaeser::backend::cpu::lstm_cell;
use vaeser::backend::Backend;
use vaeser::nn::lstm::{Lstm, LstmWorkspace};
use vaeser::nn::params::ParamLayout;

const FD: FiniteDifferences = FiniteDifferences {
    step: 5e-3,
    atol: 5e-4,
    rtol: 2e-3,
};

/// Asserts that `FD` accepts `good` and rejects the usual mistakes.
fn assert_check_discriminates(name: &str, good: &[f32], numeric: &[f64]) {
    FD.assert_check_discriminates(name, good, numeric, 2e-4, 0.05);
}

fn random(rng: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
}

/// The CPU's fused cell kernel (the other backends are compared with the
/// CPU's results): step 1 of sequences of lengths 2 (active) or 1 (past
/// their end).
#[test]
fn cell_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(201);
    let (batch, hidden) = (3, 9); // a vector chunk and a scalar tail per gate
    let lengths = [2, 1, 2];
    let state = batch * hidden;
    let pre = random(&mut rng, 4 * state, 2.0);
    let bias = random(&mut rng, 4 * hidden, 0.5);
    let c_prev = random(&mut rng, state, 1.5);
    let h_prev = random(&mut rng, state, 1.0);
    // Loss = sum(wc * c) + sum(wh * h): dc = wc, dh = wh.
    let wc = random(&mut rng, state, 1.0);
    let wh = random(&mut rng, state, 1.0);
    let run = |pre: &[f32], c_prev: &[f32], h_prev: &[f32]| {
        let mut gates = pre.to_vec();
        let mut c = [c_prev, &vec![0.0; state]].concat();
        let mut h = [h_prev, &vec![0.0; state]].concat();
        lstm_cell::forward(hidden, 1, &lengths, &bias, &mut gates, &mut c, &mut h);
        (gates, c[state..].to_vec(), h[state..].to_vec())
    };
    let loss = |pre: &[f32], c_prev: &[f32], h_prev: &[f32]| -> f64 {
        let (_, c, h) = run(pre, c_prev, h_prev);
        let lc: f64 = c.iter().zip(&wc).map(|(&a, &b)| a as f64 * b as f64).sum();
        lc + h
            .iter()
            .zip(&wh)
            .map(|(&a, &b)| a as f64 * b as f64)
            .sum::<f64>()
    };
    let (gates, c, _) = run(&pre, &c_prev, &h_prev);
    let mut dc = wc.clone();
    let mut dgates = vec![0.0; 4 * state];
    let mut dh_prev = vec![0.0; state];
    lstm_cell::backward(
        hidden,
        1,
        &lengths,
        &gates,
        &c_prev,
        &c,
        &wh,
        &mut dc,
        &mut dgates,
        &mut dh_prev,
    );
    let num_pre = FD.numeric_gradient(&mut pre.clone(), |p| loss(p, &c_prev, &h_prev));
    let num_c = FD.numeric_gradient(&mut c_prev.clone(), |cp| loss(&pre, cp, &h_prev));
    // h_prev enters the cell only through the carry of inactive rows (the
    // recurrent GEMM, outside the cell, handles the rest).
    let num_h = FD.numeric_gradient(&mut h_prev.clone(), |hp| loss(&pre, &c_prev, hp));
    assert_check_discriminates("dgates", &dgates, &num_pre);
    assert_check_discriminates("dc_prev", &dc, &num_c);
    assert_check_discriminates("dh_prev (carry)", &dh_prev, &num_h);
}

/// A 2-layer LSTM with its parameters, a padded batch and a loss that reads
/// every output step (padded ones included) and the final state.
struct Setup {
    lstm: Lstm,
    layout: ParamLayout,
    params: Vec<f32>,
    x: Vec<f32>,
    steps: usize,
    batch: usize,
    lengths: Vec<usize>,
    w_out: Vec<f32>,
    w_final: Vec<f32>,
}

impl Setup {
    fn new(seed: u64, input: usize, hidden: usize, steps: usize, lengths: &[usize]) -> Self {
        let mut layout = ParamLayout::new();
        let lstm = Lstm::new(&mut layout, "lstm", input, hidden, 2).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut params = vec![0.0; layout.len()];
        lstm.init(&mut rng, &mut params).unwrap();
        // Larger than PyTorch's init so that every gate is far from linear.
        params.iter_mut().for_each(|p| *p *= 2.0);
        let batch = lengths.len();
        let mut x = random(&mut rng, steps * batch * input, 1.0);
        // Padding holds garbage: it must never matter.
        for t in 0..steps {
            for (b, &len) in lengths.iter().enumerate() {
                if t >= len {
                    x[(t * batch + b) * input..][..input].fill(37.0);
                }
            }
        }
        let w_out = random(&mut rng, steps * batch * hidden, 1.0);
        let w_final = random(&mut rng, batch * hidden, 1.0);
        Self {
            lstm,
            layout,
            params,
            x,
            steps,
            batch,
            lengths: lengths.to_vec(),
            w_out,
            w_final,
        }
    }

    fn forward<B: Backend>(&self, be: &B, params: &[f32], x: &[f32], ws: &mut LstmWorkspace<B>) {
        self.lstm
            .forward(
                be,
                &upload(be, params),
                &upload(be, x),
                self.steps,
                self.batch,
                &self.lengths,
                ws,
            )
            .unwrap();
    }

    /// (outputs of every step, final hidden states) of the last forward pass.
    fn results<B: Backend>(&self, be: &B, ws: &LstmWorkspace<B>) -> (Vec<f32>, Vec<f32>) {
        let fetch = |v: B::View<'_>, n: usize| {
            let mut out = vec![0.0; n];
            be.download(v, &mut out).unwrap();
            out
        };
        let hidden = self.lstm.hidden();
        (
            fetch(ws.outputs(be).unwrap(), self.steps * self.batch * hidden),
            fetch(ws.final_hidden(be).unwrap(), self.batch * hidden),
        )
    }

    fn loss<B: Backend>(
        &self,
        be: &B,
        params: &[f32],
        x: &[f32],
        ws: &mut LstmWorkspace<B>,
    ) -> f64 {
        self.forward(be, params, x, ws);
        let dot = |a: &[f32], b: &[f32]| -> f64 {
            a.iter().zip(b).map(|(&a, &b)| a as f64 * b as f64).sum()
        };
        let (out, last) = self.results(be, ws);
        dot(&out, &self.w_out) + dot(&last, &self.w_final)
    }

    /// Parameter and input gradients of `loss` from the backward pass.
    fn gradients<B: Backend>(
        &self,
        be: &B,
        ws: &mut LstmWorkspace<B>,
        d_out: Option<&[f32]>,
        d_final: Option<&[f32]>,
    ) -> (Vec<f32>, Vec<f32>) {
        self.forward(be, &self.params, &self.x, ws);
        let mut grads = upload(be, &vec![0.0; self.layout.len()]);
        let mut dx = upload(be, &vec![f32::NAN; self.x.len()]);
        let d_out = d_out.map(|d| upload(be, d));
        let d_final = d_final.map(|d| upload(be, d));
        self.lstm
            .backward(
                be,
                &upload(be, &self.params),
                &upload(be, &self.x),
                ws,
                d_out.as_ref(),
                d_final.as_ref(),
                &mut grads,
                Some(&mut dx),
            )
            .unwrap();
        (download(be, &grads), download(be, &dx))
    }
}

on_each_backend!(
    two_layer_gradient_over_sequences_of_different_lengths,
    two_layer_gradient
);
fn two_layer_gradient<B: Backend>(be: &B) {
    let (input, hidden, steps) = (3, 9, 5);
    let s = Setup::new(202, input, hidden, steps, &[5, 2, 4]);
    let mut ws = s.lstm.workspace(be, steps, 3).unwrap();
    let (grads, dx) = s.gradients(be, &mut ws, Some(&s.w_out), Some(&s.w_final));

    for entry in s.layout.entries() {
        let r = entry.range.clone();
        let num = FD.numeric_gradient(&mut s.params[r.clone()].to_vec(), |slice| {
            let mut p = s.params.clone();
            p[r.clone()].copy_from_slice(slice);
            s.loss(be, &p, &s.x, &mut ws)
        });
        assert_check_discriminates(&entry.name, &grads[r], &num);
    }
    let num_x = FD.numeric_gradient(&mut s.x.clone(), |x| s.loss(be, &s.params, x, &mut ws));
    assert_check_discriminates("dx", &dx, &num_x);
    for t in 0..steps {
        for (b, &len) in s.lengths.iter().enumerate() {
            if t >= len {
                let row = (t * s.batch + b) * input..(t * s.batch + b + 1) * input;
                assert!(
                    dx[row.clone()].iter().all(|&v| v == 0.0),
                    "padding gets no gradient"
                );
                assert!(
                    num_x[row].iter().all(|&v| v == 0.0),
                    "padding is never read"
                );
            }
        }
    }
    // b_ih and b_hh enter only as their sum: identical gradients.
    for k in 0..2 {
        let bi = s
            .layout
            .get(&format!("lstm.bias_ih_l{k}"))
            .unwrap()
            .range
            .clone();
        let bh = s
            .layout
            .get(&format!("lstm.bias_hh_l{k}"))
            .unwrap()
            .range
            .clone();
        assert_eq!(grads[bi], grads[bh]);
    }
}

on_each_backend!(
    output_and_final_gradients_combine_exactly,
    output_and_final_gradients
);
fn output_and_final_gradients<B: Backend>(be: &B) {
    let (input, hidden, steps) = (4, 8, 6);
    let s = Setup::new(203, input, hidden, steps, &[6, 3, 1, 5]);
    let mut ws = s.lstm.workspace(be, steps, 4).unwrap();
    let state = s.batch * hidden;
    // d_final is the gradient w.r.t. the last block of the outputs.
    let mut folded = s.w_out.clone();
    for (f, w) in folded[(steps - 1) * state..].iter_mut().zip(&s.w_final) {
        *f += w;
    }
    let both = s.gradients(be, &mut ws, Some(&s.w_out), Some(&s.w_final));
    assert_eq!(both, s.gradients(be, &mut ws, Some(&folded), None));
    let mut only_final = vec![0.0; steps * state];
    only_final[(steps - 1) * state..].copy_from_slice(&s.w_final);
    let a = s.gradients(be, &mut ws, None, Some(&s.w_final));
    assert_eq!(a, s.gradients(be, &mut ws, Some(&only_final), None));
    assert!(a.0.iter().any(|&g| g != 0.0));
    // Gradients accumulate into `grads`.
    s.forward(be, &s.params, &s.x, &mut ws);
    let mut twice = upload(be, &vec![0.0; s.layout.len()]);
    let (params, x, w_final) = (
        upload(be, &s.params),
        upload(be, &s.x),
        upload(be, &s.w_final),
    );
    for _ in 0..2 {
        s.lstm
            .backward(
                be,
                &params,
                &x,
                &mut ws,
                None,
                Some(&w_final),
                &mut twice,
                None,
            )
            .unwrap();
    }
    for (t, g) in download(be, &twice).iter().zip(&a.0) {
        assert_eq!(*t, 2.0 * g);
    }
}

on_each_backend!(padding_never_changes_a_sequence, padding_invariance);
/// A sequence alone gives the outputs and gradients it gets inside a padded
/// batch next to longer and shorter sequences: padded steps only carry
/// state, and the other sequences add exact zeros to the weight gradients
/// (their loss gradient is zero). Bit for bit on the CPU, whose GEMMs
/// compute every row of C the same way whatever the number of rows; within
/// `BATCH_TOLERANCE` on a backend that does not promise that.
fn padding_invariance<B: Backend>(be: &B) {
    let (input, hidden) = (5, 12);
    let len = 4;
    let batch = Setup::new(204, input, hidden, 7, &[7, len, 2]);
    let target = 1;
    // The same parameters and sequence, alone.
    let mut alone = Setup::new(204, input, hidden, len, &[len]);
    alone.params = batch.params.clone();
    alone.x = (0..len)
        .flat_map(|t| batch.x[(t * 3 + target) * input..][..input].to_vec())
        .collect();
    alone.w_final = batch.w_final[target * hidden..][..hidden].to_vec();

    let mut ws_b = batch.lstm.workspace(be, 7, 3).unwrap();
    let mut ws_a = alone.lstm.workspace(be, len, 1).unwrap();
    batch.forward(be, &batch.params, &batch.x, &mut ws_b);
    alone.forward(be, &alone.params, &alone.x, &mut ws_a);
    let (out_b, final_b) = batch.results(be, &ws_b);
    let (out_a, final_a) = alone.results(be, &ws_a);
    assert_batch_invariant::<B>(
        "final state",
        &final_a[..],
        &final_b[target * hidden..][..hidden],
    );
    for t in 0..len {
        assert_batch_invariant::<B>(
            &format!("output at step {t}"),
            &out_a[t * hidden..][..hidden],
            &out_b[(t * 3 + target) * hidden..][..hidden],
        );
    }

    let mut d_final_b = vec![0.0; 3 * hidden];
    d_final_b[target * hidden..][..hidden].copy_from_slice(&alone.w_final);
    let (gb, dxb) = batch.gradients(be, &mut ws_b, None, Some(&d_final_b));
    let (ga, dxa) = alone.gradients(be, &mut ws_a, None, Some(&alone.w_final));
    assert_batch_invariant::<B>("weight gradients", &ga, &gb);
    assert!(ga.iter().any(|&g| g != 0.0));
    for t in 0..len {
        assert_batch_invariant::<B>(
            &format!("input gradient at step {t}"),
            &dxa[t * input..][..input],
            &dxb[(t * 3 + target) * input..][..input],
        );
    }
}

/// 20 Adam steps on random data, each a forward pass, a squared-error loss on
/// the final states and a backward pass; returns the final parameters. The
/// shapes are large enough for the GEMMs and the cell kernels to split work
/// over threads. Also returns the first and the last loss.
fn train<B: Backend>(be: &B, seed: u64) -> (Vec<f32>, f32, f32) {
    use vaeser::config::AdamPreset;
    use vaeser::nn::adam::Adam;
    use vaeser::nn::loss;
    let (input, hidden, steps, batch) = (16, 128, 6, 128);
    let mut layout = ParamLayout::new();
    let lstm = Lstm::new(&mut layout, "lstm", input, hidden, 2).unwrap();
    let mut host_params = vec![0.0; layout.len()];
    lstm.init(
        &mut vaeser::rng::stream(seed, "init", 0, 0),
        &mut host_params,
    )
    .unwrap();
    let n = layout.len();
    let mut params = upload(be, &host_params);
    let mut grads = upload(be, &vec![0.0; n]);
    let mut adam = Adam::new(be, n, 1e-2, AdamPreset::Default).unwrap();
    let mut ws = lstm.workspace(be, steps, batch).unwrap();
    let mut data = vaeser::rng::stream(seed, "data", 0, 0);
    let x = upload(be, &random(&mut data, steps * batch * input, 1.0));
    let lengths: Vec<usize> = (0..batch).map(|_| data.gen_range(1..=steps)).collect();
    let target = upload(be, &random(&mut data, batch * hidden, 0.5));
    let mut h_last = upload(be, &vec![0.0; batch * hidden]);
    let mut d_final = upload(be, &vec![0.0; batch * hidden]);
    let mut losses = upload(be, &[0.0; 20]);
    for step in 0..20 {
        lstm.forward(be, &params, &x, steps, batch, &lengths, &mut ws)
            .unwrap();
        ws.copy_final_hidden(be, &mut h_last).unwrap();
        let slot = be.view_mut(&mut losses, step..step + 1);
        loss::sse(be, batch, hidden, &h_last, &target, &mut d_final, slot).unwrap();
        be.fill(be.view_mut(&mut grads, 0..n), 0.0).unwrap();
        lstm.backward(
            be,
            &params,
            &x,
            &mut ws,
            None,
            Some(&d_final),
            &mut grads,
            None,
        )
        .unwrap();
        adam.step(be, &mut params, &grads).unwrap();
    }
    let losses = download(be, &losses);
    (download(be, &params), losses[0], losses[19])
}

on_each_backend!(
    training_is_bit_identical_across_threads_and_runs,
    determinism
);
fn determinism<B: Backend>(be: &B) {
    let in_pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| train(be, 7))
    };
    // Compared as bits: `==` on floats would let -0.0 pass for 0.0.
    let bits = |(p, first, last): (Vec<f32>, f32, f32)| {
        let mut b: Vec<u32> = p.iter().map(|x| x.to_bits()).collect();
        b.extend([first.to_bits(), last.to_bits()]);
        b
    };
    let one = in_pool(1);
    let (first, last) = (one.1, one.2);
    assert!(
        last < 0.8 * first,
        "training does not learn: loss {first} -> {last}"
    );
    let one = bits(one);
    assert!(one == bits(in_pool(2)), "1 vs 2 threads differ");
    assert!(
        one == bits(in_pool(2)),
        "two runs with the same seed differ"
    );
}
