//! Records how the binary was built, for `vaeser --version` and every run's
//! manifest.json: the git commit (with `-dirty` when the sources differ from
//! it), the rustc version, the target and the target features the code was
//! compiled for. Without git (a source tarball) the commit reads "unknown".

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
