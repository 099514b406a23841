//! Whether a recorded call can be replayed from the log: whether the log
//! holds everything the call wrote into the process (the bytes a read
//! returned, the struct a stat filled in, the events epoll_wait gave), so
//! that a replay can write them back instead of making the call.
//!
//! [`replayability`] answers for one call; [`ReplayTally`] sums the answers
//! up for `recorder info` (per syscall and reason, with the first calls).
//! The answer is about the log only: what the recorder cannot see at all
//! (vDSO calls, the contents of mmap'd files, shared memory) is said once
//! per log by [`log_notes`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::decode::{Arch, ArgPlan, LenFrom, capture_plan, syscall_name};
use crate::event::{Capture, CaptureKind, Header, Syscall};

/// Why a call cannot be replayed from the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NotReplayable {
    /// What the call wrote into argument `arg` holds only its first
    /// `captured` bytes of `len` (the capture size, `-s`, was smaller).
    Truncated { arg: u8, captured: u64, len: u64 },
    /// A bundle made with `--redact data` removed the bytes of `arg`.
    Redacted { arg: u8 },
    /// The recorder could not read `arg`'s memory when the call returned.
    ReadFailed { arg: u8 },
    /// The call writes memory the log does not hold: `what` says which
    /// (`arg` when it is one argument's).
    NotCaptured { arg: Option<u8>, what: &'static str },
}

impl NotReplayable {
    /// The reason in a word, for grouping (`truncated`, `redacted`,
    /// `read failed`, `not captured`).
    pub fn kind(&self) -> &'static str {
        match self {
            NotReplayable::Truncated { .. } => "truncated",
            NotReplayable::Redacted { .. } => "redacted",
            NotReplayable::ReadFailed { .. } => "read failed",
            NotReplayable::NotCaptured { .. } => "not captured",
        }
    }
}

impl std::fmt::Display for NotReplayable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotReplayable::Truncated { arg, captured, len } => {
                write!(f, "argument {arg}: {captured} of {len} bytes captured")
            }
            NotReplayable::Redacted { arg } => write!(f, "argument {arg}: its bytes were redacted"),
            NotReplayable::ReadFailed { arg } => {
                write!(
                    f,
                    "argument {arg}: could not be read when the call returned"
                )
            }
            NotReplayable::NotCaptured { arg: Some(a), what } => write!(f, "argument {a}: {what}"),
            NotReplayable::NotCaptured { arg: None, what } => f.write_str(what),
        }
    }
}

/// Calls that write into the process memory the log does not hold, with
/// the argument whose pointer says so (the call writes nothing when it is
/// NULL) and what it is. Calls that only return a number, or whose outputs
/// the capture plan holds, are not here.
const UNCAPTURED: &[(&str, Option<u8>, &str)] = &[
    ("waitid", Some(2), "the siginfo_t"),
    ("rt_sigtimedwait", Some(1), "the siginfo_t"),
    ("times", Some(0), "struct tms"),
    ("getrusage", Some(1), "struct rusage"),
    ("getitimer", Some(1), "struct itimerval"),
    ("setitimer", Some(2), "the old struct itimerval"),
    ("timer_gettime", Some(1), "struct itimerspec"),
    ("timer_settime", Some(3), "the old struct itimerspec"),
    ("timerfd_gettime", Some(1), "struct itimerspec"),
    ("sched_getattr", Some(1), "struct sched_attr"),
    // Captured since December 2026 (24 bytes, for dump), but refused
    // still: a version-1 header has the kernel fill 12 of them, and
    // writing the 24 back would overrun the program's buffer.
    ("capget", Some(1), "the capability sets"),
    ("get_robust_list", Some(1), "the robust list head"),
    ("io_getevents", Some(3), "the io_events"),
    ("io_pgetevents", Some(3), "the io_events"),
    ("msgrcv", Some(1), "the message"),
    ("adjtimex", Some(0), "struct timex"),
    ("clock_adjtime", Some(1), "struct timex"),
    ("getdents", Some(1), "the directory records"),
    ("mincore", Some(2), "the residency vector"),
    ("process_vm_readv", Some(1), "the memory read"),
    ("sendfile", Some(2), "the updated offset"),
    ("splice", Some(1), "the updated offsets"),
    ("copy_file_range", Some(1), "the updated offsets"),
    ("time", Some(0), "the time stored"),
    ("syslog", Some(1), "the kernel log read"),
    ("statmount", Some(2), "struct statmount"),
    ("listmount", Some(2), "the mount ids"),
    ("lsm_get_self_attr", Some(1), "the attributes"),
    ("mq_getsetattr", Some(2), "the old struct mq_attr"),
    ("name_to_handle_at", Some(2), "the file handle"),
    (
        "io_uring_setup",
        None,
        "io_uring's shared rings (memory, not calls)",
    ),
    (
        "io_uring_enter",
        None,
        "io_uring's shared rings (memory, not calls)",
    ),
];

/// Whether a call that succeeded wrote nothing although its plan has an
/// output: getgroups(0, list) only counts the groups (the kernel writes
/// the list only when the size is not 0), while the capture read `ret`
/// gids at the pointer, the program's own bytes, which a replay must not
/// write back.
pub fn writes_nothing(name: &str, args: &[u64; 6]) -> bool {
    name == "getgroups" && args[0] == 0
}

/// ioctl requests that write nothing back (their argument is an input or
/// a number), so that an unknown output size is no loss.
const IOCTL_INPUT_ONLY: &[u32] = &[
    0x5402, 0x5403, 0x5404, // TCSETS, TCSETSW, TCSETSF
    0x5409, 0x540a, 0x540b, // TCSBRK, TCXONC, TCFLSH
    0x540e, 0x5410, 0x5414, // TIOCSCTTY, TIOCSPGRP, TIOCSWINSZ
    0x5421, 0x5450, 0x5451, 0x5452, // FIONBIO, FIONCLEX, FIOCLEX, FIOASYNC
    0x8914, 0x8916, 0x8922, // SIOCSIFFLAGS, SIOCSIFADDR, SIOCSIFMTU
];

/// Whether `sc` can be replayed from the log `header` describes: `Ok` when
/// the log holds everything the call wrote into the process (or it wrote
/// nothing: a failed call returns its errno, a call that never returned
/// has nothing to give back), else the first reason it cannot.
pub fn replayability(header: &Header, sc: &Syscall) -> Result<(), NotReplayable> {
    let Some(ret) = sc.ret else { return Ok(()) };
    if (-4095..=-1).contains(&ret) {
        return Ok(());
    }
    let Some(arch) = Arch::from_name(&header.arch) else {
        return Err(NotReplayable::NotCaptured {
            arg: None,
            what: "the log's architecture is unknown to this reader",
        });
    };
    let name = syscall_name(arch, sc.nr).unwrap_or("");
    if writes_nothing(name, &sc.args) {
        return Ok(());
    }
    if let Some(&(_, arg, what)) = UNCAPTURED.iter().find(|u| u.0 == name)
        && arg.is_none_or(|a| sc.args[usize::from(a)] != 0)
    {
        return Err(NotReplayable::NotCaptured { arg, what });
    }
    let plan = capture_plan(arch, sc.nr);
    for (i, p) in plan.args.iter().enumerate() {
        let arg = i as u8;
        if !writes(p) || sc.args[i] == 0 {
            continue;
        }
        if *p == ArgPlan::IoctlOut {
            let req = sc.args[1] as u32;
            if recorder_common::ioctl_out_size(req) == 0 {
                if IOCTL_INPUT_ONLY.contains(&req) {
                    continue;
                }
                return Err(NotReplayable::NotCaptured {
                    arg: Some(arg),
                    what: "the output of an ioctl request not in the capture table",
                });
            }
        }
        if *p == ArgPlan::Mmsghdr {
            check_mmsg(header, sc, arg, ret)?;
            continue;
        }
        let mut items = written(sc, arg, p, ret).peekable();
        if items.peek().is_none() {
            return Err(NotReplayable::NotCaptured {
                arg: Some(arg),
                what: missing(header, p),
            });
        }
        for c in items {
            check_item(header, arg, c)?;
        }
    }
    Ok(())
}

/// recvmmsg's items (`ArgPlan::Mmsghdr`): the array, then per message its
/// data and, when the array says it has one, its address.
fn check_mmsg(header: &Header, sc: &Syscall, arg: u8, ret: i64) -> Result<(), NotReplayable> {
    use recorder_common::capture::{MAX_MMSG, MMSGHDR_SIZE};
    let mut items = sc
        .data
        .iter()
        .filter(|c| c.arg == arg && c.kind == CaptureKind::OutBuf);
    let not_captured = |what| NotReplayable::NotCaptured {
        arg: Some(arg),
        what,
    };
    let array = items
        .next()
        .ok_or_else(|| not_captured(missing(header, &ArgPlan::Mmsghdr)))?;
    check_item(header, arg, array)?;
    let n = usize::try_from(ret).unwrap_or(0);
    if n > MAX_MMSG {
        return Err(not_captured("the data of the messages past the 8th"));
    }
    for k in 0..n {
        let entry = array
            .bytes
            .get(k * MMSGHDR_SIZE as usize..)
            .unwrap_or_default();
        let name = entry
            .get(..8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()));
        let name_len = entry
            .get(8..12)
            .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()));
        let parts = if name != 0 && name_len > 0 { 2 } else { 1 };
        for _ in 0..parts {
            let c = items
                .next()
                .ok_or_else(|| not_captured("the messages past what one record holds (128 KiB)"))?;
            check_item(header, arg, c)?;
        }
    }
    Ok(())
}

/// Whether a plan's argument is memory the call writes.
fn writes(p: &ArgPlan) -> bool {
    match p {
        ArgPlan::OutBuf { .. }
        | ArgPlan::DirentCount
        | ArgPlan::InOut { .. }
        | ArgPlan::Mmsghdr
        | ArgPlan::IoctlOut => true,
        ArgPlan::Iovec { out, .. } | ArgPlan::Msghdr { out } | ArgPlan::Sockaddr { out, .. } => {
            *out
        }
        // poll's array, read at exit: its revents are the call's output.
        ArgPlan::InBuf {
            len: LenFrom::ArgTimes(..),
        } => true,
        _ => false,
    }
}

/// The items that hold what the call wrote into argument `arg`.
fn written<'a>(
    sc: &'a Syscall,
    arg: u8,
    p: &'a ArgPlan,
    ret: i64,
) -> impl Iterator<Item = &'a Capture> + 'a {
    sc.data.iter().filter(move |c| {
        c.arg == arg
            && match p {
                // The records, not the count marker before them.
                ArgPlan::DirentCount => {
                    c.len == ret as u64 && !(c.bytes.is_empty() && !c.truncated && ret > 0)
                }
                ArgPlan::InBuf { .. } => true,
                _ => c.kind == CaptureKind::OutBuf,
            }
    })
}

/// Why an output the plan has is not in the record.
fn missing(header: &Header, p: &ArgPlan) -> &'static str {
    if header.capture_size == 0 {
        "data capture was off (-s 0)"
    } else if *p == ArgPlan::DirentCount {
        "the directory records (this recorder only counted them)"
    } else {
        "no data in the record"
    }
}

fn check_item(header: &Header, arg: u8, c: &Capture) -> Result<(), NotReplayable> {
    if c.read_failed {
        return Err(NotReplayable::ReadFailed { arg });
    }
    if c.truncated {
        if c.bytes.is_empty() && redacted_data(header) {
            return Err(NotReplayable::Redacted { arg });
        }
        return Err(NotReplayable::Truncated {
            arg,
            captured: c.bytes.len() as u64,
            len: c.len,
        });
    }
    Ok(())
}

/// Whether a bundle dropped captured bytes (`--redact data`).
fn redacted_data(header: &Header) -> bool {
    header.redactions.iter().any(|r| r.starts_with("data"))
}

/// What a log can never hold for replay, and how it was recorded, in
/// sentences: said once per log, whatever its calls.
pub fn log_notes(header: &Header) -> Vec<String> {
    let mut notes = Vec::new();
    if !header.replayable {
        notes.push(format!(
            "not recorded with --replayable: items were captured up to {} bytes{}",
            header.capture_size,
            if header.lossless {
                ""
            } else {
                ", and not in lossless mode"
            }
        ));
    }
    if let Some(set) = header.trace_set() {
        notes.push(format!(
            "only {} system call(s) were recorded (-e {}): the others cannot be fed back",
            set.len(),
            header.trace.join(" -e ")
        ));
    }
    if redacted_data(header) {
        notes.push("captured data was redacted (bundle --redact data)".to_owned());
    }
    notes.push(
        "never in a log: vDSO calls (clock_gettime, gettimeofday, time, getcpu; getrandom \
         with glibc 2.41+ on Linux 6.11+), the contents of mmap'd files and shared memory, \
         the environment"
            .to_owned(),
    );
    notes
}

/// How many of each syscall's calls cannot be replayed, and why.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayTally {
    /// Successful calls looked at.
    pub calls: u64,
    /// Of them, calls that cannot be replayed.
    pub blocked: u64,
    /// Per syscall and reason (`truncated`...).
    pub groups: Vec<ReplayGroup>,
    #[serde(skip)]
    by_key: BTreeMap<(String, &'static str), ReplayGroup>,
}

/// The calls of one syscall that cannot be replayed for one reason.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayGroup {
    pub syscall: String,
    pub reason: &'static str,
    pub count: u64,
    /// The first calls, as (thread id, sequence number).
    pub first: Vec<(u32, u64)>,
    /// The first call's full reason.
    pub example: String,
    /// Largest full length of a truncated item (truncated only).
    pub largest: u64,
}

/// Calls listed per group.
pub const FIRST_LISTED: usize = 5;

impl ReplayTally {
    pub fn add(&mut self, header: &Header, sc: &Syscall) {
        self.calls += 1;
        let Err(why) = replayability(header, sc) else {
            return;
        };
        self.blocked += 1;
        let name = Arch::from_name(&header.arch)
            .and_then(|a| syscall_name(a, sc.nr))
            .map_or_else(|| format!("syscall_{}", sc.nr), str::to_owned);
        let g = self
            .by_key
            .entry((name.clone(), why.kind()))
            .or_insert_with(|| ReplayGroup {
                syscall: name,
                reason: why.kind(),
                count: 0,
                first: Vec::new(),
                example: why.to_string(),
                largest: 0,
            });
        g.count += 1;
        if g.first.len() < FIRST_LISTED {
            g.first.push((sc.tid, sc.seq));
        }
        if let NotReplayable::Truncated { len, .. } = why {
            g.largest = g.largest.max(len);
        }
    }

    /// Ends the tally: the groups, most calls first.
    pub fn finish(&mut self) {
        let mut groups: Vec<ReplayGroup> = std::mem::take(&mut self.by_key).into_values().collect();
        groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.syscall.cmp(&b.syscall)));
        self.groups = groups;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::syscall_nr;

    fn header(capture_size: u32) -> Header {
        Header {
            arch: "x86_64".into(),
            capture_size,
            ..Header::default()
        }
    }

    fn call(name: &str, args: [u64; 6], ret: i64, data: Vec<Capture>) -> Syscall {
        Syscall {
            tgid: 1,
            tid: 1,
            seq: 7,
            cpu: 0,
            nr: syscall_nr(Arch::X86_64, name).unwrap(),
            args,
            ret: Some(ret),
            enter_ns: 0,
            exit_ns: Some(1),
            died_in_call: false,
            data,
        }
    }

    fn out(arg: u8, bytes: &[u8], len: u64) -> Capture {
        Capture {
            arg,
            kind: CaptureKind::OutBuf,
            len,
            truncated: (bytes.len() as u64) < len,
            read_failed: false,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn a_whole_read_replays_a_cut_one_does_not() {
        let h = header(4);
        let whole = call(
            "read",
            [3, 0x1000, 64, 0, 0, 0],
            4,
            vec![out(1, b"abcd", 4)],
        );
        assert_eq!(replayability(&h, &whole), Ok(()));
        let cut = call(
            "read",
            [3, 0x1000, 64, 0, 0, 0],
            6,
            vec![out(1, b"abcd", 6)],
        );
        assert_eq!(
            replayability(&h, &cut),
            Err(NotReplayable::Truncated {
                arg: 1,
                captured: 4,
                len: 6
            })
        );
    }

    #[test]
    fn failed_calls_replay_and_missing_outputs_do_not() {
        let h = header(4096);
        let failed = call("read", [3, 0x1000, 64, 0, 0, 0], -5, vec![]);
        assert_eq!(replayability(&h, &failed), Ok(()));
        let bare = call("read", [3, 0x1000, 64, 0, 0, 0], 4, vec![]);
        assert!(matches!(
            replayability(&h, &bare),
            Err(NotReplayable::NotCaptured { arg: Some(1), .. })
        ));
        let off = replayability(&header(0), &bare).unwrap_err();
        assert_eq!(off.to_string(), "argument 1: data capture was off (-s 0)");
        let mmsg = call("recvmmsg", [3, 0x1000, 2, 0, 0, 0], 2, vec![]);
        assert_eq!(replayability(&h, &mmsg).unwrap_err().kind(), "not captured");
        let getrusage = call("getrusage", [0, 0x1000, 0, 0, 0, 0], 0, vec![]);
        assert_eq!(
            replayability(&h, &getrusage).unwrap_err().kind(),
            "not captured"
        );
        // A call that writes nothing.
        let close = call("close", [3, 0, 0, 0, 0, 0], 0, vec![]);
        assert_eq!(replayability(&h, &close), Ok(()));
    }

    #[test]
    fn redaction_and_ioctls_are_told_apart() {
        let mut h = header(4096);
        h.redactions = vec!["data".into()];
        let mut c = out(1, b"", 10);
        c.truncated = true;
        let red = call("read", [3, 0x1000, 64, 0, 0, 0], 10, vec![c]);
        assert_eq!(
            replayability(&h, &red),
            Err(NotReplayable::Redacted { arg: 1 })
        );
        let h = header(4096);
        let tcsets = call("ioctl", [0, 0x5402, 0x1000, 0, 0, 0], 0, vec![]);
        assert_eq!(replayability(&h, &tcsets), Ok(()));
        let winsz = call(
            "ioctl",
            [0, 0x5413, 0x1000, 0, 0, 0],
            0,
            vec![out(2, &[0; 8], 8)],
        );
        assert_eq!(replayability(&h, &winsz), Ok(()));
        let unknown = call("ioctl", [0, 0x1234, 0x1000, 0, 0, 0], 0, vec![]);
        assert!(replayability(&h, &unknown).is_err());
    }

    /// recvmmsg: the array, then each message's data and its address when
    /// the array says it has one.
    #[test]
    fn recvmmsg_needs_every_message() {
        let h = header(4096);
        let mut array = vec![0u8; 128];
        array[..8].copy_from_slice(&0x2000u64.to_le_bytes()); // msg_name
        array[8..12].copy_from_slice(&16u32.to_le_bytes()); // msg_namelen
        let args = [3, 0x1000, 2, 0, 0, 0];
        let all = vec![
            out(1, &array, 128),
            out(1, b"one", 3),
            out(1, &[2; 16], 16),
            out(1, b"two", 3),
        ];
        assert_eq!(
            replayability(&h, &call("recvmmsg", args, 2, all.clone())),
            Ok(())
        );
        let short = call("recvmmsg", args, 2, all[..3].to_vec());
        assert!(matches!(
            replayability(&h, &short),
            Err(NotReplayable::NotCaptured { arg: Some(1), .. })
        ));
        let mut cut = all;
        cut[3] = out(1, b"tw", 3);
        assert_eq!(
            replayability(&h, &call("recvmmsg", args, 2, cut)),
            Err(NotReplayable::Truncated {
                arg: 1,
                captured: 2,
                len: 3
            })
        );
    }

    #[test]
    fn getdents64_needs_its_records_not_only_the_count() {
        let h = header(4096);
        let marker = out(1, b"", 2);
        let counted = call(
            "getdents64",
            [3, 0x1000, 4096, 0, 0, 0],
            48,
            vec![marker.clone()],
        );
        assert!(matches!(
            replayability(&h, &counted),
            Err(NotReplayable::NotCaptured { arg: Some(1), .. })
        ));
        let both = call(
            "getdents64",
            [3, 0x1000, 4096, 0, 0, 0],
            48,
            vec![marker, out(1, &[0; 48], 48)],
        );
        assert_eq!(replayability(&h, &both), Ok(()));
    }

    #[test]
    fn the_tally_groups_by_syscall_and_reason() {
        let h = header(4);
        let mut t = ReplayTally::default();
        for seq in 0..8 {
            let mut c = call(
                "read",
                [3, 0x1000, 64, 0, 0, 0],
                6,
                vec![out(1, b"abcd", 6)],
            );
            c.seq = seq;
            t.add(&h, &c);
        }
        t.add(&h, &call("close", [3, 0, 0, 0, 0, 0], 0, vec![]));
        t.finish();
        assert_eq!((t.calls, t.blocked), (9, 8));
        assert_eq!(t.groups.len(), 1);
        let g = &t.groups[0];
        assert_eq!(
            (g.syscall.as_str(), g.reason, g.count, g.largest),
            ("read", "truncated", 8, 6)
        );
        assert_eq!(g.first, vec![(1, 0), (1, 1), (1, 2), (1, 3), (1, 4)]);
    }
}
