//! What a log holds: the serde types written into log blocks, header and
//! trailer. These are the log format's own types, separate from the
//! kernel's ring records in `recorder-common`, so kernel-side layout changes
//! never change the file format. Encoded with postcard (varints), so small
//! numbers cost one byte.
//!
//! Compatibility rules (docs/log-format.md §6): within format version 2,
//! fields may only be *appended* to a struct that ends a length-delimited
//! item (the header, the trailer, every event, every data item), and new
//! event kinds and data kinds only get new numbers; readers skip what they
//! do not know. Anything else bumps the format version.
//!
//! `Event` and `Syscall` are only serialized here: decoding goes through
//! [`crate::log`], which knows the format version and skips unknown kinds.

use serde::ser::SerializeSeq as _;
use serde::{Deserialize, Serialize, Serializer};

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
    /// Minor revision of the format the writer followed
    /// ([`crate::log::FORMAT_MINOR`], stamped by the log writer): readers
    /// of an older revision of the same version skip what is newer. 0 in
    /// version 1 logs, which lack the field.
    pub format_minor: u16,
    /// Lossless mode: traced processes were paused, not dropped from, when
    /// the recorder fell behind (see [`PauseEvent`]). False in logs from
    /// before the mode existed.
    pub lossless: bool,
    /// `recorder -e`: the expressions the recorded syscalls were chosen
    /// with, as they parse (`!read,%memory`, without `trace=`). Empty: every
    /// syscall was recorded (and in logs from before revision 2).
    pub trace: Vec<String>,
    /// With `trace`: the syscall numbers (in `arch`'s table) that were
    /// recorded, ascending; calls with any other number are not in the log.
    /// Process events are recorded whatever the set. Empty when `trace`
    /// is, or for `-e none`.
    pub traced_nrs: Vec<i64>,
    /// Lean mode (`recorder --lean`, revision 3): calls were recorded at
    /// their exit only, so a `Syscall`'s `enter_ns` is its exit time and
    /// there are no durations. False in logs from before revision 3.
    pub lean: bool,
    /// `recorder --replayable` (revision 4): recorded to be replayed, with
    /// the largest capture size and in lossless mode, so that every
    /// captured input is whole up to `capture_size` bytes per item and no
    /// call is missing. [`crate::read::replayability`] says, call by call,
    /// what a replay could not reproduce all the same. False in logs from
    /// before revision 4.
    pub replayable: bool,
    /// `recorder watch -o` (revision 5): the log holds the matching calls
    /// of *any* process on the machine (not of selected processes), each
    /// process described by a [`WhoEvent`] before its first call; no
    /// process events (exec, fork, exit, signals) are recorded. False in
    /// every other log (and in logs from before revision 5).
    pub watch: bool,
}

impl Header {
    /// The syscall numbers recorded, when `recorder -e` chose them; `None`
    /// when every call was recorded.
    pub fn trace_set(&self) -> Option<&[i64]> {
        (!self.trace.is_empty()).then_some(self.traced_nrs.as_slice())
    }
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

/// One entry in a log block. The variant index is the record's kind
/// (`crate::log::record::kind`): new variants are only ever appended.
#[derive(Serialize, Debug, Clone, PartialEq)]
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
    /// Lossless mode: a traced process was held back until the recorder
    /// caught up.
    Pause(PauseEvent),
    /// `recorder watch` (revision 5): who the process making the next
    /// calls is, written before its first call in the log and again when
    /// what it says changes.
    Who(WhoEvent),
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
            Event::Pause(p) => Some((p.tgid, p.tgid, p.start_ns)),
            Event::Who(w) => Some((w.tgid, w.tid, w.ts_ns)),
            Event::Counters(_) => None,
        }
    }
}

/// A traced process the kernel side stopped (SIGSTOP) because the ring
/// buffer was filling faster than the recorder drained it, and what became
/// of it. Its calls before and after are all in the log: the pause is the
/// price, and this says how much it was.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct PauseEvent {
    pub tgid: u32,
    /// CLOCK_MONOTONIC ns when it was stopped.
    pub start_ns: u64,
    /// When the recorder resumed it (or found it gone, or left it).
    pub end_ns: u64,
    /// Bytes waiting in the ring buffer when it was stopped.
    pub ring_bytes: u64,
    /// How the pause ended (`PauseEvent::RESUMED` ...).
    pub end: u32,
}

impl PauseEvent {
    /// Resumed by the recorder (SIGCONT).
    pub const RESUMED: u32 = 0;
    /// Not resumed: a stop signal from someone else was pending, so the
    /// process stays stopped as they asked.
    pub const LEFT_STOPPED: u32 = 1;
    /// The process was gone (killed while paused).
    pub const GONE: u32 = 2;

    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}

/// Who a watched process is (`recorder watch`, revision 5): what the
/// kernel gave with its call (comm, uid, gid, cgroup id) and what /proc,
/// or the kernel's notes of its fork and exec, said when the call was
/// seen. Written before the process's first call in the log and again
/// whenever one of these changes (an exec, a pid reused).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct WhoEvent {
    pub tgid: u32,
    /// The thread whose call follows: `comm` is its name.
    pub tid: u32,
    /// The timestamp of the call it describes (CLOCK_MONOTONIC ns).
    pub ts_ns: u64,
    pub comm: String,
    /// Real uid and gid at the call; `WhoEvent::NO_ID` (-1 as uid_t,
    /// what the kernel also uses for "no id"): unknown.
    pub uid: u32,
    pub gid: u32,
    /// The executable's path; empty: unknown.
    pub exe: String,
    /// Where `exe`, `cgroup` and `parents` come from (`WhoEvent::PROC`
    /// ...).
    pub source: u32,
    /// The cgroup v2 path (`/system.slice/cron.service`); empty: unknown.
    pub cgroup: String,
    /// The cgroup v2 id (the cgroup directory's inode number) at the call;
    /// 0: unknown.
    pub cgroup_id: u64,
    /// The parent chain, nearest first, up to init when known.
    pub parents: Vec<Parent>,
}

/// A parent in [`WhoEvent::parents`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Parent {
    pub pid: u32,
    pub comm: String,
}

impl WhoEvent {
    /// Read from /proc while the process ran.
    pub const PROC: u32 = 0;
    /// Read from /proc while the process was exiting: its exe (if any)
    /// from the kernel's notes of its exec.
    pub const EXITING: u32 = 1;
    /// Gone from /proc: from the kernel's notes of its fork and exec.
    pub const KERNEL: u32 = 2;
    /// Gone before it could be looked up: only the call's own fields.
    pub const GONE: u32 = 3;
    /// `uid`/`gid`: unknown (the kernel's part of the call was lost).
    pub const NO_ID: u32 = u32::MAX;

    /// The last component of `cgroup` that names a systemd unit.
    pub fn unit(&self) -> Option<&str> {
        self.cgroup
            .rsplit('/')
            .find(|c| c.ends_with(".service") || c.ends_with(".scope"))
    }

    /// `exe /usr/bin/rm, uid 0, unit cron.service, parents 12 (sh) < 1
    /// (systemd)`: the line `recorder watch` prints under a call.
    pub fn text(&self) -> String {
        let mut parts = vec![match (self.exe.as_str(), self.source) {
            (_, Self::GONE) => "process gone before it could be looked up".to_owned(),
            ("", Self::EXITING) => "exe (unknown: the process was exiting)".to_owned(),
            ("", Self::KERNEL) => "exe (unreadable) (gone: as its fork and exec showed it)".into(),
            ("", _) => "exe (unreadable)".to_owned(),
            (e, Self::KERNEL) => format!("exe {e} (gone: as its fork and exec showed it)"),
            (e, _) => format!("exe {e}"),
        }];
        if self.uid != Self::NO_ID {
            parts.push(format!("uid {}", self.uid));
        }
        if !self.cgroup.is_empty() {
            parts.push(match self.unit() {
                Some(u) => format!("unit {u}"),
                None => format!("cgroup {}", self.cgroup),
            });
        }
        if !self.parents.is_empty() {
            let chain: Vec<String> = self
                .parents
                .iter()
                .map(|p| format!("{} ({})", p.pid, p.comm))
                .collect();
            parts.push(format!("parents {}", chain.join(" < ")));
        }
        parts.join(", ")
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

#[derive(Serialize, Debug, Clone, PartialEq, Default)]
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
    /// Data the call read or wrote (empty when capture is off). Each item
    /// is length-delimited in the log, so items of kinds added later can
    /// be skipped by older readers.
    #[serde(serialize_with = "delimited_captures")]
    pub data: Vec<Capture>,
}

/// `varint(count)`, then each item as `varint(L) || postcard(Capture)`.
fn delimited_captures<S: Serializer>(data: &[Capture], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(data.len()))?;
    for c in data {
        // A tuple is its elements back to back, and a u32 is a varint:
        // this writes the length prefix without encoding the item twice.
        seq.serialize_element(&(c.encoded_len(), c))?;
    }
    seq.end()
}

/// Bytes a fixed-size stack buffer holds for one varint-encoded part of a
/// record: the fixed fields of a `Syscall` take at most 134 (a 1-byte
/// variant, 4 u32 and 3 u64 varints, a zigzag i64, 6 u64 args, two
/// options, a bool and the item count), a capture's header at most 28.
const ENC_BUF: usize = 144;

/// A little postcard encoder for the hot path: varints go into a stack
/// buffer that is appended to the output in one copy. The position is
/// passed by value so that it stays in a register: kept in a struct field,
/// every byte waited on a store-to-load round trip, which cost as much as
/// the serde path it replaced.
type EncBuf = [u8; ENC_BUF];

#[inline(always)]
fn put_byte(buf: &mut EncBuf, n: usize, b: u8) -> usize {
    buf[n] = b;
    n + 1
}

#[inline(always)]
fn put_varint(buf: &mut EncBuf, mut n: usize, mut v: u64) -> usize {
    while v >= 0x80 {
        buf[n] = v as u8 | 0x80;
        n += 1;
        v >>= 7;
    }
    buf[n] = v as u8;
    n + 1
}

/// postcard's signed integers: zigzag, then varint.
#[inline(always)]
fn put_zigzag(buf: &mut EncBuf, n: usize, v: i64) -> usize {
    put_varint(buf, n, ((v << 1) ^ (v >> 63)) as u64)
}

#[inline(always)]
fn put_option(buf: &mut EncBuf, n: usize, v: Option<u64>, signed: bool) -> usize {
    let Some(v) = v else {
        return put_byte(buf, n, 0);
    };
    let n = put_byte(buf, n, 1);
    if signed {
        put_zigzag(buf, n, v as i64)
    } else {
        put_varint(buf, n, v)
    }
}

/// A data item borrowed from wherever it lies (the ring buffer, while the
/// drain encodes a record straight from it, or a [`Capture`]).
#[derive(Debug, Clone, Copy)]
pub struct CaptureRef<'a> {
    pub arg: u8,
    pub kind: CaptureKind,
    pub len: u64,
    pub truncated: bool,
    pub read_failed: bool,
    pub bytes: &'a [u8],
}

impl CaptureRef<'_> {
    /// Bytes of this item's postcard encoding (its length prefix in the
    /// log), computed rather than encoded twice.
    fn encoded_len(&self) -> u32 {
        fn varint_len(v: u64) -> usize {
            (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
        }
        let n = self.bytes.len();
        // arg, kind, len, truncated, read_failed, then the bytes.
        let total =
            1 + varint_len(self.kind as u64) + varint_len(self.len) + 2 + varint_len(n as u64) + n;
        total as u32
    }

    pub fn to_capture(self) -> Capture {
        Capture {
            arg: self.arg,
            kind: self.kind,
            len: self.len,
            truncated: self.truncated,
            read_failed: self.read_failed,
            bytes: self.bytes.to_vec(),
        }
    }
}

impl Syscall {
    /// Appends the postcard encoding of `Event::Syscall(self)` to `out`.
    pub(crate) fn encode_event(&self, out: &mut Vec<u8>) {
        self.encode_with(out, self.data.iter().map(Capture::borrowed));
    }

    /// Appends the postcard encoding of `Event::Syscall` with this call's
    /// fields and `data` in place of `self.data` (which is not looked at),
    /// byte for byte what `postcard::to_extend` writes (a test holds the
    /// two together), without serde: its per-field calls and postcard's
    /// byte-at-a-time pushes were 40% of the log writer's time on a
    /// getppid storm (`perf record` on `examples/zstd_levels`). The drain
    /// uses it to encode a record straight from the ring buffer.
    pub fn encode_with<'a>(
        &self,
        out: &mut Vec<u8>,
        data: impl ExactSizeIterator<Item = CaptureRef<'a>>,
    ) {
        let mut b: EncBuf = [0; ENC_BUF];
        let mut n = put_byte(&mut b, 0, 0); // Event::Syscall's variant index
        n = put_varint(&mut b, n, self.tgid.into());
        n = put_varint(&mut b, n, self.tid.into());
        n = put_varint(&mut b, n, self.seq);
        n = put_varint(&mut b, n, self.cpu.into());
        n = put_zigzag(&mut b, n, self.nr);
        for &a in &self.args {
            n = put_varint(&mut b, n, a);
        }
        n = put_option(&mut b, n, self.ret.map(|r| r as u64), true);
        n = put_varint(&mut b, n, self.enter_ns);
        n = put_option(&mut b, n, self.exit_ns, false);
        n = put_byte(&mut b, n, self.died_in_call.into());
        n = put_varint(&mut b, n, data.len() as u64);
        for c in data {
            n = put_varint(&mut b, n, c.encoded_len().into());
            n = put_byte(&mut b, n, c.arg);
            n = put_varint(&mut b, n, c.kind as u64);
            n = put_varint(&mut b, n, c.len);
            n = put_byte(&mut b, n, c.truncated.into());
            n = put_byte(&mut b, n, c.read_failed.into());
            n = put_varint(&mut b, n, c.bytes.len() as u64);
            out.extend_from_slice(&b[..n]);
            out.extend_from_slice(c.bytes);
            n = 0;
        }
        out.extend_from_slice(&b[..n]);
    }
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

/// What an `Exit` says of its thread group (`ProcEvent::aux`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupDead {
    /// Other threads remain.
    No,
    /// The last thread: the process is gone.
    Yes,
    /// The kernel does not say (no `group_dead` in its tracepoint before 6.x).
    Unknown,
}

/// `aux` has one meaning per kind (docs/log-format.md): these name it.
impl ProcEvent {
    /// `Fork`: the new process's id.
    pub fn child(&self) -> u32 {
        self.aux
    }

    /// `Exec`: the id of the thread that called exec (`old_tid`; 0 when
    /// unknown).
    pub fn old_tid(&self) -> u32 {
        self.aux
    }

    /// `Exec`: the thread that exec'd, when it was not the leader: it took
    /// over the leader's id (`tid`), and its own id is gone.
    pub fn exec_by_other_thread(&self) -> Option<u32> {
        (self.aux != 0 && self.aux != self.tid).then_some(self.aux)
    }

    /// `Exit`: whether the thread group died with this thread.
    pub fn group_dead(&self) -> GroupDead {
        match self.aux {
            0 => GroupDead::No,
            1 => GroupDead::Yes,
            _ => GroupDead::Unknown,
        }
    }

    /// `Exit`: the process is gone, by the kernel's word or, where the
    /// kernel does not say, because its leader exited.
    pub fn process_ended(&self) -> bool {
        match self.group_dead() {
            GroupDead::Yes => true,
            GroupDead::No => false,
            GroupDead::Unknown => self.tid == self.tgid,
        }
    }
}

/// Kinds of captured data. New kinds are only ever appended.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKind {
    /// NUL-terminated input string (the NUL is not stored).
    Str,
    /// Input buffer the call read from user memory.
    InBuf,
    /// Output buffer/struct the kernel filled in.
    OutBuf,
}

impl CaptureKind {
    /// Kinds above this number are newer than this reader.
    pub const LAST_KNOWN: u32 = CaptureKind::OutBuf as u32;
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

impl Capture {
    pub fn borrowed(&self) -> CaptureRef<'_> {
        CaptureRef {
            arg: self.arg,
            kind: self.kind,
            len: self.len,
            truncated: self.truncated,
            read_failed: self.read_failed,
            bytes: &self.bytes,
        }
    }

    /// Bytes of this item's postcard encoding (its length prefix in the
    /// log).
    fn encoded_len(&self) -> u32 {
        self.borrowed().encoded_len()
    }
}

/// Completeness accounting, summed over CPUs, cumulative since start.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Counters {
    /// Records the kernel submitted to the ring.
    pub emitted: u64,
    /// Records the kernel dropped because the ring was full.
    pub ring_full: u64,
    /// Exits seen with no entry (calls in flight when recording started;
    /// with [`Header::trace`], of calls in the set).
    pub exit_without_entry: u64,
    /// Entries not stashed because the per-thread stash was full.
    pub stash_full: u64,
    /// Calls in flight when their thread died (recorded without return).
    pub died_in_call: u64,
    /// User-memory reads that failed during capture.
    pub read_failed: u64,
    /// Syscall entries seen for traced threads (with [`Header::trace`], of
    /// calls in the set).
    pub entered: u64,
    /// Records user space drained but did not write: the disk was full
    /// (and, in logs of recorders before format 2, a full writer queue).
    pub user_dropped: u64,
    /// Records written to this log file.
    pub written: u64,
    /// Entry-time data records (execve's path and argv) the kernel sent;
    /// they are merged into their call's record, not written on their own.
    pub entry_data: u64,
    /// Entry-time data records lost to a full ring: that call's record
    /// lacks its path/argv.
    pub entry_data_lost: u64,
    /// Lossless mode: times a traced process was paused.
    pub paused: u64,
}

impl Counters {
    /// Records lost anywhere between the kernel and the file.
    pub fn lost(&self) -> u64 {
        self.ring_full + self.user_dropped + self.stash_full
    }

    /// `LOST n (ring buffer full: a, not written: b, stash full: c)`, or
    /// `None` when nothing was lost. One wording for every place that
    /// reports loss.
    pub fn loss_text(&self) -> Option<String> {
        let lost = self.lost();
        (lost > 0).then(|| {
            format!(
                "LOST {lost} (ring buffer full: {}, not written: {}, stash full: {})",
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

    /// The length prefix of a data item is computed, not measured: it must
    /// equal the encoding's real length at every varint width.
    #[test]
    fn capture_encoded_len_is_its_postcard_length() {
        for n in [0usize, 1, 127, 128, 300, 16383, 16384, 70000] {
            for len in [0u64, 127, 128, 1 << 35, u64::MAX] {
                let c = Capture {
                    arg: 3,
                    kind: CaptureKind::OutBuf,
                    len,
                    truncated: true,
                    read_failed: false,
                    bytes: vec![7; n],
                };
                let enc = postcard::to_allocvec(&c).expect("encode");
                assert_eq!(c.encoded_len() as usize, enc.len(), "n={n} len={len}");
            }
        }
    }

    /// `aux`'s meanings, as docs/log-format.md gives them.
    #[test]
    fn proc_event_aux_accessors() {
        let ev = |tid, aux| ProcEvent {
            tgid: 10,
            tid,
            aux,
            ..ProcEvent::default()
        };
        assert_eq!(ev(10, 1).group_dead(), GroupDead::Yes);
        assert_eq!(ev(10, 0).group_dead(), GroupDead::No);
        assert_eq!(ev(10, 2).group_dead(), GroupDead::Unknown);
        assert_eq!(ev(10, 7).group_dead(), GroupDead::Unknown);
        // Where the kernel does not say, the leader's exit ends the process.
        assert!(ev(10, 2).process_ended() && !ev(11, 2).process_ended());
        assert!(ev(11, 1).process_ended() && !ev(10, 0).process_ended());
        assert_eq!(ev(10, 12).exec_by_other_thread(), Some(12));
        assert_eq!(ev(10, 10).exec_by_other_thread(), None);
        assert_eq!(ev(10, 0).exec_by_other_thread(), None);
        assert_eq!((ev(10, 99).child(), ev(10, 99).old_tid()), (99, 99));
    }

    /// The writer's hand encoder writes what postcard writes, for values
    /// at every varint width, both signs, and with and without data.
    #[test]
    fn syscall_hand_encoding_is_postcard() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            // xorshift64*, then a random width so small values are common.
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
            r >> (r % 64)
        };
        for i in 0..20_000u64 {
            let data = (0..(i % 4))
                .map(|k| Capture {
                    arg: next() as u8,
                    kind: [CaptureKind::Str, CaptureKind::InBuf, CaptureKind::OutBuf]
                        [k as usize % 3],
                    len: next(),
                    truncated: next() & 1 == 1,
                    read_failed: next() & 1 == 1,
                    bytes: vec![next() as u8; (next() % 300) as usize],
                })
                .collect();
            let sc = Syscall {
                tgid: next() as u32,
                tid: next() as u32,
                seq: next(),
                cpu: next() as u32,
                nr: next() as i64 * if i % 2 == 0 { 1 } else { -1 },
                args: [next(), next(), next(), next(), next(), u64::MAX],
                ret: (i % 3 != 0).then(|| {
                    if i % 5 == 0 {
                        i64::MIN
                    } else {
                        -(next() as i64)
                    }
                }),
                enter_ns: next(),
                exit_ns: (i % 3 != 0).then(&mut next),
                died_in_call: i % 7 == 0,
                data,
            };
            let mut hand = vec![0xEE];
            sc.encode_event(&mut hand);
            let ev = Event::Syscall(sc);
            assert_eq!(
                hand[1..],
                postcard::to_allocvec(&ev).expect("encode")[..],
                "{ev:?}"
            );
        }
    }

    /// Format 2 writes each data item behind its length.
    #[test]
    fn syscall_data_items_are_length_delimited() {
        let sc = Syscall {
            data: vec![
                Capture::whole(1, CaptureKind::Str, b"/etc"),
                Capture::whole(2, CaptureKind::OutBuf, &[0xAA; 200]),
            ],
            ..Syscall::default()
        };
        let enc = postcard::to_allocvec(&sc).expect("encode");
        // 10 fixed fields: tgid..seq..cpu..nr (1 byte each at 0), 6 args,
        // ret None, enter 0, exit None, died false = 4 + 1 + 6 + 4.
        let list = &enc[15..];
        let first = postcard::to_allocvec(&sc.data[0]).expect("encode");
        let second = postcard::to_allocvec(&sc.data[1]).expect("encode");
        let mut want = vec![2, first.len() as u8];
        want.extend_from_slice(&first);
        want.extend_from_slice(&[(second.len() as u8) | 0x80, (second.len() >> 7) as u8]);
        want.extend_from_slice(&second);
        assert_eq!(list, &want[..]);
    }
}
