//! Lean mode (`--mode lean`, exit-only recording) against full mode.
//!
//! The comparison runs both recorders at once on the same process: two
//! recorders select the fixture by its name (`--comm`), one in each mode,
//! so both logs hold the very same calls (same pids, pointers, random
//! bytes) and must agree on every call's number, arguments, return value
//! and captured data, thread by thread, in sequence-number order. What
//! lean mode cannot know is left out of the comparison, and each such
//! difference is asserted on its own below rather than ignored:
//! - durations: a lean call's entry time is its exit time;
//! - a call still blocked when its thread dies (full mode: `died_in_call`);
//! - rt_sigreturn's restored mask, read from the user stack at entry
//!   (lean: the call is recorded, by the -1 its exit has for a number,
//!   without the mask).
//!
//! Two more recorders run beside them with `RECORDER_NO_BTF=1`: the raw
//! tracepoint programs, which read the registers with a helper where the
//! `tp_btf` ones (used where the kernel has BTF) load them directly. Each
//! mode must record the same calls with either kind of program.

mod common;

use std::collections::BTreeMap;

use common::*;
use recorder::event::{Capture, Event, Syscall};

/// For fx-time: exec in a child (vfork or clone3, then execve), and a
/// signal the shell catches (its handler returns through rt_sigreturn).
const SH_SCRIPT: &str = "trap : USR1; kill -USR1 $$; /bin/true; /bin/true";

/// A call as both modes must record it.
#[derive(Debug, PartialEq)]
struct Call {
    seq: u64,
    nr: i64,
    args: [u64; 6],
    ret: Option<i64>,
    data: Vec<Capture>,
}

/// Per thread, its calls in sequence order, as both modes must record
/// them, and the calls left out (`died_in_call`, which only full mode can
/// see).
fn calls_by_thread(log: &Log) -> (BTreeMap<u32, Vec<Call>>, usize) {
    let mut by_tid: BTreeMap<u32, Vec<Call>> = BTreeMap::new();
    let mut died = 0;
    for s in log.syscalls() {
        if s.died_in_call {
            died += 1;
            continue;
        }
        let sigreturn = s.nr == libc::SYS_rt_sigreturn;
        // The child's side of clone/clone3 (it returns 0 in the new
        // task) has no data in either mode: its arguments point into the
        // parent's memory, which the parent reuses at once. Reading it
        // there made the data depend on who ran first (a CI run saw full
        // mode read the parent's next frame, and lean the arguments).
        let child_clone = (s.nr == libc::SYS_clone || s.nr == libc::SYS_clone3) && s.ret == Some(0);
        assert!(
            !child_clone || s.data.is_empty(),
            "the child's side of a clone carries data: {s:?}"
        );
        by_tid.entry(s.tid).or_default().push(Call {
            seq: s.seq,
            nr: s.nr,
            args: s.args,
            ret: s.ret,
            // The restored mask: full mode only (see the module's note).
            data: if sigreturn {
                Vec::new()
            } else {
                s.data.clone()
            },
        });
    }
    for calls in by_tid.values_mut() {
        calls.sort_by_key(|c| c.seq);
    }
    (by_tid, died)
}

/// The process events (exec, fork, exit, signal), which both modes record
/// with the same programs.
fn proc_events(log: &Log) -> BTreeMap<u32, Vec<String>> {
    // Per thread: two threads exiting at once on two CPUs reach two
    // recorders' rings in either order (fx-threads' exits did, in a CI
    // run), while one thread's events follow its own order in both.
    let mut by_tid = BTreeMap::<u32, Vec<String>>::new();
    for e in &log.events {
        let (tid, text) = match e {
            Event::Exec(p) => (p.tid, format!("exec {} {}", p.aux, p.comm)),
            Event::Fork(p) => (p.tid, format!("fork {}", p.aux)),
            Event::Exit(p) => (p.tid, format!("exit {}", p.aux)),
            Event::Signal(s) => (s.tid, format!("signal {}", s.sig)),
            _ => continue,
        };
        by_tid.entry(tid).or_default().push(text);
    }
    by_tid
}

/// Records the fixture with four recorders at once: full and lean mode,
/// each with the programs this kernel gets and with the raw tracepoint
/// ones. Returns (full, lean), after checking that the raw tracepoint
/// programs recorded the same calls in each mode.
fn record_both(name: &str, tag: &str, args: &[&str], extra: &[&str]) -> (Log, Log) {
    let w = Workdir::new();
    let (exe, comm) = unique_fixture(&w, name, tag);
    let runs = [
        ("full", false),
        ("lean", false),
        ("full", true),
        ("lean", true),
    ];
    let logs: Vec<_> = runs
        .iter()
        .map(|(mode, raw)| w.path(&format!("{mode}{}.rec", if *raw { "-raw" } else { "" })))
        .collect();
    let recorders: Vec<Running> = runs
        .iter()
        .zip(&logs)
        .map(|((mode, raw), log)| {
            let mut a = vec!["--mode", mode, "--comm", &comm];
            a.extend_from_slice(extra);
            let env: &[(&str, &str)] = if *raw {
                &[("RECORDER_NO_BTF", "1")]
            } else {
                &[]
            };
            Running::start_env(log, &a, env)
        })
        .collect();
    let has_btf = kernel_has_btf();
    for (r, (mode, raw)) in recorders.iter().zip(&runs) {
        let tracing = holds_tp_btf_programs(r.pid());
        assert_eq!(
            tracing,
            has_btf && !raw,
            "{mode} mode{}: tp_btf programs exactly where the kernel has BTF",
            if *raw { " with RECORDER_NO_BTF=1" } else { "" }
        );
    }
    // The fixture's own status varies (fx-crash dies of SIGSEGV, fx-basic
    // exits 42): what is compared is what both recorders saw.
    std::process::Command::new(&exe)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the fixture");
    for r in recorders {
        let (status, stderr) = r.stop();
        assert!(status.success(), "recorder failed: {stderr}");
    }
    for (log, mode) in logs.iter().zip(["full", "lean"]) {
        export_log(log, &format!("lean-compare-{tag}-{mode}.rec"));
    }
    let [full, lean, full_raw, lean_raw] = [0, 1, 2, 3].map(|i| Log::read(&logs[i]));
    for (log, raw, mode) in [(&full, &full_raw, "full"), (&lean, &lean_raw, "lean")] {
        raw.assert_complete();
        assert_eq!(
            calls_by_thread(log),
            calls_by_thread(raw),
            "{name}, {mode} mode: the raw tracepoint programs record the same calls"
        );
    }
    (full, lean)
}

/// The two logs of one run agree call for call; returns the calls only
/// full mode saw die in flight.
fn assert_same_calls(full: &Log, lean: &Log, what: &str) -> usize {
    assert!(!full.header.lean, "{what}: the full log says full");
    assert!(lean.header.lean, "{what}: the lean log says lean");
    full.assert_complete();
    lean.assert_complete();
    let (f, died) = calls_by_thread(full);
    let (l, lean_died) = calls_by_thread(lean);
    assert_eq!(lean_died, 0, "{what}: lean mode cannot see a call die");
    assert!(!f.is_empty(), "{what}: nothing recorded");
    assert_eq!(
        f.keys().collect::<Vec<_>>(),
        l.keys().collect::<Vec<_>>(),
        "{what}: the same threads"
    );
    for (tid, calls) in &f {
        let other = &l[tid];
        if let Some(i) = (0..calls.len().max(other.len())).find(|&i| calls.get(i) != other.get(i)) {
            panic!(
                "{what}: thread {tid}'s calls differ first at {i} (full has {}, lean {}):\n  full: {:?}\n  lean: {:?}",
                calls.len(),
                other.len(),
                calls.get(i),
                other.get(i)
            );
        }
    }
    assert_eq!(
        proc_events(full),
        proc_events(lean),
        "{what}: process events"
    );
    for s in lean.syscalls() {
        if s.ret.is_some() {
            assert_eq!(
                s.exit_ns,
                Some(s.enter_ns),
                "{what}: a lean call has one timestamp"
            );
        }
    }
    died
}

fn nr_count(log: &Log, nr: i64) -> usize {
    log.syscalls().filter(|s| s.nr == nr).count()
}

#[test]
fn every_fixture_records_the_same_calls_in_both_modes() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let file = w.path("in.txt");
    std::fs::write(&file, b"lean and full must read the same bytes\n").unwrap();
    let file = file.to_str().unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        ("fx-basic", "lnbasic", &[]),
        ("fx-data", "lndata", &[file]),
        ("fx-fork", "lnfork", &[]),
        ("fx-threads", "lnthreads", &[]),
        ("fx-crash", "lncrash", &[]),
        ("fx-trace", "lntrace", &[]),
        // exec in a child, vfork/clone3, a SIGCHLD handler (rt_sigreturn).
        ("fx-time", "lntime", &["/bin/sh", "-c", SH_SCRIPT]),
    ];
    for (name, tag, args) in cases {
        let (full, lean) = record_both(name, tag, args, &[]);
        assert_same_calls(&full, &lean, name);
    }
}

/// The edges lean mode handles apart, each seen in a real run: exit_group
/// (entry only, never returns), exec in a child (path and argv read at
/// entry), the child of a fork (its clone/vfork return), rt_sigreturn
/// (number -1 at exit).
#[test]
fn exec_exit_clone_and_sigreturn_in_lean_mode() {
    if !privileged() {
        return;
    }
    let (full, lean) = record_both("fx-time", "lnedges", &["/bin/sh", "-c", SH_SCRIPT], &[]);
    assert_same_calls(&full, &lean, "fx-time sh");
    let execs: Vec<&Syscall> = lean
        .syscalls()
        .filter(|s| s.nr == libc::SYS_execve && s.ret == Some(0))
        .collect();
    assert!(execs.len() >= 3, "sh and two true: {execs:?}");
    for e in &execs {
        assert!(
            e.data.iter().any(|c| c.arg == 0 && !c.bytes.is_empty()),
            "execve's path, read at entry: {e:?}"
        );
        assert_ne!(e.args[0], 0, "execve's arguments, stashed at entry");
    }
    let exits = lean
        .syscalls()
        .filter(|s| s.nr == libc::SYS_exit_group)
        .collect::<Vec<_>>();
    assert!(exits.len() >= 3, "{exits:?}");
    assert!(exits.iter().all(|s| s.ret.is_none() && s.exit_ns.is_none()));
    assert!(
        nr_count(&lean, libc::SYS_rt_sigreturn) >= 1,
        "sh's USR1 handler returns through rt_sigreturn"
    );
    assert_eq!(
        nr_count(&lean, libc::SYS_rt_sigreturn),
        nr_count(&full, libc::SYS_rt_sigreturn)
    );
}

/// `-e trace=SET` in lean mode: the same calls as full mode's, with clone
/// stashed quietly (threads still told from processes).
#[test]
fn trace_set_records_the_same_calls_in_both_modes() {
    if !privileged() {
        return;
    }
    let (full, lean) = record_both("fx-trace", "lntrset", &[], &["-e", "trace=close,openat"]);
    assert_same_calls(&full, &lean, "fx-trace -e close,openat");
    assert!(
        lean.syscalls()
            .all(|s| s.nr == libc::SYS_close || s.nr == libc::SYS_openat),
        "only the set"
    );
}

/// A command in lean mode (the `AT_EXEC` selection): its execve is the
/// first call, whole, and arm64's first argument (x0, overwritten by the
/// return value before `sys_exit`) comes from `orig_x0`: getrandom's
/// buffer, read at exit through it, holds what the program got.
#[test]
fn command_in_lean_mode_getrandom_buffer_and_execve() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let file = w.path("in.txt");
    std::fs::write(&file, b"x0\n").unwrap();
    let log_path = w.path("lean-getrandom.rec");
    let out = record_command(
        &log_path,
        &["--mode", "lean"],
        &[&fixture("fx-data")],
        &[file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    export_log(&log_path, "lean-getrandom.rec");
    let log = Log::read(&log_path);
    log.assert_complete();
    assert!(log.header.lean);
    let first = log.syscalls().next().expect("calls recorded");
    assert_eq!(first.nr, libc::SYS_execve, "{first:?}");
    assert_eq!(first.seq, 0);
    assert!(
        first
            .data
            .iter()
            .any(|c| c.arg == 0 && c.bytes.ends_with(b"fx-data")),
        "{first:?}"
    );
    let printed = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("getrandom="))
        .expect("fixture prints getrandom=");
    let gr = log
        .syscalls()
        .filter(|s| s.nr == libc::SYS_getrandom && s.args[1] == 16)
        .last()
        .expect("getrandom recorded");
    assert_ne!(gr.args[0], 0, "the buffer pointer, arg 0");
    let c = gr
        .data
        .iter()
        .find(|c| c.arg == 0)
        .expect("buffer captured");
    assert!(!c.read_failed);
    let hex: String = c.bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, printed, "captured bytes == what the program got");
    let seqs: Vec<u64> = log
        .syscalls()
        .filter(|s| s.tid == first.tid)
        .map(|s| s.seq)
        .collect();
    assert_eq!(
        seqs,
        (0..seqs.len() as u64).collect::<Vec<_>>(),
        "numbered 0, 1, 2... without a gap"
    );
}

/// `-p` and `--comm` default to lean, a command to full; `--mode` says
/// otherwise.
#[test]
fn default_mode_per_kind_of_recording() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("cmd.rec");
    let out = record_command(&log_path, &[], &[&fixture("fx-basic")], &[]);
    assert_eq!(out.status.code(), Some(42), "stderr: {}", out.stderr);
    assert!(!Log::read(&log_path).header.lean, "a command: full");
    let out = record_command(&log_path, &["--mode", "lean"], &[&fixture("fx-basic")], &[]);
    assert_eq!(out.status.code(), Some(42), "stderr: {}", out.stderr);
    assert!(Log::read(&log_path).header.lean, "--mode lean");

    let (exe, comm) = unique_fixture(&w, "fx-basic", "lndefault");
    let comm_log = w.path("comm.rec");
    let r = Running::start(&comm_log, &["--comm", &comm]);
    let status = std::process::Command::new(&exe)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(42));
    let (status, stderr) = r.stop();
    assert!(status.success(), "{stderr}");
    let log = Log::read(&comm_log);
    assert!(log.header.lean, "--comm: lean");
    assert_eq!(
        nr_count(&log, libc::SYS_exit_group),
        1,
        "exit_group recorded at entry"
    );
}
