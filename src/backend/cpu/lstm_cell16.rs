//! The LSTM cell of `lstm_cell.rs` in 16 AVX-512 lanes, for the packed
//! recurrence (`lstm_packed.rs`).
//!
//! `lstm_cell` computes the cell with `wide::f32x8`, which the target-cpu pin
//! compiles to 8-lane AVX2; here the same operations, in the same order, run
//! on 16 lanes, with the activations of `vec::math` in their 16-lane form:
//! every operation is lane-wise and IEEE-exact (add, mul, fused
//! multiply-add, division, min, round to nearest), so each lane gives the
//! bits `f32x8` gives (the tests of `lstm_packed.rs` compare them bit for
//! bit), in half the instructions.

use super::lstm_cell::{backward_span, forward_span, BackwardSpan, ForwardSpan};
use super::vec::lanes16::{load, splat, store, LANES};
use super::vec::math::{sigmoid16, tanh16};
use std::arch::x86_64::*;

/// The forward cell of 16 units: the pre-activations at `gates[q]` (gate
/// q's 16 values) plus `bias[q]` become the activated gates, in place, and
/// the new `c` and `h`; `lstm_cell::forward_span`'s arithmetic in 16 lanes.
///
/// # Safety
/// AVX-512F is available and every pointer addresses 16 values the caller
/// may read (and, for `gates`, `c` and `h`, write).
#[target_feature(enable = "avx512f")]
#[inline]
pub(super) unsafe fn forward_cell16(
    gates: [*mut f32; 4],
    bias: [*const f32; 4],
    c_prev: *const f32,
    c: *mut f32,
    h: *mut f32,
) {
    let i = sigmoid16(_mm512_add_ps(
        _mm512_loadu_ps(gates[0]),
        _mm512_loadu_ps(bias[0]),
    ));
    let f = sigmoid16(_mm512_add_ps(
        _mm512_loadu_ps(gates[1]),
        _mm512_loadu_ps(bias[1]),
    ));
    let g = tanh16(_mm512_add_ps(
        _mm512_loadu_ps(gates[2]),
        _mm512_loadu_ps(bias[2]),
    ));
    let o = sigmoid16(_mm512_add_ps(
        _mm512_loadu_ps(gates[3]),
        _mm512_loadu_ps(bias[3]),
    ));
    let cj = _mm512_fmadd_ps(f, _mm512_loadu_ps(c_prev), _mm512_mul_ps(i, g));
    _mm512_storeu_ps(gates[0], i);
    _mm512_storeu_ps(gates[1], f);
    _mm512_storeu_ps(gates[2], g);
    _mm512_storeu_ps(gates[3], o);
    _mm512_storeu_ps(c, cj);
    _mm512_storeu_ps(h, _mm512_mul_ps(o, tanh16(cj)));
}

/// `lstm_cell::forward_span` over a span whose units all take the vector
/// path, 16 at a time (the rest of the span, if any, through the 8-lane code).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn forward_span16(vector: usize, s: ForwardSpan<'_>) {
    let wide_end = vector / LANES * LANES;
    let ForwardSpan {
        gates: [gi, gf, gg, go],
        bias: [bi, bf, bg, bo],
        c_prev,
        c,
        h,
    } = s;
    for j in (0..wide_end).step_by(LANES) {
        forward_cell16(
            [
                gi[j..j + LANES].as_mut_ptr(),
                gf[j..j + LANES].as_mut_ptr(),
                gg[j..j + LANES].as_mut_ptr(),
                go[j..j + LANES].as_mut_ptr(),
            ],
            [
                bi[j..j + LANES].as_ptr(),
                bf[j..j + LANES].as_ptr(),
                bg[j..j + LANES].as_ptr(),
                bo[j..j + LANES].as_ptr(),
            ],
            c_prev[j..j + LANES].as_ptr(),
            c[j..j + LANES].as_mut_ptr(),
            h[j..j + LANES].as_mut_ptr(),
        );
    }
    if wide_end < c.len() {
        let w = wide_end;
        forward_span(
            vector - w,
            ForwardSpan {
                gates: [&mut gi[w..], &mut gf[w..], &mut gg[w..], &mut go[w..]],
                bias: [&bi[w..], &bf[w..], &bg[w..], &bo[w..]],
                c_prev: &c_prev[w..],
                c: &mut c[w..],
                h: &mut h[w..],
            },
        );
    }
}

/// `lstm_cell::backward_span`, 16 units at a time where they all take the
/// vector path (the rest through the 8-lane code).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn backward_span16(vector: usize, s: BackwardSpan<'_>) {
    let wide_end = vector / LANES * LANES;
    let BackwardSpan {
        gates: [gi, gf, gg, go],
        c_prev,
        c,
        dh,
        dc,
        dgates: [di, df, dg, d_o],
    } = s;
    let one = splat(1.0);
    for j in (0..wide_end).step_by(LANES) {
        let (i, f, g, o) = (load(gi, j), load(gf, j), load(gg, j), load(go, j));
        let tc = tanh16(load(c, j));
        let dhj = load(dh, j);
        let dout = _mm512_mul_ps(dhj, tc);
        let dct = _mm512_fmadd_ps(
            _mm512_mul_ps(dhj, o),
            _mm512_sub_ps(one, _mm512_mul_ps(tc, tc)),
            load(dc, j),
        );
        store(dc, j, _mm512_mul_ps(dct, f));
        let dct_g_i = _mm512_mul_ps(_mm512_mul_ps(dct, g), i);
        store(di, j, _mm512_mul_ps(dct_g_i, _mm512_sub_ps(one, i)));
        let dct_c_f = _mm512_mul_ps(_mm512_mul_ps(dct, load(c_prev, j)), f);
        store(df, j, _mm512_mul_ps(dct_c_f, _mm512_sub_ps(one, f)));
        let one_g2 = _mm512_sub_ps(one, _mm512_mul_ps(g, g));
        store(dg, j, _mm512_mul_ps(_mm512_mul_ps(dct, i), one_g2));
        let dout_o = _mm512_mul_ps(dout, o);
        store(d_o, j, _mm512_mul_ps(dout_o, _mm512_sub_ps(one, o)));
    }
    if wide_end < dc.len() {
        let w = wide_end;
        backward_span(
            vector - w,
            BackwardSpan {
                gates: [&gi[w..], &gf[w..], &gg[w..], &go[w..]],
                c_prev: &c_prev[w..],
                c: &c[w..],
                dh: &dh[w..],
                dc: &mut dc[w..],
                dgates: [&mut di[w..], &mut df[w..], &mut dg[w..], &mut d_o[w..]],
            },
        );
    }
}
