//! The LSTM recurrence with `W_hh` packed once per call and a small-M
//! AVX-512 kernel that reuses the packing at every step (the scheme of
//! oneDNN's fused RNN), the cell fused into the step, and the steps split
//! over threads by disjoint blocks of hidden units. A layer's input product
//! (`x W_ih^T`) can run inside the same steps ([`forward`] with a
//! [`LayerInput`]): each step's gates are then computed and consumed while
//! they are in the core's cache, instead of travelling through memory
//! between a GEMM over the whole sequence and the recurrence.
//!
//! # Why
//! A classifier step multiplies only the batch's 32 rows by `W_hh`; handing
//! that to a general GEMM repacks the whole `[4H, H]` matrix at every step
//! (for H = 256: 1 MB packed to compute 32 rows), and splitting the step's
//! rows over two threads repacks it once per thread. Here each block of
//! hidden units has its panel of `W_hh` packed once, in the first step, and
//! every later step streams the same panel from the core's cache.
//!
//! # Blocks and panels
//! Forward: a block is 16 hidden units and its panel holds, for every
//! `k < H`, the weights of the four gates (i, f, g, o) of those units: 64
//! values, four 16-lane registers. One kernel tile is up to 6 rows of
//! the batch times those 64 gate columns, so the tile ends holding all four
//! pre-activations of 16 units, and the cell runs on them while they are
//! still in L1. Backward: a block is 64 hidden units (four registers of the
//! gradient w.r.t. `h_{t-1}`) and its panel holds `W_hh[k, units]` for every
//! `k < 4H`; the backward cell of step `t` runs on the block right after the
//! block's recurrent product for step `t + 1` has completed its `dh_t`.
//!
//! # Results
//! Bit-identical to the GEMM path of `lstm.rs` (matrixmultiply's AVX-512
//! kernel): every product element is one chain of fused multiply-adds in
//! ascending `k`, started from zero and added to the destination once per
//! block of `KC` values of `k`, which is exactly matrixmultiply's order
//! (`vec::tile512`, the GEMM's own tile; the input product's first block is
//! stored rather than added, as a GEMM with `beta = 0` does, and it covers
//! every row of the step, as that GEMM covers every row of the sequence);
//! the cell is `lstm_cell`'s arithmetic transcribed operation for operation
//! into 16 lanes (`lstm_cell16.rs`). The tests compare the two paths bit for
//! bit.
//!
//! # Threads
//! A step's blocks are cut into as many parts as there are threads (when a
//! step is large enough), each part owning its blocks' panels, gate columns,
//! state columns and gradient columns: parts never write the same value and
//! nothing is reduced across them, so results do not depend on the thread
//! count. Step `t + 1` needs every part of step `t` (its `h_t` or `dgates`),
//! so the steps are phases of `phases::run_phases`, whose barrier never
//! waits for a part that no running thread holds: a late or absent helper
//! thread only means the caller does its parts too.

use super::lstm::{live_rows, LayerInput};
use super::lstm_cell::{BackwardSpan, ForwardSpan};
use super::lstm_cell16::{backward_span16, forward_cell16, forward_span16};
use super::phases::{at, mut_at, part_blocks, run_phases, Shared};
use super::vec::lanes16::{first_lanes, LANES};
use super::vec::tile512::{panel_product, Dest, NR};
use crate::backend::LstmShape;
use std::cell::Cell;

/// Values per `k` in a panel: the tile's four 16-lane registers.
const PANEL_WIDTH: usize = NR;
/// Hidden units per forward block (one register per gate).
const FORWARD_UNITS: usize = 16;
/// Hidden units per backward block (four registers of `dh`).
const BACKWARD_UNITS: usize = 64;
/// Below this many multiply-adds per step a second thread costs more (its
/// hand-over at every step is a few microseconds) than it saves.
const PARALLEL_MIN_FLOPS: usize = 1 << 20;

/// The most panel bytes a thread's part of a step may stream for the input
/// product to run inside the step: beyond half of a core's L2 (1 MB on the
/// Zen 5 this was measured on), `W_hh`'s panels and `W_ih`'s no longer stay
/// in L2 from one step to the next, and the fused step measured slower than
/// the sequence-wide GEMM followed by the recurrence (LSTM 256: 1.5-2 MB of
/// panels per step; LSTM 128: 0.5 MB, about 5% faster fused).
const FUSED_PANEL_BYTES: usize = 512 << 10;

/// Whether [`forward`] should take a layer's input product into its steps
/// (`width` input features); either way the results are the same bits. Not
/// for an empty input, whose product the GEMM writes as zeros.
pub(super) fn fuses_input(s: LstmShape, width: usize) -> bool {
    if width == 0 {
        return false;
    }
    let hid = s.hidden;
    let blocks = hid.div_ceil(FORWARD_UNITS);
    let parts = parts_for(blocks, 2 * s.batch * 4 * hid * (hid + width));
    let per_part = blocks.div_ceil(parts.max(1)) * (hid + width) * PANEL_WIDTH * 4;
    per_part <= FUSED_PANEL_BYTES
}

/// Whether this CPU runs the packed path (AVX-512F, detected at run time).
pub(super) fn available() -> bool {
    std::is_x86_feature_detected!("avx512f")
}

thread_local! {
    /// The packed panels, kept between calls so that a call reuses the
    /// memory of the last one instead of allocating (and page-faulting)
    /// 0.25-1 MB for each layer of each batch.
    static PACKED: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

fn with_packed<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    super::aligned_scratch::with_scratch(&PACKED, len, f)
}

/// Threads for a step of `flops` multiply-adds over `blocks` blocks.
fn parts_for(blocks: usize, flops: usize) -> usize {
    let threads = rayon::current_num_threads();
    if threads < 2 || flops < PARALLEL_MIN_FLOPS {
        1
    } else {
        threads.min(blocks)
    }
}

/// Lane masks of the four registers of a tile whose columns start at units
/// `first` of a row of `hidden` units.
fn unit_masks(hidden: usize, first: [usize; 4]) -> [u16; 4] {
    first.map(|j| first_lanes(hidden.saturating_sub(j)))
}

/// The units of a block starting at `j0`, `n` wide, that take the cell's
/// vector path (those below the row's `H - H % 8`).
fn vector_units(hidden: usize, j0: usize, n: usize) -> usize {
    (hidden - hidden % 8).saturating_sub(j0).min(n)
}

/// The packed forward recurrence: see `Backend::lstm_forward`, or with an
/// `input`, `Backend::lstm_layer_forward` (the caller has checked the
/// buffers' lengths).
#[allow(clippy::too_many_arguments)]
pub(super) fn forward(
    s: LstmShape,
    input: Option<LayerInput<'_>>,
    lengths: &[u32],
    w_hh: &[f32],
    bias: &[f32],
    gates: &mut [f32],
    c: &mut [f32],
    h: &mut [f32],
) {
    assert!(available(), "lstm: the packed recurrence needs AVX-512F");
    let hid = s.hidden;
    if hid == 0 || s.steps == 0 || s.batch == 0 {
        return;
    }
    let width = input.map_or(0, |i| i.width);
    let blocks = hid.div_ceil(FORWARD_UNITS);
    // A block's panels: W_hh's (hid rows of k), then W_ih's (width rows).
    let panel_len = (hid + width) * PANEL_WIDTH;
    let parts = parts_for(blocks, 2 * s.batch * 4 * hid * (hid + width));
    let (gates, c, h) = (
        Shared(gates.as_mut_ptr()),
        Shared(c.as_mut_ptr()),
        Shared(h.as_mut_ptr()),
    );
    with_packed(blocks * panel_len, |packed| {
        let packed = Shared(packed.as_mut_ptr());
        run_phases(s.steps, parts, &|t, part| {
            for u in part_blocks(blocks, parts, part) {
                // SAFETY: block u's panel, gate columns and state columns
                // belong to this part alone; step t reads only the states
                // of step t - 1, complete before this phase began.
                unsafe { forward_block(s, input, lengths, w_hh, bias, t, u, packed, gates, c, h) }
            }
        });
    });
}

/// Step `t` of forward block `u` (units `16 u ..`): with an `input`, writes
/// `x_t W_ih^T` into its gate columns (packing that panel at step 0); packs
/// its `W_hh` panel at step 0, else adds `h_{t-1} W_hh^T`; then the cell.
///
/// # Safety
/// As in [`forward`]: the caller owns block `u`'s columns for this step.
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn forward_block(
    s: LstmShape,
    input: Option<LayerInput<'_>>,
    lengths: &[u32],
    w_hh: &[f32],
    bias: &[f32],
    t: usize,
    u: usize,
    packed: Shared,
    gates: Shared,
    c: Shared,
    h: Shared,
) {
    let (hid, g4) = (s.hidden, 4 * s.hidden);
    let state = s.batch * hid;
    let j0 = u * FORWARD_UNITS;
    let n = FORWARD_UNITS.min(hid - j0);
    let width = input.map_or(0, |i| i.width);
    let panel = packed.0.add(u * (hid + width) * PANEL_WIDTH);
    let gates_t = t * s.batch * g4;
    // The four gates' columns of the block's units in the step's gate rows.
    let dest = Dest {
        c: gates.0.add(gates_t),
        ldc: g4,
        offsets: [0, hid, 2 * hid, 3 * hid].map(|o| o + j0),
        masks: unit_masks(hid, [j0; 4]),
    };
    if let Some(input) = input.filter(|i| i.width > 0) {
        let input_panel = panel.add(hid * PANEL_WIDTH);
        if t == 0 {
            pack_forward(
                hid,
                input.w_ih,
                width,
                j0,
                std::slice::from_raw_parts_mut(input_panel, width * PANEL_WIDTH),
            );
        }
        // Every row, finished sequences' too, as the sequence-wide GEMM
        // this replaces writes them.
        let x_t = input.x.as_ptr().add(t * s.batch * width);
        panel_product(true, s.batch, width, x_t, width, input_panel, dest);
    }
    if t == 0 {
        // Step 0 has no recurrent product (the initial state is zero): its
        // turn packs the panel the later steps use.
        pack_forward(
            hid,
            w_hh,
            hid,
            j0,
            std::slice::from_raw_parts_mut(panel, hid * PANEL_WIDTH),
        );
    } else {
        let live = live_rows(lengths, t);
        let h_prev = h.0.add(t * state);
        panel_product(false, live, hid, h_prev, hid, panel, dest);
    }
    let vector = vector_units(hid, j0, n);
    // A full block is one 16-lane cell per row: straight on pointers, as
    // building the span's eleven slices per row cost about what the cell does.
    let full = vector == FORWARD_UNITS;
    for (b, &len) in lengths.iter().enumerate() {
        let row = gates_t + b * g4 + j0;
        let prev = t * state + b * hid + j0;
        let next = prev + state;
        if full && t < len as usize {
            let g = gates.0.add(row);
            let bp = bias.as_ptr().add(j0);
            forward_cell16(
                [g, g.add(hid), g.add(2 * hid), g.add(3 * hid)],
                [bp, bp.add(hid), bp.add(2 * hid), bp.add(3 * hid)],
                c.0.add(prev),
                c.0.add(next),
                h.0.add(next),
            );
        } else if t < len as usize {
            forward_span16(
                vector,
                ForwardSpan {
                    gates: [0, 1, 2, 3].map(|q| mut_at(gates, row + q * hid, n)),
                    bias: [0, 1, 2, 3].map(|q| &bias[q * hid + j0..q * hid + j0 + n]),
                    c_prev: at(c, prev, n),
                    c: mut_at(c, next, n),
                    h: mut_at(h, next, n),
                },
            );
        } else {
            mut_at(c, next, n).copy_from_slice(at(c, prev, n));
            mut_at(h, next, n).copy_from_slice(at(h, prev, n));
        }
    }
}

/// The forward panel of the units `j0 .. j0 + 16` of a `[4H, width]`
/// weight matrix `w` (`W_hh`, or `W_ih` of the fused input product):
/// `panel[k, q, l] = w[q H + j0 + l, k]`, zero past the last unit.
fn pack_forward(hidden: usize, w: &[f32], width: usize, j0: usize, panel: &mut [f32]) {
    for q in 0..4 {
        for l in 0..LANES {
            let j = j0 + l;
            let col = q * LANES + l;
            if j < hidden {
                let row = &w[(q * hidden + j) * width..][..width];
                for (k, &w) in row.iter().enumerate() {
                    panel[k * PANEL_WIDTH + col] = w;
                }
            } else {
                for k in 0..width {
                    panel[k * PANEL_WIDTH + col] = 0.0;
                }
            }
        }
    }
}

/// The packed backward recurrence: see `Backend::lstm_backward` (the caller
/// has checked the buffers' lengths).
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    s: LstmShape,
    lengths: &[u32],
    w_hh: &[f32],
    gates: &[f32],
    c: &[f32],
    dh: &mut [f32],
    dgates: &mut [f32],
    scratch: &mut [f32],
) {
    assert!(available(), "lstm: the packed recurrence needs AVX-512F");
    let hid = s.hidden;
    if hid == 0 || s.steps == 0 || s.batch == 0 {
        return;
    }
    let state = s.batch * hid;
    // scratch: [dh of the step (unused here), dc, the initial state's dh].
    scratch[state..2 * state].fill(0.0);
    let blocks = hid.div_ceil(BACKWARD_UNITS);
    let panel_len = 4 * hid * PANEL_WIDTH;
    let parts = parts_for(blocks, 2 * s.batch * 4 * hid * hid);
    let bufs = Backward {
        gates: Shared(gates.as_ptr() as *mut f32),
        c: Shared(c.as_ptr() as *mut f32),
        dh: Shared(dh.as_mut_ptr()),
        dgates: Shared(dgates.as_mut_ptr()),
        scratch: Shared(scratch.as_mut_ptr()),
    };
    with_packed(blocks * panel_len, |packed| {
        let packed = Shared(packed.as_mut_ptr());
        run_phases(s.steps, parts, &|phase, part| {
            let t = s.steps - 1 - phase;
            for u in part_blocks(blocks, parts, part) {
                // SAFETY: block u's panel and its columns of dh, dc and
                // dgates belong to this part alone; step t reads the gate
                // gradients of step t + 1, complete before this phase.
                unsafe { backward_block(s, lengths, w_hh, t, u, packed, &bufs) }
            }
        });
    });
}

/// The buffers of the backward pass (`gates` and `c` only read).
struct Backward {
    gates: Shared,
    c: Shared,
    dh: Shared,
    dgates: Shared,
    scratch: Shared,
}

/// Step `t` of backward block `u` (units `64 u ..`): packs its panel at the
/// last step, else completes `dh_t` with `dgates_{t+1} W_hh`; then the cell.
///
/// # Safety
/// As in [`backward`]: the caller owns block `u`'s columns for this step.
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_block(
    s: LstmShape,
    lengths: &[u32],
    w_hh: &[f32],
    t: usize,
    u: usize,
    packed: Shared,
    bufs: &Backward,
) {
    let (hid, g4) = (s.hidden, 4 * s.hidden);
    let state = s.batch * hid;
    let step_gates = s.batch * g4;
    let j0 = u * BACKWARD_UNITS;
    let n = BACKWARD_UNITS.min(hid - j0);
    let panel = packed.0.add(u * g4 * PANEL_WIDTH);
    if t + 1 == s.steps {
        pack_backward(
            hid,
            w_hh,
            j0,
            std::slice::from_raw_parts_mut(panel, g4 * PANEL_WIDTH),
        );
    } else {
        // Rows past the live ones have zero gate gradients at step t + 1.
        let live = live_rows(lengths, t + 1);
        let first = [0, 1, 2, 3].map(|q| j0 + q * LANES);
        let dgates_next = bufs.dgates.0.add((t + 1) * step_gates);
        let dh_t = Dest {
            c: bufs.dh.0.add(t * state),
            ldc: hid,
            offsets: first,
            masks: unit_masks(hid, first),
        };
        panel_product(false, live, g4, dgates_next, g4, panel, dh_t);
    }
    let vector = vector_units(hid, j0, n);
    let dc = Shared(bufs.scratch.0.add(state));
    let initial = Shared(bufs.scratch.0.add(2 * state));
    for (b, &len) in lengths.iter().enumerate() {
        let row = t * step_gates + b * g4 + j0;
        let unit = b * hid + j0;
        let dh_t = t * state + unit;
        if t < len as usize {
            backward_span16(
                vector,
                BackwardSpan {
                    gates: [0, 1, 2, 3].map(|q| at(bufs.gates, row + q * hid, n)),
                    c_prev: at(bufs.c, t * state + unit, n),
                    c: at(bufs.c, (t + 1) * state + unit, n),
                    dh: at(bufs.dh, dh_t, n),
                    dc: mut_at(dc, unit, n),
                    dgates: [0, 1, 2, 3].map(|q| mut_at(bufs.dgates, row + q * hid, n)),
                },
            );
        } else {
            // Past its end the state is carried: dc stays, dh joins the
            // gradient of h_{t-1} (of the initial state at t = 0, unused).
            for q in 0..4 {
                mut_at(bufs.dgates, row + q * hid, n).fill(0.0);
            }
            let carry = if t > 0 {
                mut_at(bufs.dh, dh_t - state, n)
            } else {
                mut_at(initial, unit, n)
            };
            for (k, d) in carry.iter_mut().zip(at(bufs.dh, dh_t, n)) {
                *k += d;
            }
        }
    }
}

/// The backward panel of the units `j0 .. j0 + 64`: `panel[k, l] =
/// W_hh[k, j0 + l]` for `k < 4H`, zero past the last unit.
fn pack_backward(hidden: usize, w_hh: &[f32], j0: usize, panel: &mut [f32]) {
    let n = BACKWARD_UNITS.min(hidden - j0);
    for (k, dst) in panel.chunks_exact_mut(PANEL_WIDTH).enumerate() {
        let src = &w_hh[k * hidden + j0..k * hidden + j0 + n];
        dst[..n].copy_from_slice(src);
        dst[n..].fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::lstm::{backward_with, forward_with, Recurrence};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(rng: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
    }

    /// One recurrence's inputs: weights, bias, `x W_ih^T`, the output
    /// gradients, and lengths (sorted by decreasing length or not).
    struct Case {
        s: LstmShape,
        lengths: Vec<u32>,
        w_hh: Vec<f32>,
        bias: Vec<f32>,
        pre: Vec<f32>,
        dh: Vec<f32>,
    }

    impl Case {
        fn new(seed: u64, hidden: usize, steps: usize, batch: usize, sorted: bool) -> Self {
            Self::scaled(seed, hidden, steps, batch, sorted, 2.0)
        }

        /// Pre-activations in `-scale..scale`: large scales saturate the
        /// gates and take `exp` to its clamps.
        fn scaled(
            seed: u64,
            hidden: usize,
            steps: usize,
            batch: usize,
            sorted: bool,
            scale: f32,
        ) -> Self {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut lengths: Vec<u32> = (0..batch)
                .map(|_| rng.gen_range(1..=steps as u32))
                .collect();
            if sorted {
                lengths.sort_by(|a, b| b.cmp(a));
            }
            let w_scale = 1.0 / (hidden as f32).sqrt();
            Case {
                s: LstmShape {
                    hidden,
                    steps,
                    batch,
                },
                lengths,
                w_hh: random(&mut rng, 4 * hidden * hidden, w_scale),
                bias: random(&mut rng, 4 * hidden, w_scale),
                pre: random(&mut rng, steps * batch * 4 * hidden, scale),
                dh: random(&mut rng, steps * batch * hidden, 1.0),
            }
        }

        /// (gates, c, h) after the forward and (dgates, dh scratch) after
        /// the backward, by the packed path or the GEMM path.
        #[allow(clippy::type_complexity)]
        fn run(&self, packed: bool) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
            let s = self.s;
            let state = s.batch * s.hidden;
            let mut gates = self.pre.clone();
            // NaN everywhere the recurrence must write before it reads.
            let mut c = vec![f32::NAN; (s.steps + 1) * state];
            let mut h = vec![f32::NAN; (s.steps + 1) * state];
            c[..state].fill(0.0);
            h[..state].fill(0.0);
            let mut dh = self.dh.clone();
            let mut dgates = vec![f32::NAN; self.pre.len()];
            let mut scratch = vec![f32::NAN; 3 * state];
            let l = &self.lengths;
            let r = if packed {
                Recurrence::Packed
            } else {
                Recurrence::Gemm
            };
            forward_with(r, s, l, &self.w_hh, &self.bias, &mut gates, &mut c, &mut h);
            backward_with(
                r,
                s,
                l,
                &self.w_hh,
                &gates,
                &c,
                &mut dh,
                &mut dgates,
                &mut scratch,
            );
            (gates, c, h, dgates)
        }
    }

    /// Fails naming the first value whose bits differ.
    fn same_bits(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        if let Some(k) = (0..got.len()).find(|&k| got[k].to_bits() != want[k].to_bits()) {
            panic!("{what}: value {k} is {} instead of {}", got[k], want[k]);
        }
    }

    fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    /// Bit for bit the GEMM path's results, over hidden sizes around the
    /// block widths (16 forward, 64 backward) and the 8-lane cell, batches
    /// around the 6-row tile, sorted and unsorted lengths, and products
    /// longer than one `KC` block (4H > 256 in the backward).
    #[test]
    fn packed_path_matches_the_gemm_path_bit_for_bit() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        let mut seed = 0;
        for hidden in [1, 7, 8, 9, 16, 17, 31, 33, 64, 65, 129] {
            for (steps, batch) in [(1, 1), (3, 7), (6, 13)] {
                for sorted in [true, false] {
                    seed += 1;
                    // Unsorted cases also saturate the gates.
                    let scale = if sorted { 2.0 } else { 40.0 };
                    let case = Case::scaled(seed, hidden, steps, batch, sorted, scale);
                    let want = in_pool(1, || case.run(false));
                    for threads in [1, 2] {
                        let got = in_pool(threads, || case.run(true));
                        let what = format!(
                            "H {hidden} T {steps} B {batch} sorted {sorted} threads {threads}"
                        );
                        same_bits(&got.0, &want.0, &format!("gates, {what}"));
                        same_bits(&got.1, &want.1, &format!("c, {what}"));
                        same_bits(&got.2, &want.2, &format!("h, {what}"));
                        same_bits(&got.3, &want.3, &format!("dgates, {what}"));
                    }
                }
            }
        }
    }

    /// Large enough that two threads split every step (the small cases
    /// above stay below the split threshold), at the classifier's shapes.
    #[test]
    fn two_threads_split_the_steps_and_change_no_bit() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        for (seed, hidden, batch) in [(100, 128, 32), (101, 129, 33), (102, 256, 9)] {
            let case = Case::new(seed, hidden, 5, batch, seed % 2 == 0);
            assert!(2 * batch * 4 * hidden * hidden >= PARALLEL_MIN_FLOPS);
            let want = in_pool(1, || case.run(false));
            let one = in_pool(1, || case.run(true));
            let two = in_pool(2, || case.run(true));
            same_bits(&one.0, &two.0, &format!("gates H {hidden}"));
            same_bits(&one.2, &two.2, &format!("h H {hidden}"));
            same_bits(&one.3, &two.3, &format!("dgates H {hidden}"));
            same_bits(&one.3, &want.3, &format!("dgates vs GEMM H {hidden}"));
            same_bits(&one.2, &want.2, &format!("h vs GEMM H {hidden}"));
        }
    }

    /// Batches of many 6-row tiles (the classifier's are 32 to 256 rows),
    /// with a short last tile, split over two threads or not.
    #[test]
    fn many_row_tiles_change_no_bit() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        for (seed, hidden, batch) in [(300, 70, 61), (301, 129, 50), (302, 16, 97)] {
            let case = Case::new(seed, hidden, 4, batch, seed % 2 == 0);
            let want = in_pool(1, || case.run(false));
            for threads in [1, 2] {
                let got = in_pool(threads, || case.run(true));
                let what = format!("H {hidden} B {batch} threads {threads}");
                same_bits(&got.0, &want.0, &format!("gates, {what}"));
                same_bits(&got.1, &want.1, &format!("c, {what}"));
                same_bits(&got.2, &want.2, &format!("h, {what}"));
                same_bits(&got.3, &want.3, &format!("dgates, {what}"));
            }
        }
    }

    /// The fused input product (`layer_forward_with`): bit for bit the
    /// sequence-wide GEMM followed by the GEMM path's recurrence, for inputs
    /// narrower than a tile, around the 16-unit blocks, and wider than one
    /// `KC` block; gates start as NaN, so a value read before it is written
    /// shows.
    #[test]
    fn fused_input_product_matches_the_gemm_then_the_recurrence() {
        use crate::backend::cpu::lstm::{layer_forward_with, LayerInput};
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        let mut seed = 500;
        let mut cases = vec![];
        for hidden in [1, 9, 16, 17, 33] {
            for width in [1, 7, 16, 130, 300] {
                for (steps, batch) in [(1, 1), (4, 7), (5, 13)] {
                    seed += 1;
                    cases.push((seed, hidden, width, steps, batch));
                }
            }
        }
        // Large enough for two threads to split the steps.
        cases.push((600, 128, 128, 4, 32));
        cases.push((601, 129, 257, 3, 11));
        // Panels beyond the fusion threshold at one thread.
        cases.push((602, 256, 128, 2, 8));
        assert!(!fuses_input(
            LstmShape {
                hidden: 256,
                steps: 2,
                batch: 8
            },
            128
        ));
        for (seed, hidden, width, steps, batch) in cases {
            let case = Case::new(seed, hidden, steps, batch, seed % 2 == 0);
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 1000);
            let x = random(&mut rng, steps * batch * width, 1.0);
            let w_ih = random(&mut rng, 4 * hidden * width, 1.0 / (width as f32).sqrt());
            let s = case.s;
            // The reference, the route `layer_forward` chooses, and the fused
            // steps whatever that choice.
            #[derive(Clone, Copy)]
            enum Route {
                Gemm,
                Chosen,
                Fused,
            }
            let run = |route: Route| {
                let state = s.batch * s.hidden;
                let mut gates = vec![f32::NAN; steps * batch * 4 * hidden];
                let mut c = vec![f32::NAN; (s.steps + 1) * state];
                let mut h = vec![f32::NAN; (s.steps + 1) * state];
                c[..state].fill(0.0);
                h[..state].fill(0.0);
                let input = LayerInput {
                    x: &x,
                    w_ih: &w_ih,
                    width,
                };
                let l = &case.lengths;
                let (w, b) = (&case.w_hh, &case.bias);
                let (g, c_, h_) = (&mut gates, &mut c, &mut h);
                match route {
                    Route::Gemm => {
                        layer_forward_with(Recurrence::Gemm, s, input, l, w, b, g, c_, h_)
                    }
                    Route::Chosen => {
                        layer_forward_with(Recurrence::Packed, s, input, l, w, b, g, c_, h_)
                    }
                    Route::Fused => forward(s, Some(input), l, w, b, g, c_, h_),
                }
                (gates, c, h)
            };
            let want = in_pool(1, || run(Route::Gemm));
            for threads in [1, 2] {
                for route in [Route::Chosen, Route::Fused] {
                    let got = in_pool(threads, || run(route));
                    let what = format!(
                        "H {hidden} in {width} T {steps} B {batch} threads {threads} fused {}",
                        matches!(route, Route::Fused)
                    );
                    same_bits(&got.0, &want.0, &format!("gates, {what}"));
                    same_bits(&got.1, &want.1, &format!("c, {what}"));
                    same_bits(&got.2, &want.2, &format!("h, {what}"));
                }
            }
        }
    }

    fn sig(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// The forward against a plain f64 loop written from the PyTorch
    /// equations (not from either implementation).
    #[test]
    fn packed_forward_matches_a_plain_reference() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        for (seed, hidden, batch) in [(200, 9, 7), (201, 33, 5), (202, 70, 13)] {
            let case = Case::new(seed, hidden, 6, batch, false);
            let (_, _, h, _) = in_pool(2, || case.run(true));
            let (hid, g4) = (hidden, 4 * hidden);
            let mut hr = vec![0.0f64; batch * hid];
            let mut cr = vec![0.0f64; batch * hid];
            for t in 0..case.s.steps {
                let (mut hn, mut cn) = (hr.clone(), cr.clone());
                for b in 0..batch {
                    if t >= case.lengths[b] as usize {
                        continue;
                    }
                    let pre = |q: usize, j: usize| {
                        let r = q * hid + j;
                        let mut v = case.pre[(t * batch + b) * g4 + r] as f64 + case.bias[r] as f64;
                        for k in 0..hid {
                            v += case.w_hh[r * hid + k] as f64 * hr[b * hid + k];
                        }
                        v
                    };
                    for j in 0..hid {
                        let (i, f, g, o) = (
                            sig(pre(0, j)),
                            sig(pre(1, j)),
                            pre(2, j).tanh(),
                            sig(pre(3, j)),
                        );
                        cn[b * hid + j] = f * cr[b * hid + j] + i * g;
                        hn[b * hid + j] = o * cn[b * hid + j].tanh();
                    }
                }
                hr = hn;
                cr = cn;
                let got = &h[(t + 1) * batch * hid..(t + 2) * batch * hid];
                for (k, (&g, &r)) in got.iter().zip(&hr).enumerate() {
                    assert!(
                        (g as f64 - r).abs() < 1e-5,
                        "H {hidden} step {t} value {k}: {g} vs {r}"
                    );
                }
            }
        }
    }
}
