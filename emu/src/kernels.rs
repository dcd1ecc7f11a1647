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
    #[cfg(test)]
    static emu_selftest_kernels: [HostKernel; 5];
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
/// pointer per parameter to its value), one grid at a time in the process:
/// the host build keeps the running thread's indices in globals.
pub fn run_grid(
    kernel: &HostKernel,
    params: &[*const c_void],
    grid: u32,
    block: u32,
    reverse: bool,
) -> Result<(), String> {
    static ONE_GRID_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _running = ONE_GRID_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn selftest(name: &str) -> &'static HostKernel {
        // SAFETY: a static array of the host build (host/selftest.cpp).
        let all = unsafe { &*std::ptr::addr_of!(emu_selftest_kernels) };
        all.iter().find(|k| k.name() == name).expect(name)
    }

    fn run(
        name: &str,
        args: &[*const c_void],
        grid: u32,
        block: u32,
        reverse: bool,
    ) -> Result<(), String> {
        let kernel = selftest(name);
        // Each parameter is passed as a pointer to its value.
        let values: Vec<*const c_void> = args.to_vec();
        let slots: Vec<*const c_void> = values
            .iter()
            .map(|v| v as *const *const c_void as *const c_void)
            .collect();
        run_grid(kernel, &slots, grid, block, reverse)
    }

    #[test]
    fn a_barrier_lets_a_block_share_memory_in_either_order() {
        for reverse in [false, true] {
            let x: Vec<f32> = (0..3 * 64).map(|i| i as f32).collect();
            let mut out = [0.0f32; 3];
            run(
                "emu_test_block_sum",
                &[x.as_ptr() as _, out.as_mut_ptr() as _],
                3,
                64,
                reverse,
            )
            .unwrap();
            let expect: Vec<f32> = (0..3)
                .map(|b| (0..64).map(|i| (b * 64 + i) as f32).sum())
                .collect();
            assert_eq!(out.to_vec(), expect, "reverse {reverse}");
        }
    }

    #[test]
    fn misused_barriers_are_reported_in_either_order() {
        let mut out = [0.0f32; 32];
        for (name, what) in [
            ("emu_test_even_threads_wait", "__syncthreads"),
            ("emu_test_inner_threads_wait", "__syncthreads"),
            ("emu_test_split_barriers", "different __syncthreads calls"),
        ] {
            for reverse in [false, true] {
                let err = run(name, &[out.as_mut_ptr() as _], 2, 32, reverse).expect_err(name);
                assert!(err.contains(name) && err.contains(what), "{name}: {err}");
            }
        }
    }

    #[test]
    fn threads_start_in_the_order_asked() {
        for (reverse, last_to_run) in [(false, 7), (true, 0)] {
            let mut last = [u32::MAX];
            run(
                "emu_test_last_thread",
                &[last.as_mut_ptr() as _],
                1,
                8,
                reverse,
            )
            .unwrap();
            assert_eq!(last[0], last_to_run, "reverse {reverse}");
        }
    }
}
