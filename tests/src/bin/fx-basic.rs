//! Fixture: a known sequence of system calls, made with raw `syscall(2)` so
//! nothing else runs in between:
//!
//!   getpid()                                          marker
//!   openat(AT_FDCWD, "/nonexistent/recorder-fixture", O_RDONLY) = -ENOENT
//!   write(1, "hello from fx-basic\n", 20) = 20
//!   exit_group(42)                                    never returns
//!
//! With `--signal N` it kills itself with signal N instead of exiting.
//! With `--wait` it first blocks until a line arrives on stdin (so a test can
//! start recording an already-running process).

use std::io::BufRead as _;

use tests::{BASIC_EXIT, BASIC_MSG as MSG, BASIC_PATH as PATH};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--wait") {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
    }
    let signal = args
        .iter()
        .position(|a| a == "--signal")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse::<i32>().ok());
    // SAFETY: plain system calls with valid pointers.
    unsafe {
        libc::syscall(libc::SYS_getpid);
        libc::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD,
            PATH.as_ptr(),
            libc::O_RDONLY,
            0,
        );
        libc::syscall(libc::SYS_write, 1, MSG.as_ptr(), MSG.len());
        if let Some(sig) = signal {
            libc::syscall(libc::SYS_kill, libc::getpid(), sig);
        }
        libc::syscall(libc::SYS_exit_group, BASIC_EXIT);
    }
    unreachable!("exit_group returned");
}
