//! Fixture for `recorder -e trace=SET`: known numbers of calls of a few
//! kinds, from the main thread, a second thread and a child process, so a
//! test can tell that the calls outside the set are all absent and the
//! ones in it all present:
//! - [`TRACE_GETPPIDS`] `getppid`, interleaved with
//! - [`TRACE_OPENS`] `openat` of `TRACE_PATH` + `i` (ENOENT) and
//! - [`TRACE_CLOSES`] `close(-(3000 + i))` (EBADF);
//! - a thread (clone3 or clone) that makes `close(-3999)`, joined;
//! - a child process (fork) that opens `TRACE_PATH` + `child` and exits 0,
//!   waited for.

use std::ffi::CString;

use tests::{TRACE_CLOSES, TRACE_GETPPIDS, TRACE_OPENS, TRACE_PATH};

fn open_missing(suffix: &str) {
    let path = CString::new(format!("{TRACE_PATH}{suffix}")).expect("no NUL");
    // SAFETY: valid NUL-terminated path; the raw syscall, so libc adds none
    // of its own calls.
    unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), 0, 0) };
}

fn main() {
    for i in 0..TRACE_GETPPIDS {
        // SAFETY: no arguments.
        unsafe { libc::syscall(libc::SYS_getppid) };
        if i < TRACE_OPENS {
            open_missing(&i.to_string());
        }
        if i < TRACE_CLOSES {
            // SAFETY: close of an invalid fd: fails with EBADF.
            unsafe { libc::syscall(libc::SYS_close, -(3000 + i as i64)) };
        }
    }
    std::thread::spawn(|| {
        // SAFETY: as above.
        unsafe { libc::syscall(libc::SYS_close, -3999i64) };
    })
    .join()
    .expect("thread");
    // SAFETY: fork in a process whose other thread has ended; the child
    // makes raw system calls only.
    match unsafe { libc::fork() } {
        -1 => std::process::exit(111),
        0 => {
            open_missing("child");
            // SAFETY: ends the child.
            unsafe { libc::syscall(libc::SYS_exit_group, 0) };
        }
        child => {
            let mut status = 0;
            // SAFETY: valid pointer.
            unsafe { libc::waitpid(child, &mut status, 0) };
        }
    }
}
