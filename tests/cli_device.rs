//! `--device`: the CPU is always there; a build without the `cuda` feature
//! answers `--device cuda` with one clear line and a non-zero exit, never a
//! panic; an unknown device is a usage error naming the choices.

use std::process::Command;

fn vaeser(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vaeser"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cpu_is_the_default_and_can_be_named() {
    for args in [&["config"][..], &["--device", "cpu", "config"][..]] {
        let o = vaeser(args);
        assert!(o.status.success(), "{args:?}: {o:?}");
        assert!(String::from_utf8_lossy(&o.stdout).contains("[learner]"));
    }
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_without_the_feature_is_a_clear_error() {
    let o = vaeser(&[
        "--device",
        "cuda",
        "predict",
        "--model",
        "m.safetensors",
        "a.wav",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("built without CUDA support: rebuild with --features cuda"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_unknown_device_names_the_choices() {
    let o = vaeser(&["--device", "tpu", "config"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("tpu") && err.contains("cpu or cuda"), "{err}");
}
