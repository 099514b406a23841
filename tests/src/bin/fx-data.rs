//! Fixture for data capture. With `fx-data FILE` it makes, with raw system
//! calls so nothing else comes between:
//!
//!   getrandom(buf, 16, 0)              prints `getrandom=<hex of buf>`
//!   openat(AT_FDCWD, FILE, O_RDONLY)   FILE's path must be captured
//!   read(fd, buf, 256)                 FILE's content must be captured
//!   write(out, 0x1, 16)                unmapped source: EFAULT, and the
//!                                      recorder's read of it fails too
//!   write(out, big, 10000)             larger than the capture size
//!
//! `out` is FILE.out, a regular file (writes to /dev/null never read the
//! buffer, so they would not fail).
//!
//! The same calls exist on x86_64 and arm64; on arm64 getrandom's buffer is
//! argument 0, in x0, which the return value overwrites before sys_exit.

use std::{ffi::CString, io::Write as _};

use tests::{DATA_BIG_BYTE, DATA_BIG_LEN};

fn main() {
    let path = std::env::args().nth(1).expect("usage: fx-data FILE");
    let cpath = CString::new(path.clone()).expect("path");
    let outpath = CString::new(format!("{path}.out")).expect("path");
    let mut rnd = [0u8; 16];
    let mut buf = [0u8; 256];
    let big = vec![DATA_BIG_BYTE; DATA_BIG_LEN];
    // SAFETY: plain system calls with valid (or, for the EFAULT case,
    // deliberately invalid but harmless) pointers.
    let (n, fd) = unsafe {
        let n = libc::syscall(libc::SYS_getrandom, rnd.as_mut_ptr(), rnd.len(), 0);
        let fd = libc::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD,
            cpath.as_ptr(),
            libc::O_RDONLY,
            0,
        );
        libc::syscall(libc::SYS_read, fd, buf.as_mut_ptr(), buf.len());
        let out = libc::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD,
            outpath.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
            0o600,
        );
        libc::syscall(libc::SYS_write, out, std::ptr::dangling::<u8>(), 16usize);
        libc::syscall(libc::SYS_write, out, big.as_ptr(), big.len());
        (n, fd)
    };
    assert_eq!(n, 16, "getrandom");
    assert!(fd >= 0, "open");
    let hex: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
    println!("getrandom={hex}");
    let _ = std::io::stdout().flush();
}
