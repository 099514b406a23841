//! strace's view of each architecture's system calls: how many argument
//! registers each takes and its trace classes, generated from strace's own
//! tables (`generated.rs`, by `cargo xtask gen-syscalls`) so that they
//! follow strace rather than our typing.
//!
//! Used by the drain, which records a register the call does not take as
//! 0 (see [`args_taken`]), and held against the hand-written signature
//! table by the tests.

use super::Arch;

mod generated;

/// One row of strace's `syscallent.h`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sysent {
    pub nr: u32,
    pub name: &'static str,
    pub nargs: u8,
    pub classes: u32,
}

/// strace's trace classes (`TRACE_DESC`... in its sysent.h), as bits: what
/// `-e trace=%NAME` selects by (see [`crate::decode::SyscallClass`]).
pub(crate) mod class {
    pub const DESC: u32 = 1 << 0;
    pub const FILE: u32 = 1 << 1;
    pub const IPC: u32 = 1 << 2;
    pub const NETWORK: u32 = 1 << 3;
    pub const PROCESS: u32 = 1 << 4;
    pub const SIGNAL: u32 = 1 << 5;
    pub const MEMORY: u32 = 1 << 6;
    pub const STAT: u32 = 1 << 7;
    pub const LSTAT: u32 = 1 << 8;
    pub const FSTAT: u32 = 1 << 9;
    pub const STAT_LIKE: u32 = 1 << 10;
    pub const STATFS: u32 = 1 << 11;
    pub const FSTATFS: u32 = 1 << 12;
    pub const STATFS_LIKE: u32 = 1 << 13;
    pub const PURE: u32 = 1 << 14;
    pub const CREDS: u32 = 1 << 15;
    pub const CLOCK: u32 = 1 << 16;
}

/// Every row of `arch`'s table, by number.
pub(crate) fn table(arch: Arch) -> &'static [Sysent] {
    match arch {
        Arch::X86_64 => generated::X86_64,
        Arch::Aarch64 => generated::AARCH64,
    }
}

/// strace's row for syscall `nr` of `arch`.
pub(crate) fn lookup(arch: Arch, nr: i64) -> Option<&'static Sysent> {
    let t = table(arch);
    let nr = u32::try_from(nr).ok()?;
    t.binary_search_by_key(&nr, |s| s.nr).ok().map(|i| &t[i])
}

/// Highest syscall number of either table, plus one: the size of
/// [`args_taken`]'s lookup array.
pub const NR_LIMIT: usize = 512;

/// For each syscall number of `arch`, the number of argument registers the
/// call takes (6 when strace does not know the number).
///
/// The registers after those are whatever the caller left there: stale
/// pointers and counters, which are most of a short record's bytes and
/// compress badly. The drain records them as 0.
pub fn args_taken(arch: Arch) -> &'static [u8; NR_LIMIT] {
    static TABLES: std::sync::OnceLock<[[u8; NR_LIMIT]; 2]> = std::sync::OnceLock::new();
    &TABLES.get_or_init(|| {
        Arch::ALL.map(|arch| {
            let mut n = [6u8; NR_LIMIT];
            for s in table(arch) {
                n[s.nr as usize] = s.nargs;
            }
            n
        })
    })[arch.index()]
}

/// [`args_taken`] for the architecture this program runs on: what it
/// records. All 6 everywhere on an architecture without a table.
pub fn args_taken_here() -> &'static [u8; NR_LIMIT] {
    static ALL: [u8; NR_LIMIT] = [6; NR_LIMIT];
    Arch::host().map_or(&ALL, args_taken)
}

/// `args` with the registers `nr` does not take set to 0.
#[inline]
pub fn clear_unused_args(taken: &[u8; NR_LIMIT], nr: i64, mut args: [u64; 6]) -> [u64; 6] {
    let n = usize::try_from(nr)
        .ok()
        .and_then(|nr| taken.get(nr))
        .copied()
        .unwrap_or(6);
    for a in args.iter_mut().skip(n.into()) {
        *a = 0;
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{syscall_name, table};

    #[test]
    fn numbers_fit_the_lookup_array_and_names_agree_with_the_syscalls_crate() {
        for arch in Arch::ALL {
            for s in table(arch) {
                assert!((s.nr as usize) < NR_LIMIT, "{arch} {}", s.name);
                // strace and the kernel tables the `syscalls` crate is made
                // from name a few calls differently; the numbers must agree.
                if let Some(name) = syscall_name(arch, s.nr.into()) {
                    let same = name == s.name
                        || matches!(
                            (name, s.name),
                            ("fstatat", "newfstatat") | ("_sysctl", "sysctl")
                        );
                    assert!(same, "{arch} {}: strace {} vs {name}", s.nr, s.name);
                }
            }
        }
    }

    /// Our signature table shows as many arguments as strace's table says
    /// the call takes, on every architecture that has the call: the drain
    /// clears the registers after those, so a row that showed more would
    /// show zeros.
    #[test]
    fn signature_table_arity_matches_strace() {
        let (mut wrong, mut checked) = (Vec::new(), 0);
        for arch in Arch::ALL {
            for spec in table::all_specs() {
                if spec.only.is_some_and(|a| a != arch) {
                    continue;
                }
                let Some(nr) = crate::decode::syscall_nr(arch, spec.name) else {
                    continue;
                };
                let strace = lookup(arch, nr).map_or(6, |s| s.nargs);
                checked += 1;
                // rt_sigreturn's mask comes from the stack, not a register.
                let registers = spec
                    .args
                    .iter()
                    .filter(|t| !matches!(t, crate::decode::table::Ty::SigreturnMask))
                    .count();
                if usize::from(strace) < registers {
                    wrong.push(format!(
                        "{arch} {}: strace {strace}, ours {}",
                        spec.name,
                        spec.args.len()
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
        assert!(checked > 250, "only {checked} rows checked");
    }

    /// Every call of strace's tables has a signature row, except the ones
    /// strace itself prints raw (issue 14: no six-register fallback for
    /// any call strace decodes). Prints the coverage per architecture.
    #[test]
    fn every_call_strace_decodes_has_a_signature() {
        for arch in Arch::ALL {
            let rows = table(arch);
            let missing: Vec<&str> = rows
                .iter()
                .filter(|s| table::spec(arch, s.nr.into()).is_none())
                .map(|s| s.name)
                .filter(|n| !table::STRACE_PRINTS_RAW.contains(n))
                .collect();
            let typed = rows
                .iter()
                .filter(|s| table::spec(arch, s.nr.into()).is_some())
                .count();
            eprintln!(
                "{arch}: {typed} of {} calls have a signature row",
                rows.len()
            );
            assert!(missing.is_empty(), "{arch}: no row for {missing:?}");
        }
    }

    #[test]
    fn unused_registers_are_cleared() {
        let x86 = args_taken(Arch::X86_64);
        let junk = [1, 2, 3, 4, 5, 6];
        assert_eq!(clear_unused_args(x86, 110, junk), [0; 6]); // getppid
        assert_eq!(clear_unused_args(x86, 0, junk), [1, 2, 3, 0, 0, 0]); // read
        assert_eq!(clear_unused_args(x86, 9, junk), junk); // mmap
        assert_eq!(clear_unused_args(x86, 100_000, junk), junk);
        assert_eq!(clear_unused_args(x86, -1, junk), junk);
        let arm = args_taken(Arch::Aarch64);
        assert_eq!(clear_unused_args(arm, 173, junk), [0; 6]); // getppid
    }
}
