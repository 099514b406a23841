//! Syscall classes for read filters (`-e %file`, `-e %network`, ...): the
//! classes of strace's `-e trace=%NAME`, with strace's membership.
//!
//! Membership is not typed here: it is the class bits of strace's own
//! syscall tables (`syscallent.h`), which `cargo xtask gen-syscalls` turns
//! into [`super::sysent`]'s generated rows, per architecture and by number.
//! So `-e %file` selects in a recording exactly what `strace -e
//! trace=%file` would have traced (strace's basic_filters.c
//! `qualify_syscall_class`: every call of the personality whose flags hold
//! the class). `docs/reading.md` lists the classes; `recorder stats`/`dump`
//! users see the members through [`SyscallClass::members`].

use super::sysent::{self, class};
use super::{Arch, syscall_name, syscall_nr};

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
    /// System V IPC (`shmget`, `semop`, `msgsnd`, ...).
    Ipc,
    /// User and group ids and capabilities (`getuid`, `setresgid`,
    /// `capget`, ...).
    Creds,
    /// Reading or setting clocks (`clock_gettime`, `gettimeofday`, ...).
    Clock,
    /// Calls without arguments that always succeed and change nothing
    /// (`getpid`, `getuid`, `gettid`, ...).
    Pure,
    /// The `stat` variants that take a path (`stat`, `statx`, ...).
    Stat,
    /// The `stat` variants that do not follow a final symlink (`lstat`).
    Lstat,
    /// The `stat` variants that take a descriptor (`fstat`, ...).
    Fstat,
    /// Every `stat` variant (strace's `%%stat`).
    StatLike,
    /// `statfs`.
    Statfs,
    /// `fstatfs`.
    Fstatfs,
    /// Every `statfs` variant (strace's `%%statfs`, with `ustat`).
    StatfsLike,
}

impl SyscallClass {
    /// Every class: the six of the first version, then the others in
    /// strace's order (basic_filters.c).
    pub const ALL: [SyscallClass; 17] = [
        SyscallClass::File,
        SyscallClass::Desc,
        SyscallClass::Network,
        SyscallClass::Process,
        SyscallClass::Memory,
        SyscallClass::Signal,
        SyscallClass::Creds,
        SyscallClass::Ipc,
        SyscallClass::Stat,
        SyscallClass::Lstat,
        SyscallClass::Fstat,
        SyscallClass::StatLike,
        SyscallClass::Statfs,
        SyscallClass::Fstatfs,
        SyscallClass::StatfsLike,
        SyscallClass::Pure,
        SyscallClass::Clock,
    ];

    /// The class named `name` (without the leading `%`: `file`, or `%stat`
    /// for strace's `%%stat`); `net` is accepted for `network`, as strace
    /// does.
    pub fn from_name(name: &str) -> Option<SyscallClass> {
        if name == "net" {
            return Some(SyscallClass::Network);
        }
        SyscallClass::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The name, without the leading `%` (`%stat` for `%%stat`).
    pub fn name(self) -> &'static str {
        match self {
            SyscallClass::File => "file",
            SyscallClass::Desc => "desc",
            SyscallClass::Network => "network",
            SyscallClass::Process => "process",
            SyscallClass::Memory => "memory",
            SyscallClass::Signal => "signal",
            SyscallClass::Ipc => "ipc",
            SyscallClass::Creds => "creds",
            SyscallClass::Clock => "clock",
            SyscallClass::Pure => "pure",
            SyscallClass::Stat => "stat",
            SyscallClass::Lstat => "lstat",
            SyscallClass::Fstat => "fstat",
            SyscallClass::StatLike => "%stat",
            SyscallClass::Statfs => "statfs",
            SyscallClass::Fstatfs => "fstatfs",
            SyscallClass::StatfsLike => "%statfs",
        }
    }

    /// strace's flag for this class (its `TRACE_*`).
    fn bit(self) -> u32 {
        match self {
            SyscallClass::File => class::FILE,
            SyscallClass::Desc => class::DESC,
            SyscallClass::Network => class::NETWORK,
            SyscallClass::Process => class::PROCESS,
            SyscallClass::Memory => class::MEMORY,
            SyscallClass::Signal => class::SIGNAL,
            SyscallClass::Ipc => class::IPC,
            SyscallClass::Creds => class::CREDS,
            SyscallClass::Clock => class::CLOCK,
            SyscallClass::Pure => class::PURE,
            SyscallClass::Stat => class::STAT,
            SyscallClass::Lstat => class::LSTAT,
            SyscallClass::Fstat => class::FSTAT,
            SyscallClass::StatLike => class::STAT_LIKE,
            SyscallClass::Statfs => class::STATFS,
            SyscallClass::Fstatfs => class::FSTATFS,
            SyscallClass::StatfsLike => class::STATFS_LIKE,
        }
    }

    /// Whether syscall `name` belongs to this class on an architecture
    /// that has it.
    pub fn contains(self, name: &str) -> bool {
        Arch::ALL.into_iter().any(|arch| {
            syscall_nr(arch, name)
                .and_then(|nr| sysent::lookup(arch, nr))
                .is_some_and(|s| s.classes & self.bit() != 0)
        })
    }

    /// The syscall numbers of `arch` in this class, ascending.
    pub fn numbers(self, arch: Arch) -> Vec<i64> {
        sysent::table(arch)
            .iter()
            .filter(|s| s.classes & self.bit() != 0)
            .map(|s| i64::from(s.nr))
            .collect()
    }

    /// The names in this class on any supported architecture, sorted (as
    /// `dump` prints them).
    pub fn members(self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Arch::ALL
            .iter()
            .flat_map(|&a| {
                self.numbers(a)
                    .into_iter()
                    .map(move |nr| syscall_name(a, nr).unwrap_or(sysent_name(a, nr)))
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// strace's name for `nr`, for the few numbers the `syscalls` crate does
/// not name.
fn sysent_name(arch: Arch, nr: i64) -> &'static str {
    sysent::lookup(arch, nr).map_or("?", |s| s.name)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            (Ipc, &["shmget", "semop", "msgsnd"], &["mq_open", "read"]),
            (Creds, &["getuid", "setresgid", "capget"], &["getpid"]),
            (Clock, &["clock_gettime", "gettimeofday"], &["nanosleep"]),
            (Pure, &["getpid", "gettid", "getuid"], &["getcwd", "kill"]),
            (Stat, &["stat"], &["fstat", "lstat", "statx"]),
            (Lstat, &["lstat"], &["stat"]),
            (Fstat, &["fstat", "newfstatat", "statx"], &["stat"]),
            (StatLike, &["stat", "lstat", "fstat", "statx"], &["statfs"]),
            (Statfs, &["statfs"], &["fstatfs"]),
            (Fstatfs, &["fstatfs"], &["statfs"]),
            (StatfsLike, &["statfs", "fstatfs", "ustat"], &["stat"]),
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
            assert!(!c.members().is_empty(), "%{}", c.name());
        }
        assert_eq!(SyscallClass::from_name("net"), Some(SyscallClass::Network));
        assert_eq!(
            SyscallClass::from_name("%stat"),
            Some(SyscallClass::StatLike)
        );
        assert_eq!(SyscallClass::from_name("files"), None);
    }
}
