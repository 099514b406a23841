//! A full disk costs the oldest data, not the recording: on a small tmpfs
//! the recorder keeps the command running and returns its status, and the
//! log ends with a trailer whose counters account for every record.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use common::*;
use recorder::event::Event;

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop (so a
/// failing test leaves no mount behind).
struct SmallDisk {
    dir: PathBuf,
    _work: Workdir,
}

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let work = Workdir::new();
        let dir = work.path("disk");
        std::fs::create_dir(&dir).unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&dir)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs on {}", dir.display());
        Self { dir, _work: work }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Busy (a process still has a file open): detach it anyway.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// Records that count (checkpoints do not: they repeat totals).
fn records(log: &Log) -> u64 {
    log.events
        .iter()
        .filter(|e| !matches!(e, Event::Counters(_) | Event::Pause(_)))
        .count() as u64
}

/// Far more than 2 MiB of log: about 6 bytes per getppid record.
const CALLS: u64 = 3_000_000;

#[test]
fn full_disk_ends_the_log_with_a_trailer_and_exact_counts() {
    if !privileged() {
        return;
    }
    let disk = SmallDisk::mount("2m");
    let log_path = disk.path("x.rec");
    let fx = fixture("fx-loop");
    // A shell around the fixture, so the exit status is unmistakably the
    // command's and not the recorder's own.
    let out = record_command(
        &log_path,
        &[],
        &[Path::new("/bin/sh")],
        &[
            "-c",
            "\"$0\" \"$1\" >/dev/null; exit 3",
            fx.to_str().unwrap(),
            &CALLS.to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "stderr: {}", out.stderr);
    assert!(!out.stderr.contains("recorder: error"), "{}", out.stderr);
    // Said once, with its cause once.
    assert_eq!(
        out.stderr.matches("no room for the log").count(),
        1,
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("No space left on device").count(),
        1,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("lost to a full disk"), "{}", out.stderr);

    // Complete: Log::read asserts the trailer was read (EndState::Clean).
    let log = Log::read(&log_path);
    let c = &log.trailer.as_ref().expect("trailer").counters;
    assert!(c.user_dropped > 0, "the disk filled up: {c:?}");
    // Every record the kernel put in the ring is in the log or counted as
    // dropped (ring overflows never reached it, and are counted apart).
    assert_eq!(c.emitted, records(&log) + c.user_dropped, "{c:?}");
    assert_eq!(c.written, log.events.len() as u64, "{c:?}");
    let getppid = log.syscalls().filter(|s| s.nr == libc::SYS_getppid).count() as u64;
    assert!(getppid > 0 && getppid < CALLS, "{getppid} getppid records");
    assert!(
        c.emitted + c.ring_full >= CALLS,
        "the kernel saw every call: {c:?}"
    );
    let len = std::fs::metadata(&log_path).unwrap().len();
    assert!(len <= 2 << 20, "{len} bytes");

    let info = Command::new(recorder_bin())
        .arg("info")
        .arg(&log_path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(info.status.success(), "{text}");
    assert!(text.contains("complete (trailer present)"), "{text}");
}

#[test]
fn full_disk_with_rotation_deletes_the_oldest_files_and_records_to_the_end() {
    if !privileged() {
        return;
    }
    const COUNT: u32 = 8;
    let disk = SmallDisk::mount("2m");
    let log_path = disk.path("rot.rec");
    // Eight files of 256 KiB (each a block past that, at most) do not fit.
    let out = record_command(
        &log_path,
        &[
            "--rotate-size",
            "256K",
            "--rotate-count",
            &COUNT.to_string(),
        ],
        &[&fixture("fx-loop")],
        &[&CALLS.to_string()],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("removed the oldest log"),
        "{}",
        out.stderr
    );
    // Deleting always made room: nothing dropped, no full-disk warning.
    assert!(!out.stderr.contains("no room"), "{}", out.stderr);
    assert!(!out.stderr.contains("full disk"), "{}", out.stderr);

    let name = |i: u32| -> PathBuf {
        if i == 0 {
            log_path.clone()
        } else {
            PathBuf::from(format!("{}.{i}", log_path.display()))
        }
    };
    // Oldest first; the ones missing are the oldest.
    let mut logs = Vec::new();
    for i in (0..COUNT).rev() {
        let p = name(i);
        if !p.exists() {
            assert!(
                logs.is_empty(),
                "{} missing, but not an older one",
                p.display()
            );
            continue;
        }
        // Each file reads clean on its own.
        logs.push(Log::read(&p));
    }
    assert!(logs.len() >= 2, "{} files left", logs.len());
    // The start of the run went with the oldest files.
    assert!(
        !logs
            .iter()
            .flat_map(|l| &l.events)
            .any(|e| matches!(e, Event::Exec(_))),
        "the files left should not hold the exec"
    );
    // The newest file holds the end of the run: the last records, and the
    // fixture's exit_group unless records were lost on the way (a writer
    // that fell behind on a busy machine, say: that is not this test's
    // business, and it is counted).
    let newest = logs.last().unwrap();
    let c = &newest.trailer.as_ref().unwrap().counters;
    if c.ring_full + c.user_dropped == 0 {
        assert!(
            newest.syscalls().any(|s| s.nr == libc::SYS_exit_group),
            "the active file holds the end"
        );
    }
    let last_ns = |l: &Log| l.syscalls().map(|s| s.enter_ns).max();
    let before = &logs[logs.len() - 2];
    assert!(
        newest.syscalls().map(|s| s.enter_ns).min() >= last_ns(before),
        "the active file follows the others"
    );
    // The files left follow each other without a gap, but for records
    // lost on the way for other reasons.
    let seqs: Vec<(u32, u64)> = logs
        .iter()
        .flat_map(|l| l.syscalls())
        .filter(|s| s.nr == libc::SYS_getppid)
        .map(|s| (s.tid, s.seq))
        .collect();
    assert!(!seqs.is_empty());
    let missing: u64 = seqs
        .windows(2)
        .filter(|w| w[0].0 == w[1].0)
        .map(|w| {
            assert!(w[1].1 > w[0].1, "out of order: {w:?}");
            w[1].1 - w[0].1 - 1
        })
        .sum();
    assert!(
        missing <= c.ring_full + c.user_dropped,
        "{missing} missing: {c:?}"
    );
    let used: u64 = std::fs::read_dir(&disk.dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(used <= 2 << 20, "{used} bytes");
}
