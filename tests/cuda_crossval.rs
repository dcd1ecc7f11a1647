//! `vaeser crossval --device cuda` on the synthetic corpus against the same
//! command on the CPU, and two GPU runs giving the same bytes; and, on a
//! machine without a GPU, `--device cuda` failing with one clear line.
//!
//! Built only with `--features cuda`.
//!
//! Tolerance of the metrics: GPU and CPU parameters agree closely after a few
//! steps (cuda_training.rs) but not bit for bit, and over whole fits with
//! early stopping the small differences can move a stopping epoch or flip a
//! test utterance whose class probabilities are nearly tied. Each fold then
//! moves by 1/n_test; the pooled WA and UA must stay within 0.05 of the
//! CPU's, with the same folds and test counts.
#![cfg(feature = "cuda")]

mod experiment_support;

use experiment_support::{check, corpus, s, scratch, tiny_config, vaeser};
use vaeser::eval::results::CellResult;

/// Whether the CUDA backend comes up; where `VAESER_REQUIRE_CUDA=1` demands
/// it (CI on the emulated driver, benches/gpu_check.sh), its absence fails.
fn gpu_present() -> bool {
    match vaeser::backend::cuda::Cuda::new() {
        Ok(_) => true,
        Err(e) => {
            let required = std::env::var("VAESER_REQUIRE_CUDA")
                .is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
            assert!(!required, "VAESER_REQUIRE_CUDA is set but: {e}");
            eprintln!("no CUDA backend here: {e}");
            false
        }
    }
}

fn crossval(device: &str, dir: &std::path::Path, tag: &str) -> (CellResult, Vec<u8>) {
    let config = tiny_config(dir);
    let out = dir.join(tag);
    let o = vaeser(
        &[
            "--device",
            device,
            "crossval",
            "--corpus",
            "synth",
            "--data",
            s(corpus()),
            "--learner",
            "vae",
            "--latent",
            "8",
            "--config",
            s(&config),
            "--out",
            s(&out),
        ],
        &[],
    );
    check(&o, &format!("crossval on {device}"));
    let bytes = std::fs::read(out.join("vae-categorical-complete-L8.json")).unwrap();
    (serde_json::from_slice(&bytes).unwrap(), bytes)
}

#[test]
fn crossval_on_the_gpu_matches_the_cpu_and_repeats() {
    if !gpu_present() {
        eprintln!("skipped: crossval CPU vs GPU needs a GPU");
        return;
    }
    let dir = scratch("cuda-crossval");
    let (cpu, _) = crossval("cpu", &dir, "cpu");
    let (gpu, gpu_bytes) = crossval("cuda", &dir, "gpu-a");
    let (_, again) = crossval("cuda", &dir, "gpu-b");
    assert!(
        gpu_bytes == again,
        "two GPU crossval runs wrote different results"
    );
    assert_eq!(cpu.folds.len(), gpu.folds.len());
    for (c, g) in cpu.folds.iter().zip(&gpu.folds) {
        assert_eq!((c.n_train, c.n_test), (g.n_train, g.n_test), "fold sizes");
    }
    let (c, g) = (&cpu.summary.pooled, &gpu.summary.pooled);
    assert!((c.wa - g.wa).abs() <= 0.05, "WA cpu {} gpu {}", c.wa, g.wa);
    assert!((c.ua - g.ua).abs() <= 0.05, "UA cpu {} gpu {}", c.ua, g.ua);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Without a GPU (or its libraries), `--device cuda` is one line on stderr
/// naming what is missing, and an error status: never a panic.
#[test]
fn device_cuda_without_a_gpu_is_one_clear_error() {
    if gpu_present() {
        eprintln!("skipped: this machine has a GPU");
        return;
    }
    let dir = scratch("cuda-absent");
    let o = vaeser(
        &[
            "--device",
            "cuda",
            "crossval",
            "--corpus",
            "synth",
            "--data",
            s(corpus()),
            "--learner",
            "ae",
            "--out",
            s(&dir.join("out")),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "--device cuda without a GPU succeeded");
    assert!(!stderr.contains("panicked"), "a panic: {stderr}");
    assert!(
        stderr.contains("cuda"),
        "the error names the device: {stderr}"
    );
    assert!(
        stderr.contains("LD_LIBRARY_PATH") || stderr.contains("GPU"),
        "the error says what to do: {stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
