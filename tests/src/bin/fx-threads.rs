//! Fixture: a multithreaded process whose threads rename themselves (as
//! tokio and most runtimes do with PR_SET_NAME), then each make one marker
//! call, `close(-(1000 + i))` (fails with EBADF; the argument identifies the
//! thread). The main thread renames itself too, and its marker is
//! `close(-999)`.
//!
//! With `--wait` it first blocks until a line arrives on stdin. It prints
//! `pid=N` first, so a test knows which process to look for.
//!
//! With `FX_THREADS_MMAP=I` in the environment, thread I first maps one
//! anonymous page, as an allocator growing its heap does: a replay test
//! makes the allocator's calls differ between recording and replay.

use std::io::{BufRead as _, Write as _};

use tests::THREADS;

fn rename(name: &str) {
    let c = std::ffi::CString::new(name).expect("no NUL");
    // SAFETY: valid NUL-terminated string.
    unsafe { libc::prctl(libc::PR_SET_NAME, c.as_ptr(), 0, 0, 0) };
}

/// One anonymous page, never unmapped.
fn grow() {
    let (prot, flags) = (
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
    );
    // SAFETY: a new mapping at an address the kernel picks.
    let p = unsafe { libc::mmap(std::ptr::null_mut(), 4096, prot, flags, -1, 0) };
    assert_ne!(p, libc::MAP_FAILED, "mmap");
}

fn main() {
    println!("pid={}", std::process::id());
    let _ = std::io::stdout().flush();
    if std::env::args().any(|a| a == "--wait") {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
    }
    rename("renamed-main");
    let grows: Option<i64> = std::env::var("FX_THREADS_MMAP")
        .ok()
        .and_then(|v| v.parse().ok());
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            std::thread::spawn(move || {
                if grows == Some(i) {
                    grow();
                }
                rename(&format!("worker-{i}"));
                // SAFETY: close of an invalid fd: fails with EBADF.
                unsafe { libc::syscall(libc::SYS_close, -(1000 + i)) };
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close, -999i64) };
}
