//! Least privilege: `-u USER`, sudo (simulated with SUDO_UID/SUDO_GID,
//! which is all the recorder reads of it), and what the recorder keeps
//! once its programs are attached. The unprivileged user is `nobody`.

mod common;

use std::{
    os::unix::fs::{MetadataExt as _, PermissionsExt as _},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use common::*;

/// nobody's uid and gid, from the system's own `id`.
fn nobody() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, "nobody"]).output().unwrap();
        assert!(out.status.success(), "id {flag} nobody");
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    (id("-u"), id("-g"))
}

/// The environment sudo gives a command run by nobody.
fn sudo_env() -> [(&'static str, String); 2] {
    let (uid, gid) = nobody();
    [("SUDO_UID", uid.to_string()), ("SUDO_GID", gid.to_string())]
}

/// A directory nobody can write (the work dir is root's, mode 0700).
fn nobodys_dir(w: &Workdir, name: &str) -> PathBuf {
    let (uid, gid) = nobody();
    // The work dir itself must be enterable: it is root's 0700.
    std::fs::set_permissions(w.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let d = w.path(name);
    std::fs::create_dir(&d).unwrap();
    std::os::unix::fs::chown(&d, Some(uid), Some(gid)).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    d
}

/// `recorder -o LOG EXTRA -- CMD...` with `env` added.
fn record(log: &Path, extra: &[&str], env: &[(&str, String)], cmd: &[&str]) -> Output {
    let out = Command::new(recorder_bin())
        .arg("-o")
        .arg(log)
        .args(extra)
        .arg("--")
        .args(cmd)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .output()
        .expect("run recorder");
    Output::from(out)
}

/// `FIELD:` of a /proc status file, whitespace-trimmed.
fn field(status_path: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(status_path).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
        .unwrap_or_else(|| panic!("{name} in {}", status_path.display()))
        .trim()
        .to_owned()
}

/// Every thread's status file of `pid`.
fn thread_statuses(pid: u32) -> Vec<PathBuf> {
    let v: Vec<PathBuf> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|e| e.unwrap().path().join("status"))
        .collect();
    assert!(!v.is_empty());
    v
}

/// Asserts uid (all four: real, effective, saved, fs), the effective and
/// permitted capabilities, and no_new_privs of every thread of `pid`.
fn assert_dropped(pid: u32, uid: u32, caps: u64) {
    for st in thread_statuses(pid) {
        let uids = field(&st, "Uid");
        assert!(
            uids.split_whitespace().all(|u| u == uid.to_string()),
            "{}: Uid {uids}",
            st.display()
        );
        for set in ["CapEff", "CapPrm"] {
            let v = u64::from_str_radix(&field(&st, set), 16).unwrap();
            assert_eq!(v, caps, "{}: {set} {v:#x}", st.display());
        }
        assert_eq!(field(&st, "NoNewPrivs"), "1", "{}", st.display());
    }
}

/// The log holds the command from its execve on: the first record is an
/// execve, no setuid or setgroups (the child's switch) is in it, and the
/// command's write of `printed` is.
fn assert_command_recorded(log: &Log, printed: &str) {
    let first = log.syscalls().next().expect("records");
    assert_eq!(first.nr, libc::SYS_execve, "first record: {first:?}");
    assert!(
        log.syscalls()
            .any(|s| s.nr == libc::SYS_execve && s.ret == Some(0)),
        "a successful execve"
    );
    for nr in [libc::SYS_setresuid, libc::SYS_setuid, libc::SYS_setgroups] {
        assert!(!log.syscalls().any(|s| s.nr == nr), "syscall {nr} logged");
    }
    assert!(
        log.syscalls().any(
            |s| s.nr == libc::SYS_write && s.data.iter().any(|c| c.bytes == printed.as_bytes())
        ),
        "the write of {printed:?}"
    );
}

#[test]
fn command_runs_as_the_user_given_with_u() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("u.rec");
    let out = record(&log_path, &["-u", "nobody"], &[], &["id", "-u"]);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    let uid = nobody().0.to_string();
    assert_eq!(out.stdout.trim(), uid);
    let log = Log::read(&log_path);
    log.assert_complete();
    assert_command_recorded(&log, &format!("{uid}\n"));
    // Without sudo the log stays the recorder's (root's).
    assert_eq!(std::fs::metadata(&log_path).unwrap().uid(), 0);
}

#[test]
fn unknown_user_is_an_error_said_once() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let out = record(
        &w.path("x.rec"),
        &["-u", "no-such-user-xyz"],
        &[],
        &["true"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.stderr.trim(),
        "recorder: error: --user no-such-user-xyz: no such user"
    );
}

#[test]
fn under_sudo_the_command_and_the_log_belong_to_the_invoking_user() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let dir = nobodys_dir(&w, "mine");
    let (uid, gid) = nobody();
    for (extra, runs_as) in [(&[][..], uid), (&["-u", "root"][..], 0)] {
        let log_path = dir.join(format!("sudo{runs_as}.rec"));
        let out = record(&log_path, extra, &sudo_env(), &["id", "-u"]);
        assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
        assert_eq!(out.stdout.trim(), runs_as.to_string(), "{extra:?}");
        let m = std::fs::metadata(&log_path).unwrap();
        assert_eq!((m.uid(), m.gid()), (uid, gid), "{extra:?}");
        assert_eq!(m.mode() & 0o777, 0o600);
        let log = Log::read(&log_path);
        log.assert_complete();
        assert_command_recorded(&log, &format!("{runs_as}\n"));
    }
}

#[test]
fn after_attach_the_recorder_keeps_no_capabilities_and_no_root() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let dir = nobodys_dir(&w, "drop");
    let (uid, _) = nobody();
    let env = sudo_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // -- COMMAND, lossless by default: its SIGCONTs reach a process of the
    // same uid and session without any capability.
    let log_path = dir.join("cmd.rec");
    let rec = Running::start_env(&log_path, &["--", "sleep", "1"], &env);
    assert_dropped(rec.pid(), uid, 0);
    let (status, stderr) = rec.wait();
    assert!(status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    Log::read(&log_path).assert_complete();

    // A command run as another user than the recorder (root, here) gets
    // the SIGTERM passed on and its pauses resumed: CAP_KILL, kept.
    let log_path = w.path("other.rec");
    let rec = Running::start(&log_path, &["-u", "nobody", "--", "sleep", "1"]);
    assert_dropped(rec.pid(), 0, 1 << 5);
    let (status, stderr) = rec.wait();
    assert!(status.success(), "{stderr}");

    // Without sudo: root's uid stays, without a capability.
    let mut target = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = target.id().to_string();
    let log_path = w.path("root.rec");
    let rec = Running::start(&log_path, &["-p", &pid]);
    assert_dropped(rec.pid(), 0, 0);
    let (status, stderr) = rec.stop();
    assert!(status.success(), "{stderr}");

    // Lossless -p: the pauses' SIGCONT reaches another user's process
    // only with CAP_KILL, the one capability kept; the resume guard has
    // the same.
    let log_path = dir.join("p.rec");
    let rec = Running::start_env(&log_path, &["-p", &pid, "--overflow", "pause"], &env);
    const CAP_KILL: u64 = 1 << 5;
    assert_dropped(rec.pid(), uid, CAP_KILL);
    let guard = guard_of(rec.pid()).expect("a resume guard");
    assert_dropped(guard, uid, CAP_KILL);
    let (status, stderr) = rec.stop();
    assert!(status.success(), "{stderr}");
    Log::read(&log_path).assert_complete();
    target.kill().unwrap();
    target.wait().unwrap();
}

/// The `recorder resume-guard` child of `pid`.
fn guard_of(pid: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.find_map(|e| {
        let p: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        let ppid: u32 = stat.rsplit(") ").next()?.split(' ').nth(1)?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{p}/cmdline")).ok()?;
        (ppid == pid && cmdline.windows(12).any(|w| w == b"resume-guard")).then_some(p)
    })
}

#[test]
fn rotation_and_snapshots_work_after_the_drop() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let dir = nobodys_dir(&w, "rot");
    let (uid, gid) = nobody();
    let log_path = dir.join("rot.rec");
    let snaps = dir.join("snaps/new");
    let script = format!(
        "{} 150000 >/dev/null && {}",
        fixture("fx-loop").display(),
        fixture("fx-crash").display()
    );
    let out = record(
        &log_path,
        &[
            "--rotate-size",
            "64K",
            "--rotate-count",
            "3",
            "-s",
            "0",
            "--snapshot-dir",
            snaps.to_str().unwrap(),
        ],
        &sudo_env(),
        &["sh", "-c", &script],
    );
    // fx-crash's SIGSEGV, as a shell says it: 128 + 11.
    assert_eq!(out.status.code(), Some(139), "{}", out.stderr);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let owned = |p: &Path, mode: u32| {
        let m = std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!((m.uid(), m.gid()), (uid, gid), "{}", p.display());
        assert_eq!(m.mode() & 0o777, mode, "{}", p.display());
    };
    // Three files, the rotated ones made by the recorder running as nobody.
    for name in ["rot.rec", "rot.rec.1", "rot.rec.2"] {
        let p = dir.join(name);
        owned(&p, 0o600);
        Log::read(&p);
    }
    assert!(!dir.join("rot.rec.3").exists());
    // The directories it created (before the drop) and the snapshot (after).
    owned(&dir.join("snaps"), 0o700);
    owned(&snaps, 0o700);
    let shots: Vec<PathBuf> = std::fs::read_dir(&snaps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(shots.len(), 1, "{shots:?}; stderr: {}", out.stderr);
    owned(&shots[0], 0o600);
    let snap = Log::read(&shots[0]);
    assert!(
        snap.syscalls()
            .any(|s| s.nr == libc::SYS_close && s.args[0] as i64 == -5000),
        "the crashed process's last calls"
    );
}

#[test]
fn sighup_reopens_after_the_drop() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let dir = nobodys_dir(&w, "hup");
    let (uid, _) = nobody();
    let log_path = dir.join("hup.rec");
    let moved = dir.join("hup.rec.old");
    let env = sudo_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let loop_bin = fixture("fx-loop");
    let rec = Running::start_env(
        &log_path,
        &[
            "-s",
            "0",
            "--",
            loop_bin.to_str().unwrap(),
            "--markers",
            "200000",
        ],
        &env,
    );
    assert_dropped(rec.pid(), uid, 0);
    // Between the markers (500 ms pauses at either end), as logrotate
    // would: move the file away, then SIGHUP.
    std::thread::sleep(Duration::from_millis(300));
    std::fs::rename(&log_path, &moved).unwrap();
    // SAFETY: plain system call; the recorder is our child, still running.
    unsafe { libc::kill(rec.pid() as i32, libc::SIGHUP) };
    let (status, stderr) = rec.wait();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("SIGHUP: reopened"), "{stderr}");
    // The new file was created by the recorder as nobody.
    assert_eq!(std::fs::metadata(&log_path).unwrap().uid(), uid);
    let (old, new) = (Log::read(&moved), Log::read(&log_path));
    assert!(old.syscalls().count() > 0 && new.syscalls().count() > 0);
    let c = &new.trailer.as_ref().unwrap().counters;
    assert_eq!(c.ring_full + c.user_dropped, 0, "{c:?}");
    let getppids = old
        .syscalls()
        .chain(new.syscalls())
        .filter(|s| s.nr == libc::SYS_getppid)
        .count();
    assert_eq!(getppids, 200_000, "every getppid, across the two files");
}

#[test]
fn under_sudo_a_bundle_belongs_to_the_invoking_user() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let dir = nobodys_dir(&w, "bundle");
    let log_path = w.path("src.rec");
    let out = record(&log_path, &[], &[], &["true"]);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    let bundle_path = dir.join("bug.rec");
    let (uid, gid) = nobody();
    let out = Command::new(recorder_bin())
        .args(["bundle", "-o"])
        .arg(&bundle_path)
        .arg(&log_path)
        .envs(sudo_env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = std::fs::metadata(&bundle_path).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o777), (uid, gid, 0o600));
    Log::read(&bundle_path);
}
