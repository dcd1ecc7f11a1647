//! Bringing the GPU up: the CUDA libraries checked before cudarc touches
//! them (cudarc panics when one is missing), the context and stream, the
//! cuBLAS handle, and the kernels compiled by NVRTC once per process.

use crate::backend::kernel_sources::{program, FAMILIES};
use crate::error::{Error, Result};
use cudarc::cublas::CudaBlas;
use cudarc::driver::{CudaContext, CudaFunction, CudaStream};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions, Ptx};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Errors naming the first CUDA library the dynamic loader cannot find, and
/// how to point it there. Must run before any other cudarc call.
pub fn check_libraries() -> Result<()> {
    // SAFETY: these only try to open the libraries (dlopen) and close them.
    let present = unsafe {
        [
            (
                cudarc::driver::sys::is_culib_present(),
                "the CUDA driver library libcuda.so (comes with the NVIDIA driver)",
            ),
            (
                cudarc::nvrtc::sys::is_culib_present(),
                "NVRTC, libnvrtc.so.13 (CUDA toolkit, or `pip install nvidia-cuda-nvrtc`)",
            ),
            (
                cudarc::cublas::sys::is_culib_present(),
                "cuBLAS, libcublas.so.13 (CUDA toolkit, or `pip install nvidia-cublas`)",
            ),
        ]
    };
    for (found, what) in present {
        if !found {
            return Err(Error::Device(format!(
                "--device cuda: cannot load {what}; put its folder on LD_LIBRARY_PATH \
                 (e.g. /usr/local/cuda/lib64)"
            )));
        }
    }
    Ok(())
}

fn driver_error(what: &str) -> impl Fn(cudarc::driver::DriverError) -> Error + '_ {
    move |e| Error::Device(format!("cuda: {what}: {e}"))
}

/// The context of GPU `ordinal` and its stream, after checking that there is one.
pub fn open(ordinal: usize) -> Result<(Arc<CudaContext>, Arc<CudaStream>)> {
    let count = CudaContext::device_count().map_err(|e| {
        Error::Device(format!(
            "--device cuda: the CUDA driver found no usable GPU ({e}); check nvidia-smi"
        ))
    })?;
    if count <= ordinal as i32 {
        return Err(Error::Device(format!(
            "--device cuda: GPU {ordinal} requested, {count} present (CUDA_VISIBLE_DEVICES?)"
        )));
    }
    let ctx = CudaContext::new(ordinal).map_err(driver_error("creating the context"))?;
    // Every operation of the backend runs on one stream, in issue order, so
    // cudarc's per-buffer events (for work spread over several streams)
    // would only add overhead.
    // SAFETY: nothing has been issued on the context yet.
    unsafe { ctx.disable_event_tracking() };
    if ctx.has_async_alloc() {
        keep_freed_memory_in_the_pool(&ctx)?;
    }
    let stream = ctx.default_stream();
    Ok((ctx, stream))
}

/// The release threshold of the device's default memory pool, in bytes.
/// The driver's default, 0, hands every freed block back to the OS at each
/// synchronisation, so the next allocation of a training step is a slow
/// driver call again; with no threshold the pool keeps what the process
/// freed and allocations are served from it.
pub const POOL_RELEASE_THRESHOLD: u64 = u64::MAX;

/// Reads (`write` false) or sets (`write` true) the release threshold of the
/// device's default memory pool through `threshold`.
fn pool_threshold(ctx: &CudaContext, threshold: &mut u64, write: bool) -> Result<()> {
    use cudarc::driver::result::{device, mem_pool};
    use cudarc::driver::sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD as ATTR;
    let value = threshold as *mut u64 as *mut std::ffi::c_void;
    // SAFETY: the device is the context's; the attribute is a u64.
    unsafe {
        let pool = device::get_default_mem_pool(ctx.cu_device())
            .map_err(driver_error("reading the default memory pool"))?;
        if write {
            mem_pool::set_attribute(pool, ATTR, value)
        } else {
            mem_pool::get_attribute(pool, ATTR, value)
        }
    }
    .map_err(driver_error("the memory pool's release threshold"))
}

/// The default memory pool's release threshold as the driver reports it.
pub fn pool_release_threshold(ctx: &CudaContext) -> Result<u64> {
    let mut threshold = 0;
    pool_threshold(ctx, &mut threshold, false)?;
    Ok(threshold)
}

fn keep_freed_memory_in_the_pool(ctx: &CudaContext) -> Result<()> {
    let mut threshold = POOL_RELEASE_THRESHOLD;
    pool_threshold(ctx, &mut threshold, true)
}

/// A cuBLAS handle on `stream` in the default math mode: FP32 GEMMs in FP32
/// (no TF32 tensor-core rounding), as on the CPU.
pub fn blas(stream: Arc<CudaStream>) -> Result<CudaBlas> {
    let blas = CudaBlas::new(stream)
        .map_err(|e| Error::Device(format!("cuda: creating the cuBLAS handle: {e}")))?;
    use cudarc::cublas::sys::{cublasMath_t, cublasSetMathMode, cublasStatus_t};
    // SAFETY: the handle is valid for the lifetime of `blas`.
    let status = unsafe { cublasSetMathMode(*blas.handle(), cublasMath_t::CUBLAS_DEFAULT_MATH) };
    if status != cublasStatus_t::CUBLAS_STATUS_SUCCESS {
        return Err(Error::Device(format!(
            "cuda: setting cuBLAS's math mode: {status:?}"
        )));
    }
    Ok(blas)
}

/// The PTX of every family for one architecture (`compute_XY`), compiled
/// the first time a context of that architecture asks: later contexts of the
/// process (one per command, or per test) reuse it.
fn ptx_for(arch: &str) -> Result<Vec<String>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Vec<String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(ptx) = cache.get(arch) {
        return Ok(ptx.clone());
    }
    let mut out = Vec::with_capacity(FAMILIES.len());
    for family in &FAMILIES {
        let opts = CompileOptions {
            // Contraction into FMAs stays on (NVRTC's default): the CPU
            // kernels use FMAs too, in other places; the parity tests'
            // tolerances cover the difference.
            options: vec![format!("--gpu-architecture={arch}")],
            name: Some(format!("{}.cu", family.name)),
            ..Default::default()
        };
        let ptx = compile_ptx_with_opts(program(family), opts).map_err(|e| {
            Error::Device(format!(
                "cuda: NVRTC cannot compile kernels/{}.cu for {arch}: {e:?}",
                family.name
            ))
        })?;
        out.push(ptx.to_src());
    }
    cache.insert(arch.to_string(), out.clone());
    Ok(out)
}

/// Every kernel of the backend, loaded into one context.
pub struct Kernels {
    functions: HashMap<&'static str, CudaFunction>,
}

impl Kernels {
    pub fn load(ctx: &Arc<CudaContext>) -> Result<(Kernels, String)> {
        let (major, minor) = ctx
            .compute_capability()
            .map_err(driver_error("reading the compute capability"))?;
        let arch = format!("compute_{major}{minor}");
        let ptx = ptx_for(&arch)?;
        let mut functions = HashMap::new();
        for (family, ptx) in FAMILIES.iter().zip(ptx) {
            let module = ctx.load_module(Ptx::from_src(ptx)).map_err(|e| {
                Error::Device(format!(
                    "cuda: loading kernels/{}.cu ({arch}): {e} (a driver older than NVRTC \
                     rejects its PTX: update the driver or use an older libnvrtc)",
                    family.name
                ))
            })?;
            for &name in family.kernels {
                let f = module
                    .load_function(name)
                    .map_err(driver_error("loading a kernel"))?;
                functions.insert(name, f);
            }
        }
        Ok((Kernels { functions }, format!("sm_{major}{minor}")))
    }

    /// The kernel called `name` (one of `kernel_sources::FAMILIES`).
    pub fn get(&self, name: &str) -> &CudaFunction {
        // Every name the backend asks for is listed in FAMILIES, whose
        // kernels are all loaded above (a unit test checks the list
        // against the sources).
        &self.functions[name]
    }
}
