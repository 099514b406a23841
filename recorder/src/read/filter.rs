//! Read filters, shared by `dump`, `stats` and `export`: which syscalls
//! (`-e`), which processes and threads (`--pid`, `--tid`, `--comm`), which
//! time range (`--since`, `--until`), and only failed calls (`--failed`).
//!
//! A [`FilterSpec`] is what the command line said, checked as far as it can
//! be without a log; [`Filter::new`] resolves it against a log's header
//! (syscall numbers of the recorded architecture, times on its clocks).
//!
//! Every given criterion must hold (AND); repeated values of one criterion
//! are alternatives (OR). `-e` and `--failed` are about syscalls: process
//! events (exec, fork, exit) and signals pass them, as strace still shows
//! `+++ exited +++` under `-e trace=open`; the process, thread and time
//! criteria apply to every event.

use super::tasks::Tasks;
use super::time::TimeSpec;
use crate::decode::{Arch, DecodeError, SyscallClass, syscall_nr};
use crate::event::{Event, Header};

/// One `-e` expression: `[trace=][!]ITEM[,ITEM...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceExpr {
    /// `!`: every syscall except the items.
    pub negated: bool,
    pub items: Vec<TraceItem>,
}

/// One item of a `-e` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceItem {
    /// A syscall name (`openat`).
    Name(String),
    /// `syscall_N`: a number without a name (as `dump` shows those).
    Number(i64),
    /// `%file`, `%network`, ...
    Class(SyscallClass),
    /// `all`.
    All,
    /// `none` (strace's `trace=none`): no syscall. With `recorder -e none`
    /// a log holds only process events (exec, fork, exit, signals).
    None,
}

impl std::fmt::Display for TraceItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TraceItem::Name(n) => f.write_str(n),
            TraceItem::Number(nr) => write!(f, "syscall_{nr}"),
            TraceItem::Class(c) => write!(f, "%{}", c.name()),
            TraceItem::All => f.write_str("all"),
            TraceItem::None => f.write_str("none"),
        }
    }
}

/// The expression in the form it parses from, without `trace=`
/// (`!read,%memory`): how a recording's header keeps it.
impl std::fmt::Display for TraceExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.negated {
            f.write_str("!")?;
        }
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

/// Parses an `-e` value (the clap value parser of `-e`).
pub fn parse_trace(s: &str) -> Result<TraceExpr, String> {
    let mut rest = s.trim();
    if let Some((qualifier, value)) = rest.split_once('=') {
        if qualifier != "trace" {
            return Err(format!(
                "{qualifier:?}: only trace= expressions are supported (e.g. -e trace=openat,%network)"
            ));
        }
        rest = value;
    }
    let negated = rest.starts_with('!');
    let rest = rest.trim_start_matches('!');
    let mut items = Vec::new();
    for word in rest.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        items.push(parse_item(word)?);
    }
    if items.is_empty() {
        return Err("empty syscall list (e.g. -e openat,read or -e %file)".into());
    }
    Ok(TraceExpr { negated, items })
}

fn parse_item(word: &str) -> Result<TraceItem, String> {
    if let Some(class) = word.strip_prefix('%') {
        return SyscallClass::from_name(class)
            .map(TraceItem::Class)
            .ok_or_else(|| {
                let known: Vec<String> = SyscallClass::ALL
                    .iter()
                    .map(|c| format!("%{}", c.name()))
                    .collect();
                format!(
                    "unknown syscall class {word:?} (known: {})",
                    known.join(" ")
                )
            });
    }
    match word {
        "all" => return Ok(TraceItem::All),
        "none" => return Ok(TraceItem::None),
        _ => {}
    }
    if let Some(n) = word.strip_prefix("syscall_")
        && let Ok(nr) = n.parse::<i64>()
    {
        return Ok(TraceItem::Number(nr));
    }
    if Arch::ALL.iter().any(|&a| syscall_nr(a, word).is_some()) {
        Ok(TraceItem::Name(word.to_owned()))
    } else {
        Err(format!("unknown syscall {word:?}"))
    }
}

/// The read filters as given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterSpec {
    /// `-e`: syscalls to keep (any expression matching).
    pub trace: Vec<TraceExpr>,
    /// `--pid`: processes (thread-group ids).
    pub pids: Vec<u32>,
    /// `--tid`: threads.
    pub tids: Vec<u32>,
    /// `--comm`: command names (compared as the kernel stores them: at most
    /// 15 bytes).
    pub comms: Vec<String>,
    pub since: Option<TimeSpec>,
    pub until: Option<TimeSpec>,
    /// `--failed`: only calls that returned an error.
    pub failed: bool,
}

/// A set of syscall numbers.
#[derive(Debug, Clone, Default)]
struct NrSet {
    /// Bit per number below [`NrSet::DENSE`].
    bits: Vec<u64>,
    /// Numbers beyond (only from `syscall_N`).
    others: Vec<i64>,
    /// `all`: every number.
    all: bool,
}

impl NrSet {
    const DENSE: i64 = 1024;

    /// The numbers `expr` names on `arch`; names `arch` lacks go to
    /// `missing`.
    fn resolve(expr: &TraceExpr, arch: Arch, missing: &mut Vec<String>) -> NrSet {
        let mut set = NrSet::default();
        for item in &expr.items {
            match item {
                TraceItem::All => set.all = true,
                TraceItem::None => {}
                TraceItem::Number(nr) => set.insert(*nr),
                TraceItem::Class(c) => c.numbers(arch).into_iter().for_each(|n| set.insert(n)),
                TraceItem::Name(n) => match syscall_nr(arch, n) {
                    Some(nr) => set.insert(nr),
                    None => missing.push(n.clone()),
                },
            }
        }
        set
    }

    fn insert(&mut self, nr: i64) {
        if (0..Self::DENSE).contains(&nr) {
            if self.bits.is_empty() {
                self.bits = vec![0; (Self::DENSE / 64) as usize];
            }
            self.bits[(nr / 64) as usize] |= 1 << (nr % 64);
        } else {
            self.others.push(nr);
        }
    }

    fn contains(&self, nr: i64) -> bool {
        if self.all {
            true
        } else if (0..Self::DENSE).contains(&nr) {
            self.bits
                .get((nr / 64) as usize)
                .is_some_and(|w| w & (1 << (nr % 64)) != 0)
        } else {
            self.others.contains(&nr)
        }
    }
}

/// The syscalls `recorder -e` records on `arch`: the numbers below
/// [`RECORDABLE_NRS`] that any of `exprs` keeps (as the readers' `-e`
/// would), ascending, and the names `arch` does not have. `None` without
/// `-e`: every call is recorded.
pub fn record_set(exprs: &[TraceExpr], arch: Arch) -> (Option<Vec<i64>>, Vec<String>) {
    if exprs.is_empty() {
        return (None, Vec::new());
    }
    let mut missing = Vec::new();
    let sets: Vec<(NrSet, bool)> = exprs
        .iter()
        .map(|e| (NrSet::resolve(e, arch, &mut missing), e.negated))
        .collect();
    let nrs = (0..RECORDABLE_NRS)
        .filter(|&nr| sets.iter().any(|(set, neg)| set.contains(nr) != *neg))
        .collect();
    (Some(nrs), missing)
}

/// Syscall numbers a recording's `-e` can select: `0..RECORDABLE_NRS`, the
/// kernel side's per-syscall tables (`recorder_common::CAPTURE_ENTRIES`;
/// both architectures' numbers end in the 460s). Calls with other numbers
/// (x32 calls on x86_64, invalid numbers) are not recorded under `-e`.
pub const RECORDABLE_NRS: i64 = NrSet::DENSE;

/// The read filters, resolved for one log.
#[derive(Debug, Clone)]
pub struct Filter {
    /// `(set, negated)` per `-e`; empty: every syscall.
    trace: Vec<(NrSet, bool)>,
    pids: Vec<u32>,
    tids: Vec<u32>,
    comms: Vec<Vec<u8>>,
    since: Option<u64>,
    until: Option<u64>,
    failed: bool,
    warnings: Vec<String>,
}

/// Longest command name the kernel keeps (TASK_COMM_LEN - 1).
const COMM_LEN: usize = 15;

impl Filter {
    /// Resolves `spec` against the log described by `header`.
    pub fn new(spec: &FilterSpec, header: &Header) -> Result<Filter, DecodeError> {
        let arch = Arch::from_name(&header.arch)
            .ok_or_else(|| DecodeError::UnknownArch(header.arch.clone()))?;
        let mut missing = Vec::new();
        let trace = spec
            .trace
            .iter()
            .map(|e| (NrSet::resolve(e, arch, &mut missing), e.negated))
            .collect();
        let warnings = missing
            .iter()
            .map(|n| {
                format!("-e {n}: {arch} has no such syscall, so it matches nothing in this log")
            })
            .collect();
        let comms = spec
            .comms
            .iter()
            .map(|c| c.as_bytes()[..c.len().min(COMM_LEN)].to_vec())
            .collect();
        Ok(Filter {
            trace,
            pids: spec.pids.clone(),
            tids: spec.tids.clone(),
            comms,
            since: spec.since.map(|t| t.to_mono(header)),
            until: spec.until.map(|t| t.to_mono(header)),
            failed: spec.failed,
            warnings,
        })
    }

    /// Keeps everything.
    pub fn is_empty(&self) -> bool {
        self.trace.is_empty()
            && self.pids.is_empty()
            && self.tids.is_empty()
            && self.comms.is_empty()
            && self.since.is_none()
            && self.until.is_none()
            && !self.failed
    }

    /// `--comm` was given: [`Filter::keep`] needs the names of threads, so
    /// the caller maintains [`Tasks`] (seeded by a first pass, see
    /// [`Tasks::seed_names`]).
    pub fn needs_names(&self) -> bool {
        !self.comms.is_empty()
    }

    /// At most one thread can pass (a single `--tid`).
    pub fn single_thread(&self) -> bool {
        self.tids.len() == 1
    }

    /// Things the user should know about the resolution (an `-e` name the
    /// log's architecture does not have).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether `ev` passes. `tasks` is only consulted for `--comm`.
    pub fn keep(&self, ev: &Event, tasks: &Tasks) -> bool {
        let (tgid, tid, ts) = match ev {
            Event::Syscall(s) => (s.tgid, s.tid, s.enter_ns),
            Event::Exec(p) | Event::Fork(p) | Event::Exit(p) => (p.tgid, p.tid, p.ts_ns),
            Event::Signal(s) => (s.tgid, s.tid, s.ts_ns),
            Event::Pause(p) => (p.tgid, p.tgid, p.start_ns),
            Event::Who(w) => (w.tgid, w.tid, w.ts_ns),
            Event::Counters(_) => return true,
        };
        if !self.pids.is_empty() && !self.pids.contains(&tgid) {
            return false;
        }
        if !self.tids.is_empty() && !self.tids.contains(&tid) {
            return false;
        }
        if self.since.is_some_and(|t| ts < t) || self.until.is_some_and(|t| ts > t) {
            return false;
        }
        if !self.comms.is_empty() {
            let comm = tasks.comm(tid, tgid).unwrap_or_default().as_bytes();
            if !self.comms.iter().any(|c| c.as_slice() == comm) {
                return false;
            }
        }
        let Event::Syscall(sc) = ev else {
            return true;
        };
        if self.failed && !sc.ret.is_some_and(|r| (-4095..=-1).contains(&r)) {
            return false;
        }
        self.trace.is_empty()
            || self
                .trace
                .iter()
                .any(|(set, neg)| set.contains(sc.nr) != *neg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ProcEvent, Syscall};

    fn header(arch: &str) -> Header {
        Header {
            arch: arch.into(),
            start_mono_ns: 1_000,
            ..Default::default()
        }
    }

    fn call(tgid: u32, tid: u32, nr: i64, ret: i64, ts: u64) -> Event {
        Event::Syscall(Syscall {
            tgid,
            tid,
            nr,
            ret: Some(ret),
            enter_ns: ts,
            exit_ns: Some(ts + 1),
            ..Default::default()
        })
    }

    fn spec(f: impl FnOnce(&mut FilterSpec)) -> Filter {
        let mut s = FilterSpec::default();
        f(&mut s);
        Filter::new(&s, &header("x86_64")).unwrap()
    }

    #[test]
    fn trace_expressions_parse() {
        let e = parse_trace("trace=openat,%file, read").unwrap();
        assert!(!e.negated);
        assert_eq!(
            e.items,
            [
                TraceItem::Name("openat".into()),
                TraceItem::Class(SyscallClass::File),
                TraceItem::Name("read".into())
            ]
        );
        assert!(parse_trace("!%memory").unwrap().negated);
        assert_eq!(
            parse_trace("syscall_999").unwrap().items,
            [TraceItem::Number(999)]
        );
        // Names of either architecture are accepted before the log is known.
        assert!(parse_trace("open").is_ok());
        let err = parse_trace("opne").unwrap_err();
        assert!(err.contains("unknown syscall \"opne\""), "{err}");
        let err = parse_trace("%files").unwrap_err();
        assert!(err.contains("%file %desc %network"), "{err}");
        assert!(
            parse_trace("signal=SIGSEGV")
                .unwrap_err()
                .contains("only trace=")
        );
        assert!(parse_trace("").is_err());
        assert!(parse_trace("trace=").is_err());
    }

    /// An expression prints as it parses (without `trace=`): how a
    /// recording's header keeps it.
    #[test]
    fn trace_expressions_print_as_they_parse() {
        for text in [
            "openat,%process",
            "!read,syscall_999",
            "none",
            "all",
            "%network",
        ] {
            let e = parse_trace(text).unwrap();
            assert_eq!(e.to_string(), text);
            assert_eq!(parse_trace(&e.to_string()).unwrap(), e);
        }
        assert_eq!(
            parse_trace("trace=%net, read").unwrap().to_string(),
            "%network,read"
        );
        assert_eq!(parse_trace("none").unwrap().items, [TraceItem::None]);
    }

    /// What `recorder -e` records: the readers' meaning, over the numbers
    /// the kernel's table has room for.
    #[test]
    fn record_sets() {
        let set = |exprs: &[&str], arch| {
            let e: Vec<TraceExpr> = exprs.iter().map(|x| parse_trace(x).unwrap()).collect();
            record_set(&e, arch)
        };
        assert_eq!(set(&[], Arch::X86_64), (None, vec![]));
        assert_eq!(set(&["openat"], Arch::X86_64), (Some(vec![257]), vec![]));
        assert_eq!(set(&["openat"], Arch::Aarch64), (Some(vec![56]), vec![]));
        let (nrs, missing) = set(&["open,read"], Arch::Aarch64);
        assert_eq!((nrs, missing), (Some(vec![63]), vec!["open".to_owned()]));
        assert_eq!(set(&["none"], Arch::X86_64), (Some(vec![]), vec![]));
        // Several `-e`: any of them.
        let (nrs, _) = set(&["openat", "%process"], Arch::X86_64);
        let nrs = nrs.unwrap();
        assert!(nrs.contains(&257) && nrs.contains(&59) && nrs.contains(&56));
        assert!(nrs.windows(2).all(|w| w[0] < w[1]), "ascending");
        // `!`: all numbers of the table but those, named or not.
        let (nrs, _) = set(&["!read,%memory"], Arch::X86_64);
        let nrs = nrs.unwrap();
        assert!(!nrs.contains(&0) && !nrs.contains(&9), "read, mmap");
        assert!(nrs.contains(&1) && nrs.contains(&1023));
        assert_eq!(
            nrs.len(),
            RECORDABLE_NRS as usize - 1 - SyscallClass::Memory.numbers(Arch::X86_64).len()
        );
        // The class is what the readers' `-e %process` keeps.
        let (nrs, _) = set(&["%process"], Arch::Aarch64);
        assert_eq!(nrs.unwrap(), SyscallClass::Process.numbers(Arch::Aarch64));
        // And the readers' `-e none` keeps no call, `!none` every one.
        let f = spec(|s| s.trace = vec![parse_trace("none").unwrap()]);
        assert!(!f.keep(&call(1, 1, 257, 3, 5), &Tasks::default()));
        let f = spec(|s| s.trace = vec![parse_trace("!none").unwrap()]);
        assert!(f.keep(&call(1, 1, 257, 3, 5), &Tasks::default()));
    }

    #[test]
    fn syscall_selection() {
        let f = spec(|s| s.trace = vec![parse_trace("openat,%network").unwrap()]);
        assert!(f.keep(&call(1, 1, 257, 3, 5), &Tasks::default()));
        assert!(f.keep(&call(1, 1, 42, 0, 5), &Tasks::default()), "connect");
        assert!(!f.keep(&call(1, 1, 0, 3, 5), &Tasks::default()), "read");
        let exit = Event::Exit(ProcEvent {
            tgid: 1,
            tid: 1,
            ..Default::default()
        });
        assert!(f.keep(&exit, &Tasks::default()), "process events pass -e");
        let f = spec(|s| s.trace = vec![parse_trace("!read").unwrap()]);
        assert!(!f.keep(&call(1, 1, 0, 3, 5), &Tasks::default()));
        assert!(f.keep(&call(1, 1, 999, 0, 5), &Tasks::default()));
        let f = spec(|s| s.trace = vec![parse_trace("syscall_999").unwrap()]);
        assert!(f.keep(&call(1, 1, 999, 0, 5), &Tasks::default()));
        assert!(!f.keep(&call(1, 1, 0, 0, 5), &Tasks::default()));
    }

    #[test]
    fn names_resolve_per_architecture() {
        let s = FilterSpec {
            trace: vec![parse_trace("openat,open").unwrap()],
            ..Default::default()
        };
        let f = Filter::new(&s, &header("aarch64")).unwrap();
        assert!(
            f.keep(&call(1, 1, 56, 3, 5), &Tasks::default()),
            "openat is 56"
        );
        assert!(!f.keep(&call(1, 1, 257, 3, 5), &Tasks::default()));
        assert_eq!(f.warnings().len(), 1, "open does not exist on aarch64");
        assert!(Filter::new(&s, &header("sparc")).is_err());
    }

    #[test]
    fn processes_threads_times_and_failures() {
        let t = Tasks::default();
        let f = spec(|s| s.pids = vec![7, 8]);
        assert!(f.keep(&call(7, 9, 0, 0, 5), &t));
        assert!(!f.keep(&call(6, 7, 0, 0, 5), &t));
        let f = spec(|s| {
            s.pids = vec![7];
            s.tids = vec![9];
        });
        assert!(f.keep(&call(7, 9, 0, 0, 5), &t));
        assert!(!f.keep(&call(7, 7, 0, 0, 5), &t), "both must hold");
        assert!(f.single_thread());
        let f = spec(|s| {
            s.since = Some(TimeSpec::Relative(10));
            s.until = Some(TimeSpec::Relative(20));
        });
        assert!(!f.keep(&call(1, 1, 0, 0, 1_009), &t));
        assert!(f.keep(&call(1, 1, 0, 0, 1_010), &t));
        assert!(f.keep(&call(1, 1, 0, 0, 1_020), &t));
        assert!(!f.keep(&call(1, 1, 0, 0, 1_021), &t));
        let f = spec(|s| s.failed = true);
        assert!(f.keep(&call(1, 1, 0, -2, 5), &t));
        assert!(!f.keep(&call(1, 1, 0, 0, 5), &t));
        assert!(
            !f.keep(&call(1, 1, 9, -4096, 5), &t),
            "an address, not an error"
        );
        assert!(spec(|_| {}).is_empty());
    }

    #[test]
    fn command_names() {
        let mut t = Tasks::default();
        let f = spec(|s| s.comms = vec!["a-very-long-process-name".into()]);
        assert!(f.needs_names());
        let exec = Event::Exec(ProcEvent {
            tgid: 5,
            tid: 5,
            comm: "a-very-long-pro".into(),
            ..Default::default()
        });
        t.observe(&exec);
        assert!(f.keep(&exec, &t), "compared at the kernel's 15 bytes");
        assert!(f.keep(&call(5, 5, 0, 0, 5), &t));
        assert!(!f.keep(&call(6, 6, 0, 0, 5), &t), "name unknown");
    }
}
