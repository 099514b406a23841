//! Benchmark wrapper: `fx-time CMD [ARGS...]` runs CMD (stdin and stdout on
//! /dev/null, stderr inherited), waits for it and prints `own_ms=X
//! own_cpu_ms=Y` on stdout: the command's own wall time, from just before
//! it is spawned to its exit, and its CPU time (user + system, its own and
//! that of the children it waited for, from `getrusage(RUSAGE_CHILDREN)`;
//! the programs a tracer runs on its system calls run in its context, so
//! their time is in it). Under `recorder -- fx-time CMD`, both leave out
//! the recorder's start (loading the programs) and stop, which `cargo
//! xtask bench` reports separately. The CPU time also leaves out the time
//! the command waits for a CPU, which on a shared machine is most of the
//! spread of its wall time.
//! Exits with CMD's status (1 if it could not run, 128+N for signal N).

use std::os::unix::process::ExitStatusExt as _;
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("usage: fx-time CMD [ARGS...]");
        std::process::exit(2);
    };
    let start = Instant::now();
    let status = Command::new(cmd)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status();
    let ms = start.elapsed().as_secs_f64() * 1e3;
    match status {
        Ok(s) => {
            println!("own_ms={ms:.3} own_cpu_ms={:.3}", children_cpu_ms());
            std::process::exit(s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0)));
        }
        Err(e) => {
            eprintln!("fx-time: cannot run {cmd}: {e}");
            std::process::exit(1);
        }
    }
}

/// CPU time (user + system) of the children waited for so far: here, the
/// command and whatever it waited for.
fn children_cpu_ms() -> f64 {
    // SAFETY: an all-zero rusage is valid, and getrusage fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } != 0 {
        return f64::NAN;
    }
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    ms(ru.ru_utime) + ms(ru.ru_stime)
}
