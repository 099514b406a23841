//! Benchmark/overflow fixture: makes N `getppid` calls (default 1,000,000)
//! as fast as it can, then prints `calls=N ns_per_call=X cpu_ns_per_call=C`
//! (wall time, and the thread's own CPU time, per call). With
//! `--openwrite`, each iteration instead opens, writes 16 bytes to and
//! closes a file in $TMPDIR (the classic syscall-tracing microbenchmark) and
//! counts 3 calls per iteration. With `--fstat`, each iteration is one
//! `fstat` of an open directory: the kernel writes a 144-byte `struct
//! stat`, the smallest output a recorder capturing data copies (what one
//! captured item costs). With `--markers`, the loop is bracketed
//! by `close(-4000)` and `close(-4001)`, each after a 500 ms pause (so a
//! recorder with a tiny ring has drained by then, on its 200 ms flush timer
//! at the latest, and records both).

use std::{ffi::CString, time::Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let openwrite = args.iter().any(|a| a == "--openwrite");
    let fstat = args.iter().any(|a| a == "--fstat");
    // SAFETY: a valid path; the fd is used only by fstat below.
    let dir = unsafe { libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
    // SAFETY: all-zero is a valid `struct stat`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let n: u64 = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let path = CString::new(format!(
        "{}/fx-loop-{}",
        std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".into()),
        std::process::id()
    ))
    .expect("path");
    let markers = args.iter().any(|a| a == "--markers");
    let pause = || std::thread::sleep(std::time::Duration::from_millis(500));
    let cpu = thread_cpu_ns();
    if markers {
        pause();
        // SAFETY: close of an invalid fd.
        unsafe { libc::syscall(libc::SYS_close, -4000i64) };
    }
    let t = Instant::now();
    let mut calls = 0u64;
    for _ in 0..n {
        // SAFETY: plain system calls with valid pointers.
        unsafe {
            if openwrite {
                let fd = libc::syscall(
                    libc::SYS_openat,
                    libc::AT_FDCWD,
                    path.as_ptr(),
                    libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
                    0o600,
                );
                libc::syscall(libc::SYS_write, fd, b"0123456789abcdef".as_ptr(), 16);
                libc::syscall(libc::SYS_close, fd);
                calls += 3;
            } else if fstat {
                libc::syscall(libc::SYS_fstat, dir, &raw mut st);
                calls += 1;
            } else {
                libc::syscall(libc::SYS_getppid);
                calls += 1;
            }
        }
    }
    let el = t.elapsed();
    if markers {
        pause();
        // SAFETY: close of an invalid fd.
        unsafe { libc::syscall(libc::SYS_close, -4001i64) };
    }
    // Read outside the markers: the thread CPU clock is a real system call
    // (no vDSO), and between them the loop's calls must be the only ones.
    // The pauses take no CPU time.
    let cpu = thread_cpu_ns() - cpu;
    if openwrite {
        // SAFETY: valid path.
        unsafe { libc::unlink(path.as_ptr()) };
    }
    println!(
        "calls={calls} ns_per_call={:.1} cpu_ns_per_call={:.1}",
        el.as_nanos() as f64 / calls as f64,
        cpu as f64 / calls as f64
    );
}

/// This thread's CPU time (user + system, where the tracing programs run),
/// ns: unlike the wall time, it leaves out the time the loop waited for a
/// CPU, which on a busy machine is most of the noise.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
