//! The CUDA driver entry points the backend reaches through cudarc, with
//! the real driver's signatures. One device (compute capability 9.0, memory
//! pools supported, as the H100/H200 machines), one primary context whose
//! current-ness is per host thread as in the driver: a call that needs a
//! context on a thread that has none fails with
//! `CUDA_ERROR_INVALID_CONTEXT`, as it does on a GPU.

use crate::device::{device, report, Device, Work};
use crate::status::*;
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};

type CuDevice = c_int;
type CuContext = *mut c_void;
type CuDevicePtr = u64;
type CuStream = *mut c_void;
type CuModule = *mut c_void;
type CuFunction = *mut c_void;
type CuMemPool = *mut c_void;

/// The primary context's handle: any fixed non-null value.
const PRIMARY: usize = 0xC0_47E7;
/// The default memory pool's handle.
const DEFAULT_POOL: usize = 0x9001;
/// `CU_STREAM_PER_THREAD`: the only stream besides the null one.
const PER_THREAD_STREAM: usize = 0x2;

const ATTRIBUTE_CC_MAJOR: c_int = 75;
const ATTRIBUTE_CC_MINOR: c_int = 76;
const ATTRIBUTE_MEMORY_POOLS: c_int = 115;
const POOL_RELEASE_THRESHOLD: c_int = 4;

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

fn trace(d: &Device, call: std::fmt::Arguments<'_>) {
    if d.settings.trace {
        eprintln!("cuda emulator: {call}");
    }
}

/// The device, if the driver is initialised and this thread has the live
/// context current and no kernel has faulted; otherwise the error code.
fn in_context() -> Result<std::sync::MutexGuard<'static, Device>, CuResult> {
    let d = device();
    if !d.initialized {
        return Err(NOT_INITIALIZED);
    }
    if CURRENT.get() != PRIMARY || d.context_refs == 0 {
        return Err(INVALID_CONTEXT);
    }
    match d.sticky() {
        SUCCESS => Ok(d),
        code => Err(code),
    }
}

fn stream_ok(stream: CuStream) -> bool {
    matches!(stream as usize, 0 | PER_THREAD_STREAM)
}

macro_rules! context_or_return {
    ($call:expr) => {
        match in_context() {
            Ok(d) => d,
            Err(code) => {
                if code == INVALID_CONTEXT {
                    report(&format!(
                        "{}: no current context on this host thread",
                        $call
                    ));
                }
                return code;
            }
        }
    };
}

/// The checks a query starts with, in the driver's order: an initialised
/// driver, device 0 where one is named, somewhere to write the answer.
fn query<T>(dev: Option<CuDevice>, out: *mut T) -> CuResult {
    if !device().initialized {
        NOT_INITIALIZED
    } else if dev.is_some_and(|d| d != 0) {
        INVALID_DEVICE
    } else if out.is_null() {
        INVALID_VALUE
    } else {
        SUCCESS
    }
}

macro_rules! query_or_return {
    ($dev:expr, $out:expr) => {
        match query($dev, $out) {
            SUCCESS => {}
            code => return code,
        }
    };
}

#[no_mangle]
pub extern "C" fn cuInit(flags: c_uint) -> CuResult {
    if flags != 0 {
        return INVALID_VALUE;
    }
    device().initialized = true;
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuDeviceGetCount(count: *mut c_int) -> CuResult {
    query_or_return!(None, count);
    *count = 1;
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuDeviceGet(out: *mut CuDevice, ordinal: c_int) -> CuResult {
    query_or_return!(Some(ordinal), out);
    *out = 0;
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuDeviceGetAttribute(
    out: *mut c_int,
    attribute: c_int,
    dev: CuDevice,
) -> CuResult {
    query_or_return!(Some(dev), out);
    *out = match attribute {
        ATTRIBUTE_CC_MAJOR => 9,
        ATTRIBUTE_CC_MINOR => 0,
        ATTRIBUTE_MEMORY_POOLS => 1,
        other => {
            report(&format!(
                "cuDeviceGetAttribute: attribute {other} is not emulated"
            ));
            return INVALID_VALUE;
        }
    };
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuDeviceGetName(name: *mut c_char, len: c_int, dev: CuDevice) -> CuResult {
    query_or_return!(Some(dev), name);
    if len <= 0 {
        return INVALID_VALUE;
    }
    let text = b"vaeser CUDA emulator (host CPU)";
    let n = text.len().min(len as usize - 1);
    std::ptr::copy_nonoverlapping(text.as_ptr() as *const c_char, name, n);
    *name.add(n) = 0;
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuDevicePrimaryCtxRetain(out: *mut CuContext, dev: CuDevice) -> CuResult {
    query_or_return!(Some(dev), out);
    device().context_refs += 1;
    *out = PRIMARY as CuContext;
    SUCCESS
}

#[no_mangle]
pub extern "C" fn cuDevicePrimaryCtxRelease_v2(dev: CuDevice) -> CuResult {
    let mut d = device();
    if dev != 0 {
        return INVALID_DEVICE;
    }
    if d.context_refs == 0 {
        return INVALID_CONTEXT;
    }
    d.context_refs -= 1;
    if d.context_refs == 0 {
        d.destroy_context();
    }
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuCtxGetCurrent(out: *mut CuContext) -> CuResult {
    query_or_return!(None, out);
    *out = CURRENT.get() as CuContext;
    SUCCESS
}

#[no_mangle]
pub extern "C" fn cuCtxSetCurrent(ctx: CuContext) -> CuResult {
    let d = device();
    if !d.initialized {
        return NOT_INITIALIZED;
    }
    match ctx as usize {
        0 => CURRENT.set(0),
        PRIMARY if d.context_refs > 0 => CURRENT.set(PRIMARY),
        _ => return INVALID_CONTEXT,
    }
    SUCCESS
}

fn allocate(d: &mut Device, out: *mut CuDevicePtr, size: usize) -> CuResult {
    if out.is_null() {
        return INVALID_VALUE;
    }
    match d.memory.alloc(size) {
        Some(address) => {
            trace(d, format_args!("alloc {size} bytes at {address:#x}"));
            // SAFETY: checked non-null; the caller passes a writable slot.
            unsafe { *out = address };
            SUCCESS
        }
        None => OUT_OF_MEMORY,
    }
}

#[no_mangle]
pub extern "C" fn cuMemAllocAsync(
    out: *mut CuDevicePtr,
    size: usize,
    stream: CuStream,
) -> CuResult {
    let mut d = context_or_return!("cuMemAllocAsync");
    if !stream_ok(stream) {
        return INVALID_HANDLE;
    }
    allocate(&mut d, out, size)
}

#[no_mangle]
pub extern "C" fn cuMemAlloc_v2(out: *mut CuDevicePtr, size: usize) -> CuResult {
    let mut d = context_or_return!("cuMemAlloc_v2");
    if size == 0 {
        return INVALID_VALUE;
    }
    allocate(&mut d, out, size)
}

#[no_mangle]
pub extern "C" fn cuMemFreeAsync(address: CuDevicePtr, stream: CuStream) -> CuResult {
    let mut d = context_or_return!("cuMemFreeAsync");
    if !stream_ok(stream) {
        return INVALID_HANDLE;
    }
    if let Err(msg) = d.memory.queue_free(address) {
        report(&format!("cuMemFreeAsync: {msg}"));
        return INVALID_VALUE;
    }
    d.submit(Work::Free { address })
}

#[no_mangle]
pub extern "C" fn cuMemFree_v2(address: CuDevicePtr) -> CuResult {
    let mut d = context_or_return!("cuMemFree_v2");
    // A synchronous free waits for the work that may still use the memory.
    let code = d.drain();
    if code != SUCCESS {
        return code;
    }
    if let Err(msg) = d.memory.queue_free(address) {
        report(&format!("cuMemFree_v2: {msg}"));
        return INVALID_VALUE;
    }
    d.submit(Work::Free { address });
    d.drain()
}

fn checked_range(d: &Device, call: &str, address: CuDevicePtr, len: usize) -> CuResult {
    match d.memory.check_range(call, address, len) {
        Ok(()) => SUCCESS,
        Err(msg) => {
            report(&msg);
            INVALID_VALUE
        }
    }
}

#[no_mangle]
pub extern "C" fn cuMemsetD8Async(
    dst: CuDevicePtr,
    value: u8,
    len: usize,
    stream: CuStream,
) -> CuResult {
    let mut d = context_or_return!("cuMemsetD8Async");
    if !stream_ok(stream) {
        return INVALID_HANDLE;
    }
    match checked_range(&d, "cuMemsetD8Async", dst, len) {
        SUCCESS => d.submit(Work::Memset { dst, value, len }),
        code => code,
    }
}

#[no_mangle]
pub unsafe extern "C" fn cuMemcpyHtoDAsync_v2(
    dst: CuDevicePtr,
    src: *const c_void,
    len: usize,
    stream: CuStream,
) -> CuResult {
    let mut d = context_or_return!("cuMemcpyHtoDAsync_v2");
    if !stream_ok(stream) {
        return INVALID_HANDLE;
    }
    if src.is_null() && len > 0 {
        return INVALID_VALUE;
    }
    match checked_range(&d, "cuMemcpyHtoDAsync_v2", dst, len) {
        SUCCESS => {
            let bytes = if len == 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(src as *const u8, len).to_vec()
            };
            d.submit(Work::Upload { dst, bytes })
        }
        code => code,
    }
}

#[no_mangle]
pub extern "C" fn cuMemcpyDtoHAsync_v2(
    dst: *mut c_void,
    src: CuDevicePtr,
    len: usize,
    stream: CuStream,
) -> CuResult {
    let mut d = context_or_return!("cuMemcpyDtoHAsync_v2");
    if !stream_ok(stream) {
        return INVALID_HANDLE;
    }
    if dst.is_null() && len > 0 {
        return INVALID_VALUE;
    }
    match checked_range(&d, "cuMemcpyDtoHAsync_v2", src, len) {
        SUCCESS => d.submit(Work::Download {
            dst: dst as usize,
            src,
            len,
        }),
        code => code,
    }
}

#[no_mangle]
pub extern "C" fn cuStreamSynchronize(stream: CuStream) -> CuResult {
    let mut d = context_or_return!("cuStreamSynchronize");
    if !stream_ok(stream) {
        return INVALID_HANDLE;
    }
    d.drain()
}

#[no_mangle]
pub extern "C" fn cuCtxSynchronize() -> CuResult {
    let mut d = context_or_return!("cuCtxSynchronize");
    d.drain()
}

#[no_mangle]
pub unsafe extern "C" fn cuModuleLoadData(out: *mut CuModule, image: *const c_void) -> CuResult {
    let mut d = context_or_return!("cuModuleLoadData");
    if out.is_null() || image.is_null() {
        return INVALID_VALUE;
    }
    let Ok(ptx) = CStr::from_ptr(image as *const c_char).to_str() else {
        report("cuModuleLoadData: the image is not PTX text (cubins are not emulated)");
        return INVALID_IMAGE;
    };
    match d.load_module(ptx) {
        Ok(handle) => {
            *out = handle as CuModule;
            SUCCESS
        }
        Err((code, msg)) => {
            report(&format!("cuModuleLoadData: {msg}"));
            code
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn cuModuleGetFunction(
    out: *mut CuFunction,
    module: CuModule,
    name: *const c_char,
) -> CuResult {
    let mut d = context_or_return!("cuModuleGetFunction");
    if out.is_null() || name.is_null() {
        return INVALID_VALUE;
    }
    let name = CStr::from_ptr(name).to_string_lossy();
    match d.function(module as usize, &name) {
        Ok(handle) => {
            *out = handle as CuFunction;
            SUCCESS
        }
        Err(code) => code,
    }
}

#[no_mangle]
pub extern "C" fn cuModuleUnload(module: CuModule) -> CuResult {
    let mut d = context_or_return!("cuModuleUnload");
    d.unload_module(module as usize)
}

/// The largest block the device takes, and its grid limit in x.
const MAX_BLOCK: c_uint = 1024;
const MAX_GRID_X: c_uint = i32::MAX as c_uint;

#[no_mangle]
pub unsafe extern "C" fn cuLaunchKernel(
    function: CuFunction,
    grid_x: c_uint,
    grid_y: c_uint,
    grid_z: c_uint,
    block_x: c_uint,
    block_y: c_uint,
    block_z: c_uint,
    shared_bytes: c_uint,
    stream: CuStream,
    params: *mut *mut c_void,
    extra: *mut *mut c_void,
) -> CuResult {
    let mut d = context_or_return!("cuLaunchKernel");
    if !stream_ok(stream) {
        return INVALID_HANDLE;
    }
    let Some(kernel) = d.kernel_of(function as usize) else {
        report("cuLaunchKernel: not a function of a loaded module");
        return INVALID_HANDLE;
    };
    let name = kernel.name();
    // The host build covers what the backend launches: 1-D grids, no
    // dynamic shared memory, parameters as an array.
    if grid_y != 1 || grid_z != 1 || block_y != 1 || block_z != 1 {
        report(&format!(
            "cuLaunchKernel {name}: only 1-D grids and blocks are emulated"
        ));
        return NOT_SUPPORTED;
    }
    if grid_x == 0 || grid_x > MAX_GRID_X || block_x == 0 || block_x > MAX_BLOCK {
        report(&format!(
            "cuLaunchKernel {name}: grid {grid_x} x block {block_x} is outside the device's limits"
        ));
        return INVALID_VALUE;
    }
    if shared_bytes != 0 || !extra.is_null() {
        report(&format!(
            "cuLaunchKernel {name}: dynamic shared memory and `extra` are not emulated"
        ));
        return NOT_SUPPORTED;
    }
    let sizes: Vec<usize> = kernel.param_sizes().collect();
    if !sizes.is_empty() && params.is_null() {
        return INVALID_VALUE;
    }
    let mut slots = Vec::new();
    let mut offsets = Vec::with_capacity(sizes.len());
    for (i, &size) in sizes.iter().enumerate() {
        let value = *params.add(i) as *const u8;
        if value.is_null() {
            return INVALID_VALUE;
        }
        offsets.push(slots.len() * 8);
        let start = slots.len();
        slots.resize(start + size.div_ceil(8), 0u64);
        std::ptr::copy_nonoverlapping(value, slots[start..].as_mut_ptr() as *mut u8, size);
    }
    trace(&d, format_args!("launch {name} <<<{grid_x}, {block_x}>>>"));
    d.submit(Work::Launch {
        kernel,
        grid: grid_x,
        block: block_x,
        params: slots,
        offsets,
    })
}

#[no_mangle]
pub unsafe extern "C" fn cuGetErrorString(code: CuResult, out: *mut *const c_char) -> CuResult {
    write_str(out, describe(code).map(|(_, s)| s))
}

#[no_mangle]
pub unsafe extern "C" fn cuGetErrorName(code: CuResult, out: *mut *const c_char) -> CuResult {
    write_str(out, describe(code).map(|(n, _)| n))
}

#[no_mangle]
pub unsafe extern "C" fn cuDeviceGetDefaultMemPool(out: *mut CuMemPool, dev: CuDevice) -> CuResult {
    query_or_return!(Some(dev), out);
    *out = DEFAULT_POOL as CuMemPool;
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuMemPoolSetAttribute(
    pool: CuMemPool,
    attribute: c_int,
    value: *mut c_void,
) -> CuResult {
    let mut d = device();
    if pool as usize != DEFAULT_POOL || value.is_null() {
        return INVALID_VALUE;
    }
    if attribute != POOL_RELEASE_THRESHOLD {
        report(&format!(
            "cuMemPoolSetAttribute: attribute {attribute} is not emulated"
        ));
        return NOT_SUPPORTED;
    }
    d.release_threshold = *(value as *const u64);
    trace(
        &d,
        format_args!("memory pool release threshold {}", d.release_threshold),
    );
    SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn cuMemPoolGetAttribute(
    pool: CuMemPool,
    attribute: c_int,
    value: *mut c_void,
) -> CuResult {
    let d = device();
    if pool as usize != DEFAULT_POOL || value.is_null() {
        return INVALID_VALUE;
    }
    if attribute != POOL_RELEASE_THRESHOLD {
        report(&format!(
            "cuMemPoolGetAttribute: attribute {attribute} is not emulated"
        ));
        return NOT_SUPPORTED;
    }
    *(value as *mut u64) = d.release_threshold;
    SUCCESS
}
