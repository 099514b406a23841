//! Fixture: threads that start on kernel stacks other threads just left.
//!
//! The recorder remembers a thread that is not traced by the address of its
//! kernel stack (recorder_common::bystander), and the kernel hands a freed
//! stack to the next thread created on the same CPU (its per-CPU cache of
//! vmalloc'd stacks). Both roles pin themselves to CPU 0, so a traced
//! thread often starts on a stack a bystander's thread just used:
//!
//! - `fx-stacks bystander`: until stdin closes, starts threads that each make
//!   a few `getppid` calls and exit.
//! - `fx-stacks traced N`: starts N threads and child processes, in turn,
//!   one after another, a few milliseconds apart (a stack goes back to the
//!   cache an RCU grace period after its thread is gone); the i-th makes one
//!   marker call, `close(-(5000 + i))` (fails with EBADF), and ends.

use std::io::Read as _;

fn pin_to_cpu0() {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET stays in it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set);
    }
}

fn bystander() {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::spawn(|| {
            for _ in 0..10 {
                // SAFETY: no arguments.
                unsafe { libc::getppid() };
            }
        })
        .join()
        .expect("thread");
    }
}

fn marker(i: i64) {
    // SAFETY: close of an invalid fd: fails with EBADF.
    unsafe { libc::syscall(libc::SYS_close, -(5000 + i)) };
}

fn traced(n: i64) {
    for i in 0..n {
        std::thread::sleep(std::time::Duration::from_millis(3));
        if i % 2 == 0 {
            std::thread::spawn(move || marker(i))
                .join()
                .expect("thread");
            continue;
        }
        // SAFETY: the child makes one system call and exits without
        // touching the parent's locks.
        match unsafe { libc::fork() } {
            0 => {
                marker(i);
                // SAFETY: ends the child at once.
                unsafe { libc::_exit(0) };
            }
            child if child > 0 => {
                // SAFETY: waits for our own child.
                unsafe { libc::waitpid(child, std::ptr::null_mut(), 0) };
            }
            _ => panic!("fork failed"),
        }
    }
}

fn main() {
    pin_to_cpu0();
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("bystander") => bystander(),
        Some("traced") => traced(args.get(2).and_then(|v| v.parse().ok()).unwrap_or(100)),
        _ => {
            eprintln!("usage: fx-stacks bystander | fx-stacks traced N");
            std::process::exit(2);
        }
    }
}
