//! The few facts the daemon reads from /proc: does a process exist, what is
//! its thread-group id, which running processes carry a selected name, and
//! how long a thread of its own waited for a CPU.

use std::fs::{self, File};
use std::os::unix::fs::FileExt;

/// How long the thread that opened it has been runnable but not running:
/// waiting for a CPU, or for its cgroup's CPU quota (a throttled task stays
/// queued). The second field of `/proc/thread-self/schedstat` ([`proc_pid_schedstat`](https://github.com/torvalds/linux/blob/v6.12/fs/proc/base.c#L502)),
/// `sched_info.run_delay`, in ns. Kernels without `CONFIG_SCHED_INFO` have
/// no such file: then `open` gives `None`.
pub struct RunDelay(File);

impl RunDelay {
    /// Opens the calling thread's counter (`thread-self` is resolved now:
    /// open it on the thread to be measured).
    pub fn open() -> Option<Self> {
        File::open("/proc/thread-self/schedstat").ok().map(Self)
    }

    /// The wait so far, in ns.
    pub fn ns(&self) -> Option<u64> {
        let mut buf = [0u8; 96];
        let n = self.0.read_at(&mut buf, 0).ok()?;
        run_delay_of(std::str::from_utf8(&buf[..n]).ok()?)
    }
}

/// `run_delay` from a schedstat line: "on-CPU ns, run-queue wait ns,
/// timeslices".
fn run_delay_of(schedstat: &str) -> Option<u64> {
    schedstat.split_ascii_whitespace().nth(1)?.parse().ok()
}

/// The kernel keeps 15 bytes of a task's name (TASK_COMM_LEN - 1).
pub const COMM_LEN: usize = 15;

/// Truncates a name the way the kernel does when it sets `comm` at exec
/// (`__set_task_comm` copies at most TASK_COMM_LEN - 1 bytes).
pub fn kernel_comm(name: &[u8]) -> Vec<u8> {
    name[..name.len().min(COMM_LEN)].to_vec()
}

pub fn process_exists(pid: u32) -> bool {
    // kill(pid, 0): no signal, just the existence/permission check. EPERM
    // still means it exists.
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None) {
        Ok(()) => true,
        Err(e) => e == nix::errno::Errno::EPERM,
    }
}

/// The thread-group id of `pid`, which may be a thread id (`-p TID` traces
/// the whole process, like strace -p does for its process).
pub fn tgid_of(pid: u32) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Running processes whose exec'd name matches one of `names` (already
/// truncated to [`COMM_LEN`]). The name a process was exec'd as is the
/// basename of its executable, truncated; `/proc/PID/comm` of the main
/// thread may have been renamed since (prctl PR_SET_NAME), so either
/// matching counts.
pub fn processes_named(names: &[Vec<u8>]) -> Vec<u32> {
    let me = std::process::id();
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ent in dir.flatten() {
        let Some(pid) = ent.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let comm = fs::read(format!("/proc/{pid}/comm")).unwrap_or_default();
        let comm = comm.strip_suffix(b"\n").unwrap_or(&comm);
        let exe = fs::read_link(format!("/proc/{pid}/exe"))
            .ok()
            .and_then(|p| p.file_name().map(|f| f.as_encoded_bytes().to_vec()))
            .map(|b| kernel_comm(&b))
            .unwrap_or_default();
        if names
            .iter()
            .any(|n| n.as_slice() == comm || (!exe.is_empty() && *n == exe))
        {
            out.push(pid);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_delay_is_the_second_schedstat_field() {
        assert_eq!(
            run_delay_of("279000000 781000000 1532\n"),
            Some(781_000_000)
        );
        assert_eq!(run_delay_of("279000000\n"), None);
        assert_eq!(run_delay_of(""), None);
    }

    #[test]
    fn truncates_like_the_kernel() {
        assert_eq!(kernel_comm(b"short"), b"short");
        assert_eq!(kernel_comm(b"a-very-long-process-name"), b"a-very-long-pro");
        assert_eq!(kernel_comm(b"exactly15chars!"), b"exactly15chars!");
    }

    #[test]
    fn own_process_exists() {
        assert!(process_exists(std::process::id()));
        assert_eq!(tgid_of(std::process::id()), Some(std::process::id()));
    }
}
