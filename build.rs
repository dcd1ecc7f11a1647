//! Sets `cfg(vaeser_avx512)` when the compiler has stable AVX-512
//! intrinsics and `#[target_feature(enable = "avx512f")]` (Rust 1.89), so
//! that the crate still builds with its declared minimum (1.80): older
//! compilers leave out the AVX-512 kernels, and the CPU backend then runs
//! its portable paths on every CPU. `VAESER_NO_AVX512=1` leaves them out
//! too, to test those paths on an AVX-512 machine.

use std::process::Command;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(vaeser_avx512)");
    println!("cargo:rerun-if-env-changed=RUSTC");
    println!("cargo:rerun-if-env-changed=VAESER_NO_AVX512");
    if std::env::var_os("VAESER_NO_AVX512").is_some_and(|v| v == "1") {
        return;
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let minor = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| {
            // "rustc 1.95.0 (...)"
            let version = v.split_whitespace().nth(1)?.to_owned();
            version.split('.').nth(1)?.parse::<u32>().ok()
        });
    if minor.is_some_and(|m| m >= 89) {
        println!("cargo:rustc-cfg=vaeser_avx512");
    }
}
