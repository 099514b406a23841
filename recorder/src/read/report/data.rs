//! What the page embeds, gathered in one streaming pass: the JSON document
//! the page's script draws everything from (its shape is golden-tested in
//! `recorder/tests/golden.rs`, so a change of it is deliberate).
//!
//! Memory and page size are bounded whatever the log's length: aggregates
//! (per-thread time bins, error groups, latency histograms) cover every
//! call, while the calls themselves (with their decoded lines) are embedded
//! only for the first [`Limits::max_calls`] in log order, plus samples of
//! every error group and the slowest calls.

use std::collections::HashMap;

use serde::Serialize;

use crate::decode::{Arch, errno_name, syscall_name};
use crate::event::{CaptureKind, Event, Syscall};
use crate::read::stats::{Collector, duration};

/// Time bins per thread across the log's span: enough for a timeline as
/// wide as a screen, zoomed in 2x, before the aggregate turns blocky.
pub const BINS: u64 = 4096;
/// Threads that get a lane of their own; the calls of others are counted
/// everywhere but not drawn or embedded.
pub const MAX_LANES: usize = 512;
/// Error groups kept (syscall, errno, path); the rest are summed.
pub const MAX_ERROR_GROUPS: usize = 1000;
/// Calls embedded per error group, for the click-through (past
/// `max_calls`, at most a quarter of it in all).
pub const ERROR_SAMPLES: usize = 20;
/// Slowest calls kept per syscall, and overall.
pub const SLOWEST_PER_SYSCALL: usize = 3;
pub const SLOWEST: usize = 20;
/// Process events and signals embedded as timeline markers.
pub const MAX_MARKERS: usize = 10_000;
/// Longest path shown in an error group.
const MAX_PATH: usize = 512;

/// The caps that applied, and how much of the log they left out (the page
/// says so).
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    pub max_calls: usize,
    pub string_limit: usize,
    /// Calls that passed the filters.
    pub calls_total: u64,
    /// Calls embedded (the first `max_calls`, plus error samples and the
    /// slowest beyond them).
    pub calls_embedded: usize,
    /// Entry time (ns after the start) of the last call of the first
    /// `max_calls`, when the cap cut the log: the timeline has every call's
    /// span up to there, only aggregates after it.
    pub detail_until_ns: Option<i64>,
    pub threads_without_lane: u64,
    pub calls_without_lane: u64,
    pub error_groups_dropped: u64,
    pub markers_dropped: u64,
}

/// One thread's lane on the timeline, with its calls binned.
#[derive(Debug, Clone, Serialize)]
pub struct Lane {
    pub tid: u32,
    pub pid: u32,
    pub name: String,
    pub calls: u64,
    pub errors: u64,
    /// `[bin, calls, errors]` for every bin with a call.
    pub bins: Vec<[u64; 3]>,
    #[serde(skip)]
    dense: Vec<[u64; 2]>,
}

/// An embedded call: `[lane, start ns after the start, duration ns or
/// null, syscall index, errno name or "", the line as dump -y prints it]`.
#[derive(Debug, Clone, Serialize)]
pub struct CallRow(
    pub u32,
    pub i64,
    pub Option<u64>,
    pub u32,
    pub String,
    pub String,
);

/// A process event or signal: `[lane, ns after the start, kind, line]`;
/// kind is `exec`, `fork`, `exit`, `signal` or `crash`.
#[derive(Debug, Clone, Serialize)]
pub struct Marker(pub u32, pub i64, pub &'static str, pub String);

/// Failed calls of one syscall with one errno on one path.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorGroup {
    pub syscall: String,
    pub errno: String,
    /// The call's first string argument (its path), or "".
    pub path: String,
    pub count: u64,
    pub first_ns: i64,
    pub last_ns: i64,
    /// Indices into `calls` of the first [`ERROR_SAMPLES`].
    pub calls: Vec<u32>,
}

/// One syscall's latency, in `recorder stats`' numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub syscall: String,
    pub calls: u64,
    pub errors: u64,
    pub total_ns: u64,
    pub p50_ns: Option<u64>,
    pub p99_ns: Option<u64>,
    pub max_ns: Option<u64>,
    /// `[k, n]`: n calls took `[2^(k-1), 2^k)` ns.
    pub hist: Vec<(u32, u64)>,
    /// Indices into `calls`, slowest first.
    pub slowest: Vec<u32>,
}

/// A call ranked among the slowest, its line kept until the end decides.
#[derive(Debug, Clone)]
struct Slow {
    key: (std::cmp::Reverse<u64>, u64, u32, u64),
    row: Option<u32>,
    line: CallRow,
}

/// The `n` slowest, slowest first; ties keep the earlier call (the order
/// `recorder stats` lists them in).
#[derive(Debug, Clone, Default)]
struct TopK(Vec<Slow>);

impl TopK {
    fn wants(&self, n: usize, key: &(std::cmp::Reverse<u64>, u64, u32, u64)) -> bool {
        self.0.len() < n || self.0.last().is_some_and(|l| *key < l.key)
    }

    fn insert(&mut self, n: usize, s: Slow) {
        let at = self.0.partition_point(|x| x.key <= s.key);
        self.0.insert(at, s);
        self.0.truncate(n);
    }
}

#[derive(Debug, Default)]
struct Group {
    first_ns: i64,
    last_ns: i64,
    count: u64,
    calls: Vec<u32>,
}

/// Gathers the page's data from the calls and events that passed the
/// filters, given with their decoded lines.
pub struct Gather {
    arch: Arch,
    start_ns: u64,
    t0: u64,
    bin_ns: u64,
    limits: Limits,
    pub stats: Collector,
    lanes: Vec<Lane>,
    lane_of: HashMap<u32, Option<u32>>,
    syscalls: Vec<String>,
    syscall_idx: HashMap<i64, u32>,
    pub calls: Vec<CallRow>,
    markers: Vec<Marker>,
    groups: HashMap<(i64, i64, String), Group>,
    /// Error samples embedded past `max_calls`.
    extra_samples: usize,
    slowest: TopK,
    slowest_nr: HashMap<i64, TopK>,
    /// False for a lean log: no call has a duration.
    timed: bool,
}

impl Gather {
    /// For a log with or without durations (`!Header::lean`).
    pub fn durations(mut self, timed: bool) -> Self {
        self.timed = timed;
        self.stats = self.stats.durations(timed);
        self
    }

    /// A call's duration, if the log has durations.
    fn duration(&self, sc: &Syscall) -> Option<u64> {
        duration(sc).filter(|_| self.timed)
    }

    /// `span`: the first and last event of the whole log (CLOCK_MONOTONIC
    /// ns), which the time bins divide; `start_ns`: the recording's start,
    /// which times are given from.
    pub fn new(
        arch: Arch,
        start_ns: u64,
        span: (u64, u64),
        max_calls: usize,
        string_limit: usize,
    ) -> Self {
        let width = span.1.saturating_sub(span.0).saturating_add(1);
        Gather {
            arch,
            start_ns,
            t0: span.0,
            bin_ns: width.div_ceil(BINS).max(1),
            limits: Limits {
                max_calls,
                string_limit,
                calls_total: 0,
                calls_embedded: 0,
                detail_until_ns: None,
                threads_without_lane: 0,
                calls_without_lane: 0,
                error_groups_dropped: 0,
                markers_dropped: 0,
            },
            stats: Collector::new(arch, 0),
            lanes: Vec::new(),
            lane_of: HashMap::new(),
            syscalls: Vec::new(),
            syscall_idx: HashMap::new(),
            calls: Vec::new(),
            markers: Vec::new(),
            groups: HashMap::new(),
            extra_samples: 0,
            slowest: TopK::default(),
            slowest_nr: HashMap::new(),
            timed: true,
        }
    }

    fn rel(&self, ts: u64) -> i64 {
        (i128::from(ts) - i128::from(self.start_ns)) as i64
    }

    /// The lane of thread `tid`, made on its first event; `None` past
    /// [`MAX_LANES`]. `name` names a new lane.
    fn lane(&mut self, tid: u32, pid: u32, name: &dyn Fn() -> String) -> Option<u32> {
        if let Some(&l) = self.lane_of.get(&tid) {
            return l;
        }
        let l = (self.lanes.len() < MAX_LANES).then(|| {
            self.lanes.push(Lane {
                tid,
                pid,
                name: name(),
                calls: 0,
                errors: 0,
                bins: Vec::new(),
                dense: vec![[0, 0]; BINS as usize],
            });
            (self.lanes.len() - 1) as u32
        });
        self.limits.threads_without_lane += u64::from(l.is_none());
        self.lane_of.insert(tid, l);
        l
    }

    fn syscall(&mut self, nr: i64) -> u32 {
        if let Some(&i) = self.syscall_idx.get(&nr) {
            return i;
        }
        let name = syscall_name(self.arch, nr).map_or_else(|| format!("syscall_{nr}"), Into::into);
        self.syscalls.push(name);
        let i = (self.syscalls.len() - 1) as u32;
        self.syscall_idx.insert(nr, i);
        i
    }

    fn push(&mut self, row: CallRow) -> u32 {
        self.calls.push(row);
        (self.calls.len() - 1) as u32
    }

    /// A call that passed the filters, with its line (no newline) and the
    /// name of its thread.
    pub fn call(&mut self, sc: &Syscall, line: &str, name: &dyn Fn() -> String) {
        self.stats.add(sc);
        self.limits.calls_total += 1;
        let errno = sc.ret.filter(|r| (-4095..=-1).contains(r)).map(|r| -r);
        let Some(lane) = self.lane(sc.tid, sc.tgid, name) else {
            self.limits.calls_without_lane += 1;
            return;
        };
        self.bin(lane, sc, errno.is_some());
        let errno_text = errno.map_or_else(String::new, errno_text);
        let syscall = self.syscall(sc.nr);
        let row = CallRow(
            lane,
            self.rel(sc.enter_ns),
            self.duration(sc),
            syscall,
            errno_text,
            line.to_owned(),
        );
        let mut idx = None;
        if self.calls.len() < self.limits.max_calls {
            idx = Some(self.push(row.clone()));
            if self.calls.len() == self.limits.max_calls {
                self.limits.detail_until_ns = Some(row.1);
            }
        }
        if let Some(e) = errno {
            self.error(sc, e, &row, &mut idx);
        }
        self.rank(sc, row, idx);
    }

    fn bin(&mut self, lane: u32, sc: &Syscall, failed: bool) {
        let l = &mut self.lanes[lane as usize];
        l.calls += 1;
        l.errors += u64::from(failed);
        let b = (sc.enter_ns.saturating_sub(self.t0) / self.bin_ns).min(BINS - 1);
        let cell = &mut l.dense[b as usize];
        cell[0] += 1;
        cell[1] += u64::from(failed);
    }

    fn error(&mut self, sc: &Syscall, errno: i64, row: &CallRow, idx: &mut Option<u32>) {
        let path = first_string(sc);
        let key = (sc.nr, errno, path);
        if !self.groups.contains_key(&key) && self.groups.len() >= MAX_ERROR_GROUPS {
            self.limits.error_groups_dropped += 1;
            return;
        }
        let mut wants_sample = self
            .groups
            .get(&key)
            .is_none_or(|g| g.calls.len() < ERROR_SAMPLES);
        if wants_sample && idx.is_none() {
            // Past the cap, samples take at most a quarter of it more, so
            // a log of many distinct failures cannot double the page.
            wants_sample = self.extra_samples < (self.limits.max_calls / 4).max(100);
            if wants_sample {
                self.extra_samples += 1;
                *idx = Some(self.push(row.clone()));
            }
        }
        let g = self.groups.entry(key).or_insert_with(|| Group {
            first_ns: row.1,
            ..Default::default()
        });
        g.count += 1;
        g.last_ns = row.1;
        if wants_sample && let Some(i) = *idx {
            g.calls.push(i);
        }
    }

    fn rank(&mut self, sc: &Syscall, row: CallRow, idx: Option<u32>) {
        let Some(d) = self.duration(sc) else { return };
        let key = (std::cmp::Reverse(d), sc.enter_ns, sc.tid, sc.seq);
        let per = self.slowest_nr.entry(sc.nr).or_default();
        let slow = Slow {
            key,
            row: idx,
            line: row,
        };
        if per.wants(SLOWEST_PER_SYSCALL, &key) {
            per.insert(SLOWEST_PER_SYSCALL, slow.clone());
        }
        if self.slowest.wants(SLOWEST, &key) {
            self.slowest.insert(SLOWEST, slow);
        }
    }

    /// A process event or signal that passed the filters.
    pub fn marker(&mut self, ev: &Event, line: &str, name: &dyn Fn() -> String) {
        let (Some(tid), Some(pid), Some(ts)) = (ev.tid(), ev.tgid(), ev.ts_ns()) else {
            return;
        };
        let kind = match ev {
            Event::Exec(_) => "exec",
            Event::Fork(_) => "fork",
            Event::Exit(_) => "exit",
            Event::Signal(s) if s.is_crash() => "crash",
            Event::Signal(_) => "signal",
            _ => return,
        };
        let Some(lane) = self.lane(tid, pid, name) else {
            return;
        };
        if self.markers.len() >= MAX_MARKERS {
            self.limits.markers_dropped += 1;
            return;
        }
        let t = self.rel(ts);
        self.markers.push(Marker(lane, t, kind, line.to_owned()));
    }

    /// The embedded index of a ranked call, embedding it if the cap left
    /// it out.
    fn slow_index(&mut self, s: &Slow, embedded: &mut HashMap<(u32, u64), u32>) -> u32 {
        if let Some(i) = s.row {
            return i;
        }
        let id = (s.key.2, s.key.3);
        if let Some(&i) = embedded.get(&id) {
            return i;
        }
        let i = self.push(s.line.clone());
        embedded.insert(id, i);
        i
    }

    /// Everything gathered, in a deterministic order.
    pub fn finish(mut self) -> Finished {
        for l in &mut self.lanes {
            l.bins = (0u64..)
                .zip(std::mem::take(&mut l.dense))
                .filter(|(_, c)| c[0] > 0)
                .map(|(i, c)| [i, c[0], c[1]])
                .collect();
        }
        let mut embedded = HashMap::new();
        let top = std::mem::take(&mut self.slowest.0);
        let slowest = top
            .iter()
            .map(|s| self.slow_index(s, &mut embedded))
            .collect();
        let latency = self.latency(&mut embedded);
        let errors = self.errors();
        self.limits.calls_embedded = self.calls.len();
        Finished {
            bin_ns: self.bin_ns,
            t0_ns: self.rel(self.t0),
            limits: self.limits,
            syscalls: self.syscalls,
            threads: self.lanes,
            calls: self.calls,
            markers: self.markers,
            errors,
            latency,
            slowest,
        }
    }

    fn latency(&mut self, embedded: &mut HashMap<(u32, u64), u32>) -> Vec<Latency> {
        let report = self.stats.report(
            &Default::default(),
            &Default::default(),
            &crate::read::Completeness {
                records: 0,
                counters: None,
                end: crate::log::EndState::Clean,
                gaps: 0,
                skipped: Default::default(),
                pauses: Default::default(),
            },
        );
        let mut out = Vec::new();
        for row in report.syscalls {
            let nr = row.nr.unwrap_or_default();
            let top = self.slowest_nr.remove(&nr).unwrap_or_default();
            let slowest = top.0.iter().map(|s| self.slow_index(s, embedded)).collect();
            out.push(Latency {
                hist: self
                    .stats
                    .histogram(nr)
                    .map(|h| h.log2_counts())
                    .unwrap_or_default(),
                syscall: row.name,
                calls: row.calls,
                errors: row.errors,
                total_ns: row.total_ns,
                p50_ns: row.p50_ns,
                p99_ns: row.p99_ns,
                max_ns: row.max_ns,
                slowest,
            });
        }
        out
    }

    fn errors(&mut self) -> Vec<ErrorGroup> {
        let mut v: Vec<ErrorGroup> = self
            .groups
            .drain()
            .map(|((nr, errno, path), g)| ErrorGroup {
                syscall: syscall_name(self.arch, nr)
                    .map_or_else(|| format!("syscall_{nr}"), Into::into),
                errno: errno_text(errno),
                path,
                count: g.count,
                first_ns: g.first_ns,
                last_ns: g.last_ns,
                calls: g.calls,
            })
            .collect();
        v.sort_by(|a, b| {
            (b.count, &a.syscall, &a.errno, &a.path, a.first_ns)
                .cmp(&(a.count, &b.syscall, &b.errno, &b.path, b.first_ns))
        });
        v
    }
}

/// What [`Gather::finish`] hands the page.
#[derive(Debug, Clone, Serialize)]
pub struct Finished {
    /// Width of a time bin, and where bin 0 starts (ns after the start).
    pub bin_ns: u64,
    pub t0_ns: i64,
    pub limits: Limits,
    /// Syscall names, indexed by the calls' syscall index.
    pub syscalls: Vec<String>,
    pub threads: Vec<Lane>,
    pub calls: Vec<CallRow>,
    pub markers: Vec<Marker>,
    pub errors: Vec<ErrorGroup>,
    pub latency: Vec<Latency>,
    /// Indices into `calls` of the slowest calls, slowest first.
    pub slowest: Vec<u32>,
}

/// `ENOENT`, or `errno_N` for a number without a name.
fn errno_text(e: i64) -> String {
    errno_name(e).map_or_else(|| format!("errno_{e}"), |(n, _)| n.to_owned())
}

/// A call's first captured string (the path of file calls), lossy, cut at
/// [`MAX_PATH`] bytes.
fn first_string(sc: &Syscall) -> String {
    sc.data
        .iter()
        .find(|c| c.kind == CaptureKind::Str && !c.read_failed)
        .map(|c| {
            let b = &c.bytes[..c.bytes.len().min(MAX_PATH)];
            String::from_utf8_lossy(b).into_owned()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Capture;

    fn call(seq: u64, nr: i64, ret: i64, dur: u64, path: &str) -> Syscall {
        Syscall {
            tgid: 7,
            tid: 7,
            seq,
            nr,
            ret: Some(ret),
            enter_ns: 1_000 + seq * 100,
            exit_ns: Some(1_000 + seq * 100 + dur),
            data: vec![Capture {
                arg: 1,
                kind: CaptureKind::Str,
                len: path.len() as u64,
                truncated: false,
                read_failed: false,
                bytes: path.as_bytes().to_vec(),
            }],
            ..Default::default()
        }
    }

    /// Past `max_calls`, calls are counted and binned but not embedded,
    /// except error samples and the slowest, which are added once each.
    #[test]
    fn the_cap_keeps_aggregates_whole_and_embeds_what_the_sections_need() {
        let mut g = Gather::new(Arch::X86_64, 1_000, (1_000, 2_000), 3, 32);
        let name = || "fx".to_owned();
        for seq in 0..10 {
            let sc = match seq {
                7 => call(seq, 257, -2, 10, "/missing"),
                8 => call(seq, 0, 5, 5_000, "/slow"),
                _ => call(seq, 0, 5, 10, "/ok"),
            };
            g.call(&sc, &format!("line {seq}"), &name);
        }
        let f = g.finish();
        assert_eq!(f.limits.calls_total, 10);
        assert_eq!(f.limits.detail_until_ns, Some(200));
        let lines: Vec<&str> = f.calls.iter().map(|c| c.5.as_str()).collect();
        assert_eq!(&lines[..3], ["line 0", "line 1", "line 2"]);
        assert!(
            lines.contains(&"line 7") && lines.contains(&"line 8"),
            "{lines:?}"
        );
        let unique: std::collections::HashSet<&&str> = lines.iter().collect();
        assert_eq!(unique.len(), lines.len(), "embedded once each: {lines:?}");
        assert_eq!(f.limits.calls_embedded, f.calls.len());
        let e = &f.errors[0];
        assert_eq!(
            (e.syscall.as_str(), e.errno.as_str(), e.path.as_str()),
            ("openat", "ENOENT", "/missing")
        );
        assert_eq!(f.calls[e.calls[0] as usize].5, "line 7");
        assert_eq!(f.calls[f.slowest[0] as usize].5, "line 8");
        let binned: u64 = f.threads[0].bins.iter().map(|b| b[1]).sum();
        assert_eq!(binned, 10);
        let read = f.latency.iter().find(|l| l.syscall == "read").unwrap();
        assert_eq!(read.hist.iter().map(|h| h.1).sum::<u64>(), 9);
        assert_eq!(read.max_ns, Some(5_000));
    }

    #[test]
    fn log2_counts_split_at_powers_of_two() {
        let mut h = crate::read::stats::Histogram::default();
        for v in [0, 1, 2, 3, 4, 1000, 1023, 1024, 5_000_000] {
            h.add(v);
        }
        assert_eq!(
            h.log2_counts(),
            [(0, 1), (1, 1), (2, 2), (3, 1), (10, 2), (11, 1), (23, 1)]
        );
    }
}
