//! Who made a watched call (`recorder watch`): the executable, the parent
//! chain and the systemd unit of a process, read from /proc when its
//! record arrives, best effort.
//!
//! The kernel sends what it knows for sure at the call (uid, gid, comm,
//! cgroup id: [`recorder_common::WhoRecord`]); the rest can only be read
//! afterwards, and a short-lived process may be gone by then. A pid can
//! also be reused: the cache is keyed by pid and checked against the
//! process's start time, and an entry whose process is gone says so
//! rather than describe another process.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Parent chains stop after this many ancestors (a loop guard: /proc is
/// read while processes come and go).
const MAX_DEPTH: usize = 32;
/// Cached processes: the cache is emptied when it reaches this size.
const CACHE_MAX: usize = 4096;

/// What /proc said about a process.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    /// `/proc/PID/exe`; `None` if unreadable (kernel thread, gone).
    pub exe: Option<String>,
    /// Parents from the nearest up: (pid, comm).
    pub parents: Vec<(u32, String)>,
    /// The cgroup v2 path (`/system.slice/cron.service`).
    pub cgroup: Option<String>,
    /// The working directory when first read: resolves a relative path of
    /// a later call once the process is gone.
    pub cwd: Option<String>,
    /// The process had exited (a zombie): no exe, no cwd any more.
    pub exiting: bool,
    /// Gone from /proc: what is here is what the kernel saw at its fork
    /// and exec ([`Seen`]).
    pub from_kernel: bool,
}

/// What the kernel saw of a process at its fork and exec, while the watch
/// ran (`recorder_common::ProcInfo`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seen {
    /// 0: its fork was not seen.
    pub ppid: u32,
    pub comm: String,
    /// The path its exec was given.
    pub exe: Option<String>,
}

/// The last component of a cgroup path that names a systemd unit.
pub fn unit_of(cgroup: &str) -> Option<&str> {
    cgroup
        .rsplit('/')
        .find(|c| c.ends_with(".service") || c.ends_with(".scope"))
}

/// How long a cached identity is used without looking at /proc again: a
/// process making many matching calls costs one /proc read per second,
/// not one per call. Within it, a pid reused by a new process would be
/// shown as the old one; the kernel's comm on each line still is the
/// caller's own.
const TRUST: Duration = Duration::from_secs(1);

/// Per-pid identities, read once per process (by start time).
#[derive(Default)]
pub struct Cache {
    by_pid: HashMap<u32, Entry>,
}

struct Entry {
    start: u64,
    checked: Instant,
    /// The kernel's comm when it was read.
    comm: String,
    id: Identity,
}

impl Cache {
    /// The identity of process `pid`: from /proc, or where it is gone
    /// from what `seen` knows; `None` if neither knows it.
    /// `comm`: the caller's comm as the kernel gave it with the call; an
    /// entry cached under another comm is read again (the process exec'd).
    pub fn get(
        &mut self,
        pid: u32,
        comm: &str,
        seen: &dyn Fn(u32) -> Option<Seen>,
    ) -> Option<Identity> {
        if let Some(e) = self.by_pid.get(&pid)
            && e.checked.elapsed() < TRUST
            && e.comm == comm
        {
            return Some(e.id.clone());
        }
        let Some((start, _)) = stat(pid) else {
            return from_kernel(pid, seen);
        };
        if let Some(e) = self.by_pid.get_mut(&pid)
            && e.start == start
            && e.comm == comm
        {
            e.checked = Instant::now();
            return Some(e.id.clone());
        }
        let mut id = read(pid, seen)?;
        if id.exe.is_none()
            && let Some(k) = seen(pid)
        {
            // Exiting: /proc no longer names its program.
            id.exe = k.exe;
        }
        if self.by_pid.len() >= CACHE_MAX {
            self.by_pid.clear();
        }
        let checked = Instant::now();
        let entry = Entry {
            start,
            checked,
            comm: comm.to_owned(),
            id: id.clone(),
        };
        self.by_pid.insert(pid, entry);
        Some(id)
    }
}

/// A process gone from /proc, as the kernel saw it.
fn from_kernel(pid: u32, seen: &dyn Fn(u32) -> Option<Seen>) -> Option<Identity> {
    let k = seen(pid)?;
    Some(Identity {
        exe: k.exe,
        parents: parents(k.ppid, seen),
        from_kernel: true,
        ..Identity::default()
    })
}

/// The chain from `ppid` up to init: from /proc, and for a parent that is
/// gone too, from what the kernel saw.
fn parents(mut ppid: u32, seen: &dyn Fn(u32) -> Option<Seen>) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    while ppid != 0 && out.len() < MAX_DEPTH {
        let k = || seen(ppid);
        let name = comm(ppid)
            .or_else(|| k().map(|k| k.comm))
            .unwrap_or_else(|| "?".into());
        out.push((ppid, name));
        if ppid == 1 {
            break;
        }
        ppid = match stat(ppid) {
            Some((_, p)) => p,
            None => match k() {
                Some(k) => k.ppid,
                None => break,
            },
        };
    }
    out
}

/// Reads the identity of `pid` from /proc; `None` if it is gone.
fn read(pid: u32, seen: &dyn Fn(u32) -> Option<Seen>) -> Option<Identity> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, ppid) = parse_stat(&s)?;
    let link = |what: &str| {
        std::fs::read_link(format!("/proc/{pid}/{what}"))
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    };
    let exe = link("exe");
    let cwd = link("cwd");
    let exiting = state(&s) == Some('Z');
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .ok()
        .and_then(|s| cgroup_v2(&s).map(str::to_owned));
    Some(Identity {
        exe,
        parents: parents(ppid, seen),
        cgroup,
        cwd,
        exiting,
        from_kernel: false,
    })
}

/// The cgroup v2 line of /proc/PID/cgroup (`0::/path`).
fn cgroup_v2(s: &str) -> Option<&str> {
    s.lines().find_map(|l| l.strip_prefix("0::"))
}

fn comm(pid: u32) -> Option<String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(s.trim_end_matches('\n').to_owned())
}

/// (start time, parent pid) from /proc/PID/stat.
fn stat(pid: u32) -> Option<(u64, u32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&s)
}

/// The state letter (field 3) of /proc/PID/stat.
fn state(s: &str) -> Option<char> {
    s[s.rfind(')')? + 1..].trim_start().chars().next()
}

/// The comm (field 2) may hold spaces and parentheses: the fields after
/// it start after the last ')'. ppid is field 4, starttime field 22.
fn parse_stat(s: &str) -> Option<(u64, u32)> {
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ppid = f.get(1)?.parse().ok()?;
    let start = f.get(19)?.parse().ok()?;
    Some((start, ppid))
}

/// The cgroup v2 path of the cgroup whose id (directory inode) is `id`,
/// searched under /sys/fs/cgroup: for a process that is gone. Cached by
/// the caller.
pub fn cgroup_path_of_id(id: u64) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    const ROOT: &str = "/sys/fs/cgroup";
    let mut dirs = vec![std::path::PathBuf::from(ROOT)];
    while let Some(d) = dirs.pop() {
        let Ok(md) = std::fs::metadata(&d) else {
            continue;
        };
        if md.ino() == id {
            let rel = d.strip_prefix(ROOT).ok()?.to_string_lossy().into_owned();
            return Some(format!("/{rel}"));
        }
        if let Ok(rd) = std::fs::read_dir(&d) {
            dirs.extend(
                rd.flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_a_comm_with_parentheses() {
        let s = "42 (a) b (c)) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 1 2";
        assert_eq!(parse_stat(s), Some((12345, 7)));
        assert_eq!(state(s), Some('S'));
    }

    #[test]
    fn a_process_gone_from_proc_is_described_by_what_the_kernel_saw() {
        // Pids above pid_max's limit never exist.
        let (gone, parent) = (5_000_000, 5_000_001);
        let seen = |p: u32| match p {
            5_000_000 => Some(Seen {
                ppid: parent,
                comm: "rm".into(),
                exe: Some("/usr/bin/rm".into()),
            }),
            5_000_001 => Some(Seen {
                ppid: 1,
                comm: "sh".into(),
                exe: None,
            }),
            _ => None,
        };
        let id = Cache::default().get(gone, "rm", &seen).expect("known");
        assert!(id.from_kernel);
        assert_eq!(id.exe.as_deref(), Some("/usr/bin/rm"));
        assert_eq!(id.parents[0], (parent, "sh".to_owned()));
        assert_eq!(id.parents[1].0, 1);
        assert!(Cache::default().get(gone, "rm", &|_| None).is_none());
    }

    #[test]
    fn units_and_cgroup_lines() {
        assert_eq!(unit_of("/system.slice/cron.service"), Some("cron.service"));
        assert_eq!(
            unit_of("/user.slice/user-0.slice/session-3.scope/x"),
            Some("session-3.scope")
        );
        assert_eq!(unit_of("/"), None);
        assert_eq!(
            cgroup_v2("1:name=x:/a\n0::/b.service\n"),
            Some("/b.service")
        );
    }

    #[test]
    fn this_process_has_parents_up_to_init() {
        let id = Cache::default()
            .get(std::process::id(), "", &|_| None)
            .expect("self");
        assert!(id.exe.is_some());
        assert!(!id.parents.is_empty());
    }
}
