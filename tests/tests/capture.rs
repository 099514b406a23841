//! Data capture end to end: the bytes the calls read and wrote are in the
//! log, exactly.

mod common;

use common::*;
use recorder::event::{Capture, CaptureKind, Syscall};
use tests::{DATA_BIG_BYTE, DATA_BIG_LEN};

fn data(s: &Syscall, arg: u8) -> &Capture {
    s.data
        .iter()
        .find(|c| c.arg == arg)
        .unwrap_or_else(|| panic!("no capture for arg {arg} in {s:#?}"))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn captured_bytes_are_what_the_program_saw() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let file = w.path("known-content.txt");
    let content = b"line one\nline two: the recorder must see exactly this\n";
    std::fs::write(&file, content).unwrap();
    let log_path = w.path("getrandom.rec");
    let out = record_command(
        &log_path,
        &[],
        &[&fixture("fx-data")],
        &[file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    export_log(&log_path, "getrandom.rec");
    let log = Log::read(&log_path);
    log.assert_complete();
    assert_eq!(log.header.capture_size, 4096, "default capture size");
    let calls: Vec<&Syscall> = log.syscalls().collect();

    // getrandom: the output buffer, read at exit through the pointer
    // stashed at entry (on arm64 that pointer was in x0).
    let printed = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("getrandom="))
        .expect("fixture prints getrandom=");
    let gr = calls
        .iter()
        .rfind(|s| s.nr == libc::SYS_getrandom && s.args[1] == 16)
        .expect("getrandom recorded");
    let c = data(gr, 0);
    assert_eq!(c.kind, CaptureKind::OutBuf);
    assert!(!c.read_failed && !c.truncated);
    assert_eq!(c.len, 16);
    assert_eq!(
        hex(&c.bytes),
        printed,
        "captured bytes == what the program got"
    );

    // openat: the path.
    let path = file.to_str().unwrap().as_bytes();
    let at = calls
        .iter()
        .position(|s| s.nr == libc::SYS_openat && s.data.iter().any(|c| c.bytes == path))
        .expect("openat of the known path, with its path captured");
    let open = calls[at];
    let fd = open.ret.expect("returned");
    assert!(fd >= 0);
    assert_eq!(data(open, 1).kind, CaptureKind::Str);

    // read: the file's content, length from the return value.
    let read = calls[at..]
        .iter()
        .find(|s| s.nr == libc::SYS_read && s.args[0] == fd as u64)
        .expect("read of the known file");
    assert_eq!(read.ret, Some(content.len() as i64));
    let c = data(read, 1);
    assert_eq!(c.kind, CaptureKind::OutBuf);
    assert_eq!(c.bytes, content);
    assert_eq!(c.len, content.len() as u64);

    // write from an unmapped address: the recorder's read failed, and the
    // log says so instead of showing empty data.
    let bad = calls
        .iter()
        .find(|s| s.nr == libc::SYS_write && s.args[1] == 1)
        .expect("write from address 0x1");
    assert_eq!(bad.ret, err(libc::EFAULT));
    let c = data(bad, 1);
    assert!(c.read_failed, "{c:?}");
    assert!(c.bytes.is_empty());
    let counters = &log.trailer.as_ref().unwrap().counters;
    assert!(counters.read_failed >= 1, "{counters:?}");

    // A buffer larger than the capture size: truncated, full length kept.
    let big = calls
        .iter()
        .find(|s| s.nr == libc::SYS_write && s.args[2] == DATA_BIG_LEN as u64)
        .expect("large write");
    let c = data(big, 1);
    assert_eq!(c.kind, CaptureKind::InBuf);
    assert!(c.truncated);
    assert_eq!(c.len, DATA_BIG_LEN as u64);
    assert_eq!(c.bytes.len(), 4096);
    assert!(c.bytes.iter().all(|&b| b == DATA_BIG_BYTE));

    // execve: path and argv captured at entry and joined to the call.
    let exec = calls.first().unwrap();
    assert_eq!(exec.nr, libc::SYS_execve);
    let strs: Vec<&[u8]> = exec
        .data
        .iter()
        .filter(|c| c.kind == CaptureKind::Str)
        .map(|c| c.bytes.as_slice())
        .collect();
    assert_eq!(
        strs[0],
        fixture("fx-data").to_str().unwrap().as_bytes(),
        "path"
    );
    assert_eq!(strs.last().unwrap(), &path, "last argv element");
    // envp: counted, never read: one marker item without bytes, whose
    // length is the number of variables (strace's `/* N vars */`).
    let envp: Vec<_> = exec.data.iter().filter(|c| c.arg == 2).collect();
    assert_eq!(envp.len(), 1, "one envp marker: {envp:?}");
    assert_eq!(envp[0].kind, CaptureKind::InBuf);
    assert!(envp[0].bytes.is_empty(), "no variable is recorded");
    // Ours, plus at most HOME, USER and LOGNAME, which the recorder sets
    // when it runs the command as the sudo user.
    let ours = std::env::vars_os().count() as u64;
    assert!(
        (ours..=ours + 3).contains(&envp[0].len),
        "variables counted: {} for our {ours}",
        envp[0].len
    );
}

#[test]
fn capture_size_zero_turns_capture_off() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let file = w.path("f.txt");
    std::fs::write(&file, b"x").unwrap();
    let log_path = w.path("nocap.rec");
    let out = record_command(
        &log_path,
        &["--capture-size", "0"],
        &[&fixture("fx-data")],
        &[file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    let log = Log::read(&log_path);
    log.assert_complete();
    assert_eq!(log.header.capture_size, 0);
    assert!(log.syscalls().all(|s| s.data.is_empty()));
}

#[test]
fn small_capture_size_truncates_with_full_length_kept() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let file = w.path("f.txt");
    std::fs::write(&file, b"0123456789abcdef0123456789").unwrap();
    let log_path = w.path("small.rec");
    let out = record_command(
        &log_path,
        &["-s", "8"],
        &[&fixture("fx-data")],
        &[file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    let log = Log::read(&log_path);
    let read = log
        .syscalls()
        .find(|s| s.nr == libc::SYS_read && s.ret == Some(26))
        .expect("read of the file");
    let c = data(read, 1);
    assert!(c.truncated);
    assert_eq!(c.len, 26);
    assert_eq!(c.bytes, b"01234567");
    // Strings are cut at the capture size too, marked truncated.
    let open = log
        .syscalls()
        .find(|s| {
            s.nr == libc::SYS_openat
                && s.ret.is_some_and(|r| r >= 0)
                && s.args[2] == libc::O_RDONLY as u64
        })
        .unwrap();
    let p = data(open, 1);
    assert_eq!(p.bytes.len(), 8);
    assert!(p.truncated);
}

/// Records `fx-loops` (argv past MAX_ARGV, envp, a directory listing, a
/// two-segment writev) with the eBPF object the kernel gets, or with
/// `RECORDER_BOUNDED_LOOPS=1` the one for kernels without `bpf_loop`,
/// and checks what the four capture loops produced.
fn loop_captures(
    w: &Workdir,
    dir: &std::path::Path,
    files: u64,
    bounded: bool,
) -> Vec<(i64, Vec<Capture>)> {
    let log_path = w.path(&format!("{files}-{bounded}.rec"));
    let args: Vec<String> = (0..40).map(|i| format!("arg-{i}")).collect();
    let mut cmd = std::process::Command::new(recorder_bin());
    cmd.arg("-q").arg("-o").arg(&log_path).arg("--");
    cmd.arg(fixture("fx-loops")).arg(dir).args(&args);
    if bounded {
        cmd.env("RECORDER_BOUNDED_LOOPS", "1");
    }
    let out = cmd.stdin(std::process::Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("entries={files}")),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let log = Log::read(&log_path);
    log.assert_complete();
    let calls: Vec<&Syscall> = log.syscalls().collect();

    // execve: the path, the first MAX_ARGV (32) argv strings, then the
    // marker that more were left out; envp counted.
    let exec = calls.first().unwrap();
    assert_eq!(exec.nr, libc::SYS_execve);
    let argv: Vec<&Capture> = exec.data.iter().filter(|c| c.arg == 1).collect();
    assert_eq!(argv.len(), 33, "32 strings and the marker: {argv:?}");
    assert_eq!(
        argv[0].bytes,
        fixture("fx-loops").to_str().unwrap().as_bytes()
    );
    assert_eq!(argv[31].bytes, b"arg-29");
    assert_eq!(argv[32].kind, CaptureKind::InBuf);
    assert!(argv[32].bytes.is_empty());
    let envp = data(exec, 2);
    assert!(envp.len > 0 && envp.bytes.is_empty(), "{envp:?}");

    // getdents64: the listings count every entry (with . and ..),
    // without copying the names into the count.
    let listings: Vec<&&Syscall> = calls
        .iter()
        .filter(|s| s.nr == libc::SYS_getdents64 && s.ret.is_some_and(|r| r > 0))
        .collect();
    let dents = listings.first().expect("getdents64 of the directory");
    for l in &listings {
        let c = data(l, 1);
        // The first argument-1 item is the count; the records come after
        // it (a records item here means the count is missing).
        assert_eq!(
            (c.kind, c.truncated, c.bytes.len()),
            (CaptureKind::OutBuf, false, 0),
            "the count of a listing of {} entries",
            c.len
        );
    }
    let counted: u64 = listings.iter().map(|l| data(l, 1).len).sum();
    assert_eq!(counted, files + 2, "entries counted");

    // writev: both segments in one item.
    let wv = calls
        .iter()
        .find(|s| s.nr == libc::SYS_writev)
        .expect("writev");
    let c = data(wv, 1);
    assert_eq!(
        (c.kind, c.len, c.truncated),
        (CaptureKind::InBuf, 11, false)
    );
    assert_eq!(c.bytes, b"hello world");

    // Then the records themselves (issue 21: replay writes them back).
    let records = &dents.data[1];
    assert_eq!((records.arg, records.kind), (1, CaptureKind::OutBuf));
    assert_eq!(records.len, dents.ret.unwrap() as u64);
    let names = dirent_names(&records.bytes);
    if !records.truncated {
        assert_eq!(names.len() as u64, data(dents, 1).len, "{names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("file-")), "{names:?}");

    // envp aside: the recorder's own environment differs between the two
    // runs by RECORDER_BOUNDED_LOOPS. getdents64's records as their names:
    // the padding after each name is whatever the program's buffer held.
    [exec, dents, wv]
        .iter()
        .map(|s| {
            let items = s
                .data
                .iter()
                .filter(|c| s.nr != libc::SYS_execve || c.arg != 2)
                .map(|c| {
                    let mut c = c.clone();
                    if s.nr == libc::SYS_getdents64 {
                        c.bytes = dirent_names(&c.bytes).join("/").into_bytes();
                    }
                    c
                });
            (s.nr, items.collect())
        })
        .collect()
}

/// The names in `struct linux_dirent64` records (d_reclen at 16, d_name
/// at 19, NUL-terminated).
fn dirent_names(mut b: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    while b.len() >= 19 {
        let reclen = usize::from(u16::from_le_bytes([b[16], b[17]]));
        let Some(rec) = b.get(19..reclen) else { break };
        let name = rec.split(|&x| x == 0).next().unwrap_or_default();
        names.push(String::from_utf8_lossy(name).into_owned());
        b = &b[reclen..];
    }
    names
}

/// The capture loops run under `bpf_loop` where the kernel has it (5.17+);
/// the object for older kernels runs them as bounded loops. Both must
/// record the same items.
#[test]
fn capture_loops_record_the_same_with_either_object() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    // 40 entries, and 700 (32 bytes each: one getdents64 of glibc's 32 KiB
    // buffer, a long walk).
    for files in [40, 700] {
        let dir = w.path(&format!("listed-{files}"));
        std::fs::create_dir(&dir).unwrap();
        for i in 0..files {
            std::fs::write(dir.join(format!("file-{i:04}")), b"").unwrap();
        }
        let usual = loop_captures(&w, &dir, files, false);
        let bounded = loop_captures(&w, &dir, files, true);
        assert_eq!(usual, bounded, "{files} files");
    }
}
