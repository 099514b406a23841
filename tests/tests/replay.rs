//! `recorder replay`: a recorded program run again gets its recorded
//! inputs and errors, a changed program is stopped at the call that
//! changed, and a log without the data replay needs is refused naming the
//! calls. Recording needs root; the replays run as root too, except one
//! run as `nobody` (through setpriv) where the machine lets that user reach
//! the binaries, since replay itself needs no privilege.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use recorder::decode::{Arch, syscall_name};
use recorder::event::{CaptureKind, Syscall};

/// `fx-replay inputs`: the exit status when the config says `fail`.
const INPUTS_FAIL: i32 = 3;

fn arch(log: &Log) -> Arch {
    Arch::from_name(&log.header.arch).expect("arch")
}

/// The first call named `name` that `pred` accepts.
fn find<'a>(log: &'a Log, name: &str, pred: impl Fn(&Syscall) -> bool) -> &'a Syscall {
    let a = arch(log);
    log.syscalls()
        .find(|s| syscall_name(a, s.nr) == Some(name) && pred(s))
        .unwrap_or_else(|| panic!("no {name} call in the log"))
}

fn names_path(s: &Syscall, path: &Path) -> bool {
    s.data
        .iter()
        .any(|c| c.kind == CaptureKind::Str && c.bytes == path.as_os_str().as_encoded_bytes())
}

fn replay(args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = Command::new(recorder_bin())
        .arg("replay")
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run recorder replay");
    Output::from(out)
}

/// Records `fx-replay inputs CONFIG` with CONFIG saying `mode`.
fn record_inputs(w: &Workdir, mode: &str, extra: &[&str]) -> (PathBuf, PathBuf, Output) {
    let cfg = w.path("app.conf");
    std::fs::write(&cfg, format!("mode={mode}\n")).unwrap();
    let log = w.path("inputs.rec");
    let fx = fixture("fx-replay");
    let out = record_command(&log, extra, &[&fx], &["inputs", cfg.to_str().unwrap()]);
    (log, cfg, out)
}

#[test]
fn replay_feeds_the_recorded_file_seed_and_message_after_the_file_changed() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let (log, cfg, rec) = record_inputs(&w, "fail", &[]);
    assert_eq!(rec.status.code(), Some(INPUTS_FAIL), "recording: {rec:?}");
    export_log(&log, "replay-inputs.rec");
    let line = rec.stdout.clone();
    assert!(line.starts_with("config=\"mode=fail\" seed="), "{line}");

    // On the desk the file says otherwise: a live run passes.
    std::fs::write(&cfg, "mode=ok\n").unwrap();
    let live = Command::new(fixture("fx-replay"))
        .args(["inputs", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(live.status.code(), Some(0));
    assert_ne!(String::from_utf8_lossy(&live.stdout), line);

    // The replay gets the recorded file, seed and message: it prints the
    // recorded line (new seed and sender port would differ) and fails.
    let out = replay(&["--show-output", log.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(out.stdout, line, "the replayed program's output");
    assert!(
        out.stderr.contains(&format!(
            "the program exited with status {INPUTS_FAIL}, as in the recording: reproduced"
        )),
        "{}",
        out.stderr
    );
}

/// A tmpfs of `size` on a fresh directory, unmounted on drop.
struct SmallDisk {
    dir: PathBuf,
    mounted: bool,
    _work: Workdir,
}

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let work = Workdir::new();
        let dir = work.path("disk");
        std::fs::create_dir(&dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs on {}", dir.display());
        Self {
            dir,
            mounted: true,
            _work: work,
        }
    }

    fn umount(&mut self) {
        if std::mem::take(&mut self.mounted) {
            let ok = Command::new("umount")
                .arg(&self.dir)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        self.umount();
    }
}

/// Whether `nobody` can run the recorder and read `path` here (a CI
/// checkout under a private home may not let it).
fn nobody_can_reach(path: &Path) -> bool {
    let ok = |p: &Path, test: &str| {
        Command::new("setpriv")
            .args([
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                "test",
                test,
            ])
            .arg(p)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    ok(&recorder_bin(), "-x") && ok(&fixture("fx-replay"), "-x") && ok(path, "-r")
}

#[test]
fn replay_crashes_on_a_roomy_disk_like_on_the_tiny_one_that_gave_enospc() {
    if !privileged() {
        return;
    }
    let mut disk = SmallDisk::mount("256k");
    let target = disk.dir.join("out");
    let w = Workdir::new();
    let log = w.path("enospc.rec");
    let fx = fixture("fx-replay");
    let rec = record_command(&log, &[], &[&fx], &["enospc", target.to_str().unwrap()]);
    assert!(rec.stderr.contains("No space left on device"), "{rec:?}");
    let l = Log::read(&log);
    let a = arch(&l);
    let failed = l
        .syscalls()
        .find(|s| syscall_name(a, s.nr) == Some("write") && s.ret == err(libc::ENOSPC));
    assert!(
        failed.is_some(),
        "the recording has the write that failed with ENOSPC"
    );
    // The roomy disk: the tmpfs is gone, the directory is on the test's disk.
    disk.umount();

    std::fs::set_permissions(
        w.dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::set_permissions(&log, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let as_nobody = nobody_can_reach(&log);
    let out = if as_nobody {
        let o = Command::new("setpriv")
            .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
            .arg(recorder_bin())
            .args(["replay", "--show-output"])
            .arg(&log)
            .output()
            .expect("setpriv");
        Output {
            status: o.status,
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    } else {
        eprintln!("note: nobody cannot reach the binaries here: the replay runs as root");
        replay(&["--show-output", log.to_str().unwrap()], &[])
    };
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr
            .contains("fx-replay: write failed: No space left on device"),
        "the program saw ENOSPC: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "the program was killed by signal 6 (SIGABRT), as in the recording: reproduced"
        ),
        "{}",
        out.stderr
    );
    assert!(!target.exists(), "replay wrote nothing to the disk");
}

#[test]
fn replay_stops_a_changed_program_at_the_call_that_changed() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let (log, cfg, rec) = record_inputs(&w, "ok", &[]);
    assert_eq!(rec.status.code(), Some(0), "{rec:?}");
    let l = Log::read(&log);
    let open = find(&l, "openat", |s| names_path(s, &cfg));

    // The same binary told to make one extra call first: a changed build.
    let out = replay(&[log.to_str().unwrap()], &[("FX_REPLAY_EXTRA", "1")]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let expected = format!(
        "  - #{:<5} openat(AT_FDCWD, \"{}\"",
        open.seq,
        cfg.display()
    );
    assert!(
        out.stderr.contains(&expected),
        "expected {expected:?} in:\n{}",
        out.stderr
    );
    // access on x86_64; musl on arm64 (which has no access) calls faccessat.
    let got = out
        .stderr
        .lines()
        .find(|l| l.starts_with("  +"))
        .unwrap_or("");
    assert!(
        got.contains("access")
            && got.contains("\"/nonexistent/fx-replay-changed\", F_OK")
            && got.ends_with("= ?    <- replay"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("not reproduced: diverged"),
        "{}",
        out.stderr
    );

    // --continue lets it run on live from there: it then reads the file on
    // disk and passes.
    let out = replay(
        &["--continue", log.to_str().unwrap()],
        &[("FX_REPLAY_EXTRA", "1")],
    );
    assert!(out.stderr.contains("runs live from here"), "{}", out.stderr);
    assert!(
        out.stderr.contains("the program exited with status 0"),
        "{}",
        out.stderr
    );
}

#[test]
fn replay_refuses_a_log_without_the_data_naming_the_calls() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    // 16 bytes: the UDP message (about 25) does not fit.
    let (log, _, rec) = record_inputs(&w, "ok", &["-s", "16"]);
    assert_eq!(rec.status.code(), Some(0), "{rec:?}");
    let l = Log::read(&log);
    let recv = find(&l, "recvfrom", |s| s.ret.is_some_and(|r| r > 16));
    let out = replay(&[log.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let line = format!(
        "tid {} seq {} recvfrom on fd {}: its data was truncated",
        recv.tid, recv.seq, recv.args[0] as i32
    );
    assert!(out.stderr.contains("cannot be replayed"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&line),
        "expected {line:?} in:\n{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("recorder: error:").count(),
        1,
        "said once"
    );

    // Redacted: `bundle --redact data` empties getrandom's bytes.
    let w2 = Workdir::new();
    let (full, _, _) = record_inputs(&w2, "ok", &[]);
    let red = w.path("red.rec");
    let b = Command::new(recorder_bin())
        .args(["bundle", "--redact", "data", "-o"])
        .arg(&red)
        .arg(&full)
        .output()
        .unwrap();
    assert!(b.status.success(), "{b:?}");
    let l = Log::read(&red);
    let rnd = find(&l, "getrandom", |s| s.args[1] == 8);
    let out = replay(&[red.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let line = format!(
        "tid {} seq {} getrandom: its data was redacted",
        rnd.tid, rnd.seq
    );
    assert!(
        out.stderr.contains(&line),
        "expected {line:?} in:\n{}",
        out.stderr
    );
}

#[test]
fn threads_replay_in_the_recorded_order_across_threads() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log = w.path("threads.rec");
    // One malloc arena: which thread first needs a new arena (and so calls
    // sched_getaffinity) is a user-space race no syscall log holds; it
    // decides about 1 replay in 20 of fx-threads otherwise. The
    // environment is not recorded: the replay gets the same by hand.
    let tunables = ("GLIBC_TUNABLES", "glibc.malloc.arena_max=1");
    let rec = Command::new(recorder_bin())
        .arg("-o")
        .arg(&log)
        .arg("--")
        .arg(fixture("fx-threads"))
        .env(tunables.0, tunables.1)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run recorder");
    assert!(rec.status.success(), "{rec:?}");
    let l = Log::read(&log);
    let threads: std::collections::BTreeSet<u32> = l.syscalls().map(|s| s.tid).collect();
    assert_eq!(threads.len() as i64, tests::THREADS + 1);
    // Without the recorded order across threads the replay diverged in
    // 6 runs of 6 (thread start-up calls answered in another order).
    let out = replay(&[log.to_str().unwrap()], &[tunables]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("in {} threads", threads.len())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("reproduced"), "{}", out.stderr);
}

/// Which thread grows the allocator's heap is a user-space race (musl's
/// one heap made 1 replay in 15 of fx-threads diverge on an mmap): an
/// anonymous mmap the replay makes and the recording lacks runs live, and
/// one the recording has and the replay lacks is passed over.
#[test]
fn allocator_calls_made_by_another_thread_are_not_a_divergence() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let tunables = ("GLIBC_TUNABLES", "glibc.malloc.arena_max=1");
    for (at_record, at_replay) in [(None, Some("1")), (Some("2"), None)] {
        let log = w.path("grow.rec");
        let mut rec = Command::new(recorder_bin());
        rec.arg("-o").arg(&log).arg("--").arg(fixture("fx-threads"));
        rec.env(tunables.0, tunables.1)
            .stdin(std::process::Stdio::null());
        if let Some(i) = at_record {
            rec.env("FX_THREADS_MMAP", i);
        }
        let rec = rec.output().expect("run recorder");
        assert!(rec.status.success(), "{rec:?}");
        let mut env = vec![tunables];
        env.extend(at_replay.map(|i| ("FX_THREADS_MMAP", i)));
        let out = replay(&[log.to_str().unwrap()], &env);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{at_record:?} {at_replay:?}: {out:?}"
        );
        assert!(
            out.stderr
                .contains("allocator calls (munmap, brk, anonymous mmap) differed"),
            "{}",
            out.stderr
        );
    }
}

/// A library read live whose ELF header is not the recorded one is named.
/// glibc builds only: the arm64 guest's fixtures are static.
#[cfg(target_env = "gnu")]
#[test]
fn replay_names_a_library_that_is_not_the_recorded_build() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let libs = w.path("libs");
    std::fs::create_dir(&libs).unwrap();
    let lib = libs.join("libgcc_s.so.1");
    let system = [
        "/lib/x86_64-linux-gnu/libgcc_s.so.1",
        "/lib/aarch64-linux-gnu/libgcc_s.so.1",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("libgcc_s.so.1 (fx-basic, a Rust program, links it)");
    std::fs::copy(system, &lib).unwrap();
    let log = w.path("elf.rec");
    let ld = ("LD_LIBRARY_PATH", libs.to_str().unwrap());
    let rec = Command::new(recorder_bin())
        .arg("-o")
        .arg(&log)
        .arg("--")
        .arg(fixture("fx-basic"))
        .env(ld.0, ld.1)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(rec.status.code(), Some(tests::BASIC_EXIT), "{rec:?}");
    let args = ["--host-path", libs.to_str().unwrap(), log.to_str().unwrap()];
    let same = replay(&args, &[ld]);
    assert_eq!(same.status.code(), Some(0), "{same:?}");
    assert!(
        !same.stderr.contains("not the recorded build"),
        "{}",
        same.stderr
    );
    // Another build: one byte of the header (the section table's offset)
    // differs, the code the loader maps does not.
    let mut bytes = std::fs::read(&lib).unwrap();
    bytes[40] ^= 0xff;
    std::fs::write(&lib, bytes).unwrap();
    let other = replay(&args, &[ld]);
    let warning = format!("{} is not the recorded build", lib.display());
    assert!(other.stderr.contains(&warning), "{}", other.stderr);
}

#[test]
fn replay_sends_the_sigpipe_that_came_with_a_recorded_epipe() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log = w.path("sigpipe.rec");
    let fx = fixture("fx-replay");
    let rec = record_command(&log, &[], &[&fx], &["sigpipe"]);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&rec.status)
            .or(rec.status.code().map(|c| c - 128)),
        Some(libc::SIGPIPE),
        "{rec:?}"
    );
    let l = Log::read(&log);
    let a = arch(&l);
    assert!(
        l.syscalls()
            .any(|s| syscall_name(a, s.nr) == Some("write") && s.ret == err(libc::EPIPE)),
        "the recording has the write that failed with EPIPE"
    );
    // The write is not performed in the replay: only the recorded EPIPE
    // and the SIGPIPE the supervisor sends with it end the program.
    let out = replay(&[log.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr
            .contains("the program was killed by signal 13 (SIGPIPE), as in the recording"),
        "{}",
        out.stderr
    );
}

/// A program of the system (`/usr/bin`, `/bin`), or `None` (the arm64
/// guest, a busybox userland, has few): the tests of real programs skip
/// without it, except in CI on x86_64, where `cargo xtask setup` installs
/// them and a missing one is a failure (`cargo xtask test-arm64` sets `CI`
/// in the guest too, so the architecture tells the two apart). Not `PATH`:
/// a version manager's shim there is a shell script.
fn system_program(name: &str) -> Option<PathBuf> {
    let found = ["/usr/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none() || !cfg!(target_arch = "x86_64"),
            "CI is set and /usr/bin/{name} is missing (cargo xtask setup installs it)"
        );
        eprintln!("skipped: no {name} on this machine");
    }
    found
}

/// Records `program args` with `--replayable`; the live run's output.
fn record_replayable(log: &Path, program: &Path, args: &[&str]) -> Output {
    let rec = record_command(log, &["--replayable"], &[program], args);
    assert!(rec.status.success(), "recording: {rec:?}");
    rec
}

/// Replays `log` with `--show-output`: it must reproduce, and print what
/// the recorded run printed.
fn replay_prints_the_recorded_output(log: &Path, recorded: &Output) -> Output {
    let out = replay(&["--show-output", log.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr.contains("as in the recording: reproduced"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, recorded.stdout, "the replayed program's output");
    out
}

/// `ls` of a directory that changed since: the replay lists what the
/// recording's getdents64 records held (refused before they were logged).
#[test]
fn replay_of_ls_lists_the_recorded_directory_after_it_changed() {
    if !privileged() {
        return;
    }
    let Some(ls) = system_program("ls") else {
        return;
    };
    let w = Workdir::new();
    let dir = w.path("listed");
    std::fs::create_dir(&dir).unwrap();
    for f in ["alpha", "beta", "gamma"] {
        std::fs::write(dir.join(f), f).unwrap();
    }
    let log = w.path("ls.rec");
    let rec = record_replayable(&log, &ls, &["-1", dir.to_str().unwrap()]);
    assert_eq!(rec.stdout, "alpha\nbeta\ngamma\n");
    let l = Log::read(&log);
    let dents = find(&l, "getdents64", |s| s.ret.is_some_and(|r| r > 0));
    assert!(
        dents
            .data
            .iter()
            .any(|c| c.len == dents.ret.unwrap() as u64),
        "the log holds the directory records"
    );

    std::fs::remove_file(dir.join("beta")).unwrap();
    std::fs::write(dir.join("delta"), "delta").unwrap();
    let live = Command::new(&ls).arg("-1").arg(&dir).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&live.stdout),
        "alpha\ndelta\ngamma\n"
    );
    replay_prints_the_recorded_output(&log, &rec);
    // And with the directory gone altogether.
    std::fs::remove_dir_all(&dir).unwrap();
    replay_prints_the_recorded_output(&log, &rec);
}

/// `id` recorded with supplementary groups (the recorder run under
/// `setpriv --groups`, so its command inherits them): getgroups' list is
/// in the log, so the replay, run with the desk's groups, prints the
/// recorded ones (refused before getgroups was captured).
#[test]
fn replay_of_id_prints_the_recorded_groups() {
    if !privileged() {
        return;
    }
    let (Some(id), Some(setpriv)) = (system_program("id"), system_program("setpriv")) else {
        return;
    };
    // util-linux's setpriv has --groups; busybox's (the arm64 guest's) not.
    let version = Command::new(&setpriv).arg("--version").output().unwrap();
    if !String::from_utf8_lossy(&version.stdout).contains("util-linux") {
        assert!(
            std::env::var_os("CI").is_none() || !cfg!(target_arch = "x86_64"),
            "CI is set and {} is not util-linux's setpriv",
            setpriv.display()
        );
        eprintln!("skipped: {} is not util-linux's setpriv", setpriv.display());
        return;
    }
    let w = Workdir::new();
    let log = w.path("id.rec");
    let out = Command::new(&setpriv)
        .args(["--groups", "4,24,27"])
        .arg(recorder_bin())
        .arg("-o")
        .arg(&log)
        .args(["--replayable", "--"])
        .arg(&id)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run setpriv recorder");
    let rec = Output::from(out);
    assert!(rec.status.success(), "recording: {rec:?}");
    assert!(
        rec.stdout.contains(",4(") && rec.stdout.contains(",27("),
        "{}",
        rec.stdout
    );
    let l = Log::read(&log);
    let groups = find(&l, "getgroups", |s| s.args[0] != 0 && s.ret == Some(3));
    let list: Vec<u8> = [4u32, 24, 27]
        .iter()
        .flat_map(|g| g.to_le_bytes())
        .collect();
    assert!(groups.data.iter().any(|c| c.bytes == list), "{groups:?}");
    let live = Command::new(&id).output().unwrap();
    assert_ne!(
        String::from_utf8_lossy(&live.stdout),
        rec.stdout,
        "the desk's groups must differ for the replay to show anything"
    );
    replay_prints_the_recorded_output(&log, &rec);
}

/// poll, select and epoll on a pipe, from python3. In the replay the write
/// into the pipe is not performed, so the pipe is empty: what each call
/// says is ready comes from the log (a live call, with timeout 0, would
/// say nothing is).
#[test]
fn replay_answers_poll_select_and_epoll_from_the_log() {
    if !privileged() {
        return;
    }
    let Some(py) = system_program("python3") else {
        return;
    };
    let script = "import os, select\n\
        r, w = os.pipe(); r2, w2 = os.pipe(); os.write(w, b'x')\n\
        p = select.poll(); p.register(r, select.POLLIN); p.register(r2, select.POLLIN)\n\
        e = select.epoll(); e.register(r, select.EPOLLIN); e.register(r2, select.EPOLLIN)\n\
        print('poll', p.poll(0) == [(r, select.POLLIN)])\n\
        print('select', select.select([r, r2], [], [], 0)[0] == [r])\n\
        print('epoll', e.poll(0) == [(r, select.EPOLLIN)])\n\
        print('read', os.read(r, 1))\n";
    let w = Workdir::new();
    let log = w.path("poll.rec");
    let rec = record_replayable(&log, &py, &["-c", script]);
    assert_eq!(
        rec.stdout,
        "poll True\nselect True\nepoll True\nread b'x'\n"
    );
    let l = Log::read(&log);
    let a = arch(&l);
    for names in [
        &["poll", "ppoll"][..],
        &["select", "pselect6"],
        &["epoll_wait", "epoll_pwait"],
    ] {
        assert!(
            l.syscalls().any(
                |s| syscall_name(a, s.nr).is_some_and(|n| names.contains(&n)) && s.ret == Some(1)
            ),
            "a {names:?} call that returned 1 in the log"
        );
    }
    export_log(&log, "replay-poll.rec");
    replay_prints_the_recorded_output(&log, &rec);
}

/// A python3 one-liner reading a file, a directory, its file limit and
/// its CPUs: the replay prints what the recording did after the file and
/// directory changed, with the limit and CPU set the recording ran under
/// (the replay runs under others).
#[test]
fn replay_of_a_python_one_liner_gets_the_recorded_file_dir_limit_and_cpus() {
    if !privileged() {
        return;
    }
    let Some(py) = system_program("python3") else {
        return;
    };
    let (Some(prlimit), Some(taskset)) = (system_program("prlimit"), system_program("taskset"))
    else {
        return;
    };
    let w = Workdir::new();
    let data = w.path("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("config"), "threads=3\n").unwrap();
    std::fs::write(data.join("extra"), "").unwrap();
    let script = "import os, resource, sys\n\
        d = sys.argv[1]\n\
        print(open(os.path.join(d, 'config')).read().strip(), sorted(os.listdir(d)),\n\
              resource.getrlimit(resource.RLIMIT_NOFILE), len(os.sched_getaffinity(0)))\n";
    let log = w.path("py.rec");
    // The recorder runs its program with one CPU and 200 files at most.
    let rec = Command::new(&taskset)
        .args(["-c", "0"])
        .arg(&prlimit)
        .args(["--nofile=200:200", "--"])
        .arg(recorder_bin())
        .arg("-o")
        .arg(&log)
        .args(["--replayable", "--"])
        .arg(&py)
        .args(["-c", script, data.to_str().unwrap()])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run recorder");
    assert!(rec.status.success(), "{rec:?}");
    let recorded = String::from_utf8_lossy(&rec.stdout).into_owned();
    assert_eq!(recorded, "threads=3 ['config', 'extra'] (200, 200) 1\n");

    std::fs::write(data.join("config"), "threads=8\n").unwrap();
    std::fs::remove_file(data.join("extra")).unwrap();
    let out = replay(&["--show-output", log.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(out.stdout, recorded, "{}", out.stderr);
    assert!(out.stderr.contains("reproduced"), "{}", out.stderr);
}

/// `ls` on a terminal 100 columns wide, replayed with its output into a
/// pipe: the terminal ioctls (TCGETS, TIOCGWINSZ) are answered from the
/// log, so it still prints the columns, 100 wide. util-linux's script(1):
/// not the arm64 guest's busybox.
#[cfg(target_env = "gnu")]
#[test]
fn replay_of_ls_on_a_terminal_gets_the_recorded_window_size() {
    if !privileged() {
        return;
    }
    let (Some(ls), Some(script)) = (system_program("ls"), system_program("script")) else {
        return;
    };
    let w = Workdir::new();
    let dir = w.path("wide");
    std::fs::create_dir(&dir).unwrap();
    for i in 1..=30 {
        std::fs::write(dir.join(format!("file_{i}")), "").unwrap();
    }
    let log = w.path("tty.rec");
    // script(1) gives the recorder's program a terminal.
    let inner = format!(
        "stty cols 100 && {} -o {} --replayable -- {} {}",
        recorder_bin().display(),
        log.display(),
        ls.display(),
        dir.display()
    );
    let rec = Command::new(&script)
        .args(["-qec", &inner, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script");
    assert!(rec.status.success(), "{rec:?}");
    let l = Log::read(&log);
    let winsz = find(&l, "ioctl", |s| s.args[1] == 0x5413 && s.ret == Some(0));
    let size = winsz
        .data
        .iter()
        .find(|c| c.arg == 2)
        .expect("TIOCGWINSZ's output");
    // struct winsize { ws_row, ws_col, ... }: 16-bit fields.
    assert_eq!(size.bytes[2..4], 100u16.to_ne_bytes());

    let out = replay(&["--show-output", log.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "30 names in columns:\n{}", out.stdout);
    assert!(
        lines
            .iter()
            .all(|l| l.len() <= 100 && l.starts_with("file_"))
    );
    // Into a pipe, live, ls prints one name a line.
    let live = Command::new(&ls).arg(&dir).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&live.stdout).lines().count(), 30);
}
