//! Measures what each zstd level costs the log writer, to choose the level
//! for log blocks by measurement rather than by folklore.
//!
//! ```sh
//! cargo run --release -p recorder --example zstd_levels -- [--levels 1,2,3] LOG...
//! ```
//!
//! Each input log is read whole into memory, then re-encoded at every level
//! with the library's [`LogWriter`] (default block size, as the daemon uses
//! it) into memory, so the time measured is what the daemon's writer thread
//! spends on encoding, compression, CRCs and framing, without any disk.
//! Each level runs at least `--min-reps` times and until `--min-time` has
//! passed, the levels taking turns; the fastest pass is reported, as noise
//! only ever adds time.
//!
//! One machine-readable line per (log, level) goes to stdout (or to
//! `--out`), starting with `level=`; `level=none` is the same writer with
//! blocks stored uncompressed ([`LogWriter::stored`]: postcard, length
//! prefixes, framing, CRC), the floor every level pays. `raw_bytes` is the
//! size of that stored log, and `ratio` is it over the compressed log. A
//! table per log follows for humans.

use std::fmt::Write as _;
use std::fs::File;
use std::hint::black_box;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use clap::Parser;
use recorder::decode::{Arch, sysent};
use recorder::event::{Event, Header, Trailer};
use recorder::log::{DEFAULT_BLOCK_SIZE, LogReader, LogWriter};

#[derive(Parser)]
#[command(
    name = "zstd_levels",
    about = "Re-encode recorder logs at several zstd levels and report cost and size per level"
)]
struct Args {
    /// zstd levels to measure, comma-separated (negative levels are zstd's fast modes).
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        default_value = "-1,1,2,3,4,5,6,7,9"
    )]
    levels: Vec<i32>,
    /// Each level runs at least this long (seconds, all repetitions together).
    #[arg(long, value_name = "SECS", default_value_t = 0.2)]
    min_time: f64,
    /// Each level runs at least this many times; the fastest run counts.
    #[arg(long, value_name = "N", default_value_t = 5)]
    min_reps: u32,
    /// Stop after this many repetitions of a level even if `--min-time` has
    /// not passed (tiny logs).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    max_reps: u32,
    /// Use only the first N records of each log.
    #[arg(long, value_name = "N")]
    max_records: Option<u64>,
    /// Use only the first records of each log, up to this many MiB of raw
    /// (uncompressed) records: keeps memory and time bounded in a small VM.
    #[arg(long, value_name = "MIB")]
    max_raw_mib: Option<u64>,
    /// Write the machine-readable lines to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Record the argument registers each call does not take as 0, as the
    /// drain does since logs of December 2026: measures what that saves on
    /// a log recorded before.
    #[arg(long)]
    clear_unused_args: bool,
    /// Recorder logs to re-encode.
    #[arg(required = true, value_name = "LOG")]
    logs: Vec<PathBuf>,
}

/// A log's events, in memory.
struct Input {
    path: PathBuf,
    header: Header,
    trailer: Trailer,
    events: Vec<Event>,
    /// Size of the log with its blocks stored uncompressed (trailer aside).
    raw_bytes: u64,
    /// Why the input stopped before the log's end, if it did.
    note: Option<String>,
}

/// One level's result on one log.
struct Measured {
    /// `None`: the encoding without zstd.
    level: Option<i32>,
    best: Duration,
    reps: u32,
    out_bytes: u64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.min_reps >= 1, "--min-reps must be at least 1");
    ensure!(
        args.max_reps >= args.min_reps,
        "--max-reps must be at least --min-reps"
    );
    let min_time = Duration::try_from_secs_f64(args.min_time)
        .map_err(|_| anyhow::anyhow!("--min-time must be a number of seconds, 0 or more"))?;
    for &level in &args.levels {
        let range = zstd::compression_level_range();
        ensure!(
            range.contains(&level),
            "zstd level {level} is outside the range this zstd supports ({}..={})",
            range.start(),
            range.end()
        );
    }
    let max_raw = args.max_raw_mib.map(|m| m.saturating_mul(1 << 20));

    let mut machine = String::new();
    for (index, path) in args.logs.iter().enumerate() {
        let input = read_log(path, args.max_records, max_raw, args.clear_unused_args)?;
        ensure!(
            !input.events.is_empty(),
            "{}: the log holds no events to compress",
            path.display()
        );
        eprintln!(
            "zstd_levels: {}: {} records, {:.1} MiB raw{}",
            path.display(),
            input.events.len(),
            input.raw_bytes as f64 / f64::from(1 << 20),
            input
                .note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
        let results = measure(&input, &args, min_time)?;
        for m in &results {
            let line = machine_line(index, &input, m);
            // With --out, stdout keeps only the human tables (the arm64
            // guest's console shows them as progress).
            if args.out.is_none() {
                println!("{line}");
            }
            machine.push_str(&line);
            machine.push('\n');
        }
        // Per log, as it is done: a sweep in the emulated guest is slow.
        print!("{}", human_table(&input, &results));
    }
    if let Some(out) = &args.out {
        std::fs::write(out, &machine).with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}

/// Reads the events of `path` (all, or up to the limits).
fn read_log(
    path: &Path,
    max_records: Option<u64>,
    max_raw: Option<u64>,
    clear_unused_args: bool,
) -> Result<Input> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = LogReader::open(BufReader::with_capacity(1 << 20, file))
        .with_context(|| format!("{} is not a readable recorder log", path.display()))?;
    let header = reader.header().clone();
    let taken = Arch::from_name(&header.arch)
        .filter(|_| clear_unused_args)
        .map(sysent::args_taken);
    let mut events = Vec::new();
    // The same events through a stored writer: what the limit counts.
    let mut stored = LogWriter::stored(std::io::sink(), &header)
        .with_context(|| format!("{}: cannot re-encode", path.display()))?;
    let raw_bytes = |w: &LogWriter<_>| w.bytes_written();
    let mut note = None;
    loop {
        if max_records.is_some_and(|max| events.len() as u64 >= max) {
            note = Some(format!("first {} records only", events.len()));
            break;
        }
        if max_raw.is_some_and(|max| raw_bytes(&stored) >= max) {
            note = Some(format!(
                "first {:.1} MiB of records only",
                raw_bytes(&stored) as f64 / f64::from(1 << 20)
            ));
            break;
        }
        let mut event = match reader.next_event() {
            Ok(Some(event)) => event,
            Ok(None) => break,
            // A damaged tail still leaves good events to measure.
            Err(err) => {
                eprintln!(
                    "zstd_levels: warning: {}: stopped reading: {err}",
                    path.display()
                );
                note = Some("log damaged, read up to the damage".into());
                break;
            }
        };
        if let (Some(taken), Event::Syscall(s)) = (taken, &mut event) {
            s.args = sysent::clear_unused_args(taken, s.nr, s.args);
        }
        stored
            .append(&event)
            .with_context(|| format!("{}: an event does not encode", path.display()))?;
        events.push(event);
    }
    stored.flush_block()?;
    let raw_bytes = raw_bytes(&stored);
    let trailer = reader.trailer().cloned().unwrap_or_default();
    Ok(Input {
        path: path.to_owned(),
        header,
        trailer,
        events,
        raw_bytes,
        note,
    })
}

/// Runs the zstd-free encoding and every level until each meets the
/// repetition rules, keeping each one's fastest pass. The passes go round
/// robin (every variant once per round), so a noisy stretch of a shared
/// machine slows all levels alike instead of skewing one.
fn measure(input: &Input, args: &Args, min_time: Duration) -> Result<Vec<Measured>> {
    let mut results: Vec<Measured> = std::iter::once(None)
        .chain(args.levels.iter().copied().map(Some))
        .map(|level| Measured {
            level,
            best: Duration::MAX,
            reps: 0,
            out_bytes: 0,
        })
        .collect();
    let mut totals = vec![Duration::ZERO; results.len()];
    // One buffer for every pass: after the first, no pass pays for page
    // faults, as a long-running writer's buffers are warm too.
    let mut out = Vec::with_capacity(usize::try_from(input.raw_bytes).unwrap_or(0) + (1 << 20));
    loop {
        let mut ran = false;
        for (m, total) in results.iter_mut().zip(&mut totals) {
            let done = m.reps >= args.min_reps && (*total >= min_time || m.reps >= args.max_reps);
            if done {
                continue;
            }
            ran = true;
            out.clear();
            let start = Instant::now();
            write_log(input, m.level, &mut out)?;
            let elapsed = start.elapsed();
            black_box(&out);
            m.best = m.best.min(elapsed);
            *total += elapsed;
            m.reps += 1;
            m.out_bytes = out.len() as u64;
        }
        if !ran {
            return Ok(results);
        }
    }
}

/// What the daemon's writer does with a stream of events, at `level` or
/// (`None`) with blocks stored.
fn write_log(input: &Input, level: Option<i32>, out: &mut Vec<u8>) -> Result<()> {
    let what = || {
        format!(
            "{}: writing at level {}",
            input.path.display(),
            label(level)
        )
    };
    let mut w = match level {
        Some(level) => LogWriter::new(&mut *out, &input.header, level),
        None => LogWriter::stored(&mut *out, &input.header),
    }
    .with_context(what)?;
    for event in &input.events {
        w.append(event).with_context(what)?;
    }
    w.finish(&input.trailer).with_context(what)?;
    Ok(())
}

fn label(level: Option<i32>) -> String {
    level.map_or_else(|| "none".to_owned(), |l| l.to_string())
}

struct Derived {
    records: u64,
    ns_per_record: f64,
    mb_per_s: f64,
    bytes_per_record: f64,
    ratio: f64,
}

fn derive(input: &Input, m: &Measured) -> Derived {
    let records = input.events.len() as u64;
    let secs = m.best.as_secs_f64();
    Derived {
        records,
        ns_per_record: secs * 1e9 / records as f64,
        mb_per_s: if secs > 0.0 {
            input.raw_bytes as f64 / 1e6 / secs
        } else {
            f64::INFINITY
        },
        bytes_per_record: m.out_bytes as f64 / records as f64,
        ratio: input.raw_bytes as f64 / m.out_bytes.max(1) as f64,
    }
}

/// `level=L log=I records=… file=NAME`: the file name comes last because it
/// may hold spaces.
fn machine_line(index: usize, input: &Input, m: &Measured) -> String {
    let d = derive(input, m);
    format!(
        "level={} log={index} records={} raw_bytes={} out_bytes={} best_ns={} reps={} \
         ns_per_record={:.1} mb_per_s={:.1} bytes_per_record={:.2} ratio={:.3} file={}",
        label(m.level),
        d.records,
        input.raw_bytes,
        m.out_bytes,
        m.best.as_nanos(),
        m.reps,
        d.ns_per_record,
        d.mb_per_s,
        d.bytes_per_record,
        d.ratio,
        input
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    )
}

fn human_table(input: &Input, results: &[Measured]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n{}: {} records, {:.2} MiB of raw records ({:.1} B/record){}, block size {} KiB",
        input.path.display(),
        input.events.len(),
        input.raw_bytes as f64 / f64::from(1 << 20),
        input.raw_bytes as f64 / input.events.len() as f64,
        input
            .note
            .as_deref()
            .map(|n| format!(", {n}"))
            .unwrap_or_default(),
        DEFAULT_BLOCK_SIZE >> 10
    );
    let _ = writeln!(
        s,
        "  {:>5}  {:>10}  {:>9}  {:>10}  {:>9}  {:>7}  {:>5}",
        "level", "ns/record", "MB/s", "out bytes", "B/record", "ratio", "reps"
    );
    for m in results {
        let d = derive(input, m);
        let _ = writeln!(
            s,
            "  {:>5}  {:>10.1}  {:>9.1}  {:>10}  {:>9.2}  {:>7.2}  {:>5}",
            label(m.level),
            d.ns_per_record,
            d.mb_per_s,
            m.out_bytes,
            d.bytes_per_record,
            d.ratio,
            m.reps
        );
    }
    s
}
