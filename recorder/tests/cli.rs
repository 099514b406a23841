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

/// `recorder ls -l`: a command without `--` is a recording (which needs
/// privileges), with `-f`/`-ff` accepted; `-f --no-follow` contradict.
#[test]
fn command_without_double_dash_is_a_recording() {
    for args in [
        &["ls", "-l"][..],
        &["-f", "ls"],
        &["-ff", "-o", "x.rec", "ls"],
    ] {
        let o = unprivileged(recorder().args(args)).output().unwrap();
        assert_clean_error(
            &o,
            1,
            "recording needs root, or the CAP_BPF and CAP_PERFMON capabilities",
        );
    }
    let o = recorder()
        .args(["-f", "--no-follow", "ls"])
        .output()
        .unwrap();
    assert_clean_error(&o, 2, "--no-follow");
}

/// The live display options alone would do nothing: refused, naming --live.
#[test]
fn display_options_need_live() {
    for flag in ["-T", "-tt", "-y", "--string-limit=64"] {
        let o = recorder().args([flag, "ls"]).output().unwrap();
        assert_clean_error(&o, 2, "--live");
    }
}

/// What `-o -` cannot do is said before anything starts.
#[test]
fn stdout_log_refuses_what_needs_a_file() {
    let o = recorder()
        .args(["-o", "-", "--rotate-size", "1M", "ls"])
        .output()
        .unwrap();
    assert_clean_error(&o, 1, "--rotate-size needs a log file");
    let o = recorder().args(["-c", "-o", "-", "ls"]).output().unwrap();
    assert_clean_error(&o, 1, "pipe the log into `recorder stats -` instead");
}

/// A pseudo-terminal: (controller, terminal).
fn pty() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd as _;
    let (mut m, mut s) = (-1, -1);
    // SAFETY: openpty writes two descriptors; the other arguments may be
    // null.
    let r = unsafe {
        libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both were just opened and are ours.
    unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(m),
            std::os::fd::OwnedFd::from_raw_fd(s),
        )
    }
}

#[test]
fn stdout_log_is_not_written_to_a_terminal() {
    let (_controller, terminal) = pty();
    let o = recorder()
        .args(["-o", "-", "ls"])
        .stdout(std::process::Stdio::from(terminal))
        .output()
        .unwrap();
    assert_clean_error(&o, 1, "not writing the binary log to a terminal");
}

/// Runs `recorder ARGS` with `input` on its standard input.
fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = recorder()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A reader that stops early closes the pipe: not this test's failure.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    o
}

/// `dump -` and `stats -` read standard input and print what they print
/// for the file.
#[test]
fn dump_and_stats_read_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("small.rec");
    write_log(&p, 50);
    let bytes = std::fs::read(&p).unwrap();
    for cmd in ["dump", "stats"] {
        let piped = with_stdin(&[cmd, "-"], &bytes);
        let file = recorder().arg(cmd).arg(&p).output().unwrap();
        assert_eq!(piped.status.code(), Some(0), "{cmd} -: {}", stderr(&piped));
        assert!(!piped.stdout.is_empty(), "{cmd}");
        assert_eq!(
            piped.stdout, file.stdout,
            "{cmd} - prints what {cmd} FILE does"
        );
        assert!(
            stderr(&piped).contains("complete: 50 records"),
            "{}",
            stderr(&piped)
        );
    }
}

/// `info -`: the same report, the file named `-`, its size what was read.
#[test]
fn info_reads_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("small.rec");
    write_log(&p, 50);
    let bytes = std::fs::read(&p).unwrap();
    let piped = with_stdin(&["info", "-"], &bytes);
    let file = recorder().arg("info").arg(&p).output().unwrap();
    assert_eq!(piped.status.code(), Some(0), "{}", stderr(&piped));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (piped, file) = (text(&piped.stdout), text(&file.stdout));
    let first = format!("file         - ({} bytes, format version 2)", bytes.len());
    assert_eq!(piped.lines().next(), Some(first.as_str()), "{piped}");
    // The first line names the file; the rest is the same report.
    let rest = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(rest(&piped), rest(&file));
    assert!(piped.contains("verdict      complete"), "{piped}");
}

#[test]
fn dump_of_bad_standard_input() {
    let o = with_stdin(&["dump", "-"], b"not a log, just text\n");
    assert_clean_error(&o, 1, "-: not a recorder log (bad magic)");
    let o = with_stdin(&["stats", "-"], b"");
    assert_clean_error(&o, 1, "-: empty file");
}

#[test]
fn follow_of_a_missing_file() {
    let o = recorder()
        .args(["dump", "--follow", "/nonexistent/x.rec"])
        .output()
        .unwrap();
    assert_clean_error(&o, 1, "cannot open /nonexistent/x.rec");
}

/// Lines of a child's stream, collected on a thread.
fn lines_of(r: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead as _;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (generously) until `n` lines satisfy `pred`.
fn wait_lines(
    rx: &std::sync::mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    n: usize,
    pred: impl Fn(&str) -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while seen.iter().filter(|l| pred(l)).count() < n {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => seen.push(l),
            Err(_) => panic!("waited for {n} lines; got {seen:?}"),
        }
    }
}

/// `dump --follow`: a file that grows (a frame arriving in two halves is
/// waited for, not reported as truncated), then a rotation (renamed to
/// `.1`, a new file at the path): the follower carries on into it and
/// says each file's verdict as it ends.
#[test]
fn follow_a_growing_log_across_a_rotation() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.rec"), dir.path().join("b.rec"));
    write_log(&a, 3);
    write_log(&b, 5);
    let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    let path = dir.path().join("x.rec");
    let mut f = std::fs::File::create(&path).unwrap();
    let half = a.len() / 2;
    f.write_all(&a[..half]).unwrap();
    let mut child = recorder()
        .args(["dump", "-F"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    let (mut lines, mut notes) = (Vec::new(), Vec::new());
    f.write_all(&a[half..]).unwrap();
    let call = |l: &str| l.contains("getppid() = 1");
    wait_lines(&out, &mut lines, 3, call);
    wait_lines(&err, &mut notes, 1, |l| l.contains("complete: 3 records"));
    // Rotation: the file moves to .1, the next one appears whole.
    std::fs::rename(&path, dir.path().join("x.rec.1")).unwrap();
    let tmp = dir.path().join("next.tmp");
    std::fs::write(&tmp, &b).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    wait_lines(&out, &mut lines, 8, call);
    wait_lines(&err, &mut notes, 1, |l| l.contains("complete: 5 records"));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(lines.len(), 8, "{lines:?}");
    assert!(
        notes
            .iter()
            .any(|l| l.starts_with("recorder: following the new")),
        "{notes:?}"
    );
    assert!(!notes.iter().any(|l| l.contains("INCOMPLETE")), "{notes:?}");
}

/// A damaged file is reported once, and following goes on with the next
/// file at the path, not with the same file again.
#[test]
fn follow_reports_damage_once_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.rec"), dir.path().join("b.rec"));
    write_log(&a, 3);
    write_log(&b, 5);
    let mut bad = std::fs::read(&a).unwrap();
    // A byte inside the block, before the trailer: its CRC fails.
    let at = bad.len() - 80;
    bad[at] ^= 0xff;
    let path = dir.path().join("x.rec");
    std::fs::write(&path, &bad).unwrap();
    let mut child = recorder()
        .args(["dump", "-F"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    let (mut lines, mut notes) = (Vec::new(), Vec::new());
    wait_lines(&err, &mut notes, 1, |l| l.contains("stopped reading"));
    let tmp = dir.path().join("next.tmp");
    std::fs::copy(&b, &tmp).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    wait_lines(&out, &mut lines, 5, |l| l.contains("getppid() = 1"));
    wait_lines(&err, &mut notes, 1, |l| l.contains("complete: 5 records"));
    let _ = child.kill();
    let _ = child.wait();
    let damage = notes
        .iter()
        .filter(|l| l.contains("stopped reading"))
        .count();
    assert_eq!(damage, 1, "{notes:?}");
    assert!(!notes.iter().any(|l| l.contains("panicked")), "{notes:?}");
}

/// `recorder watch`: bad filters are said once, before anything is loaded
/// (so also without privileges), and the missing privileges clearly.
#[test]
fn watch_bad_filters_and_no_privileges() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--errno", "ENOPE"],
            "--errno ENOPE: no such error name or number",
        ),
        (&["--path", "/etc/"], "--path /etc/: ends in '/'"),
        (&["--addr", "host:80"], "--addr host:80: expected HOST:PORT"),
        (&["-e", "opne"], "unknown syscall \"opne\""),
        (
            &["--cgroup", "no/such/cgroup"],
            "--cgroup /sys/fs/cgroup/no/such/cgroup",
        ),
    ];
    for (args, needle) in cases {
        let o = unprivileged(recorder().arg("watch").args(args))
            .output()
            .unwrap();
        let code = if args[0] == "-e" { 2 } else { 1 };
        assert_clean_error(&o, code, needle);
        assert_eq!(stderr(&o).matches(needle).count(), 1, "said once");
    }
    let o = unprivileged(recorder().args(["watch", "-e", "openat"]))
        .output()
        .unwrap();
    assert_clean_error(&o, 1, "watching needs root, or the CAP_BPF and CAP_PERFMON");
}

/// A one-call log of `arch` whose call is `nr`.
fn write_one_call_log(path: &std::path::Path, arch: &str, nr: i64) {
    use recorder::{
        event::{Event, Header, Syscall, Trailer},
        log::LogWriter,
    };
    let header = Header {
        arch: arch.into(),
        capture_size: 4096,
        ..Default::default()
    };
    let f = std::fs::File::create(path).unwrap();
    let mut w = LogWriter::new(std::io::BufWriter::new(f), &header, 3).unwrap();
    w.append(&Event::Syscall(Syscall {
        tgid: 7,
        tid: 7,
        nr,
        ret: Some(0),
        ..Default::default()
    }))
    .unwrap();
    w.finish(&Trailer::default()).unwrap();
}

#[test]
fn replay_refuses_a_log_of_another_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("other.rec");
    let (other, execve) = if cfg!(target_arch = "x86_64") {
        ("aarch64", 221)
    } else {
        ("x86_64", 59)
    };
    write_one_call_log(&p, other, execve);
    let o = unprivileged(recorder().arg("replay").arg(&p))
        .output()
        .unwrap();
    assert_clean_error(&o, 1, &format!("recorded on {other}"));
    assert_clean_error(
        &o,
        1,
        "a log replays only on the architecture it was recorded on",
    );
}

#[test]
fn replay_refuses_a_log_that_does_not_start_at_the_exec() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("attached.rec");
    let (arch, getppid) = if cfg!(target_arch = "x86_64") {
        ("x86_64", 110)
    } else {
        ("aarch64", 173)
    };
    write_one_call_log(&p, arch, getppid);
    let o = unprivileged(recorder().arg("replay").arg(&p))
        .output()
        .unwrap();
    assert_clean_error(&o, 1, "does not start with the program's execve");
}
