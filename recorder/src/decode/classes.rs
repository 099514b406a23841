//! Syscall classes for read filters (`-e %file`, `-e %network`, ...), named
//! like strace's.
//!
//! A class is derived from the signature table wherever the argument types
//! say what a call is about: a `Path` argument makes a call `%file`, a
//! socket address or socket option makes it `%network`, and so on. What
//! types cannot tell (that `munmap` is about memory, that `exit_group` is
//! process management) and the syscalls the table has no row for (their
//! arguments are shown raw, but they still belong to a class) are named
//! explicitly in the lists below, which follow strace's classification.
//! `docs/reading.md` lists the rules; `recorder stats`/`dump` users see the
//! resulting members through [`SyscallClass::members`].

use super::table::{self, RetFmt, Spec, Ty};
use super::{Arch, syscall_name};

/// A named group of syscalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyscallClass {
    /// Calls that take a file name (`open`, `stat`, `execve`, `mkdir`, ...).
    File,
    /// Calls that take or create a file descriptor (`read`, `close`,
    /// `mmap`, `pipe`, the `*at` calls, ...).
    Desc,
    /// Socket calls (`socket`, `connect`, `sendto`, `setsockopt`, ...).
    Network,
    /// Process life cycle: create, exec, exit, wait, signal a process.
    Process,
    /// Memory mapping and its attributes (`mmap`, `brk`, `mprotect`, ...).
    Memory,
    /// Signal handling and sending (`rt_sigaction`, `kill`, ...).
    Signal,
}

/// Names outside the table (or whose types do not show it), per class.
/// Every name must exist on at least one supported architecture (a unit
/// test checks).
const FILE_EXTRA: &[&str] = &[
    "getcwd",
    "mknod",
    "mknodat",
    "utime",
    "utimes",
    "futimesat",
    "statfs",
    "mount",
    "umount2",
    "swapon",
    "swapoff",
    "pivot_root",
    "acct",
    "quotactl",
    "uselib",
    "setxattr",
    "lsetxattr",
    "getxattr",
    "lgetxattr",
    "listxattr",
    "llistxattr",
    "removexattr",
    "lremovexattr",
    "fanotify_mark",
    "name_to_handle_at",
    "open_tree",
    "move_mount",
    "fspick",
    "mount_setattr",
];

/// Calls with a `Path` argument that is not a file name.
const FILE_EXCLUDED: &[&str] = &["memfd_create"];

const DESC_EXTRA: &[&str] = &[
    // Return a new descriptor without taking one.
    "open",
    "creat",
    "memfd_create",
    "eventfd",
    "eventfd2",
    "epoll_create",
    "epoll_create1",
    "inotify_init",
    "inotify_init1",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "userfaultfd",
    "fanotify_init",
    "perf_event_open",
    "pidfd_open",
    "fsopen",
    // Take descriptors inside structs or sets.
    "poll",
    "ppoll",
    "select",
    "pselect6",
    // No table row.
    "getdents",
    "readahead",
    "fadvise64",
    "splice",
    "tee",
    "vmsplice",
    "sync_file_range",
    "fstatfs",
    "fgetxattr",
    "fsetxattr",
    "flistxattr",
    "fremovexattr",
    "timerfd_settime",
    "timerfd_gettime",
    "open_by_handle_at",
    "inotify_rm_watch",
    "setns",
    "finit_module",
];

const NETWORK_EXTRA: &[&str] = &["listen", "shutdown", "sendmmsg", "recvmmsg", "sendfile"];

const PROCESS_EXTRA: &[&str] = &[
    "fork",
    "vfork",
    "exit",
    "exit_group",
    "waitid",
    "kill",
    "tkill",
    "tgkill",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
];

const MEMORY_EXTRA: &[&str] = &[
    "munmap",
    "madvise",
    "msync",
    "mincore",
    "mlock",
    "mlock2",
    "munlock",
    "mlockall",
    "munlockall",
    "mbind",
    "set_mempolicy",
    "get_mempolicy",
    "migrate_pages",
    "move_pages",
    "remap_file_pages",
    "pkey_mprotect",
    "process_madvise",
    "shmat",
    "shmdt",
];

const SIGNAL_EXTRA: &[&str] = &[
    "rt_sigreturn",
    "sigaltstack",
    "pause",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigsuspend",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "signalfd",
    "signalfd4",
];

impl SyscallClass {
    /// Every class.
    pub const ALL: [SyscallClass; 6] = [
        SyscallClass::File,
        SyscallClass::Desc,
        SyscallClass::Network,
        SyscallClass::Process,
        SyscallClass::Memory,
        SyscallClass::Signal,
    ];

    /// The class named `name` (without the `%`); `net` is accepted for
    /// `network`, as strace does.
    pub fn from_name(name: &str) -> Option<SyscallClass> {
        Some(match name {
            "file" => SyscallClass::File,
            "desc" => SyscallClass::Desc,
            "network" | "net" => SyscallClass::Network,
            "process" => SyscallClass::Process,
            "memory" => SyscallClass::Memory,
            "signal" => SyscallClass::Signal,
            _ => return None,
        })
    }

    /// The name, without the `%`.
    pub fn name(self) -> &'static str {
        match self {
            SyscallClass::File => "file",
            SyscallClass::Desc => "desc",
            SyscallClass::Network => "network",
            SyscallClass::Process => "process",
            SyscallClass::Memory => "memory",
            SyscallClass::Signal => "signal",
        }
    }

    fn extra(self) -> &'static [&'static str] {
        match self {
            SyscallClass::File => FILE_EXTRA,
            SyscallClass::Desc => DESC_EXTRA,
            SyscallClass::Network => NETWORK_EXTRA,
            SyscallClass::Process => PROCESS_EXTRA,
            SyscallClass::Memory => MEMORY_EXTRA,
            SyscallClass::Signal => SIGNAL_EXTRA,
        }
    }

    /// Whether the argument types of a table row put it in this class.
    fn derived(self, spec: &Spec) -> bool {
        let any = |f: fn(&Ty) -> bool| spec.args.iter().any(f);
        match self {
            SyscallClass::File => {
                !FILE_EXCLUDED.contains(&spec.name) && any(|t| matches!(t, Ty::Path))
            }
            SyscallClass::Desc => any(|t| matches!(t, Ty::Fd | Ty::DirFd | Ty::IntPair)),
            SyscallClass::Network => any(|t| {
                matches!(
                    t,
                    Ty::SockaddrIn(_)
                        | Ty::SockaddrOut(_)
                        | Ty::MsgIn
                        | Ty::MsgOut
                        | Ty::SockType
                        | Ty::SockProto
                        | Ty::SockLevel
                        | Ty::SockOptName
                        | Ty::SockOptIn
                        | Ty::SockOptOut
                )
            }),
            SyscallClass::Process => any(|t| {
                matches!(
                    t,
                    Ty::Argv | Ty::CloneFlags | Ty::CloneArgs(_) | Ty::WaitStatus
                )
            }),
            // Calls that return an address (mmap, mremap, brk) or take
            // protection or mapping flags (mprotect).
            SyscallClass::Memory => {
                spec.ret == RetFmt::Hex || any(|t| matches!(t, Ty::MmapProt | Ty::MmapFlags))
            }
            SyscallClass::Signal => any(|t| {
                matches!(
                    t,
                    Ty::Signal | Ty::SigactionIn | Ty::SigactionOut | Ty::SigsetIn | Ty::SigsetOut
                )
            }),
        }
    }

    /// Whether syscall `name` belongs to this class.
    pub fn contains(self, name: &str) -> bool {
        self.extra().contains(&name)
            || table::all_specs()
                .iter()
                .any(|s| s.name == name && self.derived(s))
    }

    /// The syscall numbers of `arch` in this class, ascending.
    pub fn numbers(self, arch: Arch) -> Vec<i64> {
        (0..MAX_NR)
            .filter(|&nr| syscall_name(arch, nr).is_some_and(|n| self.contains(n)))
            .collect()
    }

    /// The names in this class on any supported architecture, sorted.
    pub fn members(self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Arch::ALL
            .iter()
            .flat_map(|&a| (0..MAX_NR).filter_map(move |nr| syscall_name(a, nr)))
            .filter(|n| self.contains(n))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Above every syscall number of the supported architectures (the highest
/// are in the 460s).
const MAX_NR: i64 = 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::syscall_nr;

    fn exists(name: &str) -> bool {
        Arch::ALL.iter().any(|&a| syscall_nr(a, name).is_some())
    }

    #[test]
    fn named_members_exist() {
        for class in SyscallClass::ALL {
            for name in class.extra() {
                assert!(exists(name), "%{}: {name} is no syscall", class.name());
            }
        }
        for name in FILE_EXCLUDED {
            assert!(table::all_specs().iter().any(|s| s.name == *name));
        }
    }

    #[test]
    fn classes_follow_strace_on_the_usual_calls() {
        use SyscallClass::*;
        let cases: &[(SyscallClass, &[&str], &[&str])] = &[
            (
                File,
                &[
                    "open",
                    "openat",
                    "stat",
                    "newfstatat",
                    "execve",
                    "unlink",
                    "getcwd",
                    "mknod",
                ],
                &["read", "close", "memfd_create", "fstat"],
            ),
            (
                Desc,
                &[
                    "read", "write", "close", "fstat", "openat", "mmap", "pipe2", "open", "poll",
                ],
                &["getpid", "stat", "brk"],
            ),
            (
                Network,
                &[
                    "socket",
                    "connect",
                    "accept4",
                    "sendto",
                    "recvmsg",
                    "setsockopt",
                    "listen",
                    "shutdown",
                ],
                &["read", "open", "pipe"],
            ),
            (
                Process,
                &[
                    "clone",
                    "clone3",
                    "fork",
                    "execve",
                    "exit_group",
                    "wait4",
                    "waitid",
                    "kill",
                ],
                &["getpid", "open", "mmap"],
            ),
            (
                Memory,
                &["mmap", "munmap", "mprotect", "mremap", "brk", "madvise"],
                &["read", "open"],
            ),
            (
                Signal,
                &[
                    "rt_sigaction",
                    "rt_sigprocmask",
                    "kill",
                    "tgkill",
                    "rt_sigreturn",
                ],
                &["read", "getpid"],
            ),
        ];
        for (class, yes, no) in cases {
            for n in *yes {
                assert!(class.contains(n), "{n} should be %{}", class.name());
            }
            for n in *no {
                assert!(!class.contains(n), "{n} should not be %{}", class.name());
            }
        }
    }

    #[test]
    fn numbers_are_per_architecture() {
        let x = SyscallClass::File.numbers(Arch::X86_64);
        let a = SyscallClass::File.numbers(Arch::Aarch64);
        assert!(x.contains(&2), "open is 2 on x86_64");
        assert!(x.contains(&257), "openat is 257 on x86_64");
        assert!(a.contains(&56), "openat is 56 on aarch64");
        assert!(!a.contains(&2), "aarch64 has no open; 2 is io_cancel");
    }

    #[test]
    fn names_round_trip() {
        for c in SyscallClass::ALL {
            assert_eq!(SyscallClass::from_name(c.name()), Some(c));
            assert!(!c.members().is_empty());
        }
        assert_eq!(SyscallClass::from_name("net"), Some(SyscallClass::Network));
        assert_eq!(SyscallClass::from_name("files"), None);
    }
}
