//! LogMel extraction on one core, reported as a real-time factor (seconds of
//! 16 kHz audio per second of computation; the target is at least 2000) next
//! to the time, together with a reference measured in the same run: the
//! half-size complex FFTs alone, one per frame, so the ratio shows what the
//! window, the spectrum split, the mel bands and the logarithm cost on top.
//! Also the 48 kHz -> 16 kHz resampler, as a real-time factor of its input.
//!
//! `cargo bench --bench logmel`

#[path = "support/peak.rs"]
#[allow(dead_code)]
mod peak;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use peak::median_seconds;
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;
use std::hint::black_box;
use vaeser::audio::logmel::{n_frames, LogMelExtractor};
use vaeser::audio::resample::Resampler;

const SECONDS: usize = 10;

/// Deterministic speech-band test signal: two sines and LCG noise.
fn signal(rate: usize) -> Vec<f32> {
    let mut state: u32 = 1;
    (0..SECONDS * rate)
        .map(|i| {
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            let t = i as f32 / rate as f32;
            0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                + 0.1 * (2.0 * std::f32::consts::PI * 2500.0 * t).sin()
                + 0.01 * (state as f32 / u32::MAX as f32 - 0.5)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let audio = signal(16_000);
    let extractor = LogMelExtractor::new();
    let frames = n_frames(audio.len());

    let fft = FftPlanner::<f32>::new().plan_fft_forward(256);
    let mut buffer = vec![Complex::new(0.0f32, 0.0); 256 * frames];
    let mut scratch = vec![Complex::new(0.0f32, 0.0); fft.get_inplace_scratch_len()];
    let mut fft_only = || {
        for (frame, chunk) in buffer.chunks_exact_mut(256).enumerate() {
            let x = &audio[frame * 160..frame * 160 + 512];
            for (i, z) in chunk.iter_mut().enumerate() {
                *z = Complex::new(x[2 * i], x[2 * i + 1]);
            }
            fft.process_with_scratch(chunk, &mut scratch);
        }
        black_box(&buffer);
    };

    let logmel_s = median_seconds(
        || {
            black_box(extractor.compute(black_box(&audio)));
        },
        21,
    );
    let fft_s = median_seconds(&mut fft_only, 21);
    println!(
        "LogMel, {SECONDS} s of 16 kHz audio ({frames} frames), one core: {:.3} ms, {:.2} us/frame, real-time factor {:.0}x (target >= 2000x)",
        logmel_s * 1e3,
        logmel_s * 1e6 / frames as f64,
        SECONDS as f64 / logmel_s
    );
    println!(
        "  reference, the {frames} half-size FFTs alone: {:.3} ms; LogMel / FFT = {:.2}",
        fft_s * 1e3,
        logmel_s / fft_s
    );

    let audio_48k = signal(48_000);
    let resampler = Resampler::new(48_000, 16_000);
    let resample_s = median_seconds(
        || {
            black_box(resampler.process(black_box(&audio_48k)));
        },
        11,
    );
    println!(
        "Resampling 48 kHz -> 16 kHz, {SECONDS} s: {:.3} ms, real-time factor {:.0}x",
        resample_s * 1e3,
        SECONDS as f64 / resample_s
    );
    println!(
        "  (compiled with avx2: {}, fma: {})",
        cfg!(target_feature = "avx2"),
        cfg!(target_feature = "fma")
    );

    let mut group = c.benchmark_group("logmel");
    group.throughput(Throughput::Elements(audio.len() as u64));
    group.bench_function("logmel_10s_16k", |b| {
        b.iter(|| extractor.compute(black_box(&audio)))
    });
    group.bench_function("fft_only_10s_16k", |b| b.iter(&mut fft_only));
    group.throughput(Throughput::Elements(audio_48k.len() as u64));
    group.bench_function("resample_10s_48k_to_16k", |b| {
        b.iter(|| resampler.process(black_box(&audio_48k)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
