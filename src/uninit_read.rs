//! Reading a file's next bytes straight into a vector's spare capacity.
//!
//! `Read::read_exact` needs initialised memory, so a buffer for a 6 MB
//! model would first be zero-filled and then overwritten by the read: one
//! more pass over fresh memory, which is what loading costs most (the page
//! faults and the kernel's zeroing of the pages come on top, whoever writes
//! first). On Unix the bytes go in with read(2) directly; elsewhere the
//! buffer is zero-filled and read as usual.

use std::fs::File;
use std::io;

/// Appends exactly `n` values of `T` read from `file` (raw bytes, in the
/// file's byte order) to `v`, whose spare capacity must hold them. A file
/// that ends first is an `UnexpectedEof` error, and `v` is then unchanged.
///
/// # Panics
/// If `v` has room for fewer than `n` more values.
pub(crate) fn read_values<T: bytemuck::Pod>(
    file: &mut File,
    v: &mut Vec<T>,
    n: usize,
) -> io::Result<()> {
    assert!(v.capacity() - v.len() >= n, "room for {n} values");
    let bytes = n * std::mem::size_of::<T>();
    imp::read_spare(file, v, n, bytes)
}

#[cfg(unix)]
mod imp {
    use std::ffi::{c_int, c_void};
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;

    extern "C" {
        fn read(fd: c_int, buf: *mut c_void, count: usize) -> isize;
    }

    pub(super) fn read_spare<T: bytemuck::Pod>(
        file: &mut File,
        v: &mut Vec<T>,
        n: usize,
        bytes: usize,
    ) -> io::Result<()> {
        let fd = file.as_raw_fd();
        // SAFETY: the capacity check of `read_values` makes
        // `spare..spare + bytes` lie inside `v`'s allocation, past its
        // initialised part; read(2) writes at most `bytes - got` bytes at
        // `spare + got`. No reference to uninitialised memory is made.
        let spare = unsafe { v.as_mut_ptr().add(v.len()).cast::<u8>() };
        let mut got = 0;
        while got < bytes {
            // SAFETY: see above.
            let r = unsafe { read(fd, spare.add(got).cast(), bytes - got) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if r == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            got += r as usize;
        }
        // SAFETY: `n` more values, every byte of them written by read(2);
        // any bit pattern is a valid `T` (`Pod`).
        unsafe { v.set_len(v.len() + n) };
        Ok(())
    }
}

#[cfg(not(unix))]
mod imp {
    use std::fs::File;
    use std::io::{self, Read};

    pub(super) fn read_spare<T: bytemuck::Pod>(
        file: &mut File,
        v: &mut Vec<T>,
        n: usize,
        _bytes: usize,
    ) -> io::Result<()> {
        let start = v.len();
        v.resize(start + n, T::zeroed());
        let read = file.read_exact(bytemuck::cast_slice_mut(&mut v[start..]));
        if read.is_err() {
            v.truncate(start);
        }
        read
    }
}
