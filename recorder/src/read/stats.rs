//! `recorder stats`: where the time and the errors went, like `strace -c`
//! and more. Per syscall: calls, errors (by errno), total and mean time,
//! p50/p99/max latency; the same per process; and the slowest individual
//! calls, shown as `dump` shows them.
//!
//! Streaming, in memory bounded by the number of distinct syscalls and
//! processes: latencies go into log-linear histograms (128 buckets per
//! power of two, so a percentile is within 0.4% of the exact value; the
//! maximum is exact), and only the slowest calls themselves are kept.
//!
//! Time of a call is exit minus entry. Calls that never returned (`exit`,
//! `exit_group`, or a thread that died inside a call) count as calls but
//! have no time. Errors are returns in `-4095..=-1`.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use serde::Serialize;

use super::info::plural;
use super::{Completeness, Events, FilterSpec, ReadError, Tasks};
use crate::decode::{Arch, DecodeError, Formatter, ShowTid, errno_name, syscall_name};
use crate::event::{Event, Header, Syscall};

/// Sub-buckets per power of two: the relative width of a bucket is at most
/// 1/128.
const SUB: u64 = 128;

/// Values kept exactly per histogram: up to this many calls, percentiles
/// are exact (small logs, rare syscalls); beyond, the buckets answer.
const EXACT: usize = 64;

/// Latency histogram: bucket index -> count. Values below `2 * SUB` ns
/// have a bucket each; above, a power of two is split into `SUB` buckets.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    buckets: BTreeMap<u16, u64>,
    count: u64,
    /// Every value, while there are at most [`EXACT`].
    exact: Vec<u64>,
}

impl Histogram {
    fn index(v: u64) -> u16 {
        if v < 2 * SUB {
            return v as u16;
        }
        // shift >= 1; v >> shift is in [SUB, 2 * SUB).
        let shift = u64::from(63 - v.leading_zeros()) - SUB.trailing_zeros() as u64;
        (shift * SUB + (v >> shift)) as u16
    }

    /// The middle of bucket `i`.
    fn value(i: u16) -> u64 {
        let i = u64::from(i);
        if i < 2 * SUB {
            return i;
        }
        let shift = i / SUB - 1;
        let low = (i - shift * SUB) << shift;
        low + ((1u64 << shift) - 1) / 2
    }

    pub fn add(&mut self, v: u64) {
        *self.buckets.entry(Self::index(v)).or_default() += 1;
        self.count += 1;
        if self.count <= EXACT as u64 {
            self.exact.push(v);
        } else if !self.exact.is_empty() {
            self.exact = Vec::new();
        }
    }

    /// Counts by power of two: `(k, n)` means `n` values in
    /// `[2^(k-1), 2^k)` (`k = 0`: the value 0), ascending, empty buckets
    /// left out. Exact: a bucket never straddles a power of two.
    pub fn log2_counts(&self) -> Vec<(u32, u64)> {
        let mut out: Vec<(u32, u64)> = Vec::new();
        for (&i, &n) in &self.buckets {
            let k = 64 - Self::value(i).leading_zeros();
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 += n,
                _ => out.push((k, n)),
            }
        }
        out
    }

    /// The `p`-th percentile (nearest rank), `None` when empty.
    pub fn percentile(&self, p: u64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = (self.count * p).div_ceil(100).max(1);
        if self.exact.len() as u64 == self.count {
            let mut v = self.exact.clone();
            v.sort_unstable();
            return v.get(rank as usize - 1).copied();
        }
        let mut seen = 0;
        for (&i, &n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return Some(Self::value(i));
            }
        }
        None
    }
}

/// Totals for one syscall, one process, or everything.
#[derive(Debug, Clone, Default)]
pub struct Agg {
    pub calls: u64,
    pub errors: u64,
    /// errno (positive) -> count.
    pub errnos: BTreeMap<i64, u64>,
    /// Calls without a return (no time).
    pub unfinished: u64,
    pub total_ns: u64,
    /// Shortest time (meaningful when a call had a time).
    pub min_ns: u64,
    pub max_ns: u64,
    pub hist: Histogram,
}

impl Agg {
    /// A call of a lean log (no duration): counted, never timed.
    fn add_untimed(&mut self, sc: &Syscall) {
        self.calls += 1;
        match sc.ret {
            Some(r) if (-4095..=-1).contains(&r) => {
                self.errors += 1;
                *self.errnos.entry(-r).or_default() += 1;
            }
            Some(_) => {}
            None => self.unfinished += 1,
        }
    }

    fn add(&mut self, sc: &Syscall) {
        self.calls += 1;
        if let Some(r) = sc.ret
            && (-4095..=-1).contains(&r)
        {
            self.errors += 1;
            *self.errnos.entry(-r).or_default() += 1;
        }
        match sc.exit_ns {
            Some(x) if sc.ret.is_some() => {
                let d = x.saturating_sub(sc.enter_ns);
                self.total_ns = self.total_ns.saturating_add(d);
                self.min_ns = if self.timed() == 0 {
                    d
                } else {
                    self.min_ns.min(d)
                };
                self.max_ns = self.max_ns.max(d);
                self.hist.add(d);
            }
            _ => self.unfinished += 1,
        }
    }

    /// Calls with a time.
    fn timed(&self) -> u64 {
        self.hist.count
    }

    fn mean_ns(&self) -> Option<u64> {
        (self.timed() > 0).then(|| self.total_ns / self.timed())
    }

    /// The `p`-th percentile of the times. The middle of a histogram bucket
    /// may lie outside the values in it: never beyond the extremes, and the
    /// maximum itself (exact) when the rank is the last (p99 of fewer than
    /// 100 calls).
    fn percentile(&self, p: u64) -> Option<u64> {
        let v = self.hist.percentile(p)?;
        if (self.timed() * p).div_ceil(100) >= self.timed() {
            return Some(self.max_ns);
        }
        Some(v.clamp(self.min_ns, self.max_ns))
    }
}

/// The duration of a call, for ranking the slowest.
pub(crate) fn duration(sc: &Syscall) -> Option<u64> {
    Some(sc.exit_ns?.saturating_sub(sc.enter_ns)).filter(|_| sc.ret.is_some())
}

/// Gathers the statistics of a stream of syscalls.
#[derive(Debug, Clone)]
pub struct Collector {
    arch: Arch,
    per_nr: BTreeMap<i64, Agg>,
    per_pid: BTreeMap<u32, Agg>,
    total: Agg,
    /// The slowest calls, slowest first, at most `top`.
    slowest: Vec<Syscall>,
    top: usize,
    threads: BTreeMap<u32, ThreadClock>,
    span: Option<(u64, u64)>,
    /// False for a lean log (`Header::lean`): its calls have no durations.
    timed: bool,
}

/// Where one thread's time went: inside its calls, and between the exit of
/// one call and the entry of its next (user time and waiting off the CPU
/// together: the log cannot split them).
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadClock {
    pid: u32,
    calls: u64,
    pub in_calls_ns: u64,
    pub between_ns: u64,
    /// Exit of the previous call; `None` before the first and after a call
    /// that never returned.
    last_exit: Option<u64>,
}

impl ThreadClock {
    pub fn add(&mut self, sc: &Syscall) {
        self.pid = sc.tgid;
        self.calls += 1;
        if let Some(last) = self.last_exit {
            self.between_ns = self
                .between_ns
                .saturating_add(sc.enter_ns.saturating_sub(last));
        }
        let d = duration(sc);
        self.in_calls_ns = self.in_calls_ns.saturating_add(d.unwrap_or(0));
        self.last_exit = d.map(|d| sc.enter_ns + d);
    }
}

/// Time in calls and between them, for a thread or a process
/// (`stats --json` `time_split`).
#[derive(Debug, Clone, Serialize)]
pub struct TimeSplit {
    pub pid: u32,
    /// `None` on a process's line (all its threads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tid: Option<u32>,
    pub name: String,
    pub calls: u64,
    pub in_calls_ns: u64,
    pub between_calls_ns: u64,
}

impl Collector {
    /// Keeps the `top` slowest calls.
    pub fn new(arch: Arch, top: usize) -> Self {
        Collector {
            arch,
            per_nr: BTreeMap::new(),
            per_pid: BTreeMap::new(),
            total: Agg::default(),
            slowest: Vec::new(),
            top,
            threads: Default::default(),
            span: None,
            timed: true,
        }
    }

    /// For a log with or without durations (`!Header::lean`): without, the
    /// calls are counted and nothing is timed, so no column shows a zero
    /// that was never measured.
    pub fn durations(mut self, timed: bool) -> Self {
        self.timed = timed;
        self
    }

    pub fn add(&mut self, sc: &Syscall) {
        self.span = Some(match self.span {
            None => (sc.enter_ns, sc.enter_ns),
            Some((a, b)) => (a.min(sc.enter_ns), b.max(sc.enter_ns)),
        });
        if !self.timed {
            self.per_nr.entry(sc.nr).or_default().add_untimed(sc);
            self.per_pid.entry(sc.tgid).or_default().add_untimed(sc);
            self.total.add_untimed(sc);
            self.threads.entry(sc.tid).or_default().pid = sc.tgid;
            return;
        }
        self.per_nr.entry(sc.nr).or_default().add(sc);
        self.per_pid.entry(sc.tgid).or_default().add(sc);
        self.total.add(sc);
        self.threads.entry(sc.tid).or_default().add(sc);
        if duration(sc).is_none() {
            return;
        }
        // Slowest first; among equals the earlier call first, so the
        // ranking does not depend on anything but the log.
        let key = |s: &Syscall| {
            (
                std::cmp::Reverse(duration(s).unwrap_or(0)),
                s.enter_ns,
                s.tid,
                s.seq,
            )
        };
        if self.slowest.len() == self.top
            && self.slowest.last().is_none_or(|last| key(sc) >= key(last))
        {
            return;
        }
        let at = self.slowest.partition_point(|s| key(s) <= key(sc));
        if at < self.top {
            self.slowest.insert(at, sc.clone());
            self.slowest.truncate(self.top);
        }
    }

    fn name(&self, nr: i64) -> String {
        syscall_name(self.arch, nr).map_or_else(|| format!("syscall_{nr}"), str::to_owned)
    }

    /// The report, with process names from `tasks`.
    pub fn report(&self, header: &Header, tasks: &Tasks, completeness: &Completeness) -> Report {
        let mut fmt = Formatter::new(header).ok();
        let mut syscalls: Vec<Row> = self
            .per_nr
            .iter()
            .map(|(&nr, a)| Row::new(self.name(nr), Some(nr), None, a, self.total.total_ns))
            .collect();
        // By total time, then calls, then name: the strace -c order.
        syscalls
            .sort_by(|a, b| (b.total_ns, b.calls, &a.name).cmp(&(a.total_ns, a.calls, &b.name)));
        let mut processes: Vec<Row> = self
            .per_pid
            .iter()
            .map(|(&pid, a)| {
                let name = tasks.process_name(pid).unwrap_or("?").to_owned();
                Row::new(name, None, Some(pid), a, self.total.total_ns)
            })
            .collect();
        processes.sort_by(|a, b| (b.total_ns, a.pid).cmp(&(a.total_ns, b.pid)));
        let slowest = self
            .slowest
            .iter()
            .map(|sc| {
                let ev = Event::Syscall(sc.clone());
                let json = fmt
                    .as_mut()
                    .map(|f| f.render_json(&ev).to_vec())
                    .unwrap_or_default();
                serde_json::from_slice(&json).unwrap_or(serde_json::Value::Null)
            })
            .collect();
        Report {
            arch: self.arch.name(),
            durations: self.timed,
            calls: self.total.calls,
            errors: self.total.errors,
            unfinished: self.total.unfinished,
            total_ns: self.total.total_ns,
            processes_seen: self.per_pid.len(),
            threads_seen: self.threads.len(),
            first_ns: self.span.map(|s| s.0),
            last_ns: self.span.map(|s| s.1),
            total: Row::new("total".into(), None, None, &self.total, self.total.total_ns),
            syscalls,
            processes,
            slowest,
            time_split: if self.timed {
                self.time_split(tasks)
            } else {
                Vec::new()
            },
            completeness: CompletenessReport::from(completeness),
        }
    }

    /// The latency histogram of syscall `nr`, if it was called.
    pub fn histogram(&self, nr: i64) -> Option<&Histogram> {
        self.per_nr.get(&nr).map(|a| &a.hist)
    }

    /// Per process, then each of its threads.
    fn time_split(&self, tasks: &Tasks) -> Vec<TimeSplit> {
        let mut out: Vec<TimeSplit> = Vec::new();
        for &pid in self.per_pid.keys() {
            let name = tasks.process_name(pid).unwrap_or("?").to_owned();
            let mut total = TimeSplit {
                pid,
                tid: None,
                name,
                calls: 0,
                in_calls_ns: 0,
                between_calls_ns: 0,
            };
            let at = out.len();
            for (&tid, t) in self.threads.iter().filter(|(_, t)| t.pid == pid) {
                total.calls += t.calls;
                total.in_calls_ns = total.in_calls_ns.saturating_add(t.in_calls_ns);
                total.between_calls_ns = total.between_calls_ns.saturating_add(t.between_ns);
                out.push(TimeSplit {
                    pid,
                    tid: Some(tid),
                    name: tasks.comm(tid, pid).unwrap_or("?").to_owned(),
                    calls: t.calls,
                    in_calls_ns: t.in_calls_ns,
                    between_calls_ns: t.between_ns,
                });
            }
            out.insert(at, total);
        }
        out
    }

    /// The slowest calls kept, slowest first.
    pub fn slowest(&self) -> &[Syscall] {
        &self.slowest
    }
}

/// One line of a table (a syscall, a process, or the total).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nr: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    pub calls: u64,
    pub errors: u64,
    /// errno name -> count (`errno_N` for numbers without a name).
    pub errnos: BTreeMap<String, u64>,
    pub unfinished: u64,
    pub total_ns: u64,
    /// Share of all the time, in hundredths of a percent (integer, so the
    /// JSON never carries a rounded float).
    pub time_share_bp: u64,
    pub mean_ns: Option<u64>,
    pub p50_ns: Option<u64>,
    pub p99_ns: Option<u64>,
    pub max_ns: Option<u64>,
}

impl Row {
    fn new(name: String, nr: Option<i64>, pid: Option<u32>, a: &Agg, all_ns: u64) -> Row {
        let timed = a.timed() > 0;
        Row {
            name,
            nr,
            pid,
            calls: a.calls,
            errors: a.errors,
            errnos: a
                .errnos
                .iter()
                .map(|(&e, &n)| {
                    let name =
                        errno_name(e).map_or_else(|| format!("errno_{e}"), |(n, _)| n.to_owned());
                    (name, n)
                })
                .collect(),
            unfinished: a.unfinished,
            total_ns: a.total_ns,
            time_share_bp: if all_ns == 0 {
                0
            } else {
                (u128::from(a.total_ns) * 10_000 / u128::from(all_ns)) as u64
            },
            mean_ns: a.mean_ns(),
            p50_ns: a.percentile(50),
            p99_ns: a.percentile(99),
            max_ns: timed.then_some(a.max_ns),
        }
    }
}

/// The completeness verdict, for the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct CompletenessReport {
    pub complete: bool,
    pub records: u64,
    pub gaps: u64,
    pub lost: Option<u64>,
    pub notes: Vec<String>,
}

impl From<&Completeness> for CompletenessReport {
    fn from(c: &Completeness) -> Self {
        CompletenessReport {
            complete: c.is_complete(),
            records: c.records,
            gaps: c.gaps,
            lost: c.counters.as_ref().map(|c| c.lost()),
            notes: c.notes(),
        }
    }
}

/// Everything `stats` shows; its JSON form is `stats --json`
/// (docs/json-output.md).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub arch: &'static str,
    /// False for a lean log: no call has a duration, so every time field
    /// is 0 or null and `time_split` is empty.
    pub durations: bool,
    pub calls: u64,
    pub errors: u64,
    pub unfinished: u64,
    pub total_ns: u64,
    pub processes_seen: usize,
    pub threads_seen: usize,
    /// Entry time of the first and last call counted (CLOCK_MONOTONIC ns).
    pub first_ns: Option<u64>,
    pub last_ns: Option<u64>,
    pub total: Row,
    pub syscalls: Vec<Row>,
    pub processes: Vec<Row>,
    /// The slowest calls, in `dump --json` form.
    pub slowest: Vec<serde_json::Value>,
    /// Per process and thread: time in calls and between them.
    pub time_split: Vec<TimeSplit>,
    pub completeness: CompletenessReport,
}

/// `12.345` microseconds from nanoseconds (exact, no float).
fn us(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

/// `0.000123` seconds from nanoseconds.
fn secs6(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, ns % 1_000_000_000 / 1000)
}

fn opt_us(ns: Option<u64>) -> String {
    ns.map_or_else(|| "-".into(), us)
}

/// `45.10` from hundredths of a percent.
fn percent(bp: u64) -> String {
    format!("{}.{:02}", bp / 100, bp % 100)
}

/// What a lean log shows instead of times.
pub const NO_DURATIONS: &str = "no durations (lean mode)";

/// Writes one table: `label` heads the name column; without `durations`
/// (a lean log) only the counts, and [`NO_DURATIONS`] where the times were.
fn table(
    out: &mut dyn Write,
    label: &str,
    rows: &[Row],
    total: Option<&Row>,
    durations: bool,
) -> std::io::Result<()> {
    let width = rows
        .iter()
        .chain(total)
        .map(|r| r.name.len() + r.pid.map_or(0, |p| p.to_string().len() + 1))
        .max()
        .unwrap_or(0)
        .max(label.len());
    if !durations {
        return counts_table(out, label, width, rows, total);
    }
    writeln!(
        out,
        "{label:<width$} {:>9} {:>7} {:>12} {:>7} {:>11} {:>11} {:>11} {:>11}",
        "calls", "errors", "total s", "time %", "mean us", "p50 us", "p99 us", "max us"
    )?;
    let line = |out: &mut dyn Write, r: &Row| {
        let name = match r.pid {
            Some(p) => format!("{p} {}", r.name),
            None => r.name.clone(),
        };
        writeln!(
            out,
            "{name:<width$} {:>9} {:>7} {:>12} {:>7} {:>11} {:>11} {:>11} {:>11}",
            r.calls,
            r.errors,
            secs6(r.total_ns),
            percent(r.time_share_bp),
            opt_us(r.mean_ns),
            opt_us(r.p50_ns),
            opt_us(r.p99_ns),
            opt_us(r.max_ns),
        )
    };
    for r in rows {
        line(out, r)?;
    }
    if let Some(t) = total {
        writeln!(out, "{}", "-".repeat(width + 85))?;
        line(out, t)?;
    }
    Ok(())
}

/// [`table`] of a lean log.
fn counts_table(
    out: &mut dyn Write,
    label: &str,
    width: usize,
    rows: &[Row],
    total: Option<&Row>,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{label:<width$} {:>9} {:>7}  {NO_DURATIONS}",
        "calls", "errors"
    )?;
    let line = |out: &mut dyn Write, r: &Row| {
        let name = match r.pid {
            Some(p) => format!("{p} {}", r.name),
            None => r.name.clone(),
        };
        writeln!(out, "{name:<width$} {:>9} {:>7}", r.calls, r.errors)
    };
    for r in rows {
        line(out, r)?;
    }
    if let Some(t) = total {
        writeln!(out, "{}", "-".repeat(width + 18))?;
        line(out, t)?;
    }
    Ok(())
}

impl Report {
    fn write_time_split(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "time in calls and between them (between: user time and waiting off the CPU, which the log cannot split):"
        )?;
        writeln!(
            out,
            "  {:>7} {:>7} {:<16} {:>9} {:>12} {:>12}",
            "pid", "tid", "name", "calls", "in calls s", "between s"
        )?;
        for t in &self.time_split {
            let tid = t.tid.map_or_else(|| "all".to_owned(), |t| t.to_string());
            writeln!(
                out,
                "  {:>7} {tid:>7} {:<16} {:>9} {:>12} {:>12}",
                t.pid,
                t.name,
                t.calls,
                secs6(t.in_calls_ns),
                secs6(t.between_calls_ns)
            )?;
        }
        Ok(())
    }

    /// The text form.
    pub fn write_text(
        &self,
        out: &mut dyn Write,
        header: &Header,
        slowest: &[Syscall],
    ) -> Result<(), ReadError> {
        let span = match (self.first_ns, self.last_ns) {
            (Some(a), Some(b)) => format!(
                ", {} s from the first call to the last",
                super::time::secs9(b - a)
            ),
            _ => String::new(),
        };
        writeln!(
            out,
            "{} ({} failed, {} without return) in {}, {}{span} ({} log)",
            plural(self.calls, "call"),
            self.errors,
            self.unfinished,
            plural(self.processes_seen as u64, "process"),
            plural(self.threads_seen as u64, "thread"),
            self.arch,
        )?;
        writeln!(out)?;
        table(
            out,
            "syscall",
            &self.syscalls,
            Some(&self.total),
            self.durations,
        )?;
        let failing: Vec<&Row> = self.syscalls.iter().filter(|r| r.errors > 0).collect();
        if !failing.is_empty() {
            writeln!(out)?;
            writeln!(out, "errors:")?;
            let width = failing.iter().map(|r| r.name.len()).max().unwrap_or(0);
            for r in failing {
                let mut by_count: Vec<(&String, &u64)> = r.errnos.iter().collect();
                by_count.sort_by(|a, b| (b.1, a.0).cmp(&(a.1, b.0)));
                let list: Vec<String> = by_count.iter().map(|(e, n)| format!("{e} {n}")).collect();
                writeln!(out, "  {:<width$} {}", r.name, list.join(", "))?;
            }
        }
        writeln!(out)?;
        table(out, "process", &self.processes, None, self.durations)?;
        if self.durations {
            self.write_time_split(out)?;
        }
        if !slowest.is_empty() {
            writeln!(out)?;
            writeln!(out, "slowest calls:")?;
            let mut fmt = Formatter::new(header)?;
            fmt.show_tid = ShowTid::Always;
            fmt.show_duration = true;
            fmt.max_str = 32;
            for sc in slowest {
                out.write_all(b"  ")?;
                out.write_all(fmt.render_text(&Event::Syscall(sc.clone())))?;
            }
        }
        Ok(())
    }
}

/// `recorder stats`: reads `path` (`-`: standard input) through `spec`,
/// writes the report to `out` (text, or JSON with `json`) and the
/// completeness summary to `err`. A log damaged part-way reports on
/// everything before the damage, then fails with the damage's offset and
/// reason.
pub fn run(
    path: &std::path::Path,
    spec: &FilterSpec,
    top: usize,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), ReadError> {
    if super::is_stdin(path) {
        let input = std::io::BufReader::with_capacity(1 << 20, std::io::stdin().lock());
        let events = Events::from_reader(input, path, spec)?;
        return run_on(events, path, top, json, out, err);
    }
    run_on(Events::open(path, spec)?, path, top, json, out, err)
}

/// [`run`] on a log opened either way.
fn run_on<R: Read>(
    events: Events<R>,
    path: &std::path::Path,
    top: usize,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), ReadError> {
    let mut events = events.with_tasks();
    events.write_warnings(err)?;
    let header = events.header().clone();
    let arch = Arch::from_name(&header.arch)
        .ok_or_else(|| DecodeError::UnknownArch(header.arch.clone()))?;
    let (collector, res) = collect(&mut events, arch, top);
    let report = collector.report(&header, events.tasks(), &events.completeness());
    if json {
        serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        report.write_text(out, &header, collector.slowest())?;
    }
    out.flush()?;
    writeln!(err, "{}", events.summary())?;
    ReadError::stopped(path, res)
}

/// Feeds every kept syscall of `events` to a collector; the error, if
/// reading stopped at damage.
pub fn collect<R: Read>(
    events: &mut Events<R>,
    arch: Arch,
    top: usize,
) -> (Collector, Result<(), crate::log::LogError>) {
    let mut c = Collector::new(arch, top).durations(!events.header().lean);
    loop {
        match events.next_event() {
            Ok(Some(Event::Syscall(sc))) => c.add(&sc),
            Ok(Some(_)) => {}
            Ok(None) => return (c, Ok(())),
            Err(e) => return (c, Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sc(nr: i64, tgid: u32, ret: i64, enter: u64, dur: u64) -> Syscall {
        Syscall {
            tgid,
            tid: tgid,
            nr,
            ret: Some(ret),
            enter_ns: enter,
            exit_ns: Some(enter + dur),
            ..Default::default()
        }
    }

    #[test]
    fn histogram_percentiles_are_close() {
        let mut h = Histogram::default();
        for v in (1..=10_000u64).rev() {
            h.add(v * 37);
        }
        for p in [50, 90, 99] {
            let exact = (10_000u64 * p).div_ceil(100) * 37;
            let got = h.percentile(p).unwrap();
            let err = got.abs_diff(exact) as f64 / exact as f64;
            assert!(err < 0.005, "p{p}: {got} vs {exact}");
        }
        assert_eq!(Histogram::default().percentile(50), None);
        // Few values are exact.
        let mut h = Histogram::default();
        [900_001, 5, 700_003].iter().for_each(|&v| h.add(v));
        assert_eq!(h.percentile(50), Some(700_003));
        assert_eq!(h.percentile(99), Some(900_001));
        assert_eq!(h.percentile(1), Some(5));
        // Every bucket's value lies in the bucket.
        for v in [0, 255, 256, 257, 1_000_000, u64::MAX / 3, u64::MAX] {
            let i = Histogram::index(v);
            assert_eq!(Histogram::index(Histogram::value(i)), i, "{v}");
        }
    }

    #[test]
    fn aggregates_errors_times_and_the_slowest() {
        let mut c = Collector::new(Arch::X86_64, 2);
        c.add(&sc(257, 1, 3, 100, 50));
        c.add(&sc(257, 1, -2, 200, 10));
        c.add(&sc(257, 2, -2, 300, 10));
        c.add(&sc(0, 2, 5, 400, 500));
        let mut exit = sc(231, 2, 0, 1000, 0);
        exit.ret = None;
        exit.exit_ns = None;
        c.add(&exit);
        let h = Header {
            arch: "x86_64".into(),
            ..Default::default()
        };
        let comp = Completeness {
            records: 5,
            counters: None,
            end: crate::log::EndState::Clean,
            gaps: 0,
            skipped: Default::default(),
            pauses: Default::default(),
        };
        let r = c.report(&h, &Tasks::default(), &comp);
        assert_eq!((r.calls, r.errors, r.unfinished), (5, 2, 1));
        assert_eq!(r.syscalls[0].name, "read", "most time first");
        let openat = &r.syscalls[1];
        assert_eq!((openat.calls, openat.errors), (3, 2));
        assert_eq!(openat.errnos.get("ENOENT"), Some(&2));
        assert_eq!(openat.max_ns, Some(50));
        assert_eq!(openat.mean_ns, Some(23));
        assert_eq!(openat.time_share_bp, 70 * 10_000 / 570);
        let exit_row = r.syscalls.iter().find(|r| r.name == "exit_group").unwrap();
        assert_eq!((exit_row.unfinished, exit_row.mean_ns), (1, None));
        assert_eq!(r.processes.len(), 2);
        let durations: Vec<u64> = c.slowest().iter().map(|s| duration(s).unwrap()).collect();
        assert_eq!(durations, [500, 50]);
    }

    #[test]
    fn slowest_ties_keep_the_earliest() {
        let mut c = Collector::new(Arch::X86_64, 2);
        for i in 0..5 {
            c.add(&sc(0, 1, 0, 100 - i, 7));
        }
        let starts: Vec<u64> = c.slowest().iter().map(|s| s.enter_ns).collect();
        assert_eq!(starts, [96, 97]);
        let mut none = Collector::new(Arch::X86_64, 0);
        none.add(&sc(0, 1, 0, 1, 1));
        assert!(none.slowest().is_empty());
    }
}

#[cfg(test)]
mod time_split_tests {
    use super::*;

    fn call(tid: u32, enter: u64, exit: Option<u64>) -> Syscall {
        Syscall {
            tgid: 1,
            tid,
            nr: 39,
            ret: exit.map(|_| 0),
            enter_ns: enter,
            exit_ns: exit,
            ..Default::default()
        }
    }

    #[test]
    fn time_between_calls_is_per_thread_from_exit_to_next_entry() {
        let mut c = Collector::new(Arch::X86_64, 0);
        c.add(&call(1, 100, Some(110))); // 10 in
        c.add(&call(2, 105, Some(200))); // another thread: its own clock
        c.add(&call(1, 150, Some(155))); // 40 between, 5 in
        c.add(&call(1, 170, None)); // 15 between, never returned
        c.add(&call(1, 300, Some(301))); // nothing since a call without exit
        let split = c.time_split(&Tasks::default());
        let line = |tid| split.iter().find(|t| t.tid == tid).unwrap();
        let t1 = line(Some(1));
        assert_eq!((t1.calls, t1.in_calls_ns, t1.between_calls_ns), (4, 16, 55));
        let t2 = line(Some(2));
        assert_eq!((t2.in_calls_ns, t2.between_calls_ns), (95, 0));
        let all = line(None);
        assert_eq!(
            (all.calls, all.in_calls_ns, all.between_calls_ns),
            (5, 111, 55)
        );
        assert_eq!(split[0].tid, None, "the process first, then its threads");
    }
}
