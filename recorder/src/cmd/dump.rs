//! `recorder dump FILE`: print a log, one line per system call (strace
//! style), or JSON Lines with `--json`. Streams block by block, so memory
//! does not grow with the log. The completeness summary goes to stderr, so
//! stdout stays parseable. The read filters (`-e`, `--pid`, `--since`, ...)
//! and the reading loop are the library's ([`recorder::read`]), shared with
//! `stats` and `export`. `dump -` reads standard input; `dump --follow`
//! is [`super::follow`].

use std::io::{BufReader, BufWriter, Read, Write};

use anyhow::Context as _;
use recorder::{
    cli::DumpArgs,
    decode::{Formatter, OutputFormat, StringEscapes, TextOptions, TimeMode},
    event::Header,
    read::{self, Events},
};

pub fn run(args: &DumpArgs) -> anyhow::Result<()> {
    let spec = args.filter.spec();
    if read::is_stdin(&args.file) {
        // A pipe is followed by reading it: --follow changes nothing.
        let input = BufReader::with_capacity(1 << 20, std::io::stdin().lock());
        let reader = Events::from_reader(input, &args.file, &spec)?;
        return print_log(args, reader, None);
    }
    if args.follow {
        return super::follow::run(args);
    }
    let reader = Events::open(&args.file, &spec)?;
    let multi = read::multi_threaded(&args.file, &spec)?;
    print_log(args, reader, Some(multi))
}

/// The formatter for `header` with dump's options.
pub fn formatter(args: &DumpArgs, header: &Header) -> anyhow::Result<Formatter> {
    let mut fmt = Formatter::new(header).with_context(|| format!("{}", args.file.display()))?;
    if args.json {
        fmt.format = OutputFormat::Json;
    }
    fmt.text_options(&TextOptions {
        string_limit: args.string_limit,
        wall_clock: args.wall_clock > 0,
        durations: args.durations,
        decode_fds: args.decode_fds,
        escapes: match args.hex_strings {
            0 => StringEscapes::Octal,
            1 => StringEscapes::HexNonAscii,
            _ => StringEscapes::HexAll,
        },
        verbose: args.verbose,
    });
    if args.relative {
        fmt.time = TimeMode::SincePrevious;
    }
    Ok(fmt)
}

/// Prints `reader`'s events and its summary. `multi_thread`: whether more
/// than one thread is shown, when a first pass could tell (`None`: learnt
/// as the events come, for a log read once).
fn print_log<R: Read>(
    args: &DumpArgs,
    mut reader: Events<R>,
    multi_thread: Option<bool>,
) -> anyhow::Result<()> {
    reader.write_warnings(&mut std::io::stderr())?;
    if args.durations && reader.header().lean {
        eprintln!(
            "recorder: -T: {} (recorded with --mode lean: each call was taken at its exit only)",
            recorder::read::stats::NO_DURATIONS
        );
    }
    let mut fmt = formatter(args, reader.header())?;
    fmt.multi_thread = multi_thread.unwrap_or(false);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let res = print_events(&mut reader, &mut fmt, multi_thread.is_none(), &mut out)?;
    out.flush()?;
    say_summary(&reader);
    res.with_context(|| format!("{}: stopped reading", args.file.display()))?;
    Ok(())
}

/// Prints the events `reader` has; the error reading stopped at, if any
/// (an output error is returned as is, for a closed pipe to be seen).
pub fn print_events<R: Read>(
    reader: &mut Events<R>,
    fmt: &mut Formatter,
    learn_threads: bool,
    out: &mut impl Write,
) -> anyhow::Result<Result<(), recorder::log::LogError>> {
    loop {
        let (ev, shown) = match reader.next_any() {
            Ok(Some(next)) => next,
            Ok(None) => return Ok(Ok(())),
            Err(e) => return Ok(Err(e)),
        };
        if learn_threads {
            fmt.learn_threads(&ev);
        }
        if shown {
            fmt.write_event(out, &ev)?;
        } else {
            // Calls that are not shown still name descriptors for -y.
            fmt.track(&ev);
        }
    }
}

/// Completeness (losses, sequence gaps, how the file ends) on stderr, and
/// what a bundle lacks compared with the recording it was cut from
/// (`recorder bundle`): redactions, time window, processes.
pub fn say_summary<R: Read>(reader: &Events<R>) {
    eprintln!("{}", reader.summary());
    let removed = &reader.header().redactions;
    if !removed.is_empty() {
        eprintln!("recorder: removed: {}", removed.join("; "));
    }
    // A recording made with `-e` lacks the other calls by design.
    if let Some(note) = read::trace_note(reader.header()) {
        eprintln!("recorder: {note}");
    }
}
