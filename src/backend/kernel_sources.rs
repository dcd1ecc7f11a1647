//! The CUDA C sources of the GPU backend, embedded in the binary so that a
//! build runs from any directory. This module is compiled without the
//! `cuda` feature too: the test that compiles every kernel with NVRTC on a
//! machine without a GPU (tests/cuda_kernels_compile.rs) reads it.

/// The header every family starts with (macros, activations, the fixed
/// reduction tree).
pub const COMMON: &str = include_str!("../../kernels/common.cuh");

/// One kernel family: a `.cu` file and the `extern "C"` kernels it defines.
#[derive(Clone, Copy, Debug)]
pub struct Family {
    /// The file's stem under `kernels/` (`dense` for `kernels/dense.cu`).
    pub name: &'static str,
    /// The CUDA C source, without the [`COMMON`] header.
    pub source: &'static str,
    /// Names of the `extern "C"` kernels the source defines, as the loader looks them up.
    pub kernels: &'static [&'static str],
}

/// Every family under kernels/.
pub const FAMILIES: [Family; 6] = [
    Family {
        name: "dense",
        source: include_str!("../../kernels/dense.cu"),
        kernels: &[
            "bias_act_forward",
            "act_backward",
            "copy_block",
            "fill",
            "scale_rows",
        ],
    },
    Family {
        name: "reduce",
        source: include_str!("../../kernels/reduce.cu"),
        kernels: &["col_sum", "finish_sum"],
    },
    Family {
        name: "lstm",
        source: include_str!("../../kernels/lstm.cu"),
        kernels: &["lstm_cell_forward", "lstm_cell_backward"],
    },
    Family {
        name: "gaussian",
        source: include_str!("../../kernels/gaussian.cu"),
        kernels: &["gaussian_forward", "gaussian_backward"],
    },
    Family {
        name: "loss",
        source: include_str!("../../kernels/loss.cu"),
        kernels: &["sse_loss", "softmax_xent"],
    },
    Family {
        name: "adam",
        source: include_str!("../../kernels/adam.cu"),
        kernels: &["adam"],
    },
];

/// The translation unit NVRTC compiles for one family: the shared header,
/// then the family's source (NVRTC has no file system to `#include` from).
pub fn program(family: &Family) -> String {
    format!(
        "{COMMON}\n// ---- kernels/{}.cu ----\n{}",
        family.name, family.source
    )
}

/// Threads per block of the element-wise launches, and of both stages of a
/// reduction (must equal `REDUCE_THREADS` in common.cuh).
pub const REDUCE_THREADS: u32 = 256;
/// Blocks of the first stage of a reduction (`REDUCE_BLOCKS` in common.cuh):
/// fixed, so that each value's place in the sum tree is too.
pub const REDUCE_BLOCKS: u32 = 128;

#[cfg(test)]
mod tests {
    use super::*;

    /// The launch code sizes reductions with these constants; the kernels
    /// with the header's macros. They must agree, or partial sums are lost.
    #[test]
    fn reduction_sizes_match_the_header() {
        assert!(COMMON.contains(&format!("#define REDUCE_THREADS {REDUCE_THREADS}\n")));
        assert!(COMMON.contains(&format!("#define REDUCE_BLOCKS {REDUCE_BLOCKS}\n")));
    }

    /// Every kernel the backend loads is defined in its family's source.
    #[test]
    fn every_listed_kernel_is_defined() {
        for f in &FAMILIES {
            for k in f.kernels {
                let decl = format!("extern \"C\" __global__ void {k}(");
                assert!(f.source.contains(&decl), "{} lacks {k}", f.name);
            }
        }
    }
}
