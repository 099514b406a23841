//! Reading a log the way an investigation needs it: what the log is
//! ([`info`]), where the time and the errors went ([`stats`]), a timeline
//! for Perfetto ([`export`]), one HTML page of all that ([`report`]), and
//! the filters they share with `dump` ([`filter`]).
//!
//! [`Events`] is the common reading loop: it streams a log through
//! [`LogReader`](crate::log::LogReader) (one block in memory at a time),
//! applies the read filters, keeps the process table ([`Tasks`]) and the
//! completeness accounting (loss counters, per-thread sequence gaps, how
//! reading ended) that every command reports. Damage never panics and never
//! loses what came before it: every event up to the damaged frame is
//! delivered, then the error, which names the offset and the problem.
//!
//! Everything here works on any `Read`, needs no privileges, and is what
//! the `recorder` binary's `info`, `stats`, `export` and `dump` commands
//! call.

pub mod export;
pub mod filter;
pub mod info;
pub mod parquet;
pub mod replayable;
pub mod report;
pub mod stats;
pub mod tasks;
pub mod time;

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

pub use filter::{
    Filter, FilterSpec, RECORDABLE_NRS, TraceExpr, TraceItem, parse_trace, record_set,
};
pub use replayable::{NotReplayable, replayability, writes_nothing};
pub use tasks::{Process, Tasks, Thread};
pub use time::{TimeSpec, parse_time};

use crate::decode::DecodeError;
use crate::event::{Counters, Event, Header, Trailer};
use crate::log::{EndState, LogError, LogReader, Skipped};

/// Why a reading command failed. Errors about the log name it; a log
/// damaged part-way is [`ReadError::Stopped`], returned after everything
/// before the damage was reported.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot open {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Not readable at all: not a log, or its prefix or header is damaged.
    #[error("{path}")]
    Log {
        path: PathBuf,
        #[source]
        source: LogError,
    },
    /// Its header names what this reader cannot decode (an architecture).
    #[error("{path}")]
    Unsupported {
        path: PathBuf,
        #[source]
        source: DecodeError,
    },
    #[error("{path}: stopped reading")]
    Stopped {
        path: PathBuf,
        #[source]
        source: LogError,
    },
    /// Writing the output failed (a closed pipe, a full disk). The
    /// io::Error is the source, not hidden behind `transparent`, so the
    /// binary finds a closed pipe in the chain; JSON output errors come
    /// here as the io::Error serde_json wraps, for the same reason.
    #[error("writing the output")]
    Output(#[from] io::Error),
    /// A header that [`Events::open`] did not vet (one given to
    /// [`export::Perfetto::begin`] directly, say).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// `export` in a format that takes one log was given this many.
    #[error("Perfetto and JSON Lines export take one log, not {0} (Parquet takes several)")]
    OneLog(usize),
    /// The Parquet writer failed (`export --format parquet`); an output
    /// io::Error is in its chain.
    #[error("writing the Parquet file")]
    Parquet(#[from] ::parquet::errors::ParquetError),
}

impl ReadError {
    /// `res`, the end of reading `path`, as the command's result.
    fn stopped(path: &Path, res: Result<(), LogError>) -> Result<(), ReadError> {
        res.map_err(|source| ReadError::Stopped {
            path: path.to_owned(),
            source,
        })
    }
}

/// A log file opened for reading.
pub type FileReader = LogReader<BufReader<File>>;

/// Opens the log at `path`; errors name the file (and, for a damaged
/// prefix or header, the offset).
pub fn open_log(path: &Path) -> Result<FileReader, ReadError> {
    let f = File::open(path).map_err(|source| ReadError::Open {
        path: path.to_owned(),
        source,
    })?;
    LogReader::open(BufReader::with_capacity(1 << 20, f)).map_err(|source| ReadError::Log {
        path: path.to_owned(),
        source,
    })
}

/// A hasher for small integer keys (pids, tids): the per-event lookups of
/// the reading loop must not cost more than rendering the line does.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        // Fibonacci hashing: spreads sequential ids over the high bits,
        // which hashbrown uses.
        self.0 = (self.0 ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A map keyed by pid or tid.
pub(crate) type IdMap<V> = HashMap<u32, V, BuildHasherDefault<IdHasher>>;

/// Per-thread sequence numbers: a thread's records are numbered 0, 1, 2...
/// by the kernel side, so `max + 1 - count` records of it are missing.
#[derive(Debug, Default)]
struct Seqs {
    /// tid -> (records seen, lowest and highest sequence number).
    by_tid: IdMap<(u64, u64, u64)>,
    /// Gaps of sequences that ended (a thread id taken over by an exec).
    closed: u64,
}

impl Seqs {
    /// Missing numbers between a thread's first and last record. Counting
    /// from its *first* record rather than from 0 is what lets a rotated
    /// file, a snapshot or a time-cut bundle — which start in the middle of
    /// a recording — read as complete. (A record lost before a thread's
    /// first one in the file is still in the kernel's drop counters.)
    fn gaps_of((count, min, max): (u64, u64, u64)) -> u64 {
        // Saturating: sequence numbers come from the file, which may be
        // damaged in ways the CRC cannot see (a buggy writer).
        max.saturating_sub(min)
            .saturating_add(1)
            .saturating_sub(count)
    }

    fn syscall(&mut self, tid: u32, seq: u64) {
        let e = self.by_tid.entry(tid).or_insert((0, seq, seq));
        e.0 += 1;
        e.1 = e.1.min(seq);
        e.2 = e.2.max(seq);
    }

    /// A non-leader thread `old` exec'd: its sequence continues under the
    /// leader's id `tid`, whose own sequence ends.
    fn exec(&mut self, tid: u32, old: u32) {
        if old == 0 || old == tid {
            return;
        }
        if let Some(s) = self.by_tid.remove(&tid) {
            self.closed = self.closed.saturating_add(Self::gaps_of(s));
        }
        if let Some(s) = self.by_tid.remove(&old) {
            self.by_tid.insert(tid, s);
        }
    }

    fn gaps(&self) -> u64 {
        self.by_tid
            .values()
            .fold(self.closed, |sum, &s| sum.saturating_add(Self::gaps_of(s)))
    }
}

/// How complete what was read is: the verdict every reader command gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Completeness {
    /// Records read (counter checkpoints excluded).
    pub records: u64,
    /// The trailer's totals, or the last checkpoint of a log cut short.
    pub counters: Option<Counters>,
    /// How reading ended.
    pub end: EndState,
    /// Records missing from per-thread sequences.
    pub gaps: u64,
    /// What a newer writer wrote that this reader does not understand.
    pub skipped: Skipped,
    /// Lossless mode: how much the recorded processes were held back.
    pub pauses: Pauses,
}

/// The pauses of lossless mode, summed (see [`crate::event::PauseEvent`]).
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct Pauses {
    pub count: u64,
    pub total_ns: u64,
    pub max_ns: u64,
    /// Processes left stopped because someone else stopped them meanwhile.
    pub left_stopped: u64,
}

impl Pauses {
    fn add(&mut self, p: &crate::event::PauseEvent) {
        let d = p.duration_ns();
        self.count += 1;
        self.total_ns = self.total_ns.saturating_add(d);
        self.max_ns = self.max_ns.max(d);
        self.left_stopped += u64::from(p.end == crate::event::PauseEvent::LEFT_STOPPED);
    }

    /// `paused 3 times, 0.120000 s in total (longest 0.050000 s) so that
    /// nothing was lost`, or `None` without pauses.
    pub fn text(&self) -> Option<String> {
        let s = |ns: u64| format!("{}.{:06} s", ns / 1_000_000_000, ns % 1_000_000_000 / 1000);
        (self.count > 0).then(|| {
            format!(
                "processes paused {} times, {} in total (longest {}) so that nothing was lost",
                self.count,
                s(self.total_ns),
                s(self.max_ns)
            )
        })
    }
}

impl Completeness {
    /// Nothing was lost and the log was closed cleanly.
    pub fn is_complete(&self) -> bool {
        matches!(self.end, EndState::Clean)
            && self.gaps == 0
            && self
                .counters
                .as_ref()
                .is_some_and(|c| c.lost() == 0 && c.entry_data_lost == 0)
    }

    /// What is missing, and what else is worth knowing, one item each.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        match &self.counters {
            Some(c) => {
                if let Some(text) = c.loss_text() {
                    notes.push(text);
                }
                if c.exit_without_entry > 0 {
                    notes.push(format!(
                        "{} calls in progress at start (exit seen, entry not)",
                        c.exit_without_entry
                    ));
                }
                if c.died_in_call > 0 {
                    notes.push(format!(
                        "{} calls interrupted by thread exit",
                        c.died_in_call
                    ));
                }
                if c.entry_data_lost > 0 {
                    notes.push(format!(
                        "{} execve path/argv captures lost (ring buffer full)",
                        c.entry_data_lost
                    ));
                }
                if c.read_failed > 0 {
                    notes.push(format!("{} user-memory reads failed", c.read_failed));
                }
            }
            None => notes.push("no loss counters in the log".into()),
        }
        if self.gaps > 0 {
            notes.push(format!(
                "{} records missing from per-thread sequences",
                self.gaps
            ));
        }
        if self.end != EndState::Clean {
            notes.push(format!("log {}", self.end));
        }
        if let Some(text) = self.pauses.text() {
            notes.push(text);
        }
        if let Some(text) = self.skipped.text() {
            notes.push(format!("{text} (a newer recorder reads them)"));
        }
        notes
    }

    /// The verdict word: `complete`, `complete (partly unread)` when the
    /// recording is complete but a newer writer put kinds in it this reader
    /// skipped, or `INCOMPLETE`.
    pub fn verdict_word(&self) -> &'static str {
        match (self.is_complete(), self.skipped.is_empty()) {
            (true, true) => "complete",
            (true, false) => "complete (partly unread)",
            (false, _) => "INCOMPLETE",
        }
    }

    /// `recorder: complete: 66 records` or `recorder: INCOMPLETE: ...`:
    /// the one-line summary the reader commands print on stderr. `shown`:
    /// how many records passed the filters, when some did not.
    pub fn summary(&self, shown: Option<u64>) -> String {
        let mut parts = vec![match shown {
            Some(s) if s != self.records => format!("{} records ({s} shown)", self.records),
            _ => format!("{} records", self.records),
        }];
        parts.extend(self.notes());
        format!("recorder: {}: {}", self.verdict_word(), parts.join("; "))
    }
}

/// The events of a log that pass the read filters, with the bookkeeping
/// every reader command needs (see the module documentation).
pub struct Events<R: Read> {
    reader: LogReader<R>,
    filter: Filter,
    /// `filter.is_empty()`, cached for the per-event check.
    keep_all: bool,
    tasks: Tasks,
    track_tasks: bool,
    seqs: Seqs,
    last_counters: Option<Counters>,
    records: u64,
    kept: u64,
    checkpoints: u64,
    span: Option<(u64, u64)>,
    pauses: Pauses,
    /// With filters: each process's latest `Who` (a watch log's), held
    /// back until an event of that process passes, and shown just before
    /// it; so a call shown after `--since` or `-e` still says who made it,
    /// and a process none of whose calls pass is not described.
    held_who: std::collections::HashMap<u32, Event>,
    /// The event that passed, to return after its held `Who`.
    queued: Option<(Event, bool)>,
}

/// Whether a log path names standard input (`recorder dump -`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

impl Events<BufReader<File>> {
    /// Opens `path` and resolves `spec` against its header. For `--comm`
    /// this reads the log once first, for the names (see [`Tasks`]).
    pub fn open(path: &Path, spec: &FilterSpec) -> Result<Self, ReadError> {
        let mut events = Events::read_once(open_log(path)?, path, spec)?;
        if events.filter.needs_names() {
            events.tasks.seed_names(tasks::first_names(open_log(path)?));
        }
        Ok(events)
    }
}

impl<R: Read> Events<R> {
    /// Reads `input` (a log named `name` in errors) once, as a pipe is
    /// read: `--comm` then knows a process by the names the log told
    /// before its event (a process running before the recording started
    /// is named at its exit), since no first pass can look ahead.
    pub fn from_reader(input: R, name: &Path, spec: &FilterSpec) -> Result<Self, ReadError> {
        let reader = LogReader::open(input).map_err(|source| ReadError::Log {
            path: name.to_owned(),
            source,
        })?;
        Events::read_once(reader, name, spec)
    }

    fn read_once(reader: LogReader<R>, path: &Path, spec: &FilterSpec) -> Result<Self, ReadError> {
        let filter =
            Filter::new(spec, reader.header()).map_err(|source| ReadError::Unsupported {
                path: path.to_owned(),
                source,
            })?;
        Ok(Events::new(reader, filter))
    }

    /// Reads `reader`'s events through `filter`. The caller seeds names
    /// for `--comm` (see [`Events::open`]).
    pub fn new(reader: LogReader<R>, filter: Filter) -> Self {
        Events {
            keep_all: filter.is_empty(),
            held_who: std::collections::HashMap::new(),
            queued: None,
            track_tasks: filter.needs_names(),
            reader,
            filter,
            tasks: Tasks::default(),
            seqs: Seqs::default(),
            last_counters: None,
            records: 0,
            kept: 0,
            checkpoints: 0,
            span: None,
            pauses: Pauses::default(),
        }
    }

    /// Keep the process table even when no filter needs it.
    pub fn with_tasks(mut self) -> Self {
        self.track_tasks = true;
        self
    }

    pub fn header(&self) -> &Header {
        self.reader.header()
    }

    /// Format version of the log (from its prefix).
    pub fn format_version(&self) -> u16 {
        self.reader.format_version()
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Writes the filter's warnings (see [`Filter::warnings`]) to `err`,
    /// one `recorder: warning:` line each, as every reading command does
    /// before its output.
    pub fn write_warnings(&self, err: &mut dyn std::io::Write) -> std::io::Result<()> {
        for w in self.filter.warnings() {
            writeln!(err, "recorder: warning: {w}")?;
        }
        Ok(())
    }

    /// The processes and threads seen so far (empty unless
    /// [`Events::with_tasks`] or `--comm`).
    pub fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    /// The next event and whether it passes the filters; `None` at the end
    /// (also after an error). Counter checkpoints are taken in, not
    /// returned.
    pub fn next_any(&mut self) -> Result<Option<(Event, bool)>, LogError> {
        if let Some(q) = self.queued.take() {
            return Ok(Some(q));
        }
        loop {
            let Some(ev) = self.reader.next_event()? else {
                return Ok(None);
            };
            let ts = match &ev {
                Event::Counters(c) => {
                    self.last_counters = Some(c.clone());
                    self.checkpoints += 1;
                    continue;
                }
                Event::Syscall(sc) => {
                    self.seqs.syscall(sc.tid, sc.seq);
                    sc.enter_ns
                }
                Event::Exec(p) => {
                    self.seqs.exec(p.tid, p.old_tid());
                    p.ts_ns
                }
                Event::Fork(p) | Event::Exit(p) => p.ts_ns,
                Event::Signal(s) => s.ts_ns,
                Event::Who(w) => w.ts_ns,
                Event::Pause(p) => {
                    self.pauses.add(p);
                    p.start_ns
                }
            };
            self.records += 1;
            self.span = Some(match self.span {
                None => (ts, ts),
                Some((a, b)) => (a.min(ts), b.max(ts)),
            });
            if self.track_tasks {
                self.tasks.observe(&ev);
            }
            if self.keep_all {
                self.kept += 1;
                return Ok(Some((ev, true)));
            }
            if let Event::Who(w) = &ev {
                self.held_who.insert(w.tgid, ev.clone());
                return Ok(Some((ev, false)));
            }
            let keep = self.filter.keep(&ev, &self.tasks);
            self.kept += u64::from(keep);
            if keep
                && !self.held_who.is_empty()
                && let Some(who) = ev.tgid().and_then(|p| self.held_who.remove(&p))
            {
                self.kept += 1;
                self.queued = Some((ev, keep));
                return Ok(Some((who, true)));
            }
            return Ok(Some((ev, keep)));
        }
    }

    /// The next event that passes the filters.
    pub fn next_event(&mut self) -> Result<Option<Event>, LogError> {
        while let Some((ev, keep)) = self.next_any()? {
            if keep {
                return Ok(Some(ev));
            }
        }
        Ok(None)
    }

    /// Records read so far (counter checkpoints excluded).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Records that passed the filters.
    pub fn kept(&self) -> u64 {
        self.kept
    }

    /// Counter checkpoints read.
    pub fn checkpoints(&self) -> u64 {
        self.checkpoints
    }

    /// Smallest and largest event timestamp read (CLOCK_MONOTONIC ns).
    pub fn span(&self) -> Option<(u64, u64)> {
        self.span
    }

    pub fn trailer(&self) -> Option<&Trailer> {
        self.reader.trailer()
    }

    /// How reading ended ([`EndState::Reading`] before the end).
    pub fn end_state(&self) -> EndState {
        self.reader.end_state()
    }

    /// The completeness of what was read (final once reading ended).
    pub fn completeness(&self) -> Completeness {
        Completeness {
            records: self.records,
            counters: self
                .reader
                .trailer()
                .map(|t| t.counters.clone())
                .or_else(|| self.last_counters.clone()),
            end: self.reader.end_state(),
            gaps: self.seqs.gaps(),
            skipped: self.reader.skipped().clone(),
            pauses: self.pauses.clone(),
        }
    }

    /// [`Completeness::summary`] with the count of records shown when a
    /// filter is active.
    pub fn summary(&self) -> String {
        self.completeness()
            .summary((!self.keep_all).then_some(self.kept))
    }
}

/// What a log recorded with `recorder -e` holds, for `info` and `dump`:
/// `this log holds only: -e openat (1 syscall; ...)`. `None` when every
/// syscall was recorded.
pub fn trace_note(h: &Header) -> Option<String> {
    let nrs = h.trace_set()?;
    let exprs: Vec<String> = h.trace.iter().map(|e| format!("-e {e}")).collect();
    // Numbers without a name (kept by `!` sets) are not worth counting.
    let named = match crate::decode::Arch::from_name(&h.arch) {
        Some(arch) => nrs
            .iter()
            .filter(|&&nr| crate::decode::syscall_name(arch, nr).is_some())
            .count(),
        None => nrs.len(),
    };
    let calls = match named {
        0 => "no syscall".to_owned(),
        1 => "1 syscall".to_owned(),
        n => format!("{n} syscalls"),
    };
    if h.watch {
        return Some(format!(
            "this log holds only: {} ({calls} of {}, chosen when watching; of those, only \
             the calls that matched the watch's filters)",
            exprs.join(" "),
            h.arch
        ));
    }
    Some(format!(
        "this log holds only: {} ({calls} of {}, chosen when recording; exec, fork, exit \
         and signal events are all there)",
        exprs.join(" "),
        h.arch
    ))
}

/// Whether events of more than one thread pass `spec` (dump then prefixes
/// lines with `[pid N]`, as strace does). Stops at the second thread, so it
/// costs little on any log that has two.
pub fn multi_threaded(path: &Path, spec: &FilterSpec) -> Result<bool, ReadError> {
    let mut events = Events::open(path, spec)?;
    if events.filter().single_thread() {
        return Ok(false);
    }
    let mut first = None;
    while let Ok(Some(ev)) = events.next_event() {
        let Some(tid) = ev.tid() else { continue };
        match first {
            None => first = Some(tid),
            Some(t) if t != tid => return Ok(true),
            Some(_) => {}
        }
    }
    Ok(false)
}

/// The size of the log at `path`, which `info` and `report` state.
pub(crate) fn file_len(path: &Path) -> Result<u64, ReadError> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|source| ReadError::Open {
            path: path.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ProcEvent, Syscall};
    use crate::log::LogWriter;

    /// The reading commands' errors name the file once and give the cause
    /// once, as the whole chain the binary prints.
    #[test]
    fn open_errors_name_the_file_and_the_cause() {
        let chain = |e: ReadError| format!("{:#}", anyhow::Error::from(e));
        let missing = Path::new("/nonexistent/x.rec");
        let e = open_log(missing).map(drop).unwrap_err();
        assert!(matches!(e, ReadError::Open { .. }), "{e:?}");
        assert_eq!(
            chain(e),
            "cannot open /nonexistent/x.rec: No such file or directory (os error 2)"
        );
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("notalog.rec");
        std::fs::write(&bad, b"not a log, just text\n").unwrap();
        let e = open_log(&bad).map(drop).unwrap_err();
        assert!(matches!(e, ReadError::Log { .. }), "{e:?}");
        let text = chain(e);
        assert_eq!(
            text,
            format!("{}: not a recorder log (bad magic)", bad.display())
        );
    }

    fn call(tid: u32, seq: u64) -> Event {
        Event::Syscall(Syscall {
            tgid: tid,
            tid,
            seq,
            nr: 39,
            ret: Some(1),
            enter_ns: seq.wrapping_add(100),
            exit_ns: Some(seq.wrapping_add(101)),
            ..Default::default()
        })
    }

    fn log(events: &[Event], counters: Counters, trailer: bool) -> Vec<u8> {
        let header = Header {
            arch: "x86_64".into(),
            ..Default::default()
        };
        let mut w = LogWriter::new(Vec::new(), &header, 1).unwrap();
        for e in events {
            w.append(e).unwrap();
        }
        if trailer {
            w.finish(&Trailer {
                counters,
                ..Default::default()
            })
            .unwrap()
        } else {
            w.append(&Event::Counters(counters)).unwrap();
            w.flush_block().unwrap();
            w.get_ref().clone()
        }
    }

    fn read(bytes: &[u8], spec: &FilterSpec) -> (Vec<Event>, Completeness, Option<u64>) {
        let r = LogReader::open(bytes).unwrap();
        let f = Filter::new(spec, r.header()).unwrap();
        let mut ev = Events::new(r, f);
        let mut out = Vec::new();
        while let Some(e) = ev.next_event().unwrap() {
            out.push(e);
        }
        let shown = (!ev.filter().is_empty()).then_some(ev.kept());
        (out, ev.completeness(), shown)
    }

    #[test]
    fn complete_log() {
        let bytes = log(
            &[call(1, 0), call(1, 1), call(2, 0)],
            Counters::default(),
            true,
        );
        let (evs, c, _) = read(&bytes, &FilterSpec::default());
        assert_eq!(evs.len(), 3);
        assert!(c.is_complete());
        assert_eq!(c.summary(None), "recorder: complete: 3 records");
    }

    #[test]
    fn sequence_gaps_make_it_incomplete() {
        let counters = Counters {
            ring_full: 2,
            ..Default::default()
        };
        // Thread 1 misses 1 and 2; thread 2 starts at 1, which is no gap:
        // a file may start in the middle of a recording (rotation).
        let bytes = log(&[call(1, 0), call(1, 3), call(2, 1)], counters, true);
        let (_, c, _) = read(&bytes, &FilterSpec::default());
        assert_eq!(c.gaps, 2);
        assert!(!c.is_complete());
        assert_eq!(
            c.summary(None),
            "recorder: INCOMPLETE: 3 records; LOST 2 (ring buffer full: 2, not written: 0, \
             stash full: 0); 2 records missing from per-thread sequences"
        );
    }

    #[test]
    fn exec_by_a_non_leader_continues_its_sequence_under_the_leader_id() {
        let exec = Event::Exec(ProcEvent {
            tgid: 1,
            tid: 1,
            aux: 2,
            ..Default::default()
        });
        let mut moved = call(1, 2);
        if let Event::Syscall(s) = &mut moved {
            s.tid = 1;
        }
        // Leader 1 made call 0; thread 2 made 0 and 1, exec'd, then its
        // execve (seq 2) is recorded under id 1.
        let bytes = log(
            &[call(1, 0), call(2, 0), call(2, 1), exec, moved],
            Counters::default(),
            true,
        );
        let (_, c, _) = read(&bytes, &FilterSpec::default());
        assert_eq!(c.gaps, 0);
    }

    #[test]
    fn cut_short_log_uses_the_last_checkpoint() {
        let bytes = log(&[call(1, 0)], Counters::default(), false);
        let (evs, c, _) = read(&bytes, &FilterSpec::default());
        assert_eq!(evs.len(), 1);
        assert!(matches!(c.end, EndState::NoTrailer { .. }));
        assert!(c.counters.is_some());
        assert!(
            c.summary(None)
                .starts_with("recorder: INCOMPLETE: 1 records; log ends at offset")
        );
    }

    #[test]
    fn filtered_summary_counts_what_was_shown() {
        let bytes = log(&[call(1, 0), call(2, 0)], Counters::default(), true);
        let spec = FilterSpec {
            pids: vec![2],
            ..Default::default()
        };
        let (evs, c, shown) = read(&bytes, &spec);
        assert_eq!(evs.len(), 1);
        assert_eq!(c.summary(shown), "recorder: complete: 2 records (1 shown)");
    }

    #[test]
    fn absurd_sequence_numbers_do_not_overflow() {
        let bytes = log(
            &[call(1, 0), call(1, u64::MAX), call(2, u64::MAX)],
            Counters::default(),
            true,
        );
        let (_, c, _) = read(&bytes, &FilterSpec::default());
        assert_eq!(c.gaps, u64::MAX - 2);
    }

    /// Regression: every rotated file but the first read as INCOMPLETE,
    /// because its threads' sequences do not start at 0.
    #[test]
    fn a_file_starting_mid_recording_is_complete() {
        let bytes = log(
            &[call(1, 500), call(1, 501), call(2, 7)],
            Counters::default(),
            true,
        );
        let (_, c, _) = read(&bytes, &FilterSpec::default());
        assert_eq!(c.gaps, 0);
        assert!(c.is_complete());
    }

    #[test]
    fn id_hasher_spreads_sequential_ids() {
        let hash = |v: u32| {
            let mut h = IdHasher::default();
            h.write_u32(v);
            h.finish()
        };
        assert_ne!(hash(1) >> 57, hash(2) >> 57);
    }
}
