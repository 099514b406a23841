//! Service mode: systemd readiness, SIGHUP reopen, rotation, config file.

mod common;

use std::{
    os::unix::net::UnixDatagram,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use common::*;
use recorder::event::Event;

/// Every getppid record of `tid` across `logs`, in order, must have
/// consecutive sequence numbers: nothing lost at a file boundary.
fn seqs_of(logs: &[Log], nr: i64) -> Vec<(u32, u64)> {
    logs.iter()
        .flat_map(|l| l.syscalls())
        .filter(|s| s.nr == nr)
        .map(|s| (s.tid, s.seq))
        .collect()
}

fn assert_contiguous(seqs: &[(u32, u64)]) {
    assert!(!seqs.is_empty());
    for w in seqs.windows(2) {
        if w[0].0 == w[1].0 {
            assert_eq!(w[1].1, w[0].1 + 1, "gap between {:?} and {:?}", w[0], w[1]);
        }
    }
}

#[test]
fn rotation_keeps_the_file_count_and_size_bounded_without_gaps() {
    if !privileged() {
        return;
    }
    const N: u64 = 150_000;
    const SIZE: u64 = 64 << 10;
    let w = Workdir::new();
    let log_path = w.path("rot.rec");
    let out = record_command(
        &log_path,
        &["--rotate-size", "64K", "--rotate-count", "3", "-s", "0"],
        &[&fixture("fx-loop")],
        &[&N.to_string()],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    let name = |i: u32| -> PathBuf {
        if i == 0 {
            log_path.clone()
        } else {
            PathBuf::from(format!("{}.{i}", log_path.display()))
        }
    };
    assert!(!name(3).exists(), "at most 3 files");
    let mut logs = Vec::new();
    // Oldest first.
    for i in (0..3).rev() {
        let p = name(i);
        let len = std::fs::metadata(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .len();
        // The size check runs after each event, so a file ends at most one
        // block (<= 256 KiB of events before compression) past the limit.
        assert!(len <= SIZE + (256 << 10), "{}: {len} bytes", p.display());
        // Each file is a complete log on its own.
        logs.push(Log::read(&p));
    }
    let last = logs
        .last()
        .unwrap()
        .trailer
        .as_ref()
        .unwrap()
        .counters
        .clone();
    assert_eq!(last.ring_full + last.user_dropped, 0, "{last:?}");
    let seqs = seqs_of(&logs, libc::SYS_getppid);
    assert_contiguous(&seqs);
    // The newest file ends with the fixture's last calls.
    assert!(
        logs[2].syscalls().any(|s| s.nr == libc::SYS_exit_group),
        "the active file holds the end"
    );
}

#[test]
fn sighup_reopens_without_losing_a_record() {
    if !privileged() {
        return;
    }
    const N: u64 = 300_000;
    let w = Workdir::new();
    let log_path = w.path("hup.rec");
    let (exe, comm) = unique_fixture(&w, "fx-loop", "fxhup");
    // Lossless: this test is about reopening, and must not fail because a
    // busy CI machine starved the drain.
    let rec = Running::start(
        &log_path,
        &["--comm", &comm, "-s", "0", "--overflow", "pause"],
    );
    let mut fx = Command::new(&exe)
        .args(["--markers", &N.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Rotate twice while the fixture runs, as logrotate would: move the file
    // away, then SIGHUP.
    let moved: Vec<PathBuf> = (1..=2)
        .map(|i| w.path(&format!("hup.rec.old{i}")))
        .collect();
    for m in &moved {
        std::thread::sleep(Duration::from_millis(300));
        std::fs::rename(&log_path, m).unwrap();
        // SAFETY: kill has no memory preconditions; the pid is our child's.
        unsafe { libc::kill(rec.pid() as i32, libc::SIGHUP) };
    }
    assert!(fx.wait().unwrap().success());
    let (status, stderr) = rec.stop();
    assert!(status.success(), "{stderr}");
    assert_eq!(stderr.matches("SIGHUP: reopened").count(), 2, "{stderr}");
    let logs: Vec<Log> = moved
        .iter()
        .chain([&log_path])
        .map(|p| Log::read(p))
        .collect();
    let c = &logs[2].trailer.as_ref().unwrap().counters;
    assert_eq!(c.ring_full + c.user_dropped, 0, "{c:?}");
    let seqs = seqs_of(&logs, libc::SYS_getppid);
    assert_contiguous(&seqs);
    assert_eq!(
        seqs.len() as u64,
        N,
        "every getppid, across the three files"
    );
    assert!(
        logs.iter().all(|l| l.syscalls().count() > 0),
        "each file got records"
    );
}

#[test]
fn ready_is_sent_only_once_recording_has_started() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let sock_path = w.path("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let (exe, comm) = unique_fixture(&w, "fx-basic", "fxrdy");
    let log_path = w.path("ready.rec");
    let mut rec = Command::new(recorder_bin())
        .args(["--comm", &comm, "-o"])
        .arg(&log_path)
        .env("NOTIFY_SOCKET", &sock_path)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 256];
    let n = sock.recv(&mut buf).expect("a notification within 60 s");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.contains("READY=1"), "{msg}");
    // Started the moment READY arrives: it must be recorded in full.
    let out = Command::new(&exe).output().unwrap();
    assert_eq!(out.status.code(), Some(tests::BASIC_EXIT));
    // SAFETY: kill has no memory preconditions; the pid is our child's.
    unsafe { libc::kill(rec.id() as i32, libc::SIGTERM) };
    assert!(rec.wait().unwrap().success());
    let mut rest = Vec::new();
    while let Ok(n) = {
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        sock.recv(&mut buf)
    } {
        rest.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(rest.iter().any(|m| m.contains("STOPPING=1")), "{rest:?}");
    let log = Log::read(&log_path);
    log.assert_complete();
    assert!(
        log.events
            .iter()
            .any(|e| matches!(e, Event::Exec(p) if p.comm == comm))
    );
    assert!(
        log.syscalls()
            .any(|s| s.nr == libc::SYS_exit_group && s.args[0] == tests::BASIC_EXIT as u64)
    );
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("recorder.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn config_file_settings_and_command_line_overrides() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let file = w.path("f.txt");
    std::fs::write(&file, b"0123456789abcdef").unwrap();
    let cfg = write_config(w.dir.path(), "capture-size = \"8\"\nring-size = \"1M\"\n");
    let log_path = w.path("cfg.rec");
    let cfg_arg = cfg.to_str().unwrap();
    let out = record_command(
        &log_path,
        &["--config", cfg_arg],
        &[&fixture("fx-data")],
        &[file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    let log = Log::read(&log_path);
    assert_eq!(log.header.capture_size, 8, "from the file");
    assert_eq!(log.header.ring_size, 1 << 20, "from the file");
    let out = record_command(
        &log_path,
        &["--config", cfg_arg, "-s", "16"],
        &[&fixture("fx-data")],
        &[file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    let log = Log::read(&log_path);
    assert_eq!(log.header.capture_size, 16, "the command line wins");
    assert_eq!(log.header.ring_size, 1 << 20);
}

#[test]
fn bad_config_names_the_key_and_line() {
    // No privileges needed: the config is read before anything is loaded.
    let w = Workdir::new();
    let cfg = write_config(w.dir.path(), "comm = [\"x\"]\nrotate-size = \"lots\"\n");
    let out = Command::new(recorder_bin())
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 2: `rotate-size`"), "{err}");
    let cfg = write_config(w.dir.path(), "comm = [\"x\"]\nsnaplen = 5\n");
    let out = Command::new(recorder_bin())
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("snaplen") && err.contains("line 2"), "{err}");
}
