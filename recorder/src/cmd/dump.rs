//! `recorder dump FILE`: print a log, one line per system call (strace
//! style), or JSON Lines with `--json`. Streams block by block, so memory
//! does not grow with the log. The completeness summary goes to stderr, so
//! stdout stays parseable. The read filters (`-e`, `--pid`, `--since`, ...)
//! and the reading loop are the library's ([`recorder::read`]), shared with
//! `stats` and `export`.

use std::io::{BufWriter, Write as _};

use anyhow::Context as _;
use recorder::{
    cli::DumpArgs,
    decode::{Formatter, OutputFormat, TimeMode},
    read::{self, Events},
};

pub fn run(args: &DumpArgs) -> anyhow::Result<()> {
    let spec = args.filter.spec();
    let mut reader = Events::open(&args.file, &spec)?;
    reader.write_warnings(&mut std::io::stderr())?;
    let mut fmt =
        Formatter::new(reader.header()).with_context(|| format!("{}", args.file.display()))?;
    fmt.multi_thread = read::multi_threaded(&args.file, &spec)?;
    if args.json {
        fmt.format = OutputFormat::Json;
    }
    fmt.max_str = match args.string_limit {
        0 => usize::MAX,
        n => n,
    };
    if args.wall_clock > 0 {
        fmt.time = TimeMode::WallClock;
    }
    if args.relative {
        fmt.time = TimeMode::SincePrevious;
    }
    fmt.show_duration = args.durations;
    fmt.decode_fds(args.decode_fds);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let res = loop {
        match reader.next_any() {
            Ok(Some((ev, true))) => fmt.write_event(&mut out, &ev)?,
            // Calls that are not shown still name descriptors for -y.
            Ok(Some((ev, false))) => fmt.track(&ev),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    out.flush()?;
    // Completeness: losses, sequence gaps and how the file ends.
    eprintln!("{}", reader.summary());
    // A bundle says what it lacks compared with the recording it was cut
    // from (`recorder bundle`): redactions, time window, processes.
    let removed = &reader.header().redactions;
    if !removed.is_empty() {
        eprintln!("recorder: removed: {}", removed.join("; "));
    }
    // A recording made with `-e` lacks the other calls by design.
    if let Some(note) = read::trace_note(reader.header()) {
        eprintln!("recorder: {note}");
    }
    res.with_context(|| format!("{}: stopped reading", args.file.display()))?;
    Ok(())
}
