//! `recorder watch`: chosen system calls of every process on the machine,
//! each printed with who made it (docs/design.md, "Watch").
//!
//! The kernel side rejects everything not asked for before it builds a
//! record (`recorder-ebpf/src/watch.rs`); what reaches user space is
//! checked once more on the whole path (the kernel only compared the final
//! component), given an identity from /proc ([`who`]), printed (or
//! counted) and written to the log. The volume is what the filters let
//! through, small by design: one thread does it all, synchronously.

use std::{collections::HashMap, io::Write as _, net::IpAddr, path::PathBuf, time::Duration};

use anyhow::{Context as _, bail};
use recorder::{
    cli::WatchArgs,
    decode::{Arch, Formatter, TextOptions},
    event::{CaptureKind, Counters, Event, Filter, Header, Parent, Syscall, Trailer, WhoEvent},
    log::LogWriter,
};
use recorder_common::{NAME_WINDOW, WATCH_NAMES_MAX, WhoRecord, kind, outcome, sock};

use crate::record::{
    self,
    kernel::{Kernel, KernelConfig, WatchFilter, WatchSock, read_counters},
    privileges::Account,
    ring::RecordParser,
    who,
};

/// Bytes captured per path or buffer: whole paths (PATH_MAX).
const CAPTURE_SIZE: u32 = 4096;
/// Processes whose last `Who` event is remembered; past it the memory
/// is emptied and processes are described again.
const LOGGED_WHO_MAX: usize = 65536;
/// `AT_FDCWD`, the same on both architectures.
const AT_FDCWD: i32 = -100;

/// What the arguments ask for, checked before anything is loaded.
struct Plan {
    arch: Arch,
    /// The syscall numbers watched; `None`: every call.
    set: Option<Vec<i64>>,
    /// How the set was chosen, for the log header (`-e` expressions).
    trace: Vec<String>,
    globs: Vec<String>,
    addr: Option<Addr>,
    kernel: WatchFilter,
}

/// The calls with a socket address, and its argument.
const SOCKADDR_ARGS: [(&str, usize); 3] = [("connect", 1), ("bind", 1), ("sendto", 4)];
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// `--addr HOST:PORT`: `None` parts match anything.
#[derive(Debug, Clone, PartialEq)]
struct Addr {
    ip: Option<std::net::IpAddr>,
    port: Option<u16>,
}

impl Addr {
    fn parse(s: &str) -> anyhow::Result<Self> {
        let bad = || format!("--addr {s}: expected HOST:PORT, :PORT, HOST or [IPV6]:PORT");
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, p) = rest.split_once(']').with_context(bad)?;
            let p = p.strip_prefix(':').unwrap_or(p);
            (h, p)
        } else if s.matches(':').count() > 1 {
            (s, "")
        } else {
            s.split_once(':').unwrap_or((s, ""))
        };
        let ip = match host {
            "" | "*" => None,
            h => Some(h.parse().with_context(bad)?),
        };
        let port = match port {
            "" | "*" => None,
            p => Some(p.parse().with_context(bad)?),
        };
        if ip.is_none() && port.is_none() {
            bail!("{}", bad());
        }
        Ok(Addr { ip, port })
    }

    /// What the kernel compares: family and port, and an IPv4 address.
    fn kernel(&self, arch: Arch) -> WatchSock {
        let (mode, family, ip4) = match self.ip {
            Some(IpAddr::V4(a)) => (sock::IP4, AF_INET, u32::from_le_bytes(a.octets())),
            Some(IpAddr::V6(_)) => (sock::PORT, AF_INET6, 0),
            None => (sock::PORT, 0, 0),
        };
        WatchSock {
            mode,
            family,
            port: self.port.map_or(0, |p| u16::from_le_bytes(p.to_be_bytes())),
            ip4,
            args: SOCKADDR_ARGS
                .iter()
                .filter_map(|&(name, i)| {
                    Some((recorder::decode::syscall_nr(arch, name)?, i as u8 + 1))
                })
                .collect(),
        }
    }

    /// Whether a captured sockaddr is this address (the whole of it,
    /// IPv6 included).
    fn matches(&self, b: &[u8]) -> bool {
        if b.len() < 4 {
            return false;
        }
        let family = u16::from_le_bytes([b[0], b[1]]);
        let port = u16::from_be_bytes([b[2], b[3]]);
        let ip = match family {
            AF_INET if b.len() >= 8 => IpAddr::from([b[4], b[5], b[6], b[7]]),
            AF_INET6 if b.len() >= 24 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(&b[8..24]);
                IpAddr::from(a)
            }
            _ => return false,
        };
        self.port.is_none_or(|p| p == port) && self.ip.is_none_or(|a| a == ip)
    }
}

/// Whether the call's socket address (captured) is `--addr`'s.
fn addr_match(plan: &Plan, sc: &Syscall) -> bool {
    let Some(addr) = &plan.addr else {
        return true;
    };
    let name = recorder::decode::syscall_name(plan.arch, sc.nr).unwrap_or("");
    let Some(&(_, arg)) = SOCKADDR_ARGS.iter().find(|(n, _)| *n == name) else {
        return false;
    };
    sc.data
        .iter()
        .find(|c| usize::from(c.arg) == arg && c.kind == CaptureKind::InBuf && !c.read_failed)
        .is_some_and(|c| addr.matches(&c.bytes))
}

pub fn run(args: &WatchArgs) -> anyhow::Result<i32> {
    let plan = Plan::new(args)?;
    if !super::record::has_bpf_privileges() {
        bail!(
            "watching needs root, or the CAP_BPF and CAP_PERFMON capabilities, to load eBPF programs\n  \
             try: sudo {}",
            std::env::args().collect::<Vec<_>>().join(" ")
        );
    }
    let ring_size = super::record::ring_size(args.ring_size)?;
    let mut header =
        record::machine_header(std::env::args().collect(), Filter::default(), ring_size);
    header.capture_size = CAPTURE_SIZE;
    // One timestamp per call, its exit: what lean logs hold.
    header.lean = true;
    // Calls of any process, each described by a `Who` event (revision 5).
    header.watch = true;
    if let Some(set) = &plan.set {
        header.trace = plan.trace.clone();
        header.traced_nrs = set.clone();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(watch(args, plan, header))
}

impl Plan {
    fn new(args: &WatchArgs) -> anyhow::Result<Self> {
        let Some(arch) = Arch::host() else {
            bail!("no syscall table for {}", std::env::consts::ARCH);
        };
        let (mut set, missing) = recorder::read::record_set(&args.trace, arch);
        // Unlike recording, a name this architecture lacks is left out
        // with a note, so that one watch command serves x86_64 and arm64
        // (which has no unlink, open, rename...); a set left empty is an
        // error.
        if !missing.is_empty() {
            if set.as_ref().is_some_and(Vec::is_empty) {
                bail!("-e {}: {arch} has no such syscall", missing.join(","));
            }
            eprintln!(
                "recorder: note: -e: {arch} has no {}: left out",
                missing.join(", ")
            );
        }
        let mut trace: Vec<String> = args.trace.iter().map(ToString::to_string).collect();
        let addr = args.addr.as_deref().map(Addr::parse).transpose()?;
        if set.is_none() && addr.is_some() {
            let nrs: Vec<i64> = SOCKADDR_ARGS
                .iter()
                .filter_map(|(name, _)| recorder::decode::syscall_nr(arch, name))
                .collect();
            trace = vec![names_of(arch, &nrs)];
            set = Some(nrs);
        } else if set.is_none() && !args.paths.is_empty() {
            // Without -e, --path means the calls that take a path.
            let nrs: Vec<i64> = (0..i64::from(recorder_common::CAPTURE_ENTRIES))
                .filter(|&nr| recorder::decode::path_args(arch, nr) != 0)
                .collect();
            trace = vec![names_of(arch, &nrs)];
            set = Some(nrs);
        }
        let mut kernel = WatchFilter {
            outcome: outcome_of(args)?,
            errnos: errnos(&args.errno)?,
            uid: args
                .uid
                .as_deref()
                .map(|u| Account::lookup(u).map(|a| a.uid.as_raw()))
                .transpose()
                .context("--uid")?,
            cgroup: args.cgroup.as_deref().map(cgroup_id).transpose()?,
            sock: addr.as_ref().map(|a| a.kernel(arch)).unwrap_or_default(),
            ..WatchFilter::default()
        };
        if !args.paths.is_empty() {
            kernel.names = kernel_names(&args.paths)?;
            let nrs = set.as_deref().unwrap_or_default();
            kernel.path_args = nrs
                .iter()
                .map(|&nr| (nr, recorder::decode::path_args(arch, nr)))
                .collect();
            warn_pathless(arch, nrs);
        }
        Ok(Plan {
            arch,
            set,
            trace,
            globs: args.paths.clone(),
            addr,
            kernel,
        })
    }
}

/// `-e` names for a set, comma-separated.
fn names_of(arch: Arch, nrs: &[i64]) -> String {
    let names: Vec<&str> = nrs
        .iter()
        .filter_map(|&nr| recorder::decode::syscall_name(arch, nr))
        .collect();
    names.join(",")
}

/// Calls of the set that take no path: --path never matches them.
fn warn_pathless(arch: Arch, nrs: &[i64]) {
    let none: Vec<i64> = nrs
        .iter()
        .copied()
        .filter(|&nr| recorder::decode::path_args(arch, nr) == 0)
        .collect();
    if !none.is_empty() {
        eprintln!(
            "recorder: note: --path never matches {}: no path argument",
            names_of(arch, &none)
        );
    }
}

fn outcome_of(args: &WatchArgs) -> anyhow::Result<u8> {
    Ok(if !args.errno.is_empty() {
        outcome::ERRNO
    } else if args.failed {
        outcome::FAILED
    } else {
        outcome::ANY
    })
}

/// `--errno` names or numbers.
fn errnos(list: &[String]) -> anyhow::Result<Vec<u32>> {
    list.iter()
        .map(|s| {
            let s = s.trim();
            if let Ok(n) = s.parse::<u32>()
                && (1..4096).contains(&n)
            {
                return Ok(n);
            }
            (1..4096u32)
                .find(|&n| {
                    recorder::decode::errno_name(i64::from(n))
                        .is_some_and(|(name, _)| name.eq_ignore_ascii_case(s))
                })
                .with_context(|| format!("--errno {s}: no such error name or number"))
        })
        .collect()
}

/// The cgroup v2 id (the directory's inode number) of `--cgroup`.
fn cgroup_id(p: &std::path::Path) -> anyhow::Result<u64> {
    use std::os::unix::fs::MetadataExt as _;
    let full = if p.is_absolute() {
        p.to_owned()
    } else {
        PathBuf::from("/sys/fs/cgroup").join(p)
    };
    let md = std::fs::metadata(&full).with_context(|| format!("--cgroup {}", full.display()))?;
    if !md.is_dir() {
        bail!("--cgroup {}: not a cgroup directory", full.display());
    }
    Ok(md.ino())
}

/// The final components the kernel compares, or none (no kernel path
/// filter) when one of them has a wildcard: then every call of the set
/// with a path argument goes to user space.
fn kernel_names(globs: &[String]) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut names: Vec<Vec<u8>> = Vec::new();
    for g in globs {
        let last = g.rsplit('/').next().unwrap_or(g);
        if last.is_empty() {
            bail!("--path {g}: ends in '/': give a file name (or '*')");
        }
        if last.contains(['*', '?', '[', '\\']) {
            eprintln!(
                "recorder: note: --path {g}: the final component has a wildcard, so the kernel \
                 cannot filter on it: every call of the set with a path goes to user space"
            );
            return Ok(Vec::new());
        }
        if !names.iter().any(|n| n == last.as_bytes()) {
            names.push(last.as_bytes().to_vec());
        }
    }
    if names.len() > WATCH_NAMES_MAX as usize {
        bail!(
            "--path: at most {WATCH_NAMES_MAX} different final components (got {})",
            names.len()
        );
    }
    if let Some(n) = names.iter().find(|n| n.len() >= NAME_WINDOW) {
        eprintln!(
            "recorder: note: --path: {} is longer than {} bytes: the kernel compares its end only",
            String::from_utf8_lossy(n),
            NAME_WINDOW - 1
        );
    }
    Ok(names)
}

/// Whether `path` matches the shell pattern `glob` (fnmatch(3) without
/// flags: `*` also matches '/').
fn glob_match(glob: &str, path: &str) -> bool {
    let (Ok(g), Ok(p)) = (std::ffi::CString::new(glob), std::ffi::CString::new(path)) else {
        return false;
    };
    // SAFETY: two NUL-terminated strings; fnmatch only reads them.
    unsafe { libc::fnmatch(g.as_ptr(), p.as_ptr(), 0) == 0 }
}

/// How a call's path matched `--path`.
#[derive(Debug, Clone, PartialEq)]
enum PathMatch {
    /// No --path.
    Any,
    /// The whole path (resolved where relative) matched.
    Full(String),
    /// Only the final component could be compared: the directory of a
    /// relative path was not readable (the process or its fd is gone).
    ByName(String),
    No,
}

/// Checks a call's captured path arguments against the globs.
/// `cwd`: the process's working directory as read earlier, for when it
/// is gone now.
fn path_match(plan: &Plan, sc: &Syscall, cwd: Option<&str>) -> PathMatch {
    if plan.globs.is_empty() {
        return PathMatch::Any;
    }
    let mut verdict = PathMatch::No;
    for (arg, dir) in recorder::decode::path_arg_dirs(plan.arch, sc.nr) {
        let Some(c) = sc
            .data
            .iter()
            .find(|c| usize::from(c.arg) == arg && c.kind == CaptureKind::Str && !c.read_failed)
        else {
            continue;
        };
        let path = String::from_utf8_lossy(&c.bytes).into_owned();
        match resolve(sc.tgid, &path, dir.map(|d| sc.args[d] as i32), cwd) {
            Some(full) if plan.globs.iter().any(|g| glob_match(g, &full)) => {
                return PathMatch::Full(full);
            }
            Some(_) => {}
            None if name_matches(&plan.globs, &path) => verdict = PathMatch::ByName(path),
            None => {}
        }
    }
    verdict
}

/// The final component of `path` matches the final component of a glob.
fn name_matches(globs: &[String], path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    globs
        .iter()
        .any(|g| glob_match(g.rsplit('/').next().unwrap_or(g), name))
}

/// The absolute form of a path argument: as given, or joined to the
/// directory its dirfd (or the cwd) names now, from /proc, or for the cwd
/// of a process that is gone, `cwd` as read earlier. `None` when that is
/// unreadable.
fn resolve(tgid: u32, path: &str, dirfd: Option<i32>, cwd: Option<&str>) -> Option<String> {
    if path.starts_with('/') {
        return Some(path.to_owned());
    }
    let dir = match dirfd {
        Some(fd) if fd != AT_FDCWD => std::fs::read_link(format!("/proc/{tgid}/fd/{fd}")).ok()?,
        _ => std::fs::read_link(format!("/proc/{tgid}/cwd"))
            .ok()
            .or_else(|| cwd.map(PathBuf::from))?,
    };
    Some(dir.join(path).to_string_lossy().into_owned())
}

/// The watch in progress.
struct Watch<'a> {
    plan: Plan,
    args: &'a WatchArgs,
    parser: RecordParser,
    fmt: Formatter,
    /// The kernel's word on who made the next call of each thread.
    who: HashMap<u32, WhoRecord>,
    ids: who::Cache,
    cgroups: HashMap<u64, Option<String>>,
    log: Option<LogWriter<std::fs::File>>,
    /// The last `Who` event written to the log for each process (with
    /// `ts_ns` 0): a new one is written when what it says changes.
    logged_who: HashMap<u32, WhoEvent>,
    /// The kernel's notes of processes' forks and execs.
    procs: Option<aya::maps::HashMap<aya::maps::MapData, u32, recorder_common::ProcInfo>>,
    /// `--count`: calls per process.
    table: HashMap<(u32, String), Row>,
    matched: u64,
    /// Passed the kernel's name filter, not the whole path.
    rejected: u64,
    out: std::io::BufWriter<std::io::Stdout>,
}

/// One process of the `--count` table.
#[derive(Default)]
struct Row {
    calls: u64,
    failed: u64,
    uid: u32,
    exe: String,
    unit: String,
    parent: String,
}

async fn watch(args: &WatchArgs, plan: Plan, header: Header) -> anyhow::Result<i32> {
    let kcfg = KernelConfig {
        ring_size: header.ring_size,
        follow_forks: false,
        comms: Vec::new(),
        max_threads: 1,
        // The watch program keeps no stash: one slot, not 2.75 MiB.
        stash_slots: Some(1),
        wakeup_bytes: 0,
        pause_bytes: 0,
        capture_size: CAPTURE_SIZE,
        bench_floor: None,
        lean: false,
        trace_set: plan.set.clone(),
        watch: Some(plan.kernel.clone()),
    };
    let log = match &args.output {
        Some(p) => {
            let f = record::writer::create_file(p)?;
            Some(LogWriter::new(f, &header, record::writer::ZSTD_LEVEL)?)
        }
        None => None,
    };
    let (mut kernel, outputs) = Kernel::load(&kcfg)?;
    kernel.attach()?;
    let mut fmt = Formatter::new(&header)?;
    fmt.text_options(&TextOptions {
        string_limit: args.string_limit,
        wall_clock: true,
        durations: false,
        decode_fds: false,
        escapes: recorder::decode::StringEscapes::Octal,
        verbose: false,
    });
    fmt.show_tid = recorder::decode::ShowTid::Never;
    let mut w = Watch {
        plan,
        args,
        parser: RecordParser::default(),
        fmt,
        who: HashMap::new(),
        ids: who::Cache::default(),
        cgroups: HashMap::new(),
        log,
        logged_who: HashMap::new(),
        procs: outputs.procs,
        table: HashMap::new(),
        matched: 0,
        rejected: 0,
        out: std::io::BufWriter::new(std::io::stdout()),
    };
    eprintln!("recorder: watching every process (Ctrl-C to stop)");
    // SAFETY: the ring owns its fd and keeps it open for as long as the
    // AsyncFd that owns the ring exists.
    let mut ring = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(
            outputs.ring,
            tokio::io::Interest::READABLE,
        )
    }
    .context("polling the ring buffer")?;
    let res = w.run(&mut ring).await;
    kernel.detach();
    w.drain(ring.get_mut())?;
    res?;
    let counters = read_counters(&outputs.counters)?;
    w.finish(counters)
}

impl Watch<'_> {
    async fn run(
        &mut self,
        ring: &mut tokio::io::unix::AsyncFd<aya::maps::RingBuf<aya::maps::MapData>>,
    ) -> anyhow::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let stop = async {
            match self.args.for_secs {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut secs = 0u64;
        loop {
            tokio::select! {
                _ = int.recv() => return Ok(()),
                _ = term.recv() => return Ok(()),
                () = &mut stop => return Ok(()),
                g = ring.readable_mut() => {
                    let mut g = g.context("polling the ring buffer")?;
                    self.drain(g.get_inner_mut())?;
                    g.clear_ready();
                }
                _ = tick.tick() => {
                    secs += 1;
                    self.out.flush()?;
                    if let Some(l) = self.log.as_mut() {
                        l.flush_block()?;
                    }
                    if let Some(n) = self.args.count.filter(|&n| n > 0)
                        && secs.is_multiple_of(n)
                    {
                        self.print_table()?;
                    }
                }
            }
        }
    }

    fn drain(&mut self, ring: &mut aya::maps::RingBuf<aya::maps::MapData>) -> anyhow::Result<()> {
        while let Some(item) = ring.next() {
            let bytes: Vec<u8> = item.to_vec();
            drop(item);
            self.on_record(&bytes)?;
        }
        self.out.flush()?;
        Ok(())
    }

    fn on_record(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        if bytes.first() == Some(&kind::WHO) && bytes.len() >= size_of::<WhoRecord>() {
            // SAFETY: length checked; WhoRecord is plain integers.
            let r: WhoRecord = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) };
            self.who.insert(r.tid, r);
            return Ok(());
        }
        let Some(Event::Syscall(sc)) = self.parser.parse(bytes) else {
            return Ok(());
        };
        let kwho = self.who.remove(&sc.tid);
        // Read before the path is resolved: its cwd, if the process is
        // gone by the time the path is.
        let procs = self.procs.as_ref();
        let comm = kwho.map_or_else(String::new, |w| comm_str(&w.comm));
        let id = self.ids.get(sc.tgid, &comm, &|pid| seen(procs, pid));
        let m = path_match(&self.plan, &sc, id.as_ref().and_then(|i| i.cwd.as_deref()));
        if m == PathMatch::No || !addr_match(&self.plan, &sc) {
            self.rejected += 1;
            return Ok(());
        }
        self.matched += 1;
        let cgroup = self.cgroup_of(kwho.as_ref(), id.as_ref());
        if self.log.is_some() {
            let who = who_event(&sc, kwho.as_ref(), id.as_ref(), cgroup.as_deref());
            self.log_call(who, sc.clone())?;
        }
        if self.args.count.is_some() {
            self.tally(&sc, kwho.as_ref(), id.as_ref(), cgroup.as_deref());
            return Ok(());
        }
        self.print(&sc, kwho.as_ref(), id.as_ref(), cgroup.as_deref(), &m)
    }

    /// Writes the call to the log, after who made it when the log has not
    /// said so yet (its first call, or it changed: an exec, a pid reused).
    fn log_call(&mut self, who: WhoEvent, sc: Syscall) -> anyhow::Result<()> {
        let Some(l) = self.log.as_mut() else {
            return Ok(());
        };
        let key = WhoEvent {
            ts_ns: 0,
            tid: 0,
            ..who.clone()
        };
        if self.logged_who.get(&sc.tgid) != Some(&key) {
            l.append(&Event::Who(who))?;
            if self.logged_who.len() >= LOGGED_WHO_MAX {
                // Bounded: a process forgotten here is described again.
                self.logged_who.clear();
            }
            self.logged_who.insert(sc.tgid, key);
        }
        l.append(&Event::Syscall(sc))?;
        Ok(())
    }

    /// The call's line (as `recorder dump` prints it), then who made it.
    fn print(
        &mut self,
        sc: &Syscall,
        kwho: Option<&WhoRecord>,
        id: Option<&who::Identity>,
        cgroup: Option<&str>,
        m: &PathMatch,
    ) -> anyhow::Result<()> {
        let ev = Event::Syscall(sc.clone());
        let line = self.fmt.render_text(&ev).to_vec();
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches('\n');
        let tid = if sc.tid != sc.tgid {
            format!("/{}", sc.tid)
        } else {
            String::new()
        };
        let comm = kwho.map_or_else(|| "?".into(), |w| comm_str(&w.comm));
        let (ts, call) = line.split_once(' ').unwrap_or(("", line));
        writeln!(self.out, "{ts} pid {}{tid} ({comm}) {call}", sc.tgid)?;
        // The path as resolved, for a relative one; or why it was not.
        let by_name = match m {
            PathMatch::ByName(_) => "  [matched by name: directory unknown]".to_owned(),
            PathMatch::Full(p) if !line.contains(&format!("\"{p}\"")) => format!("  [path {p}]"),
            _ => String::new(),
        };
        // The same words as the log's `Who` event, which `dump` prints.
        let who = who_event(sc, kwho, id, cgroup).text();
        writeln!(self.out, "    {who}{by_name}")?;
        Ok(())
    }

    /// The cgroup path: from /proc, or for a process that is gone from the
    /// kernel's cgroup id.
    fn cgroup_of(
        &mut self,
        kwho: Option<&WhoRecord>,
        id: Option<&who::Identity>,
    ) -> Option<String> {
        if let Some(c) = id.and_then(|i| i.cgroup.clone()) {
            return Some(c);
        }
        let cg = kwho?.cgroup;
        self.cgroups
            .entry(cg)
            .or_insert_with(|| who::cgroup_path_of_id(cg))
            .clone()
    }

    fn tally(
        &mut self,
        sc: &Syscall,
        kwho: Option<&WhoRecord>,
        id: Option<&who::Identity>,
        cgroup: Option<&str>,
    ) {
        let comm = kwho.map_or_else(|| "?".into(), |w| comm_str(&w.comm));
        let row = self.table.entry((sc.tgid, comm)).or_default();
        row.calls += 1;
        if sc.ret.is_some_and(|r| (-4095..0).contains(&r)) {
            row.failed += 1;
        }
        if let Some(w) = kwho {
            row.uid = w.uid;
        }
        if let Some(id) = id {
            row.exe = id.exe.clone().unwrap_or_default();
            row.parent = id
                .parents
                .first()
                .map(|(p, c)| format!("{p} ({c})"))
                .unwrap_or_default();
        } else if row.exe.is_empty() {
            row.exe = "(gone)".into();
        }
        if let Some(u) = cgroup {
            row.unit = who::unit_of(u).unwrap_or(u).to_owned();
        }
    }

    fn print_table(&mut self) -> anyhow::Result<()> {
        let mut rows: Vec<(&(u32, String), &Row)> = self.table.iter().collect();
        rows.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then(a.0.cmp(b.0)));
        let o = &mut self.out;
        writeln!(
            o,
            "{:>8} {:>7} {:>8} {:<16} {:>6} {:<22} {:<18} EXE",
            "CALLS", "FAILED", "PID", "COMM", "UID", "UNIT", "PARENT"
        )?;
        for ((pid, comm), r) in rows {
            writeln!(
                o,
                "{:>8} {:>7} {:>8} {:<16} {:>6} {:<22} {:<18} {}",
                r.calls, r.failed, pid, comm, r.uid, r.unit, r.parent, r.exe
            )?;
        }
        writeln!(o)?;
        o.flush()?;
        Ok(())
    }

    /// Writes the counters and the trailer, prints the summary.
    fn finish(mut self, mut counters: Counters) -> anyhow::Result<i32> {
        if self.args.count.is_some() {
            self.print_table()?;
        }
        self.out.flush()?;
        counters.written = self.matched;
        if let Some(mut l) = self.log.take() {
            l.append(&Event::Counters(counters.clone()))?;
            let (wall, mono) = record::now_ns();
            l.finish(&Trailer {
                end_wall_ns: wall,
                end_mono_ns: mono,
                counters: counters.clone(),
            })?;
        }
        let mut s = format!("recorder: {} calls matched", self.matched);
        if self.rejected > 0 {
            s += &format!(
                " ({} more {})",
                self.rejected,
                if self.plan.globs.is_empty() {
                    "had a matching family and port but not a matching address"
                } else {
                    "had a matching name but not a matching path"
                }
            );
        }
        match counters.loss_text() {
            Some(loss) => {
                s += &format!(
                    "; {loss}: calls were dropped, not delayed (a watch never pauses processes)"
                )
            }
            None => s += "; nothing lost",
        }
        if counters.read_failed > 0 {
            s += &format!(
                "; {} path reads failed in the kernel (those calls could not be compared)",
                counters.read_failed
            );
        }
        eprintln!("{s}");
        Ok(0)
    }
}

/// What the kernel saw of `pid` at its fork and exec.
fn seen(
    procs: Option<&aya::maps::HashMap<aya::maps::MapData, u32, recorder_common::ProcInfo>>,
    pid: u32,
) -> Option<who::Seen> {
    let p = procs?.get(&pid, 0).ok()?;
    let exe = comm_str(&p.exe);
    Some(who::Seen {
        ppid: p.ppid,
        comm: comm_str(&p.comm),
        exe: (!exe.is_empty()).then_some(exe),
    })
}

/// The log's record of who made `sc`: what the live line says.
fn who_event(
    sc: &Syscall,
    kwho: Option<&WhoRecord>,
    id: Option<&who::Identity>,
    cgroup: Option<&str>,
) -> WhoEvent {
    let source = match id {
        None => WhoEvent::GONE,
        Some(i) if i.from_kernel => WhoEvent::KERNEL,
        Some(i) if i.exiting => WhoEvent::EXITING,
        Some(_) => WhoEvent::PROC,
    };
    WhoEvent {
        tgid: sc.tgid,
        tid: sc.tid,
        ts_ns: sc.enter_ns,
        comm: kwho.map_or_else(String::new, |w| comm_str(&w.comm)),
        uid: kwho.map_or(WhoEvent::NO_ID, |w| w.uid),
        gid: kwho.map_or(WhoEvent::NO_ID, |w| w.gid),
        exe: id.and_then(|i| i.exe.clone()).unwrap_or_default(),
        source,
        cgroup: cgroup.unwrap_or_default().to_owned(),
        cgroup_id: kwho.map_or(0, |w| w.cgroup),
        parents: id.map_or_else(Vec::new, |i| {
            i.parents
                .iter()
                .map(|(pid, comm)| Parent {
                    pid: *pid,
                    comm: comm.clone(),
                })
                .collect()
        }),
    }
}

fn comm_str(c: &[u8]) -> String {
    let n = c.iter().position(|&b| b == 0).unwrap_or(c.len());
    String::from_utf8_lossy(&c[..n]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_paths_and_names() {
        assert!(glob_match("*/doomed-file", "/tmp/a/b/doomed-file"));
        assert!(!glob_match("*/doomed-file", "/tmp/a/doomed-file2"));
        assert!(glob_match("/etc/*.conf", "/etc/app.conf"));
        assert!(name_matches(&["*/doomed-file".into()], "doomed-file"));
        assert!(!name_matches(&["*/doomed-file".into()], "x/other"));
    }

    #[test]
    fn kernel_names_are_final_components_without_wildcards() {
        let n = kernel_names(&["*/doomed-file".into(), "/etc/passwd".into()]).unwrap();
        assert_eq!(n, vec![b"doomed-file".to_vec(), b"passwd".to_vec()]);
        assert!(kernel_names(&["/etc/*.conf".into()]).unwrap().is_empty());
        assert!(kernel_names(&["/etc/".into()]).is_err());
    }

    #[test]
    fn addresses_parse_and_match_sockaddrs() {
        let a = Addr::parse("127.0.0.1:8080").unwrap();
        let mut sin = vec![2, 0, 0x1f, 0x90, 127, 0, 0, 1];
        sin.extend([0; 8]);
        assert!(a.matches(&sin));
        assert!(Addr::parse(":8080").unwrap().matches(&sin));
        assert!(Addr::parse("127.0.0.1").unwrap().matches(&sin));
        assert!(!Addr::parse("127.0.0.2:8080").unwrap().matches(&sin));
        assert!(!Addr::parse(":8081").unwrap().matches(&sin));
        let mut sin6 = vec![10, 0, 0, 53, 0, 0, 0, 0];
        sin6.extend(std::net::Ipv6Addr::LOCALHOST.octets());
        sin6.extend([0; 4]);
        assert!(Addr::parse("[::1]:53").unwrap().matches(&sin6));
        assert!(Addr::parse("::1").unwrap().matches(&sin6));
        assert!(!Addr::parse("[::2]:53").unwrap().matches(&sin6));
        assert!(Addr::parse(":").is_err());
        assert!(Addr::parse("host:80").is_err());
        // The kernel's words: the port as the sockaddr holds it.
        let k = a.kernel(Arch::host().unwrap());
        assert_eq!(k.port, u16::from_le_bytes([0x1f, 0x90]));
        assert_eq!(k.ip4, u32::from_le_bytes([127, 0, 0, 1]));
        assert_eq!(k.mode, sock::IP4);
        assert_eq!(k.args.len(), 3);
    }

    #[test]
    fn errno_names_and_numbers() {
        assert_eq!(
            errnos(&["EACCES".into(), "eperm".into(), "2".into()]).unwrap(),
            vec![13, 1, 2]
        );
        assert!(errnos(&["ENOTANERROR".into()]).is_err());
    }
}
