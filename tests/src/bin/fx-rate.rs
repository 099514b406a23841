//! Benchmark fixture for the sustained-rate run of `cargo xtask bench`:
//! `fx-rate RATE SECONDS [THREADS]` makes `getppid` calls at RATE per second
//! in total (split evenly over THREADS threads, default 1) for SECONDS, then
//! prints `calls=N seconds=S rate=R threads=T cpu_ms=C nvcsw=V`, R being
//! the rate achieved, C and V its own CPU time and voluntary context switches.
//! RATE `max` means unpaced: as fast as each thread can.
//!
//! Pacing works in 1 ms slots against the monotonic clock: a thread makes
//! the calls due by the end of the slot, then sleeps to the slot's end. The
//! rate is thus steady at 1 ms granularity (a recorder's ring buffer holds
//! tens of ms), and a thread that falls behind catches up without sleeping,
//! so a shortfall in the achieved rate means the CPU, not the pacing, is
//! the limit. The sleeps are system calls too, at most 1000/s per thread,
//! and are not counted in N.

use std::time::{Duration, Instant};

/// Length of one pacing slot.
const SLOT: Duration = Duration::from_millis(1);
/// Calls between clock reads when unpaced: reading the clock (vDSO, no
/// system call) every call would cost a measurable share of a getppid.
const UNPACED_BATCH: u64 = 256;

fn usage() -> ! {
    eprintln!("usage: fx-rate RATE|max SECONDS [THREADS]");
    std::process::exit(2);
}

fn getppid() {
    // SAFETY: getppid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_getppid) };
}

/// One thread's loop; returns how many calls it made.
fn run(rate: Option<f64>, duration: Duration, start: Instant) -> u64 {
    let mut calls = 0u64;
    let Some(rate) = rate else {
        while start.elapsed() < duration {
            for _ in 0..UNPACED_BATCH {
                getppid();
            }
            calls += UNPACED_BATCH;
        }
        return calls;
    };
    let mut slot_end = start + SLOT;
    loop {
        let now = Instant::now();
        if now >= start + duration {
            return calls;
        }
        // Calls due by the end of the current slot, capped at the end of the run.
        let until = slot_end.min(start + duration) - start;
        let due = (rate * until.as_secs_f64()) as u64;
        while calls < due {
            getppid();
            calls += 1;
        }
        let now = Instant::now();
        if now < slot_end {
            std::thread::sleep(slot_end - now);
        }
        slot_end += SLOT;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.len() > 3 {
        usage();
    }
    let rate: Option<f64> = match args[0].as_str() {
        "max" => None,
        r => match r.parse::<f64>() {
            Ok(r) if r > 0.0 && r.is_finite() => Some(r),
            _ => usage(),
        },
    };
    let seconds: f64 = match args[1].parse() {
        Ok(s) if s > 0.0 && f64::is_finite(s) => s,
        _ => usage(),
    };
    let threads: u32 = match args.get(2).map(|t| t.parse()) {
        None => 1,
        Some(Ok(t)) if t > 0 => t,
        Some(_) => usage(),
    };
    let duration = Duration::from_secs_f64(seconds);
    let per_thread = rate.map(|r| r / f64::from(threads));
    let start = Instant::now();
    let handles: Vec<_> = (1..threads)
        .map(|_| std::thread::spawn(move || run(per_thread, duration, start)))
        .collect();
    let mut calls = run(per_thread, duration, start);
    for h in handles {
        calls += h.join().unwrap_or(0);
    }
    let elapsed = start.elapsed().as_secs_f64();
    // Our own CPU time and voluntary switches, so a parent's rusage (which
    // includes ours once it has reaped us) can be split: the benchmark
    // takes the recorder's share as the difference.
    // SAFETY: rusage is plain old data; getrusage fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a local.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    println!(
        "calls={calls} seconds={elapsed:.3} rate={:.0} threads={threads} cpu_ms={:.1} nvcsw={}",
        calls as f64 / elapsed,
        ms(ru.ru_utime) + ms(ru.ru_stime),
        ru.ru_nvcsw
    );
}
