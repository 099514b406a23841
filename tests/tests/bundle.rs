//! `recorder bundle --redact`: a secret the traced program handled (in its
//! argv, written to and read from a file) is in the recording, and nowhere
//! in the redacted bundle: not in the file's bytes, not in any decoded
//! event, not in what `recorder dump` prints.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use common::*;
use recorder::event::{CaptureKind, Event};

const SECRET: &str = "hunter2-SECRET-xyz";

fn contains(hay: &[u8]) -> bool {
    hay.windows(SECRET.len()).any(|w| w == SECRET.as_bytes())
}

/// The log as its records decode: header and every event, postcard
/// encoded again (exactly the bytes of the decompressed blocks), then their
/// Debug text.
fn decoded(log: &Log) -> (Vec<u8>, String) {
    let mut bytes = postcard::to_stdvec(&log.header).unwrap();
    for ev in &log.events {
        bytes.extend(postcard::to_stdvec(ev).unwrap());
    }
    (bytes, format!("{:?}\n{:?}", log.header, log.events))
}

/// `recorder dump` text (every byte shown) and JSON of `path`.
fn dumps(path: &Path) -> String {
    let mut all = String::new();
    for args in [&["-s", "0"][..], &["--json"][..]] {
        let out = Command::new(recorder_bin())
            .arg("dump")
            .args(args)
            .arg(path)
            .output()
            .expect("run recorder dump");
        assert!(out.status.success(), "dump {args:?}: {out:?}");
        all.push_str(&String::from_utf8_lossy(&out.stdout));
        all.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    all
}

#[test]
fn redacted_bundle_holds_none_of_the_secret() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let file = w.path("payload.txt");
    let log_path = w.path("secret.rec");
    let out = record_command(
        &log_path,
        &[],
        &[&fixture("fx-secret")],
        &[file.to_str().unwrap(), SECRET],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);

    // The recording has the secret everywhere the bundle must clean.
    let log = Log::read(&log_path);
    assert!(log.header.command_line.iter().any(|a| a == SECRET));
    let with_secret = |kind: CaptureKind| {
        log.syscalls()
            .flat_map(|s| &s.data)
            .any(|c| c.kind == kind && contains(&c.bytes))
    };
    assert!(with_secret(CaptureKind::Str), "execve argv");
    assert!(with_secret(CaptureKind::InBuf), "write");
    assert!(with_secret(CaptureKind::OutBuf), "read");
    let (bytes, debug) = decoded(&log);
    assert!(contains(&bytes) && debug.contains(SECRET));
    assert!(dumps(&log_path).contains(SECRET));

    let bundle_path = w.path("bug.rec");
    let out = Command::new(recorder_bin())
        .args(["bundle", "-o"])
        .arg(&bundle_path)
        .args(["--redact", "data", "--redact", "argv", "--redact", "host"])
        .arg(&log_path)
        .output()
        .expect("run recorder bundle");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("removed: data; host; argv"), "{stderr}");
    let mode = std::fs::metadata(&bundle_path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "bundle created 0600");

    let raw = std::fs::read(&bundle_path).unwrap();
    assert!(!contains(&raw), "secret in the bundle's raw bytes");
    let bundle = Log::read(&bundle_path);
    let (bytes, debug) = decoded(&bundle);
    assert!(!contains(&bytes), "secret in the decompressed records");
    assert!(!debug.contains(SECRET), "secret in the decoded events");
    let shown = dumps(&bundle_path);
    assert!(!shown.contains(SECRET), "secret in recorder dump:\n{shown}");
    assert!(
        shown.contains("removed: data; host; argv"),
        "dump tells what was removed"
    );

    assert_eq!(bundle.header.redactions, ["data", "host", "argv"]);
    assert_eq!(bundle.header.hostname, "redacted");
    assert_eq!(bundle.header.arch, log.header.arch, "machine kept");
    // Same calls, same shape: only the bytes are gone.
    let calls = |l: &Log| {
        l.syscalls()
            .map(|s| (s.nr, s.ret, s.data.len()))
            .collect::<Vec<_>>()
    };
    assert_eq!(calls(&bundle), calls(&log));
    assert!(
        bundle
            .syscalls()
            .flat_map(|s| &s.data)
            .all(|c| c.bytes.is_empty()),
        "--redact data drops every payload"
    );
    assert_eq!(
        bundle
            .events
            .iter()
            .filter(|e| !matches!(e, Event::Counters(_)))
            .count() as u64,
        bundle.trailer.as_ref().unwrap().counters.written
    );
}
