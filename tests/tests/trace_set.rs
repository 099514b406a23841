//! `recorder -e trace=SET`: the set is applied in the kernel. fx-trace makes
//! known numbers of calls of a few kinds from two threads and a child; the
//! calls outside the set must be absent, the ones in it all there, the
//! accounting complete and every thread's sequence numbers dense (a call
//! left out takes no number).

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;
use recorder::decode::{Arch, SyscallClass};
use recorder::event::{Event, Syscall};
use tests::{TRACE_CLOSES, TRACE_GETPPIDS, TRACE_OPENS, TRACE_PATH};

/// Records fx-trace under `-e EXPR` (each), capture on, and reads the log.
fn record_fx_trace(w: &Workdir, name: &str, exprs: &[&str]) -> (Log, std::path::PathBuf) {
    let log_path = w.path(name);
    let mut extra = Vec::new();
    for e in exprs {
        extra.extend(["-e", e]);
    }
    let out = record_command(&log_path, &extra, &[&fixture("fx-trace")], &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    export_log(&log_path, name);
    (Log::read(&log_path), log_path)
}

/// Every thread's sequence numbers are 0, 1, 2, ...: nothing lost, and the
/// calls left out took no number.
fn assert_dense_sequences(log: &Log) {
    let mut by_tid: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for s in log.syscalls() {
        by_tid.entry(s.tid).or_default().push(s.seq);
    }
    for (tid, seqs) in by_tid {
        assert_eq!(
            seqs,
            (0..seqs.len() as u64).collect::<Vec<_>>(),
            "thread {tid}"
        );
    }
}

/// `recorder info`'s text, which must call the log complete and say what
/// it holds; and `recorder dump`'s summary, which says the same.
fn assert_info_and_dump_say(log_path: &std::path::Path, holds: &str) {
    let info = Command::new(recorder_bin())
        .arg("info")
        .arg(log_path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(info.status.success(), "{text}");
    assert!(text.contains("verdict      complete:"), "{text}");
    assert!(text.contains("gaps         0 records missing"), "{text}");
    assert!(
        text.contains(&format!("this log holds only: {holds} (")),
        "{text}"
    );
    let dump = Command::new(recorder_bin())
        .arg("dump")
        .arg(log_path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&dump.stderr);
    assert!(dump.status.success(), "{err}");
    assert!(
        err.contains(&format!("recorder: this log holds only: {holds} (")),
        "{err}"
    );
}

/// The path an openat was given (its captured argument 1).
fn path_of(s: &Syscall) -> Option<String> {
    s.data
        .iter()
        .find(|c| c.arg == 1)
        .map(|c| String::from_utf8_lossy(&c.bytes).into_owned())
}

/// fx-trace's own openat calls: one per [`TRACE_OPENS`], and the child's.
fn fixture_opens(log: &Log) -> Vec<String> {
    let mut paths: Vec<String> = log
        .syscalls()
        .filter(|s| s.nr == libc::SYS_openat)
        .filter_map(path_of)
        .filter(|p| p.starts_with(TRACE_PATH))
        .collect();
    paths.sort();
    paths
}

fn expected_opens() -> Vec<String> {
    let mut want: Vec<String> = (0..TRACE_OPENS)
        .map(|i| format!("{TRACE_PATH}{i}"))
        .chain([format!("{TRACE_PATH}child")])
        .collect();
    want.sort();
    want
}

/// fx-trace's `close(-(3000 + i))` markers and its thread's `close(-3999)`.
fn fixture_closes(log: &Log) -> usize {
    log.syscalls()
        .filter(|s| s.nr == libc::SYS_close && (-3999..=-3000).contains(&(s.args[0] as i64)))
        .count()
}

fn count(log: &Log, nr: i64) -> usize {
    log.syscalls().filter(|s| s.nr == nr).count()
}

/// Process events are recorded whatever the set: the command's exec, one
/// fork (the child; the thread is not a process), and the exits.
fn assert_process_events(log: &Log) {
    let kinds = |f: fn(&Event) -> bool| log.events.iter().filter(|e| f(e)).count();
    assert_eq!(kinds(|e| matches!(e, Event::Exec(_))), 1);
    assert_eq!(
        kinds(|e| matches!(e, Event::Fork(_))),
        1,
        "the thread is no fork"
    );
    // Main thread, worker thread, child.
    assert_eq!(kinds(|e| matches!(e, Event::Exit(_))), 3);
}

#[test]
fn only_the_set_is_recorded_with_dense_sequences() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let (log, path) = record_fx_trace(&w, "openat.rec", &["trace=openat"]);
    log.assert_complete();
    assert_eq!(log.header.trace, ["openat"]);
    assert_eq!(log.header.traced_nrs, [libc::SYS_openat]);
    let other: Vec<&Syscall> = log
        .syscalls()
        .filter(|s| s.nr != libc::SYS_openat)
        .collect();
    assert!(other.is_empty(), "calls outside the set: {other:#?}");
    assert_eq!(fixture_opens(&log), expected_opens());
    assert_dense_sequences(&log);
    assert_process_events(&log);
    let c = &log.trailer.as_ref().unwrap().counters;
    assert_eq!(c.exit_without_entry, 0, "{c:?}");
    let calls = log.syscalls().count() as u64;
    assert_eq!(c.entered, calls, "only entries of the set count: {c:?}");
    assert_info_and_dump_say(&path, "-e openat");
}

#[test]
fn process_class_is_a_fork_exec_exit_flight_recorder() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let (log, path) = record_fx_trace(&w, "process.rec", &["%process"]);
    log.assert_complete();
    let arch = Arch::host().unwrap();
    let class = SyscallClass::Process.numbers(arch);
    assert_eq!(log.header.traced_nrs, class);
    let other: Vec<&Syscall> = log.syscalls().filter(|s| !class.contains(&s.nr)).collect();
    assert!(other.is_empty(), "calls outside %process: {other:#?}");
    // The command's execve, the thread's and the child's clones, the wait,
    // and the child's and the process's exit_group.
    assert_eq!(count(&log, libc::SYS_execve), 1);
    // The parent's two clones (the thread, the child), returning the new
    // task's id. (x86_64 also shows each new task's `clone() = 0`; arm64's
    // ret_from_fork does not pass the sys_exit tracepoint, with or without
    // `-e`.)
    let parent_clones = log
        .syscalls()
        .filter(|s| s.nr == libc::SYS_clone || s.nr == libc::SYS_clone3)
        .filter(|s| s.ret.is_some_and(|r| r > 0))
        .count();
    assert_eq!(parent_clones, 2, "the thread's and the child's clone");
    assert_eq!(count(&log, libc::SYS_wait4), 1);
    assert_eq!(count(&log, libc::SYS_exit_group), 2);
    assert_eq!(count(&log, libc::SYS_openat), 0);
    assert_dense_sequences(&log);
    assert_process_events(&log);
    assert_info_and_dump_say(&path, "-e %process");
}

#[test]
fn negation_records_everything_but() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let (log, path) = record_fx_trace(&w, "not.rec", &["trace=!getppid,close"]);
    log.assert_complete();
    assert_eq!(count(&log, libc::SYS_getppid), 0);
    assert_eq!(count(&log, libc::SYS_close), 0);
    assert!(!log.header.traced_nrs.contains(&libc::SYS_getppid));
    assert!(log.header.traced_nrs.contains(&libc::SYS_read));
    assert_eq!(fixture_opens(&log), expected_opens());
    assert_eq!(count(&log, libc::SYS_execve), 1);
    assert_eq!(count(&log, libc::SYS_exit_group), 2);
    assert_dense_sequences(&log);
    assert_process_events(&log);
    assert_info_and_dump_say(&path, "-e !getppid,close");
}

/// Without `-e` the same run has every call (the counts the filtered runs
/// leave out are really made), and `-e none` none at all.
#[test]
fn all_and_none() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let (log, _) = record_fx_trace(&w, "all.rec", &[]);
    log.assert_complete();
    assert!(log.header.trace.is_empty());
    assert_eq!(count(&log, libc::SYS_getppid), TRACE_GETPPIDS);
    assert_eq!(fixture_closes(&log), TRACE_CLOSES + 1);
    assert_eq!(fixture_opens(&log), expected_opens());
    assert_dense_sequences(&log);
    assert_process_events(&log);

    let (log, path) = record_fx_trace(&w, "none.rec", &["none"]);
    log.assert_complete();
    assert_eq!(log.syscalls().count(), 0);
    assert_eq!(log.header.traced_nrs, Vec::<i64>::new());
    assert_process_events(&log);
    assert_info_and_dump_say(&path, "-e none");
}

/// Lossless mode with a set: the pause check still runs at every recorded
/// exit, so a storm of calls in the set into a ring the drain cannot keep
/// up with pauses the program and loses nothing; the calls outside the set
/// (fx-rate's pacing sleeps, thread start and end) stay out.
#[test]
fn lossless_mode_with_a_set_pauses_and_loses_nothing() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("lossless.rec");
    let mut args = FORCE_PAUSES.to_vec();
    args.extend(["--flush-interval", "500ms", "-e", "getppid"]);
    let out = record_command(&log_path, &args, &[&fixture("fx-rate")], &["max", "2", "2"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    let made: usize = out
        .stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix("calls="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no calls= in {:?}", out.stdout));
    let log = Log::read(&log_path);
    log.assert_complete();
    assert!(log.header.lossless);
    assert_eq!(count(&log, libc::SYS_getppid), made, "every call recorded");
    assert_eq!(log.syscalls().count(), made, "and nothing else");
    let c = &log.trailer.as_ref().unwrap().counters;
    let pauses = log
        .events
        .iter()
        .filter(|e| matches!(e, Event::Pause(_)))
        .count() as u64;
    assert!(pauses > 0, "a 64 KiB ring drained every 500 ms must pause");
    assert_eq!(pauses, c.paused, "a Pause event per pause: {c:?}");
    assert_dense_sequences(&log);
}

/// `rt_sigreturn` is the one call whose number is gone at its exit (the
/// kernel sets it to -1): the exit falls back to the stash, so it is
/// recorded when in the set and costs no `exit_without_entry` when not.
#[test]
fn rt_sigreturn_in_and_out_of_the_set() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let sh = std::path::Path::new("sh");
    let script = ["-c", "trap : USR1; kill -USR1 $$; kill -USR1 $$"];
    for (name, set, returns) in [("in.rec", "kill,rt_sigreturn", 2), ("out.rec", "kill", 0)] {
        let log_path = w.path(name);
        let out = record_command(&log_path, &["-e", set], &[sh], &script);
        assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
        let log = Log::read(&log_path);
        log.assert_complete();
        assert_eq!(count(&log, libc::SYS_kill), 2, "{set}");
        assert_eq!(count(&log, libc::SYS_rt_sigreturn), returns, "{set}");
        assert_eq!(log.syscalls().count(), 2 + returns, "{set}");
        let c = &log.trailer.as_ref().unwrap().counters;
        assert_eq!(c.exit_without_entry, 0, "{set}: {c:?}");
        assert_dense_sequences(&log);
    }
}
