//! Bundles of synthetic logs: ordering, windows, process selection,
//! redaction, counters.

use std::io::Cursor;

use super::*;
use crate::event::{CaptureKind, Filter, ProcEvent};

const SEC: u64 = 1_000_000_000;
/// Monotonic clock at the recording start.
const T0: u64 = 1_000 * SEC;
const SECRET: &[u8] = b"hunter2-SECRET-xyz";

fn nr(name: &str) -> i64 {
    syscall_nr(Arch::X86_64, name).unwrap()
}

fn header() -> Header {
    Header {
        recorder_version: "0.1.0".into(),
        arch: "x86_64".into(),
        kernel_release: "6.1.0".into(),
        hostname: "build-host".into(),
        page_size: 4096,
        realtime_offset_ns: 1_700_000_000 * SEC as i64,
        start_mono_ns: T0,
        start_wall_ns: 1_700_000_000 * SEC + T0,
        command_line: vec![
            "recorder".into(),
            "-o".into(),
            "x.rec".into(),
            "--".into(),
            "app".into(),
            "hunter2-SECRET-xyz".into(),
        ],
        filter: Filter {
            command: vec!["app".into(), "hunter2-SECRET-xyz".into()],
            follow_forks: true,
            ..Filter::default()
        },
        capture_size: 4096,
        ring_size: 1 << 20,
        // What the log writer stamps, so headers compare equal after a
        // round trip.
        format_minor: crate::log::FORMAT_MINOR,
        ..Header::default()
    }
}

/// A syscall of process `tgid` at `secs` seconds after the start.
fn call(tgid: u32, secs: u64, name: &str, data: Vec<Capture>) -> Event {
    Event::Syscall(Syscall {
        tgid,
        tid: tgid,
        seq: secs,
        nr: nr(name),
        // Non-NULL pointers, so `dump` shows what was captured.
        args: [3, 0x1000, 0x2000, 0, 0, 0],
        ret: Some(0),
        enter_ns: T0 + secs * SEC,
        exit_ns: Some(T0 + secs * SEC + 1000),
        data,
        ..Syscall::default()
    })
}

fn proc_ev(tgid: u32, secs: u64, aux: u32, comm: &str) -> ProcEvent {
    ProcEvent {
        tgid,
        tid: tgid,
        ts_ns: T0 + secs * SEC,
        cpu: 0,
        aux,
        comm: comm.into(),
    }
}

fn counters(emitted: u64, ring_full: u64) -> Counters {
    Counters {
        emitted,
        ring_full,
        written: emitted,
        ..Counters::default()
    }
}

/// A log of `events`, closed with a trailer carrying `c` (none if `None`).
fn log(h: &Header, events: &[Event], c: Option<Counters>) -> Vec<u8> {
    let mut w = LogWriter::new(Vec::new(), h, 1).unwrap();
    for ev in events {
        w.append(ev).unwrap();
    }
    match c {
        Some(counters) => w
            .finish(&Trailer {
                end_wall_ns: 0,
                end_mono_ns: 0,
                counters,
            })
            .unwrap(),
        None => {
            w.flush_block().unwrap();
            w.get_ref().clone()
        }
    }
}

fn input(name: &str, bytes: Vec<u8>) -> Input<Cursor<Vec<u8>>> {
    Input {
        name: name.into(),
        reader: Cursor::new(bytes),
    }
}

#[derive(Debug)]
struct Bundled {
    bytes: Vec<u8>,
    header: Header,
    events: Vec<Event>,
    trailer: Trailer,
    report: Report,
}

fn run(inputs: Vec<Input<Cursor<Vec<u8>>>>, opts: &Options) -> Result<Bundled, BundleError> {
    let (bytes, report) = bundle(inputs, opts, Vec::new())?;
    let mut r = LogReader::open(bytes.as_slice()).unwrap();
    let mut events = Vec::new();
    while let Some(ev) = r.next_event().unwrap() {
        events.push(ev);
    }
    assert_eq!(r.end_state(), EndState::Clean);
    Ok(Bundled {
        header: r.header().clone(),
        trailer: r.trailer().cloned().unwrap(),
        bytes,
        events,
        report,
    })
}

fn opts() -> Options {
    Options {
        level: 3,
        ..Options::default()
    }
}

/// Seconds after the start of each syscall, in order.
fn times(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Syscall(s) => Some((s.enter_ns - T0) / SEC),
            _ => None,
        })
        .collect()
}

fn ten_calls() -> Vec<Event> {
    (0..10).map(|s| call(100, s, "getpid", vec![])).collect()
}

#[test]
fn time_specs() {
    assert_eq!(
        parse_time_spec("5m"),
        Ok(TimeSpec::At(read::TimeSpec::Relative(300 * SEC)))
    );
    assert_eq!(
        parse_time_spec("+90s"),
        Ok(TimeSpec::At(read::TimeSpec::Relative(90 * SEC)))
    );
    assert_eq!(
        parse_time_spec("-1.5s"),
        Ok(TimeSpec::BeforeEnd(Duration::from_millis(1500)))
    );
    // The forms `dump --since` takes.
    assert!(matches!(
        parse_time_spec("12:34:56"),
        Ok(TimeSpec::At(read::TimeSpec::TimeOfDay(_)))
    ));
    assert!(matches!(
        parse_time_spec("@1700000000"),
        Ok(TimeSpec::At(read::TimeSpec::Wall(_)))
    ));
    assert!(parse_time_spec("-12:00").is_err());
    assert!(parse_time_spec("-").is_err());
    assert!(parse_time_spec("yesterday").is_err());
}

#[test]
fn everything_when_nothing_is_cut() {
    let mut events = ten_calls();
    events.insert(3, Event::Counters(counters(3, 0)));
    let b = run(
        vec![input(
            "x.rec",
            log(&header(), &events, Some(counters(10, 0))),
        )],
        &opts(),
    )
    .unwrap();
    // Counter checkpoints are not copied: the trailer has the totals.
    assert_eq!(times(&b.events), (0..10).collect::<Vec<_>>());
    assert_eq!(b.events.len(), 10);
    assert_eq!(b.header, header(), "nothing redacted, nothing cut");
    assert_eq!(b.trailer.counters.emitted, 10);
    assert_eq!(b.trailer.counters.written, 10);
    assert_eq!((b.report.events, b.report.events_in), (10, 10));
}

#[test]
fn time_window_from_start_and_from_end() {
    let bytes = log(&header(), &ten_calls(), Some(counters(10, 0)));
    let window = |since: &str, until: &str| {
        let o = Options {
            since: (!since.is_empty()).then(|| parse_time_spec(since).unwrap()),
            until: (!until.is_empty()).then(|| parse_time_spec(until).unwrap()),
            ..opts()
        };
        run(vec![input("x.rec", bytes.clone())], &o).map(|b| (times(&b.events), b))
    };
    let (t, b) = window("2s", "5s").unwrap();
    assert_eq!(t, [2, 3, 4], "half-open: until is excluded");
    assert_eq!(
        b.header.redactions,
        [
            "time: kept +2.000s to +5.000s after the recording start, of 9.000s recorded; \
             events outside removed"
        ]
    );
    // The last event is at +9s: 3s before it is +6s.
    assert_eq!(window("-3s", "").unwrap().0, [6, 7, 8, 9]);
    assert_eq!(window("", "-7s").unwrap().0, [0, 1]);
    assert!(matches!(
        window("5s", "5s").map(|_| ()),
        Err(BundleError::EmptyWindow { .. })
    ));
    assert!(matches!(
        window("1h", "").map(|_| ()),
        Err(BundleError::Nothing(_))
    ));
    // The counters still describe the whole recording.
    assert_eq!(b.trailer.counters.emitted, 10);
    assert_eq!(b.trailer.counters.written, 3);
}

#[test]
fn processes_by_pid_and_comm_with_children() {
    let events = vec![
        Event::Exec(proc_ev(100, 0, 0, "myapp")),
        call(100, 1, "getpid", vec![]),
        call(200, 1, "getpid", vec![]),
        Event::Fork(proc_ev(100, 2, 101, "myapp")),
        Event::Exec(proc_ev(101, 3, 0, "helper")),
        call(101, 4, "getpid", vec![]),
        Event::Fork(proc_ev(101, 5, 102, "helper")),
        call(102, 6, "getpid", vec![]),
        Event::Exec(proc_ev(200, 7, 0, "other")),
        call(300, 8, "getpid", vec![]),
    ];
    let bytes = log(&header(), &events, Some(counters(10, 0)));
    let tgids = |o: Options| {
        let b = run(vec![input("x.rec", bytes.clone())], &o)?;
        let mut t: Vec<u32> = b
            .events
            .iter()
            .map(|e| match e {
                Event::Syscall(s) => s.tgid,
                Event::Exec(p) | Event::Fork(p) | Event::Exit(p) => p.tgid,
                Event::Signal(s) => s.tgid,
                Event::Pause(p) => p.tgid,
                Event::Who(w) => w.tgid,
                Event::Counters(_) => 0,
            })
            .collect();
        t.dedup();
        Ok::<_, BundleError>((t, b.header.redactions))
    };
    let (t, notes) = tgids(Options {
        comms: vec!["myapp".into()],
        ..opts()
    })
    .unwrap();
    assert_eq!(t, [100, 101, 102], "myapp and its descendants");
    assert_eq!(
        notes,
        ["processes: only comm myapp and their children (3 processes); events of others removed"]
    );
    let (t, _) = tgids(Options {
        pids: vec![101],
        ..opts()
    })
    .unwrap();
    assert_eq!(t, [100, 101, 102], "the fork that created 101 is kept");
    // Names longer than the kernel's 15 bytes match their truncation.
    let (t, _) = tgids(Options {
        comms: vec!["other".into()],
        ..opts()
    })
    .unwrap();
    assert_eq!(t, [200]);
    let err = tgids(Options {
        comms: vec!["nope".into()],
        ..opts()
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("names seen: helper, myapp, other"),
        "lists what there is: {msg}"
    );
    assert!(
        tgids(Options {
            pids: vec![4242],
            ..opts()
        })
        .is_err()
    );
}

#[test]
fn long_comm_matches_its_kernel_truncation() {
    let events = vec![
        Event::Exec(proc_ev(100, 0, 0, "a-very-long-nam")),
        call(100, 1, "getpid", vec![]),
        call(200, 1, "getpid", vec![]),
    ];
    let b = run(
        vec![input(
            "x.rec",
            log(&header(), &events, Some(counters(3, 0))),
        )],
        &Options {
            comms: vec!["a-very-long-name-indeed".into()],
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(b.events.len(), 2);
}

fn data_events() -> Vec<Event> {
    vec![
        call(
            100,
            0,
            "execve",
            vec![
                Capture::whole(0, CaptureKind::Str, b"/usr/bin/app"),
                Capture::whole(1, CaptureKind::Str, b"app"),
                Capture::whole(1, CaptureKind::Str, SECRET),
                Capture::whole(2, CaptureKind::Str, b"TOKEN=hunter2-SECRET-xyz"),
            ],
        ),
        call(
            100,
            1,
            "openat",
            vec![Capture::whole(1, CaptureKind::Str, b"/tmp/secret.txt")],
        ),
        call(
            100,
            2,
            "write",
            vec![Capture::whole(1, CaptureKind::InBuf, SECRET)],
        ),
        call(
            100,
            3,
            "read",
            vec![Capture::whole(1, CaptureKind::OutBuf, SECRET)],
        ),
    ]
}

fn captures(events: &[Event], name: &str) -> Vec<Capture> {
    events
        .iter()
        .find_map(|e| match e {
            Event::Syscall(s) if s.nr == nr(name) => Some(s.data.clone()),
            _ => None,
        })
        .unwrap()
}

fn redacted(c: &Capture, len: usize) -> bool {
    c.bytes.is_empty() && c.truncated && c.len == len as u64 && !c.read_failed
}

#[test]
fn redact_data_drops_every_payload_keeping_its_shape() {
    let b = run(
        vec![input(
            "x.rec",
            log(&header(), &data_events(), Some(counters(4, 0))),
        )],
        &Options {
            redact_data: true,
            ..opts()
        },
    )
    .unwrap();
    let w = captures(&b.events, "write");
    assert_eq!((w[0].arg, w[0].kind), (1, CaptureKind::InBuf));
    assert!(redacted(&w[0], SECRET.len()), "{w:?}");
    assert!(redacted(&captures(&b.events, "read")[0], SECRET.len()));
    assert!(
        captures(&b.events, "execve")
            .iter()
            .all(|c| c.bytes.is_empty())
    );
    assert_eq!(b.header.redactions, ["data"]);
    // Only data was asked for: the header's command line stays.
    assert_eq!(b.header.command_line, header().command_line);
}

#[test]
fn keep_data_for_chosen_syscalls() {
    let b = run(
        vec![input(
            "x.rec",
            log(&header(), &data_events(), Some(counters(4, 0))),
        )],
        &Options {
            redact_data: true,
            keep_data: vec!["openat".into(), "read".into(), "openat".into()],
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(
        captures(&b.events, "openat")[0].bytes,
        b"/tmp/secret.txt".to_vec()
    );
    assert_eq!(captures(&b.events, "read")[0].bytes, SECRET.to_vec());
    assert!(redacted(&captures(&b.events, "write")[0], SECRET.len()));
    assert_eq!(b.header.redactions, ["data (kept: openat, read)"]);

    let bytes = log(&header(), &data_events(), None);
    let err = |o: Options| run(vec![input("x.rec", bytes.clone())], &o).err();
    assert!(matches!(
        err(Options {
            redact_data: true,
            keep_data: vec!["no_such_call".into()],
            ..opts()
        }),
        Some(BundleError::UnknownSyscall { .. })
    ));
    assert!(matches!(
        err(Options {
            keep_data: vec!["read".into()],
            ..opts()
        }),
        Some(BundleError::KeepWithoutRedact)
    ));
}

#[test]
fn redact_argv_and_host() {
    let b = run(
        vec![input(
            "x.rec",
            log(&header(), &data_events(), Some(counters(4, 0))),
        )],
        &Options {
            redact_argv: true,
            redact_host: true,
            ..opts()
        },
    )
    .unwrap();
    let exec = captures(&b.events, "execve");
    assert_eq!(exec[0].bytes, b"/usr/bin/app".to_vec(), "the path is data");
    assert_eq!(exec[1].bytes, b"app".to_vec(), "argv[0] is kept");
    assert!(redacted(&exec[2], SECRET.len()), "argv[1] is masked");
    assert!(exec[3].bytes.is_empty(), "envp is masked");
    // Data of other calls is untouched.
    assert_eq!(captures(&b.events, "write")[0].bytes, SECRET.to_vec());
    assert_eq!(b.header.hostname, MASK);
    assert_eq!(
        b.header.command_line,
        ["recorder", MASK, MASK, MASK, MASK, MASK]
    );
    assert_eq!(b.header.filter.command, ["app", MASK]);
    assert_eq!(b.header.redactions, ["host", "argv"]);
    // The machine description stays.
    assert_eq!(b.header.kernel_release, "6.1.0");
    assert_eq!(b.header.arch, "x86_64");
}

/// Everything redacted: the secret is nowhere in the file, neither in the
/// raw bytes nor in any decoded string or capture.
#[test]
fn fully_redacted_bundle_has_no_secret_bytes() {
    let mut h = header();
    h.hostname = "hunter2-SECRET-xyz".into();
    let source = log(&h, &data_events(), Some(counters(4, 0)));
    // Stored blocks (incompressible data) would show it raw; this one is
    // tiny and compressed, so check the decoded content too.
    let b = run(
        vec![input("x.rec", source.clone())],
        &Options {
            redact_data: true,
            redact_argv: true,
            redact_host: true,
            ..opts()
        },
    )
    .unwrap();
    let contains = |hay: &[u8]| hay.windows(SECRET.len()).any(|w| w == SECRET);
    assert!(!contains(&b.bytes));
    let mut decoded = postcard::to_stdvec(&b.header).unwrap();
    for ev in &b.events {
        decoded.extend(postcard::to_stdvec(ev).unwrap());
    }
    assert!(!contains(&decoded));
    assert!(!format!("{:?}{:?}", b.header, b.events).contains("hunter2"));

    // ...while the source had it in every place the bundle cleaned.
    let mut r = LogReader::open(source.as_slice()).unwrap();
    let mut src = postcard::to_stdvec(r.header()).unwrap();
    while let Some(ev) = r.next_event().unwrap() {
        src.extend(postcard::to_stdvec(&ev).unwrap());
    }
    assert!(contains(&src));
}

#[test]
fn rotated_set_in_any_order_counts_losses_once() {
    // One recording rotated into three files: same header, counters
    // cumulative since the start, `written` per file.
    let h = header();
    let part = |from: u64, emitted: u64, ring_full: u64| {
        let events: Vec<Event> = (from..from + 3)
            .map(|s| call(100, s, "getpid", vec![]))
            .collect();
        log(&h, &events, Some(counters(emitted, ring_full)))
    };
    let inputs = vec![
        input("x.rec", part(6, 9, 5)),
        input("x.rec.2", part(0, 3, 1)),
        input("x.rec.1", part(3, 6, 2)),
    ];
    let b = run(inputs, &opts()).unwrap();
    assert_eq!(b.report.order, ["x.rec.2", "x.rec.1", "x.rec"]);
    assert_eq!(times(&b.events), (0..9).collect::<Vec<_>>());
    let c = &b.trailer.counters;
    assert_eq!((c.emitted, c.ring_full, c.written), (9, 5, 9));

    // Two separate recordings add up.
    let mut h2 = header();
    h2.start_mono_ns = T0 + 100 * SEC;
    let second = log(&h2, &[call(7, 101, "getpid", vec![])], Some(counters(1, 4)));
    let b = run(
        vec![input("b.rec", second), input("a.rec", part(0, 3, 1))],
        &opts(),
    )
    .unwrap();
    assert_eq!(b.report.order, ["a.rec", "b.rec"]);
    let c = &b.trailer.counters;
    assert_eq!((c.emitted, c.ring_full, c.written), (4, 5, 4));
    assert_eq!(b.header.start_mono_ns, T0, "the earliest input's header");
}

#[test]
fn inputs_from_different_machines_are_refused() {
    let mut other = header();
    other.arch = "aarch64".into();
    let err = run(
        vec![
            input("a.rec", log(&header(), &ten_calls(), None)),
            input("b.rec", log(&other, &ten_calls(), None)),
        ],
        &opts(),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        BundleError::Mismatch {
            what: "architecture",
            ..
        }
    ));
    assert!(
        err.to_string()
            .contains("come from different machines (architecture \"x86_64\" vs \"aarch64\")"),
        "{err}"
    );
}

/// The bundle's one header says which syscalls it holds (`recorder -e`):
/// sources recorded with different sets cannot share it; with the same
/// set, the bundle keeps it.
#[test]
fn inputs_with_different_syscall_sets_are_refused() {
    let mut traced = header();
    traced.trace = vec!["openat".into()];
    traced.traced_nrs = vec![nr("openat")];
    let err = run(
        vec![
            input("a.rec", log(&header(), &ten_calls(), None)),
            input("b.rec", log(&traced, &ten_calls(), None)),
        ],
        &opts(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a.rec and b.rec were recorded with different syscall sets (every syscall vs -e openat): \
         bundle them separately"
    );
    let b = run(
        vec![
            input("a.rec", log(&traced, &ten_calls(), None)),
            input("b.rec", log(&traced, &ten_calls(), None)),
        ],
        &opts(),
    )
    .unwrap();
    assert_eq!(b.header.trace_set(), Some(&[nr("openat")][..]));
}

#[test]
fn a_source_cut_short_is_used_up_to_the_damage_and_noted() {
    let mut bytes = log(&header(), &ten_calls(), None);
    // The start of a frame that never got finished.
    bytes.extend_from_slice(&[b'B', 1, 200, 0, 0, 0]);
    let b = run(vec![input("x.rec", bytes)], &opts()).unwrap();
    assert_eq!(times(&b.events), (0..10).collect::<Vec<_>>());
    assert_eq!(b.header.redactions.len(), 2, "{:?}", b.header.redactions);
    assert!(
        b.header.redactions[0].starts_with("source x.rec: truncated block at offset"),
        "{:?}",
        b.header.redactions
    );
    assert_eq!(
        b.header.redactions[1],
        "source x.rec: no loss counters (its losses are unknown)"
    );
}

#[test]
fn bundling_a_bundle_keeps_its_notes() {
    let first = run(
        vec![input(
            "x.rec",
            log(&header(), &data_events(), Some(counters(4, 0))),
        )],
        &Options {
            redact_host: true,
            ..opts()
        },
    )
    .unwrap();
    let second = run(
        vec![input("b1.rec", first.bytes)],
        &Options {
            redact_data: true,
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(second.header.redactions, ["host", "data"]);
}

#[test]
fn no_inputs() {
    assert!(matches!(
        bundle(Vec::<Input<Cursor<Vec<u8>>>>::new(), &opts(), Vec::new()),
        Err(BundleError::NoInputs)
    ));
    let err = bundle(vec![input("x.txt", b"hello".to_vec())], &opts(), Vec::new()).unwrap_err();
    assert_eq!(
        format!("{:#}", anyhow::Error::from(err)),
        "x.txt: not a recorder log (bad magic)"
    );
}

/// `recorder dump` shows a dropped payload as redacted, not as an empty
/// or too-short capture.
#[test]
fn dump_shows_redacted_captures_as_such() {
    let dump = |o: Options| {
        let b = run(
            vec![input(
                "x.rec",
                log(&header(), &data_events(), Some(counters(4, 0))),
            )],
            &o,
        )
        .unwrap();
        assert!(captures_redacted(&b.header));
        let mut f = crate::decode::Formatter::new(&b.header).unwrap();
        let mut text = Vec::new();
        for ev in &b.events {
            f.write_event(&mut text, ev).unwrap();
        }
        String::from_utf8(text).unwrap()
    };
    let text = dump(Options {
        redact_argv: true,
        ..opts()
    });
    assert!(
        text.contains(r#"execve("/usr/bin/app", ["app", /* redacted */], 0x2000 /* 1 var */)"#),
        "argv[0] kept, the rest and envp redacted:\n{text}"
    );
    let text = dump(Options {
        redact_data: true,
        ..opts()
    });
    assert!(
        text.contains("write(3, 0x1000 /* redacted */, 8192)"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    // An ordinary log says nothing of the sort.
    assert!(!captures_redacted(&header()));
}

/// A watch log's `Who` from before the time window goes into the bundle
/// with the first kept call of its process, retimed to it; a process
/// none of whose calls are kept is not described.
#[test]
fn watch_descriptions_follow_their_first_kept_call() {
    let who = |tgid: u32, secs: u64| {
        Event::Who(crate::event::WhoEvent {
            tgid,
            tid: tgid,
            ts_ns: T0 + secs * SEC,
            comm: format!("p{tgid}"),
            exe: "/usr/bin/rm".into(),
            ..Default::default()
        })
    };
    let h = Header {
        watch: true,
        ..header()
    };
    let events = vec![
        who(5, 0),
        call(5, 0, "openat", vec![]),
        who(6, 1),
        call(6, 1, "openat", vec![]),
        call(5, 3, "openat", vec![]),
    ];
    let bytes = log(&h, &events, Some(counters(3, 0)));
    let o = Options {
        since: Some(parse_time_spec("2s").unwrap()),
        ..opts()
    };
    let b = run(vec![input("w.rec", bytes)], &o).unwrap();
    assert!(b.header.watch);
    let Event::Who(w) = &b.events[0] else {
        panic!("{:?}", b.events);
    };
    assert_eq!((w.tgid, w.ts_ns, w.comm.as_str()), (5, T0 + 3 * SEC, "p5"));
    assert_eq!(b.events[1], events[4]);
    assert_eq!(b.events.len(), 2, "{:?}", b.events);
}

/// `--redact data` drops a watch log's paths: the executable and the
/// cgroup of each process description; its name and parents stay.
#[test]
fn redacting_data_masks_the_executable_and_cgroup_of_a_watch_log() {
    let h = Header {
        watch: true,
        ..header()
    };
    let events = vec![
        Event::Who(crate::event::WhoEvent {
            tgid: 5,
            tid: 5,
            ts_ns: T0,
            comm: "rm".into(),
            exe: "/home/alice/secret-project/rm".into(),
            cgroup: "/user.slice/user-1000.slice".into(),
            ..Default::default()
        }),
        call(5, 0, "unlinkat", vec![]),
    ];
    let bytes = log(&h, &events, Some(counters(1, 0)));
    let o = Options {
        redact_data: true,
        ..opts()
    };
    let b = run(vec![input("w.rec", bytes)], &o).unwrap();
    let Event::Who(w) = &b.events[0] else {
        panic!("{:?}", b.events);
    };
    assert_eq!((w.exe.as_str(), w.cgroup.as_str()), (MASK, MASK));
    assert_eq!(w.comm, "rm");
    let kept = run(
        vec![input("w.rec", log(&h, &events, Some(counters(1, 0))))],
        &opts(),
    )
    .unwrap();
    let Event::Who(w) = &kept.events[0] else {
        panic!("{:?}", kept.events);
    };
    assert_eq!(
        w.exe, "/home/alice/secret-project/rm",
        "not redacted without --redact data"
    );
}
