//! Fixture: forks a child that makes the marker call `close(-2001)` and exits
//! with status 3; the parent waits for it, then makes `close(-2000)` and
//! exits 0. Prints `child=N` so the test knows the child's pid.

use std::io::Write as _;

fn main() {
    // SAFETY: fork in a single-threaded process; the child only makes raw
    // system calls and exits.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => std::process::exit(111),
        // SAFETY: raw syscalls with integer arguments only.
        0 => unsafe {
            libc::syscall(libc::SYS_close, -2001i64);
            libc::syscall(libc::SYS_exit_group, 3);
        },
        child => {
            let mut status = 0;
            // SAFETY: valid pointer.
            unsafe { libc::waitpid(child, &mut status, 0) };
            println!("child={child} status={}", libc::WEXITSTATUS(status));
            let _ = std::io::stdout().flush();
            // SAFETY: close of an invalid fd.
            unsafe { libc::syscall(libc::SYS_close, -2000i64) };
        }
    }
}
