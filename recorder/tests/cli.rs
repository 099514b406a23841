//! User errors get one clear line and a non-zero exit: never a panic or a
//! backtrace. These run without root (as root, the privilege case drops to
//! `nobody` to check the message).

use std::process::{Command, Output};

fn recorder() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_recorder"));
    // A backtrace would be a bug: make sure one would show if it happened.
    c.env("RUST_BACKTRACE", "1");
    c
}

/// Runs as `nobody` when the tests run as root, so the privilege checks
/// see an unprivileged user either way.
fn unprivileged(c: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        c.uid(65534).gid(65534);
    }
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_clean_error(o: &Output, code: i32, needle: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {e}");
    assert!(e.contains(needle), "expected {needle:?} in: {e}");
    assert!(!e.contains("panicked"), "panic: {e}");
    assert!(!e.contains("stack backtrace"), "backtrace: {e}");
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let o = recorder().arg("--frobnicate").output().unwrap();
    assert_clean_error(&o, 2, "--frobnicate");
}

#[test]
fn nothing_to_record() {
    let o = recorder().output().unwrap();
    assert_clean_error(&o, 1, "nothing to record");
}

#[test]
fn empty_comm() {
    let o = recorder().args(["--comm", ""]).output().unwrap();
    assert_clean_error(&o, 1, "--comm needs a non-empty process name");
}

/// The record command's `-e` is the readers' parser: a bad expression is a
/// usage error, said before anything is loaded.
#[test]
fn bad_trace_set() {
    let o = recorder()
        .args(["-e", "opne", "--", "true"])
        .output()
        .unwrap();
    assert_clean_error(&o, 2, "unknown syscall \"opne\"");
    let o = recorder()
        .args(["-e", "%files", "--", "true"])
        .output()
        .unwrap();
    assert_clean_error(&o, 2, "unknown syscall class \"%files\"");
}

#[test]
fn missing_pid() {
    // pid_max is at most 2^22, so this pid cannot exist.
    let o = recorder().args(["-p", "4194304"]).output().unwrap();
    assert_clean_error(&o, 1, "-p 4194304: no such process");
}

#[test]
fn bad_ring_size() {
    let o = recorder()
        .args(["--ring-size", "12Q", "--comm", "x"])
        .output()
        .unwrap();
    assert_clean_error(&o, 2, "unknown size suffix");
}

#[test]
fn not_privileged() {
    let o = unprivileged(recorder().args(["--comm", "x", "-o", "/tmp/recorder-unpriv.rec"]))
        .output()
        .unwrap();
    assert_clean_error(
        &o,
        1,
        "recording needs root, or the CAP_BPF and CAP_PERFMON capabilities",
    );
}

#[test]
fn unwritable_output_fails_before_recording() {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: only meaningful as root (otherwise the privilege check fires first)");
        return;
    }
    let o = recorder()
        .args(["--comm", "x", "-o", "/nonexistent-dir/x.rec"])
        .output()
        .unwrap();
    // The whole line: the cause once, after what failed.
    assert_clean_error(
        &o,
        1,
        "recorder: error: cannot create the log /nonexistent-dir/x.rec: \
         No such file or directory (os error 2)\n",
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn config_error_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, "captur-size = 10\n").unwrap();
    let o = recorder().arg("--config").arg(&p).output().unwrap();
    assert_clean_error(&o, 1, "unknown field `captur-size`");
    let e = stderr(&o);
    assert_eq!(e.matches("TOML parse error").count(), 1, "{e}");
    assert!(
        e.starts_with(&format!(
            "recorder: error: config file {}: TOML parse error at line 1",
            p.display()
        )),
        "{e}"
    );
}

#[test]
fn dump_of_a_missing_file() {
    let o = recorder()
        .args(["dump", "/nonexistent/x.rec"])
        .output()
        .unwrap();
    assert_clean_error(&o, 1, "cannot open /nonexistent/x.rec");
}

#[test]
fn dump_of_something_that_is_not_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notalog.rec");
    std::fs::write(&p, b"this is not a recorder log at all\n").unwrap();
    let o = recorder().arg("dump").arg(&p).output().unwrap();
    assert_clean_error(&o, 1, "not a recorder log (bad magic)");
    std::fs::write(&p, b"").unwrap();
    let o = recorder().arg("dump").arg(&p).output().unwrap();
    assert_clean_error(&o, 1, "empty file");
}

/// A small valid log written through the library (no root needed).
fn write_log(path: &std::path::Path, calls: u64) {
    use recorder::{
        event::{Event, Header, Syscall, Trailer},
        log::LogWriter,
    };
    let header = Header {
        arch: "x86_64".into(),
        ..Default::default()
    };
    let f = std::fs::File::create(path).unwrap();
    let mut w = LogWriter::new(std::io::BufWriter::new(f), &header, 3).unwrap();
    for i in 0..calls {
        w.append(&Event::Syscall(Syscall {
            tgid: 7,
            tid: 7,
            seq: i,
            nr: 110, // getppid on x86_64
            ret: Some(1),
            enter_ns: i * 1000,
            exit_ns: Some(i * 1000 + 100),
            ..Default::default()
        }))
        .unwrap();
    }
    w.finish(&Trailer::default()).unwrap();
}

#[test]
fn dump_into_a_closed_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.rec");
    write_log(&p, 200_000);
    let mut child = recorder()
        .arg("dump")
        .arg(&p)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as `| head -1` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 64];
    std::io::Read::read(&mut stdout, &mut buf).unwrap();
    drop(stdout);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(!stderr(&o).contains("error"), "stderr: {}", stderr(&o));
}

/// Like `dump`, for the commands whose output the library writes: the
/// closed pipe must reach `main` as an io::Error it can recognise.
#[test]
fn export_and_info_into_a_closed_pipe_are_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.rec");
    write_log(&p, 200_000);
    for args in [
        &["export", "-f", "jsonl"][..],
        &["info", "--json"],
        &["report", "-o", "-"],
        &["export", "-f", "parquet"],
    ] {
        let mut child = recorder()
            .args(args)
            .arg(&p)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("error"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn export_takes_several_logs_only_as_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("small.rec");
    write_log(&p, 3);
    let o = recorder().arg("export").args([&p, &p]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("take one log, not 2"), "{err}");
    assert_eq!(err.matches("error").count(), 1, "printed once: {err}");
    let out = dir.path().join("two.parquet");
    let o = recorder()
        .args(["export", "-f", "parquet", "-o"])
        .args([&out, &p, &p])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let bytes = std::fs::read(&out).unwrap();
    assert!(
        bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
        "a Parquet file"
    );
    // A missing log fails before anything is exported, naming it.
    let o = recorder()
        .args(["export", "-f", "parquet", "-o"])
        .args([&out, &p, &dir.path().join("missing.rec")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing.rec"), "{}", stderr(&o));
}

#[test]
fn dump_prints_getppid_lines_and_a_complete_summary() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("small.rec");
    write_log(&p, 3);
    let o = recorder().arg("dump").arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.lines().all(|l| l.contains("getppid() = 1")), "{out}");
    assert!(stderr(&o).contains("complete: 3 records"), "{}", stderr(&o));
}

#[test]
fn check_fails_without_privileges() {
    let o = unprivileged(recorder().arg("check")).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL  privileges"), "{out}");
    assert!(out.contains("recording will NOT work"), "{out}");
}

#[test]
fn report_of_a_missing_file_leaves_no_page() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("x.html");
    let o = recorder()
        .args(["report", "/nonexistent/x.rec", "-o"])
        .arg(&page)
        .output()
        .unwrap();
    assert_clean_error(&o, 1, "cannot open /nonexistent/x.rec");
    assert!(!page.exists(), "no empty page left behind");
}

#[test]
fn report_writes_the_page_named_after_the_log() {
    let dir = tempfile::tempdir().unwrap();
    write_log(&dir.path().join("small.rec"), 3);
    let o = recorder()
        .args(["report", "small.rec"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(
        stderr(&o).contains("wrote small.rec.html"),
        "{}",
        stderr(&o)
    );
    let page = std::fs::read_to_string(dir.path().join("small.rec.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("getppid() = 1"));
    // Self-contained: nothing to fetch.
    for needle in ["src=", "href=\"http", "@import", "url("] {
        assert!(!page.contains(needle), "{needle} in the page");
    }
}
