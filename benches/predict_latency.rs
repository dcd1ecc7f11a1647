//! The compute of `vaeser predict` on one 4 s recording at 16 kHz with a
//! model of the SPEC's sizes (VAE 800-512-256-128, two LSTM layers of 128,
//! dense 64, 4 classes), model loading excluded, split by stage:
//! LogMel front end, segmenting, the encoder over the segments, the LSTM
//! classifier; and the whole `predict_samples` call (the four together).
//!
//! Stages alternate within each round (so foreign load falls on all of
//! them alike); each figure is the median over `ROUNDS` rounds of the
//! median of `REPS` calls, at 1 thread and at the pool's default. At one
//! thread the table also gives on-CPU time (the thread's CPU clock), which time slicing
//! on a busy machine does not inflate: under load a 1.5 ms call is often
//! descheduled part-way, a 0.3 ms stage rarely.
//!
//! `cargo bench --bench predict_latency` (`ROUNDS`, `REPS` to change the counts)

#[path = "support/peak.rs"]
#[allow(dead_code)]
mod peak;
#[path = "support/spec_bundle.rs"]
mod spec_bundle;

use peak::median;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;
use vaeser::backend::cpu::Cpu;
use vaeser::features::segments::segments;
use vaeser::predict::samples::logmel_of;

const RATE: u32 = 16_000;
const SECONDS: usize = 4;

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// Seconds the calling thread has run on a CPU (`CLOCK_THREAD_CPUTIME_ID`,
/// exact, unlike schedstat's tick-granular figure for a running thread).
fn thread_cpu_seconds() -> f64 {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: a valid clock id and a valid pointer to a C timespec.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.sec as f64 + ts.nsec as f64 * 1e-9
}

/// Median wall-clock and on-CPU seconds (of the calling thread) of `reps`
/// calls, after one more.
fn time(mut f: impl FnMut(), reps: usize) -> (f64, f64) {
    f();
    let (mut wall, mut cpu) = (vec![], vec![]);
    for _ in 0..reps {
        let (t, c) = (Instant::now(), thread_cpu_seconds());
        f();
        cpu.push(thread_cpu_seconds() - c);
        wall.push(t.elapsed().as_secs_f64());
    }
    (median(&mut wall), median(&mut cpu))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rounds = env_usize("ROUNDS", 15);
    let reps = env_usize("REPS", 5);
    let model = spec_bundle::spec_bundle();
    // A voiced-like signal: a few harmonics under a slow envelope, plus noise.
    let mut noise = vec![0.0f32; SECONDS * RATE as usize];
    vaeser::nn::init::uniform(
        &mut vaeser::rng::stream(2, "bench-audio", 0, 0),
        0.01,
        &mut noise,
    );
    let samples: Vec<f32> = noise
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let t = i as f32 / RATE as f32;
            let env = 0.5 + 0.5 * (2.0 * std::f32::consts::PI * 3.0 * t).sin();
            let tone: f32 = (1..=5)
                .map(|h| (2.0 * std::f32::consts::PI * 180.0 * h as f32 * t).sin() / h as f32)
                .sum();
            0.2 * env * tone + n
        })
        .collect();
    let source = Path::new("<bench>");
    let logmel = logmel_of(&samples, RATE);
    let segs = segments(&logmel, &model.learner.segments, source).unwrap();
    let options = model.encode_options();
    let features = model
        .learner
        .encode_utterance(&segs, None, &options)
        .unwrap();
    println!(
        "predict compute, one {SECONDS} s recording: {} frames, {} segments of {} values, \
         {} classifier steps of {}; {rounds} rounds x median of {reps}; {}",
        logmel.n_frames,
        segs.len() / (model.learner.segments.frames * vaeser::audio::N_MELS),
        model.learner.segments.frames * vaeser::audio::N_MELS,
        features.len() / model.classifier.shape().input,
        model.classifier.shape().input,
        vaeser::backend::Backend::describe(&Cpu),
    );
    for threads in [1, rayon::current_num_threads()] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut wall: [Vec<f64>; 5] = Default::default();
        let mut cpu: [Vec<f64>; 5] = Default::default();
        pool.install(|| {
            // Warm: first-touch page faults, thread-local buffers.
            for _ in 0..3 {
                black_box(model.predict_samples(&samples, RATE).unwrap());
            }
            for _ in 0..rounds {
                let stages: [&dyn Fn(); 5] = [
                    &|| drop(black_box(logmel_of(&samples, RATE))),
                    &|| {
                        drop(black_box(segments(
                            &logmel,
                            &model.learner.segments,
                            source,
                        )))
                    },
                    &|| {
                        drop(black_box(
                            model.learner.encode_utterance(&segs, None, &options),
                        ))
                    },
                    &|| drop(black_box(model.classifier.predict_proba(&[&features]))),
                    &|| drop(black_box(model.predict_samples(&samples, RATE))),
                ];
                for (i, stage) in stages.iter().enumerate() {
                    let (w, c) = time(stage, reps);
                    wall[i].push(w);
                    cpu[i].push(c);
                }
            }
        });
        let row = |times: &mut [Vec<f64>; 5], what: &str| {
            let ms: Vec<f64> = times.iter_mut().map(|t| 1e3 * median(t)).collect();
            println!(
                "| {threads} | {what} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                ms[0],
                ms[1],
                ms[2],
                ms[3],
                ms[0] + ms[1] + ms[2] + ms[3],
                ms[4]
            );
        };
        row(&mut wall, "wall");
        if threads == 1 {
            row(&mut cpu, "on-CPU");
        }
    }
    println!(
        "columns: threads | clock | LogMel ms | segments ms | encoder ms | classifier ms | \
         sum of stages | predict_samples ms"
    );
}
