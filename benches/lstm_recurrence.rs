//! The LSTM recurrence alone (`Backend::lstm_forward` + `lstm_backward` of
//! one layer), the packed AVX-512 path against the GEMM path
//! (matrixmultiply per step), side by side: rounds alternate the two, each
//! round's time is a median, rounds during which other processes used the
//! CPU (read from /proc/stat) are dropped, and the table gives the median
//! per-round ratio. Both paths give bit-identical results.
//!
//! `cargo bench --bench lstm_recurrence`

#[path = "support/load.rs"]
#[allow(dead_code)]
mod load;
#[path = "support/peak.rs"]
#[allow(dead_code)]
mod peak;

use peak::{median, median_seconds, FmaPeak};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vaeser::backend::cpu::lstm::{self, Recurrence};
use vaeser::backend::LstmShape;

struct Case {
    s: LstmShape,
    lengths: Vec<u32>,
    w_hh: Vec<f32>,
    bias: Vec<f32>,
    pre: Vec<f32>,
    gates: Vec<f32>,
    c: Vec<f32>,
    h: Vec<f32>,
    dh0: Vec<f32>,
    dh: Vec<f32>,
    dgates: Vec<f32>,
    scratch: Vec<f32>,
}

impl Case {
    fn new(hidden: usize, steps: usize, batch: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut r = |n: usize, a: f32| (0..n).map(|_| rng.gen_range(-a..a)).collect::<Vec<f32>>();
        let state = batch * hidden;
        let rows = steps * batch;
        Case {
            s: LstmShape {
                hidden,
                steps,
                batch,
            },
            lengths: vec![steps as u32; batch],
            w_hh: r(4 * hidden * hidden, 1.0 / (hidden as f32).sqrt()),
            bias: r(4 * hidden, 0.1),
            pre: r(rows * 4 * hidden, 1.0),
            gates: vec![0.0; rows * 4 * hidden],
            c: vec![0.0; rows * hidden + state],
            h: vec![0.0; rows * hidden + state],
            dh0: r(rows * hidden, 0.1),
            dh: vec![0.0; rows * hidden],
            dgates: vec![0.0; rows * 4 * hidden],
            scratch: vec![0.0; 3 * state],
        }
    }

    /// Multiply-adds x 2 of the recurrent products (steps 1.., all rows).
    fn flops(&self, backward: bool) -> f64 {
        let s = self.s;
        let per = 2.0 * (s.batch * 4 * s.hidden * s.hidden) as f64 * (s.steps - 1) as f64;
        if backward {
            2.0 * per
        } else {
            per
        }
    }

    fn run(&mut self, packed: bool, backward: bool) {
        let s = self.s;
        let r = if packed {
            Recurrence::Packed
        } else {
            Recurrence::Gemm
        };
        self.gates.copy_from_slice(&self.pre);
        lstm::forward_with(
            r,
            s,
            &self.lengths,
            &self.w_hh,
            &self.bias,
            &mut self.gates,
            &mut self.c,
            &mut self.h,
        );
        if backward {
            self.dh.copy_from_slice(&self.dh0);
            lstm::backward_with(
                r,
                s,
                &self.lengths,
                &self.w_hh,
                &self.gates,
                &self.c,
                &mut self.dh,
                &mut self.dgates,
                &mut self.scratch,
            );
        }
    }
}

fn main() {
    if !Recurrence::packed_available() {
        println!("this CPU has no AVX-512F: the packed path does not run here");
        return;
    }
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9);
    let peak = FmaPeak::measure(5);
    let p16 = peak.lanes16.unwrap_or(2.0 * peak.lanes8);
    println!(
        "LSTM recurrence of one layer, 50 steps, all sequences full length; {rounds} rounds, \
         median of 5 per round; FMA peak of one core {:.0} (8 lanes) / {:.0} (16 lanes) GFLOP/s",
        peak.lanes8, p16
    );
    println!("| pass | H | batch | threads | GEMM path ms | packed ms | speed-up | packed GFLOP/s | of 16-lane peak x threads | rounds kept |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for backward in [false, true] {
        for (hidden, batch) in [(128, 32), (256, 32), (128, 256), (256, 256)] {
            for threads in [1, 2] {
                // ONLY=H,batch,threads restricts the table to one shape.
                if let Ok(only) = std::env::var("ONLY") {
                    if only != format!("{hidden},{batch},{threads}") {
                        continue;
                    }
                }
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut case = Case::new(hidden, 50, batch);
                let mut trials = vec![];
                for _ in 0..rounds {
                    let watch = load::Watch::start();
                    let g = median_seconds(|| pool.install(|| case.run(false, backward)), 5);
                    let p = median_seconds(|| pool.install(|| case.run(true, backward)), 5);
                    trials.push((g, p, watch.foreign_load()));
                }
                let (mut tg, mut tp, mut ratio, note) = load::keep_clean(&trials);
                let (g, p, r) = (median(&mut tg), median(&mut tp), median(&mut ratio));
                let gf = case.flops(backward) / p * 1e-9;
                println!(
                    "| {} | {hidden} | {batch} | {threads} | {:.3} | {:.3} | {r:.2} | {gf:.0} | {:.0}% | {note} |",
                    if backward { "fwd+bwd" } else { "fwd" },
                    g * 1e3,
                    p * 1e3,
                    100.0 * gf / (p16 * threads as f64)
                );
            }
        }
    }
}
