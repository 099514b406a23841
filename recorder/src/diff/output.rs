//! The text form of a [`Report`], section by section in the report's order
//! (`--json` serialises the same report).

use std::io::{self, Write};

use super::Report;
use super::compare::{Divergence, SyscallRow, TimeRow};

/// Divergences, failures and data differences shown at most.
const MAX_ITEMS: usize = 20;

pub fn text(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    for (side, run) in [("good", &r.good), ("bad ", &r.bad)] {
        let verdict = run
            .summary
            .strip_prefix("recorder: ")
            .unwrap_or(&run.summary);
        writeln!(out, "{side}  {} ({} log; {verdict})", run.path, run.arch)?;
    }
    if r.good.redacted || r.bad.redacted {
        writeln!(
            out,
            "note  a run is redacted: captured data compares as unknown (?)"
        )?;
    }
    outcomes(r, out)?;
    divergences(r, out)?;
    failures(r, out)?;
    data(r, out)?;
    syscalls(&r.syscalls, out)?;
    time_split(&r.time_split, out)?;
    for f in &r.full {
        writeln!(out, "\nfull diff of thread {} (- good, + bad):", f.thread)?;
        for l in &f.lines {
            writeln!(out, "  {l}")?;
        }
    }
    Ok(())
}

/// Only where a thread's time differs: the log cannot tell computing from
/// waiting between calls, so the heading says "between calls", not "CPU".
fn time_split(rows: &[TimeRow], out: &mut dyn Write) -> io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\ntime in calls and between them (user time and waiting), where it differs 2x:"
    )?;
    let ms = |ns: u64| ns as f64 / 1e6;
    for t in rows.iter().take(MAX_ITEMS) {
        writeln!(
            out,
            "  {:<8} {:<16} in calls {:>10.3} ms -> {:>10.3} ms   between {:>10.3} ms -> {:>10.3} ms",
            t.thread,
            t.name,
            ms(t.good_in_calls_ns),
            ms(t.bad_in_calls_ns),
            ms(t.good_between_ns),
            ms(t.bad_between_ns)
        )?;
    }
    Ok(())
}

fn outcomes(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\noutcome:")?;
    let or = |s: &Option<String>| s.clone().unwrap_or_else(|| "(not in this run)".into());
    for o in &r.outcomes {
        let mark = if o.good == o.bad { "same" } else { "DIFFERENT" };
        writeln!(
            out,
            "  {:<6} {:<16} good: {:<20} bad: {:<20} {mark}",
            o.process,
            o.name,
            or(&o.good),
            or(&o.bad)
        )?;
    }
    Ok(())
}

fn divergences(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    if r.divergences.is_empty() {
        return writeln!(out, "\nno divergence: every thread made the same calls");
    }
    writeln!(
        out,
        "\nfirst divergence per thread ({} identical):",
        r.identical_threads
    )?;
    for d in r.divergences.iter().take(MAX_ITEMS) {
        divergence(d, out)?;
    }
    more(r.divergences.len(), out)
}

fn divergence(d: &Divergence, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "  thread {} ({}), at call {} of good, {} of bad:",
        d.thread, d.name, d.good_at, d.bad_at
    )?;
    for l in &d.before {
        writeln!(out, "      {l}")?;
    }
    for l in &d.good {
        writeln!(out, "    - {l}")?;
    }
    for l in &d.bad {
        writeln!(out, "    + {l}")?;
    }
    for l in &d.good_after {
        writeln!(out, "    -   then {l}")?;
    }
    for l in &d.bad_after {
        writeln!(out, "    +   then {l}")?;
    }
    Ok(())
}

fn failures(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    if r.failed_in_one.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nfailed in one run only:")?;
    for f in r.failed_in_one.iter().take(MAX_ITEMS) {
        let times = if f.count > 1 {
            format!(" (x{})", f.count)
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {:<4} {:<6} {} {}{times}",
            f.run, f.process, f.call, f.errno
        )?;
    }
    more(r.failed_in_one.len(), out)
}

fn data(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    if r.data.is_empty() {
        return Ok(());
    }
    writeln!(out, "\ndata that differed for the same call:")?;
    for d in r.data.iter().take(MAX_ITEMS) {
        writeln!(out, "  thread {}: {}", d.thread, d.good)?;
        for l in &d.diff {
            writeln!(out, "      {l}")?;
        }
    }
    more(r.data.len(), out)
}

fn syscalls(rows: &[SyscallRow], out: &mut dyn Write) -> io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "\nsyscalls: the same counts and errors in both runs");
    }
    writeln!(out, "\nsyscalls that differ (each column: good, then bad):")?;
    writeln!(
        out,
        "  {:<20} {:>8} {:>8}  {:>6} {:>6}  {:>12} {:>12}",
        "syscall", "calls", "calls", "errors", "errors", "mean us", "mean us"
    )?;
    let mean = |t: u64, n: u64| {
        if n == 0 {
            "-".to_string()
        } else {
            format!("{:.3}", t as f64 / n as f64 / 1000.0)
        }
    };
    for s in rows.iter().take(MAX_ITEMS) {
        writeln!(
            out,
            "  {:<20} {:>8} {:>8}  {:>6} {:>6}  {:>10} {:>10}",
            s.syscall,
            s.good_calls,
            s.bad_calls,
            s.good_errors,
            s.bad_errors,
            mean(s.good_total_ns, s.good_calls),
            mean(s.bad_total_ns, s.bad_calls)
        )?;
    }
    more(rows.len(), out)
}

fn more(n: usize, out: &mut dyn Write) -> io::Result<()> {
    if n > MAX_ITEMS {
        writeln!(out, "  ... {} more (--json has all)", n - MAX_ITEMS)?;
    }
    Ok(())
}
