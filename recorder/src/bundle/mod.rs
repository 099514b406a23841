//! `recorder bundle`: cut one compact, shareable bug-report log out of one
//! or more logs (a rotated set `x.rec x.rec.1 ...`, or a snapshot).
//!
//! A bundle is an ordinary log, so every reader command reads it. It holds:
//! - the events of a time window and of chosen processes, from all inputs,
//!   in recording order;
//! - if asked, redacted: captured payloads dropped (or kept only for chosen
//!   system calls), the hostname and command lines masked;
//! - the earliest input's header (the machine description), whose
//!   [`Header::redactions`] lists everything the bundle lacks compared with
//!   its inputs: the redactions, the time window, the process selection,
//!   and inputs that were themselves cut short;
//! - a trailer whose counters are the inputs' loss figures, so "nothing was
//!   lost" keeps its meaning, with `written` the bundle's own record count.
//!
//! Two passes over the inputs: the first ([`Survey`]) finds the time span
//! (for windows relative to the end), process names and the fork tree (for
//! `--comm` and children) and the loss counters; the second copies. Memory
//! is bounded by one block plus the process table, whatever the log sizes.
//!
//! This module does no I/O of its own: it reads and writes what it is
//! given (the CLI opens the files).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::Duration;

use crate::decode::{Arch, ArgPlan, capture_plan, syscall_nr};
use crate::event::{Capture, Counters, Event, Header, Syscall, Trailer, WhoEvent};
use crate::log::{EndState, LogError, LogReader, LogWriter, event_ts};
use crate::read;

/// What `--redact host` and `--redact argv` put in place of a masked string.
pub const MASK: &str = "redacted";

/// zstd level of bundles. Measured on a 59 MB log (380k events, mostly
/// file contents) with 4 MiB blocks: level 3 gives 53.7 MB in 2.1 s, 9
/// gives 50.5 MB in 3.6 s (25 MB of memory), 12 gives 50.4 MB in 6.4 s, 19
/// gives 48.3 MB in 74 s. 9 keeps nearly all of the gain at a speed that
/// suits a whole rotated set on a small board.
pub const LEVEL: i32 = 9;

/// Uncompressed block size of bundles: larger blocks give zstd more
/// context. Still far below the format's limits.
const BLOCK_SIZE: usize = 4 << 20;

/// Largest difference between two inputs' `realtime_offset_ns` (wall clock
/// minus monotonic clock) still taken as "same boot": beyond it their
/// monotonic timestamps are likely not comparable.
const SAME_BOOT_SLACK_NS: u64 = 60_000_000_000;

/// Whether `header` is that of a bundle some of whose captures were
/// emptied (`--redact data` or `--redact argv`): its empty, truncated
/// captures are redacted, not lost.
pub fn captures_redacted(header: &Header) -> bool {
    header
        .redactions
        .iter()
        .any(|r| r == "data" || r == "argv" || r.starts_with("data ("))
}

/// `--since` / `--until`: a point in the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// Any time `recorder dump --since` takes ([`read::parse_time`]):
    /// `5m` after the start of the recording (the earliest input's), a UTC
    /// time of day, a UTC date and time, `@UNIX`.
    At(read::TimeSpec),
    /// `-5m`: this long before the end of the recording (its last event,
    /// or the latest trailer's end time if later).
    BeforeEnd(Duration),
}

/// What [`read::parse_time`] takes, or `-DURATION` (before the end).
pub fn parse_time_spec(s: &str) -> Result<TimeSpec, String> {
    let s = s.trim();
    match s.strip_prefix('-') {
        Some(rest) => match read::parse_time(rest)? {
            read::TimeSpec::Relative(ns) => Ok(TimeSpec::BeforeEnd(Duration::from_nanos(ns))),
            _ => Err(format!(
                "{s:?}: a leading '-' takes a duration before the end of the recording (e.g. -5m)"
            )),
        },
        None => read::parse_time(s).map(TimeSpec::At),
    }
}

/// What to cut and what to redact.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub since: Option<TimeSpec>,
    pub until: Option<TimeSpec>,
    /// Keep only these processes (tgids) and the processes they started.
    pub pids: Vec<u32>,
    /// Keep only processes with this name (and the processes they started).
    pub comms: Vec<String>,
    /// Drop every captured payload...
    pub redact_data: bool,
    /// ...except those of these system calls (names in the log's
    /// architecture; only with `redact_data`).
    pub keep_data: Vec<String>,
    /// Replace the hostname with [`MASK`].
    pub redact_host: bool,
    /// Mask command lines: the recorder's own (header), the command it
    /// started (`Filter.command`) and the argv/envp captured by execve.
    /// The program name (`argv[0]`) is kept.
    pub redact_argv: bool,
    /// zstd level of the output (see [`LEVEL`]).
    pub level: i32,
}

/// One input log. The reader is read twice (rewound in between).
pub struct Input<R> {
    /// How to name it in messages (its path).
    pub name: String,
    pub reader: R,
}

/// What [`bundle`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Input names in the order they were copied (recording order).
    pub order: Vec<String>,
    /// Records written (counter checkpoints excluded: the trailer has the
    /// totals).
    pub events: u64,
    /// Records read from the inputs (the same records, before cutting).
    pub events_in: u64,
    /// The full `Header.redactions` of the bundle.
    pub redactions: Vec<String>,
    /// Things the user should know that do not make the bundle wrong (for
    /// stderr).
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("no input logs")]
    NoInputs,
    #[error("{name}")]
    Log {
        name: String,
        #[source]
        source: LogError,
    },
    #[error("cannot read {name}")]
    Io {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "{a} and {b} come from different machines ({what} {va:?} vs {vb:?}): bundle them separately"
    )]
    Mismatch {
        a: String,
        b: String,
        what: &'static str,
        va: String,
        vb: String,
    },
    /// The bundle keeps one header, which says what syscalls it holds.
    #[error(
        "{a} and {b} were recorded with different syscall sets ({va} vs {vb}): bundle them separately"
    )]
    TraceMismatch {
        a: String,
        b: String,
        va: String,
        vb: String,
    },
    #[error("{0}: unknown architecture, cannot resolve --keep-data names")]
    UnknownArch(String),
    #[error("--keep-data {name}: {arch} has no system call of that name")]
    UnknownSyscall { name: String, arch: Arch },
    #[error("--keep-data only makes sense with --redact data")]
    KeepWithoutRedact,
    #[error(
        "empty time window: --since is at or after --until ({since} vs {until} after the recording start)"
    )]
    EmptyWindow { since: String, until: String },
    #[error("nothing to bundle: {0}")]
    Nothing(String),
    #[error("writing the bundle")]
    Write(#[source] LogError),
}

/// Cuts a bundle out of `inputs` into `out`; returns `out` (flushed) and
/// what was done.
pub fn bundle<R: Read + Seek, W: Write>(
    mut inputs: Vec<Input<R>>,
    opts: &Options,
    out: W,
) -> Result<(W, Report), BundleError> {
    if inputs.is_empty() {
        return Err(BundleError::NoInputs);
    }
    if !opts.keep_data.is_empty() && !opts.redact_data {
        return Err(BundleError::KeepWithoutRedact);
    }
    let mut surveys = Vec::with_capacity(inputs.len());
    for input in &mut inputs {
        surveys.push(Survey::read(&input.name, &mut input.reader)?);
    }
    let plan = Plan::new(&surveys, opts)?;

    let mut w = LogWriter::new(out, &plan.header, opts.level)
        .map_err(BundleError::Write)?
        .with_block_size(BLOCK_SIZE);
    let mut report = Report {
        order: Vec::new(),
        events: 0,
        events_in: 0,
        redactions: plan.header.redactions.clone(),
        warnings: plan.warnings.clone(),
    };
    for &i in &plan.order {
        let (input, survey) = (&mut inputs[i], &surveys[i]);
        report.order.push(input.name.clone());
        input
            .reader
            .seek(SeekFrom::Start(0))
            .map_err(|source| BundleError::Io {
                name: input.name.clone(),
                source,
            })?;
        let mut r = LogReader::open(&mut input.reader).map_err(|source| BundleError::Log {
            name: input.name.clone(),
            source,
        })?;
        // A watch log's descriptions of processes, held until an event of
        // the process is kept (it may be from before the window).
        let mut held: HashMap<u32, WhoEvent> = HashMap::new();
        // Copy exactly what the survey saw: a log still being written may
        // have grown since, past the end the window was computed from.
        for _ in 0..survey.records {
            let ev = match r.next_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    report
                        .warnings
                        .push(format!("{}: stopped reading early: {e}", input.name));
                    break;
                }
            };
            if matches!(ev, Event::Counters(_)) {
                continue;
            }
            report.events_in += 1;
            if let Event::Who(who) = ev {
                held.insert(who.tgid, who);
                continue;
            }
            if let Some(ev) = plan.cut(ev) {
                if let (Some(mut who), Some(tid), Some(ts)) = (
                    ev.tgid().and_then(|p| held.remove(&p)),
                    ev.tid(),
                    ev.ts_ns(),
                ) {
                    // It now describes the first call of the bundle.
                    (who.tid, who.ts_ns) = (tid, ts);
                    plan.redact_who(&mut who);
                    w.append(&Event::Who(who)).map_err(BundleError::Write)?;
                    report.events += 1;
                }
                w.append(&ev).map_err(BundleError::Write)?;
                report.events += 1;
            }
        }
    }
    if report.events == 0 {
        return Err(BundleError::Nothing(
            "no event in the logs falls in the time window (and belongs to the selected processes)"
                .to_owned(),
        ));
    }
    let mut trailer = plan.trailer.clone();
    trailer.counters.written = report.events;
    let out = w.finish(&trailer).map_err(BundleError::Write)?;
    Ok((out, report))
}

/// First pass over one input.
#[derive(Debug, Clone)]
struct Survey {
    name: String,
    header: Header,
    /// Records read, counter checkpoints included (the second pass reads
    /// exactly this many).
    records: u64,
    first_ts: Option<u64>,
    last_ts: Option<u64>,
    /// The trailer's counters, or the last checkpoint of a log cut short.
    counters: Option<Counters>,
    trailer: Option<Trailer>,
    end: EndState,
    /// Names each process (tgid) had in its exec, fork and exit events.
    comms: HashMap<u32, BTreeSet<String>>,
    /// Processes each process started.
    children: HashMap<u32, Vec<u32>>,
    /// Every process (tgid) with an event.
    tgids: HashSet<u32>,
}

impl Survey {
    fn read<R: Read>(name: &str, reader: R) -> Result<Survey, BundleError> {
        let mut r = LogReader::open(reader).map_err(|source| BundleError::Log {
            name: name.to_owned(),
            source,
        })?;
        let mut s = Survey {
            name: name.to_owned(),
            header: r.header().clone(),
            records: 0,
            first_ts: None,
            last_ts: None,
            counters: None,
            trailer: None,
            end: EndState::Reading,
            comms: HashMap::new(),
            children: HashMap::new(),
            tgids: HashSet::new(),
        };
        // A damaged input is used up to the damage (everything before it
        // is verified); the end state says where, and goes into the notes.
        while let Ok(Some(ev)) = r.next_event() {
            s.records += 1;
            if let Some(ts) = event_ts(&ev) {
                s.first_ts = Some(s.first_ts.map_or(ts, |t| t.min(ts)));
                s.last_ts = Some(s.last_ts.map_or(ts, |t| t.max(ts)));
            }
            match &ev {
                Event::Syscall(sc) => {
                    s.tgids.insert(sc.tgid);
                }
                Event::Exec(p) | Event::Fork(p) | Event::Exit(p) => {
                    s.tgids.insert(p.tgid);
                }
                Event::Signal(sig) => {
                    s.tgids.insert(sig.tgid);
                }
                Event::Pause(p) => {
                    s.tgids.insert(p.tgid);
                }
                Event::Who(w) => {
                    s.tgids.insert(w.tgid);
                }
                Event::Counters(_) => {}
            }
            match ev {
                Event::Counters(c) => s.counters = Some(c),
                Event::Exec(p) | Event::Exit(p) => {
                    s.comms.entry(p.tgid).or_default().insert(p.comm);
                }
                Event::Fork(p) => {
                    // The child starts with its parent's name.
                    let child = p.child();
                    s.comms.entry(child).or_default().insert(p.comm.clone());
                    s.comms.entry(p.tgid).or_default().insert(p.comm);
                    s.children.entry(p.tgid).or_default().push(child);
                }
                Event::Who(w) => {
                    s.comms.entry(w.tgid).or_default().insert(w.comm);
                }
                Event::Syscall(_) | Event::Signal(_) | Event::Pause(_) => {}
            }
        }
        s.end = r.end_state();
        s.trailer = r.trailer().cloned();
        if let Some(t) = &s.trailer {
            s.counters = Some(t.counters.clone());
        }
        Ok(s)
    }

    /// The latest moment this input covers.
    fn end_ns(&self) -> Option<u64> {
        let trailer = self.trailer.as_ref().map(|t| t.end_mono_ns);
        self.last_ts.max(trailer)
    }
}

/// Everything decided between the passes.
struct Plan {
    /// Input indices in recording order.
    order: Vec<usize>,
    header: Header,
    arch: Option<Arch>,
    /// Events with `since <= ts < until` are kept.
    since: u64,
    until: u64,
    /// `None`: every process.
    procs: Option<HashSet<u32>>,
    redact_data: bool,
    /// Syscall numbers whose payloads survive `redact_data`.
    keep_nrs: HashSet<i64>,
    redact_argv: bool,
    trailer: Trailer,
    warnings: Vec<String>,
}

impl Plan {
    fn new(surveys: &[Survey], opts: &Options) -> Result<Plan, BundleError> {
        let mut warnings = Vec::new();
        // Recording order. Rotated parts of one recording share a header
        // (same start), so their first event decides.
        let mut order: Vec<usize> = (0..surveys.len()).collect();
        order.sort_by_key(|&i| {
            let s = &surveys[i];
            (s.header.start_mono_ns, s.first_ts.unwrap_or(u64::MAX), i)
        });
        let first = &surveys[order[0]];
        for &i in &order[1..] {
            check_same_machine(first, &surveys[i])?;
            let drift = first
                .header
                .realtime_offset_ns
                .abs_diff(surveys[i].header.realtime_offset_ns);
            if drift > SAME_BOOT_SLACK_NS {
                warnings.push(format!(
                    "{} and {} may come from different boots (their clocks differ by {}): \
                     their timestamps are not comparable",
                    first.name,
                    surveys[i].name,
                    secs(Duration::from_nanos(drift))
                ));
            }
        }
        for pair in order.windows(2) {
            let (a, b) = (&surveys[pair[0]], &surveys[pair[1]]);
            if let (Some(a_end), Some(b_start)) = (a.last_ts, b.first_ts) {
                // Successive rotated files overlap by at most a drain batch;
                // a second or more means the same events twice (say, a
                // snapshot given together with the log it was taken from).
                if a_end > b_start + 1_000_000_000 {
                    warnings.push(format!(
                        "{} and {} overlap in time by {}: events in both appear twice",
                        a.name,
                        b.name,
                        secs(Duration::from_nanos(a_end - b_start))
                    ));
                }
            }
        }
        let arch = Arch::from_name(&first.header.arch);

        // The time window.
        let start = surveys
            .iter()
            .map(|s| s.header.start_mono_ns)
            .min()
            .unwrap_or(0);
        let end = surveys
            .iter()
            .filter_map(Survey::end_ns)
            .max()
            .unwrap_or(start);
        // Times relative to the start are relative to the earliest input,
        // whose header comes first in recording order.
        let resolve = |t: TimeSpec| match t {
            TimeSpec::At(t) => t.to_mono(&first.header),
            TimeSpec::BeforeEnd(d) => end.saturating_sub(nanos(d)),
        };
        let since = opts.since.map_or(0, resolve);
        let until = opts.until.map_or(u64::MAX, resolve);
        let rel = |ns: u64| {
            let d = Duration::from_nanos(ns.abs_diff(start));
            format!("{}{}", if ns < start { "-" } else { "+" }, secs(d))
        };
        if since >= until {
            return Err(BundleError::EmptyWindow {
                since: rel(since),
                until: rel(until),
            });
        }

        // Redactions of earlier bundles stay; ours follow.
        let mut header = first.header.clone();
        let mut notes: Vec<String> = Vec::new();
        for s in surveys {
            for r in &s.header.redactions {
                if !notes.contains(r) {
                    notes.push(r.clone());
                }
            }
        }
        let mut keep_nrs = HashSet::new();
        let mut kept = Vec::new();
        for name in &opts.keep_data {
            let arch = arch.ok_or_else(|| BundleError::UnknownArch(first.header.arch.clone()))?;
            let nr = syscall_nr(arch, name).ok_or_else(|| BundleError::UnknownSyscall {
                name: name.clone(),
                arch,
            })?;
            if keep_nrs.insert(nr) {
                kept.push(name.as_str());
            }
        }
        if opts.redact_data {
            notes.push(if kept.is_empty() {
                "data".to_owned()
            } else {
                format!("data (kept: {})", kept.join(", "))
            });
        }
        if opts.redact_host {
            header.hostname = MASK.to_owned();
            notes.push("host".to_owned());
        }
        if opts.redact_argv {
            mask_after_first(&mut header.command_line);
            mask_after_first(&mut header.filter.command);
            notes.push("argv".to_owned());
        }
        if opts.since.is_some() || opts.until.is_some() {
            let to = if until == u64::MAX {
                "the end".to_owned()
            } else {
                rel(until)
            };
            notes.push(format!(
                "time: kept {} to {to} after the recording start, of {} recorded; events \
                 outside removed",
                rel(since.max(start)),
                secs(Duration::from_nanos(end.saturating_sub(start)))
            ));
        }
        let procs = select_processes(surveys, opts);
        if procs.as_ref().is_some_and(HashSet::is_empty) {
            return Err(BundleError::Nothing(no_process_matches(surveys)));
        }
        if let Some(set) = &procs {
            let mut what: Vec<String> = opts.pids.iter().map(|p| format!("pid {p}")).collect();
            what.extend(opts.comms.iter().map(|c| format!("comm {c}")));
            notes.push(format!(
                "processes: only {} and their children ({} processes); events of others removed",
                what.join(", "),
                set.len()
            ));
        }
        for &i in &order {
            let s = &surveys[i];
            if s.end != EndState::Clean {
                notes.push(format!("source {}: {}", s.name, s.end));
            }
            if s.counters.is_none() {
                notes.push(format!(
                    "source {}: no loss counters (its losses are unknown)",
                    s.name
                ));
            }
        }
        header.redactions = notes;

        Ok(Plan {
            header,
            arch,
            since,
            until,
            procs,
            redact_data: opts.redact_data,
            keep_nrs,
            redact_argv: opts.redact_argv,
            trailer: sources_trailer(surveys, &order),
            warnings,
            order,
        })
    }

    /// `--redact data` drops the paths a watch log's process description
    /// holds (the executable and the cgroup), as it drops the paths the
    /// calls captured; names, ids and the parent chain stay, as exec
    /// events keep their comm.
    fn redact_who(&self, who: &mut crate::event::WhoEvent) {
        if self.redact_data {
            for path in [&mut who.exe, &mut who.cgroup] {
                if !path.is_empty() {
                    *path = MASK.to_owned();
                }
            }
        }
    }

    /// The event as it goes into the bundle, or `None` if it is cut.
    fn cut(&self, ev: Event) -> Option<Event> {
        let ts = event_ts(&ev)?;
        if ts < self.since || ts >= self.until {
            return None;
        }
        if let Some(procs) = &self.procs {
            let keep = match &ev {
                Event::Syscall(s) => procs.contains(&s.tgid),
                Event::Exec(p) | Event::Exit(p) => procs.contains(&p.tgid),
                // A kept process's birth is kept even if its parent is not.
                Event::Fork(p) => procs.contains(&p.tgid) || procs.contains(&p.child()),
                Event::Signal(sig) => procs.contains(&sig.tgid),
                Event::Pause(p) => procs.contains(&p.tgid),
                Event::Who(w) => procs.contains(&w.tgid),
                Event::Counters(_) => false,
            };
            if !keep {
                return None;
            }
        }
        Some(match ev {
            Event::Syscall(mut s) => {
                self.redact(&mut s);
                Event::Syscall(s)
            }
            other => other,
        })
    }

    fn redact(&self, s: &mut Syscall) {
        let drop_data = self.redact_data && !self.keep_nrs.contains(&s.nr);
        // execve/execveat: the first string array is argv (its element 0,
        // the program name, is kept), the second envp (all masked).
        let mut arrays = [None::<bool>; 6];
        if self.redact_argv
            && let Some(arch) = self.arch
        {
            let plan = capture_plan(arch, s.nr);
            let mut first = true;
            for (slot, a) in arrays.iter_mut().zip(plan.args) {
                if a == ArgPlan::StrArray {
                    *slot = Some(first);
                    first = false;
                }
            }
        }
        let mut seen = [0u32; 6];
        for c in &mut s.data {
            let i = usize::from(c.arg).min(5);
            let masked = match arrays[i] {
                Some(is_argv) => {
                    seen[i] += 1;
                    !(is_argv && seen[i] == 1)
                }
                None => false,
            };
            if drop_data || masked {
                drop_bytes(c);
            }
        }
    }
}

/// The error text when `--pid`/`--comm` match no process in the logs.
fn no_process_matches(surveys: &[Survey]) -> String {
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for s in surveys {
        for c in s.comms.values() {
            names.extend(c.iter().map(String::as_str));
        }
    }
    let total = names.len();
    let mut list: Vec<&str> = names.into_iter().take(20).collect();
    if total > list.len() {
        list.push("...");
    }
    if list.is_empty() {
        list.push("none");
    }
    format!(
        "no process in the logs matches --pid/--comm (names seen: {}); a process that neither \
         started nor exited within these logs has no name in them: select it with --pid",
        list.join(", ")
    )
}

/// Inputs must describe one machine and one syscall set (`-e`): the
/// bundle keeps one header.
fn check_same_machine(a: &Survey, b: &Survey) -> Result<(), BundleError> {
    let fields: [(&'static str, &String, &String); 3] = [
        ("architecture", &a.header.arch, &b.header.arch),
        ("hostname", &a.header.hostname, &b.header.hostname),
        ("kernel", &a.header.kernel_release, &b.header.kernel_release),
    ];
    for (what, va, vb) in fields {
        if va != vb {
            return Err(BundleError::Mismatch {
                a: a.name.clone(),
                b: b.name.clone(),
                what,
                va: va.clone(),
                vb: vb.clone(),
            });
        }
    }
    let set = |h: &Header| match h.trace_set() {
        Some(_) => format!("-e {}", h.trace.join(" -e ")),
        None => "every syscall".to_owned(),
    };
    if a.header.trace_set() != b.header.trace_set() {
        return Err(BundleError::TraceMismatch {
            a: a.name.clone(),
            b: b.name.clone(),
            va: set(&a.header),
            vb: set(&b.header),
        });
    }
    Ok(())
}

/// The processes `--pid`/`--comm` select, with everything they started;
/// `None` when neither was given.
fn select_processes(surveys: &[Survey], opts: &Options) -> Option<HashSet<u32>> {
    if opts.pids.is_empty() && opts.comms.is_empty() {
        return None;
    }
    // Compared as the kernel stores them: at most 15 bytes.
    let wanted: Vec<&[u8]> = opts
        .comms
        .iter()
        .map(|c| &c.as_bytes()[..c.len().min(15)])
        .collect();
    let mut todo: Vec<u32> = opts.pids.clone();
    for s in surveys {
        for (&tgid, names) in &s.comms {
            if names.iter().any(|n| wanted.contains(&n.as_bytes())) {
                todo.push(tgid);
            }
        }
    }
    let mut set = HashSet::new();
    while let Some(p) = todo.pop() {
        if set.insert(p) {
            for s in surveys {
                if let Some(kids) = s.children.get(&p) {
                    todo.extend(kids);
                }
            }
        }
    }
    // Only processes that appear in the logs: the count in the notes then
    // means something, and "none" can be told apart from "no events".
    set.retain(|p| surveys.iter().any(|s| s.tgids.contains(p)));
    Some(set)
}

/// The bundle's trailer: the inputs' loss counters and end time.
///
/// Parts of one recording (rotated files, a snapshot of it) share its
/// header and carry counters cumulative since its start, so within such a
/// group the largest value of each counter is the group's total; separate
/// recordings add up.
fn sources_trailer(surveys: &[Survey], order: &[usize]) -> Trailer {
    let mut groups: Vec<(&Header, Counters)> = Vec::new();
    for &i in order {
        let s = &surveys[i];
        let Some(c) = &s.counters else { continue };
        match groups.iter_mut().find(|(h, _)| **h == s.header) {
            Some((_, total)) => *total = counters_max(total, c),
            None => groups.push((&s.header, c.clone())),
        }
    }
    let counters = groups
        .iter()
        .fold(Counters::default(), |acc, (_, c)| counters_sum(&acc, c));
    let last = order
        .iter()
        .map(|&i| &surveys[i])
        .max_by_key(|s| s.end_ns());
    let (end_wall_ns, end_mono_ns) = match last {
        Some(s) => match &s.trailer {
            Some(t) if Some(t.end_mono_ns) == s.end_ns() => (t.end_wall_ns, t.end_mono_ns),
            _ => {
                let mono = s.end_ns().unwrap_or(s.header.start_mono_ns);
                let wall = i128::from(mono) + i128::from(s.header.realtime_offset_ns);
                (u64::try_from(wall).unwrap_or(0), mono)
            }
        },
        None => (0, 0),
    };
    Trailer {
        end_wall_ns,
        end_mono_ns,
        counters,
    }
}

/// Applies `f` to each pair of fields. Destructured without `..`, so a
/// field appended to `Counters` fails to compile here until it is handled.
fn counters_zip(a: &Counters, b: &Counters, f: impl Fn(u64, u64) -> u64) -> Counters {
    let Counters {
        emitted,
        ring_full,
        exit_without_entry,
        stash_full,
        died_in_call,
        read_failed,
        entered,
        user_dropped,
        written,
        entry_data,
        entry_data_lost,
        paused,
    } = a;
    Counters {
        emitted: f(*emitted, b.emitted),
        ring_full: f(*ring_full, b.ring_full),
        exit_without_entry: f(*exit_without_entry, b.exit_without_entry),
        stash_full: f(*stash_full, b.stash_full),
        died_in_call: f(*died_in_call, b.died_in_call),
        read_failed: f(*read_failed, b.read_failed),
        entered: f(*entered, b.entered),
        user_dropped: f(*user_dropped, b.user_dropped),
        written: f(*written, b.written),
        entry_data: f(*entry_data, b.entry_data),
        entry_data_lost: f(*entry_data_lost, b.entry_data_lost),
        paused: f(*paused, b.paused),
    }
}

fn counters_max(a: &Counters, b: &Counters) -> Counters {
    counters_zip(a, b, u64::max)
}

fn counters_sum(a: &Counters, b: &Counters) -> Counters {
    counters_zip(a, b, u64::saturating_add)
}

/// A redacted capture keeps its argument, kind and full length; its bytes
/// are gone, and `truncated` says that `bytes` is (an empty) part of it.
fn drop_bytes(c: &mut Capture) {
    if !c.bytes.is_empty() {
        c.bytes = Vec::new();
        c.truncated = true;
    }
}

fn mask_after_first(v: &mut [String]) {
    for s in v.iter_mut().skip(1) {
        *s = MASK.to_owned();
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `300.000s`.
fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests;
