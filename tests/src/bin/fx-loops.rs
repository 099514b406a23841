//! Fixture for the capture loops (argv, envp, dirents, iovecs). With
//! `fx-loops DIR ARGS...` it lists DIR (getdents64), then writes two
//! segments with one writev to DIR.out:
//!
//!   execve's argv            ARGS can be more than MAX_ARGV (32) strings
//!   getdents64(fd, ..)       the entries are counted, not copied
//!   writev(out, iov, 2)      "hello " + "world", one item of 11 bytes
//!
//! It prints `entries=N` (DIR's entries, without `.` and `..`).

use std::ffi::CString;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: fx-loops DIR ARGS...");
    let entries = std::fs::read_dir(&dir).expect("list DIR").count();
    let out = CString::new(format!("{dir}.out")).expect("path");
    let (a, b) = (b"hello ", b"world");
    let iov = [
        libc::iovec {
            iov_base: a.as_ptr() as *mut libc::c_void,
            iov_len: a.len(),
        },
        libc::iovec {
            iov_base: b.as_ptr() as *mut libc::c_void,
            iov_len: b.len(),
        },
    ];
    // SAFETY: plain system calls with valid pointers.
    let n = unsafe {
        let fd = libc::open(
            out.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
            0o600,
        );
        assert!(fd >= 0, "open DIR.out");
        libc::writev(fd, iov.as_ptr(), 2)
    };
    assert_eq!(n, 11, "writev");
    println!("entries={entries}");
}
