//! `recorder replay`: what runs the program again against its recording,
//! minus the process handling (the seccomp supervisor is the binary's,
//! `cmd/replay.rs`). Here, free of system calls and testable without a
//! kernel:
//!
//! - [`policy`]: the class of every call (live, emulated, output...),
//!   one table for both architectures;
//! - [`plan`]: the recording as replay reads it (per-thread call queues in
//!   creation order, the command line, the recorded outcome) and the
//!   calls that cannot be replayed;
//! - [`check`]: whether a live call is the recorded one, and the bytes to
//!   write into the program to emulate a recorded call.

pub mod check;
pub mod order;
pub mod plan;
pub mod policy;

use std::io::Write as _;

use crate::decode::{Formatter, ShowTid, TimeMode};
use crate::event::{Event, Syscall};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read the log")]
    Open(#[from] crate::read::ReadError),
    #[error("cannot read the log")]
    Read(#[source] crate::log::LogError),
    #[error("the log's architecture {0:?} is not one this recorder knows")]
    UnknownArch(String),
}

/// Lines of a divergence report: the last matched calls, the call the
/// log expected and the call the program made, in strace format.
pub fn divergence_text(
    fmt: &mut Formatter,
    matched: &[Syscall],
    expected: Option<&Syscall>,
    got: &Syscall,
    why: &str,
) -> String {
    fmt.time = TimeMode::None;
    fmt.show_duration = false;
    fmt.show_tid = ShowTid::Never;
    fmt.max_str = 64;
    let mut out = Vec::new();
    for s in matched {
        let _ = write!(out, "    #{:<5} ", s.seq);
        out.extend_from_slice(fmt.render_text(&Event::Syscall(s.clone())));
    }
    match expected {
        Some(e) => {
            let _ = write!(out, "  - #{:<5} ", e.seq);
            out.extend_from_slice(trim(fmt.render_text(&Event::Syscall(e.clone()))));
            out.extend_from_slice(b"    <- recorded\n");
        }
        None => out.extend_from_slice(b"  - (the recording has no more calls for this thread)\n"),
    }
    out.extend_from_slice(b"  +        ");
    out.extend_from_slice(trim(fmt.render_text(&Event::Syscall(got.clone()))));
    out.extend_from_slice(b"    <- replay\n");
    let _ = writeln!(out, "  ({why})");
    String::from_utf8_lossy(&out).into_owned()
}

fn trim(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}
