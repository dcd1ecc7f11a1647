//! Where a result came from: the build (version, git commit, rustc, target
//! features) and the machine (CPU model, the GEMM micro-kernel chosen when
//! the program runs). Results are bit-identical for one build on one
//! instruction set, not across them, so a manifest without these could not
//! say whether two runs should agree to the bit.

use serde::{Deserialize, Serialize};

/// How this binary was built (captured by build.rs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// The crate version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// `git rev-parse HEAD` at build time, `-dirty` when tracked files differed.
    pub git_commit: String,
    /// `rustc -V` of the compiler that built it ("unknown" if it could not
    /// be run).
    pub rustc: String,
    /// The target triple (`x86_64-unknown-linux-gnu`).
    pub target: String,
    /// Cargo's profile name as build scripts see it: `debug` or `release`
    /// (custom profiles such as `dist` report the one they inherit from).
    pub profile: String,
    /// The target features the code was compiled for (`wide`'s SIMD width
    /// follows them).
    pub target_features: String,
}

/// The machine a run ran on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    /// The CPU model name from /proc/cpuinfo, or the architecture name where
    /// that is not available.
    pub cpu: String,
    /// matrixmultiply's f32 micro-kernel on this CPU.
    pub gemm_kernel: String,
    /// The element-wise kernels' instruction set, chosen at run time
    /// (`backend/cpu/isa.rs`). Both choices give the same bits, so unlike
    /// the GEMM kernel it does not decide whether two runs agree; it is
    /// recorded to explain speed. Absent from manifests written before it was.
    #[serde(default)]
    pub element_wise_kernel: String,
}

/// Build and machine together, as manifests record them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// How the program was built.
    pub build: BuildInfo,
    /// Where it ran.
    pub machine: MachineInfo,
}

impl BuildInfo {
    /// This binary's build, from the values build.rs recorded at compile time.
    pub fn current() -> BuildInfo {
        BuildInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            git_commit: env!("VAESER_GIT_COMMIT").into(),
            rustc: env!("VAESER_RUSTC").into(),
            target: env!("VAESER_TARGET").into(),
            profile: env!("VAESER_PROFILE").into(),
            target_features: env!("VAESER_TARGET_FEATURES").into(),
        }
    }
}

impl MachineInfo {
    /// The machine this process runs on, detected now.
    pub fn current() -> MachineInfo {
        MachineInfo {
            cpu: cpu_model(),
            gemm_kernel: gemm_kernel().into(),
            element_wise_kernel: crate::backend::cpu::isa::element_wise().name().into(),
        }
    }
}

impl Provenance {
    /// This build on this machine.
    pub fn current() -> Provenance {
        Provenance {
            build: BuildInfo::current(),
            machine: MachineInfo::current(),
        }
    }

    /// The lines `vaeser --version` prints.
    pub fn describe(&self) -> String {
        let b = &self.build;
        let m = &self.machine;
        format!(
            "{}\ncommit: {}\nrustc: {}\ntarget: {} ({} profile)\ntarget features: {}\ncpu: {}\n\
             gemm kernel: {}\nelement-wise kernels: {}",
            b.version,
            b.git_commit,
            b.rustc,
            b.target,
            b.profile,
            b.target_features,
            m.cpu,
            m.gemm_kernel,
            m.element_wise_kernel
        )
    }
}

/// The CPU's model name (from /proc/cpuinfo on Linux).
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// The f32 kernel matrixmultiply 0.3 selects at run time, by the same tests
/// in the same order (AVX-512F, then FMA with AVX2, then AVX, then SSE2).
fn gemm_kernel() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return "avx512f";
        }
        if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
        {
            return "fma+avx2";
        }
        if std::arch::is_x86_feature_detected!("avx") {
            return "avx";
        }
        "sse2"
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        "generic"
    }
}
