//! `recorder diff GOOD BAD`: what a failing run did differently from one
//! that worked, even when they ran on different machines and
//! architectures.
//!
//! 1. Each run is surveyed ([`load::Survey`]): its process tree, names,
//!    outcomes and threads in creation order.
//! 2. The trees are aligned ([`compare::align`]) by position and name, and
//!    every pid and tid gets a label (`p2`, `p2.t3`) shared by both runs.
//! 3. Each run is read again and every call rendered by the decoder (the
//!    `dump -y` formatter), normalised ([`normal`]: fd numbers, pids,
//!    pointers, clock values) and repeats collapsed.
//! 4. Each aligned pair of threads is diffed ([`compare`]), and the
//!    [`Report`] lists, most useful first: outcomes, the first divergence
//!    per thread, failures seen in one run only, data that differed for
//!    the same call, per-syscall counts and times; with `all`, every
//!    thread's full diff.
//!
//! Memory: a run's normalised calls (repeats collapsed) are held while
//! diffing; the log itself is streamed.

pub mod compare;
pub mod load;
pub mod normal;
mod output;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

pub use compare::Report;
use compare::{Failures, Pair, RunInfo};
use load::{Survey, Threads};
use normal::Normaliser;

use crate::read::ReadError;

/// What to compare and show.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Also every thread's full diff.
    pub all: bool,
}

/// Compares the runs recorded in `good` and `bad`.
pub fn diff(good: &Path, bad: &Path, opts: Options) -> Result<Report, ReadError> {
    let (gs, bs) = (Survey::read(good)?, Survey::read(bad)?);
    let pairs = compare::align(&gs, &bs);
    let mask_data = gs.redacted || bs.redacted;
    let norm = |s: &Survey, is_good: bool| Normaliser {
        labels: compare::labels(s, &pairs, is_good),
        mask_data,
    };
    let gc = load::calls(good, &norm(&gs, true))?;
    let bc = load::calls(bad, &norm(&bs, false))?;
    let mut r = Report {
        good: info(good, &gs),
        bad: info(bad, &bs),
        ..Default::default()
    };
    let mut rows = BTreeMap::new();
    for p in &pairs {
        compare_process(&mut r, &mut rows, p, [(&gs, &gc), (&bs, &bc)], opts);
    }
    r.syscalls = compare::differing_rows(rows);
    Ok(r)
}

/// Compares and prints (`json`: one JSON document).
pub fn run(
    good: &Path,
    bad: &Path,
    opts: Options,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), ReadError> {
    let r = diff(good, bad, opts)?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &r).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        output::text(&r, out)?;
    }
    Ok(())
}

fn info(path: &Path, s: &Survey) -> RunInfo {
    RunInfo {
        path: path.display().to_string(),
        arch: s.arch.clone(),
        redacted: s.redacted,
        summary: s.summary.clone(),
    }
}

type Side<'a> = (&'a Survey, &'a Threads);

/// One aligned pair of processes (or a process of one run only) into `r`.
fn compare_process(
    r: &mut Report,
    rows: &mut BTreeMap<String, compare::SyscallRow>,
    p: &Pair,
    [g, b]: [Side; 2],
    opts: Options,
) {
    let gp = p.good.map(|i| &g.0.procs[i]);
    let bp = p.bad.map(|i| &b.0.procs[i]);
    let name = gp.or(bp).map_or("?", |x| x.name()).to_string();
    r.outcomes.push(compare::Outcome {
        process: p.label.clone(),
        name: name.clone(),
        good: gp.map(outcome),
        bad: bp.map(outcome),
    });
    let none: &[u32] = &[];
    let (gt, bt) = (gp.map_or(none, |x| &x.tids), bp.map_or(none, |x| &x.tids));
    let (mut gf, mut bf) = (Failures::new(), Failures::new());
    let empty = Vec::new();
    for k in 0..gt.len().max(bt.len()) {
        let gcalls = gt.get(k).and_then(|t| g.1.calls.get(t)).unwrap_or(&empty);
        let bcalls = bt.get(k).and_then(|t| b.1.calls.get(t)).unwrap_or(&empty);
        compare::failures(&mut gf, gcalls);
        compare::failures(&mut bf, bcalls);
        compare::count(rows, gcalls, true);
        compare::count(rows, bcalls, false);
        let thread = compare::thread_label(&p.label, k);
        let time = |t: Option<&u32>, s: &Threads| t.and_then(|t| s.time.get(t)).copied();
        if let (Some(gs), Some(bs)) = (time(gt.get(k), g.1), time(bt.get(k), b.1)) {
            let row = compare::TimeRow {
                thread: thread.clone(),
                name: name.clone(),
                good_in_calls_ns: gs.in_calls_ns,
                bad_in_calls_ns: bs.in_calls_ns,
                good_between_ns: gs.between_ns,
                bad_between_ns: bs.between_ns,
            };
            if row.differs() {
                r.time_split.push(row);
            }
        }
        compare::compare_thread(r, &thread, &name, gcalls, bcalls, opts.all);
    }
    compare::failed_in_one(r, &p.label, &gf, &bf);
}

/// `exit 0`, `killed by SIGSEGV`, `no exit in the log`.
fn outcome(p: &load::Proc) -> String {
    match (p.fatal_signal, p.exit_status) {
        (Some(sig), _) => format!("killed by {}", crate::read::info::signal_name(sig)),
        (None, Some(st)) => format!("exit {st}"),
        (None, None) => "no exit in the log".into(),
    }
}
