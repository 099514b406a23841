//! `recorder watch`: chosen calls of every process on the machine. These
//! run on a machine where other processes make the same kinds of calls, so
//! every assertion is about the fixture's own pid, which the filters must
//! pick out exactly: one line for its one matching call, none for its
//! hundreds of others.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use common::*;
use recorder::event::Event;

/// A `recorder watch` running in the background, its stdout collected.
struct Watcher {
    child: Child,
    /// `--count`: no line per call.
    counting: bool,
    lines: Receiver<String>,
    stderr: Receiver<String>,
}

impl Watcher {
    /// Starts it and waits until its program is attached.
    fn start(args: &[&str]) -> Self {
        Self::start_env(args, &[])
    }

    /// `start`, with these environment variables set for the recorder.
    fn start_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(recorder_bin())
            .arg("watch")
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn recorder watch");
        let lines = lines_of(child.stdout.take().expect("stdout"));
        let stderr = lines_of(child.stderr.take().expect("stderr"));
        let w = Self {
            child,
            counting: args.contains(&"--count"),
            lines,
            stderr,
        };
        // Notes may come first (arm64 has no unlink: it is left out).
        let mut said = Vec::new();
        loop {
            match w.stderr.recv_timeout(Duration::from_secs(120)) {
                Ok(l) if l.starts_with("recorder: watching") => return w,
                Ok(l) if l.starts_with("recorder: note:") => said.push(l),
                other => panic!("watch did not start: {other:?} after {said:?}"),
            }
        }
    }

    /// Waits (up to a minute: a debug build on a busy machine) until a
    /// line of `pid` has come, then stops the watcher; returns all of its
    /// stdout and stderr.
    fn stop_after(mut self, pid: u32) -> (Vec<String>, String) {
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        let tag = format!(" pid {pid} ");
        let seen = |out: &[String]| out.iter().any(|l: &String| l.contains(&tag));
        // (--count prints nothing before it stops: it gets a few seconds.)
        let counting = self.counting;
        let deadline = if counting {
            Instant::now() + Duration::from_secs(3)
        } else {
            deadline
        };
        while Instant::now() < deadline && !seen(&out) {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                out.push(l);
            }
        }
        // SAFETY: kill has no memory preconditions; the pid is our child's.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let status = self.child.wait().expect("wait");
        out.extend(self.lines.iter());
        let err: Vec<String> = self.stderr.iter().collect();
        assert!(
            status.success(),
            "watch failed: {status}\n{}",
            err.join("\n")
        );
        (out, err.join("\n"))
    }
}

fn lines_of(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// Runs `fx-watch ARGS` until it says `ready`; it then waits for its stdin
/// to close (so its /proc entry stays readable).
fn start_fixture(exe: &Path, args: &[&str]) -> Child {
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn fx-watch");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("read fixture");
    assert_eq!(line.trim(), "ready", "fixture failed");
    child
}

fn end_fixture(mut child: Child) {
    drop(child.stdin.take());
    let _ = child.stdin.as_mut().map(|s| s.flush());
    let status = child.wait().expect("wait fixture");
    assert!(status.success(), "fixture: {status}");
}

/// The lines of one process: its call line and the identity line after it.
fn lines_of_pid(out: &[String], pid: u32) -> Vec<(String, String)> {
    let tag = format!(" pid {pid} ");
    out.iter()
        .enumerate()
        .filter(|(_, l)| l.contains(&tag))
        .map(|(i, l)| (l.clone(), out.get(i + 1).cloned().unwrap_or_default()))
        .collect()
}

#[test]
fn watch_names_the_one_process_that_deleted_the_file() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let dir = w.path("victims");
    std::fs::create_dir(&dir).unwrap();
    let (exe, comm) = unique_fixture(&w, "fx-watch", "fxw");
    let log = w.path("watch.rec");
    let watcher = Watcher::start(&[
        "-e",
        "trace=unlink,unlinkat",
        "--path",
        "*/doomed-file",
        "-o",
        log.to_str().unwrap(),
    ]);
    let fx = start_fixture(&exe, &["unlink", dir.to_str().unwrap()]);
    let pid = fx.id();
    let (out, err) = watcher.stop_after(pid);
    end_fixture(fx);

    let mine = lines_of_pid(&out, pid);
    assert_eq!(
        mine.len(),
        1,
        "exactly one call of the fixture:\n{}",
        out.join("\n")
    );
    let (call, who) = &mine[0];
    assert!(
        call.contains(&format!(" pid {pid} ({comm}) unlinkat(")),
        "{call}"
    );
    assert!(call.contains(", \"doomed-file\", 0) = 0"), "{call}");
    // Relative to its dirfd, resolved through /proc while it lives.
    let full = dir.join("doomed-file");
    assert!(who.contains(&format!("[path {}]", full.display())), "{who}");
    assert!(
        who.contains(&format!("exe {}", exe.canonicalize().unwrap().display())),
        "{who}"
    );
    assert!(who.contains(", uid 0"), "{who}");
    // Its parent is this test; the chain goes on up to pid 1.
    let me = std::process::id();
    assert!(who.contains(&format!("parents {me} (")), "{who}");
    assert!(who.contains(" < 1 (") || me == 1, "{who}");
    // `.doomed-file` passed the kernel's name filter (its byte before the
    // name is a '.'), and the whole-path check turned it away.
    assert!(
        err.contains("more had a matching name but not a matching path"),
        "{err}"
    );
    assert!(err.contains("nothing lost"), "{err}");

    // The same call is in the log, which the readers read.
    export_log(&log, "watch.rec");
    let log = Log::read(&log);
    let calls: Vec<_> = log
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Syscall(s) if s.tgid == pid => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].ret, Some(0));
    let exe_path = exe.canonicalize().unwrap().display().to_string();
    check_logged_who(&log, pid, &comm, &exe_path, me);
    let dump = Command::new(recorder_bin())
        .arg("dump")
        .arg(w.path("watch.rec"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.status.success());
    assert!(
        text.contains("unlinkat(") && text.contains("\"doomed-file\", 0) = 0"),
        "{text}"
    );
    // dump prints who made it, as the live line did, once, before the call.
    let who_line = format!("+++ who pid {pid} ({comm}): exe {exe_path}, uid 0, ");
    let at = text.find(&who_line).unwrap_or_else(|| panic!("{text}"));
    assert!(text[at..].contains("doomed-file"), "{text}");
    assert!(
        text.contains(&format!("parents {me} (")),
        "dump shows the parent chain:\n{text}"
    );
    // info names the process from the who record and says what the log is.
    let info = Command::new(recorder_bin())
        .arg("info")
        .arg(w.path("watch.rec"))
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("every process (recorder watch)"), "{info}");
    assert!(
        info.contains("complete: every matching call of any process"),
        "{info}"
    );
    let row = info
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&pid.to_string()))
        .unwrap_or_else(|| panic!("no row of {pid}:\n{info}"));
    assert!(
        row.split_whitespace().nth(2) == Some(comm.as_str()),
        "the row names the process (pid, parent, name):\n{row}"
    );
    assert!(row.contains(&me.to_string()), "parent in the row:\n{row}");
}

/// The watch log has `Header.watch`, and a `Who` event of `pid` before its
/// call that names it as the live line did: comm, exe, uid 0, and the
/// parent chain from `parent` (this test) up to pid 1.
fn check_logged_who(log: &Log, pid: u32, comm: &str, exe: &str, parent: u32) {
    assert!(log.header.watch, "a watch log says so in its header");
    let first = log
        .events
        .iter()
        .position(|e| e.tgid() == Some(pid))
        .expect("events of the fixture");
    let Event::Who(who) = &log.events[first] else {
        panic!("first event of {pid} is not a Who: {:?}", log.events[first]);
    };
    assert_eq!(who.comm, comm);
    assert_eq!(who.exe, exe);
    assert_eq!(who.uid, 0);
    assert_eq!(who.source, recorder::event::WhoEvent::PROC, "{who:?}");
    let parents: Vec<u32> = who.parents.iter().map(|p| p.pid).collect();
    assert_eq!(parents.first(), Some(&parent), "{who:?}");
    assert!(parent == 1 || parents.last() == Some(&1), "{who:?}");
    let whos = log
        .events
        .iter()
        .filter(|e| matches!(e, Event::Who(w) if w.tgid == pid))
        .count();
    assert_eq!(whos, 1, "one description of the process");
}

#[test]
fn watch_errno_names_the_process_refused_a_root_only_file() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    // World-searchable directory, root-only file.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(w.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let secret = w.path("root-only");
    std::fs::write(&secret, "secret").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (exe, comm) = unique_fixture(&w, "fx-watch", "fxe");
    // (open(3) is openat(2) in glibc and musl.)
    let watcher = Watcher::start(&["-e", "trace=openat", "--errno", "EACCES"]);
    let fx = start_fixture(&exe, &["eacces", secret.to_str().unwrap()]);
    let pid = fx.id();
    let (out, _err) = watcher.stop_after(pid);
    end_fixture(fx);

    let mine = lines_of_pid(&out, pid);
    assert_eq!(mine.len(), 1, "{}", out.join("\n"));
    let (call, who) = &mine[0];
    assert!(
        call.contains(&format!(" pid {pid} ({comm}) open")),
        "{call}"
    );
    // (musl on arm64 adds O_LARGEFILE.)
    assert!(
        call.contains(&format!("\"{}\", O_RDONLY", secret.display())),
        "{call}"
    );
    assert!(call.contains(") = -1 EACCES"), "{call}");
    assert!(who.contains(", uid 65534"), "{who}");
    // Only EACCES: no other outcome of any process is shown.
    for (i, l) in out.iter().enumerate() {
        if !l.starts_with("    ") {
            assert!(l.contains("= -1 EACCES"), "line {i}: {l}");
        }
    }
}

#[test]
fn watch_addr_names_the_one_connect_to_that_address() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let (exe, comm) = unique_fixture(&w, "fx-watch", "fxc");
    // With the tp_btf program where the kernel has BTF, then with the raw
    // tracepoint one (RECORDER_NO_BTF=1): both read the arguments.
    for raw in [false, true] {
        // A port of this run (nothing listens on it): other processes'
        // connects elsewhere must not show.
        let port = 20_000 + (std::process::id() % 20_000) as u16 + u16::from(raw);
        watch_one_connect(&exe, &comm, port, raw);
    }
}

fn watch_one_connect(exe: &Path, comm: &str, port: u16, raw: bool) {
    let addr = format!("127.0.0.1:{port}");
    let env: &[(&str, &str)] = if raw {
        &[("RECORDER_NO_BTF", "1")]
    } else {
        &[]
    };
    let watcher = Watcher::start_env(&["--addr", &addr], env);
    assert_eq!(
        holds_tp_btf_programs(watcher.child.id()),
        kernel_has_btf() && !raw,
        "the watch program is tp_btf exactly where the kernel has BTF (raw: {raw})"
    );
    let fx = start_fixture(exe, &["connect", &port.to_string()]);
    let pid = fx.id();
    let (out, _err) = watcher.stop_after(pid);
    end_fixture(fx);

    // Its other connects (another port, another address, IPv6) are not
    // there: the kernel compared family, port and address.
    let mine = lines_of_pid(&out, pid);
    assert_eq!(mine.len(), 1, "{}", out.join("\n"));
    let (call, who) = &mine[0];
    assert!(
        call.contains(&format!(" pid {pid} ({comm}) connect(")),
        "{call}"
    );
    assert!(
        call.contains(&format!(
            "sin_port=htons({port}), sin_addr=inet_addr(\"127.0.0.1\")"
        )),
        "{call}"
    );
    assert!(call.contains("= -1 ECONNREFUSED"), "{call}");
    assert!(who.contains(", uid 0"), "{who}");
}

/// A process gone before the watcher reads its record (the watcher is
/// stopped while the fixture runs, exits and is reaped) is still named
/// with its program and parent, from what the kernel saw at its fork and
/// exec; and `--count` counts it.
#[test]
fn watch_names_a_process_that_is_gone_and_counts_it() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let dir = w.path("victims");
    std::fs::create_dir(&dir).unwrap();
    let (exe, comm) = unique_fixture(&w, "fx-watch", "fxg");
    let log = w.path("gone.rec");
    for count in [false, true] {
        let mut args = vec!["-e", "trace=unlink,unlinkat", "--path", "*/doomed-file"];
        if count {
            args.push("--count");
        } else {
            args.extend(["-o", log.to_str().unwrap()]);
        }
        let watcher = Watcher::start(&args);
        let wpid = watcher.child.id() as i32;
        // SAFETY: kill has no memory preconditions; the pid is our child's.
        unsafe { libc::kill(wpid, libc::SIGSTOP) };
        let mut fx = start_fixture(&exe, &["unlink", dir.to_str().unwrap()]);
        let pid = fx.id();
        drop(fx.stdin.take());
        assert!(fx.wait().unwrap().success());
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "reaped");
        // SAFETY: as above.
        unsafe { libc::kill(wpid, libc::SIGCONT) };
        let (out, _err) = watcher.stop_after(pid);
        // The fixture's exe as exec'd: the link's path.
        let exe_shown = format!("{}", exe.display());
        if count {
            let row = out
                .iter()
                .find(|l| l.contains(&format!(" {pid} {comm} ")))
                .unwrap_or_else(|| panic!("no row of {pid}:\n{}", out.join("\n")));
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert_eq!((cols[0], cols[1]), ("1", "0"), "1 call, 0 failed: {row}");
            assert!(row.ends_with(&exe_shown), "{row}");
            assert!(row.contains(&format!(" {} (", std::process::id())), "{row}");
        } else {
            let mine = lines_of_pid(&out, pid);
            assert_eq!(mine.len(), 1, "{}", out.join("\n"));
            let who = &mine[0].1;
            assert!(
                who.contains(&format!(
                    "exe {exe_shown} (gone: as its fork and exec showed it)"
                )),
                "{who}"
            );
            assert!(
                who.contains(&format!("parents {} (", std::process::id())),
                "{who}"
            );
            // The log says the same, and where it came from.
            let log = Log::read(&log);
            let logged = log
                .events
                .iter()
                .find_map(|e| match e {
                    Event::Who(w) if w.tgid == pid => Some(w),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("no Who of {pid}: {:?}", log.events));
            assert_eq!(logged.source, recorder::event::WhoEvent::KERNEL);
            assert_eq!(logged.exe, exe_shown);
            assert_eq!(logged.comm, comm);
            assert_eq!(
                logged.parents.first().map(|p| p.pid),
                Some(std::process::id())
            );
        }
    }
}
