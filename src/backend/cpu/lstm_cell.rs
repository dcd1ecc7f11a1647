//! The fused pointwise part of one LSTM time step (gate order i, f, g, o, as
//! PyTorch), forward and backward, over a batch of rows.
//!
//! Per row of `gates: [batch, 4H]` the four gate blocks are `H` wide and
//! processed in `f32x8` chunks (the activations of `vec::math`) with a
//! scalar tail (the standard library's `exp` and `tanh`). A value's position inside
//! its row alone decides whether it goes through the vector or the scalar
//! path, so a row's result never depends on the batch it sits in (padding
//! invariance holds bit for bit).
//!
//! Rows are independent, so large batches are split over rayon by rows: each
//! thread writes disjoint rows and nothing is reduced, so results do not
//! depend on the thread count.

use super::vec::lanes8::{load, store};
use super::vec::math::{sigmoid8, tanh8};
use rayon::prelude::*;
use wide::f32x8;

/// Below this many state values per step the rayon split costs more than it
/// saves: a step of the classifier (32 x 128 values) is some 20-30 us of
/// work, a rayon split a few us.
const PAR_MIN_VALUES: usize = 1 << 12;

/// One row of the zipped forward buffers: (gates, c, h) written, (c_prev, h_prev) read.
type ForwardRow<'a> = (
    usize,
    (
        ((&'a mut [f32], &'a mut [f32]), &'a mut [f32]),
        (&'a [f32], &'a [f32]),
    ),
);
/// One row of the zipped backward buffers: (dgates, dc, dh_carry) written,
/// (gates, c_prev) and (c, dh) read.
type BackwardRow<'a> = (
    usize,
    (
        (
            ((&'a mut [f32], &'a mut [f32]), &'a mut [f32]),
            (&'a [f32], &'a [f32]),
        ),
        (&'a [f32], &'a [f32]),
    ),
);

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Forward of step `step`: `gates: [batch, 4H]` holds the pre-activations
/// (bias not yet added) on entry and the activated gates on exit; `bias:
/// [4H]`; `c` and `h` are `[2, batch, H]`: previous state in the first
/// block, new state in the second. Sequence `b` is active while `step <
/// lengths[b]`; past its end its state is carried and its gate row untouched.
pub fn forward(
    hidden: usize,
    step: usize,
    lengths: &[u32],
    bias: &[f32],
    gates: &mut [f32],
    c: &mut [f32],
    h: &mut [f32],
) {
    let batch = lengths.len();
    let state = batch * hidden;
    assert_eq!(bias.len(), 4 * hidden, "lstm bias length");
    assert_eq!(gates.len(), 4 * state, "lstm gates length");
    assert_eq!(c.len(), 2 * state, "lstm cell state length");
    assert_eq!(h.len(), 2 * state, "lstm hidden state length");
    if hidden == 0 {
        return;
    }
    let (c_prev, c) = c.split_at_mut(state);
    let (h_prev, h) = h.split_at_mut(state);
    let (c_prev, h_prev) = (&*c_prev, &*h_prev);
    let row = |(b, (((g, c), h), (cp, hp))): ForwardRow| {
        if step < lengths[b] as usize {
            forward_row(hidden, bias, g, cp, c, h);
        } else {
            c.copy_from_slice(cp);
            h.copy_from_slice(hp);
        }
    };
    if state >= PAR_MIN_VALUES && rayon::current_num_threads() > 1 {
        gates
            .par_chunks_mut(4 * hidden)
            .zip(c.par_chunks_mut(hidden))
            .zip(h.par_chunks_mut(hidden))
            .zip(c_prev.par_chunks(hidden).zip(h_prev.par_chunks(hidden)))
            .enumerate()
            .for_each(row);
    } else {
        gates
            .chunks_mut(4 * hidden)
            .zip(c.chunks_mut(hidden))
            .zip(h.chunks_mut(hidden))
            .zip(c_prev.chunks(hidden).zip(h_prev.chunks(hidden)))
            .enumerate()
            .for_each(row);
    }
}

fn forward_row(
    hidden: usize,
    bias: &[f32],
    gates: &mut [f32],
    c_prev: &[f32],
    c: &mut [f32],
    h: &mut [f32],
) {
    let (gi, rest) = gates.split_at_mut(hidden);
    let (gf, rest) = rest.split_at_mut(hidden);
    let (gg, go) = rest.split_at_mut(hidden);
    forward_span(
        hidden - hidden % 8,
        ForwardSpan {
            gates: [gi, gf, gg, go],
            bias: [
                &bias[..hidden],
                &bias[hidden..2 * hidden],
                &bias[2 * hidden..3 * hidden],
                &bias[3 * hidden..4 * hidden],
            ],
            c_prev,
            c,
            h,
        },
    );
}

/// One row's view of a run of consecutive hidden units `j0 .. j0 + n` of one
/// step: the four gate blocks (i, f, g, o), the bias, the previous and the
/// new state, each `n` long. A whole row is the run `0 .. H`; the packed
/// recurrence (`lstm_packed`) hands the cell one block of units at a time.
pub(super) struct ForwardSpan<'a> {
    /// Pre-activations (bias not yet added) on entry, activated gates on exit.
    pub gates: [&'a mut [f32]; 4],
    pub bias: [&'a [f32]; 4],
    pub c_prev: &'a [f32],
    pub c: &'a mut [f32],
    pub h: &'a mut [f32],
}

/// The cell over one span. Its first `vector` units (a multiple of 8) take
/// the `f32x8` path, the rest the scalar one: callers pass the units of the
/// span that lie below the row's `H - H % 8`, so that a unit's arithmetic
/// depends only on its position in the row, never on how the row was cut.
#[inline]
pub(super) fn forward_span(vector: usize, s: ForwardSpan<'_>) {
    let ForwardSpan {
        gates: [gi, gf, gg, go],
        bias: [bi, bf, bg, bo],
        c_prev,
        c,
        h,
    } = s;
    let n = c.len();
    debug_assert!(vector % 8 == 0 && vector <= n, "vector units");
    for j in (0..vector).step_by(8) {
        let i = sigmoid8(load(gi, j) + load(bi, j));
        let f = sigmoid8(load(gf, j) + load(bf, j));
        let g = tanh8(load(gg, j) + load(bg, j));
        let o = sigmoid8(load(go, j) + load(bo, j));
        let cj = f.mul_add(load(c_prev, j), i * g);
        store(gi, j, i);
        store(gf, j, f);
        store(gg, j, g);
        store(go, j, o);
        store(c, j, cj);
        store(h, j, o * tanh8(cj));
    }
    for j in vector..n {
        let i = sigmoid(gi[j] + bi[j]);
        let f = sigmoid(gf[j] + bf[j]);
        let g = (gg[j] + bg[j]).tanh();
        let o = sigmoid(go[j] + bo[j]);
        let cj = f.mul_add(c_prev[j], i * g);
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        c[j] = cj;
        h[j] = o * cj.tanh();
    }
}

/// Backward of step `step`. Inputs: the activated `gates`, `c_prev`, `c`
/// (each `[batch, H]`), and the incoming gradients `dh` (from above and from
/// the next step, already summed) and `dc` (from the next step). Outputs:
/// `dgates: [batch, 4H]` (gradient of the pre-activations; zero for inactive
/// rows), and in place `dc` becomes the gradient w.r.t. `c_prev`.
/// `dh_carry` holds on entry whatever gradient w.r.t. `h_prev` has been
/// collected so far; rows of inactive sequences get `dh` added (their
/// carried state passes its gradient back unchanged), rows of active ones
/// are left alone (the recurrent GEMM adds their part).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    hidden: usize,
    step: usize,
    lengths: &[u32],
    gates: &[f32],
    c_prev: &[f32],
    c: &[f32],
    dh: &[f32],
    dc: &mut [f32],
    dgates: &mut [f32],
    dh_carry: &mut [f32],
) {
    let batch = lengths.len();
    let state = batch * hidden;
    assert_eq!(gates.len(), 4 * state, "lstm gates length");
    assert_eq!(dgates.len(), 4 * state, "lstm gate gradient length");
    for (name, len) in [
        ("c_prev", c_prev.len()),
        ("c", c.len()),
        ("dh", dh.len()),
        ("dc", dc.len()),
        ("dh_carry", dh_carry.len()),
    ] {
        assert_eq!(len, state, "lstm backward: length of {name}");
    }
    if hidden == 0 {
        return;
    }
    let row = |(b, ((((dg, dc), carry), (g, cp)), (c, dh))): BackwardRow| {
        if step < lengths[b] as usize {
            backward_row(hidden, g, cp, c, dh, dc, dg);
        } else {
            // The carried state passes its gradient back unchanged: `dc`
            // stays as it is and `dh` joins what h_prev already collected.
            dg.fill(0.0);
            for (k, d) in carry.iter_mut().zip(dh) {
                *k += d;
            }
        }
    };
    if state >= PAR_MIN_VALUES && rayon::current_num_threads() > 1 {
        dgates
            .par_chunks_mut(4 * hidden)
            .zip(dc.par_chunks_mut(hidden))
            .zip(dh_carry.par_chunks_mut(hidden))
            .zip(gates.par_chunks(4 * hidden).zip(c_prev.par_chunks(hidden)))
            .zip(c.par_chunks(hidden).zip(dh.par_chunks(hidden)))
            .enumerate()
            .for_each(row);
    } else {
        dgates
            .chunks_mut(4 * hidden)
            .zip(dc.chunks_mut(hidden))
            .zip(dh_carry.chunks_mut(hidden))
            .zip(gates.chunks(4 * hidden).zip(c_prev.chunks(hidden)))
            .zip(c.chunks(hidden).zip(dh.chunks(hidden)))
            .enumerate()
            .for_each(row);
    }
}

fn backward_row(
    hidden: usize,
    gates: &[f32],
    c_prev: &[f32],
    c: &[f32],
    dh: &[f32],
    dc: &mut [f32],
    dgates: &mut [f32],
) {
    let (di, rest) = dgates.split_at_mut(hidden);
    let (df, rest) = rest.split_at_mut(hidden);
    let (dg, d_o) = rest.split_at_mut(hidden);
    backward_span(
        hidden - hidden % 8,
        BackwardSpan {
            gates: [
                &gates[..hidden],
                &gates[hidden..2 * hidden],
                &gates[2 * hidden..3 * hidden],
                &gates[3 * hidden..4 * hidden],
            ],
            c_prev,
            c,
            dh,
            dc,
            dgates: [di, df, dg, d_o],
        },
    );
}

/// One row's view of a run of hidden units for the backward cell (see
/// [`ForwardSpan`]): the activated gates, the states around the step and
/// the incoming gradients; `dc` becomes the gradient w.r.t. `c_prev`.
pub(super) struct BackwardSpan<'a> {
    pub gates: [&'a [f32]; 4],
    pub c_prev: &'a [f32],
    pub c: &'a [f32],
    pub dh: &'a [f32],
    pub dc: &'a mut [f32],
    pub dgates: [&'a mut [f32]; 4],
}

/// The backward cell over one span; `vector` as in [`forward_span`].
#[inline]
pub(super) fn backward_span(vector: usize, s: BackwardSpan<'_>) {
    let BackwardSpan {
        gates: [gi, gf, gg, go],
        c_prev,
        c,
        dh,
        dc,
        dgates: [di, df, dg, d_o],
    } = s;
    let n = dc.len();
    debug_assert!(vector % 8 == 0 && vector <= n, "vector units");
    let one = f32x8::ONE;
    for j in (0..vector).step_by(8) {
        let (i, f, g, o) = (load(gi, j), load(gf, j), load(gg, j), load(go, j));
        let tc = tanh8(load(c, j));
        let dhj = load(dh, j);
        let dout = dhj * tc;
        let dct = (dhj * o).mul_add(one - tc * tc, load(dc, j));
        store(dc, j, dct * f);
        store(di, j, dct * g * i * (one - i));
        store(df, j, dct * load(c_prev, j) * f * (one - f));
        store(dg, j, dct * i * (one - g * g));
        store(d_o, j, dout * o * (one - o));
    }
    for j in vector..n {
        let (i, f, g, o) = (gi[j], gf[j], gg[j], go[j]);
        let tc = c[j].tanh();
        let dout = dh[j] * tc;
        let dct = (dh[j] * o).mul_add(1.0 - tc * tc, dc[j]);
        dc[j] = dct * f;
        di[j] = dct * g * i * (1.0 - i);
        df[j] = dct * c_prev[j] * f * (1.0 - f);
        dg[j] = dct * i * (1.0 - g * g);
        d_o[j] = dout * o * (1.0 - o);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Lengths that make sequence `b` active at step 1 exactly when `active[b]`.
    fn lengths(active: &[bool]) -> Vec<u32> {
        active.iter().map(|&a| if a { 2 } else { 1 }).collect()
    }

    fn sig(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// Plain f64 reference of the step, written from the PyTorch equations.
    #[allow(clippy::type_complexity)]
    fn reference(
        hidden: usize,
        active: &[bool],
        bias: &[f32],
        pre: &[f32],
        c_prev: &[f32],
        h_prev: &[f32],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut gates = vec![0.0; pre.len()];
        let mut c = vec![0.0; c_prev.len()];
        let mut h = vec![0.0; h_prev.len()];
        for (b, &act) in active.iter().enumerate() {
            for j in 0..hidden {
                let s = b * hidden + j;
                if !act {
                    c[s] = c_prev[s] as f64;
                    h[s] = h_prev[s] as f64;
                    continue;
                }
                let a =
                    |k: usize| (pre[b * 4 * hidden + k * hidden + j] + bias[k * hidden + j]) as f64;
                let (i, f, g, o) = (sig(a(0)), sig(a(1)), a(2).tanh(), sig(a(3)));
                for (k, v) in [i, f, g, o].into_iter().enumerate() {
                    gates[b * 4 * hidden + k * hidden + j] = v;
                }
                c[s] = f * c_prev[s] as f64 + i * g;
                h[s] = o * c[s].tanh();
            }
        }
        (gates, c, h)
    }

    fn random(rng: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
    }

    #[test]
    fn forward_matches_scalar_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for hidden in [1, 7, 8, 9, 23, 128] {
            let batch = 5;
            let active = [true, false, true, true, false];
            let bias = random(&mut rng, 4 * hidden, 1.0);
            // Large pre-activations exercise saturation of sigmoid and tanh.
            let pre = random(&mut rng, 4 * batch * hidden, 12.0);
            let c_prev = random(&mut rng, batch * hidden, 3.0);
            let h_prev = random(&mut rng, batch * hidden, 1.0);
            let (rg, rc, rh) = reference(hidden, &active, &bias, &pre, &c_prev, &h_prev);
            let mut gates = pre.clone();
            let mut c = [c_prev.clone(), vec![f32::NAN; batch * hidden]].concat();
            let mut h = [h_prev.clone(), vec![f32::NAN; batch * hidden]].concat();
            forward(
                hidden,
                1,
                &lengths(&active),
                &bias,
                &mut gates,
                &mut c,
                &mut h,
            );
            let state = batch * hidden;
            for (b, &act) in active.iter().enumerate() {
                if act {
                    for k in b * 4 * hidden..(b + 1) * 4 * hidden {
                        assert!(
                            (gates[k] as f64 - rg[k]).abs() < 1e-6,
                            "gate {k} H={hidden}"
                        );
                    }
                }
                for s in b * hidden..(b + 1) * hidden {
                    assert!(
                        (c[state + s] as f64 - rc[s]).abs() < 1e-5,
                        "c {s} H={hidden}"
                    );
                    assert!(
                        (h[state + s] as f64 - rh[s]).abs() < 1e-6,
                        "h {s} H={hidden}"
                    );
                    if !act {
                        assert_eq!(c[state + s], c_prev[s]);
                        assert_eq!(h[state + s], h_prev[s]);
                    }
                }
            }
            assert_eq!(&c[..state], &c_prev[..], "previous state untouched");
        }
    }

    #[test]
    fn backward_matches_scalar_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for hidden in [1, 7, 8, 9, 23] {
            let batch = 4;
            let active = [true, false, true, true];
            let bias = random(&mut rng, 4 * hidden, 1.0);
            let pre = random(&mut rng, 4 * batch * hidden, 3.0);
            let c_prev = random(&mut rng, batch * hidden, 2.0);
            let h_prev = random(&mut rng, batch * hidden, 1.0);
            let mut gates = pre.clone();
            let mut c = [c_prev.clone(), vec![0.0; batch * hidden]].concat();
            let mut h = [h_prev.clone(), vec![0.0; batch * hidden]].concat();
            forward(
                hidden,
                1,
                &lengths(&active),
                &bias,
                &mut gates,
                &mut c,
                &mut h,
            );
            let c_cur = c[batch * hidden..].to_vec();
            let dh = random(&mut rng, batch * hidden, 1.0);
            let dc_in = random(&mut rng, batch * hidden, 1.0);
            let carry_in = random(&mut rng, batch * hidden, 1.0);
            let mut dc = dc_in.clone();
            let mut dgates = vec![f32::NAN; 4 * batch * hidden];
            let mut carry = carry_in.clone();
            backward(
                hidden,
                1,
                &lengths(&active),
                &gates,
                &c_prev,
                &c_cur,
                &dh,
                &mut dc,
                &mut dgates,
                &mut carry,
            );
            for (b, &act) in active.iter().enumerate() {
                for j in 0..hidden {
                    let s = b * hidden + j;
                    let gi = |k: usize| b * 4 * hidden + k * hidden + j;
                    if !act {
                        assert_eq!(dc[s], dc_in[s]);
                        assert_eq!(carry[s], carry_in[s] + dh[s]);
                        for k in 0..4 {
                            assert_eq!(dgates[gi(k)], 0.0);
                        }
                        continue;
                    }
                    assert_eq!(carry[s], carry_in[s], "active rows leave the carry alone");
                    let (i, f, g, o) = (
                        gates[gi(0)] as f64,
                        gates[gi(1)] as f64,
                        gates[gi(2)] as f64,
                        gates[gi(3)] as f64,
                    );
                    let tc = (c_cur[s] as f64).tanh();
                    let dct = dc_in[s] as f64 + dh[s] as f64 * o * (1.0 - tc * tc);
                    let want = [
                        dct * g * i * (1.0 - i),
                        dct * c_prev[s] as f64 * f * (1.0 - f),
                        dct * i * (1.0 - g * g),
                        dh[s] as f64 * tc * o * (1.0 - o),
                    ];
                    for (k, w) in want.into_iter().enumerate() {
                        assert!(
                            (dgates[gi(k)] as f64 - w).abs() < 1e-6,
                            "dgate {k} H={hidden}"
                        );
                    }
                    assert!((dc[s] as f64 - dct * f).abs() < 1e-6);
                }
            }
        }
    }

    #[test]
    fn thread_count_does_not_change_results() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (batch, hidden) = (160, 129);
        let active: Vec<bool> = (0..batch).map(|b| b % 5 != 0).collect();
        let bias = random(&mut rng, 4 * hidden, 1.0);
        let pre = random(&mut rng, 4 * batch * hidden, 3.0);
        let c0 = random(&mut rng, 2 * batch * hidden, 2.0);
        let h0 = random(&mut rng, 2 * batch * hidden, 1.0);
        let dh = random(&mut rng, batch * hidden, 1.0);
        let dc0 = random(&mut rng, batch * hidden, 1.0);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let (mut g, mut c, mut h) = (pre.clone(), c0.clone(), h0.clone());
                forward(hidden, 1, &lengths(&active), &bias, &mut g, &mut c, &mut h);
                let (mut dc, mut dg, mut carry) = (dc0.clone(), vec![0.0; g.len()], dh.clone());
                let (cp, cc) = c.split_at(batch * hidden);
                backward(
                    hidden,
                    1,
                    &lengths(&active),
                    &g,
                    cp,
                    cc,
                    &dh,
                    &mut dc,
                    &mut dg,
                    &mut carry,
                );
                (g, c, h, dc, dg, carry)
            })
        };
        assert_eq!(run(1), run(2));
    }
}
