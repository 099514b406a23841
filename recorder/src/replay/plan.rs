//! The recording as replay needs it: each thread's calls in order, the
//! threads in creation order, the command line, the recorded outcome, and
//! the calls that cannot be replayed. Whether the log holds a call's
//! outputs is [`crate::read::replayability`]'s answer, the one `recorder
//! info` gives; what is replay's own is which calls need no answer from
//! the log because they run live (the program's own files, [`Class::Live`]).

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use super::ReplayError;
use super::policy::{self, Class};
use crate::decode::table::Ty;
use crate::decode::{Arch, syscall_name};
use crate::event::{CaptureKind, Event, Header, SignalEvent, Syscall};
use crate::read::{NotReplayable, replayability};

/// How the recorded program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Killed(u32),
    /// The log ends before the program did.
    Unknown,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Exited(c) => write!(f, "exited with status {c}"),
            Outcome::Killed(s) => write!(f, "was killed by signal {s} ({})", signal_name(*s)),
            Outcome::Unknown => write!(f, "was still running when the log ended"),
        }
    }
}

/// The name of the crash and common signals (same numbers on both arches).
pub fn signal_name(sig: u32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        31 => "SIGSYS",
        _ => "signal",
    }
}

/// A call that replay cannot answer from the log, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub tid: u32,
    pub seq: u64,
    pub name: String,
    /// What the call was on: its path, or its descriptor and the path that
    /// opened it, when the log says.
    pub on: String,
    pub why: NotReplayable,
}

/// Why a call cannot be replayed, as a refusal says it: what happened to
/// the data, then `read::replayability`'s detail.
pub fn why_text(why: &NotReplayable) -> String {
    let what = match why {
        NotReplayable::Truncated { .. } => "its data was truncated",
        NotReplayable::Redacted { .. } => "its data was redacted",
        NotReplayable::ReadFailed { .. } => "its data could not be read when recording",
        NotReplayable::NotCaptured { .. } => "its results are not in the log",
    };
    format!("{what} ({why})")
}

/// The recording, loaded for replay.
#[derive(Debug)]
pub struct Recording {
    pub header: Header,
    pub arch: Arch,
    /// The command the recorder started (`Filter::command`), else the
    /// first execve's argv.
    pub argv: Vec<String>,
    /// Recorded threads, in the order they first appear.
    pub threads: Vec<u32>,
    /// Each thread's calls, in `seq` order.
    pub calls: HashMap<u32, VecDeque<Syscall>>,
    /// The first process (the one the recorder started).
    pub root_tgid: u32,
    pub outcome: Outcome,
    /// The signals the log recorded as delivered.
    pub signals: Vec<SignalEvent>,
}

impl Recording {
    /// Loads `path` whole (a replayable recording is one program's run).
    pub fn load(path: &Path) -> Result<Recording, ReplayError> {
        let mut r = crate::read::open_log(path)?;
        let header = r.header().clone();
        let arch = Arch::from_name(&header.arch)
            .ok_or_else(|| ReplayError::UnknownArch(header.arch.clone()))?;
        let mut events = Vec::new();
        while let Some(ev) = r.next_event().map_err(ReplayError::Read)? {
            events.push(ev);
        }
        Ok(Self::from_events(header, arch, &events))
    }

    /// Builds the recording from its events (a test builds logs in memory).
    pub fn from_events(header: Header, arch: Arch, events: &[Event]) -> Recording {
        let mut calls: HashMap<u32, VecDeque<Syscall>> = HashMap::new();
        let mut first: Vec<(u64, u32)> = Vec::new();
        let mut root_tgid = None;
        let mut crash = None;
        let mut signals = Vec::new();
        let mut exit_code = None;
        for ev in events {
            match ev {
                Event::Syscall(s) => {
                    root_tgid.get_or_insert(s.tgid);
                    let q = calls.entry(s.tid).or_insert_with(|| {
                        first.push((s.enter_ns, s.tid));
                        VecDeque::new()
                    });
                    q.push_back(s.clone());
                    if syscall_name(arch, s.nr) == Some("exit_group") && Some(s.tgid) == root_tgid {
                        exit_code = Some(s.args[0] as i32);
                    }
                }
                Event::Signal(s) => {
                    if Some(s.tgid) == root_tgid && kills(s) {
                        crash = Some(s.sig);
                    }
                    signals.push(s.clone());
                }
                _ => {}
            }
        }
        for q in calls.values_mut() {
            q.make_contiguous().sort_by_key(|s| s.seq);
        }
        first.sort();
        let argv = command_of(&header, arch, events);
        let outcome = match (crash, exit_code) {
            (Some(sig), _) => Outcome::Killed(sig),
            (None, Some(c)) => Outcome::Exited(c),
            _ => Outcome::Unknown,
        };
        let mut rec = Recording {
            header,
            arch,
            argv,
            threads: first.into_iter().map(|(_, t)| t).collect(),
            calls,
            root_tgid: root_tgid.unwrap_or(0),
            outcome,
            signals,
        };
        rec.skip_path_search();
        rec.skip_child_sides();
        rec
    }

    /// Drops the failed execve calls the recorder made while it searched
    /// `PATH` for the command: the replay execs the found program directly.
    pub fn skip_path_search(&mut self) {
        let arch = self.arch;
        let Some(q) = self.threads.first().and_then(|t| self.calls.get_mut(t)) else {
            return;
        };
        while q.len() > 1
            && q.iter()
                .take(2)
                .all(|s| syscall_name(arch, s.nr) == Some("execve"))
            && q[0].ret.is_some_and(|r| r < 0)
        {
            q.pop_front();
        }
    }

    /// Drops the child's side of clone, clone3, fork and vfork (the
    /// recorder logs the return of 0 in the new thread as its first call):
    /// a new thread starts by returning from it, with no call the
    /// supervisor sees.
    pub fn skip_child_sides(&mut self) {
        let arch = self.arch;
        for t in self.threads.iter().skip(1) {
            let Some(q) = self.calls.get_mut(t) else {
                continue;
            };
            let child_side = q.front().is_some_and(|s| {
                s.ret == Some(0)
                    && matches!(
                        syscall_name(arch, s.nr),
                        Some("clone" | "clone3" | "fork" | "vfork")
                    )
            });
            if child_side {
                q.pop_front();
            }
        }
    }

    /// Whether the log starts at the program's start: its first call is
    /// the execve the recorder made (`recorder -- COMMAND`).
    pub fn starts_at_exec(&self) -> bool {
        let first = self.threads.first().and_then(|t| self.calls[t].front());
        first.is_some_and(|s| syscall_name(self.arch, s.nr) == Some("execve"))
    }
}

/// A signal delivered with no handler whose default action ends the
/// process (all but SIGCHLD, SIGCONT, the stop signals, SIGURG, SIGWINCH).
fn kills(s: &SignalEvent) -> bool {
    s.default_action && !matches!(s.sig, 17..=23 | 28)
}

impl Recording {
    /// Whether the kernel sent thread `tid` signal `sig` because of the
    /// call `after` (a SIGPIPE for a write to a closed pipe): recorded as
    /// delivered between that call's exit and the thread's next call.
    pub fn signal_after(&self, after: &Syscall, sig: u32) -> bool {
        let from = after.exit_ns.unwrap_or(after.enter_ns);
        let until = self
            .calls
            .get(&after.tid)
            .and_then(|q| q.front())
            .map_or(u64::MAX, |s| s.enter_ns);
        self.signals
            .iter()
            .any(|s| s.tid == after.tid && s.sig == sig && (from..=until).contains(&s.ts_ns))
    }
}

fn command_of(header: &Header, arch: Arch, events: &[Event]) -> Vec<String> {
    if !header.filter.command.is_empty() {
        return header.filter.command.clone();
    }
    let exec = events.iter().find_map(|e| match e {
        Event::Syscall(s) if syscall_name(arch, s.nr) == Some("execve") => Some(s),
        _ => None,
    });
    exec.map(|s| {
        s.data
            .iter()
            .filter(|c| c.arg == 1 && c.kind == CaptureKind::Str)
            .map(|c| String::from_utf8_lossy(&c.bytes).into_owned())
            .collect()
    })
    .unwrap_or_default()
}

/// The calls of `rec` replay cannot answer from the log: emulated calls
/// that succeeded and whose outputs [`replayability`] says the log lacks
/// (truncated, redacted, not captured, not read). Calls on the program's
/// own files and paths (`host_paths`) and [`Class::Live`] calls run live
/// and need nothing from the log.
pub fn blockers(rec: &Recording, host_paths: &[Vec<u8>]) -> Vec<Blocker> {
    let redacted = crate::bundle::captures_redacted(&rec.header);
    let mut own = OwnFds {
        redacted,
        ..OwnFds::default()
    };
    let mut out = Vec::new();
    let mut all: Vec<&Syscall> = rec.calls.values().flatten().collect();
    all.sort_by_key(|s| s.enter_ns);
    for s in all {
        let name = syscall_name(rec.arch, s.nr).unwrap_or("?");
        let class = policy::class_of_call(name, &s.args);
        let live = match class {
            Class::FdInput => own.is_own(s.tgid, s.args[0] as i32),
            Class::PathInput | Class::Open => match path_of(s) {
                // fstatat(fd, "", AT_EMPTY_PATH): the descriptor's file.
                Some([]) if !redacted => own.is_own(s.tgid, s.args[0] as i32),
                Some(p) if !redacted => is_host(p, host_paths),
                // Not known (redacted): the replay decides on the live path.
                _ => true,
            },
            Class::Emulate | Class::Output => false,
            _ => true,
        };
        own.track(name, s, host_paths);
        if live {
            continue;
        }
        if let Err(why) = replayability(&rec.header, s) {
            out.push(Blocker {
                tid: s.tid,
                seq: s.seq,
                name: name.to_owned(),
                on: own.describe(class, s, first_arg_is_fd(rec.arch, s.nr)),
                why,
            });
        }
    }
    out
}

/// Whether the signature table types the call's first argument as a
/// descriptor.
fn first_arg_is_fd(arch: Arch, nr: i64) -> bool {
    crate::decode::table::spec(arch, nr).is_some_and(|s| matches!(s.args.first(), Some(Ty::Fd)))
}

/// The first path a call names, if it was captured.
pub fn path_of(s: &Syscall) -> Option<&[u8]> {
    s.data
        .iter()
        .find(|c| c.kind == CaptureKind::Str)
        .map(|c| c.bytes.as_slice())
}

/// Whether `path` is one of the program's own files. A path cut short by
/// `-s` is judged by its prefix.
pub fn is_host(path: &[u8], host_paths: &[Vec<u8>]) -> bool {
    host_paths.iter().any(|d| policy::under(path, d))
}

/// Which descriptors of each recorded process are the program's own files
/// (opened under the host paths), followed through the log. In a log with
/// its paths redacted no descriptor is known not to be: the replay
/// decides on the live paths, and stops at a call whose data it lacks.
#[derive(Default)]
struct OwnFds {
    fds: HashMap<(u32, i32), bool>,
    /// The path each descriptor was opened with, for the refusal.
    paths: HashMap<(u32, i32), Vec<u8>>,
    redacted: bool,
}

impl OwnFds {
    fn is_own(&self, tgid: u32, fd: i32) -> bool {
        self.redacted || self.fds.get(&(tgid, fd)).copied().unwrap_or(false)
    }

    /// `fd 3 (/etc/app.conf)`, `"/etc/hostname"`, or empty.
    /// `fd_arg`: the call's first argument is a descriptor (getgroups'
    /// is a count, getrusage's a `who`).
    fn describe(&self, class: Class, s: &Syscall, fd_arg: bool) -> String {
        let fd = s.args[0] as i32;
        let path = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
        match (class, path_of(s)) {
            (Class::PathInput | Class::Open, Some(p)) if !p.is_empty() => format!("{:?}", path(p)),
            (Class::Emulate | Class::Output, _) if !fd_arg => String::new(),
            _ => match self.paths.get(&(s.tgid, fd)) {
                Some(p) => format!("fd {fd} ({})", path(p)),
                None => format!("fd {fd}"),
            },
        }
    }

    fn track(&mut self, name: &str, s: &Syscall, host_paths: &[Vec<u8>]) {
        let Some(ret) = s.ret.filter(|r| *r >= 0) else {
            return;
        };
        match name {
            "open" | "openat" | "openat2" | "creat" => {
                let own = path_of(s).is_some_and(|p| is_host(p, host_paths));
                self.fds.insert((s.tgid, ret as i32), own);
                if let Some(p) = path_of(s) {
                    self.paths.insert((s.tgid, ret as i32), p.to_vec());
                }
            }
            "close" => {
                self.fds.remove(&(s.tgid, s.args[0] as i32));
                self.paths.remove(&(s.tgid, s.args[0] as i32));
            }
            "dup" | "dup2" | "dup3" => {
                let own = self.is_own(s.tgid, s.args[0] as i32);
                self.fds.insert((s.tgid, ret as i32), own);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::syscall_nr;
    use crate::event::Capture;
    use crate::read::replayable::ReplayTally;

    const A: Arch = Arch::X86_64;

    fn call(seq: u64, name: &str, args: [u64; 6], ret: i64, data: Vec<Capture>) -> Event {
        Event::Syscall(Syscall {
            tgid: 10,
            tid: 10,
            seq,
            nr: syscall_nr(A, name).unwrap(),
            args,
            ret: Some(ret),
            enter_ns: seq * 10,
            exit_ns: Some(seq * 10 + 1),
            data,
            ..Syscall::default()
        })
    }

    fn item(arg: u8, kind: CaptureKind, bytes: &[u8], len: u64) -> Capture {
        Capture {
            arg,
            kind,
            len,
            truncated: (bytes.len() as u64) < len,
            read_failed: false,
            bytes: bytes.to_vec(),
        }
    }

    fn path(p: &str) -> Capture {
        item(1, CaptureKind::Str, p.as_bytes(), p.len() as u64)
    }

    /// A log with one call of each case: a cut read of the program's own
    /// library (live in replay), a cut read of a data file, getdents64
    /// with only its count, getrusage (never captured), and a poll and a
    /// getdents64 whose outputs the log holds.
    fn log() -> (Header, Vec<Event>) {
        let header = Header {
            arch: "x86_64".into(),
            capture_size: 8,
            ..Header::default()
        };
        let out = |a, b: &[u8], l| item(a, CaptureKind::OutBuf, b, l);
        let at = -100i64 as u64;
        let events = vec![
            call(1, "execve", [0; 6], 0, vec![]),
            call(
                2,
                "openat",
                [at, 1, 0, 0, 0, 0],
                3,
                vec![path("/lib/libc.so.6")],
            ),
            call(
                3,
                "read",
                [3, 9, 832, 0, 0, 0],
                832,
                vec![out(1, b"\x7fELF", 832)],
            ),
            call(4, "openat", [at, 1, 0, 0, 0, 0], 4, vec![path("/data/dir")]),
            call(
                5,
                "read",
                [4, 9, 64, 0, 0, 0],
                20,
                vec![out(1, b"12345678", 20)],
            ),
            call(
                6,
                "getdents64",
                [4, 9, 4096, 0, 0, 0],
                48,
                vec![out(1, b"", 2)],
            ),
            call(7, "getrusage", [0, 9, 0, 0, 0, 0], 0, vec![]),
            call(
                8,
                "getdents64",
                [4, 9, 4096, 0, 0, 0],
                8,
                vec![out(1, b"", 1), out(1, &[1; 8], 8)],
            ),
            call(
                9,
                "poll",
                [9, 1, 0, 0, 0, 0],
                1,
                vec![item(0, CaptureKind::InBuf, &[4, 0, 0, 0, 1, 0, 1, 0], 8)],
            ),
        ];
        (header, events)
    }

    /// Replay's refusal and `recorder info`'s verdict are one definition:
    /// replay refuses exactly the calls info says cannot be fed back, for
    /// the same reasons, less those it runs live.
    #[test]
    fn replay_refuses_what_info_says_cannot_be_fed_back() {
        let (header, events) = log();
        let mut tally = ReplayTally::default();
        for e in &events {
            if let Event::Syscall(s) = e {
                tally.add(&header, s);
            }
        }
        tally.finish();
        let rec = Recording::from_events(header, A, &events);
        let host = [b"/lib".to_vec()];
        let refused: Vec<(u64, &str)> = blockers(&rec, &host)
            .iter()
            .map(|b| (b.seq, b.why.kind()))
            .collect();
        let mut info: Vec<(u64, &str)> = tally
            .groups
            .iter()
            .flat_map(|g| g.first.iter().map(|f| (f.1, g.reason)))
            .collect();
        info.sort();
        // Info lists the cut read of libc too: replay reads it live.
        assert_eq!(
            info,
            [
                (3, "truncated"),
                (5, "truncated"),
                (6, "not captured"),
                (7, "not captured")
            ]
        );
        info.retain(|i| i.0 != 3);
        assert_eq!(refused, info);
        // The same words: info's example for getdents64 is replay's reason.
        let dents = tally.groups.iter().find(|g| g.syscall == "getdents64");
        let b = blockers(&rec, &host);
        assert_eq!(dents.unwrap().example, b[1].why.to_string());
        assert_eq!(b[0].on, "fd 4 (/data/dir)");
        assert_eq!(b[2].on, "", "getrusage's first argument is no descriptor");
        assert_eq!(
            why_text(&b[0].why),
            "its data was truncated (argument 1: 8 of 20 bytes captured)"
        );
    }
}
