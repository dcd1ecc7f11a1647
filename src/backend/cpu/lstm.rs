//! The recurrence of one LSTM layer on the CPU. On a CPU with AVX-512 it
//! runs `lstm_packed` (`W_hh` packed once per call, a small-M kernel reusing
//! it at every step, the cell fused into the step); elsewhere the GEMM path
//! of this file: per step one recurrent GEMM (`h_{t-1} W_hh^T` added into
//! the step's gates) and one fused pointwise pass (`lstm_cell`), forward;
//! backward per step from the last, one fused pointwise pass and one GEMM
//! for the gradient w.r.t. `h_{t-1}`. The two give bit-identical results
//! (the GEMM path is also the reference the packed one is tested against).
//!
//! Sequences still running at step `t` need not be the leading rows, but
//! when a batch is sorted by decreasing length they are, and the per-step
//! GEMMs then skip the finished ones (`live_rows`): those only carry their
//! state, which the cell does without the GEMM's help. The rows a GEMM
//! skips are never read into a result, so skipping changes no value.

use super::{gemm, lstm_cell};
use crate::backend::{Gemm, LstmShape, Transpose};

/// Rows `0..live_rows` hold every sequence still running at `step`.
pub(super) fn live_rows(lengths: &[u32], step: usize) -> usize {
    lengths
        .iter()
        .rposition(|&len| step < len as usize)
        .map_or(0, |b| b + 1)
}

fn check(s: LstmShape, lengths: &[u32], w_hh: &[f32], gates: usize, state: usize) {
    let (h, g) = (s.hidden, 4 * s.hidden);
    assert_eq!(lengths.len(), s.batch, "lstm: one length per sequence");
    assert!(
        w_hh.len() >= g * h,
        "lstm: W_hh holds {} values",
        w_hh.len()
    );
    assert!(
        gates >= s.steps * s.batch * g,
        "lstm: gates hold {gates} values"
    );
    assert!(
        state >= (s.steps + 1) * s.batch * h,
        "lstm: states hold {state} values"
    );
}

/// See `Backend::lstm_forward`.
pub fn forward(
    s: LstmShape,
    lengths: &[u32],
    w_hh: &[f32],
    bias: &[f32],
    gates: &mut [f32],
    c: &mut [f32],
    h: &mut [f32],
) {
    forward_with(Recurrence::best(), s, lengths, w_hh, bias, gates, c, h);
}

/// Which implementation of the recurrence runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recurrence {
    /// matrixmultiply per step: every CPU.
    Gemm,
    /// `lstm_packed`: CPUs with AVX-512F, builds with Rust >= 1.89.
    Packed,
}

impl Recurrence {
    /// Whether this build and CPU can run [`Recurrence::Packed`].
    pub fn packed_available() -> bool {
        #[cfg(all(target_arch = "x86_64", vaeser_avx512))]
        return super::lstm_packed::available();
        #[allow(unreachable_code)]
        false
    }

    /// The fastest this build and CPU offer (both give the same bits).
    pub fn best() -> Self {
        if Self::packed_available() {
            Recurrence::Packed
        } else {
            Recurrence::Gemm
        }
    }
}

/// [`forward`] by the chosen implementation.
///
/// # Panics
/// On [`Recurrence::Packed`] where it is not available.
#[allow(clippy::too_many_arguments)]
pub fn forward_with(
    r: Recurrence,
    s: LstmShape,
    lengths: &[u32],
    w_hh: &[f32],
    bias: &[f32],
    gates: &mut [f32],
    c: &mut [f32],
    h: &mut [f32],
) {
    check(s, lengths, w_hh, gates.len(), c.len().min(h.len()));
    match r {
        Recurrence::Gemm => forward_gemm(s, lengths, w_hh, bias, gates, c, h),
        Recurrence::Packed => {
            assert!(
                Recurrence::packed_available(),
                "lstm: no packed recurrence here"
            );
            #[cfg(all(target_arch = "x86_64", vaeser_avx512))]
            super::lstm_packed::forward(s, None, lengths, w_hh, bias, gates, c, h);
        }
    }
}

/// A layer's input for [`layer_forward`]: the product `x W_ih^T` that
/// starts its gates.
#[derive(Clone, Copy, Debug)]
pub struct LayerInput<'a> {
    /// `[steps * batch, width]`, time-major like the gates.
    pub x: &'a [f32],
    /// `[4H, width]`.
    pub w_ih: &'a [f32],
    /// The input features per step.
    pub width: usize,
}

/// See `Backend::lstm_layer_forward`.
#[allow(clippy::too_many_arguments)]
pub fn layer_forward(
    s: LstmShape,
    input: LayerInput<'_>,
    lengths: &[u32],
    w_hh: &[f32],
    bias: &[f32],
    gates: &mut [f32],
    c: &mut [f32],
    h: &mut [f32],
) {
    layer_forward_with(
        Recurrence::best(),
        s,
        input,
        lengths,
        w_hh,
        bias,
        gates,
        c,
        h,
    );
}

/// [`layer_forward`] by the chosen implementation: the GEMM path runs the
/// input product over the whole sequence, then [`forward`]'s GEMM path; the
/// packed path computes each step's input product inside the step. Both
/// give the same bits.
///
/// # Panics
/// On [`Recurrence::Packed`] where it is not available, or buffers shorter
/// than the shapes need.
#[allow(clippy::too_many_arguments)]
pub fn layer_forward_with(
    r: Recurrence,
    s: LstmShape,
    input: LayerInput<'_>,
    lengths: &[u32],
    w_hh: &[f32],
    bias: &[f32],
    gates: &mut [f32],
    c: &mut [f32],
    h: &mut [f32],
) {
    check(s, lengths, w_hh, gates.len(), c.len().min(h.len()));
    let rows = s.steps * s.batch;
    assert!(
        input.x.len() >= rows * input.width,
        "lstm: x holds {} values",
        input.x.len()
    );
    assert!(
        input.w_ih.len() >= 4 * s.hidden * input.width,
        "lstm: W_ih holds {} values",
        input.w_ih.len()
    );
    let input_product = |gates: &mut [f32]| {
        let g = 4 * s.hidden;
        gemm::gemm_op(
            &Gemm::new(Transpose::No, Transpose::Yes, rows, g, input.width),
            input.x,
            input.w_ih,
            &mut gates[..rows * g],
        );
    };
    match r {
        Recurrence::Gemm => {
            input_product(gates);
            forward_gemm(s, lengths, w_hh, bias, gates, c, h);
        }
        Recurrence::Packed => {
            assert!(
                Recurrence::packed_available(),
                "lstm: no packed recurrence here"
            );
            #[cfg(all(target_arch = "x86_64", vaeser_avx512))]
            if super::lstm_packed::fuses_input(s, input.width) {
                super::lstm_packed::forward(s, Some(input), lengths, w_hh, bias, gates, c, h);
            } else {
                input_product(gates);
                super::lstm_packed::forward(s, None, lengths, w_hh, bias, gates, c, h);
            }
        }
    }
}

fn forward_gemm(
    s: LstmShape,
    lengths: &[u32],
    w_hh: &[f32],
    bias: &[f32],
    gates: &mut [f32],
    c: &mut [f32],
    h: &mut [f32],
) {
    let (hid, g) = (s.hidden, 4 * s.hidden);
    let state = s.batch * hid;
    let step_gates = s.batch * g;
    for t in 0..s.steps {
        let gates_t = &mut gates[t * step_gates..(t + 1) * step_gates];
        let live = live_rows(lengths, t);
        // The initial state is zero: step 0 has no recurrent part.
        if t > 0 && live > 0 {
            gemm::gemm(
                Transpose::No,
                Transpose::Yes,
                live,
                g,
                hid,
                1.0,
                &h[t * state..t * state + live * hid],
                &w_hh[..g * hid],
                1.0,
                &mut gates_t[..live * g],
            );
        }
        lstm_cell::forward(
            hid,
            t,
            lengths,
            &bias[..g],
            gates_t,
            &mut c[t * state..(t + 2) * state],
            &mut h[t * state..(t + 2) * state],
        );
    }
}

/// See `Backend::lstm_backward`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    s: LstmShape,
    lengths: &[u32],
    w_hh: &[f32],
    gates: &[f32],
    c: &[f32],
    dh: &mut [f32],
    dgates: &mut [f32],
    scratch: &mut [f32],
) {
    backward_with(
        Recurrence::best(),
        s,
        lengths,
        w_hh,
        gates,
        c,
        dh,
        dgates,
        scratch,
    );
}

/// [`backward`] by the chosen implementation.
///
/// # Panics
/// On [`Recurrence::Packed`] where it is not available.
#[allow(clippy::too_many_arguments)]
pub fn backward_with(
    r: Recurrence,
    s: LstmShape,
    lengths: &[u32],
    w_hh: &[f32],
    gates: &[f32],
    c: &[f32],
    dh: &mut [f32],
    dgates: &mut [f32],
    scratch: &mut [f32],
) {
    check_backward(s, lengths, w_hh, gates, c, dh, dgates, scratch);
    match r {
        Recurrence::Gemm => backward_gemm(s, lengths, w_hh, gates, c, dh, dgates, scratch),
        Recurrence::Packed => {
            assert!(
                Recurrence::packed_available(),
                "lstm: no packed recurrence here"
            );
            #[cfg(all(target_arch = "x86_64", vaeser_avx512))]
            super::lstm_packed::backward(s, lengths, w_hh, gates, c, dh, dgates, scratch);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_backward(
    s: LstmShape,
    lengths: &[u32],
    w_hh: &[f32],
    gates: &[f32],
    c: &[f32],
    dh: &[f32],
    dgates: &[f32],
    scratch: &[f32],
) {
    check(s, lengths, w_hh, gates.len().min(dgates.len()), c.len());
    let state = s.batch * s.hidden;
    assert!(
        dh.len() >= s.steps * state,
        "lstm: dh holds {} values",
        dh.len()
    );
    assert!(
        scratch.len() >= 3 * state,
        "lstm: scratch holds {} values",
        scratch.len()
    );
}

#[allow(clippy::too_many_arguments)]
fn backward_gemm(
    s: LstmShape,
    lengths: &[u32],
    w_hh: &[f32],
    gates: &[f32],
    c: &[f32],
    dh: &mut [f32],
    dgates: &mut [f32],
    scratch: &mut [f32],
) {
    let (hid, g) = (s.hidden, 4 * s.hidden);
    let state = s.batch * hid;
    let step_gates = s.batch * g;
    let (dh_step, rest) = scratch.split_at_mut(state);
    let (dc, rest) = rest.split_at_mut(state);
    let dh_initial = &mut rest[..state];
    dc.fill(0.0);
    for t in (0..s.steps).rev() {
        // dh[t] is complete now (from outside, from step t + 1 and carried
        // past the ends): copy it out so that the cell can add into dh[t - 1].
        let (before, from_t) = dh.split_at_mut(t * state);
        dh_step.copy_from_slice(&from_t[..state]);
        let dh_carry = if t > 0 {
            &mut before[(t - 1) * state..]
        } else {
            &mut *dh_initial
        };
        let gates_t = t * step_gates..(t + 1) * step_gates;
        lstm_cell::backward(
            hid,
            t,
            lengths,
            &gates[gates_t.clone()],
            &c[t * state..(t + 1) * state],
            &c[(t + 1) * state..(t + 2) * state],
            dh_step,
            dc,
            &mut dgates[gates_t.clone()],
            dh_carry,
        );
        let live = live_rows(lengths, t);
        if t > 0 && live > 0 {
            // Rows past `live` have zero gate gradients: nothing to add.
            gemm::gemm(
                Transpose::No,
                Transpose::No,
                live,
                hid,
                g,
                1.0,
                &dgates[gates_t.start..gates_t.start + live * g],
                &w_hh[..g * hid],
                1.0,
                &mut dh_carry[..live * hid],
            );
        }
    }
}
