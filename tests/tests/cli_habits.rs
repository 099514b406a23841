//! strace users' habits, end to end with real eBPF programs: a command
//! without `--`, `-f`/`-ff`, `-c`, `--live`, the log through a pipe
//! (`-o -` into `dump -`), `dump --follow` across rotations, and the
//! status line on a terminal. No assertion depends on timing: where a
//! test needs an order of events, it waits for it (generous deadlines).

mod common;

use std::{
    io::{BufRead as _, BufReader, Read as _},
    os::fd::{FromRawFd as _, OwnedFd},
    path::Path,
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use common::*;
use tests::{BASIC_EXIT, BASIC_MSG};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The dump lines of a log, without the `recorder:` summary.
fn dump_lines(log: &Path, args: &[&str]) -> Vec<String> {
    let out = Command::new(recorder_bin())
        .arg("dump")
        .args(args)
        .arg(log)
        .output()
        .expect("run dump");
    assert!(out.status.success(), "dump: {}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn command_without_double_dash_and_strace_follow_flags() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    for flags in [&[][..], &["-f"], &["-ff"]] {
        let log_path = w.path("basic.rec");
        let out = Command::new(recorder_bin())
            .arg("-o")
            .arg(&log_path)
            .args(flags)
            .arg(fixture("fx-basic"))
            .stdin(Stdio::null())
            .output()
            .expect("run recorder");
        assert_eq!(
            out.status.code(),
            Some(BASIC_EXIT),
            "{flags:?}: the command's status; stderr: {}",
            text(&out.stderr)
        );
        assert_eq!(out.stdout, BASIC_MSG, "{flags:?}");
        let log = Log::read(&log_path);
        log.assert_complete();
        let first = log.syscalls().next().expect("records");
        assert_eq!(first.nr, libc::SYS_execve, "{flags:?}: starts at execve");
        assert_eq!(log.header.filter.command.len(), 1, "{flags:?}");
        assert!(log.header.filter.follow_forks, "{flags:?}");
    }
}

/// `recorder -o - -- CMD | recorder dump -`: the log through a pipe, and
/// the command's own output kept out of it (on stderr).
#[test]
fn log_through_a_pipe_into_dump_stdin() {
    if !privileged() {
        return;
    }
    let mut rec = Command::new(recorder_bin())
        .args(["-o", "-", "--"])
        .arg(fixture("fx-basic"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn recorder");
    let pipe = rec.stdout.take().expect("stdout");
    let dump = Command::new(recorder_bin())
        .args(["dump", "-"])
        .stdin(Stdio::from(pipe))
        .output()
        .expect("run dump -");
    let rec = rec.wait_with_output().expect("recorder");
    let rec_err = text(&rec.stderr);
    assert_eq!(rec.status.code(), Some(BASIC_EXIT), "stderr: {rec_err}");
    assert!(
        rec_err.contains(&text(BASIC_MSG)),
        "the command's stdout goes to stderr: {rec_err}"
    );
    assert!(
        rec_err.contains("records written to standard output"),
        "{rec_err}"
    );
    let (out, err) = (text(&dump.stdout), text(&dump.stderr));
    assert!(dump.status.success(), "dump -: {err}");
    assert!(err.contains("recorder: complete:"), "{err}");
    assert!(out.contains("execve("), "{out}");
    assert!(
        out.contains(r#"write(1, "hello from fx-basic\n", 20) = 20"#),
        "{out}"
    );
    assert!(out.contains("exit_group(42)"), "{out}");
}

/// `-c`: the stats table of the log on stderr at exit, as `recorder
/// stats` prints it; stdout is the command's alone.
#[test]
fn summary_at_exit() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("basic.rec");
    let out = record_command(&log_path, &["-c"], &[&fixture("fx-basic")], &[]);
    assert_eq!(out.status.code(), Some(BASIC_EXIT), "{}", out.stderr);
    assert_eq!(out.stdout.as_bytes(), BASIC_MSG);
    let stats = Command::new(recorder_bin())
        .arg("stats")
        .arg(&log_path)
        .output()
        .expect("stats");
    let table = text(&stats.stdout);
    assert!(
        table.contains("syscall") && table.contains("ENOENT"),
        "{table}"
    );
    assert!(
        out.stderr.contains(&table),
        "-c prints `recorder stats`:\n{table}\nstderr:\n{}",
        out.stderr
    );
}

/// `--live`: the lines printed while recording are the ones `dump` prints
/// from the log afterwards, with the same options.
#[test]
fn live_lines_are_dump_lines() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("basic.rec");
    let out = record_command(
        &log_path,
        &["--live", "-T", "-y", "--string-limit", "64"],
        &[&fixture("fx-basic")],
        &[],
    );
    assert_eq!(out.status.code(), Some(BASIC_EXIT), "{}", out.stderr);
    assert_eq!(out.stdout.as_bytes(), BASIC_MSG);
    let live: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.starts_with("recorder: "))
        .collect();
    let dumped = dump_lines(&log_path, &["-T", "-y", "-s", "64"]);
    assert!(dumped.len() > 10, "{dumped:?}");
    assert_eq!(live, dumped, "stderr:\n{}", out.stderr);
    assert!(
        !out.stderr.contains("not shown"),
        "nothing left out: {}",
        out.stderr
    );
}

/// `--live` under a storm of calls: whatever it could not print in time
/// is said, exactly: lines printed plus records said to be left out are
/// the log's lines. The log itself is complete.
#[test]
fn live_accounts_for_every_line_it_leaves_out() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("storm.rec");
    let out = record_command(&log_path, &["--live"], &[&fixture("fx-loop")], &["200000"]);
    assert!(out.status.success(), "{}", out.stderr);
    Log::read(&log_path).assert_complete();
    let mut printed = 0u64;
    let mut left_out = 0u64;
    for l in out.stderr.lines() {
        match l.strip_prefix("recorder: --live fell behind: ") {
            Some(rest) => {
                let n = rest.split(' ').next().and_then(|n| n.parse::<u64>().ok());
                left_out += n.unwrap_or_else(|| panic!("unexpected line {l:?}"));
            }
            None if l.starts_with("recorder: ") => {}
            None => printed += 1,
        }
    }
    let dumped = dump_lines(&log_path, &[]).len() as u64;
    assert_eq!(
        printed + left_out,
        dumped,
        "printed {printed}, left out {left_out}"
    );
    if left_out > 0 {
        assert!(
            out.stderr
                .contains(&format!("--live left out {left_out} records")),
            "the summary says it too: {}",
            out.stderr
        );
    }
}

/// Collects a child's output lines on a thread.
fn lines_of(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (up to `secs`) for a line that `done` accepts, keeping all lines.
fn wait_for(
    rx: &mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    secs: u64,
    done: impl Fn(&str) -> bool,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    if seen.iter().any(|l| done(l)) {
        return true;
    }
    while let Ok(l) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        let hit = done(&l);
        seen.push(l);
        if hit {
            return true;
        }
    }
    false
}

fn strip_pid(l: &str) -> &str {
    match l.strip_prefix("[pid ") {
        Some(rest) => rest.split_once("] ").map_or(l, |(_, l)| l),
        None => l,
    }
}

/// `dump --follow` across rotations: started while the recording runs,
/// it carries on into each new file, and ends up printing all of the last
/// one.
#[test]
fn follow_across_rotation() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("rot.rec");
    let go = w.path("go");
    // The command waits for the follower before making its many calls, so
    // that rotations happen while it follows.
    let script = format!(
        "while [ ! -e {go} ]; do sleep 0.05; done; {loop_} 200000",
        go = go.display(),
        loop_ = fixture("fx-loop").display()
    );
    let mut rec = Command::new(recorder_bin())
        .arg("-q")
        .args(["--rotate-size", "64K", "--rotate-count", "8", "-o"])
        .arg(&log_path)
        .args(["--", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn recorder");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !log_path.exists() {
        assert!(Instant::now() < deadline, "no log");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut follow = Command::new(recorder_bin())
        .args(["dump", "--follow"])
        .arg(&log_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dump --follow");
    let out = lines_of(follow.stdout.take().expect("stdout"));
    let err = lines_of(follow.stderr.take().expect("stderr"));
    let mut seen = Vec::new();
    // The shell's first calls are in the file: the follower reads it.
    assert!(
        wait_for(&out, &mut seen, 120, |l| l.contains("execve(")),
        "{seen:?}"
    );
    std::fs::write(&go, b"").expect("go");
    let status = rec.wait().expect("recorder");
    let mut rec_err = String::new();
    rec.stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut rec_err)
        .ok();
    assert!(status.success(), "{rec_err}");
    assert!(log_path.with_extension("rec.1").exists(), "it rotated");
    // The last file, as dump prints it, must end what the follower printed.
    let last: Vec<String> = dump_lines(&log_path, &[])
        .iter()
        .map(|l| strip_pid(l).to_owned())
        .collect();
    let final_line = last.last().expect("lines").clone();
    assert!(
        wait_for(&out, &mut seen, 300, |l| strip_pid(l) == final_line),
        "never printed {final_line:?}; last printed: {:?}",
        seen.last()
    );
    let _ = follow.kill();
    let _ = follow.wait();
    let printed: Vec<&str> = seen.iter().map(|l| strip_pid(l)).collect();
    assert!(printed.len() >= last.len());
    assert_eq!(printed[printed.len() - last.len()..], last[..]);
    let mut notes = Vec::new();
    while let Ok(l) = err.recv_timeout(Duration::from_secs(5)) {
        notes.push(l);
    }
    assert!(
        notes
            .iter()
            .any(|l| l.starts_with("recorder: following the new")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|l| l.starts_with("recorder: complete:")),
        "each file's verdict as it ends: {notes:?}"
    );
}

/// A pseudo-terminal: (controller, terminal).
fn pty() -> (OwnedFd, OwnedFd) {
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
    unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) }
}

/// The status line is drawn (and erased) when stderr is a terminal, and
/// absent when it is a file.
#[test]
fn status_line_on_a_terminal_only() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let (controller, terminal) = pty();
    let mut rec = Command::new(recorder_bin())
        .arg("-o")
        .arg(w.path("tty.rec"))
        .args(["sleep", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(terminal))
        .spawn()
        .expect("spawn recorder");
    // Read the terminal until the recorder (its only writer) is gone: the
    // read then fails with EIO.
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = std::fs::File::from(controller).read_to_end(&mut all);
        text(&all)
    });
    assert!(rec.wait().expect("recorder").success());
    let tty = reader.join().expect("reader");
    let drawn = tty
        .find("\r\x1b[Krecorder: ")
        .unwrap_or_else(|| panic!("not drawn: {tty:?}"));
    assert!(tty[drawn..].contains(" records, "), "{tty:?}");
    assert!(
        tty.contains(" written, ") && tty.contains(" pauses"),
        "{tty:?}"
    );
    // Erased before the final summary.
    let summary = tty.find("records written to").expect("summary");
    let last_draw = tty[..summary].rfind("/s, ").expect("a draw");
    assert!(
        tty[last_draw..summary].contains("\r\x1b[K"),
        "erased at exit: {tty:?}"
    );

    // A command printing on the same terminal: its lines would run into
    // the status line, so there is none.
    let (controller, terminal) = pty();
    let out = terminal.try_clone().expect("dup");
    let mut rec = Command::new(recorder_bin())
        .arg("-o")
        .arg(w.path("tty2.rec"))
        .args(["sleep", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(terminal))
        .spawn()
        .expect("spawn recorder");
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = std::fs::File::from(controller).read_to_end(&mut all);
        text(&all)
    });
    assert!(rec.wait().expect("recorder").success());
    let tty = reader.join().expect("reader");
    assert!(tty.contains("records written to"), "{tty:?}");
    assert!(!tty.contains("\x1b[K"), "no status line: {tty:?}");

    let err_path = w.path("stderr.txt");
    let err = std::fs::File::create(&err_path).expect("file");
    let status = Command::new(recorder_bin())
        .arg("-o")
        .arg(w.path("file.rec"))
        .args(["sleep", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .status()
        .expect("recorder");
    assert!(status.success());
    let in_file = std::fs::read_to_string(&err_path).expect("stderr");
    assert!(in_file.contains("records written to"), "{in_file}");
    assert!(
        !in_file.contains('\x1b') && !in_file.contains('\r') && !in_file.contains("/s, "),
        "no status line in a file: {in_file:?}"
    );
}
