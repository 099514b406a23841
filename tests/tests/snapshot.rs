//! Crash snapshots: a process that dies of SIGSEGV leaves exactly one
//! snapshot holding its last calls.

mod common;

use common::*;
use recorder::event::Event;

#[test]
fn segfault_leaves_one_snapshot_with_the_last_calls() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let snaps = w.path("snapshots");
    let log_path = w.path("crash.rec");
    let out = record_command(
        &log_path,
        &["--snapshot-dir", snaps.to_str().unwrap()],
        &[&fixture("fx-crash")],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(128 + libc::SIGSEGV),
        "stderr: {}",
        out.stderr
    );
    let files: Vec<_> = std::fs::read_dir(&snaps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "exactly one snapshot: {files:?}");
    assert!(out.stderr.contains("snapshot of"), "{}", out.stderr);
    let snap = Log::read(&files[0]);
    export_log(&files[0], "snapshot.rec");
    // The call right before the crash, then the fatal signal. (Rust's
    // runtime handles the first SIGSEGV itself — stack-overflow check — then
    // restores SIG_DFL and faults again: the snapshot shows all of it.)
    let is_marker = |e: &Event| matches!(e, Event::Syscall(s) if s.nr == libc::SYS_close && s.args[0] == neg(-5000));
    let is_fatal =
        |e: &Event| matches!(e, Event::Signal(s) if s.sig == libc::SIGSEGV as u32 && s.is_crash());
    let marker = snap
        .events
        .iter()
        .position(is_marker)
        .expect("the last call before the crash");
    let fatal = snap
        .events
        .iter()
        .position(is_fatal)
        .expect("the fatal SIGSEGV");
    assert!(marker < fatal);
    let runtime = [libc::SYS_rt_sigaction, libc::SYS_rt_sigreturn];
    assert!(
        snap.events[marker + 1..fatal]
            .iter()
            .all(|e| !matches!(e, Event::Syscall(s) if !runtime.contains(&s.nr))),
        "nothing but the runtime's signal handling between the last call and the crash"
    );
    assert!(matches!(snap.events.last(), Some(Event::Exit(_))));
    // The same calls are in the main log too.
    let log = Log::read(&log_path);
    assert!(
        log.syscalls()
            .any(|s| s.nr == libc::SYS_close && s.args[0] == neg(-5000))
    );
}

#[test]
fn clean_exit_leaves_no_snapshot() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let snaps = w.path("snapshots");
    let out = record_command(
        &w.path("ok.rec"),
        &["--snapshot-dir", snaps.to_str().unwrap()],
        &[&fixture("fx-fork")],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    assert_eq!(std::fs::read_dir(&snaps).unwrap().count(), 0);
}
