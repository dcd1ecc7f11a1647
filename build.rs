//! Records how the binary was built, for `vaeser --version` and every run's
//! manifest.json: the git commit (with `-dirty` when the sources differ from
//! it), the rustc version, the target and the target features the code was
//! compiled for. Without git (a source tarball) the commit reads "unknown".
//!
//! Also sets `cfg(vaeser_avx512)` when the compiler has stable AVX-512
//! intrinsics and `#[target_feature(enable = "avx512f")]` (Rust 1.89), so
//! that the crate still builds with its declared minimum (1.80): older
//! compilers leave out the AVX-512 kernels, and the CPU backend then runs
//! its portable paths on every CPU. `VAESER_NO_AVX512=1` leaves them out
//! too, to test those paths on an AVX-512 machine.

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = match output("git", &["rev-parse", "HEAD"]) {
        Some(c) => {
            let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{c}-dirty")
            } else {
                c
            }
        }
        None => "unknown".into(),
    };
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = output(&rustc, &["-V"]).unwrap_or_else(|| "unknown".into());
    avx512_cfg(&rustc_version);
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let target = std::env::var("TARGET").unwrap_or_default();
    let profile = std::env::var("PROFILE").unwrap_or_default();
    println!("cargo:rustc-env=VAESER_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=VAESER_RUSTC={rustc_version}");
    println!("cargo:rustc-env=VAESER_TARGET={target}");
    println!("cargo:rustc-env=VAESER_TARGET_FEATURES={features}");
    println!("cargo:rustc-env=VAESER_PROFILE={profile}");
    // Rebuilt when a commit is made or a tracked source changes, so the
    // commit and its dirty mark stay true.
    if let Some(git_dir) = output("git", &["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={git_dir}/HEAD");
        println!("cargo:rerun-if-changed={git_dir}/index");
        if let Some(head_ref) = output("git", &["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={git_dir}/{head_ref}");
        }
    }
    for path in ["src", "kernels", "Cargo.toml", "Cargo.lock", "build.rs"] {
        println!("cargo:rerun-if-changed={path}");
    }
}

/// `cfg(vaeser_avx512)` from the compiler's version ("rustc 1.95.0 (...)").
fn avx512_cfg(rustc_version: &str) {
    println!("cargo:rustc-check-cfg=cfg(vaeser_avx512)");
    println!("cargo:rerun-if-env-changed=VAESER_NO_AVX512");
    if std::env::var_os("VAESER_NO_AVX512").is_some_and(|v| v == "1") {
        return;
    }
    let minor = rustc_version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok());
    if minor.is_some_and(|m| m >= 89) {
        println!("cargo:rustc-cfg=vaeser_avx512");
    }
}
