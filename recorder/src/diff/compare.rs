//! Aligning two runs and comparing them: processes by their position in
//! the process tree and their names, threads by creation order, then each
//! pair of threads' normalised call sequences with a Myers diff
//! (the `similar` crate). The result is a [`Report`], which
//! [`super::output`] prints as text or JSON.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use similar::{Algorithm, DiffOp, capture_diff_slices};

use super::load::{Call, Survey};

/// Processes of the two runs put side by side.
#[derive(Debug, Clone)]
pub struct Pair {
    pub label: String,
    pub good: Option<usize>,
    pub bad: Option<usize>,
}

/// Aligns the process trees of `g` and `b`: the roots, then each matched
/// process's children, as sequences of names (so a child inserted in one
/// run shifts nothing else). Labels `p1`, `p2`... in tree order.
pub fn align(g: &Survey, b: &Survey) -> Vec<Pair> {
    let mut pairs = Vec::new();
    align_lists(g, b, &g.roots, &b.roots, &mut pairs);
    pairs
}

fn align_lists(g: &Survey, b: &Survey, gl: &[usize], bl: &[usize], out: &mut Vec<Pair>) {
    let gn: Vec<&Vec<String>> = gl.iter().map(|&i| &g.procs[i].names).collect();
    let bn: Vec<&Vec<String>> = bl.iter().map(|&i| &b.procs[i].names).collect();
    for op in capture_diff_slices(Algorithm::Myers, &gn, &bn) {
        let (_, gr, br) = op.as_tag_tuple();
        let equal = matches!(op, DiffOp::Equal { .. });
        for k in 0..gr.len().max(br.len()) {
            let gi = gr.clone().nth(k).map(|i| gl[i]);
            let bi = br.clone().nth(k).map(|i| bl[i]);
            if let (true, Some(gi), Some(bi)) = (equal, gi, bi) {
                push_pair(out, Some(gi), Some(bi));
                align_lists(g, b, &g.procs[gi].children, &b.procs[bi].children, out);
            } else {
                for (gi, bi) in [(gi, None), (None, bi)] {
                    if gi.is_some() || bi.is_some() {
                        push_pair(out, gi, bi);
                        unmatched_children(g, b, gi, bi, out);
                    }
                }
            }
        }
    }
}

fn push_pair(out: &mut Vec<Pair>, good: Option<usize>, bad: Option<usize>) {
    let label = format!("p{}", out.len() + 1);
    out.push(Pair { label, good, bad });
}

/// The descendants of a process only one run has are only in that run.
fn unmatched_children(
    g: &Survey,
    b: &Survey,
    gi: Option<usize>,
    bi: Option<usize>,
    out: &mut Vec<Pair>,
) {
    let none: &[usize] = &[];
    let gc = gi.map_or(none, |i| &g.procs[i].children[..]);
    let bc = bi.map_or(none, |i| &b.procs[i].children[..]);
    for &c in gc {
        push_pair(out, Some(c), None);
        unmatched_children(g, b, Some(c), None, out);
    }
    for &c in bc {
        push_pair(out, None, Some(c));
        unmatched_children(g, b, None, Some(c), out);
    }
}

/// The label of every pid and tid of one run (`p2`, `p2.t3`).
pub fn labels(s: &Survey, pairs: &[Pair], good: bool) -> HashMap<u64, String> {
    let mut m = HashMap::new();
    for p in pairs {
        let Some(i) = (if good { p.good } else { p.bad }) else {
            continue;
        };
        for (k, &tid) in s.procs[i].tids.iter().enumerate() {
            m.insert(u64::from(tid), thread_label(&p.label, k));
        }
        m.insert(u64::from(s.procs[i].pid), p.label.clone());
    }
    m
}

/// `p2` for a process's first thread, `p2.t3` for its third.
pub fn thread_label(process: &str, k: usize) -> String {
    if k == 0 {
        process.to_string()
    } else {
        format!("{process}.t{}", k + 1)
    }
}

/// Everything `recorder diff` reports, most useful first.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub good: RunInfo,
    pub bad: RunInfo,
    pub outcomes: Vec<Outcome>,
    pub divergences: Vec<Divergence>,
    pub failed_in_one: Vec<Failure>,
    pub data: Vec<DataDiff>,
    pub syscalls: Vec<SyscallRow>,
    /// Threads whose time in or between calls differs (see `time_differs`).
    pub time_split: Vec<TimeRow>,
    /// Thread pairs whose sequences are identical after normalisation.
    pub identical_threads: u64,
    /// Every thread's full diff (`--all` only).
    pub full: Vec<FullDiff>,
}

#[derive(Debug, Default, Serialize)]
pub struct RunInfo {
    pub path: String,
    pub arch: String,
    pub redacted: bool,
    pub summary: String,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub process: String,
    pub name: String,
    pub good: Option<String>,
    pub bad: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Divergence {
    pub thread: String,
    pub name: String,
    /// Index (from 1) of the first differing entry in each run's
    /// normalised sequence (repeats collapsed).
    pub good_at: usize,
    pub bad_at: usize,
    pub before: Vec<String>,
    pub good: Vec<String>,
    pub bad: Vec<String>,
    pub good_after: Vec<String>,
    pub bad_after: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub run: &'static str,
    pub process: String,
    pub syscall: String,
    pub call: String,
    pub errno: String,
    pub count: u64,
}

#[derive(Debug, Serialize)]
pub struct DataDiff {
    pub thread: String,
    pub good: String,
    pub bad: String,
    /// A short line diff of the bytes: `-` good, `+` bad.
    pub diff: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct SyscallRow {
    pub syscall: String,
    pub good_calls: u64,
    pub bad_calls: u64,
    pub good_errors: u64,
    pub bad_errors: u64,
    pub good_total_ns: u64,
    pub bad_total_ns: u64,
}

/// A thread's time inside its calls and between them in both runs (ns).
#[derive(Debug, Serialize)]
pub struct TimeRow {
    pub thread: String,
    pub name: String,
    pub good_in_calls_ns: u64,
    pub bad_in_calls_ns: u64,
    pub good_between_ns: u64,
    pub bad_between_ns: u64,
}

impl TimeRow {
    /// Worth showing: either time differs more than twice, and by a
    /// millisecond at least (so the jitter of a short run is not news).
    pub fn differs(&self) -> bool {
        let far = |a: u64, b: u64| a.max(b) >= 1_000_000 && a.max(b) > 2 * a.min(b);
        far(self.good_in_calls_ns, self.bad_in_calls_ns)
            || far(self.good_between_ns, self.bad_between_ns)
    }
}

#[derive(Debug, Serialize)]
pub struct FullDiff {
    pub thread: String,
    /// ` ` both, `-` good only, `+` bad only, then the call.
    pub lines: Vec<String>,
}

/// Calls shown before a divergence, and of each run after it.
const CONTEXT: usize = 3;
/// Differing calls shown of each run at a divergence.
const SHOWN: usize = 5;

/// One thread pair's sequences, compared into `r`.
pub fn compare_thread(r: &mut Report, thread: &str, name: &str, g: &[Call], b: &[Call], all: bool) {
    let gk: Vec<String> = g.iter().map(compared).collect();
    let bk: Vec<String> = b.iter().map(compared).collect();
    let ops = capture_diff_slices(Algorithm::Myers, &gk, &bk);
    let first = ops.iter().find(|op| !matches!(op, DiffOp::Equal { .. }));
    match first {
        None => r.identical_threads += 1,
        Some(op) => r.divergences.push(divergence(thread, name, op, g, b)),
    }
    for op in &ops {
        let (_, gr, br) = op.as_tag_tuple();
        for (x, y) in g[gr].iter().zip(&b[br]) {
            if x.syscall == y.syscall && x.data.is_some() && y.data.is_some() && x.data != y.data {
                r.data.push(data_diff(thread, x, y));
            }
        }
    }
    if all {
        r.full.push(full_diff(thread, &ops, g, b));
    }
}

/// What is compared: the key, and how many times it was repeated.
fn compared(c: &Call) -> String {
    if c.count > 1 {
        format!("{} (x{})", c.key, c.count)
    } else {
        c.key.clone()
    }
}

/// The text shown for an entry.
pub fn shown(c: &Call) -> String {
    if c.count > 1 {
        format!("{} (x{})", c.text, c.count)
    } else {
        c.text.clone()
    }
}

fn divergence(thread: &str, name: &str, op: &DiffOp, g: &[Call], b: &[Call]) -> Divergence {
    let (_, gr, br) = op.as_tag_tuple();
    let texts = |s: &[Call]| s.iter().map(shown).collect::<Vec<_>>();
    let after = |s: &[Call], end: usize| texts(&s[end..(end + CONTEXT).min(s.len())]);
    Divergence {
        thread: thread.to_string(),
        name: name.to_string(),
        good_at: gr.start + 1,
        bad_at: br.start + 1,
        before: texts(&g[gr.start.saturating_sub(CONTEXT)..gr.start]),
        good: texts(&g[gr.start..gr.end.min(gr.start + SHOWN)]),
        bad: texts(&b[br.start..br.end.min(br.start + SHOWN)]),
        good_after: after(g, gr.end),
        bad_after: after(b, br.end),
    }
}

fn data_diff(thread: &str, x: &Call, y: &Call) -> DataDiff {
    let (a, b) = (
        x.data.as_deref().unwrap_or(&[]),
        y.data.as_deref().unwrap_or(&[]),
    );
    let text = |d: &[u8]| String::from_utf8_lossy(d).into_owned();
    let (ta, tb) = (text(a), text(b));
    let diff = similar::TextDiff::from_lines(&ta, &tb);
    let mut lines: Vec<String> = diff
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| {
            format!("{}{}", c.tag(), c.value().escape_debug())
                .trim_end_matches("\\n")
                .to_string()
        })
        .collect();
    lines.truncate(2 * SHOWN);
    DataDiff {
        thread: thread.to_string(),
        good: shown(x),
        bad: shown(y),
        diff: lines,
    }
}

fn full_diff(thread: &str, ops: &[DiffOp], g: &[Call], b: &[Call]) -> FullDiff {
    let mut lines = Vec::new();
    for op in ops {
        let (_, gr, br) = op.as_tag_tuple();
        if matches!(op, DiffOp::Equal { .. }) {
            lines.extend(g[gr].iter().map(|c| format!("  {}", shown(c))));
        } else {
            lines.extend(g[gr].iter().map(|c| format!("- {}", shown(c))));
            lines.extend(b[br].iter().map(|c| format!("+ {}", shown(c))));
        }
    }
    FullDiff {
        thread: thread.to_string(),
        lines,
    }
}

/// Failed calls of one process, as (syscall, call without its result,
/// errno) with their count.
pub type Failures = BTreeMap<(String, String, String), u64>;

/// The failures of `calls` added into `f`.
pub fn failures(f: &mut Failures, calls: &[Call]) {
    for c in calls {
        if let Some(errno) = &c.errno {
            let call = c.key.rsplit_once(" = ").map_or(c.key.as_str(), |(a, _)| a);
            *f.entry((c.syscall.clone(), call.to_string(), errno.clone()))
                .or_default() += c.count;
        }
    }
}

/// The failures one process had in one run only.
pub fn failed_in_one(r: &mut Report, process: &str, g: &Failures, b: &Failures) {
    let keys: BTreeSet<_> = g.keys().chain(b.keys()).collect();
    for k in keys {
        let (run, count) = match (g.get(k), b.get(k)) {
            (Some(&n), None) => ("good", n),
            (None, Some(&n)) => ("bad", n),
            _ => continue,
        };
        r.failed_in_one.push(Failure {
            run,
            process: process.to_string(),
            syscall: k.0.clone(),
            call: k.1.clone(),
            errno: k.2.clone(),
            count,
        });
    }
}

/// Per-syscall totals of one run, added into `rows` (`good` side or not).
pub fn count(rows: &mut BTreeMap<String, SyscallRow>, calls: &[Call], good: bool) {
    for c in calls.iter().filter(|c| !c.syscall.is_empty()) {
        let row = rows.entry(c.syscall.clone()).or_default();
        let errs = if c.errno.is_some() { c.count } else { 0 };
        let (n, e, t) = if good {
            (
                &mut row.good_calls,
                &mut row.good_errors,
                &mut row.good_total_ns,
            )
        } else {
            (
                &mut row.bad_calls,
                &mut row.bad_errors,
                &mut row.bad_total_ns,
            )
        };
        *n += c.count;
        *e += errs;
        *t = t.saturating_add(c.dur_ns);
    }
}

/// The rows worth showing: the ones whose counts or errors differ, or
/// whose mean time per call differs more than twice (and by a microsecond
/// at least), most different first.
pub fn differing_rows(rows: BTreeMap<String, SyscallRow>) -> Vec<SyscallRow> {
    let mean = |t: u64, n: u64| t.checked_div(n).unwrap_or(0);
    let mut v: Vec<SyscallRow> = rows
        .into_iter()
        .map(|(name, mut r)| {
            r.syscall = name;
            r
        })
        .filter(|r| {
            let (a, b) = (
                mean(r.good_total_ns, r.good_calls),
                mean(r.bad_total_ns, r.bad_calls),
            );
            r.good_calls != r.bad_calls
                || r.good_errors != r.bad_errors
                || (a.max(b) >= 1000 && a.max(b) > 2 * a.min(b))
        })
        .collect();
    v.sort_by_key(|r| {
        let d = r.good_calls.abs_diff(r.bad_calls) + r.good_errors.abs_diff(r.bad_errors);
        (std::cmp::Reverse(d), r.syscall.clone())
    });
    v
}

#[cfg(test)]
mod time_tests {
    use super::TimeRow;

    fn row(gi: u64, bi: u64, gb: u64, bb: u64) -> TimeRow {
        TimeRow {
            thread: "p1".into(),
            name: "x".into(),
            good_in_calls_ns: gi,
            bad_in_calls_ns: bi,
            good_between_ns: gb,
            bad_between_ns: bb,
        }
    }

    #[test]
    fn time_rows_shown_only_when_far_apart() {
        assert!(row(1_000_000, 3_000_000, 5, 5).differs());
        assert!(row(5, 5, 10_000_000, 1_000_000).differs());
        // Twice, not more: jitter.
        assert!(!row(1_000_000, 2_000_000, 0, 0).differs());
        // Far apart, but under a millisecond.
        assert!(!row(1_000, 900_000, 0, 0).differs());
    }
}
