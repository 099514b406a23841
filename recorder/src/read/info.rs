//! `recorder info`: what a log is. The machine it was recorded on, when
//! and how it was recorded, what it holds (records by kind, time span,
//! processes and threads), and whether it is complete: losses, sequence
//! gaps, failed reads, how the file ends, and a one-word verdict.
//!
//! Reads the whole log (streaming), since counts and the verdict need every
//! record; memory grows with the number of threads only.

use std::io::{Read, Write};
use std::path::Path;

use serde::Serialize;

use super::replayable::ReplayTally;
use super::time::{secs9, utc};
use super::{Completeness, Events, FilterSpec, ReadError, Tasks};
use crate::event::{Event, Filter, Header, Trailer};
use crate::log::{FORMAT_MINOR, FORMAT_VERSION};

/// Processes listed in the text form (all are in the JSON).
const MAX_LISTED: usize = 50;

/// Records by kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub syscalls: u64,
    pub failed: u64,
    pub exec: u64,
    pub fork: u64,
    pub exit: u64,
    pub signal: u64,
    /// Lossless mode's pauses.
    pub pauses: u64,
    /// Counter checkpoints (not records of the recorded processes).
    pub checkpoints: u64,
    /// `recorder watch`'s descriptions of processes (absent from the JSON
    /// of other logs, whose output stays as it was).
    #[serde(skip_serializing_if = "is_zero")]
    pub who: u64,
    /// Captured data items whose user-memory read failed.
    pub failed_captures: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One process, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessInfo {
    pub pid: u32,
    /// Names in the order the process had them (exec changes it).
    pub names: Vec<String>,
    pub parent: Option<u32>,
    pub threads: Vec<u32>,
    pub calls: u64,
    pub errors: u64,
    /// Entry of its first and last call, seconds after the start.
    pub first_s: Option<String>,
    pub last_s: Option<String>,
    pub exit_status: Option<i32>,
    pub fatal_signal: Option<u32>,
    pub exited: bool,
}

impl ProcessInfo {
    /// `exit 42`, `killed by SIGSEGV`, `exited`, or `running` (no exit in
    /// the log).
    pub(crate) fn end(&self) -> String {
        match (self.fatal_signal, self.exit_status, self.exited) {
            (Some(sig), _, _) => format!("killed by {}", signal_name(sig)),
            (None, Some(s), _) => format!("exit {s}"),
            (None, None, true) => "exited".into(),
            (None, None, false) => "no exit in the log".into(),
        }
    }
}

/// The completeness part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct CompletenessInfo {
    pub complete: bool,
    /// `complete`, or what makes it incomplete.
    pub verdict: String,
    pub lost: Option<u64>,
    pub ring_full: Option<u64>,
    pub writer_backlog: Option<u64>,
    pub stash_full: Option<u64>,
    pub sequence_gaps: u64,
    pub entry_data_lost: Option<u64>,
    pub read_failed: Option<u64>,
    pub in_progress_at_start: Option<u64>,
    pub interrupted_by_exit: Option<u64>,
    /// Lossless mode's pauses.
    pub pauses: super::Pauses,
    /// Events of kinds newer than this reader, skipped.
    pub skipped_events: u64,
    /// Data items of kinds newer than this reader, skipped.
    pub skipped_data_items: u64,
    /// How the file ends.
    pub end: String,
    pub notes: Vec<String>,
}

/// Everything `info` shows; its JSON form is `info --json`.
#[derive(Debug, Clone, Serialize)]
pub struct InfoReport {
    pub file_bytes: u64,
    pub format_version: u16,
    pub header: Header,
    /// Start, and end when the trailer tells it, as UTC text.
    pub start_utc: String,
    pub end_utc: Option<String>,
    /// Recording length from the trailer (seconds), if there is one.
    pub duration_s: Option<String>,
    pub trailer: Option<Trailer>,
    pub records: u64,
    pub counts: Counts,
    /// First and last event, seconds after the start.
    pub first_event_s: Option<String>,
    pub last_event_s: Option<String>,
    pub thread_count: usize,
    pub processes: Vec<ProcessInfo>,
    pub completeness: CompletenessInfo,
    /// Which calls a replay could not feed back from the log, and why.
    pub replay: ReplayInfo,
    /// Smallest and largest event timestamp (CLOCK_MONOTONIC ns), for
    /// `report`'s time axis.
    #[serde(skip)]
    pub span_ns: Option<(u64, u64)>,
}

/// The replayability verdict (`read::replayable`).
#[derive(Debug, Clone, Serialize)]
pub struct ReplayInfo {
    /// `Header.replayable`: recorded with `--replayable`.
    pub recorded_replayable: bool,
    /// Every successful call can be fed back (and nothing was lost).
    pub replayable: bool,
    pub verdict: String,
    #[serde(flatten)]
    pub tally: ReplayTally,
    /// What the log cannot hold or how it was recorded, once per log.
    pub notes: Vec<String>,
}

fn replay_info(h: &Header, mut tally: ReplayTally, complete: bool) -> ReplayInfo {
    tally.finish();
    let replayable = tally.blocked == 0 && complete && h.trace_set().is_none();
    let verdict = if replayable {
        format!(
            "every call can be fed back ({} calls with results)",
            tally.calls
        )
    } else {
        let mut why = Vec::new();
        if tally.blocked > 0 {
            why.push(format!(
                "{} of {} calls cannot be fed back",
                tally.blocked, tally.calls
            ));
        }
        if !complete {
            why.push("the log is incomplete (see verdict)".to_owned());
        }
        if h.trace_set().is_some() {
            why.push("only some system calls were recorded (-e)".to_owned());
        }
        format!("NOT REPLAYABLE: {}", why.join("; "))
    };
    ReplayInfo {
        recorded_replayable: h.replayable,
        replayable,
        verdict,
        tally,
        notes: super::replayable::log_notes(h),
    }
}

/// Standard names of the signals (the same numbers on x86_64 and arm64).
pub(crate) fn signal_name(sig: u32) -> String {
    const NAMES: [&str; 32] = [
        "0",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match NAMES.get(sig as usize) {
        Some(n) if sig > 0 => (*n).to_owned(),
        _ => format!("signal {sig}"),
    }
}

/// Seconds after the start of the recording (negative before it).
fn since_start(h: &Header, ts: u64) -> String {
    if ts >= h.start_mono_ns {
        secs9(ts - h.start_mono_ns)
    } else {
        format!("-{}", secs9(h.start_mono_ns - ts))
    }
}

/// An argv as one line, quoting words a shell would split.
fn command_line(argv: &[String]) -> String {
    let quote = |a: &String| {
        if !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
        {
            a.clone()
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    argv.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// How processes were selected, in words.
fn selection(f: &Filter) -> String {
    let mut parts = Vec::new();
    if !f.command.is_empty() {
        parts.push(format!("the command {}", command_line(&f.command)));
    }
    if !f.pids.is_empty() {
        let pids: Vec<String> = f.pids.iter().map(u32::to_string).collect();
        parts.push(format!("pid {}", pids.join(", ")));
    }
    if !f.comms.is_empty() {
        let names: Vec<String> = f.comms.iter().map(|c| format!("{c:?}")).collect();
        parts.push(format!("processes named {}", names.join(", ")));
    }
    if parts.is_empty() {
        parts.push("nothing recorded in the header".into());
    }
    format!(
        "{}; children {}",
        parts.join(" and "),
        if f.follow_forks {
            "followed"
        } else {
            "not followed"
        }
    )
}

/// `1 thread`, `2 threads`, `2 processes`.
pub(crate) fn plural(n: u64, what: &str) -> String {
    match (n, what.ends_with('s')) {
        (1, _) => format!("1 {what}"),
        (_, true) => format!("{n} {what}es"),
        (_, false) => format!("{n} {what}s"),
    }
}

/// `8 MiB`, `4096 bytes`.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

fn completeness_info(c: &Completeness, watch: bool) -> CompletenessInfo {
    let k = c.counters.as_ref();
    let verdict = match (c.is_complete(), c.skipped.text()) {
        (true, None) if watch => {
            "complete: every matching call of any process while watching is in the log".to_owned()
        }
        (true, None) => {
            "complete: every call of the selected processes while recording is in the log"
                .to_owned()
        }
        (true, Some(skipped)) => format!(
            "complete as recorded, but partly unread: {skipped}; a newer recorder reads them"
        ),
        (false, _) => format!("INCOMPLETE: {}", c.notes().join("; ")),
    };
    CompletenessInfo {
        complete: c.is_complete(),
        verdict,
        lost: k.map(|k| k.lost()),
        ring_full: k.map(|k| k.ring_full),
        writer_backlog: k.map(|k| k.user_dropped),
        stash_full: k.map(|k| k.stash_full),
        sequence_gaps: c.gaps,
        entry_data_lost: k.map(|k| k.entry_data_lost),
        read_failed: k.map(|k| k.read_failed),
        in_progress_at_start: k.map(|k| k.exit_without_entry),
        interrupted_by_exit: k.map(|k| k.died_in_call),
        pauses: c.pauses.clone(),
        skipped_events: c.skipped.event_count(),
        skipped_data_items: c.skipped.data_items,
        end: c.end.to_string(),
        notes: c.notes(),
    }
}

pub(crate) fn processes(h: &Header, tasks: &Tasks) -> Vec<ProcessInfo> {
    tasks
        .processes()
        .map(|p| ProcessInfo {
            pid: p.pid,
            names: p.names.clone(),
            parent: p.parent,
            threads: p.threads.iter().copied().collect(),
            calls: p.calls,
            errors: p.errors,
            first_s: p.first_ns.map(|t| since_start(h, t)),
            last_s: p.last_ns.map(|t| since_start(h, t)),
            exit_status: p.exit_status,
            fatal_signal: p.fatal_signal,
            exited: p.exited,
        })
        .collect()
}

/// Reads everything and builds the report; the error, if reading stopped
/// at damage.
pub fn gather<R: Read>(
    mut events: Events<R>,
    file_bytes: u64,
) -> (InfoReport, Result<(), crate::log::LogError>) {
    let mut counts = Counts::default();
    let mut tally = ReplayTally::default();
    let header = events.header().clone();
    let res = loop {
        match events.next_event() {
            Ok(Some(ev)) => match ev {
                Event::Syscall(sc) => {
                    tally.add(&header, &sc);
                    counts.syscalls += 1;
                    counts.failed += u64::from(sc.ret.is_some_and(|r| (-4095..=-1).contains(&r)));
                    counts.failed_captures +=
                        sc.data.iter().filter(|c| c.read_failed).count() as u64;
                }
                Event::Exec(_) => counts.exec += 1,
                Event::Fork(_) => counts.fork += 1,
                Event::Exit(_) => counts.exit += 1,
                Event::Signal(_) => counts.signal += 1,
                Event::Pause(_) => counts.pauses += 1,
                Event::Who(_) => counts.who += 1,
                Event::Counters(_) => {}
            },
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    counts.checkpoints = events.checkpoints();
    let h = events.header().clone();
    let trailer = events.trailer().cloned();
    let completeness = events.completeness();
    let report = InfoReport {
        file_bytes,
        format_version: events.format_version(),
        start_utc: utc(i128::from(h.start_wall_ns)),
        end_utc: trailer.as_ref().map(|t| utc(i128::from(t.end_wall_ns))),
        duration_s: trailer
            .as_ref()
            .map(|t| secs9(t.end_mono_ns.saturating_sub(h.start_mono_ns))),
        trailer,
        records: events.records(),
        counts,
        first_event_s: events.span().map(|s| since_start(&h, s.0)),
        last_event_s: events.span().map(|s| since_start(&h, s.1)),
        thread_count: events.tasks().thread_count(),
        processes: processes(&h, events.tasks()),
        replay: replay_info(&h, tally, completeness.is_complete()),
        completeness: completeness_info(&completeness, h.watch),
        span_ns: events.span(),
        header: h,
    };
    (report, res)
}

impl InfoReport {
    /// `, revision 3: newer than this reader's 1`, when a newer writer of
    /// this format version wrote the log.
    fn newer_revision(&self) -> Option<String> {
        let minor = self.header.format_minor;
        (self.format_version == FORMAT_VERSION && minor > FORMAT_MINOR)
            .then(|| format!(", revision {minor}: newer than this reader's {FORMAT_MINOR}"))
    }

    /// The text form.
    pub fn write_text(&self, out: &mut dyn Write, name: &str) -> std::io::Result<()> {
        let h = &self.header;
        let c = &self.counts;
        let line = |out: &mut dyn Write, key: &str, value: &str| writeln!(out, "{key:<13}{value}");
        line(
            out,
            "file",
            &format!(
                "{name} ({} bytes, format version {}{})",
                self.file_bytes,
                self.format_version,
                self.newer_revision().unwrap_or_default()
            ),
        )?;
        line(
            out,
            "machine",
            &format!(
                "{}, Linux {}, host {:?}, page size {}",
                h.arch,
                h.kernel_release,
                h.hostname,
                size(u64::from(h.page_size))
            ),
        )?;
        line(out, "recorder", &format!("version {}", h.recorder_version))?;
        line(out, "command", &command_line(&h.command_line))?;
        if h.watch {
            line(
                out,
                "selected",
                "every process (recorder watch): the calls of any process that matched the \
                 watch's filters, each process described before its first call; no exec, fork, \
                 exit or signal events",
            )?;
        } else {
            line(out, "selected", &selection(&h.filter))?;
        }
        if let Some(note) = super::trace_note(h) {
            line(out, "syscalls", &note)?;
        }
        if h.lean {
            line(
                out,
                "calls",
                &format!(
                    "taken at their exit only (--mode lean): {}",
                    super::stats::NO_DURATIONS
                ),
            )?;
        }
        line(
            out,
            "capture",
            &if h.capture_size == 0 {
                "off (no data captured)".to_owned()
            } else {
                format!("{} per item", size(u64::from(h.capture_size)))
            },
        )?;
        line(out, "ring buffer", &size(u64::from(h.ring_size)))?;
        if !h.redactions.is_empty() {
            line(out, "redacted", &h.redactions.join("; "))?;
        }
        line(out, "started", &self.start_utc)?;
        match (&self.end_utc, &self.duration_s) {
            (Some(end), Some(d)) => line(out, "ended", &format!("{end} ({d} s)"))?,
            _ => line(out, "ended", "unknown (no trailer)")?,
        }
        line(
            out,
            "records",
            &format!(
                "{}: {} syscalls ({} failed), {} exec, {} fork, {} exit, {} signal{}; {}",
                self.records,
                c.syscalls,
                c.failed,
                c.exec,
                c.fork,
                c.exit,
                c.signal,
                if h.watch || c.who > 0 {
                    format!(", {}", plural(c.who, "process description"))
                } else {
                    String::new()
                },
                plural(c.checkpoints, "counter checkpoint")
            ),
        )?;
        if let (Some(a), Some(b)) = (&self.first_event_s, &self.last_event_s) {
            line(
                out,
                "events",
                &format!("from {a} s to {b} s after the start"),
            )?;
        }
        line(
            out,
            "processes",
            &format!(
                "{}, {}",
                plural(self.processes.len() as u64, "process"),
                plural(self.thread_count as u64, "thread")
            ),
        )?;
        if !self.processes.is_empty() {
            writeln!(
                out,
                "  {:>8} {:>8}  {:<16} {:>7} {:>8} {:>7} {:>13} {:>13}  end",
                "pid", "parent", "name", "threads", "calls", "errors", "first s", "last s"
            )?;
            for p in self.processes.iter().take(MAX_LISTED) {
                writeln!(
                    out,
                    "  {:>8} {:>8}  {:<16} {:>7} {:>8} {:>7} {:>13} {:>13}  {}",
                    p.pid,
                    p.parent.map_or_else(|| "-".into(), |x| x.to_string()),
                    p.names.last().map_or("?", String::as_str),
                    p.threads.len(),
                    p.calls,
                    p.errors,
                    p.first_s.as_deref().unwrap_or("-"),
                    p.last_s.as_deref().unwrap_or("-"),
                    p.end()
                )?;
            }
            if self.processes.len() > MAX_LISTED {
                writeln!(
                    out,
                    "  ... and {} more (all in info --json)",
                    self.processes.len() - MAX_LISTED
                )?;
            }
        }
        let k = &self.completeness;
        let num = |v: Option<u64>| v.map_or_else(|| "unknown".into(), |v| v.to_string());
        if h.lossless {
            line(
                out,
                "mode",
                &format!(
                    "lossless (--overflow pause): {}",
                    k.pauses
                        .text()
                        .unwrap_or_else(|| "the processes never had to be paused".into())
                ),
            )?;
        }
        line(out, "verdict", &k.verdict)?;
        line(
            out,
            "lost",
            &format!(
                "{} (ring buffer full: {}, not written: {}, stash full: {}); {} execve argument captures lost",
                num(k.lost),
                num(k.ring_full),
                num(k.writer_backlog),
                num(k.stash_full),
                num(k.entry_data_lost)
            ),
        )?;
        line(
            out,
            "gaps",
            &format!(
                "{} records missing from per-thread sequences",
                k.sequence_gaps
            ),
        )?;
        line(
            out,
            "failed reads",
            &format!(
                "{} user-memory reads failed ({} data items marked in the log)",
                num(k.read_failed),
                c.failed_captures
            ),
        )?;
        line(
            out,
            "partial",
            &format!(
                "{} calls in progress at start (exit seen, entry not), {} interrupted by thread exit",
                num(k.in_progress_at_start),
                num(k.interrupted_by_exit)
            ),
        )?;
        if k.skipped_events + k.skipped_data_items > 0 {
            line(
                out,
                "skipped",
                &format!(
                    "{} events and {} data items of kinds newer than this reader",
                    k.skipped_events, k.skipped_data_items
                ),
            )?;
        }
        line(out, "file end", &k.end)?;
        self.write_replay(out)
    }

    /// The replayability verdict: per syscall and reason, how many calls
    /// cannot be fed back, with the first ones (`tid/seq`, as `dump
    /// --tid T` numbers them).
    fn write_replay(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let r = &self.replay;
        writeln!(out, "{:<13}{}", "replay", r.verdict)?;
        for g in &r.tally.groups {
            let first: Vec<String> = g.first.iter().map(|(t, s)| format!("{t}/{s}")).collect();
            let more = if g.count > g.first.len() as u64 {
                ", ..."
            } else {
                ""
            };
            let largest = if g.reason == "truncated" {
                format!(" (largest {} bytes)", g.largest)
            } else {
                String::new()
            };
            writeln!(
                out,
                "  {:<18} {:>7}  {}{largest}: {}; first (tid/seq) {}{more}",
                g.syscall,
                g.count,
                g.reason,
                g.example,
                first.join(", ")
            )?;
        }
        for n in &r.notes {
            writeln!(out, "  note: {n}")?;
        }
        Ok(())
    }
}

/// `recorder info`: writes the report on `path` to `out`. A damaged log
/// reports on everything before the damage (its verdict says where reading
/// stopped), then fails with the offset and reason.
pub fn run(path: &Path, json: bool, out: &mut dyn Write) -> Result<(), ReadError> {
    let (report, res) = if super::is_stdin(path) {
        gather_stdin(path)?
    } else {
        let file_bytes = super::file_len(path)?;
        gather(
            Events::open(path, &FilterSpec::default())?.with_tasks(),
            file_bytes,
        )
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        report.write_text(out, &name)?;
    }
    out.flush()?;
    ReadError::stopped(path, res)
}

/// [`gather`] over standard input (`recorder info -`): its size is what
/// was read.
fn gather_stdin(path: &Path) -> Result<(InfoReport, Result<(), crate::log::LogError>), ReadError> {
    let input = Counted {
        inner: std::io::stdin().lock(),
        bytes: Default::default(),
    };
    let bytes = input.bytes.clone();
    let input = std::io::BufReader::with_capacity(1 << 20, input);
    let events = Events::from_reader(input, path, &FilterSpec::default())?.with_tasks();
    let (mut report, res) = gather(events, 0);
    report.file_bytes = bytes.get();
    Ok((report, res))
}

/// A reader that counts the bytes read through it.
struct Counted<R> {
    inner: R,
    bytes: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.set(self.bytes.get() + n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(size(8 << 20), "8 MiB");
        assert_eq!(size(4096), "4 KiB");
        assert_eq!(size(1000), "1000 bytes");
        assert_eq!(signal_name(11), "SIGSEGV");
        assert_eq!(signal_name(40), "signal 40");
        assert_eq!(
            command_line(&["ls".into(), "-l".into(), "a b".into(), "it's".into()]),
            r"ls -l 'a b' 'it'\''s'"
        );
        let f = Filter {
            pids: vec![5],
            follow_forks: true,
            ..Default::default()
        };
        assert_eq!(selection(&f), "pid 5; children followed");
    }

    #[test]
    fn process_end() {
        let mut p = ProcessInfo {
            pid: 1,
            names: vec![],
            parent: None,
            threads: vec![],
            calls: 0,
            errors: 0,
            first_s: None,
            last_s: None,
            exit_status: Some(3),
            fatal_signal: None,
            exited: true,
        };
        assert_eq!(p.end(), "exit 3");
        p.fatal_signal = Some(11);
        assert_eq!(p.end(), "killed by SIGSEGV");
        p.fatal_signal = None;
        p.exit_status = None;
        p.exited = false;
        assert_eq!(p.end(), "no exit in the log");
    }
}
