//! `recorder dump FILE`: print a log, one line per system call (strace
//! style), or JSON Lines with `--json`. Streams block by block, so memory
//! does not grow with the log. The completeness summary goes to stderr, so
//! stdout stays parseable.

use std::{
    collections::HashSet,
    io::{BufReader, BufWriter, Write as _},
    path::Path,
};

use anyhow::Context as _;
use recorder::{
    cli::DumpArgs,
    decode::{Formatter, OutputFormat},
    event::{Counters, Event},
    log::{EndState, LogReader},
};

fn open(path: &Path) -> anyhow::Result<LogReader<BufReader<std::fs::File>>> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    LogReader::open(BufReader::with_capacity(1 << 20, f))
        .with_context(|| format!("{}", path.display()))
}

/// Whether more than one thread appears (strace shows `[pid N]` only then).
/// Stops reading at the second thread, so this is cheap on any log.
fn multi_threaded(path: &Path) -> bool {
    let Ok(mut r) = open(path) else { return false };
    let mut seen = HashSet::new();
    while let Ok(Some(ev)) = r.next_event() {
        let tid = match &ev {
            Event::Syscall(s) => s.tid,
            Event::Exec(p) | Event::Fork(p) | Event::Exit(p) => p.tid,
            Event::Counters(_) => continue,
        };
        seen.insert(tid);
        if seen.len() > 1 {
            return true;
        }
    }
    false
}

pub fn run(args: &DumpArgs) -> anyhow::Result<()> {
    let mut reader = open(&args.file)?;
    let mut fmt =
        Formatter::new(reader.header()).with_context(|| format!("{}", args.file.display()))?;
    fmt.multi_thread = multi_threaded(&args.file);
    if args.json {
        fmt.format = OutputFormat::Json;
    }
    fmt.max_str = match args.string_limit {
        0 => usize::MAX,
        n => n,
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut last_counters: Option<Counters> = None;
    let mut records = 0u64;
    let res = loop {
        match reader.next_event() {
            Ok(Some(Event::Counters(c))) => last_counters = Some(c),
            Ok(Some(ev)) => {
                records += 1;
                fmt.write_event(&mut out, &ev)?;
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    out.flush()?;
    // Completeness: the trailer's totals, or the last checkpoint of a log
    // that was cut short.
    let counters = reader
        .trailer()
        .map(|t| t.counters.clone())
        .or(last_counters);
    eprintln!(
        "{}",
        summary(records, counters.as_ref(), &reader.end_state())
    );
    res.with_context(|| format!("{}: stopped reading", args.file.display()))?;
    Ok(())
}

/// One line: "complete", or exactly what is missing and where.
pub fn summary(records: u64, c: Option<&Counters>, end: &EndState) -> String {
    let mut parts = vec![format!("{records} records")];
    let mut complete = matches!(end, EndState::Clean);
    if let Some(c) = c {
        if let Some(text) = c.loss_text() {
            complete = false;
            parts.push(text);
        }
        if c.exit_without_entry > 0 {
            parts.push(format!(
                "{} calls in progress at start (exit seen, entry not)",
                c.exit_without_entry
            ));
        }
        if c.died_in_call > 0 {
            parts.push(format!(
                "{} calls interrupted by thread exit",
                c.died_in_call
            ));
        }
        if c.entry_data_lost > 0 {
            complete = false;
            parts.push(format!(
                "{} execve path/argv captures lost (ring buffer full)",
                c.entry_data_lost
            ));
        }
        if c.read_failed > 0 {
            parts.push(format!("{} user-memory reads failed", c.read_failed));
        }
    } else {
        complete = false;
        parts.push("no loss counters in the log".into());
    }
    match end {
        EndState::Clean => {}
        other => parts.push(format!("log {other}")),
    }
    format!(
        "recorder: {}: {}",
        if complete { "complete" } else { "INCOMPLETE" },
        parts.join("; ")
    )
}
