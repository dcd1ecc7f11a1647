//! The host build of kernels/*.cu (build.rs compiles it with host/), seen
//! from Rust: the list of kernels with their parameters, and running a grid.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};

const MAX_PARAMS: usize = 32;

/// `EmuKernel` of host/kernel_table.h.
#[repr(C)]
pub struct HostKernel {
    name: *const c_char,
    run_thread: unsafe extern "C" fn(*const *const c_void),
    nparams: c_uint,
    sizes: [c_uint; MAX_PARAMS],
    is_pointer: [u8; MAX_PARAMS],
}

// SAFETY: the table is immutable static data of the host build.
unsafe impl Sync for HostKernel {}

extern "C" {
    fn emu_kernel_list(count: *mut usize) -> *const *const HostKernel;
    fn emu_run_grid(
        kernel: *const HostKernel,
        params: *const *const c_void,
        grid: c_uint,
        block: c_uint,
        reverse: c_int,
        msg: *mut c_char,
        msg_len: usize,
    ) -> c_int;
}

impl HostKernel {
    pub fn name(&self) -> &str {
        // SAFETY: a string literal of the generated table.
        unsafe { CStr::from_ptr(self.name) }.to_str().unwrap_or("?")
    }
    pub fn param_sizes(&self) -> impl Iterator<Item = usize> + '_ {
        self.sizes[..self.nparams as usize]
            .iter()
            .map(|&s| s as usize)
    }
    pub fn is_pointer(&self, i: usize) -> bool {
        self.is_pointer[i] != 0
    }
}

/// Every host-built kernel.
pub fn all() -> &'static [&'static HostKernel] {
    let mut count = 0usize;
    // SAFETY: the generated function returns a static array of `count`
    // pointers to static entries.
    unsafe {
        let list = emu_kernel_list(&mut count);
        std::slice::from_raw_parts(list as *const &'static HostKernel, count)
    }
}

/// Runs `grid` blocks of `block` threads of `kernel` with `params` (one
/// pointer per parameter to its value). The caller holds the emulator's lock:
/// the host build keeps the running thread's indices in globals.
pub fn run_grid(
    kernel: &HostKernel,
    params: &[*const c_void],
    grid: u32,
    block: u32,
    reverse: bool,
) -> Result<(), String> {
    let mut msg = [0 as c_char; 512];
    // SAFETY: `params` has one valid pointer per parameter of `kernel`
    // (checked by the caller against the table), each to a value of that
    // parameter's size.
    let status = unsafe {
        emu_run_grid(
            kernel,
            params.as_ptr(),
            grid,
            block,
            c_int::from(reverse),
            msg.as_mut_ptr(),
            msg.len(),
        )
    };
    if status == 0 {
        Ok(())
    } else {
        // SAFETY: the scheduler wrote a terminated message.
        Err(unsafe { CStr::from_ptr(msg.as_ptr()) }
            .to_string_lossy()
            .into_owned())
    }
}
