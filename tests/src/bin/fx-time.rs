//! Benchmark wrapper: `fx-time CMD [ARGS...]` runs CMD (stdin and stdout on
//! /dev/null, stderr inherited), waits for it and prints `own_ms=X` on
//! stdout: the command's own wall time, from just before it is spawned to
//! its exit. Under `recorder -- fx-time CMD`, that leaves out the
//! recorder's start (loading the programs) and stop, which `cargo xtask
//! bench` reports separately: what a traced program pays is this time.
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
            println!("own_ms={ms:.3}");
            std::process::exit(s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0)));
        }
        Err(e) => {
            eprintln!("fx-time: cannot run {cmd}: {e}");
            std::process::exit(1);
        }
    }
}
