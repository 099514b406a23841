//! `recorder dump` against strace itself, line for line (issue 14).
//!
//! Each command runs as `recorder -o R -- strace -f -qq -s 256 -o S -- CMD`:
//! strace and the recorder see the very same execution (same pids,
//! pointers, data), so every line strace wrote for the command's threads
//! can be compared with the line `recorder dump -s 256 --tid T R` prints
//! for the same call. strace's own process (and the helpers it forks to
//! probe the kernel) are in the recording too; only the threads strace
//! names in its output are compared.
//!
//! What is normalised, and why (nothing else is):
//! - strace's `PID  ` prefix and dump's timestamp: they say who and when,
//!   which the pairing by thread already accounts for.
//! - strace's alignment padding before ` = ` (it pads the call to column
//!   40, counted from the start of its line, pid prefix included, so the
//!   padding depends on the pid's width; dump does not pad).
//! - strace's `<unfinished ...>` / `<... NAME resumed>` halves are joined
//!   into the one line strace would have written had no other thread
//!   interleaved: a property of ptrace's stop-and-print, not of the call.
//! - The body of a signal line, `--- SIGCHLD {si_signo=...} ---`, becomes
//!   `--- SIGCHLD ---`: the siginfo (sender pid, uid, status, times) is
//!   not visible to the recorder's tracepoint, so it cannot print it.
//!
//! - Under `-v` only (the run comparing dump's `-v` with strace's), two
//!   arguments whose contents the log does not hold, only their count:
//!   execve's environment (strace prints the strings, dump `0x... /* N
//!   vars */`) and getdents64's records (strace prints each `{d_ino=...}`,
//!   dump `0x... /* N entries */`). Both sides become `/* N vars */` and
//!   `/* N entries */`: the count must still agree, and everything else on
//!   the line (argv, descriptor, size, result) is compared as is.
//!
//! Lines dump prints that strace does not (`+++ exec +++`, `+++ fork +++`,
//! the child's own `clone() = 0`, the calls strace's forked child makes
//! before its `execve`) are not counted: the measure is the share of
//! strace's lines that dump reproduces exactly. Calls are paired per
//! thread in order, by syscall name (a longest common subsequence, so a
//! call one side lacks shows as one unmatched line instead of shifting
//! everything after it).

mod common;

use std::{
    collections::BTreeMap,
    path::Path,
    process::{Command, Stdio},
};

use common::*;

/// The share of strace's lines that dump must reproduce exactly, in
/// percent. The target is 99% (issue 14). The decoder reaches
/// 100% here (December 2026: 39,898 of 39,898 lines on x86_64, with
/// issue 21's epoll, select and ioctl run, 6,332 of them under -v; in the
/// arm64 guest 100% on both kernels); the
/// threshold, the same on both, leaves room for a few lines that depend on
/// scheduling (a call a signal interrupts, which strace shows as `= ?
/// ERESTARTSYS` and a `restart_syscall`), and no more: a regression of one
/// kind of line fails.
const MIN_IDENTICAL_PERCENT: f64 = 99.95;

/// How many differing lines to show per syscall.
const EXAMPLES_PER_SYSCALL: usize = 3;

/// A TCP exchange between two threads (sockaddrs, accept, send/recv,
/// futex between threads, and strace's unfinished/resumed lines).
const PY_TCP: &str = "import socket, threading
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
def serve():
    c, _ = s.accept(); c.sendall(c.recv(64).upper()); c.close()
t = threading.Thread(target=serve); t.start()
k = socket.create_connection(s.getsockname()); k.sendall(b'ping')
print(k.recv(64)); k.close(); t.join()";

/// The outputs replay needs (issue 21): epoll_wait's events, select's
/// sets (asked, then ready, with the time left), ioctl outputs, getdents64.
const PY_POLL: &str = "import os, select, fcntl, termios
r, w = os.pipe(); os.write(w, b'x')
e = select.epoll(); e.register(r, select.EPOLLIN | select.EPOLLET); e.register(w, select.EPOLLOUT)
print(e.poll(1), e.poll(0))
select.select([r], [w], [], 0.5); select.select([r], [], [], 0); select.select([r, w], [w], [r], None)
print(fcntl.ioctl(r, termios.FIONREAD, b'    '))
os.read(r, 1); select.select([r], [], [], 0.001)
print(len(os.listdir('/etc')))";

/// prctl's options, each with the arguments it takes (strace's prctl.c),
/// as service managers and sandboxes make them: keepcaps, ambient
/// capabilities, securebits, no_new_privs, the death signal, an unknown
/// option.
const PY_PRCTL: &str = "import ctypes
p = ctypes.CDLL(None, use_errno=True).prctl
for a in [(27,), (8, 1), (7,), (47, 1, 0), (47, 4), (47, 2, 21), (1, 9), (3,), (4, 1),
          (28, 0x10), (27,), (38, 1), (39,), (36, 1), (29, 50000), (30,), (21,), (41, 1),
          (42,), (24, 21), (999, 1, 2, 3, 4)]:
    p(*(a + (0,) * (5 - len(a))))";

/// The commands compared: everyday programs, as the issue measured. In the
/// arm64 guest (`cargo xtask test-arm64`), whose userland is a static
/// busybox, strace and its glibc, a shorter list of the same kinds, so that
/// the run stays within a couple of minutes of emulated time.
fn commands(tree: &Path) -> Vec<Vec<String>> {
    if cfg!(target_arch = "aarch64") {
        return guest_commands(tree);
    }
    let t = tree.display().to_string();
    let sh = |s: &str| vec!["sh".to_owned(), "-c".to_owned(), s.to_owned()];
    let mut cmds = vec![
        sh("ls -la /usr/bin"),
        sh("cat /etc/passwd /etc/os-release"),
        sh("echo a | wc -c"),
        sh(&format!("find {t} -name '*.txt'")),
        sh(&format!("tar -cf {t}.tar -C {t} . && tar -tvf {t}.tar")),
        sh("id; stat /etc/passwd /dev/null; date -u; uname -a; ls -la /dev >/dev/null"),
        sh("head -c 300 /bin/sh | od -c | tail -n 2"),
        sh(&format!(
            "mkdir -p {t}/w && cp /etc/passwd {t}/w/p && chmod 600 {t}/w/p && ln -sf p {t}/w/l \
             && mv {t}/w/p {t}/w/q && sort {t}/w/q | grep -c root; touch {t}/w/q; \
             dd if=/dev/zero of={t}/w/z bs=1k count=4 2>/dev/null; rm -r {t}/w; sleep 0.01"
        )),
    ];
    cmds.push(sh(&format!(
        "df -h {t} >/dev/null; du -s {t}; seq 1 500 | sort -rn | uniq -c | tail -n 1; \
         gzip -c /etc/passwd | gunzip -c | wc -l; env | wc -l; ps -o pid= -p $$"
    )));
    // Copies and archives keeping extended attributes (make_tree sets one),
    // a package query (big mmapped caches), git.
    cmds.push(sh(&format!(
        "cp -a {t} {t}.copy && tar --xattrs -cf {t}.x.tar -C {t}.copy . && rm -r {t}.copy; \
         apt-cache policy coreutils >/dev/null 2>&1; true"
    )));
    if let Ok(git) = which("git") {
        cmds.push(sh(&format!(
            "{git} -C {t} init -q && {git} -C {t} add -A && \
             {git} -C {t} -c user.name=a -c user.email=b@c commit -qm x && {git} -C {t} log --oneline | wc -l"
        )));
    }
    if Path::new("/usr/bin/python3").exists() {
        let py = |s: &str| vec!["/usr/bin/python3".to_owned(), "-c".to_owned(), s.to_owned()];
        cmds.push(py(
            "import json, os; print(json.dumps(sorted(os.listdir('/etc'))[:3]))",
        ));
        cmds.push(py(PY_TCP));
        cmds.push(py(PY_POLL));
        cmds.push(py(PY_PRCTL));
        cmds.push(py("import subprocess; subprocess.run(['true']); print(open('/proc/self/stat').read()[:8])"));
    }
    cmds
}

/// The arm64 guest's commands: busybox applets in a shell pipeline,
/// strace itself as the one dynamically linked glibc program (the loader's
/// openat/mmap/mprotect sequence), and the test crate's fixtures that fork
/// and start threads (clone's arm64 argument order).
fn guest_commands(tree: &Path) -> Vec<Vec<String>> {
    let t = tree.display().to_string();
    let sh = |s: &str| vec!["sh".to_owned(), "-c".to_owned(), s.to_owned()];
    vec![
        sh(&format!(
            "ls -la /opt/run | head -n 3; cat /proc/version; echo a | wc -c; \
             find {t} -name '*.txt'; tar -cf {t}.tar -C {t} . && tar -tvf {t}.tar"
        )),
        sh(&format!(
            "mkdir -p {t}/w && cp /init {t}/w/p && chmod 600 {t}/w/p && ln -sf p {t}/w/l \
             && mv {t}/w/p {t}/w/q && sort {t}/w/q | grep -c mount; touch {t}/w/q; \
             dd if=/dev/zero of={t}/w/z bs=1k count=4 2>/dev/null; rm -r {t}/w; sleep 0.01; \
             id; stat /init; date -u; uname -a; head -c 300 /init | od -c | tail -n 2"
        )),
        vec!["strace".to_owned(), "-V".to_owned()],
        vec![fixture("fx-fork").display().to_string()],
        vec![fixture("fx-threads").display().to_string()],
    ]
}

/// The `-e trace=` class expressions compared with strace's own selection.
const CLASS_RUNS: &[&[&str]] = &[
    &["-e", "trace=%file,%process"],
    &["-e", "trace=%desc,%process"],
    &["-e", "trace=%%stat,%creds,%process"],
    &["-e", "trace=%memory,%signal,%pure,%process"],
    &["-e", "trace=%network,%clock,%%statfs,%ipc,%process"],
];

/// What the class runs trace: a shell running programs that make file,
/// stat, credential, memory, signal and clock calls.
const CLASS_COMMAND: &[&str] = &[
    "sh",
    "-c",
    "ls -la /etc >/dev/null; id; df / >/dev/null; date -u; cat /etc/hostname | wc -c",
];

/// Every class again in two runs for the arm64 guest (each run costs a
/// recorder start under emulation).
const GUEST_CLASS_RUNS: &[&[&str]] = &[
    &["-e", "trace=%file,%desc,%process"],
    &[
        "-e",
        "trace=%%stat,%creds,%memory,%signal,%pure,%network,%clock,%%statfs,%ipc,%process",
    ],
];

/// CLASS_COMMAND for the arm64 guest, which has no /etc.
const GUEST_CLASS_COMMAND: &[&str] = &[
    "sh",
    "-c",
    "ls -la /opt/run >/dev/null; id; df / >/dev/null; date -u; cat /proc/version | wc -c",
];

/// A small tree for find and tar: files, a subdirectory, a symlink,
/// contents with bytes strace escapes.
fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/deeper")).expect("mkdir tree");
    std::fs::write(root.join("a.txt"), "hello\n").expect("write");
    std::fs::write(root.join("sub/b.txt"), b"\x00\x01\x7f\tbin\n").expect("write");
    std::fs::write(root.join("sub/deeper/c.dat"), vec![0xa5u8; 3000]).expect("write");
    std::os::unix::fs::symlink("a.txt", root.join("link")).expect("symlink");
    // An extended attribute for cp -a and tar --xattrs to copy. Not every
    // file system takes user.* attributes: then the commands copy none.
    let path = std::ffi::CString::new(root.join("a.txt").into_os_string().into_encoded_bytes())
        .expect("no NUL in the path");
    // SAFETY: NUL-terminated name and path, a value of the given length.
    unsafe {
        libc::setxattr(
            path.as_ptr(),
            c"user.note".as_ptr(),
            b"hi".as_ptr().cast(),
            2,
            0,
        )
    };
}

/// The program `name` on PATH.
fn which(name: &str) -> Result<String, ()> {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
        .ok_or(())
}

#[test]
fn dump_matches_strace_line_for_line() {
    if !privileged() {
        return;
    }
    assert!(
        Command::new("strace")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success()),
        "strace is not installed: `cargo xtask setup` installs it (apt-get install strace)"
    );
    let w = Workdir::new();
    make_tree(&w.path("tree"));
    let mut total = Tally::default();
    let mut runs: Vec<(&[&str], Vec<String>)> = Vec::new();
    for cmd in commands(&w.path("tree")) {
        runs.push((&[], cmd));
    }
    // strace's -x and -xx against dump's, on binary data.
    let binary = vec![
        "head".to_owned(),
        "-c".to_owned(),
        "600".to_owned(),
        // The guest's /bin/sh is a symlink to busybox, whose start is as binary.
        "/bin/sh".to_owned(),
    ];
    runs.push((&["-x"], binary.clone()));
    runs.push((&["-xx"], binary));
    // strace's -v against dump's: stat, statx and uname in full (ls -la
    // makes statx calls, and newfstatat on its libraries; stat makes
    // statx with STATX_ALL; devices show st_rdev), getdents64 and execve
    // normalised as the module comment says.
    if cfg!(target_arch = "x86_64") {
        runs.push((&["-v"], verbose_command(&w.path("tree"))));
        // getgroups' and setgroups' lists (`id` as root has none), and
        // setpriv's own capability calls: prctl's bounding and ambient
        // sets, capget's probe (version 0, which the kernel rewrites) and
        // sets, capset.
        let id = ["setpriv", "--groups", "4,24,27", "id"].map(str::to_owned);
        runs.push((
            &[
                "-e",
                "trace=getgroups,setgroups,capget,capset,prctl,%process",
            ],
            id.to_vec(),
        ));
    }
    // strace's classes against dump's (-e trace=%CLASS on both sides): the
    // lines must be the same, and so must the set of calls each shows
    // (checked in `compare_one`). Each class list holds %process, so the
    // command's execve is shown.
    let (class_runs, class_command) = if cfg!(target_arch = "aarch64") {
        (GUEST_CLASS_RUNS, GUEST_CLASS_COMMAND)
    } else {
        (CLASS_RUNS, CLASS_COMMAND)
    };
    for &classes in class_runs {
        runs.push((
            classes,
            class_command.iter().map(|s| (*s).to_owned()).collect(),
        ));
    }
    let mut verbose = None;
    for (i, (flags, cmd)) in runs.iter().enumerate() {
        let pairs = compare_one(&w, i, cmd, flags);
        eprintln!(
            "{:>6.2}% of {:>5} lines: {}{}",
            pairs.percent(),
            pairs.lines(),
            flags.iter().map(|f| format!("{f} ")).collect::<String>(),
            cmd.join(" ")
        );
        if flags.contains(&"-v") {
            verbose = Some((pairs.percent(), pairs.lines()));
        }
        total.add(pairs);
    }
    total.print();
    let pct = total.percent();
    // The arm64 guest runs fewer commands (see `guest_commands`).
    let min_lines = if cfg!(target_arch = "aarch64") {
        300
    } else {
        1000
    };
    assert!(
        total.lines() > min_lines,
        "too few lines compared: {}",
        total.lines()
    );
    assert!(
        pct >= MIN_IDENTICAL_PERCENT,
        "{pct:.2}% of strace's lines identical, below the {MIN_IDENTICAL_PERCENT}% threshold"
    );
    // The -v run on its own: its struct lines are a few hundred of the
    // total, so a regression there must not hide in the other runs' lines.
    if let Some((pct, lines)) = verbose {
        assert!(lines > 500, "too few lines compared under -v: {lines}");
        assert!(
            pct >= MIN_IDENTICAL_PERCENT,
            "-v: {pct:.2}% of strace's lines identical, below the {MIN_IDENTICAL_PERCENT}% threshold"
        );
    }
}

/// What the `-v` run traces: every struct `-v` prints in full (stat and
/// newfstatat on files and devices, statx with and without STATX_ALL,
/// uname), and the two arguments it cannot (execve's environment,
/// getdents64's records).
fn verbose_command(tree: &Path) -> Vec<String> {
    let t = tree.display().to_string();
    vec![
        "sh".to_owned(),
        "-c".to_owned(),
        format!(
            "ls -la /usr/bin /dev {t} >/dev/null; stat /etc/passwd /dev/null {t}/link >/dev/null; \
             stat -L {t}/link >/dev/null; uname -a; du -s {t}; id"
        ),
    ]
}

/// Records strace running `cmd`, and pairs its lines with dump's; `flags`
/// (`-x`, `-xx`) are given to both.
fn compare_one(w: &Workdir, i: usize, cmd: &[String], flags: &[&str]) -> Tally {
    let rec = w.path(&format!("c{i}.rec"));
    let st = w.path(&format!("c{i}.strace"));
    let out = Command::new(recorder_bin())
        .args(["-q", "-o"])
        .arg(&rec)
        .args(["--", "strace", "-f", "-qq", "-s", "256"])
        .args(flags)
        .arg("-o")
        .arg(&st)
        .arg("--")
        .args(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .expect("run recorder");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    export_log(&rec, &format!("strace-compare-{i}.rec"));
    let text = std::fs::read_to_string(&st).expect("strace output");
    if flags.contains(&"-v") {
        // The run exercises every struct -v prints in full.
        for full in [
            "st_dev=makedev(",
            "st_rdev=makedev(",
            "stx_blksize=",
            "stx_btime=",
            "domainname=",
        ] {
            assert!(
                text.contains(full),
                "{cmd:?}: no `{full}` in strace -v's lines"
            );
        }
    }
    let threads = strace_threads(&text);
    assert!(!threads.is_empty(), "{cmd:?}: strace wrote nothing");
    let mut tally = Tally::default();
    for (n, (tid, lines)) in threads.iter().enumerate() {
        let mut ours = dump_thread(&rec, *tid, flags);
        if n == 0 {
            // strace's child runs strace's code until its execve; strace
            // shows the command from that execve on.
            let exec = ours.iter().position(|l| l.starts_with("execve("));
            ours.drain(..exec.expect("the command's execve in the recording"));
        }
        if flags.contains(&"-e") {
            same_calls(cmd, flags, *tid, lines, &ours);
        }
        if flags.contains(&"-v") {
            let theirs: Vec<String> = lines.iter().map(|l| only_counts(l, true)).collect();
            let ours: Vec<String> = ours.iter().map(|l| only_counts(l, false)).collect();
            tally.pair(&theirs, &ours);
            continue;
        }
        tally.pair(lines, &ours);
    }
    tally
}

/// Under `-e trace=%CLASS`, dump shows exactly the calls strace shows: the
/// same syscall names, each as often (a call in only one side's class
/// would not show up in the identical-line share, which counts strace's
/// lines).
fn same_calls(cmd: &[String], flags: &[&str], tid: u32, theirs: &[String], ours: &[String]) {
    // A new task's own `clone() = 0` (x86_64 shows it, strace does not).
    let child_return = |l: &str| {
        ["clone(", "clone3(", "fork(", "vfork("]
            .iter()
            .any(|c| l.starts_with(c))
            && l.ends_with(") = 0")
    };
    let count = |v: &[String]| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for l in v
            .iter()
            .filter(|l| !l.starts_with("--- ") && !child_return(l))
        {
            *m.entry(syscall_of(l).to_owned()).or_default() += 1;
        }
        m
    };
    assert_eq!(
        count(theirs),
        count(ours),
        "{flags:?} {cmd:?}, thread {tid}: strace's calls (left) and dump's (right) differ"
    );
}

/// strace's lines per thread, in order of each thread's first line, with
/// the pid prefix off, unfinished/resumed halves joined, padding and
/// siginfo normalised (see the module comment).
fn strace_threads(text: &str) -> Vec<(u32, Vec<String>)> {
    let mut order: Vec<u32> = Vec::new();
    let mut threads: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut pending: BTreeMap<u32, String> = BTreeMap::new();
    for raw in text.lines() {
        let (tid, line) = raw.split_once(' ').expect("strace -f line: PID  text");
        let tid: u32 = tid.parse().expect("pid prefix");
        let line = line.trim_start();
        if !threads.contains_key(&tid) {
            order.push(tid);
        }
        let lines = threads.entry(tid).or_default();
        if let Some(head) = line.strip_suffix(" <unfinished ...>") {
            pending.insert(tid, head.to_owned());
            continue;
        }
        let line = match (line.strip_prefix("<... "), pending.remove(&tid)) {
            (Some(rest), Some(head)) => {
                let (_, tail) = rest.split_once(" resumed>").expect("resumed line");
                format!("{head}{tail}")
            }
            (_, Some(head)) => {
                // A call that never resumed (the thread died in it).
                lines.push(format!("{head} <unfinished ...>"));
                line.to_owned()
            }
            _ => line.to_owned(),
        };
        lines.push(normalise_strace(&line));
    }
    for (tid, head) in pending {
        threads
            .entry(tid)
            .or_default()
            .push(format!("{head} <unfinished ...>"));
    }
    order
        .into_iter()
        .map(|t| (t, threads.remove(&t).unwrap_or_default()))
        .collect()
}

/// Under `-v`, execve's environment and getdents64's records as their
/// count only (see the module comment): strace's array (`theirs`) becomes
/// `/* N vars */` or `/* N entries */`, and so does dump's `0x... /* N
/// vars */`. Other lines are returned as they are.
fn only_counts(line: &str, theirs: bool) -> String {
    let (index, unit) = match line.split('(').next() {
        Some("execve") => (2, "vars"),
        Some("getdents64") => (1, "entries"),
        _ => return line.to_owned(),
    };
    let Some((name, mut args, tail)) = call_args(line) else {
        return line.to_owned();
    };
    let Some(arg) = args.get(index).copied() else {
        return line.to_owned();
    };
    let counted = if theirs {
        match arg.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
            Some("") => format!("/* 0 {unit} */"),
            Some(items) => format!("/* {} {unit} */", split_top_level(items).len()),
            None => return line.to_owned(),
        }
    } else {
        match arg.find("/* ") {
            Some(at) => arg[at..].to_owned(),
            None => return line.to_owned(),
        }
    };
    args[index] = &counted;
    format!("{name}({}){tail}", args.join(", "))
}

/// A call line's name, its top-level arguments and what follows the
/// closing parenthesis (` = 0`).
fn call_args(line: &str) -> Option<(&str, Vec<&str>, &str)> {
    let open = line.find('(')?;
    let close = open + 1 + top_level_end(&line[open + 1..])?;
    let inner = &line[open + 1..close];
    Some((&line[..open], split_top_level(inner), &line[close + 1..]))
}

/// Where the argument list starting `s` ends: the first `)` outside
/// quotes and brackets.
fn top_level_end(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '[' | '{' | '(' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ']' | '}' | ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `s` split at its `, ` separators outside quotes and brackets.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut escaped, mut start) = (0i32, false, false, 0);
    let bytes = s.as_bytes();
    for (i, &c) in bytes.iter().enumerate() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => quoted = true,
            b'[' | b'{' | b'(' => depth += 1,
            b']' | b'}' | b')' => depth -= 1,
            b',' if depth == 0 && bytes.get(i + 1) == Some(&b' ') => {
                out.push(&s[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn normalise_strace(line: &str) -> String {
    if let Some(sig) = line.strip_prefix("--- ") {
        let name = sig.split([' ', '{']).next().unwrap_or(sig);
        return format!("--- {name} ---");
    }
    // The result is the last ` = `: results never contain one.
    match line.rfind(" = ") {
        Some(eq) => format!("{} {}", line[..eq].trim_end(), &line[eq + 1..]),
        None => line.to_owned(),
    }
}

/// dump's lines for one thread, timestamps off, without the process
/// events strace does not print.
fn dump_thread(rec: &Path, tid: u32, flags: &[&str]) -> Vec<String> {
    let out = Command::new(recorder_bin())
        .args(["dump", "-s", "256", "--tid", &tid.to_string()])
        .args(flags)
        .arg(rec)
        .output()
        .expect("run dump");
    assert!(
        out.status.success(),
        "dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_owned())
        .filter(|l| !l.starts_with("+++ "))
        .collect()
}

/// The syscall a line is about: the name before `(`, or `signal`.
fn syscall_of(line: &str) -> &str {
    if line.starts_with("--- ") {
        return "signal";
    }
    line.split('(').next().unwrap_or(line)
}

/// Identical and differing lines, overall and per syscall.
#[derive(Default)]
struct Tally {
    per_syscall: BTreeMap<String, (usize, usize)>,
    examples: BTreeMap<String, Vec<(String, Option<String>)>>,
}

impl Tally {
    fn lines(&self) -> usize {
        self.per_syscall.values().map(|(n, _)| n).sum()
    }

    fn percent(&self) -> f64 {
        let same: usize = self.per_syscall.values().map(|(_, s)| s).sum();
        100.0 * same as f64 / self.lines().max(1) as f64
    }

    /// Pairs one thread's lines (strace's, dump's) and counts them.
    fn pair(&mut self, theirs: &[String], ours: &[String]) {
        let names = |v: &[String]| {
            v.iter()
                .map(|l| syscall_of(l).to_owned())
                .collect::<Vec<_>>()
        };
        let matched = align(&names(theirs), &names(ours));
        for (line, m) in theirs.iter().zip(matched) {
            let ours = m.map(|j| ours[j].clone());
            let same = ours.as_deref() == Some(line.as_str());
            self.count(syscall_of(line), same, line, ours);
        }
    }

    fn count(&mut self, name: &str, same: bool, theirs: &str, ours: Option<String>) {
        let row = self.per_syscall.entry(name.to_owned()).or_default();
        row.0 += 1;
        if same {
            row.1 += 1;
            return;
        }
        let ex = self.examples.entry(name.to_owned()).or_default();
        if ex.len() < EXAMPLES_PER_SYSCALL && !ex.iter().any(|(t, _)| t == theirs) {
            ex.push((theirs.to_owned(), ours));
        }
    }

    fn add(&mut self, other: Tally) {
        for (name, (n, s)) in other.per_syscall {
            let row = self.per_syscall.entry(name).or_default();
            row.0 += n;
            row.1 += s;
        }
        for (name, ex) in other.examples {
            let mine = self.examples.entry(name).or_default();
            let room = EXAMPLES_PER_SYSCALL.saturating_sub(mine.len());
            mine.extend(ex.into_iter().take(room));
        }
    }

    fn print(&self) {
        let same: usize = self.per_syscall.values().map(|(_, s)| s).sum();
        eprintln!(
            "\nidentical: {same} of {} lines, {:.2}% (issue 14's target: 99%)",
            self.lines(),
            self.percent()
        );
        let mut rows: Vec<_> = self.per_syscall.iter().collect();
        rows.sort_by_key(|(name, (n, s))| (std::cmp::Reverse(n - s), *name));
        eprintln!(
            "\n{:<24} {:>7} {:>7} {:>8}",
            "syscall", "lines", "differ", "same %"
        );
        for (name, (n, s)) in &rows {
            let pct = 100.0 * *s as f64 / *n as f64;
            eprintln!("{name:<24} {n:>7} {:>7} {pct:>7.1}%", n - s);
        }
        eprintln!("\ndiffering lines, by syscall (strace first, then dump):");
        for (name, _) in rows.iter().filter(|(_, (n, s))| n != s) {
            eprintln!("== {name}");
            for (theirs, ours) in &self.examples[*name] {
                eprintln!("  strace: {theirs}");
                eprintln!("  dump:   {}", ours.as_deref().unwrap_or("(no such call)"));
            }
        }
    }
}

/// For each of `a`'s items, the index of the `b` item it pairs with: the
/// longest common subsequence, computed only between the common prefix
/// and suffix (the two sides normally agree call for call).
fn align(a: &[String], b: &[String]) -> Vec<Option<usize>> {
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let mut out: Vec<Option<usize>> = (0..pre).map(Some).collect();
    out.extend(lcs(am, bm).into_iter().map(|m| m.map(|j| j + pre)));
    let shift = b.len() - suf;
    out.extend((0..suf).map(|k| Some(shift + k)));
    out
}

fn lcs(a: &[String], b: &[String]) -> Vec<Option<usize>> {
    let (n, m) = (a.len(), b.len());
    // len[i][j]: the LCS of a[i..] and b[j..].
    let mut len = vec![0u32; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            len[i * (m + 1) + j] = if a[i] == b[j] {
                len[(i + 1) * (m + 1) + j + 1] + 1
            } else {
                len[(i + 1) * (m + 1) + j].max(len[i * (m + 1) + j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, vec![None; n]);
    while i < n && j < m {
        if a[i] == b[j] {
            out[i] = Some(j);
            (i, j) = (i + 1, j + 1);
        } else if len[(i + 1) * (m + 1) + j] >= len[i * (m + 1) + j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The normalisations, on strace's own output (no privileges needed).
#[test]
fn strace_lines_are_normalised_only_as_documented() {
    let text = "\
100   execve(\"/bin/sh\", [\"sh\"], 0x7ffd /* 3 vars */) = 0
100   read(3,  <unfinished ...>
101   close(4)                          = 0
100   <... read resumed>\"ab\", 2)        = 2
101   --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=7} ---
101   futex(0x1, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>
100   exit_group(0)                     = ?
";
    let threads = strace_threads(text);
    assert_eq!(
        threads,
        [
            (
                100,
                vec![
                    "execve(\"/bin/sh\", [\"sh\"], 0x7ffd /* 3 vars */) = 0".to_owned(),
                    "read(3, \"ab\", 2) = 2".to_owned(),
                    "exit_group(0) = ?".to_owned(),
                ]
            ),
            (
                101,
                vec![
                    "close(4) = 0".to_owned(),
                    "--- SIGCHLD ---".to_owned(),
                    "futex(0x1, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>".to_owned(),
                ]
            ),
        ]
    );
    // A string holding " = " is not padding; only the result's is.
    assert_eq!(
        normalise_strace("write(1, \"a = b\", 5)          = 5"),
        "write(1, \"a = b\", 5) = 5"
    );
    // -v: execve's environment and getdents64's records become counts on
    // both sides; the rest of the line stays.
    assert_eq!(
        only_counts(
            "execve(\"/bin/sh\", [\"sh\", \"-c\"], [\"A=1, [x]\", \"B=\\\"}\"]) = 0",
            true
        ),
        "execve(\"/bin/sh\", [\"sh\", \"-c\"], /* 2 vars */) = 0"
    );
    assert_eq!(
        only_counts(
            "execve(\"/bin/sh\", [\"sh\", \"-c\"], 0x7ffd /* 2 vars */) = 0",
            false
        ),
        "execve(\"/bin/sh\", [\"sh\", \"-c\"], /* 2 vars */) = 0"
    );
    assert_eq!(
        only_counts(
            "getdents64(3, [{d_ino=1, d_off=1, d_reclen=24, d_type=DT_DIR, d_name=\".\"}, \
             {d_ino=2, d_off=9, d_reclen=32, d_type=DT_REG, d_name=\"a, b\"}], 32768) = 56",
            true
        ),
        "getdents64(3, /* 2 entries */, 32768) = 56"
    );
    assert_eq!(
        only_counts("getdents64(3, [], 32768) = 0", true),
        "getdents64(3, /* 0 entries */, 32768) = 0"
    );
    assert_eq!(
        only_counts("getdents64(3, 0x55d0 /* 0 entries */, 32768) = 0", false),
        "getdents64(3, /* 0 entries */, 32768) = 0"
    );
    // A failed call keeps its address on both sides.
    let failed = "getdents64(3, 0x55d0, 32768) = -1 EBADF (Bad file descriptor)";
    assert_eq!(only_counts(failed, true), failed);
    assert_eq!(
        only_counts(
            "newfstatat(3, \"\", {st_mode=S_IFREG|0644, st_size=1, ...}, AT_EMPTY_PATH) = 0",
            true
        ),
        "newfstatat(3, \"\", {st_mode=S_IFREG|0644, st_size=1, ...}, AT_EMPTY_PATH) = 0"
    );
    // Pairing: a call one side lacks does not shift the rest.
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        align(&s(&["a", "b", "c", "d"]), &s(&["a", "x", "c", "d"])),
        [Some(0), None, Some(2), Some(3)]
    );
    assert_eq!(
        align(&s(&["execve", "brk"]), &s(&["clone", "execve", "brk"])),
        [Some(1), Some(2)]
    );
}
