//! `recorder dump FILE`: print a log, one line per system call.

use std::io::{BufReader, BufWriter, Write as _};

use anyhow::Context as _;
use recorder::{cli::DumpArgs, event::Event, log::LogReader};

pub fn run(args: &DumpArgs) -> anyhow::Result<()> {
    let f = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let mut reader = LogReader::open(BufReader::with_capacity(1 << 20, f))
        .with_context(|| format!("{}", args.file.display()))?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut last_counters = None;
    let res = loop {
        match reader.next_event() {
            Ok(Some(Event::Counters(c))) => last_counters = Some(c),
            Ok(Some(ev)) => writeln!(out, "{ev:?}")?,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    out.flush()?;
    let _ = last_counters;
    res.with_context(|| format!("{}", args.file.display()))?;
    Ok(())
}
