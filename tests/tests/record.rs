//! End-to-end recording tests: real eBPF programs, real processes.

mod common;

use common::*;
use recorder::event::Event;
use tests::{BASIC_EXIT, BASIC_MSG, THREADS};

/// Index of the marker `getpid` made by fx-basic in `tgid`'s calls.
fn basic_sequence(log: &Log, tgid: u32) -> Vec<recorder::event::Syscall> {
    let calls: Vec<_> = log.syscalls().filter(|s| s.tgid == tgid).cloned().collect();
    let start = calls
        .iter()
        .rposition(|s| s.nr == libc::SYS_getpid)
        .unwrap_or_else(|| panic!("no getpid marker in {calls:#?}"));
    calls[start..].to_vec()
}

#[test]
fn known_sequence_with_args_and_results() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("basic.rec");
    let out = record_command(&log_path, &[], &[&fixture("fx-basic")], &[]);
    assert_eq!(
        out.status.code(),
        Some(BASIC_EXIT),
        "recorder returns the command's exit status; stderr: {}",
        out.stderr
    );
    assert_eq!(out.stdout.as_bytes(), BASIC_MSG);
    export_log(&log_path, "basic.rec");
    let log = Log::read(&log_path);
    log.assert_complete();
    assert_eq!(log.header.arch, std::env::consts::ARCH);
    assert_eq!(log.tgids().len(), 1, "only the command: {:?}", log.tgids());
    let tgid = *log.tgids().iter().next().unwrap();

    // The recording starts at the command's execve, which comes first.
    let first = log.syscalls().next().expect("records");
    assert_eq!(
        first.nr,
        libc::SYS_execve,
        "first record is the execve: {first:?}"
    );

    let seq = basic_sequence(&log, tgid);
    let nrs: Vec<i64> = seq.iter().map(|s| s.nr).collect();
    assert_eq!(
        nrs,
        [
            libc::SYS_getpid,
            libc::SYS_openat,
            libc::SYS_write,
            libc::SYS_exit_group
        ],
        "exact sequence after the marker: {seq:#?}"
    );
    let (getpid, openat, write, exit) = (&seq[0], &seq[1], &seq[2], &seq[3]);
    assert_eq!(getpid.ret, Some(tgid as i64));
    // An int argument: only the low 32 bits are meaningful.
    assert_eq!(openat.args[0] as u32 as i32, libc::AT_FDCWD);
    assert_ne!(openat.args[1], 0, "path pointer");
    assert_eq!(openat.args[2], libc::O_RDONLY as u64);
    assert_eq!(openat.ret, err(libc::ENOENT));
    assert_eq!(write.args[0], 1);
    assert_eq!(write.args[2], BASIC_MSG.len() as u64);
    assert_eq!(write.ret, Some(BASIC_MSG.len() as i64));
    assert_eq!(exit.args[0], BASIC_EXIT as u64);
    assert_eq!(exit.ret, None, "exit_group never returns");
    assert!(!exit.died_in_call);
    // Timestamps: entry <= exit, and calls in order.
    for w in seq.windows(2) {
        assert!(w[0].enter_ns <= w[1].enter_ns);
    }
    for s in &seq[..3] {
        assert!(s.exit_ns.unwrap() >= s.enter_ns);
    }
    // Per-thread sequence numbers are dense: no gaps, starting at 0.
    let seqs: Vec<u64> = log.syscalls().map(|s| s.seq).collect();
    assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>());
}

#[test]
fn command_killed_by_signal_returns_128_plus_n() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("sig.rec");
    let out = record_command(
        &log_path,
        &[],
        &[&fixture("fx-basic")],
        &["--signal", &libc::SIGTERM.to_string()],
    );
    assert_eq!(
        out.status.code(),
        Some(128 + libc::SIGTERM),
        "stderr: {}",
        out.stderr
    );
    let log = Log::read(&log_path);
    log.assert_complete();
    let kill = log
        .syscalls()
        .find(|s| s.nr == libc::SYS_kill)
        .expect("kill recorded");
    assert_eq!(kill.args[1], libc::SIGTERM as u64);
}

#[test]
fn missing_command_reports_127() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("missing.rec");
    let out = record_command(
        &log_path,
        &[],
        &[std::path::Path::new("/nonexistent/no-such-program")],
        &[],
    );
    assert_eq!(out.status.code(), Some(127), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("cannot run"), "stderr: {}", out.stderr);
    // The failed execve itself is in the log.
    let log = Log::read(&log_path);
    let ex = log.syscalls().next().expect("execve recorded");
    assert_eq!(ex.nr, libc::SYS_execve);
    assert_eq!(ex.ret, err(libc::ENOENT));
}

#[test]
fn follows_forks_by_default() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("fork.rec");
    let out = record_command(&log_path, &[], &[&fixture("fx-fork")], &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    let child: u32 = out
        .stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix("child="))
        .and_then(|v| v.parse().ok())
        .expect("fixture prints child=N");
    export_log(&log_path, "fork.rec");
    let log = Log::read(&log_path);
    log.assert_complete();
    let parent = log.syscalls().next().unwrap().tgid;
    assert_ne!(parent, child);
    assert!(
        log.events
            .iter()
            .any(|e| matches!(e, Event::Fork(p) if p.tgid == parent && p.aux == child)),
        "fork event"
    );
    let child_close = log
        .syscalls()
        .find(|s| s.tgid == child && s.nr == libc::SYS_close && s.args[0] == neg(-2001))
        .expect("the child's marker call is recorded");
    assert_eq!(child_close.ret, err(libc::EBADF));
    let child_exit = log
        .syscalls()
        .find(|s| s.tgid == child && s.nr == libc::SYS_exit_group)
        .expect("child's exit_group");
    assert_eq!(child_exit.args[0], 3);
    assert!(
        log.syscalls()
            .any(|s| s.tgid == parent && s.nr == libc::SYS_close && s.args[0] == neg(-2000))
    );
    // The child's first record is the return of its fork in the child
    // (clone returning 0) — nothing before it was missed.
    let first_child = log.syscalls().find(|s| s.tgid == child).unwrap();
    assert_eq!(first_child.seq, 0);
    // x86_64 runs the syscall-exit tracepoint for the child's return from
    // fork (ret_from_fork goes through syscall_exit_to_user_mode), so the
    // child's first record is `clone() = 0`. arm64's ret_from_fork returns
    // to user space without it: there the child's first record is its first
    // own call, and its sequence still starts at 0 (nothing was lost).
    if cfg!(target_arch = "x86_64") {
        assert_eq!(first_child.ret, Some(0), "{first_child:?}");
        assert!([libc::SYS_clone, libc::SYS_clone3].contains(&first_child.nr));
    }
    let c = &log.trailer.as_ref().unwrap().counters;
    assert_eq!(c.exit_without_entry, 0, "{c:?}");
}

#[test]
fn no_follow_leaves_children_out() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("nofollow.rec");
    let out = record_command(&log_path, &["--no-follow"], &[&fixture("fx-fork")], &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    let log = Log::read(&log_path);
    log.assert_complete();
    assert_eq!(log.tgids().len(), 1, "only the parent: {:?}", log.tgids());
    assert!(!log.syscalls().any(|s| s.args[0] == neg(-2001)));
    assert!(log.syscalls().any(|s| s.args[0] == neg(-2000)));
}

#[test]
fn other_processes_are_not_recorded() {
    if !privileged() {
        return;
    }
    let mut noise = std::process::Command::new(fixture("fx-spin"))
        .spawn()
        .expect("noise");
    let w = Workdir::new();
    let log_path = w.path("only.rec");
    let out = record_command(&log_path, &[], &[&fixture("fx-basic")], &[]);
    let _ = noise.kill();
    let _ = noise.wait();
    assert_eq!(
        out.status.code(),
        Some(BASIC_EXIT),
        "stderr: {}",
        out.stderr
    );
    let log = Log::read(&log_path);
    log.assert_complete();
    assert_eq!(log.tgids().len(), 1, "{:?}", log.tgids());
    assert!(!log.tgids().contains(&noise.id()));
    assert!(!log.syscalls().any(|s| s.args[0] == neg(-3000)));
}

/// A thread that is not traced is remembered by its kernel stack, and the
/// kernel gives freed stacks to the next threads it creates: the threads
/// and child processes of a traced process started on stacks a bystander's
/// threads just left (both on CPU 0, see fx-stacks) are recorded, every one
/// of them, in both modes.
#[test]
fn threads_on_stacks_bystanders_left_are_recorded() {
    if !privileged() {
        return;
    }
    const ROUNDS: i64 = 150;
    let w = Workdir::new();
    for mode in ["full", "lean"] {
        let mut bystander = std::process::Command::new(fixture("fx-stacks"))
            .arg("bystander")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("bystander");
        let log_path = w.path(&format!("stacks-{mode}.rec"));
        let out = record_command(
            &log_path,
            &["--mode", mode, "-s", "0"],
            &[&fixture("fx-stacks")],
            &["traced", &ROUNDS.to_string()],
        );
        drop(bystander.stdin.take());
        assert!(bystander.wait().expect("bystander").success());
        assert!(out.status.success(), "stderr: {}", out.stderr);
        let log = Log::read(&log_path);
        log.assert_complete();
        let marks: std::collections::BTreeSet<u64> = log
            .syscalls()
            .filter(|s| s.nr == libc::SYS_close && s.ret == err(libc::EBADF))
            .map(|s| s.args[0])
            .collect();
        let missing: Vec<i64> = (0..ROUNDS)
            .filter(|i| !marks.contains(&neg(-(5000 + i))))
            .collect();
        // Even: a thread; odd: a child process.
        assert!(missing.is_empty(), "{mode}: not recorded: {missing:?}");
    }
}

/// fx-threads prints `pid=N`, optionally waits for a line on stdin, then
/// renames all its threads and makes one marker call per thread.
fn check_threads(log: &Log, pid: u32) {
    let marks: Vec<_> = log
        .syscalls()
        .filter(|s| s.tgid == pid && s.nr == libc::SYS_close)
        .filter(|s| s.args[0] == neg(-999) || (1000..1000 + THREADS).any(|i| s.args[0] == neg(-i)))
        .collect();
    assert_eq!(
        marks.len() as i64,
        THREADS + 1,
        "every renamed thread's marker is recorded: {marks:#?}"
    );
    let tids: std::collections::BTreeSet<u32> = marks.iter().map(|s| s.tid).collect();
    assert_eq!(tids.len() as i64, THREADS + 1, "distinct threads");
    assert!(marks.iter().all(|s| s.ret == err(libc::EBADF)));
}

#[test]
fn comm_selects_new_processes_and_renamed_threads() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("comm.rec");
    let (exe, comm) = unique_fixture(&w, "fx-threads", "fxnew");
    let rec = Running::start(&log_path, &["--comm", &comm]);
    let out = std::process::Command::new(&exe)
        .output()
        .expect("run fixture");
    assert!(out.status.success());
    let pid: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .strip_prefix("pid=")
        .and_then(|v| v.parse().ok())
        .expect("pid=N");
    let (status, stderr) = rec.stop();
    assert!(status.success(), "recorder exit: {status:?}\n{stderr}");
    export_log(&log_path, "comm.rec");
    let log = Log::read(&log_path);
    log.assert_complete();
    check_threads(&log, pid);
    // The main thread's calls between its exec and its first new thread
    // (its rename) are recorded: the process made system calls before the
    // exec, unselected, so its thread was remembered as a bystander, which
    // the selection at exec must undo.
    assert!(
        log.syscalls().any(|s| s.tid == pid
            && s.nr == libc::SYS_prctl
            && s.args[0] == libc::PR_SET_NAME as u64),
        "the main thread's rename, before any thread was created"
    );
    // Selected at exec: the exec event is there, and no exit without entry
    // was counted for its execve.
    assert!(
        log.events
            .iter()
            .any(|e| matches!(e, Event::Exec(p) if p.tgid == pid && p.comm == comm))
    );
    assert_eq!(log.trailer.as_ref().unwrap().counters.exit_without_entry, 0);
}

/// Threads that share a slot of the stash's array (forced: one slot for
/// all, as when `pid_max` is far above the slot count) lose nothing: the
/// slot's owner keeps its calls there, every other thread in the hash map,
/// and no thread's record carries another's arguments or numbers.
#[test]
fn threads_sharing_a_stash_slot_lose_nothing() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    for fx in ["fx-threads", "fx-fork"] {
        let log_path = w.path(&format!("{fx}.rec"));
        let out = record_command(
            &log_path,
            &["--mode", "full", "--stash-slots", "1"],
            &[&fixture(fx)],
            &[],
        );
        assert!(out.status.success(), "stderr: {}", out.stderr);
        let log = Log::read(&log_path);
        log.assert_complete();
        let c = &log.trailer.as_ref().unwrap().counters;
        assert_eq!((c.exit_without_entry, c.stash_full), (0, 0), "{c:?}");
        let mut per_thread: std::collections::BTreeMap<u32, Vec<u64>> = Default::default();
        for s in log.syscalls() {
            per_thread.entry(s.tid).or_default().push(s.seq);
            assert!(s.exit_ns.is_none_or(|x| s.enter_ns <= x), "{s:?}");
        }
        for (tid, mut seqs) in per_thread {
            seqs.sort_unstable();
            let expect: Vec<u64> = (0..seqs.len() as u64).collect();
            assert_eq!(
                seqs, expect,
                "thread {tid}: every call numbered once, from 0"
            );
        }
        if fx == "fx-threads" {
            let pid: u32 = out
                .stdout
                .trim()
                .strip_prefix("pid=")
                .and_then(|v| v.parse().ok())
                .expect("pid=N");
            check_threads(&log, pid);
        } else {
            let child: u32 = out
                .stdout
                .split_whitespace()
                .find_map(|w| w.strip_prefix("child="))
                .and_then(|v| v.parse().ok())
                .expect("fixture prints child=N");
            let first_child = log.syscalls().find(|s| s.tgid == child).unwrap();
            assert_eq!(first_child.seq, 0);
            assert!(
                log.syscalls()
                    .any(|s| s.tgid == child && s.nr == libc::SYS_close && s.args[0] == neg(-2001))
            );
        }
    }
}

#[test]
fn comm_picks_up_running_processes() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let (exe, comm) = unique_fixture(&w, "fx-threads", "fxrun");
    let mut fx = std::process::Command::new(&exe)
        .arg("--wait")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("fixture");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(fx.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let pid: u32 = line.trim().strip_prefix("pid=").unwrap().parse().unwrap();
    assert_eq!(pid, fx.id());

    let log_path = w.path("comm-running.rec");
    let rec = Running::start(&log_path, &["--comm", &comm]);
    std::io::Write::write_all(fx.stdin.as_mut().unwrap(), b"go\n").unwrap();
    assert!(fx.wait().unwrap().success());
    let (status, stderr) = rec.stop();
    assert!(status.success(), "{stderr}");
    let log = Log::read(&log_path);
    log.assert_complete();
    check_threads(&log, pid);
}

#[test]
fn long_comm_names_match_truncated() {
    if !privileged() {
        return;
    }
    // The kernel keeps 15 bytes: a process exec'd as a 20-byte name has a
    // truncated comm, and --comm with the full name must still match it.
    let w = Workdir::new();
    let long = w.path("fx-threads-long-name");
    std::os::unix::fs::symlink(fixture("fx-threads"), &long).unwrap();
    let log_path = w.path("long.rec");
    let rec = Running::start(&log_path, &["--comm", "fx-threads-long-name"]);
    let out = std::process::Command::new(&long).output().unwrap();
    let pid: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .strip_prefix("pid=")
        .and_then(|v| v.parse().ok())
        .unwrap();
    let (status, stderr) = rec.stop();
    assert!(status.success(), "{stderr}");
    let log = Log::read(&log_path);
    check_threads(&log, pid);
}

#[test]
fn pid_selects_a_running_process_and_ends_with_it() {
    if !privileged() {
        return;
    }
    for mode in ["full", "lean"] {
        pid_selects_a_running_process(mode);
    }
}

/// `-p` in `mode` (the default for -p is lean).
fn pid_selects_a_running_process(mode: &str) {
    let mut fx = std::process::Command::new(fixture("fx-basic"))
        .arg("--wait")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("fixture");
    let pid = fx.id();
    let w = Workdir::new();
    let log_path = w.path("pid.rec");
    let rec = Running::start(&log_path, &["--mode", mode, "-p", &pid.to_string()]);
    std::io::Write::write_all(fx.stdin.as_mut().unwrap(), b"go\n").unwrap();
    assert_eq!(fx.wait().unwrap().code(), Some(BASIC_EXIT));
    // The recorder stops by itself once the process is gone.
    let (status, stderr) = rec.wait();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("exited"), "{stderr}");
    let log = Log::read(&log_path);
    let seq = basic_sequence(&log, pid);
    assert_eq!(seq.len(), 4, "{seq:#?}");
    assert_eq!(seq[1].ret, err(libc::ENOENT));
    let c = &log.trailer.as_ref().unwrap().counters;
    let blocked = log
        .syscalls()
        .find(|s| s.nr == libc::SYS_read && s.args[0] == 0);
    if mode == "full" {
        // The read() the fixture was blocked in when recording started: its
        // entry was not seen, and the log says so instead of hiding it.
        assert_eq!(c.exit_without_entry, 1, "{c:?}");
        assert!(blocked.is_none(), "{blocked:?}");
    } else {
        // Lean mode takes the whole call at its exit: that read is there.
        assert_eq!(c.exit_without_entry, 0, "{c:?}");
        let read = blocked.expect("the read the fixture was blocked in");
        assert_eq!(read.ret, Some(3), "\"go\\n\": {read:?}");
    }
}

#[test]
fn ring_overflow_is_counted_exactly() {
    if !privileged() {
        return;
    }
    const N: u64 = 200_000;
    let w = Workdir::new();
    let log_path = w.path("overflow.rec");
    // One page: a few dozen records. The burst overflows it many times.
    let out = record_command(
        &log_path,
        // The threshold is out of reach (occupancy is checked every 16
        // records, and the ring fills before one sees 99%), so only the
        // flush timer drains: the ring overflows for sure, also on a
        // single slow CPU where a wakeup would run the drain at once.
        &[
            // Drop mode is what this test is about (`-- COMMAND` is
            // lossless by default).
            "--overflow",
            "drop",
            "--ring-size",
            "4096",
            "--wakeup-threshold",
            "99%",
            "--flush-interval",
            "300ms",
        ],
        &[&fixture("fx-loop")],
        &["--markers", &N.to_string()],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("LOST"),
        "the loss is reported: {}",
        out.stderr
    );
    let log = Log::read(&log_path);
    let c = log.trailer.as_ref().unwrap().counters.clone();
    assert!(c.ring_full > 0, "the ring must have overflowed: {c:?}");

    // Every record the kernel dropped is a gap in some thread's sequence.
    let mut by_tid: std::collections::BTreeMap<u32, Vec<u64>> = Default::default();
    for s in log.syscalls() {
        by_tid.entry(s.tid).or_default().push(s.seq);
    }
    let mut gaps = 0u64;
    for seqs in by_tid.values_mut() {
        seqs.sort_unstable();
        gaps += seqs[0] + seqs.windows(2).map(|w| w[1] - w[0] - 1).sum::<u64>();
    }
    assert_eq!(
        c.ring_full, gaps,
        "drops counted in the kernel == gaps in the log: {c:?}"
    );
    assert_eq!(
        c.emitted + c.ring_full,
        log.events
            .iter()
            .filter(|e| !matches!(e, Event::Counters(_)))
            .count() as u64
            + gaps
    );

    // Between the markers the fixture made exactly N getppid calls and one
    // sleep: recorded + dropped must add up to exactly that.
    let marker = |v: i64| {
        log.syscalls()
            .find(|s| s.nr == libc::SYS_close && s.args[0] == neg(v))
            .unwrap_or_else(|| panic!("marker close({v}) recorded"))
            .seq
    };
    let (begin, end) = (marker(-4000), marker(-4001));
    let between: Vec<_> = log
        .syscalls()
        .filter(|s| s.seq > begin && s.seq < end)
        .collect();
    let recorded_getppid = between.iter().filter(|s| s.nr == libc::SYS_getppid).count() as u64;
    let others: Vec<_> = between
        .iter()
        .filter(|s| s.nr != libc::SYS_getppid)
        .collect();
    assert_eq!(others.len(), 1, "only the pause's sleep call: {others:#?}");
    let attempts = end - begin - 1;
    assert_eq!(
        attempts,
        N + 1,
        "sequence numbers count every call the fixture made"
    );
    let dropped_between = attempts - between.len() as u64;
    assert_eq!(recorded_getppid + dropped_between, N);
    assert!(dropped_between > 0);
}

#[test]
fn check_says_this_machine_can_record() {
    if !privileged() {
        return;
    }
    let out = std::process::Command::new(recorder_bin())
        .arg("check")
        .output()
        .expect("run recorder check");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("recording will work"), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
}
