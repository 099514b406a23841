//! What a log holds: the serde types written into log blocks, header and
//! trailer. These are the log format's own types, separate from the
//! kernel's ring records in `recorder-common`, so kernel-side layout changes
//! never change the file format. Encoded with postcard (varints), so small
//! numbers cost one byte.
//!
//! Compatibility rule: within a format version, fields may only be *appended*
//! to [`Header`], [`Trailer`] and [`Counters`] (readers ignore trailing bytes
//! of those length-prefixed items); anything else bumps the format version.

use serde::{Deserialize, Serialize};

/// Description of the recording: enough to decode the log on another machine
/// of another architecture.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Header {
    /// Version of the recorder that wrote the log (`CARGO_PKG_VERSION`).
    pub recorder_version: String,
    /// Architecture of the *recorded* machine (`std::env::consts::ARCH`
    /// names: "x86_64", "aarch64"). Syscall numbers are decoded with its table.
    pub arch: String,
    /// `uname -r` of the recorded machine.
    pub kernel_release: String,
    pub hostname: String,
    pub page_size: u32,
    /// CLOCK_REALTIME - CLOCK_MONOTONIC at start, ns: add to a record's
    /// timestamp to get wall-clock time (Unix epoch ns).
    pub realtime_offset_ns: i64,
    /// CLOCK_BOOTTIME - CLOCK_MONOTONIC at start, ns (time spent suspended).
    pub boottime_offset_ns: i64,
    /// Wall-clock start, Unix epoch ns.
    pub start_wall_ns: u64,
    /// CLOCK_MONOTONIC at start, ns (the clock record timestamps use).
    pub start_mono_ns: u64,
    /// The recorder's own argv.
    pub command_line: Vec<String>,
    pub filter: Filter,
    /// Bytes captured per data item; 0 = data capture off.
    pub capture_size: u32,
    pub ring_size: u32,
    /// What was removed before sharing (set by `recorder bundle --redact`).
    pub redactions: Vec<String>,
}

/// How processes were selected.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Filter {
    pub pids: Vec<u32>,
    pub comms: Vec<String>,
    /// `recorder -- COMMAND...`: the command that was started.
    pub command: Vec<String>,
    pub follow_forks: bool,
}

/// One entry in a log block.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum Event {
    Syscall(Syscall),
    /// A traced process exec'd (comm is the new name).
    Exec(ProcEvent),
    /// A traced process created a new process (`aux` = child pid).
    Fork(ProcEvent),
    /// A traced thread exited (`aux`: 1 whole group gone, 0 not, 2 unknown).
    Exit(ProcEvent),
    /// Cumulative counters at this point of the recording, written
    /// periodically so a log cut short still says what was lost.
    Counters(Counters),
    /// A signal delivered to a traced thread.
    Signal(SignalEvent),
}

impl Event {
    /// When it happened (CLOCK_MONOTONIC ns; a syscall's entry), if it is
    /// an event of a process (counters are not).
    pub fn ts_ns(&self) -> Option<u64> {
        self.ids().map(|(_, _, ts)| ts)
    }

    /// The process (thread group) it belongs to.
    pub fn tgid(&self) -> Option<u32> {
        self.ids().map(|(p, _, _)| p)
    }

    /// The thread it belongs to.
    pub fn tid(&self) -> Option<u32> {
        self.ids().map(|(_, t, _)| t)
    }

    fn ids(&self) -> Option<(u32, u32, u64)> {
        match self {
            Event::Syscall(s) => Some((s.tgid, s.tid, s.enter_ns)),
            Event::Exec(p) | Event::Fork(p) | Event::Exit(p) => Some((p.tgid, p.tid, p.ts_ns)),
            Event::Signal(s) => Some((s.tgid, s.tid, s.ts_ns)),
            Event::Counters(_) => None,
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct SignalEvent {
    pub tgid: u32,
    pub tid: u32,
    pub ts_ns: u64,
    pub cpu: u32,
    /// Signal number (the crash signals have the same numbers on x86_64 and
    /// arm64).
    pub sig: u32,
    /// No handler takes it: the signal's default action applies.
    pub default_action: bool,
    pub comm: String,
}

impl SignalEvent {
    /// SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGSYS.
    pub const CRASH_SIGNALS: [u32; 6] = [4, 6, 7, 8, 11, 31];

    /// A crash: one of [`Self::CRASH_SIGNALS`] with no handler, which kills
    /// the process (and dumps core).
    pub fn is_crash(&self) -> bool {
        self.default_action && Self::CRASH_SIGNALS.contains(&self.sig)
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Syscall {
    pub tgid: u32,
    pub tid: u32,
    /// Per-thread sequence number (gaps = lost records of this thread).
    pub seq: u64,
    pub cpu: u32,
    /// Syscall number in the recorded architecture's table.
    pub nr: i64,
    pub args: [u64; 6],
    /// `None`: the call never returned (exit, exit_group, or the thread died
    /// inside it — then `died_in_call` is set).
    pub ret: Option<i64>,
    /// CLOCK_MONOTONIC ns at entry.
    pub enter_ns: u64,
    /// CLOCK_MONOTONIC ns at exit (`None` when `ret` is `None`).
    pub exit_ns: Option<u64>,
    pub died_in_call: bool,
    /// Data the call read or wrote (empty when capture is off).
    pub data: Vec<Capture>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct ProcEvent {
    pub tgid: u32,
    pub tid: u32,
    pub ts_ns: u64,
    pub cpu: u32,
    pub aux: u32,
    pub comm: String,
}

/// Kinds of captured data.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKind {
    /// NUL-terminated input string (the NUL is not stored).
    Str,
    /// Input buffer the call read from user memory.
    InBuf,
    /// Output buffer/struct the kernel filled in.
    OutBuf,
}

/// A piece of user memory captured for one argument.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Capture {
    /// Argument index (0-5) the pointer came from.
    pub arg: u8,
    pub kind: CaptureKind,
    /// Full length of the item (before truncation).
    pub len: u64,
    /// `bytes` holds only a prefix of `len` bytes.
    pub truncated: bool,
    /// Reading user memory failed: `bytes` is empty and means nothing.
    pub read_failed: bool,
    /// As bytes, not a sequence of u8: the same postcard encoding (a
    /// varint length, then the bytes), but one copy instead of a call per
    /// byte, which was the log writer's second-largest cost with capture on.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// Completeness accounting, summed over CPUs, cumulative since start.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Counters {
    /// Records the kernel submitted to the ring.
    pub emitted: u64,
    /// Records the kernel dropped because the ring was full.
    pub ring_full: u64,
    /// Exits seen with no entry (calls in flight when recording started).
    pub exit_without_entry: u64,
    /// Entries not stashed because the per-thread stash was full.
    pub stash_full: u64,
    /// Calls in flight when their thread died (recorded without return).
    pub died_in_call: u64,
    /// User-memory reads that failed during capture.
    pub read_failed: u64,
    /// Syscall entries seen for traced threads.
    pub entered: u64,
    /// Records user space drained but could not write (writer backlog full).
    pub user_dropped: u64,
    /// Records written to this log file.
    pub written: u64,
    /// Entry-time data records (execve's path and argv) the kernel sent;
    /// they are merged into their call's record, not written on their own.
    pub entry_data: u64,
    /// Entry-time data records lost to a full ring: that call's record
    /// lacks its path/argv.
    pub entry_data_lost: u64,
}

impl Counters {
    /// Records lost anywhere between the kernel and the file.
    pub fn lost(&self) -> u64 {
        self.ring_full + self.user_dropped + self.stash_full
    }

    /// `LOST n (ring buffer full: a, writer backlog: b, stash full: c)`, or
    /// `None` when nothing was lost. One wording for every place that
    /// reports loss.
    pub fn loss_text(&self) -> Option<String> {
        let lost = self.lost();
        (lost > 0).then(|| {
            format!(
                "LOST {lost} (ring buffer full: {}, writer backlog: {}, stash full: {})",
                self.ring_full, self.user_dropped, self.stash_full
            )
        })
    }
}

/// Written once when the log is closed cleanly.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Trailer {
    pub end_wall_ns: u64,
    pub end_mono_ns: u64,
    pub counters: Counters,
}

#[cfg(test)]
impl Capture {
    /// A whole (untruncated, successfully read) capture, for tests.
    pub(crate) fn whole(arg: u8, kind: CaptureKind, bytes: &[u8]) -> Self {
        Capture {
            arg,
            kind,
            len: bytes.len() as u64,
            truncated: false,
            read_failed: false,
            bytes: bytes.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Capture::bytes` is serialized with serde_bytes for speed; the log
    /// format must stay what it was with a plain `Vec<u8>` (a varint length,
    /// then the bytes), so logs written before and after read the same.
    #[test]
    fn capture_bytes_keep_the_sequence_encoding() {
        #[derive(Serialize)]
        struct AsSeq {
            arg: u8,
            kind: CaptureKind,
            len: u64,
            truncated: bool,
            read_failed: bool,
            bytes: Vec<u8>,
        }
        let bytes: Vec<u8> = (0..=255).chain(0..44).collect();
        let c = Capture {
            arg: 1,
            kind: CaptureKind::InBuf,
            len: 9000,
            truncated: true,
            read_failed: false,
            bytes: bytes.clone(),
        };
        let seq = AsSeq {
            arg: 1,
            kind: CaptureKind::InBuf,
            len: 9000,
            truncated: true,
            read_failed: false,
            bytes,
        };
        let enc = postcard::to_allocvec(&c).expect("encode");
        assert_eq!(enc, postcard::to_allocvec(&seq).expect("encode"));
        assert_eq!(postcard::from_bytes::<Capture>(&enc).expect("decode"), c);
    }
}
