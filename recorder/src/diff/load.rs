//! Reading one run for `recorder diff`, in two passes over the log: the
//! first ([`Survey`]) learns the process tree (fork order), the processes'
//! names and outcomes and each process's threads in creation order; after
//! the two surveys are aligned, the second ([`Survey::calls`]) renders
//! every call with the decoder (the one formatter `dump` uses, with `-y`
//! descriptor names), normalises it and collapses repeats.

use crate::read::stats::ThreadClock;
use std::collections::HashMap;
use std::path::Path;

use super::normal::Normaliser;
use crate::decode::{Formatter, ShowTid, TimeMode, errno_name, syscall_name};
use crate::event::{CaptureKind, Event, Syscall};
use crate::read::{Events, FilterSpec, ReadError};

/// One process of a run.
#[derive(Debug, Clone, Default)]
pub struct Proc {
    pub pid: u32,
    pub parent: Option<usize>,
    /// Indices of the processes it forked, in fork order.
    pub children: Vec<usize>,
    /// The names it had (exec changes them), oldest first.
    pub names: Vec<String>,
    /// Thread ids in creation order (first appearance); the leader first.
    pub tids: Vec<u32>,
    pub exit_status: Option<i32>,
    pub fatal_signal: Option<u32>,
}

impl Proc {
    /// Its latest name, or `?`.
    pub fn name(&self) -> &str {
        self.names.last().map_or("?", String::as_str)
    }
}

/// What the first pass learns about a run.
#[derive(Debug, Clone)]
pub struct Survey {
    pub arch: String,
    pub redacted: bool,
    /// In order of first appearance.
    pub procs: Vec<Proc>,
    /// Processes whose fork is not in the log, in order of appearance.
    pub roots: Vec<usize>,
    /// `recorder: complete: N records` or what is missing.
    pub summary: String,
}

/// One entry of a thread's normalised sequence: a call, or a run of
/// identical calls collapsed into one.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub syscall: String,
    /// What is compared: the normalised line without transferred bytes.
    pub key: String,
    /// What is shown: the normalised line, with up to 32 bytes of data.
    pub text: String,
    pub errno: Option<String>,
    /// Bytes read or written (read, write, send, recv and their vector
    /// forms), when captured and not redacted.
    pub data: Option<Vec<u8>>,
    /// Identical calls in a row that this entry stands for.
    pub count: u64,
    pub dur_ns: u64,
}

/// Calls whose buffers are compared as data (and left out of the key).
const TRANSFER: &[&str] = &[
    "read", "pread64", "readv", "preadv", "preadv2", "write", "pwrite64", "writev", "pwritev",
    "pwritev2", "recvfrom", "recvmsg", "sendto", "sendmsg",
];
/// Calls whose output is random by design: never compared.
const RANDOM: &[&str] = &["getrandom"];

/// Calls that return the id of a process the log may not hold (the
/// recorder itself is the traced command's parent).
const OUTSIDE_PID: &[&str] = &["getppid", "getpgrp", "getpgid", "getsid"];

/// `getppid() = 21800` as `getppid() = ?` when the pid is not one of the
/// run's (those are labels by now).
fn outside_pid(line: &str) -> String {
    match line.rsplit_once(" = ") {
        Some((call, ret)) if ret.bytes().all(|c| c.is_ascii_digit()) => format!("{call} = ?"),
        _ => line.to_string(),
    }
}

fn open(path: &Path) -> Result<Events<std::io::BufReader<std::fs::File>>, ReadError> {
    Ok(Events::open(path, &FilterSpec::default())?.with_tasks())
}

impl Survey {
    /// The first pass over the log at `path`.
    pub fn read(path: &Path) -> Result<Survey, ReadError> {
        let mut ev = open(path)?;
        let mut index: HashMap<u32, usize> = HashMap::new();
        let mut procs: Vec<Proc> = Vec::new();
        each_event(path, &mut ev, |e| note(&mut procs, &mut index, e))?;
        for p in &mut procs {
            if let Some(info) = ev.tasks().process_info(p.pid) {
                p.names = info.names.clone();
                p.exit_status = info.exit_status;
                p.fatal_signal = info.fatal_signal;
            }
        }
        let roots = (0..procs.len())
            .filter(|&i| procs[i].parent.is_none())
            .collect();
        Ok(Survey {
            arch: ev.header().arch.clone(),
            redacted: crate::bundle::captures_redacted(ev.header()),
            procs,
            roots,
            summary: ev.summary(),
        })
    }
}

/// Takes one event into the process list of the first pass.
fn note(procs: &mut Vec<Proc>, index: &mut HashMap<u32, usize>, e: &Event) {
    let (Some(pid), Some(tid)) = (e.tgid(), e.tid()) else {
        return;
    };
    let mut at = |pid: u32| -> usize {
        *index.entry(pid).or_insert_with(|| {
            procs.push(Proc {
                pid,
                ..Default::default()
            });
            procs.len() - 1
        })
    };
    let p = at(pid);
    if let Event::Fork(f) = e {
        let child = at(f.child());
        if procs[child].parent.is_none() && child != p {
            procs[child].parent = Some(p);
            procs[p].children.push(child);
        }
    }
    if !matches!(e, Event::Pause(_)) && !procs[p].tids.contains(&tid) {
        procs[p].tids.push(tid);
    }
}

/// Every thread's normalised sequence, and its time split, by tid.
pub struct Threads {
    pub calls: HashMap<u32, Vec<Call>>,
    /// Time in calls and between them, counted as `recorder stats` does.
    pub time: HashMap<u32, ThreadClock>,
}

/// The second pass: every thread's normalised sequence, keyed by tid.
pub fn calls(path: &Path, norm: &Normaliser) -> Result<Threads, ReadError> {
    let mut ev = open(path)?;
    let mut fmt = Formatter::new(ev.header()).map_err(|source| ReadError::Unsupported {
        path: path.to_owned(),
        source,
    })?;
    fmt.time = TimeMode::None;
    fmt.show_tid = ShowTid::Never;
    fmt.show_duration = false;
    fmt.decode_fds(true);
    let mut out: HashMap<u32, Vec<Call>> = HashMap::new();
    let mut time: HashMap<u32, ThreadClock> = HashMap::new();
    each_event(path, &mut ev, |e| {
        if let Event::Syscall(sc) = e {
            time.entry(sc.tid).or_default().add(sc);
        }
        if let Some(call) = render(&mut fmt, norm, e) {
            push(out.entry(e.tid().unwrap_or(0)).or_default(), call);
        }
    })?;
    Ok(Threads { calls: out, time })
}

/// Hands every event of the log to `f`; a read error names the log.
fn each_event(
    path: &Path,
    ev: &mut Events<std::io::BufReader<std::fs::File>>,
    mut f: impl FnMut(&Event),
) -> Result<(), ReadError> {
    loop {
        match ev.next_any() {
            Ok(Some((e, _))) => f(&e),
            Ok(None) => return Ok(()),
            Err(source) => {
                return Err(ReadError::Stopped {
                    path: path.to_owned(),
                    source,
                });
            }
        }
    }
}

/// Appends `call`, or counts it into the last entry when it is the same.
fn push(seq: &mut Vec<Call>, call: Call) {
    match seq.last_mut() {
        Some(last) if last.key == call.key && last.data == call.data => {
            last.count += 1;
            last.dur_ns = last.dur_ns.saturating_add(call.dur_ns);
        }
        _ => seq.push(call),
    }
}

/// One event as a normalised entry (`None` for what is not compared:
/// pauses and counters, which are the recorder's, not the program's).
fn render(fmt: &mut Formatter, norm: &Normaliser, e: &Event) -> Option<Call> {
    let line = |fmt: &mut Formatter, e: &Event| {
        let s = String::from_utf8_lossy(fmt.render_text(e))
            .trim_end()
            .to_string();
        norm.line(&s)
    };
    match e {
        Event::Syscall(sc) => Some(syscall(fmt, norm, sc)),
        Event::Exec(_) | Event::Fork(_) | Event::Exit(_) | Event::Signal(_) => {
            let text = line(fmt, e);
            Some(Call {
                syscall: String::new(),
                key: text.clone(),
                text,
                errno: None,
                data: None,
                count: 1,
                dur_ns: 0,
            })
        }
        Event::Pause(_) | Event::Who(_) | Event::Counters(_) => None,
    }
}

fn syscall(fmt: &mut Formatter, norm: &Normaliser, sc: &Syscall) -> Call {
    let arch = fmt.arch();
    let name =
        syscall_name(arch, sc.nr).map_or_else(|| format!("syscall_{}", sc.nr), str::to_owned);
    let text_of = |fmt: &mut Formatter, sc: &Syscall, max: usize| {
        fmt.max_str = max;
        let ev = Event::Syscall(sc.clone());
        let s = String::from_utf8_lossy(fmt.render_text(&ev))
            .trim_end()
            .to_string();
        norm.line(&s)
    };
    let transfer = TRANSFER.contains(&name.as_str());
    let random = RANDOM.contains(&name.as_str());
    let (key, text) = if transfer || random {
        // No descriptor effects in these calls: rendering twice is safe.
        let mut bare = sc.clone();
        bare.data.retain(|c| c.kind == CaptureKind::Str);
        (text_of(fmt, &bare, 4096), text_of(fmt, sc, 32))
    } else {
        let t = text_of(fmt, sc, 4096);
        (t.clone(), t)
    };
    // What /proc and /sys files hold is the machine's state of the moment
    // (addresses, counters), not the program's input.
    let live = text.contains("(</proc/") || text.contains("(</sys/");
    let data = (transfer && !live && !norm.mask_data)
        .then(|| payload(sc))
        .flatten();
    let (key, text) = if OUTSIDE_PID.contains(&name.as_str()) {
        (outside_pid(&key), outside_pid(&text))
    } else {
        (key, text)
    };
    let errno = sc
        .ret
        .filter(|&r| (-4095..=-1).contains(&r))
        .map(|r| errno_name(-r).map_or_else(|| format!("errno_{}", -r), |(n, _)| n.to_string()));
    Call {
        syscall: name,
        key,
        text,
        errno,
        data,
        count: 1,
        dur_ns: sc.exit_ns.map_or(0, |x| x.saturating_sub(sc.enter_ns)),
    }
}

/// The bytes a transfer call moved, as captured; `None` when some of them
/// were not captured (a failed read of user memory, redaction).
fn payload(sc: &Syscall) -> Option<Vec<u8>> {
    let items: Vec<_> = sc
        .data
        .iter()
        .filter(|c| c.kind != CaptureKind::Str)
        .collect();
    if items.is_empty() || items.iter().any(|c| c.read_failed) {
        return None;
    }
    Some(items.iter().flat_map(|c| c.bytes.iter().copied()).collect())
}
