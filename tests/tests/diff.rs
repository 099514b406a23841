//! `recorder diff` on two real recordings of one fixture, the second made
//! to fail: its first divergence must be the call that made the
//! difference.

mod common;

use common::{Workdir, fixture, privileged, record_command, recorder_bin};

/// fx-data reads a file it is given; in the bad run the file is missing, so
/// its `openat` fails with ENOENT and the program panics.
#[test]
fn first_divergence_is_the_failing_open() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let config = w.path("app.conf");
    let arg = config.to_str().unwrap();
    std::fs::write(&config, "mode=fast\n").unwrap();
    let good = w.path("good.rec");
    let out = record_command(&good, &["-q"], &[&fixture("fx-data")], &[arg]);
    assert_eq!(out.status.code(), Some(0), "good run: {}", out.stderr);
    std::fs::remove_file(&config).unwrap();
    let _ = std::fs::remove_file(format!("{arg}.out"));
    let bad = w.path("bad.rec");
    let out = record_command(&bad, &["-q"], &[&fixture("fx-data")], &[arg]);
    assert_ne!(out.status.code(), Some(0), "the bad run must fail");

    let out = std::process::Command::new(recorder_bin())
        .args(["diff", "--json"])
        .arg(&good)
        .arg(&bad)
        .output()
        .expect("run recorder diff");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("diff --json");

    let o = &r["outcomes"][0];
    assert_eq!(o["good"], "exit 0", "{o}");
    assert_ne!(o["bad"], "exit 0", "{o}");
    let d = &r["divergences"][0];
    assert_eq!(d["thread"], "p1", "{d}");
    let first_bad = d["bad"][0].as_str().expect("a bad call at the divergence");
    let want = format!("openat(AT_FDCWD, \"{arg}\", O_RDONLY) = -1 ENOENT");
    assert!(
        first_bad.starts_with(&want),
        "first divergence: {first_bad}\nwant: {want}"
    );
    let first_good = d["good"][0]
        .as_str()
        .expect("a good call at the divergence");
    assert!(
        first_good.starts_with(&format!("openat(AT_FDCWD, \"{arg}\", O_RDONLY) = <{arg}>")),
        "{first_good}"
    );
    // Everything before it was the same program start-up, pointers and
    // all normalised away: at least execve and getrandom.
    assert!(d["bad_at"].as_u64().unwrap() >= 2, "{d}");
    let failed = r["failed_in_one"].as_array().unwrap();
    assert!(
        failed
            .iter()
            .any(|f| f["run"] == "bad" && f["errno"] == "ENOENT" && f["syscall"] == "openat"),
        "{failed:?}"
    );
}
