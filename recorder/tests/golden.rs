//! Golden-file tests of the reader commands (`info`, `stats`, `dump`,
//! `export`) on small real logs checked into `golden/logs/` (recorded
//! on x86_64 and on arm64), and on damaged copies of them made here.
//!
//! Each case runs the `recorder` binary and compares its standard output,
//! standard error and exit status byte for byte with
//! `golden/expected/<case>.txt`, so any change of output format shows
//! up in review. After a deliberate change, rewrite the expected files with
//!
//! ```sh
//! UPDATE_GOLDEN=1 cargo test -p recorder --test golden
//! ```
//!
//! The logs' own header says the machine and clocks, and wall-clock times
//! are printed in UTC, so the output does not depend on the machine or
//! time zone reading them; every case runs under an unusual `TZ` to keep it
//! that way.
//!
//! Also here: the Perfetto export is valid JSON with properly nested events
//! on every thread, and every truncation and every flipped bit of a log
//! reads without a panic, delivering exactly the events before the damage.

use std::path::{Path, PathBuf};
use std::process::Command;

use recorder::decode::{Formatter, OutputFormat};
use recorder::event::Event;
use recorder::log::LogReader;
use recorder::read::{Events, Filter, FilterSpec, export, stats};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn logs_dir() -> PathBuf {
    golden_dir().join("logs")
}

/// Every checked-in log, as `arch/name`.
const LOGS: &[&str] = &[
    "x86_64/basic",
    "x86_64/data",
    "x86_64/threads",
    "x86_64/fork",
    "x86_64/crash",
    "aarch64/data",
    "aarch64/fork",
    "aarch64/threads",
];

/// Extra cases: (case name, arguments; `LOG` is replaced by `arch/name.rec`
/// of the log given third).
const CASES: &[(&str, &[&str], &str)] = &[
    // A log from a future revision of format 2 (made by
    // tools/reference-reader/make_future_log.py from v2/x86_64/basic):
    // unknown event and data kinds are skipped, counted and reported.
    ("info", &["info", "LOG"], "future/x86_64-basic"),
    ("dump", &["dump", "LOG"], "future/x86_64-basic"),
    ("info-json", &["info", "--json", "LOG"], "x86_64/basic"),
    // A watch log (`recorder watch -o`, format 2.5): calls of any process
    // that matched, each process named by a `who` record before its first
    // call; info says what the log holds, dump shows the who lines.
    ("info", &["info", "LOG"], "watch/x86_64-unlink"),
    ("dump", &["dump", "LOG"], "watch/x86_64-unlink"),
    // Filtered: a process's who line comes just before its first call
    // shown, and not at all for a process none of whose calls are.
    (
        "dump-e-since",
        &["dump", "-e", "unlinkat", "--since", "2.0009", "LOG"],
        "watch/x86_64-unlink",
    ),
    (
        "dump-json",
        &["dump", "--json", "LOG"],
        "watch/x86_64-unlink",
    ),
    ("stats", &["stats", "LOG"], "watch/x86_64-unlink"),
    ("export", &["export", "LOG"], "watch/x86_64-unlink"),
    // A lean log (`--mode lean`, format 2.3): no durations, and every
    // reader says so instead of showing zeros.
    ("info", &["info", "LOG"], "lean/x86_64-fork"),
    ("dump-T", &["dump", "-T", "LOG"], "lean/x86_64-fork"),
    ("dump-json", &["dump", "--json", "LOG"], "lean/x86_64-fork"),
    ("stats", &["stats", "LOG"], "lean/x86_64-fork"),
    (
        "stats-json",
        &["stats", "--json", "LOG"],
        "lean/x86_64-fork",
    ),
    ("export", &["export", "LOG"], "lean/x86_64-fork"),
    ("stats-json", &["stats", "--json", "LOG"], "x86_64/fork"),
    (
        "export-jsonl",
        &["export", "--format", "jsonl", "LOG"],
        "x86_64/basic",
    ),
    ("dump-json", &["dump", "--json", "LOG"], "aarch64/data"),
    (
        "dump-y-T-tt",
        &["dump", "-y", "-T", "-tt", "-s", "16", "LOG"],
        "x86_64/data",
    ),
    (
        "dump-y-files",
        &["dump", "-y", "-e", "openat,read,write,close", "LOG"],
        "aarch64/data",
    ),
    (
        "dump-file-failed",
        &["dump", "-e", "%file", "--failed", "LOG"],
        "x86_64/data",
    ),
    ("dump-r-T", &["dump", "-r", "-T", "LOG"], "x86_64/threads"),
    (
        "dump-tid",
        &["dump", "--tid", "15953", "LOG"],
        "x86_64/threads",
    ),
    (
        "dump-comm",
        &["dump", "--comm", "worker-2", "LOG"],
        "x86_64/threads",
    ),
    ("dump-pid", &["dump", "-p", "15962", "LOG"], "x86_64/fork"),
    (
        "dump-since-until",
        &["dump", "--since", "1.009970", "--until", "1.011210", "LOG"],
        "x86_64/basic",
    ),
    (
        "dump-wall-clock-range",
        &[
            "dump",
            "-tt",
            "--since",
            "13:21:27.664193",
            "--until",
            "2026-11-22T13:21:27.6652Z",
            "LOG",
        ],
        "x86_64/basic",
    ),
    (
        "dump-not-memory-or-signal",
        &["dump", "-e", "!%memory,%signal", "LOG"],
        "x86_64/crash",
    ),
    (
        "dump-open-on-arm64",
        &["dump", "-e", "open,openat", "LOG"],
        "aarch64/data",
    ),
    (
        "stats-process-class",
        &["stats", "-e", "%process", "--top", "3", "LOG"],
        "aarch64/fork",
    ),
    (
        "stats-comm",
        &["stats", "--comm", "worker-0", "--top", "0", "LOG"],
        "x86_64/threads",
    ),
    (
        "dump-unknown-syscall",
        &["dump", "-e", "opne", "LOG"],
        "x86_64/basic",
    ),
    (
        "dump-bad-time",
        &["dump", "--since", "yesterday", "LOG"],
        "x86_64/basic",
    ),
    (
        "export-perfetto-filtered",
        &["export", "-e", "%file", "--pid", "15962", "LOG"],
        "x86_64/fork",
    ),
    // recorder diff: pairs of runs of one program with one difference each
    // (golden/logs/diff/, recorded with fx-data and /bin/sh).
    (
        "diff-config",
        &["diff", "LOG", "diff/config-bad.rec"],
        "diff/config-good",
    ),
    (
        "diff-missing-file",
        &["diff", "LOG", "diff/missing-bad.rec"],
        "diff/config-good",
    ),
    (
        "diff-json",
        &["diff", "--json", "LOG", "diff/missing-bad.rec"],
        "diff/config-good",
    ),
    (
        "diff-extra-child",
        &["diff", "LOG", "diff/child-bad.rec"],
        "diff/child-good",
    ),
    (
        "diff-all",
        &["diff", "--all", "LOG", "diff/child-bad.rec"],
        "diff/child-good",
    ),
    (
        "diff-redacted",
        &["diff", "LOG", "diff/config-bad-redacted.rec"],
        "diff/config-good",
    ),
    (
        "diff-arm64",
        &["diff", "LOG", "aarch64/data.rec"],
        "x86_64/data",
    ),
    (
        "diff-format-versions",
        &["diff", "LOG", "v2/x86_64/data.rec"],
        "x86_64/data",
    ),
    (
        "diff-missing-log",
        &["diff", "LOG", "diff/nonexistent.rec"],
        "x86_64/data",
    ),
];

/// `recorder report` cases whose embedded document is golden: (case name,
/// arguments, log), as in [`CASES`]; the page goes to stdout (`-o -`).
const REPORT_CASES: &[(&str, &[&str], &str)] = &[
    ("report", &["report", "-o", "-", "LOG"], "x86_64/crash"),
    ("report", &["report", "-o", "-", "LOG"], "x86_64/fork"),
    ("report", &["report", "-o", "-", "LOG"], "lean/x86_64-fork"),
    ("report", &["report", "-o", "-", "LOG"], "aarch64/threads"),
    (
        "report-capped",
        &["report", "-o", "-", "--max-calls", "5", "-s", "8", "LOG"],
        "x86_64/data",
    ),
    (
        "report-filtered",
        &["report", "-o", "-", "--failed", "--pid", "15962", "LOG"],
        "x86_64/fork",
    ),
];

/// Logs whose full Perfetto export is golden (the export of every log is
/// checked for validity).
const PERFETTO_GOLDEN: &[&str] = &["x86_64/threads", "x86_64/crash", "aarch64/fork"];

/// Runs the recorder in `dir` and renders what it did.
fn run(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(args)
        .current_dir(dir)
        // Output must not depend on the reader's time zone.
        .env("TZ", "Pacific/Chatham")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run recorder");
    let code = out
        .status
        .code()
        .map_or_else(|| format!("{:?}", out.status), |c| c.to_string());
    format!(
        "$ recorder {}\n{}--- stderr\n{}--- exit status {code}\n",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    )
}

/// Runs `recorder report` in `dir` and renders the document its page
/// embeds, pretty-printed, with stderr and the exit status.
fn run_report(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(args)
        .current_dir(dir)
        .env("TZ", "Pacific/Chatham")
        .output()
        .expect("run recorder");
    let page = String::from_utf8(out.stdout).expect("the page is UTF-8");
    let json = recorder::read::report::embedded_json(&page)
        .map(|j| {
            let v: serde_json::Value = serde_json::from_str(j).expect("embedded JSON parses");
            serde_json::to_string_pretty(&v).unwrap() + "\n"
        })
        .unwrap_or_else(|| format!("no embedded document in:\n{page}"));
    format!(
        "$ recorder {}\n{json}--- stderr\n{}--- exit status {:?}\n",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr),
        out.status.code(),
    )
}

/// Compares `got` with the expected file of `case`, or rewrites it under
/// `UPDATE_GOLDEN`; returns a description of the mismatch.
fn check(case: &str, got: &str) -> Option<String> {
    let path = golden_dir().join("expected").join(format!("{case}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return None;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if want == got {
        return None;
    }
    let line = want
        .lines()
        .zip(got.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| want.lines().count().min(got.lines().count()));
    Some(format!(
        "{case}: output differs from {} at line {}:\n  want: {:?}\n  got:  {:?}",
        path.display(),
        line + 1,
        want.lines().nth(line).unwrap_or("<end>"),
        got.lines().nth(line).unwrap_or("<end>"),
    ))
}

fn check_all(cases: Vec<(String, String)>) {
    let failures: Vec<String> = cases.iter().filter_map(|(c, got)| check(c, got)).collect();
    assert!(
        failures.is_empty(),
        "{} golden mismatches (UPDATE_GOLDEN=1 rewrites them after a deliberate change):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn case_name(log: &str, what: &str) -> String {
    format!("{}.{what}", log.replace('/', "-"))
}

#[test]
fn every_log_through_every_command() {
    let dir = logs_dir();
    let mut cases = Vec::new();
    for log in LOGS {
        let file = format!("{log}.rec");
        for cmd in ["info", "stats", "dump"] {
            cases.push((case_name(log, cmd), run(&dir, &[cmd, &file])));
        }
        if PERFETTO_GOLDEN.contains(log) {
            cases.push((case_name(log, "export"), run(&dir, &["export", &file])));
        }
    }
    check_all(cases);
}

#[test]
fn options_and_filters() {
    let dir = logs_dir();
    let cases = CASES
        .iter()
        .map(|(name, args, log)| {
            let file = format!("{log}.rec");
            let args: Vec<&str> = args
                .iter()
                .map(|a| if *a == "LOG" { file.as_str() } else { a })
                .collect();
            (case_name(log, name), run(&dir, &args))
        })
        .collect();
    check_all(cases);
}

fn report_cases() -> Vec<(String, Vec<String>, &'static str)> {
    REPORT_CASES
        .iter()
        .map(|(name, args, log)| {
            let file = format!("{log}.rec");
            let args = args
                .iter()
                .map(|a| {
                    if *a == "LOG" {
                        file.clone()
                    } else {
                        (*a).to_owned()
                    }
                })
                .collect();
            (case_name(log, name), args, *log)
        })
        .collect()
}

#[test]
fn report_embedded_data() {
    let dir = logs_dir();
    let cases = report_cases()
        .into_iter()
        .map(|(case, args, _)| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            (case, run_report(&dir, &args))
        })
        .collect();
    check_all(cases);
}

/// Every line the page embeds is one that `recorder dump -y` prints for
/// the same log and filters: the page has no formatter of its own.
#[test]
fn report_lines_are_dump_lines() {
    let dir = logs_dir();
    for (case, args, _) in report_cases() {
        let file = args.last().unwrap().clone();
        let mut dump_args = vec!["dump".to_owned(), "-y".to_owned()];
        // The report's own options are not dump's; its filters are.
        let mut it = args.iter().skip(1).peekable();
        while let Some(a) = it.next() {
            match a.as_str() {
                "-o" | "--max-calls" => {
                    it.next();
                }
                _ => dump_args.push(a.clone()),
            }
        }
        let out = Command::new(env!("CARGO_BIN_EXE_recorder"))
            .args(&dump_args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let dump = String::from_utf8(out.stdout).unwrap();
        let dump: std::collections::HashSet<&str> = dump.lines().collect();
        let page = Command::new(env!("CARGO_BIN_EXE_recorder"))
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let page = String::from_utf8(page.stdout).unwrap();
        let json = recorder::read::report::embedded_json(&page).expect(&file);
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let mut lines: Vec<&str> = Vec::new();
        for c in v["calls"].as_array().unwrap() {
            lines.push(c[5].as_str().unwrap());
        }
        for m in v["markers"].as_array().unwrap() {
            lines.push(m[3].as_str().unwrap());
        }
        assert!(!lines.is_empty(), "{case}: no lines embedded");
        for l in lines {
            assert!(
                dump.contains(l),
                "{case}: {l:?} is not a line of dump {dump_args:?}"
            );
        }
    }
}

/// Frame offsets of a log: (offset, payload length) of each frame.
fn frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut off = 16 + header_len + 4;
    let mut v = Vec::new();
    while off + 34 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[off + 2..off + 6].try_into().unwrap()) as usize;
        v.push((off, len));
        off += 34 + len;
    }
    v
}

/// Damaged copies of x86_64/fork.rec (two blocks, then the trailer).
fn damaged() -> Vec<(&'static str, Vec<u8>)> {
    let good = std::fs::read(logs_dir().join("x86_64/fork.rec")).unwrap();
    let f = frames(&good);
    assert!(f.len() >= 3, "two blocks and a trailer: {f:?}");
    let (second, _) = f[1];
    let (trailer, _) = f[f.len() - 1];
    let mut flipped = good.clone();
    flipped[second + 34 + 50] ^= 0x10;
    let mut past_end = good.clone();
    past_end[second + 2..second + 6].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    let mut huge = good.clone();
    huge[second + 2..second + 6].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut future = good.clone();
    future[8..10].copy_from_slice(&(recorder::log::FORMAT_VERSION + 1).to_le_bytes());
    vec![
        ("truncated-block", good[..second + 34 + 100].to_vec()),
        ("truncated-trailer", good[..trailer + 10].to_vec()),
        ("no-trailer", good[..trailer].to_vec()),
        ("flipped-byte", flipped),
        ("length-past-end", past_end),
        ("huge-length", huge),
        ("future-version", future),
        ("truncated-header", good[..100].to_vec()),
        ("empty", Vec::new()),
        (
            "not-a-log",
            b"#!/bin/sh\necho this is not a recorder log\n".to_vec(),
        ),
    ]
}

#[test]
fn damaged_logs_report_the_offset_and_keep_what_came_before() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for (name, bytes) in damaged() {
        let file = format!("{name}.rec");
        std::fs::write(tmp.path().join(&file), &bytes).unwrap();
        let out = run(tmp.path(), &["dump", &file]);
        assert!(!out.contains("panicked"), "{out}");
        cases.push((format!("damaged-{name}.dump"), out));
        if name == "truncated-block" {
            for cmd in ["info", "stats", "export"] {
                cases.push((
                    format!("damaged-{name}.{cmd}"),
                    run(tmp.path(), &[cmd, &file]),
                ));
            }
        }
    }
    check_all(cases);
}

#[test]
fn no_stale_expected_files() {
    let mut known: Vec<String> = Vec::new();
    for log in LOGS {
        for cmd in ["info", "stats", "dump"] {
            known.push(case_name(log, cmd));
        }
        if PERFETTO_GOLDEN.contains(log) {
            known.push(case_name(log, "export"));
        }
    }
    known.extend(CASES.iter().map(|(n, _, log)| case_name(log, n)));
    known.extend(report_cases().into_iter().map(|(case, _, _)| case));
    for (name, _) in damaged() {
        known.push(format!("damaged-{name}.dump"));
        if name == "truncated-block" {
            for cmd in ["info", "stats", "export"] {
                known.push(format!("damaged-{name}.{cmd}"));
            }
        }
    }
    let dir = golden_dir().join("expected");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return; // first UPDATE_GOLDEN run
    };
    for e in entries {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        let case = name.strip_suffix(".txt").unwrap_or(&name);
        assert!(
            known.iter().any(|k| k == case),
            "{} belongs to no test case: delete it",
            dir.join(&name).display()
        );
    }
}

/// Checks a Chrome trace-event document: the structure Perfetto and
/// chrome://tracing need, and that the complete events of every thread nest
/// properly (none starts inside another and ends after it). Returns the
/// number of complete events.
fn validate_trace(json: &str) -> usize {
    let doc: serde_json::Value = serde_json::from_str(json).expect("the export is valid JSON");
    let events = doc["traceEvents"].as_array().expect("traceEvents array");
    assert!(doc["otherData"].is_object());
    let mut by_thread: std::collections::BTreeMap<(u64, u64), Vec<(f64, f64)>> = Default::default();
    let mut named = std::collections::BTreeSet::new();
    let mut used = std::collections::BTreeSet::new();
    for e in events {
        let ph = e["ph"].as_str().expect("ph");
        let pid = e["pid"].as_u64().expect("pid");
        let tid = e["tid"].as_u64().expect("tid");
        assert!(e["name"].is_string(), "{e}");
        match ph {
            "X" => {
                let ts = e["ts"].as_f64().expect("ts");
                let dur = e["dur"].as_f64().expect("dur");
                assert!(dur >= 0.0, "{e}");
                assert!(e["args"]["call"].is_string(), "{e}");
                by_thread
                    .entry((pid, tid))
                    .or_default()
                    .push((ts, ts + dur));
                used.insert((pid, tid));
            }
            "i" => {
                assert!(
                    ["t", "p", "g"].contains(&e["s"].as_str().unwrap_or("")),
                    "{e}"
                );
                assert!(e["ts"].is_number(), "{e}");
                used.insert((pid, tid));
            }
            "M" => {
                if e["name"] == "thread_name" {
                    named.insert((pid, tid));
                }
                assert!(e["args"]["name"].is_string(), "{e}");
            }
            other => panic!("unexpected phase {other}: {e}"),
        }
    }
    assert_eq!(used, named, "every track used is named, and only those");
    let mut complete = 0;
    for (thread, mut spans) in by_thread {
        complete += spans.len();
        // Longer first among equal starts, so a parent precedes its child.
        spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut open: Vec<f64> = Vec::new();
        for (start, end) in spans {
            while open.last().is_some_and(|&e| e <= start) {
                open.pop();
            }
            if let Some(&parent_end) = open.last() {
                assert!(
                    end <= parent_end,
                    "thread {thread:?}: [{start}, {end}] overlaps a slice ending at {parent_end}"
                );
            }
            open.push(end);
        }
    }
    complete
}

#[test]
fn perfetto_export_is_valid_and_nested_for_every_log() {
    let dir = logs_dir();
    for log in LOGS {
        let out = Command::new(env!("CARGO_BIN_EXE_recorder"))
            .args(["export", "--format", "perfetto", &format!("{log}.rec")])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{log}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json = String::from_utf8(out.stdout).unwrap();
        let n = validate_trace(&json);
        assert!(n > 10, "{log}: only {n} complete events");
    }
    // Written to a file with -o, from a damaged log: still a valid document.
    let tmp = tempfile::tempdir().unwrap();
    let (_, bytes) = damaged().into_iter().next().unwrap();
    std::fs::write(tmp.path().join("cut.rec"), bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(["export", "cut.rec", "-o", "trace.json"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "damage is an error");
    validate_trace(&std::fs::read_to_string(tmp.path().join("trace.json")).unwrap());
}

/// Everything the reader commands do with a log, in process: every event
/// through text (with -y) and JSON rendering, statistics and the Perfetto
/// writer. Returns the events read and whether reading ended in an error.
fn read_everything(bytes: &[u8]) -> (Vec<Event>, bool) {
    let Ok(reader) = LogReader::open(bytes) else {
        return (Vec::new(), true);
    };
    let Ok(filter) = Filter::new(&FilterSpec::default(), reader.header()) else {
        return (Vec::new(), true);
    };
    let header = reader.header().clone();
    let mut events = Events::new(reader, filter).with_tasks();
    let mut text = Formatter::new(&header).unwrap();
    text.decode_fds(true);
    let mut json = Formatter::new(&header).unwrap();
    json.format = OutputFormat::Json;
    let mut seen = Vec::new();
    let mut collector = stats::Collector::new(text.arch(), 5);
    let mut trace = export::Perfetto::begin(std::io::sink(), &header).unwrap();
    let failed = loop {
        match events.next_event() {
            Ok(Some(ev)) => {
                text.render_text(&ev);
                json.render_json(&ev);
                trace.event(&ev).unwrap();
                if let Event::Syscall(sc) = &ev {
                    collector.add(sc);
                }
                seen.push(ev);
            }
            Ok(None) => break false,
            Err(e) => {
                assert!(
                    e.to_string().contains("offset"),
                    "the error names the offset: {e}"
                );
                break true;
            }
        }
    };
    let c = events.completeness();
    collector.report(&header, events.tasks(), &c);
    trace.finish(&header, events.tasks(), &c).unwrap();
    (seen, failed)
}

#[test]
fn every_cut_and_every_flipped_bit_reads_cleanly() {
    for log in ["aarch64/data", "x86_64/fork"] {
        let good = std::fs::read(logs_dir().join(format!("{log}.rec"))).unwrap();
        let (all, failed) = read_everything(&good);
        assert!(!failed && !all.is_empty());
        let is_prefix = |got: &[Event]| got.len() <= all.len() && got == &all[..got.len()];
        for cut in 0..good.len() {
            let (got, failed) = read_everything(&good[..cut]);
            assert!(is_prefix(&got), "{log} cut at {cut}: events differ");
            // Only a cut exactly between frames reads without an error
            // (the log then just has no trailer).
            if !failed {
                assert!(
                    frames(&good).iter().any(|&(off, _)| off == cut),
                    "{log} cut at {cut}"
                );
            }
        }
        for at in 0..good.len() {
            for bit in [0x01, 0x80] {
                let mut bad = good.clone();
                bad[at] ^= bit;
                let (got, failed) = read_everything(&bad);
                assert!(failed, "{log}: flipping {bit:#x} at {at} went unnoticed");
                assert!(
                    is_prefix(&got),
                    "{log}: flipping {bit:#x} at {at} changed events"
                );
            }
        }
    }
}

/// `bytes` with every zstd frame stored uncompressed instead (and its CRC
/// recomputed): the same log, but with records the fuzzer can mutate.
fn stored(bytes: &[u8]) -> Vec<u8> {
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut out = bytes[..16 + header_len + 4].to_vec();
    for (off, len) in frames(bytes) {
        let head = &bytes[off..off + 34];
        let payload = &bytes[off + 34..off + 34 + len];
        let raw = match head[1] {
            1 => {
                let raw_len = u32::from_le_bytes(head[6..10].try_into().unwrap()) as usize;
                zstd::bulk::decompress(payload, raw_len).unwrap()
            }
            _ => payload.to_vec(),
        };
        let mut h = head.to_vec();
        h[1] = 0;
        h[2..6].copy_from_slice(&(raw.len() as u32).to_le_bytes());
        h[6..10].copy_from_slice(&(raw.len() as u32).to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&h[..30]);
        crc.update(&raw);
        h[30..34].copy_from_slice(&crc.finalize().to_le_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(&raw);
    }
    out
}

/// The fuzz seeds (`fuzz/seeds/`) are the golden logs with stored blocks,
/// and read exactly like them. `UPDATE_GOLDEN=1` rewrites them.
#[test]
fn fuzz_seeds_are_stored_copies_of_the_golden_logs() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    for log in LOGS {
        let good = std::fs::read(logs_dir().join(format!("{log}.rec"))).unwrap();
        let seed = stored(&good);
        let (want, failed) = read_everything(&good);
        assert!(!failed);
        assert_eq!(
            read_everything(&seed),
            (want, false),
            "{log}: the stored copy reads the same"
        );
        let path = seeds.join(format!("{}.stored", log.replace('/', "-")));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(&seeds).unwrap();
            std::fs::write(&path, &seed).unwrap();
        } else {
            assert!(
                std::fs::read(&path).is_ok_and(|s| s == seed),
                "{} is stale: UPDATE_GOLDEN=1 cargo test -p recorder --test golden",
                path.display()
            );
        }
    }
}

/// The golden logs again in format 2, as this recorder writes them
/// (`logs/v2/`, made once from the version 1 logs by re-encoding them with
/// [`LogWriter`]; `UPDATE_GOLDEN=1` creates missing ones but never rewrites
/// one: each is the stored example of its format version). They hold the
/// same header, events and trailer, and every reader command prints the
/// same for them as for the version 1 file.
#[test]
fn format_2_logs_read_the_same_as_format_1() {
    let mut failures = Vec::new();
    for log in LOGS {
        let v1 = logs_dir().join(format!("{log}.rec"));
        let v2 = logs_dir().join(format!("v2/{log}.rec"));
        if !v2.exists() && std::env::var_os("UPDATE_GOLDEN").is_some() {
            re_encode(&v1, &v2);
        }
        let (h1, e1, t1, v) = read_whole(&v1);
        assert_eq!(v, 1, "{log}");
        let (mut h2, e2, t2, v) = read_whole(&v2);
        assert_eq!(v, recorder::log::FORMAT_VERSION, "{log}: {}", v2.display());
        h2.format_minor = h1.format_minor;
        assert_eq!((h1, &e1, t1), (h2, &e2, t2), "{log}");
        assert!(!e1.is_empty());
        for args in [&["dump", "-T", "-y"][..], &["dump", "--json"], &["stats"]] {
            let run_on = |file: &str| {
                let mut a = args.to_vec();
                a.push(file);
                let out = run(&logs_dir(), &a);
                // Everything but the command line itself.
                out.split_once('\n').map(|x| x.1.to_owned()).unwrap_or(out)
            };
            let (a, b) = (
                run_on(&format!("{log}.rec")),
                run_on(&format!("v2/{log}.rec")),
            );
            if a != b {
                failures.push(format!(
                    "{log}: `{}` differs between formats 1 and 2",
                    args.join(" ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Header, events, trailer and format version of a whole, clean log.
fn read_whole(
    path: &Path,
) -> (
    recorder::event::Header,
    Vec<Event>,
    Option<recorder::event::Trailer>,
    u16,
) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = LogReader::open(std::io::BufReader::new(f)).expect("open");
    let events: Vec<Event> = r.by_ref().map(|e| e.expect("event")).collect();
    assert_eq!(
        r.end_state(),
        recorder::log::EndState::Clean,
        "{}",
        path.display()
    );
    (
        r.header().clone(),
        events,
        r.trailer().cloned(),
        r.format_version(),
    )
}

/// Writes `from`'s content to `to` in the current format.
fn re_encode(from: &Path, to: &Path) {
    let (header, events, trailer, _) = read_whole(from);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let mut w = recorder::log::LogWriter::new(Vec::new(), &header, 3).unwrap();
    for ev in &events {
        w.append(ev).unwrap();
    }
    let bytes = w.finish(&trailer.expect("a trailer")).unwrap();
    std::fs::write(to, bytes).unwrap();
}
