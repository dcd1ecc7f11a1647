//! One test body on every backend this build has (candle's pattern):
//! `on_each_backend!(name, body)` makes `name::cpu`, and with the `cuda`
//! feature `name::cuda`, which skips with a printed reason where no GPU is
//! present. A body is `fn body<B: Backend>(be: &B)` and moves data with the
//! helpers below, so it never assumes host memory.

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

/// The CUDA backend, or `None` (with the reason printed) without a GPU.
#[cfg(feature = "cuda")]
pub fn cuda() -> Option<vaeser::backend::cuda::Cuda> {
    match vaeser::backend::cuda::Cuda::new() {
        Ok(be) => Some(be),
        Err(e) => {
            println!("skipped on CUDA: {e}");
            None
        }
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
