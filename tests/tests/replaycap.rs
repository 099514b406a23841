//! Logs that can be replayed (issue 21, stage 1): every output a replay
//! writes back is in the log, byte for byte what the program got (the
//! fixture prints what it got), and `recorder info` says which calls could
//! not be fed back: none in a `--replayable` log of the fixture, the long
//! read in one recorded with a small `-s`.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;
use recorder::event::{CaptureKind, Syscall};
use recorder::read::{NotReplayable, replayability};

/// Bytes of the file the fixture reads whole: 64 KiB, the largest item.
const BIG: usize = 1 << 16;

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// The fixture's `name=RET:HEX[:HEX]` lines.
fn printed(stdout: &str) -> BTreeMap<String, Vec<String>> {
    stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.split(':').map(str::to_owned).collect()))
        .collect()
}

/// The fixture's own process's calls of `nr` (the fixture makes each once,
/// except where said).
fn calls(log: &Log, tgid: u32, nr: i64) -> Vec<&Syscall> {
    log.syscalls()
        .filter(|s| s.tgid == tgid && s.nr == nr)
        .collect()
}

/// The one output item of `arg` (kind OutBuf), its bytes in hex.
fn out_hex(s: &Syscall, arg: u8) -> String {
    item_hex(s, arg, CaptureKind::OutBuf)
}

/// The one non-empty item of `arg` and `kind`, its bytes in hex.
fn item_hex(s: &Syscall, arg: u8, kind: CaptureKind) -> String {
    let mut items = s
        .data
        .iter()
        .filter(|c| c.arg == arg && c.kind == kind && !c.bytes.is_empty());
    let c = items
        .next()
        .unwrap_or_else(|| panic!("no output for arg {arg}: {s:#?}"));
    assert!(items.next().is_none(), "one output item: {s:#?}");
    assert!(!c.truncated && !c.read_failed, "{c:?}");
    hex(&c.bytes)
}

struct Run {
    _w: Workdir,
    log: Log,
    path: std::path::PathBuf,
    got: BTreeMap<String, Vec<String>>,
    tgid: u32,
}

fn record(extra: &[&str]) -> Run {
    let w = Workdir::new();
    let dir = w.path("dir");
    std::fs::create_dir(&dir).unwrap();
    for f in ["alpha", "beta", "a-longer-name-for-the-record"] {
        std::fs::write(dir.join(f), f).unwrap();
    }
    let file = w.path("big");
    let content: Vec<u8> = (0..BIG).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &content).unwrap();
    let path = w.path("outputs.rec");
    let out = record_command(
        &path,
        extra,
        &[&fixture("fx-outputs")],
        &[dir.to_str().unwrap(), file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    export_log(&path, &format!("outputs{}.rec", extra.join("")));
    let log = Log::read(&path);
    log.assert_complete();
    let tgid = log
        .syscalls()
        .find(|s| s.nr == libc::SYS_getdents64 && s.data.len() > 1)
        .expect("the fixture's getdents64")
        .tgid;
    Run {
        got: printed(&out.stdout),
        _w: w,
        log,
        path,
        tgid,
    }
}

#[test]
fn every_output_is_what_the_program_got() {
    if !privileged() {
        return;
    }
    let r = record(&["--replayable"]);
    let (log, got) = (&r.log, &r.got);
    assert!(log.header.replayable, "the header says --replayable");
    assert!(log.header.lossless, "--replayable is lossless");
    assert_eq!(log.header.capture_size, 65536);
    let one = |nr: i64| {
        let c = calls(log, r.tgid, nr);
        assert_eq!(c.len(), 1, "one call of {nr}: {c:#?}");
        c[0]
    };
    let expect = |name: &str, s: &Syscall, arg: u8| {
        let g = &got[name];
        assert_eq!(s.ret, Some(g[0].parse().unwrap()), "{name}'s result");
        assert_eq!(out_hex(s, arg), g[1], "{name}'s output");
    };

    // epoll_pwait: two events, 12 bytes each on x86_64 (packed), 16 on arm64.
    let ep = one(libc::SYS_epoll_pwait);
    expect("epoll_pwait", ep, 1);
    let size = if cfg!(target_arch = "x86_64") { 12 } else { 16 };
    assert_eq!(got["epoll_pwait"][1].len(), 2 * 2 * size);
    assert!(got["epoll_pwait"][1].contains("8877665544332211"));

    // pselect6: the sets as asked (at entry) and as left (at exit).
    let sel = one(libc::SYS_pselect6);
    assert_eq!(sel.ret, Some(got["pselect6"][0].parse().unwrap()));
    assert_eq!(out_hex(sel, 1), got["pselect6"][1], "read set left");
    assert_eq!(out_hex(sel, 2), got["pselect6"][2], "write set left");
    let asked = sel
        .data
        .iter()
        .filter(|c| c.kind == CaptureKind::InBuf && (1..=2).contains(&c.arg))
        .count();
    assert_eq!(asked, 2, "the sets as asked, read at entry: {sel:#?}");

    // ppoll's array is an input read at exit: the revents are in it. (The
    // runtime's own start-up ppoll of fds 0-2 is there too on arm64.)
    let pp = calls(log, r.tgid, libc::SYS_ppoll)
        .into_iter()
        .find(|s| s.args[1] == 1)
        .expect("the fixture's ppoll of one fd");
    assert_eq!(pp.ret, Some(got["ppoll"][0].parse().unwrap()));
    assert_eq!(item_hex(pp, 0, CaptureKind::InBuf), got["ppoll"][1]);
    let ioctl = calls(log, r.tgid, libc::SYS_ioctl);
    let fionread = ioctl
        .iter()
        .find(|s| s.args[1] == 0x541b)
        .expect("FIONREAD");
    expect("fionread", fionread, 2);

    // getdents64: the count marker, then the records themselves.
    let gd = one(libc::SYS_getdents64);
    assert_eq!(gd.ret, Some(got["getdents64"][0].parse().unwrap()));
    let records = gd.data.iter().find(|c| c.arg == 1 && !c.bytes.is_empty());
    assert_eq!(
        records.map(|c| hex(&c.bytes)).as_deref(),
        Some(got["getdents64"][1].as_str())
    );
    expect("sysinfo", one(libc::SYS_sysinfo), 0);
    // The runtime asks for RLIMIT_STACK itself: the fixture's is NOFILE.
    let nofile = calls(log, r.tgid, libc::SYS_prlimit64)
        .into_iter()
        .find(|s| s.args[1] == libc::RLIMIT_NOFILE as u64)
        .expect("prlimit64(0, RLIMIT_NOFILE, NULL, ...)");
    expect("prlimit64", nofile, 3);
    // glibc asks for its own (pid, 32 bytes): the fixture's is (0, 128).
    let aff = calls(log, r.tgid, libc::SYS_sched_getaffinity)
        .into_iter()
        .find(|s| s.args[0] == 0 && s.args[1] == 128)
        .expect("sched_getaffinity(0, 128, ...)");
    expect("sched_getaffinity", aff, 2);

    // recvmmsg: the array, then each message's data.
    let mm = one(libc::SYS_recvmmsg);
    assert_eq!(mm.ret, Some(2));
    assert_eq!(got["recvmmsg"][0], "2");
    let data: Vec<String> = mm
        .data
        .iter()
        .filter(|c| c.arg == 1)
        .skip(1)
        .map(|c| {
            assert!(!c.truncated && !c.read_failed, "{c:?}");
            hex(&c.bytes)
        })
        .collect();
    assert_eq!(data, got["recvmmsg"][1..], "{mm:#?}");
    let array = &mm.data.iter().find(|c| c.arg == 1).unwrap().bytes;
    assert_eq!(array.len(), 2 * 64, "two struct mmsghdr");
    // msg_len of the second message, at 64 + 56.
    assert_eq!(u32::from_le_bytes(array[120..124].try_into().unwrap()), 23);

    // The 64 KiB read, whole.
    let read = calls(log, r.tgid, libc::SYS_read)
        .into_iter()
        .find(|s| s.ret == Some(BIG as i64))
        .expect("the 64 KiB read");
    let c = read.data.iter().find(|c| c.arg == 1).unwrap();
    assert!(
        !c.truncated && c.bytes.len() == BIG,
        "{} bytes",
        c.bytes.len()
    );
    assert_eq!(c.bytes, std::fs::read(r._w.path("big")).unwrap());

    // getrandom through syscall() is always a system call.
    let grnd = calls(log, r.tgid, libc::SYS_getrandom);
    let sys = &got["grnd_sys"][1];
    assert!(grnd.iter().any(|s| &out_hex(s, 0) == sys), "{grnd:#?}");
    // Through glibc: a system call before glibc 2.41 (no vDSO getrandom).
    let libc_bytes = &got["grnd_libc"][1];
    let in_log = grnd.iter().any(|s| &out_hex(s, 0) == libc_bytes);
    match glibc_minor(&got["glibc"][0]) {
        Some(m) if m < 41 => assert!(in_log, "glibc 2.{m} getrandom() is a syscall"),
        // musl (the arm64 guest) has no vDSO getrandom either.
        None => assert!(in_log, "musl's getrandom() is a syscall"),
        Some(m) => eprintln!("glibc 2.{m}: getrandom() in the log: {in_log}"),
    }

    // Every call of the fixture's process can be fed back.
    for s in log.syscalls().filter(|s| s.tgid == r.tgid) {
        assert_eq!(replayability(&log.header, s), Ok(()), "{s:#?}");
    }
}

fn glibc_minor(v: &str) -> Option<u32> {
    v.strip_prefix("2.")?.split('.').next()?.parse().ok()
}

fn info(path: &std::path::Path) -> (String, serde_json::Value) {
    let run = |json: bool| {
        let mut cmd = Command::new(recorder_bin());
        cmd.arg("info").arg(path);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().expect("recorder info");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run(false);
    let json = serde_json::from_str(&run(true)).unwrap();
    (text, json)
}

#[test]
fn info_names_the_calls_a_small_capture_size_cut() {
    if !privileged() {
        return;
    }
    let cut = record(&["-s", "1024"]);
    let read = calls(&cut.log, cut.tgid, libc::SYS_read)
        .into_iter()
        .find(|s| s.ret == Some(BIG as i64))
        .expect("the 64 KiB read");
    assert_eq!(
        replayability(&cut.log.header, read),
        Err(NotReplayable::Truncated {
            arg: 1,
            captured: 1024,
            len: BIG as u64
        })
    );
    let (text, json) = info(&cut.path);
    let replay = &json["replay"];
    assert_eq!(replay["replayable"], false, "{text}");
    assert_eq!(replay["recorded_replayable"], false);
    let groups = replay["groups"].as_array().unwrap();
    let g = groups
        .iter()
        .find(|g| g["syscall"] == "read" && g["reason"] == "truncated")
        .unwrap_or_else(|| panic!("no truncated read in {text}"));
    assert_eq!(g["largest"], BIG as u64);
    let first = g["first"].as_array().unwrap();
    assert!(
        first.contains(&serde_json::json!([read.tid, read.seq])),
        "{g}"
    );
    assert!(text.contains("NOT REPLAYABLE"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("read") && l.contains("truncated")),
        "{text}"
    );

    let whole = record(&["--replayable"]);
    let (text, json) = info(&whole.path);
    // Every call, the loader's and the runtime's included, is whole.
    assert_eq!(json["replay"]["replayable"], true, "{text}");
    assert_eq!(json["replay"]["recorded_replayable"], true);
    assert!(text.contains("every call can be fed back"), "{text}");

    // The same log with its data redacted (keeping openat's paths): the
    // reads are `redacted`, the paths are not named.
    let bundle = whole._w.path("redacted.rec");
    let out = Command::new(recorder_bin())
        .args(["bundle", "--redact", "data", "--keep-data", "openat", "-o"])
        .arg(&bundle)
        .arg(&whole.path)
        .output()
        .expect("recorder bundle");
    assert!(out.status.success(), "{out:?}");
    let (text, json) = info(&bundle);
    assert_eq!(json["replay"]["replayable"], false, "{text}");
    let groups = json["replay"]["groups"].as_array().unwrap();
    assert!(
        groups
            .iter()
            .any(|g| g["syscall"] == "read" && g["reason"] == "redacted"),
        "{text}"
    );
    assert!(
        groups
            .iter()
            .all(|g| g["reason"] == "redacted" && g["syscall"] != "openat"),
        "only redaction blocks it: {text}"
    );
}
