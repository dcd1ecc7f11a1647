//! Every kernel family under kernels/ compiles with NVRTC for sm_80 and
//! sm_90, on a machine without a GPU or driver: NVRTC is a plain library
//! (the pip package `nvidia-cuda-nvrtc` ships libnvrtc.so.13).
//!
//! libnvrtc is looked for in `$VAESER_NVRTC_DIR` (a folder), then on the
//! loader's path (`LD_LIBRARY_PATH`). When it cannot be found the test fails
//! under CI (`CI` set to anything but `false`/`0`: .ci/run installs NVRTC)
//! and otherwise passes after printing why it compiled nothing.
//!
//! The test opens libnvrtc with libloading rather than through cudarc, so it
//! runs in the default build (no `cuda` feature) that CI tests.

use libloading::{Library, Symbol};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::PathBuf;
use vaeser::backend::kernel_sources::{program, FAMILIES};

type Program = *mut c_void;
type CreateProgram = unsafe extern "C" fn(
    *mut Program,
    *const c_char,
    *const c_char,
    c_int,
    *const *const c_char,
    *const *const c_char,
) -> c_int;
type CompileProgram = unsafe extern "C" fn(Program, c_int, *const *const c_char) -> c_int;
type GetSize = unsafe extern "C" fn(Program, *mut usize) -> c_int;
type GetBytes = unsafe extern "C" fn(Program, *mut c_char) -> c_int;
type DestroyProgram = unsafe extern "C" fn(*mut Program) -> c_int;
type Version = unsafe extern "C" fn(*mut c_int, *mut c_int) -> c_int;
type ErrorString = unsafe extern "C" fn(c_int) -> *const c_char;

/// The architectures the GPU machines have: Ampere (A100) and Hopper (H100, H200).
const ARCHS: [&str; 2] = ["sm_80", "sm_90"];

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The candidates for libnvrtc, most specific first.
fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(dir) = std::env::var_os("VAESER_NVRTC_DIR") {
        let dir = PathBuf::from(dir);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("libnvrtc.so"))
                })
                .collect();
            found.sort();
            out.extend(found);
        }
    }
    // Bare names: the dynamic loader searches LD_LIBRARY_PATH and the system.
    for name in ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"] {
        out.push(PathBuf::from(name));
    }
    out
}

fn open_nvrtc() -> Result<(Library, PathBuf), String> {
    let tried = candidates();
    for path in &tried {
        // SAFETY: loading libnvrtc runs its initialisers, which have no
        // preconditions.
        if let Ok(lib) = unsafe { Library::new(path) } {
            return Ok((lib, path.clone()));
        }
    }
    Err(format!(
        "libnvrtc not found (tried {tried:?}); set VAESER_NVRTC_DIR to the folder holding \
         libnvrtc.so.13, e.g. after `python3 -m pip install --target .ci/nvrtc nvidia-cuda-nvrtc`: \
         VAESER_NVRTC_DIR=.ci/nvrtc/nvidia/cu13/lib"
    ))
}

struct Nvrtc<'l> {
    create: Symbol<'l, CreateProgram>,
    compile: Symbol<'l, CompileProgram>,
    log_size: Symbol<'l, GetSize>,
    log: Symbol<'l, GetBytes>,
    cubin_size: Symbol<'l, GetSize>,
    cubin: Symbol<'l, GetBytes>,
    destroy: Symbol<'l, DestroyProgram>,
    error_string: Symbol<'l, ErrorString>,
}

impl<'l> Nvrtc<'l> {
    fn new(lib: &'l Library) -> Nvrtc<'l> {
        // SAFETY: the symbol types are the documented C signatures of NVRTC.
        unsafe {
            Nvrtc {
                create: lib.get(b"nvrtcCreateProgram").expect("nvrtcCreateProgram"),
                compile: lib
                    .get(b"nvrtcCompileProgram")
                    .expect("nvrtcCompileProgram"),
                log_size: lib.get(b"nvrtcGetProgramLogSize").expect("log size"),
                log: lib.get(b"nvrtcGetProgramLog").expect("log"),
                cubin_size: lib.get(b"nvrtcGetCUBINSize").expect("cubin size"),
                cubin: lib.get(b"nvrtcGetCUBIN").expect("cubin"),
                destroy: lib.get(b"nvrtcDestroyProgram").expect("destroy"),
                error_string: lib.get(b"nvrtcGetErrorString").expect("error string"),
            }
        }
    }

    fn error(&self, code: c_int) -> String {
        // SAFETY: nvrtcGetErrorString returns a static C string for any code.
        let s = unsafe { CStr::from_ptr((self.error_string)(code)) };
        format!("{} ({code})", s.to_string_lossy())
    }

    /// Compiles `source` for `arch`: the CUBIN on success, else the error
    /// and NVRTC's log.
    fn compile(&self, name: &str, source: &str, arch: &str) -> Result<Vec<u8>, String> {
        let src = CString::new(source).expect("kernel source without NUL");
        let cname = CString::new(format!("{name}.cu")).unwrap();
        let opts: Vec<CString> = [format!("--gpu-architecture={arch}"), "--std=c++17".into()]
            .into_iter()
            .map(|o| CString::new(o).unwrap())
            .collect();
        let opt_ptrs: Vec<*const c_char> = opts.iter().map(|o| o.as_ptr()).collect();
        let mut prog: Program = std::ptr::null_mut();
        // SAFETY: every pointer handed to NVRTC outlives the call; `prog` is
        // destroyed once below.
        unsafe {
            let rc = (self.create)(
                &mut prog,
                src.as_ptr(),
                cname.as_ptr(),
                0,
                std::ptr::null(),
                std::ptr::null(),
            );
            if rc != 0 {
                return Err(format!("nvrtcCreateProgram: {}", self.error(rc)));
            }
            let rc = (self.compile)(prog, opt_ptrs.len() as c_int, opt_ptrs.as_ptr());
            let mut log_len = 0usize;
            (self.log_size)(prog, &mut log_len);
            let mut log = vec![0u8; log_len.max(1)];
            (self.log)(prog, log.as_mut_ptr().cast());
            let log = String::from_utf8_lossy(&log)
                .trim_end_matches('\0')
                .to_string();
            let result = if rc != 0 {
                Err(format!("{}\n{log}", self.error(rc)))
            } else {
                let mut len = 0usize;
                (self.cubin_size)(prog, &mut len);
                let mut cubin = vec![0u8; len];
                (self.cubin)(prog, cubin.as_mut_ptr().cast());
                Ok(cubin)
            };
            (self.destroy)(&mut prog);
            result
        }
    }
}

#[test]
fn every_kernel_family_compiles_for_sm80_and_sm90() {
    let (lib, path) = match open_nvrtc() {
        Ok(found) => found,
        Err(why) if in_ci() => panic!("CI must compile the kernels: {why}"),
        Err(why) => {
            eprintln!("skipping the kernel compile test: {why}");
            return;
        }
    };
    let nvrtc = Nvrtc::new(&lib);
    // SAFETY: nvrtcVersion only writes its two out-parameters.
    let (mut major, mut minor) = (0, 0);
    unsafe {
        let version: Symbol<Version> = lib.get(b"nvrtcVersion").expect("nvrtcVersion");
        version(&mut major, &mut minor);
    }
    eprintln!("NVRTC {major}.{minor} from {}", path.display());
    let mut failures = Vec::new();
    for family in &FAMILIES {
        let source = program(family);
        for arch in ARCHS {
            match nvrtc.compile(family.name, &source, arch) {
                Ok(cubin) => {
                    // extern "C" keeps the names unmangled: the backend loads
                    // each kernel by exactly this name.
                    for kernel in family.kernels {
                        let found = cubin.windows(kernel.len()).any(|w| w == kernel.as_bytes());
                        if !found {
                            failures.push(format!(
                                "kernels/{}.cu for {arch}: no symbol {kernel} in the CUBIN",
                                family.name
                            ));
                        }
                    }
                    eprintln!(
                        "kernels/{}.cu: {arch}, {} bytes of CUBIN",
                        family.name,
                        cubin.len()
                    );
                }
                Err(log) => failures.push(format!("kernels/{}.cu for {arch}: {log}", family.name)),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "kernels that do not compile:\n{}",
        failures.join("\n\n")
    );
}

/// The test must be able to fail: a source with a type error is rejected,
/// with NVRTC's log naming the error.
#[test]
fn a_broken_kernel_is_reported_with_its_log() {
    let Ok((lib, _)) = open_nvrtc() else {
        eprintln!("skipping: libnvrtc not found (see the compile test)");
        assert!(!in_ci(), "CI must find libnvrtc");
        return;
    };
    let nvrtc = Nvrtc::new(&lib);
    let broken = "extern \"C\" __global__ void k(float* x) { x[0] = undefined_name; }";
    let err = nvrtc
        .compile("broken", broken, "sm_80")
        .expect_err("a kernel using an undefined name must not compile");
    assert!(err.contains("undefined_name"), "log lacks the error: {err}");
}
