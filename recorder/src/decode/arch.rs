//! Architectures, syscall names/numbers and errno names.
//!
//! Names and numbers come from the `syscalls` crate's generated kernel
//! tables, with two corrections for aarch64 where that crate's table does not
//! match what a 64-bit kernel provides (see [`syscall_name`]).

use std::fmt;
use std::ops::RangeInclusive;

use syscalls::{Errno, aarch64, x86_64};

/// Architecture whose syscall ABI a log was recorded with.
///
/// Always taken from the log header, never from the machine reading the log:
/// an aarch64 log dumped on x86_64 must use aarch64 numbers and layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// Every supported architecture.
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    /// Parses the header's `arch` field (`std::env::consts::ARCH` spelling;
    /// the Debian/Go spellings `amd64` and `arm64` are accepted too).
    pub fn from_name(name: &str) -> Option<Arch> {
        match name {
            "x86_64" | "amd64" => Some(Arch::X86_64),
            "aarch64" | "arm64" => Some(Arch::Aarch64),
            _ => None,
        }
    }

    /// The architecture this program was built for, if it is a supported one.
    pub fn host() -> Option<Arch> {
        Arch::from_name(std::env::consts::ARCH)
    }

    /// Canonical name, as written in log headers.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// Dense index for per-architecture lookup tables.
    pub(crate) fn index(self) -> usize {
        match self {
            Arch::X86_64 => 0,
            Arch::Aarch64 => 1,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Numbers the `syscalls` crate lists for aarch64 but which only exist for
/// 32-bit ABIs (`clock_gettime64` ... `sched_rr_get_interval_time64`): the
/// generic table defines them under `__BITS_PER_LONG == 32`, so an arm64
/// kernel returns ENOSYS for them.
const AARCH64_TIME64_ONLY: RangeInclusive<i64> = 403..=423;

/// Name of syscall `nr` in `arch`'s table, as strace spells it.
///
/// aarch64 number 79 is reported as `newfstatat` (the kernel's and strace's
/// name for the 64-bit `fstatat`), not the `fstatat` the crate uses, so the
/// same call has the same name on both architectures.
///
/// A number the `syscalls` crate does not know yet (it trails the kernel)
/// is named from strace's table ([`super::sysent`]).
pub fn syscall_name(arch: Arch, nr: i64) -> Option<&'static str> {
    crate_syscall_name(arch, nr).or_else(|| super::sysent::lookup(arch, nr).map(|s| s.name))
}

fn crate_syscall_name(arch: Arch, nr: i64) -> Option<&'static str> {
    let id = usize::try_from(nr).ok()?;
    match arch {
        Arch::X86_64 => x86_64::Sysno::new(id).map(|s| s.name()),
        Arch::Aarch64 => {
            if AARCH64_TIME64_ONLY.contains(&nr) {
                return None;
            }
            aarch64::Sysno::new(id).map(|s| match s {
                aarch64::Sysno::fstatat => "newfstatat",
                s => s.name(),
            })
        }
    }
}

/// Number of syscall `name` in `arch`'s table (the reverse of
/// [`syscall_name`]; on aarch64 both `newfstatat` and `fstatat` give 79).
pub fn syscall_nr(arch: Arch, name: &str) -> Option<i64> {
    crate_syscall_nr(arch, name).or_else(|| {
        super::sysent::table(arch)
            .iter()
            .find(|s| s.name == name)
            .map(|s| i64::from(s.nr))
    })
}

fn crate_syscall_nr(arch: Arch, name: &str) -> Option<i64> {
    match arch {
        Arch::X86_64 => name
            .parse::<x86_64::Sysno>()
            .ok()
            .map(|s| i64::from(s.id())),
        Arch::Aarch64 => {
            let name = if name == "newfstatat" {
                "fstatat"
            } else {
                name
            };
            let nr = i64::from(name.parse::<aarch64::Sysno>().ok()?.id());
            (!AARCH64_TIME64_ONLY.contains(&nr)).then_some(nr)
        }
    }
}

/// Name and description of a (positive) errno value, e.g.
/// `errno_name(2) == Some(("ENOENT", "No such file or directory"))`.
///
/// x86_64 and aarch64 share the generic errno numbering, so no architecture
/// is needed. Kernel-internal codes (`ERESTARTSYS` = 512 ...), which only
/// tracers ever see, are included. Descriptions are what strace prints:
/// glibc's `strerror` texts (see `strerror.rs`), strace's own for the
/// restart codes, and the kernel's header comments for the rest.
pub fn errno_name(errno: i64) -> Option<(&'static str, &'static str)> {
    let e = i32::try_from(errno)
        .ok()
        .filter(|e| (1..4096).contains(e))?;
    let (name, kernel_text) = Errno::new(e).name_and_description()?;
    let text = match errno {
        // strace's syscall.c, which prints these itself.
        512 => "To be restarted if SA_RESTART is set",
        513 => "To be restarted",
        514 => "To be restarted if no handler",
        516 => "Interrupted by signal",
        _ => super::strerror::strerror(errno).unwrap_or(kernel_text),
    };
    Some((name, text))
}
