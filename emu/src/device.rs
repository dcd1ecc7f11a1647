//! The emulated GPU: its memory, its one stream's queue of work, the
//! loaded modules and the sticky error a faulting kernel leaves, behind one
//! lock. Work is queued in issue order and runs when the stream is
//! synchronised (or at once, see [`Settings`]), so a host read that skips
//! the synchronisation sees stale memory, as it may on a GPU.

use crate::gemm::Sgemm;
use crate::kernels::{self, HostKernel};
use crate::memory::Memory;
use crate::ptx;
use crate::status::*;
use std::collections::{HashMap, VecDeque};
use std::ffi::c_void;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// In which order the threads of a block start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ThreadOrder {
    Forward,
    Reverse,
    /// Forward on even launches, reversed on odd ones.
    Alternate,
}

/// Read once from the environment:
/// - `VAESER_CUDA_EMU_SYNC=immediate` runs work as it is issued (default
///   `deferred`: at the next synchronisation);
/// - `VAESER_CUDA_EMU_ORDER=forward|reverse|alternate` (default alternate);
/// - `VAESER_CUDA_EMU_TRACE=1` prints every call on stderr.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub immediate: bool,
    pub order: ThreadOrder,
    pub trace: bool,
}

impl Settings {
    fn from_env() -> Settings {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        let order = match var("VAESER_CUDA_EMU_ORDER").as_str() {
            "forward" => ThreadOrder::Forward,
            "reverse" => ThreadOrder::Reverse,
            _ => ThreadOrder::Alternate,
        };
        Settings {
            immediate: var("VAESER_CUDA_EMU_SYNC") == "immediate",
            order,
            trace: matches!(var("VAESER_CUDA_EMU_TRACE").as_str(), "1" | "true"),
        }
    }
}

/// One operation queued on the stream.
pub enum Work {
    Launch {
        kernel: &'static HostKernel,
        grid: u32,
        block: u32,
        /// The parameters' bytes, copied at the launch as the driver does,
        /// each at an 8-byte aligned offset.
        params: Vec<u64>,
        offsets: Vec<usize>,
    },
    /// Pageable host memory is staged at the call: the caller may reuse
    /// its buffer as soon as the call returns.
    Upload {
        dst: u64,
        bytes: Vec<u8>,
    },
    Download {
        dst: usize,
        src: u64,
        len: usize,
    },
    Memset {
        dst: u64,
        value: u8,
        len: usize,
    },
    Free {
        address: u64,
    },
    Gemm(Sgemm),
}

/// A loaded module: the host kernel of each of its PTX entries.
pub struct Module {
    pub kernels: HashMap<String, &'static HostKernel>,
}

pub struct Device {
    pub settings: Settings,
    pub initialized: bool,
    pub memory: Memory,
    queue: VecDeque<Work>,
    /// The error a failed operation leaves: every later call returns it,
    /// until the context is destroyed.
    sticky: CuResult,
    pub context_refs: usize,
    modules: HashMap<usize, Module>,
    next_handle: usize,
    /// Function handles: (module, kernel), by handle.
    functions: HashMap<usize, (usize, &'static HostKernel)>,
    launches: u64,
    pub release_threshold: u64,
}

/// The device, locked.
pub fn device() -> MutexGuard<'static, Device> {
    static DEVICE: OnceLock<Mutex<Device>> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            Mutex::new(Device {
                settings: Settings::from_env(),
                initialized: false,
                memory: Memory::default(),
                queue: VecDeque::new(),
                sticky: SUCCESS,
                context_refs: 0,
                modules: HashMap::new(),
                next_handle: 0x1000,
                functions: HashMap::new(),
                launches: 0,
                release_threshold: 0,
            })
        })
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Prints an emulator diagnostic: the reason behind an error code.
pub fn report(msg: &str) {
    eprintln!("cuda emulator: {msg}");
}

impl Device {
    /// The sticky error, if a queued operation failed.
    pub fn sticky(&self) -> CuResult {
        self.sticky
    }

    /// Queues `work`, or runs it now in immediate mode.
    pub fn submit(&mut self, work: Work) -> CuResult {
        self.queue.push_back(work);
        if self.settings.immediate {
            self.drain()
        } else {
            SUCCESS
        }
    }

    /// Runs the queued work in order. The first failure is reported,
    /// drops the rest of the queue and becomes the sticky error.
    pub fn drain(&mut self) -> CuResult {
        if self.sticky != SUCCESS {
            return self.sticky;
        }
        while let Some(work) = self.queue.pop_front() {
            if let Err((code, msg)) = self.execute(work) {
                report(&msg);
                self.queue.clear();
                self.sticky = code;
                return code;
            }
        }
        SUCCESS
    }

    fn execute(&mut self, work: Work) -> Result<(), (CuResult, String)> {
        let fault = |msg: String| (ILLEGAL_ADDRESS, msg);
        let what = match work {
            Work::Launch {
                kernel,
                grid,
                block,
                params,
                offsets,
            } => {
                let base = params.as_ptr() as *const u8;
                let mut pointers = Vec::with_capacity(offsets.len());
                for (i, &offset) in offsets.iter().enumerate() {
                    // SAFETY: each offset lies inside `params` (see `launch`).
                    let at = unsafe { base.add(offset) };
                    if kernel.is_pointer(i) {
                        let address = params[offset / 8];
                        if self.memory.holding(address, 0).is_none() {
                            return Err(fault(format!(
                                "kernel {}: pointer parameter {i} ({address:#x}) is in no live \
                                 allocation",
                                kernel.name()
                            )));
                        }
                    }
                    pointers.push(at as *const c_void);
                }
                let reverse = match self.settings.order {
                    ThreadOrder::Forward => false,
                    ThreadOrder::Reverse => true,
                    ThreadOrder::Alternate => self.launches % 2 == 1,
                };
                self.launches += 1;
                kernels::run_grid(kernel, &pointers, grid, block, reverse)
                    .map_err(|m| (LAUNCH_FAILED, m))?;
                format!("kernel {}", kernel.name())
            }
            Work::Upload { dst, bytes } => {
                self.memory
                    .check_range("host to device copy", dst, bytes.len())
                    .map_err(fault)?;
                // SAFETY: the destination range is live device (host) memory.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst as *mut u8, bytes.len())
                };
                "host to device copy".into()
            }
            Work::Download { dst, src, len } => {
                self.memory
                    .check_range("device to host copy", src, len)
                    .map_err(fault)?;
                // SAFETY: the source is live; the destination is the
                // caller's buffer, which CUDA requires to stay valid until
                // the stream is synchronised.
                unsafe { std::ptr::copy_nonoverlapping(src as *const u8, dst as *mut u8, len) };
                "device to host copy".into()
            }
            Work::Memset { dst, value, len } => {
                self.memory.check_range("memset", dst, len).map_err(fault)?;
                // SAFETY: the range is live.
                unsafe { std::ptr::write_bytes(dst as *mut u8, value, len) };
                "memset".into()
            }
            Work::Free { address } => {
                self.memory.free(address).map_err(fault)?;
                "free".into()
            }
            Work::Gemm(g) => {
                g.run(&self.memory).map_err(fault)?;
                "cublasSgemm".into()
            }
        };
        self.memory
            .check_red_zones()
            .map_err(|m| fault(format!("after {what}: {m}")))
    }

    /// Loads a PTX module: each entry must have a host build whose
    /// parameters have the PTX's sizes.
    pub fn load_module(&mut self, ptx: &str) -> Result<usize, (CuResult, String)> {
        let entries = ptx::entries(ptx).map_err(|e| (INVALID_PTX, e))?;
        let mut module = Module {
            kernels: HashMap::new(),
        };
        for entry in entries {
            let host = kernels::all()
                .iter()
                .find(|k| k.name() == entry.name)
                .ok_or_else(|| {
                    (
                        INVALID_IMAGE,
                        format!(
                            "kernel {} is in the PTX but not in the host build: rebuild \
                             vaeser-cuda-emu",
                            entry.name
                        ),
                    )
                })?;
            let host_sizes: Vec<usize> = host.param_sizes().collect();
            if host_sizes != entry.param_sizes {
                return Err((
                    INVALID_IMAGE,
                    format!(
                        "kernel {}: the PTX's parameters have sizes {:?}, the host build's {:?}",
                        entry.name, entry.param_sizes, host_sizes
                    ),
                ));
            }
            module.kernels.insert(entry.name, *host);
        }
        let handle = self.new_handle();
        self.modules.insert(handle, module);
        Ok(handle)
    }

    pub fn unload_module(&mut self, handle: usize) -> CuResult {
        if self.modules.remove(&handle).is_none() {
            return INVALID_HANDLE;
        }
        self.functions.retain(|_, (module, _)| *module != handle);
        SUCCESS
    }

    pub fn function(&mut self, module: usize, name: &str) -> Result<usize, CuResult> {
        let kernel = *self
            .modules
            .get(&module)
            .ok_or(INVALID_HANDLE)?
            .kernels
            .get(name)
            .ok_or(NOT_FOUND)?;
        let handle = self.new_handle();
        self.functions.insert(handle, (module, kernel));
        Ok(handle)
    }

    pub fn kernel_of(&self, function: usize) -> Option<&'static HostKernel> {
        self.functions.get(&function).map(|&(_, k)| k)
    }

    fn new_handle(&mut self) -> usize {
        self.next_handle += 16;
        self.next_handle
    }

    /// The last reference to the context is gone: as the driver does, its
    /// memory, modules and sticky error go with it. Live memory at that
    /// point was leaked by its owner, which is reported.
    pub fn destroy_context(&mut self) {
        self.drain();
        let (count, bytes) = self.memory.totals();
        if count > 0 {
            report(&format!(
                "the context was released with {count} allocations ({bytes} bytes) never freed"
            ));
        }
        self.memory.clear();
        self.modules.clear();
        self.functions.clear();
        self.queue.clear();
        self.sticky = SUCCESS;
    }
}
