//! One test body on every backend this build has (candle's pattern):
//! `on_each_backend!(name, body)` makes `name::cpu`, and with the `cuda`
//! feature `name::cuda`, which skips with a printed reason where no GPU is
//! present, and fails instead where `VAESER_REQUIRE_CUDA=1` says a CUDA
//! device must be there (CI with the emulated driver, benches/gpu_check.sh
//! on a GPU machine): a CUDA test that skips there is not a pass. A body is
//! `fn body<B: Backend>(be: &B)` and moves data with the helpers below, so
//! it never assumes host memory.

use vaeser::backend::Backend;

/// Runs `$body` on each available backend, as tests in module `$name`.
#[macro_export]
macro_rules! on_each_backend {
    ($name:ident, $body:ident) => {
        mod $name {
            #[test]
            fn cpu() {
                super::$body(&vaeser::backend::cpu::Cpu);
            }

            #[cfg(feature = "cuda")]
            #[test]
            fn cuda() {
                match $crate::common::backends::cuda() {
                    Some(be) => super::$body(&be),
                    None => {}
                }
            }
        }
    };
}

/// Whether the environment demands a CUDA device (`VAESER_REQUIRE_CUDA`
/// set to anything but empty, `0` or `false`).
pub fn cuda_required() -> bool {
    std::env::var("VAESER_REQUIRE_CUDA").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The CUDA backend, or `None` (with the reason printed) without a GPU;
/// a panic instead when [`cuda_required`].
#[cfg(feature = "cuda")]
pub fn cuda() -> Option<vaeser::backend::cuda::Cuda> {
    match vaeser::backend::cuda::Cuda::new() {
        Ok(be) => Some(be),
        Err(e) if cuda_required() => {
            panic!("VAESER_REQUIRE_CUDA is set but the CUDA backend is unavailable: {e}")
        }
        Err(e) => {
            println!("skipped on CUDA: {e}");
            None
        }
    }
}

/// `alone` and `batched` are one sequence's results computed alone and
/// inside a padded batch: equal where the backend promises it
/// ([`Backend::BATCH_INVARIANT_BITS`]; a gradient of -0.0 alone may become
/// +0.0 once other sequences add their exact zeros), otherwise within
/// [`vaeser::backend::BATCH_TOLERANCE`] of the tensor's largest magnitude.
pub fn assert_batch_invariant<B: Backend>(what: &str, alone: &[f32], batched: &[f32]) {
    assert_eq!(alone.len(), batched.len(), "{what}: lengths");
    if B::BATCH_INVARIANT_BITS {
        assert_eq!(alone, batched, "{what}: alone vs in a batch");
        return;
    }
    let scale = alone
        .iter()
        .chain(batched)
        .fold(0.0f32, |m, x| m.max(x.abs()));
    let bound = vaeser::backend::BATCH_TOLERANCE * scale;
    for (i, (a, b)) in alone.iter().zip(batched).enumerate() {
        assert!(
            (a - b).abs() <= bound,
            "{what}[{i}]: alone {a} vs in a batch {b}, beyond {bound}"
        );
    }
}

/// A backend buffer holding `values`.
pub fn upload<B: Backend>(be: &B, values: &[f32]) -> B::Buf {
    let mut buf = be.alloc(values.len()).unwrap();
    be.upload(values, be.view_mut(&mut buf, 0..values.len()))
        .unwrap();
    buf
}

/// A backend index buffer holding `values`.
pub fn upload_index<B: Backend>(be: &B, values: &[u32]) -> B::Index {
    let mut buf = be.alloc_index(values.len()).unwrap();
    be.upload_index(values, &mut buf).unwrap();
    buf
}

/// All values of a backend buffer, on the host.
pub fn download<B: Backend>(be: &B, buf: &B::Buf) -> Vec<f32> {
    let n = be.len(buf);
    let mut out = vec![0.0; n];
    be.download(be.view(buf, 0..n), &mut out).unwrap();
    out
}
