//! Which instruction set the element-wise kernels run, chosen once when the
//! program first needs it.
//!
//! The build pins x86-64-v3 (so `wide::f32x8` is 8-lane AVX2 + FMA); on a
//! CPU with AVX-512F the kernels of `simd16.rs` run the same operations on
//! 16 lanes instead. Every operation there is lane-wise and transcribes the
//! 8-lane code in the same order, so both give the same bits for every
//! element: the choice changes speed, never results (the tests compare the
//! two bit for bit). `VAESER_NO_AVX512=1` at run time (or at build time,
//! which leaves the 16-lane code out) forces the 8-lane path.

use std::sync::OnceLock;

/// The element-wise kernels' instruction set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementWise {
    /// `simd16.rs`: AVX-512F, 16 lanes.
    Lanes16,
    /// `wide::f32x8` as compiled (AVX2 + FMA under the x86-64-v3 pin).
    Lanes8,
}

impl ElementWise {
    /// The instruction set in words, as provenance records it.
    pub fn name(self) -> &'static str {
        match self {
            ElementWise::Lanes16 => "avx512f (16 lanes)",
            ElementWise::Lanes8 => {
                if cfg!(all(target_feature = "avx2", target_feature = "fma")) {
                    "avx2+fma (8 lanes)"
                } else {
                    "portable (8 lanes)"
                }
            }
        }
    }
}

/// The element-wise instruction set of this process (detected once).
pub fn element_wise() -> ElementWise {
    if avx512_allowed() {
        ElementWise::Lanes16
    } else {
        ElementWise::Lanes8
    }
}

/// Whether this process runs its own AVX-512 kernels (the 16-lane
/// element-wise kernels and `gemm512.rs`): the build has them, the CPU has
/// AVX-512F and `VAESER_NO_AVX512=1` is not set. Decided once. Neither
/// choice changes a bit of any result; the variable exists to compare
/// speeds side by side and to run the portable paths on this hardware.
pub fn avx512_allowed() -> bool {
    static CHOICE: OnceLock<bool> = OnceLock::new();
    *CHOICE.get_or_init(|| {
        let forced_off = std::env::var_os("VAESER_NO_AVX512").is_some_and(|v| v == "1");
        !forced_off && lanes16_available()
    })
}

/// Whether this build has the 16-lane kernels and this CPU can run them.
pub fn lanes16_available() -> bool {
    #[cfg(all(target_arch = "x86_64", vaeser_avx512))]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(all(target_arch = "x86_64", vaeser_avx512)))]
    {
        false
    }
}
