//! vaeser against PyTorch on the CPU, side by side in one run.
//!
//! Workloads (our public API against `benches/pytorch_reference.py`, same
//! shapes, losses and Adam settings): the classifier's train step (forward,
//! cross-entropy, backward, Adam) and inference (forward to the logits) for
//! a 2-layer LSTM of hidden 128 and 256, batch 32 and 256, 50 steps of 128
//! features, dense 64, 4 classes; the VAE's train step and inference (the
//! encoder's mu and log sigma^2) at batch 256, 800-512-256-128. Each at 1
//! and 2 threads.
//!
//! Method: both sides warm (PyTorch until its page faults settle, see the
//! script), then `ROUNDS` rounds per workload alternating ours and
//! PyTorch's, each a median of `REPS` calls; a round during which processes
//! other than this one and the PyTorch child used more than 10% of the
//! machine (read from /proc/stat) is dropped (when every round had such
//! load, all are kept and the table says so). The table gives medians over
//! the kept rounds and the median of the per-round throughput ratios
//! ours/PyTorch (> 1: we are faster); at one thread also the same ratio
//! from on-CPU time (schedstat here, `process_time` there), which time
//! slicing on a busy machine does not distort; GFLOP/s from the nominal
//! products of the model, and that as a share of the 16-lane FMA peak
//! (times the thread count), the fastest measured in the run.
//!
//! `VAESER_TORCH_PYTHON=/work/venv-torch/bin/python cargo bench --bench versus_pytorch`
//! (without the variable only our side runs). `ONLY=<workload>` restricts
//! the run to the workloads whose name contains it; `ROUNDS`, `REPS`.

#[path = "support/load.rs"]
mod load;
#[path = "support/peak.rs"]
#[allow(dead_code)]
mod peak;

use peak::{median, median_seconds, FmaPeak};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use vaeser::backend::cpu::Cpu;
use vaeser::backend::Backend;
use vaeser::config::AdamPreset;
use vaeser::models::autoencoder::{Autoencoder, AutoencoderShape, LearnerKind, Workspace};
use vaeser::models::classifier_net::{ClassifierShape, NetWorkspace, Network, Sequence};
use vaeser::nn::adam::Adam;
use vaeser::nn::params::ParamArena;

const STEPS: usize = 50;
const INPUT: usize = 128;
const DENSE: usize = 64;
const CLASSES: usize = 4;
const VAE: [usize; 4] = [800, 512, 256, 128];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    ClassifierTrain,
    ClassifierInfer,
    VaeTrain,
    VaeInfer,
}

#[derive(Clone, Copy)]
struct Workload {
    kind: Kind,
    hidden: usize,
    batch: usize,
}

impl Workload {
    fn name(&self) -> String {
        match self.kind {
            Kind::ClassifierTrain => format!("classifier_train H{} B{}", self.hidden, self.batch),
            Kind::ClassifierInfer => format!("classifier_infer H{} B{}", self.hidden, self.batch),
            Kind::VaeTrain => format!("vae_train B{}", self.batch),
            Kind::VaeInfer => format!("vae_infer B{}", self.batch),
        }
    }

    fn torch_name(&self) -> &'static str {
        match self.kind {
            Kind::ClassifierTrain => "classifier_train",
            Kind::ClassifierInfer => "classifier_infer",
            Kind::VaeTrain => "vae_train",
            Kind::VaeInfer => "vae_infer",
        }
    }

    /// Nominal flops of one call: 2 per multiply-add of every product the
    /// model defines (all 50 steps; no input gradient of the first layer).
    fn flops(&self) -> f64 {
        let (t, b, h) = (STEPS as f64, self.batch as f64, self.hidden as f64);
        match self.kind {
            Kind::ClassifierTrain | Kind::ClassifierInfer => {
                let train = self.kind == Kind::ClassifierTrain;
                let mut f = 0.0;
                for layer in 0..2 {
                    let input = if layer == 0 { INPUT as f64 } else { h };
                    let fwd = 2.0 * t * b * 4.0 * h * (input + h);
                    f += fwd;
                    if train {
                        // dh (recurrent), dW_hh, dW_ih, and dX above layer 0.
                        let dx = if layer == 0 { 0.0 } else { input };
                        f += 2.0 * t * b * 4.0 * h * (h + h + input + dx);
                    }
                }
                let head = 2.0 * b * (h * DENSE as f64 + (DENSE * CLASSES) as f64);
                f + if train { 3.0 * head } else { head }
            }
            Kind::VaeTrain | Kind::VaeInfer => {
                let [d, h1, h2, l] = VAE.map(|v| v as f64);
                let enc = 2.0 * b * (d * h1 + h1 * h2 + 2.0 * h2 * l);
                if self.kind == Kind::VaeInfer {
                    enc
                } else {
                    let dec = 2.0 * b * (l * h2 + h2 * h1 + h1 * d);
                    // Backward: weight gradients of every layer, input
                    // gradients of all but the first.
                    let first = 2.0 * b * d * h1;
                    3.0 * (enc + dec) - first
                }
            }
        }
    }
}

/// Our side of one workload, set up once and called repeatedly.
enum Ours {
    Classifier {
        net: Network,
        arena: ParamArena<Cpu>,
        ws: NetWorkspace<Cpu>,
        adam: Adam<Cpu>,
        loss: Vec<f32>,
        train: bool,
    },
    Vae {
        model: Autoencoder,
        arena: ParamArena<Cpu>,
        ws: Workspace<Cpu>,
        adam: Adam<Cpu>,
        slots: Vec<f32>,
        mu: Vec<f32>,
        logvar: Vec<f32>,
        train: bool,
        rows: usize,
    },
}

impl Ours {
    fn new(w: Workload) -> Self {
        let be = Cpu;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        match w.kind {
            Kind::ClassifierTrain | Kind::ClassifierInfer => {
                let shape = ClassifierShape {
                    input: INPUT,
                    hidden: w.hidden,
                    layers: 2,
                    dense: DENSE,
                    classes: CLASSES,
                };
                let net = Network::new(&shape).unwrap();
                let mut host = vec![0.0; net.layout().len()];
                net.init(&mut rng, &mut host).unwrap();
                let arena = ParamArena::from_host(&be, net.layout().clone(), &host).unwrap();
                let mut ws = net.workspace(&be, STEPS, w.batch).unwrap();
                let features: Vec<Vec<f32>> = (0..w.batch)
                    .map(|_| {
                        (0..STEPS * INPUT)
                            .map(|_| rng.gen_range(-1.0..1.0))
                            .collect()
                    })
                    .collect();
                let batch: Vec<Sequence<'_>> = features
                    .iter()
                    .enumerate()
                    .map(|(i, f)| Sequence {
                        features: f,
                        steps: STEPS,
                        label: i % CLASSES,
                    })
                    .collect();
                net.load_batch(&be, &mut ws, &batch).unwrap();
                let adam = Adam::new(&be, arena.len(), 1e-3, AdamPreset::Default).unwrap();
                Ours::Classifier {
                    net,
                    arena,
                    ws,
                    adam,
                    loss: vec![0.0; 1],
                    train: w.kind == Kind::ClassifierTrain,
                }
            }
            Kind::VaeTrain | Kind::VaeInfer => {
                let shape = AutoencoderShape {
                    kind: LearnerKind::Vae,
                    input: VAE[0],
                    conditions: 0,
                    hidden: vec![VAE[1], VAE[2]],
                    latent: VAE[3],
                };
                let model = Autoencoder::new(shape).unwrap();
                let mut host = vec![0.0; model.layout().len()];
                model.init(&mut rng, &mut host).unwrap();
                let arena = ParamArena::from_host(&be, model.layout().clone(), &host).unwrap();
                let mut ws = model.workspace(&be, w.batch).unwrap();
                let x: Vec<f32> = (0..w.batch * VAE[0])
                    .map(|_| rng.gen_range(-1.0..1.0))
                    .collect();
                let eps: Vec<f32> = (0..w.batch * VAE[3])
                    .map(|_| rng.gen_range(-1.0..1.0))
                    .collect();
                be.upload(&x, be.view_mut(&mut ws.x, 0..x.len())).unwrap();
                be.upload(&eps, be.view_mut(&mut ws.eps, 0..eps.len()))
                    .unwrap();
                let adam = Adam::new(&be, arena.len(), 1e-3, AdamPreset::Default).unwrap();
                Ours::Vae {
                    model,
                    arena,
                    ws,
                    adam,
                    slots: vec![0.0; 2],
                    mu: vec![0.0; w.batch * VAE[3]],
                    logvar: vec![0.0; w.batch * VAE[3]],
                    train: w.kind == Kind::VaeTrain,
                    rows: w.batch,
                }
            }
        }
    }

    fn call(&mut self) {
        let be = Cpu;
        match self {
            Ours::Classifier {
                net,
                arena,
                ws,
                adam,
                loss,
                train,
            } => {
                net.forward(&be, &arena.params, ws).unwrap();
                if *train {
                    net.loss(&be, ws, &mut loss[..]).unwrap();
                    arena.zero_grads(&be).unwrap();
                    net.backward(&be, &arena.params, &mut arena.grads, ws)
                        .unwrap();
                    adam.step(&be, &mut arena.params, &arena.grads).unwrap();
                }
            }
            Ours::Vae {
                model,
                arena,
                ws,
                adam,
                slots,
                mu,
                logvar,
                train,
                rows,
            } => {
                if *train {
                    let (recon, kl) = slots.split_at_mut(1);
                    model
                        .forward(&be, &arena.params, ws, *rows, recon, kl)
                        .unwrap();
                    model
                        .backward(&be, &arena.params, &mut arena.grads, ws, *rows)
                        .unwrap();
                    adam.step(&be, &mut arena.params, &arena.grads).unwrap();
                } else {
                    model
                        .encode(&be, &arena.params, ws, *rows, mu, logvar)
                        .unwrap();
                }
            }
        }
    }
}

/// The PyTorch server process (`pytorch_reference.py`).
struct Torch {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    version: String,
}

impl Torch {
    fn start(python: &str) -> Option<Self> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/pytorch_reference.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| eprintln!("cannot start {python}: {e}"))
            .ok()?;
        let stdin = child.stdin.take()?;
        let mut stdout = BufReader::new(child.stdout.take()?);
        let mut ready = String::new();
        stdout.read_line(&mut ready).ok()?;
        if !ready.starts_with("ready") {
            eprintln!("the PyTorch reference did not start: {ready}");
            return None;
        }
        Some(Torch {
            child,
            stdin,
            stdout,
            version: ready.trim().trim_start_matches("ready ").to_owned(),
        })
    }

    /// Median wall and CPU seconds of `reps` calls (after warm-up on first use).
    fn time(&mut self, w: Workload, threads: usize, reps: usize) -> (f64, f64) {
        writeln!(
            self.stdin,
            "{} {} {} {threads} {reps}",
            w.torch_name(),
            w.hidden,
            w.batch
        )
        .unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let mut f = line.split_whitespace();
        assert_eq!(f.next(), Some("ok"), "PyTorch reference: {line}");
        let wall = f.next().unwrap().parse().unwrap();
        let cpu = f.nth(1).unwrap().parse().unwrap();
        (wall, cpu)
    }

    /// The child's user + system ticks so far.
    fn ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let Some(end) = stat.rfind(')') else {
            return 0;
        };
        let f: Vec<&str> = stat[end + 2..].split_whitespace().collect();
        let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        get(11) + get(12)
    }
}

impl Drop for Torch {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rounds = env_usize("ROUNDS", 7);
    let reps = env_usize("REPS", 3);
    let only = std::env::var("ONLY").ok();
    let mut torch = std::env::var("VAESER_TORCH_PYTHON")
        .ok()
        .and_then(|p| Torch::start(&p));
    let peak = FmaPeak::measure(5);
    let mut p16 = peak.lanes16.unwrap_or(2.0 * peak.lanes8);
    let mut rows = vec![];
    println!(
        "vaeser vs PyTorch ({}), {} ({}); FMA peak of one core at the start: {:.0} GFLOP/s \
         with 8 lanes, {:.0} with 16; {rounds} rounds x median of {reps}",
        torch
            .as_ref()
            .map_or("not run: set VAESER_TORCH_PYTHON", |t| t.version.as_str()),
        Cpu.describe(),
        if cfg!(target_feature = "avx512f") {
            "compiled for avx512f"
        } else {
            "compiled for x86-64-v3"
        },
        peak.lanes8,
        p16
    );
    let mut workloads = vec![];
    for kind in [Kind::ClassifierTrain, Kind::ClassifierInfer] {
        for hidden in [128, 256] {
            for batch in [32, 256] {
                workloads.push(Workload {
                    kind,
                    hidden,
                    batch,
                });
            }
        }
    }
    for kind in [Kind::VaeTrain, Kind::VaeInfer] {
        workloads.push(Workload {
            kind,
            hidden: 0,
            batch: 256,
        });
    }
    for w in workloads {
        if only
            .as_ref()
            .is_some_and(|o| !w.name().contains(o.as_str()))
        {
            continue;
        }
        let mut ours = Ours::new(w);
        for threads in [1, 2] {
            eprintln!("{} threads {threads}", w.name());
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            // Warm our side too (first-touch page faults, the packed
            // buffers' thread-local slots).
            for _ in 0..3 {
                pool.install(|| ours.call());
            }
            let (mut trials, mut cpu_ratio) = (vec![], vec![]);
            for _ in 0..rounds {
                let mut watch = load::Watch::start();
                let mut ours_cpu = vec![];
                let t_ours = median_seconds(
                    || {
                        let c = load::cpu_ns();
                        pool.install(|| ours.call());
                        ours_cpu.push((load::cpu_ns() - c) as f64 * 1e-9);
                    },
                    reps,
                );
                let (t_torch, torch_cpu) = match torch.as_mut() {
                    Some(t) => {
                        let before = t.ticks();
                        let s = t.time(w, threads, reps);
                        watch.excused_ticks = t.ticks().saturating_sub(before);
                        s
                    }
                    None => (f64::NAN, f64::NAN),
                };
                // Ratio of throughputs = PyTorch time / our time.
                trials.push((t_torch, t_ours, watch.foreign_load()));
                cpu_ratio.push(torch_cpu / median(&mut ours_cpu));
            }
            let (mut tt, mut to, mut ratio, note) = load::keep_clean(&trials);
            let (t_torch, t_ours, r) = (median(&mut tt), median(&mut to), median(&mut ratio));
            let cpu = if threads == 1 {
                format!("{:.2}", median(&mut cpu_ratio))
            } else {
                "-".into()
            };
            // Also at once, for runs cut short.
            eprintln!(
                "  ours {:.3} ms, PyTorch {:.3} ms, ratio {r:.2}, CPU ratio {cpu}, {note}",
                t_ours * 1e3,
                t_torch * 1e3
            );
            rows.push((w, threads, t_ours, t_torch, r, cpu, note));
            // Re-measured between workloads: interference only lowers it.
            let p = FmaPeak::measure(3);
            p16 = p16.max(p.lanes16.unwrap_or(2.0 * p.lanes8));
        }
    }
    println!(
        "16-lane FMA peak of one core, fastest of the run: {p16:.0} GFLOP/s; ratio = PyTorch time / \
         ours (> 1: ours faster), wall clock; CPU ratio = the same from on-CPU time (1 thread)"
    );
    println!(
        "| workload | threads | ours ms | PyTorch ms | ratio | CPU ratio | ours GFLOP/s | of 16-lane peak | PyTorch GFLOP/s | rounds kept |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (w, threads, t_ours, t_torch, r, cpu, note) in rows {
        let gf = w.flops() / t_ours * 1e-9;
        println!(
            "| {} | {threads} | {:.3} | {:.3} | {r:.2} | {cpu} | {gf:.0} | {:.0}% | {:.0} | {note} |",
            w.name(),
            t_ours * 1e3,
            t_torch * 1e3,
            100.0 * gf / (p16 * threads as f64),
            w.flops() / t_torch * 1e-9,
        );
    }
}
