//! What replay does with each system call: one table, by syscall name, so
//! both architectures share it and a call class is changed in one place.
//! docs/design.md "Replay" prints the same table for people.

/// How the supervisor answers one class of calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Memory, thread, signal setup and process lifetime: the call runs for
    /// real (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`). A call that failed in the
    /// recording still fails with the recorded errno.
    Live,
    /// Not even sent to the supervisor (the seccomp filter allows it):
    /// futex and friends, whose order between threads is user-space
    /// business and whose waits must stay live. Skipped in the log.
    Unwatched,
    /// Opens: the program's own files (under the host paths) are opened
    /// for real; anything else gets a `/dev/null` placeholder installed at
    /// the recorded fd number (`SECCOMP_IOCTL_NOTIF_ADDFD`), so later calls
    /// find a real descriptor, while their data comes from the log.
    Open,
    /// Calls on a descriptor (read, pread64, readv, fstat, lseek...): live
    /// on the program's own files, emulated from the log on everything else
    /// (sockets, pipes, ttys, /dev, /proc, /sys, data files).
    FdInput,
    /// Calls on a path (stat, access, readlink...): live under the host
    /// paths, emulated elsewhere.
    PathInput,
    /// Writes and sends: not performed; the bytes the program passes are
    /// compared with the recorded ones and the recorded result returned.
    Output,
    /// kill, tkill, tgkill: sent by the supervisor, with the recorded
    /// process and thread ids the program learnt from `getpid` translated
    /// to the live ones.
    Signal,
    /// Everything else: the recorded outputs are written into the program
    /// and the recorded result returned (getrandom, uname, ids, time
    /// syscalls, connect/accept/recv, file-system changes, sleeps).
    Emulate,
}

/// The calls that are not [`Class::Emulate`], by class.
const TABLE: &[(Class, &[&str])] = &[
    (
        Class::Live,
        &[
            // memory
            "brk",
            "mmap",
            "munmap",
            "mprotect",
            "madvise",
            "mremap",
            "msync",
            "mlock",
            "mlock2",
            "munlock",
            "mlockall",
            "munlockall",
            "membarrier",
            "pkey_alloc",
            "pkey_free",
            "pkey_mprotect",
            "set_mempolicy",
            "get_mempolicy",
            "mbind",
            "mseal",
            // processes and threads
            "execve",
            "execveat",
            "clone",
            "clone3",
            "fork",
            "vfork",
            "exit",
            "exit_group",
            "wait4",
            "waitid",
            "set_tid_address",
            "set_robust_list",
            "get_robust_list",
            "rseq",
            "arch_prctl",
            "prctl",
            "setpgid",
            "setsid",
            "getpgid",
            "getsid",
            "prlimit64",
            "getrlimit",
            "setrlimit",
            "sched_getaffinity",
            "sched_setaffinity",
            "pidfd_open",
            // signal setup
            "rt_sigaction",
            "rt_sigprocmask",
            "sigaltstack",
            "rt_sigsuspend",
            "rt_sigpending",
            "rt_sigtimedwait",
            // descriptors the program makes and manages itself
            "close",
            "close_range",
            "dup",
            "dup2",
            "dup3",
            "fcntl",
            "pipe",
            "pipe2",
            "socket",
            "socketpair",
            "eventfd",
            "eventfd2",
            "epoll_create",
            "epoll_create1",
            "memfd_create",
            "timerfd_create",
            "signalfd",
            "signalfd4",
            "inotify_init",
            "inotify_init1",
            "umask",
        ],
    ),
    (
        Class::Unwatched,
        &[
            "futex",
            "futex_waitv",
            "rt_sigreturn",
            "restart_syscall",
            "sched_yield",
        ],
    ),
    (Class::Open, &["open", "openat", "openat2", "creat"]),
    (
        Class::FdInput,
        &[
            "read",
            "pread64",
            "readv",
            "preadv",
            "preadv2",
            "lseek",
            "fstat",
            "fstatfs",
            "fadvise64",
            "getdents64",
        ],
    ),
    (
        Class::PathInput,
        &[
            "stat",
            "lstat",
            "newfstatat",
            "statx",
            "access",
            "faccessat",
            "faccessat2",
            "readlink",
            "readlinkat",
            "statfs",
        ],
    ),
    (
        Class::Output,
        &[
            "write", "pwrite64", "writev", "pwritev", "pwritev2", "sendto", "sendmsg",
        ],
    ),
    (Class::Signal, &["kill", "tkill", "tgkill"]),
];

/// The class of syscall `name` (calls the table does not list are
/// emulated: not performed, their recorded result returned).
pub fn class_of(name: &str) -> Class {
    TABLE
        .iter()
        .find(|(_, names)| names.contains(&name))
        .map_or(Class::Emulate, |(c, _)| *c)
}

/// Every call the table names with its class, for the docs and tests.
pub fn table() -> impl Iterator<Item = (Class, &'static str)> {
    TABLE
        .iter()
        .flat_map(|(c, names)| names.iter().map(move |n| (*c, *n)))
}

/// Calls that write results into the program's memory that today's logs
/// do not capture: emulating one that succeeded would leave its outputs
/// unwritten. Stage 1 of issue 21 captures these; when a log holds them,
/// [`crate::replay::plan::blockers`] stops listing them (it checks the
/// items, not this list, for every call the capture plan covers).
pub const OUTPUTS_NOT_CAPTURED: &[&str] = &[
    "ioctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "getdents64",
    "getdents",
    "recvmmsg",
    "timerfd_gettime",
    "capget",
    "io_getevents",
    "io_pgetevents",
    "io_uring_enter",
    "getgroups",
];

/// Calls compared by name only: their arguments are process or thread
/// ids, or addresses and lengths that follow the memory layout (glibc's
/// arenas trim by the alignment of an address), which differ between the
/// recording and the replay.
pub const NAME_ONLY: &[&str] = &[
    "brk",
    "mmap",
    "munmap",
    "mprotect",
    "madvise",
    "mremap",
    "msync",
    "mlock",
    "munlock",
    "wait4",
    "waitid",
    "kill",
    "tkill",
    "tgkill",
    "pidfd_open",
    "setpgid",
    "getpgid",
    "getsid",
    "prlimit64",
    "sched_getaffinity",
    "sched_setaffinity",
    "getpriority",
    "setpriority",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "execve",
    "execveat",
];

/// Calls whose number follows the memory layout, so the replay may make
/// fewer or more of them than the recording (glibc trims a new malloc
/// arena with zero, one or two munmaps depending on where the kernel put
/// its mapping): not a divergence.
pub const LAYOUT_SLACK: &[&str] = &["munmap"];

/// Directories (and files) holding the program's own code by default: the
/// dynamic loader's cache and the system's library and binary directories;
/// and `/proc/self`, which describes the replayed process itself (its
/// memory map differs from the recorded one, so the recorded bytes would
/// mislead it).
/// `recorder replay --host-path` adds more; the replayed binary's own
/// directory is always added.
pub const DEFAULT_HOST_PATHS: &[&str] = &[
    "/usr/lib",
    "/usr/lib64",
    "/usr/libexec",
    "/usr/bin",
    "/usr/sbin",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/sbin",
    "/etc/ld.so.cache",
    "/proc/self",
    "/proc/thread-self",
];

/// Whether `path` is `dir` or below it.
pub fn under(path: &[u8], dir: &[u8]) -> bool {
    path.starts_with(dir)
        && (path.len() == dir.len() || path[dir.len()] == b'/' || dir.ends_with(b"/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_one_class() {
        let mut seen = std::collections::HashSet::new();
        for (_, n) in table() {
            assert!(seen.insert(n), "{n} is listed twice");
        }
    }

    #[test]
    fn classes_of_the_calls_the_issue_names() {
        assert_eq!(class_of("getrandom"), Class::Emulate);
        assert_eq!(class_of("uname"), Class::Emulate);
        assert_eq!(class_of("read"), Class::FdInput);
        assert_eq!(class_of("write"), Class::Output);
        assert_eq!(class_of("mmap"), Class::Live);
        assert_eq!(class_of("futex"), Class::Unwatched);
        assert_eq!(class_of("openat"), Class::Open);
    }

    #[test]
    fn under_means_below_a_directory() {
        assert!(under(b"/lib/x86_64-linux-gnu/libc.so.6", b"/lib"));
        assert!(under(b"/lib", b"/lib"));
        assert!(!under(b"/library/x", b"/lib"));
        assert!(under(b"/etc/ld.so.cache", b"/etc/ld.so.cache"));
    }
}

#[cfg(test)]
mod doc_tests {
    /// docs/design.md "Replay" names every call of the policy table.
    #[test]
    fn the_design_doc_lists_every_call() {
        let doc = include_str!("../../../docs/design.md");
        let replay = &doc[doc.find("## Replay").expect("a Replay section")..];
        let missing: Vec<&str> = super::table()
            .map(|(_, n)| n)
            .filter(|n| !replay.contains(n))
            .collect();
        assert!(
            missing.is_empty(),
            "not in docs/design.md Replay: {missing:?}"
        );
    }
}
