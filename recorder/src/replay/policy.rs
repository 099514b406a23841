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
            "setrlimit",
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

/// The class of one call, where its arguments decide: prlimit64 that sets
/// a limit runs live (the new limit must hold in the replay: RLIMIT_FSIZE
/// makes SIGXFSZ, RLIMIT_NOFILE EMFILE), one that only reads is emulated
/// like getrlimit (the board's limits, not the desk's).
pub fn class_of_call(name: &str, args: &[u64; 6]) -> Class {
    match name {
        "prlimit64" if args[2] != 0 => Class::Live,
        _ => class_of(name),
    }
}

/// Every call the table names with its class, for the docs and tests.
pub fn table() -> impl Iterator<Item = (Class, &'static str)> {
    TABLE
        .iter()
        .flat_map(|(c, names)| names.iter().map(move |n| (*c, *n)))
}

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

/// `MAP_ANONYMOUS`, the same on x86_64 and arm64 (asm-generic):
/// <https://github.com/torvalds/linux/blob/v6.12/include/uapi/asm-generic/mman-common.h#L23>
const MAP_ANONYMOUS: u64 = 0x20;

/// Whether a call follows the memory allocator's state or the memory
/// layout, so the replay may make fewer or more of them than the recording,
/// or make them in another thread: not a divergence.
/// - munmap: glibc trims a new malloc arena with zero, one or two munmaps
///   depending on where the kernel put its mapping.
/// - brk and anonymous mmap: which thread first finds the allocator's free
///   memory used up, and grows it, is a user-space race no syscall log
///   holds (musl's one heap decides about 1 replay in 15 of fx-threads).
///
/// A mapping of a file is not slack: what it maps is the program's.
pub fn is_layout_slack(name: &str, args: &[u64; 6]) -> bool {
    match name {
        "munmap" | "brk" => true,
        "mmap" => args[3] & MAP_ANONYMOUS != 0,
        _ => false,
    }
}

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
        // Limits and CPUs read are the board's; a limit set is live.
        assert_eq!(class_of("getrlimit"), Class::Emulate);
        assert_eq!(class_of("sched_getaffinity"), Class::Emulate);
        assert_eq!(
            class_of_call("prlimit64", &[0, 7, 0, 0x1000, 0, 0]),
            Class::Emulate
        );
        assert_eq!(
            class_of_call("prlimit64", &[0, 7, 0x2000, 0x1000, 0, 0]),
            Class::Live
        );
    }

    #[test]
    fn allocator_calls_are_slack_and_file_mappings_are_not() {
        let anon = [0, 4096, 3, 0x22, u64::MAX, 0];
        let file = [0, 4096, 1, 0x02, 3, 0];
        assert!(is_layout_slack("mmap", &anon));
        assert!(!is_layout_slack("mmap", &file));
        assert!(is_layout_slack("munmap", &[0x7000, 4096, 0, 0, 0, 0]));
        assert!(is_layout_slack("brk", &[0; 6]));
        assert!(!is_layout_slack("mprotect", &[0x7000, 4096, 0, 0, 0, 0]));
        assert!(!is_layout_slack("prctl", &anon));
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
