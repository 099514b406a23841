//! `recorder report` in a real browser: a recording with a process tree,
//! an ENOENT, a slow call and a crash (`sh` running fx-fork, fx-basic,
//! `sleep 0.3` and fx-crash) becomes a page that headless Chromium opens
//! (tests/browser/check_report.py, through Selenium and chromedriver):
//! no console errors, every section there, the ENOENT in the error table
//! with its path, a search for the path finds the call, the crash and the
//! slow call are shown. The screenshot goes to target/report/ (the one in
//! docs/ comes from here).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const PYTHON: &str = "/usr/bin/python3";
const BROWSER: &[&str] = &["/usr/bin/chromium", "/usr/bin/chromedriver"];

/// Whether the browser and its driver are installed (`cargo xtask setup`
/// installs them); under CI their absence is a failure, not a skip.
fn browser_present() -> bool {
    let selenium = Command::new(PYTHON)
        .args(["-c", "import selenium"])
        .output()
        .is_ok_and(|o| o.status.success());
    let missing: Vec<&str> = BROWSER
        .iter()
        .copied()
        .filter(|p| !Path::new(p).exists())
        .chain((!selenium).then_some("python3-selenium"))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!("missing {missing:?}: run `cargo xtask setup`");
    assert!(std::env::var_os("CI").is_none(), "CI is set and {msg}");
    eprintln!("\n*** SKIPPED: {msg} ***\n");
    false
}

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/report");
    std::fs::create_dir_all(&d).expect("create target/report");
    d
}

#[test]
fn report_opens_in_chromium_and_shows_the_failure() {
    if !privileged() || !browser_present() {
        return;
    }
    let w = Workdir::new();
    let log = w.path("report.rec");
    let script = "\"$1\"; \"$2\"; sleep 0.3; \"$3\"";
    let out = record_command(
        &log,
        &["-q"],
        &[Path::new("/bin/sh")],
        &[
            "-c",
            script,
            "sh",
            fixture("fx-fork").to_str().unwrap(),
            fixture("fx-basic").to_str().unwrap(),
            fixture("fx-crash").to_str().unwrap(),
        ],
    );
    assert!(log.exists(), "no log: {out:?}");
    let page = out_dir().join("report.html");
    let rep = Command::new(recorder_bin())
        .arg("report")
        .arg(&log)
        .arg("-o")
        .arg(&page)
        .output()
        .expect("run recorder report");
    assert!(rep.status.success(), "recorder report: {rep:?}");
    let shot = out_dir().join("screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let check = Command::new(PYTHON)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/check_report.py"))
        .arg(&page)
        .args(["--expect-error", "ENOENT:/nonexistent/recorder-fixture"])
        .args(["--expect-crash", "SIGSEGV", "--expect-slow", "nanosleep"])
        .arg("--screenshot")
        .arg(&shot)
        .output()
        .expect("run check_report.py");
    assert!(
        check.status.success(),
        "the page failed in Chromium:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot"
    );
}
