//! Fresh recordings read by the second reader: tools/reference-reader,
//! written in Python from docs/log-format.md alone, must agree field by
//! field with `recorder dump --json` and `info --json` on logs of real
//! programs recorded here and now (the golden logs are compared by
//! `cargo xtask test` itself). What the format is today, the spec must say.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Debian's Python, which `cargo xtask setup` gives the zstd binding.
const PYTHON: &str = "/usr/bin/python3";

fn reader_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/reference-reader")
}

fn compare(logs: &[PathBuf]) {
    let out = Command::new(PYTHON)
        .arg(reader_dir().join("compare.py"))
        .arg("--recorder")
        .arg(recorder_bin())
        .args(logs)
        .output()
        .expect("run compare.py (cargo xtask setup installs python3-zstandard)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the readers disagree:\n{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        logs.len(),
        "{text}"
    );
}

#[test]
fn fresh_recordings_read_the_same_in_both_readers() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let mut logs = Vec::new();
    let mut record = |name: &str, extra: &[&str], cmd: &[&Path], args: &[&str]| {
        let log = w.path(&format!("{name}.rec"));
        let out = record_command(&log, extra, cmd, args);
        assert!(out.status.code().is_some(), "{name}: {}", out.stderr);
        logs.push(log);
    };
    // The fixtures: every event kind (exec, fork, exit, signal, data of
    // every capture kind, threads).
    for fx in ["fx-basic", "fx-data", "fx-threads", "fx-fork", "fx-crash"] {
        record(fx, &[], &[&fixture(fx)], &[]);
    }
    // Real programs nobody here wrote.
    record("ls", &[], &[Path::new("ls")], &["-la", "/usr/bin"]);
    record(
        "python-threads",
        &[],
        &[Path::new(PYTHON)],
        &[
            "-c",
            "import threading, os, socket\n\
             def w(i):\n    [os.stat('/') for _ in range(200)]\n    socket.socketpair()\n\
             ts=[threading.Thread(target=w,args=(i,)) for i in range(4)]\n\
             [t.start() for t in ts]; [t.join() for t in ts]\n\
             open('/etc/hostname').read()",
        ],
    );
    record(
        "sh-pipeline",
        &[],
        &[Path::new("sh")],
        &[
            "-c",
            "cat /etc/passwd | wc -l; kill -USR1 $$ 2>/dev/null; true",
        ],
    );
    // Lossless mode with forced pauses: Pause events.
    record(
        "pauses",
        FORCE_PAUSES,
        &[&fixture("fx-rate")],
        &["max", "1", "2"],
    );
    // A watch log (format 2.5): `Who` events and the `watch` header field.
    let log = w.path("watch.rec");
    watch_one_unlink(&log, &w.path("doomed-ref"));
    logs.push(log);
    compare(&logs);
}

/// `recorder watch -o LOG` while an `rm` deletes `victim`.
fn watch_one_unlink(log: &Path, victim: &Path) {
    use std::io::BufRead as _;
    let mut child = Command::new(recorder_bin())
        .args([
            "watch",
            "-e",
            "trace=unlink,unlinkat",
            "--for",
            "5",
            "--path",
        ])
        .arg(victim)
        .arg("-o")
        .arg(log)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn recorder watch");
    let mut err = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    while !line.starts_with("recorder: watching") {
        line.clear();
        assert!(
            err.read_line(&mut line).expect("watch stderr") > 0,
            "watch did not start"
        );
    }
    std::fs::write(victim, b"x").unwrap();
    let rm = Command::new("rm").arg(victim).status().expect("run rm");
    assert!(rm.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).expect("watch stderr");
    assert!(child.wait().expect("wait watch").success(), "{rest}");
    assert!(rest.contains("1 calls matched"), "{rest}");
}
