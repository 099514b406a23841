//! Named constants for flag and enum arguments, and the writers that turn
//! a number into `NAME|NAME|0x...`.
//!
//! Values that are the same on x86_64 and aarch64 come from the `libc` crate
//! (macro `l!`). Values that differ between the two are spelled out per
//! architecture, because the log may come from the other architecture than
//! the reader's, whose `libc` would then be wrong. A few constants missing
//! from some `libc` targets (musl, older glibc) are written as literals with
//! their kernel UAPI values, which are identical on both architectures.

use super::Arch;
use super::put;

/// `(value, name)` pairs. For flag sets, composite values (e.g. `O_TMPFILE`)
/// must come before their components; an entry whose value is 0 names the
/// zero value (`F_OK`, `PROT_NONE`).
pub(crate) type Names = [(u64, &'static str)];

/// `(libc::NAME as u64, "NAME")`. The `as u32` first keeps 32-bit values
/// such as `CLONE_IO` (0x80000000, a negative `c_int`) from being
/// sign-extended; every constant used this way fits in 32 bits.
macro_rules! l {
    ($c:ident) => {
        (libc::$c as u32 as u64, stringify!($c))
    };
}

/// Writes `value` as `A|B|0x...` using `names`; `0` (or the zero entry's
/// name) when `value` is zero.
pub(crate) fn flags(b: &mut Vec<u8>, value: u64, names: &Names) {
    if value == 0 {
        let zero = names.iter().find(|(v, _)| *v == 0).map_or("0", |(_, n)| n);
        b.extend_from_slice(zero.as_bytes());
        return;
    }
    let mut rest = value;
    let mut first = true;
    for &(bits, name) in names {
        if bits != 0 && rest & bits == bits {
            if !first {
                b.push(b'|');
            }
            first = false;
            b.extend_from_slice(name.as_bytes());
            rest &= !bits;
        }
    }
    if rest != 0 {
        if !first {
            b.push(b'|');
        }
        put::hex(b, rest);
    }
}

/// The name `value` has in `names`, if any.
pub(crate) fn name_of(value: u64, names: &Names) -> Option<&'static str> {
    names.iter().find(|(v, _)| *v == value).map(|(_, n)| *n)
}

/// Writes the name of an enum-like `int` argument, or its signed decimal
/// value when it has no name.
pub(crate) fn int_enum(b: &mut Vec<u8>, value: u64, names: &Names) {
    match name_of(value & 0xffff_ffff, names) {
        Some(n) => b.extend_from_slice(n.as_bytes()),
        None => put::i64(b, i64::from(value as u32 as i32)),
    }
}

// ---------------------------------------------------------------- open(2)

/// `O_*` values that differ between the architectures (x86_64 uses the
/// generic values; arm64 overrides them in its `asm/fcntl.h`).
struct OpenArch {
    directory: u64,
    nofollow: u64,
    direct: u64,
    largefile: u64,
}

const OPEN_X86_64: OpenArch = OpenArch {
    directory: 0o200000,
    nofollow: 0o400000,
    direct: 0o40000,
    largefile: 0o100000,
};

const OPEN_AARCH64: OpenArch = OpenArch {
    directory: 0o40000,
    nofollow: 0o100000,
    direct: 0o200000,
    largefile: 0o400000,
};

/// `__O_TMPFILE`: same on both; `O_TMPFILE` is it plus `O_DIRECTORY`.
const O_TMPFILE_BIT: u64 = 0o20000000;
/// `O_CREAT`, for deciding whether open's mode argument is meaningful.
pub(crate) const O_CREAT: u64 = libc::O_CREAT as u64;
pub(crate) const O_TMPFILE_ANY: u64 = O_TMPFILE_BIT;

/// In the order of strace's `open_mode_flags` table (src/xlat/
/// open_mode_flags.in), which is the order it prints them in, and with its
/// names (`O_ASYNC` is `FASYNC` there).
macro_rules! open_table {
    ($a:expr) => {
        [
            l!(O_CREAT),
            l!(O_EXCL),
            l!(O_NOCTTY),
            l!(O_TRUNC),
            l!(O_APPEND),
            l!(O_NONBLOCK),
            l!(O_SYNC), // __O_SYNC|O_DSYNC: before O_DSYNC
            l!(O_DSYNC),
            ($a.direct, "O_DIRECT"),
            ($a.largefile, "O_LARGEFILE"),
            ($a.nofollow, "O_NOFOLLOW"),
            l!(O_NOATIME),
            l!(O_CLOEXEC),
            l!(O_PATH),
            (O_TMPFILE_BIT | $a.directory, "O_TMPFILE"),
            ($a.directory, "O_DIRECTORY"),
            (libc::O_ASYNC as u64, "FASYNC"),
        ]
    };
}

static OPEN_FLAGS_X86_64: [(u64, &str); 17] = open_table!(OPEN_X86_64);
static OPEN_FLAGS_AARCH64: [(u64, &str); 17] = open_table!(OPEN_AARCH64);

/// Open flags without the access mode (also used for `pipe2`, `dup3`, ...).
pub(crate) fn open_flag_names(arch: Arch) -> &'static Names {
    match arch {
        Arch::X86_64 => &OPEN_FLAGS_X86_64,
        Arch::Aarch64 => &OPEN_FLAGS_AARCH64,
    }
}

/// `O_RDONLY|O_CLOEXEC`: access mode first, then the other flags.
pub(crate) fn open_flags(b: &mut Vec<u8>, arch: Arch, value: u64) {
    let mode: &[u8] = match value & 3 {
        0 => b"O_RDONLY",
        1 => b"O_WRONLY",
        2 => b"O_RDWR",
        _ => b"O_ACCMODE",
    };
    b.extend_from_slice(mode);
    let rest = value & !3;
    if rest != 0 {
        b.push(b'|');
        flags(b, rest, open_flag_names(arch));
    }
}

/// File type bits of `st_mode` (same on both architectures).
pub(crate) const FILE_TYPES: &Names = &[
    l!(S_IFSOCK),
    l!(S_IFLNK),
    l!(S_IFREG),
    l!(S_IFBLK),
    l!(S_IFDIR),
    l!(S_IFCHR),
    l!(S_IFIFO),
];

/// `S_IFREG|0644`, `S_IFREG|S_ISUID|0755`: strace's printmode.c (the type,
/// then the set-id and sticky bits by name, then the permissions).
pub(crate) fn st_mode(b: &mut Vec<u8>, mode: u64) {
    const SPECIAL: [(u64, &[u8]); 3] = [
        (0o4000, b"S_ISUID|"),
        (0o2000, b"S_ISGID|"),
        (0o1000, b"S_ISVTX|"),
    ];
    let fmt = mode & libc::S_IFMT as u64;
    if let Some(n) = name_of(fmt, FILE_TYPES) {
        b.extend_from_slice(n.as_bytes());
        b.push(b'|');
    } else if fmt != 0 {
        put::oct(b, mode);
        return;
    }
    for (bit, name) in SPECIAL {
        if mode & bit != 0 {
            b.extend_from_slice(name);
        }
    }
    put::oct(b, mode & !(libc::S_IFMT as u64 | 0o7000));
}

pub(crate) const AT_FLAGS: &Names = &[
    l!(AT_SYMLINK_NOFOLLOW),
    l!(AT_SYMLINK_FOLLOW),
    l!(AT_NO_AUTOMOUNT),
    l!(AT_EMPTY_PATH),
    l!(AT_STATX_FORCE_SYNC),
    l!(AT_STATX_DONT_SYNC),
    l!(AT_RECURSIVE),
];
/// statx's sync type (strace's `at_statx_sync_types`), shown first even
/// when it is 0, then the other `AT_*` flags.
pub(crate) fn statx_flags(b: &mut Vec<u8>, value: u64) {
    const SYNC_TYPE: u64 = 0x6000;
    match value & SYNC_TYPE {
        0 => b.extend_from_slice(b"AT_STATX_SYNC_AS_STAT"),
        0x2000 => b.extend_from_slice(b"AT_STATX_FORCE_SYNC"),
        0x4000 => b.extend_from_slice(b"AT_STATX_DONT_SYNC"),
        _ => b.extend_from_slice(b"AT_STATX_SYNC_TYPE"),
    }
    let rest = value & !SYNC_TYPE;
    if rest != 0 {
        b.push(b'|');
        flags(b, rest, AT_FLAGS);
    }
}

pub(crate) const UNLINK_FLAGS: &Names = &[l!(AT_REMOVEDIR)];
pub(crate) const ACCESSAT_FLAGS: &Names = &[
    (0x200, "AT_EACCESS"),
    l!(AT_SYMLINK_NOFOLLOW),
    l!(AT_EMPTY_PATH),
];
pub(crate) const ACCESS_MODE: &Names = &[(0, "F_OK"), l!(R_OK), l!(W_OK), l!(X_OK)];
pub(crate) const RENAME_FLAGS: &Names = &[
    (1, "RENAME_NOREPLACE"),
    (2, "RENAME_EXCHANGE"),
    (4, "RENAME_WHITEOUT"),
];
pub(crate) const RESOLVE_FLAGS: &Names = &[
    (0x01, "RESOLVE_NO_XDEV"),
    (0x02, "RESOLVE_NO_MAGICLINKS"),
    (0x04, "RESOLVE_NO_SYMLINKS"),
    (0x08, "RESOLVE_BENEATH"),
    (0x10, "RESOLVE_IN_ROOT"),
    (0x20, "RESOLVE_CACHED"),
];
/// strace's order (src/xlat/statx_masks.in): STATX_ALL, the old
/// "everything" (basic stats and btime), first.
pub(crate) const STATX_MASK: &Names = &[
    (0xfff, "STATX_ALL"),
    (0x7ff, "STATX_BASIC_STATS"),
    (0x001, "STATX_TYPE"),
    (0x002, "STATX_MODE"),
    (0x004, "STATX_NLINK"),
    (0x008, "STATX_UID"),
    (0x010, "STATX_GID"),
    (0x020, "STATX_ATIME"),
    (0x040, "STATX_MTIME"),
    (0x080, "STATX_CTIME"),
    (0x100, "STATX_INO"),
    (0x200, "STATX_SIZE"),
    (0x400, "STATX_BLOCKS"),
    (0x800, "STATX_BTIME"),
    (0x1000, "STATX_MNT_ID"),
    (0x2000, "STATX_DIOALIGN"),
    (0x4000, "STATX_MNT_ID_UNIQUE"),
    (0x8000, "STATX_SUBVOL"),
    (0x10000, "STATX_WRITE_ATOMIC"),
    (0x20000, "STATX_DIO_READ_ALIGN"),
];
pub(crate) const WHENCE: &Names = &[
    l!(SEEK_SET),
    l!(SEEK_CUR),
    l!(SEEK_END),
    l!(SEEK_DATA),
    l!(SEEK_HOLE),
];
pub(crate) const FD_FLAGS: &Names = &[l!(FD_CLOEXEC)];
pub(crate) const FLOCK_OPS: &Names = &[l!(LOCK_SH), l!(LOCK_EX), l!(LOCK_NB), l!(LOCK_UN)];
pub(crate) const MFD_FLAGS: &Names = &[
    (0x01, "MFD_CLOEXEC"),
    (0x02, "MFD_ALLOW_SEALING"),
    (0x04, "MFD_HUGETLB"),
    (0x08, "MFD_NOEXEC_SEAL"),
    (0x10, "MFD_EXEC"),
];
pub(crate) const CLOSE_RANGE_FLAGS: &Names =
    &[(2, "CLOSE_RANGE_UNSHARE"), (4, "CLOSE_RANGE_CLOEXEC")];
pub(crate) const RWF_FLAGS: &Names = &[
    (0x01, "RWF_HIPRI"),
    (0x02, "RWF_DSYNC"),
    (0x04, "RWF_SYNC"),
    (0x08, "RWF_NOWAIT"),
    (0x10, "RWF_APPEND"),
    (0x20, "RWF_NOAPPEND"),
    (0x40, "RWF_ATOMIC"),
    (0x80, "RWF_DONTCACHE"),
];
pub(crate) const GRND_FLAGS: &Names = &[
    (1, "GRND_NONBLOCK"),
    (2, "GRND_RANDOM"),
    (4, "GRND_INSECURE"),
];

// ---------------------------------------------------------------- fcntl(2)

pub(crate) const F_SETFD: u64 = libc::F_SETFD as u64;
pub(crate) const F_SETFL: u64 = libc::F_SETFL as u64;
pub(crate) const F_SETSIG: u64 = 10;
pub(crate) const F_SETLEASE: u64 = 1024;
pub(crate) const F_ADD_SEALS: u64 = 1033;

pub(crate) const FCNTL_CMDS: &Names = &[
    l!(F_DUPFD),
    l!(F_GETFD),
    l!(F_SETFD),
    l!(F_GETFL),
    l!(F_SETFL),
    (5, "F_GETLK"),
    (6, "F_SETLK"),
    (7, "F_SETLKW"),
    (8, "F_SETOWN"),
    (9, "F_GETOWN"),
    (10, "F_SETSIG"),
    (11, "F_GETSIG"),
    (15, "F_SETOWN_EX"),
    (16, "F_GETOWN_EX"),
    (17, "F_GETOWNER_UIDS"),
    (36, "F_OFD_GETLK"),
    (37, "F_OFD_SETLK"),
    (38, "F_OFD_SETLKW"),
    (1024, "F_SETLEASE"),
    (1025, "F_GETLEASE"),
    (1026, "F_NOTIFY"),
    (1027, "F_DUPFD_QUERY"),
    (1029, "F_CANCELLK"),
    (1030, "F_DUPFD_CLOEXEC"),
    (1031, "F_SETPIPE_SZ"),
    (1032, "F_GETPIPE_SZ"),
    (1033, "F_ADD_SEALS"),
    (1034, "F_GET_SEALS"),
    (1035, "F_GET_RW_HINT"),
    (1036, "F_SET_RW_HINT"),
    (1037, "F_GET_FILE_RW_HINT"),
    (1038, "F_SET_FILE_RW_HINT"),
];

/// fcntl commands that take no third argument (strace omits it).
pub(crate) fn fcntl_has_arg(cmd: u64) -> bool {
    !matches!(cmd, 1 | 3 | 9 | 11 | 1025 | 1032 | 1034)
}

/// fcntl commands whose third argument is a plain integer.
pub(crate) fn fcntl_int_arg(cmd: u64) -> bool {
    matches!(cmd, 0 | 8 | 1026 | 1027 | 1030 | 1031)
}

pub(crate) const LEASE_TYPES: &Names = &[(0, "F_RDLCK"), (1, "F_WRLCK"), (2, "F_UNLCK")];
pub(crate) const SEAL_FLAGS: &Names = &[
    (0x01, "F_SEAL_SEAL"),
    (0x02, "F_SEAL_SHRINK"),
    (0x04, "F_SEAL_GROW"),
    (0x08, "F_SEAL_WRITE"),
    (0x10, "F_SEAL_FUTURE_WRITE"),
    (0x20, "F_SEAL_EXEC"),
];

// ---------------------------------------------------------------- memory

/// `PROT_*`: arm64 adds BTI and MTE bits.
const PROT_X86_64: &Names = &[
    (0, "PROT_NONE"),
    l!(PROT_READ),
    l!(PROT_WRITE),
    l!(PROT_EXEC),
    (0x8, "PROT_SEM"),
    l!(PROT_GROWSDOWN),
    l!(PROT_GROWSUP),
];
const PROT_AARCH64: &Names = &[
    (0, "PROT_NONE"),
    l!(PROT_READ),
    l!(PROT_WRITE),
    l!(PROT_EXEC),
    (0x8, "PROT_SEM"),
    (0x10, "PROT_BTI"),
    (0x20, "PROT_MTE"),
    l!(PROT_GROWSDOWN),
    l!(PROT_GROWSUP),
];

pub(crate) fn prot_names(arch: Arch) -> &'static Names {
    match arch {
        Arch::X86_64 => PROT_X86_64,
        Arch::Aarch64 => PROT_AARCH64,
    }
}

/// `MAP_*` flags after the type bits; both use the generic values, x86_64
/// adds `MAP_32BIT`.
const MAP_X86_64: &Names = &[
    l!(MAP_FIXED),
    l!(MAP_ANONYMOUS),
    (0x40, "MAP_32BIT"),
    l!(MAP_GROWSDOWN),
    l!(MAP_DENYWRITE),
    l!(MAP_EXECUTABLE),
    l!(MAP_LOCKED),
    l!(MAP_NORESERVE),
    l!(MAP_POPULATE),
    l!(MAP_NONBLOCK),
    l!(MAP_STACK),
    l!(MAP_HUGETLB),
    (0x80000, "MAP_SYNC"),
    (0x100000, "MAP_FIXED_NOREPLACE"),
    (0x4000000, "MAP_UNINITIALIZED"),
];
const MAP_AARCH64: &Names = &[
    l!(MAP_FIXED),
    l!(MAP_ANONYMOUS),
    l!(MAP_GROWSDOWN),
    l!(MAP_DENYWRITE),
    l!(MAP_EXECUTABLE),
    l!(MAP_LOCKED),
    l!(MAP_NORESERVE),
    l!(MAP_POPULATE),
    l!(MAP_NONBLOCK),
    l!(MAP_STACK),
    l!(MAP_HUGETLB),
    (0x80000, "MAP_SYNC"),
    (0x100000, "MAP_FIXED_NOREPLACE"),
    (0x4000000, "MAP_UNINITIALIZED"),
];

/// `MAP_PRIVATE|MAP_ANONYMOUS`: sharing type first, then the flags.
pub(crate) fn mmap_flags(b: &mut Vec<u8>, arch: Arch, value: u64) {
    let ty = match value & 0xf {
        1 => Some("MAP_SHARED"),
        2 => Some("MAP_PRIVATE"),
        3 => Some("MAP_SHARED_VALIDATE"),
        _ => None,
    };
    let rest = if ty.is_some() { value & !0xf } else { value };
    if let Some(t) = ty {
        b.extend_from_slice(t.as_bytes());
        if rest == 0 {
            return;
        }
        b.push(b'|');
    }
    let names = match arch {
        Arch::X86_64 => MAP_X86_64,
        Arch::Aarch64 => MAP_AARCH64,
    };
    flags(b, rest, names);
}

/// strace's xlat/statx_attrs.in.
pub(crate) const STATX_ATTRS: &Names = &[
    (0x4, "STATX_ATTR_COMPRESSED"),
    (0x10, "STATX_ATTR_IMMUTABLE"),
    (0x20, "STATX_ATTR_APPEND"),
    (0x40, "STATX_ATTR_NODUMP"),
    (0x800, "STATX_ATTR_ENCRYPTED"),
    (0x1000, "STATX_ATTR_AUTOMOUNT"),
    (0x2000, "STATX_ATTR_MOUNT_ROOT"),
    (0x10_0000, "STATX_ATTR_VERITY"),
    (0x20_0000, "STATX_ATTR_DAX"),
    (0x40_0000, "STATX_ATTR_WRITE_ATOMIC"),
];

pub(crate) const MREMAP_FLAGS: &Names = &[
    (1, "MREMAP_MAYMOVE"),
    (2, "MREMAP_FIXED"),
    (4, "MREMAP_DONTUNMAP"),
];

pub(crate) const MADVICE: &Names = &[
    l!(MADV_NORMAL),
    l!(MADV_RANDOM),
    l!(MADV_SEQUENTIAL),
    l!(MADV_WILLNEED),
    l!(MADV_DONTNEED),
    l!(MADV_FREE),
    l!(MADV_REMOVE),
    l!(MADV_DONTFORK),
    l!(MADV_DOFORK),
    l!(MADV_MERGEABLE),
    l!(MADV_UNMERGEABLE),
    l!(MADV_HUGEPAGE),
    l!(MADV_NOHUGEPAGE),
    l!(MADV_DONTDUMP),
    l!(MADV_DODUMP),
    l!(MADV_WIPEONFORK),
    l!(MADV_KEEPONFORK),
    (20, "MADV_COLD"),
    (21, "MADV_PAGEOUT"),
    (22, "MADV_POPULATE_READ"),
    (23, "MADV_POPULATE_WRITE"),
    (24, "MADV_DONTNEED_LOCKED"),
    (25, "MADV_COLLAPSE"),
    l!(MADV_HWPOISON),
    (101, "MADV_SOFT_OFFLINE"),
    (102, "MADV_GUARD_INSTALL"),
    (103, "MADV_GUARD_REMOVE"),
];

// ---------------------------------------------------------------- processes

/// Signal numbers: x86_64 and arm64 both use the classic numbering.
const SIGNALS: &Names = &[
    l!(SIGHUP),
    l!(SIGINT),
    l!(SIGQUIT),
    l!(SIGILL),
    l!(SIGTRAP),
    l!(SIGABRT),
    l!(SIGBUS),
    l!(SIGFPE),
    l!(SIGKILL),
    l!(SIGUSR1),
    l!(SIGSEGV),
    l!(SIGUSR2),
    l!(SIGPIPE),
    l!(SIGALRM),
    l!(SIGTERM),
    (16, "SIGSTKFLT"),
    l!(SIGCHLD),
    l!(SIGCONT),
    l!(SIGSTOP),
    l!(SIGTSTP),
    l!(SIGTTIN),
    l!(SIGTTOU),
    l!(SIGURG),
    l!(SIGXCPU),
    l!(SIGXFSZ),
    l!(SIGVTALRM),
    l!(SIGPROF),
    l!(SIGWINCH),
    l!(SIGIO),
    l!(SIGPWR),
    l!(SIGSYS),
];

/// Kernel `SIGRTMIN` (glibc reserves the first few and reports 34).
const SIGRTMIN: u64 = 32;
const SIGRTMAX: u64 = 64;

/// `SIGTERM`, `SIGRTMIN`, `SIGRT_3`, or the number. `prefix` false gives
/// the short form used inside signal sets (`TERM`).
pub(crate) fn signal(b: &mut Vec<u8>, sig: u64, prefix: bool) {
    let name = name_of(sig, SIGNALS);
    let skip = if prefix { 0 } else { 3 };
    if let Some(n) = name {
        b.extend_from_slice(&n.as_bytes()[skip..]);
    } else if sig == SIGRTMIN {
        b.extend_from_slice(&b"SIGRTMIN"[skip..]);
    } else if (SIGRTMIN + 1..=SIGRTMAX).contains(&sig) {
        b.extend_from_slice(&b"SIGRT_"[skip..]);
        put::u64(b, sig - SIGRTMIN);
    } else {
        put::i64(b, i64::from(sig as u32 as i32));
    }
}

/// A 64-bit signal mask: `[INT TERM]`, or `~[...]` listing the signals *not*
/// in the set when more than half are (strace's convention).
pub(crate) fn sigset(b: &mut Vec<u8>, mask: u64) {
    let (mask, inverted) = if mask.count_ones() > 32 {
        (!mask, true)
    } else {
        (mask, false)
    };
    if inverted {
        b.push(b'~');
    }
    b.push(b'[');
    let mut first = true;
    for bit in 0..64u64 {
        if mask & (1 << bit) != 0 {
            if !first {
                b.push(b' ');
            }
            first = false;
            signal(b, bit + 1, false);
        }
    }
    b.push(b']');
}

pub(crate) const SIG_HOW: &Names = &[l!(SIG_BLOCK), l!(SIG_UNBLOCK), l!(SIG_SETMASK)];

/// strace's order (src/xlat/sigact_flags.in).
pub(crate) const SA_FLAGS: &Names = &[
    (0x0400_0000, "SA_RESTORER"),
    l!(SA_ONSTACK),
    l!(SA_RESTART),
    l!(SA_NODEFER),
    l!(SA_RESETHAND),
    l!(SA_SIGINFO),
    l!(SA_NOCLDSTOP),
    l!(SA_NOCLDWAIT),
    (0x400, "SA_UNSUPPORTED"),
    (0x800, "SA_EXPOSE_TAGBITS"),
];
pub(crate) const SA_RESTORER: u64 = 0x0400_0000;

/// `CLONE_*` flags (clone: low byte is the exit signal; clone3 has 64-bit
/// flags and a separate exit signal).
const CLONE_FLAGS: &Names = &[
    l!(CLONE_VM),
    l!(CLONE_FS),
    l!(CLONE_FILES),
    l!(CLONE_SIGHAND),
    (0x1000, "CLONE_PIDFD"),
    l!(CLONE_PTRACE),
    l!(CLONE_VFORK),
    l!(CLONE_PARENT),
    l!(CLONE_THREAD),
    l!(CLONE_NEWNS),
    l!(CLONE_SYSVSEM),
    l!(CLONE_SETTLS),
    l!(CLONE_PARENT_SETTID),
    l!(CLONE_CHILD_CLEARTID),
    // CLONE_DETACHED (0x400000) is not named: the kernel ignores it, and
    // strace's xlat/clone_flags.in leaves it out (musl still sets it).
    l!(CLONE_UNTRACED),
    l!(CLONE_CHILD_SETTID),
    l!(CLONE_NEWCGROUP),
    l!(CLONE_NEWUTS),
    l!(CLONE_NEWIPC),
    l!(CLONE_NEWUSER),
    l!(CLONE_NEWPID),
    l!(CLONE_NEWNET),
    l!(CLONE_IO),
    (0x1_0000_0000, "CLONE_CLEAR_SIGHAND"),
    (0x2_0000_0000, "CLONE_INTO_CGROUP"),
];
pub(crate) const CLONE_PIDFD: u64 = 0x1000;
pub(crate) const CLONE_SETTLS: u64 = libc::CLONE_SETTLS as u32 as u64;
pub(crate) const CLONE_PARENT_SETTID: u64 = libc::CLONE_PARENT_SETTID as u32 as u64;
pub(crate) const CLONE_CHILD_TID: u64 =
    (libc::CLONE_CHILD_SETTID as u32 | libc::CLONE_CHILD_CLEARTID as u32) as u64;

/// clone(2) flags: `CLONE_VM|...|SIGCHLD` (the low byte is the signal sent
/// to the parent when the child exits).
pub(crate) fn clone_flags(b: &mut Vec<u8>, value: u64) {
    let sig = value & 0xff;
    let rest = value & !0xff;
    if rest != 0 || sig == 0 {
        flags(b, rest, CLONE_FLAGS);
    }
    if sig != 0 {
        if rest != 0 {
            b.push(b'|');
        }
        signal(b, sig, true);
    }
}

/// clone3 flags (64-bit, `CLONE_NEWTIME` allowed in the low byte).
pub(crate) fn clone3_flags(b: &mut Vec<u8>, value: u64) {
    let newtime = value & 0x80;
    let rest = value & !0x80;
    flags(b, rest, CLONE_FLAGS);
    if newtime != 0 {
        b.extend_from_slice(b"|CLONE_NEWTIME");
    }
}

pub(crate) const WAIT_OPTIONS: &Names = &[
    l!(WNOHANG),
    l!(WUNTRACED),
    l!(WEXITED),
    l!(WCONTINUED),
    l!(WNOWAIT),
    l!(__WNOTHREAD),
    l!(__WALL),
    l!(__WCLONE),
];

pub(crate) const FUTEX_OPS: &Names = &[
    (0, "FUTEX_WAIT"),
    (1, "FUTEX_WAKE"),
    (2, "FUTEX_FD"),
    (3, "FUTEX_REQUEUE"),
    (4, "FUTEX_CMP_REQUEUE"),
    (5, "FUTEX_WAKE_OP"),
    (6, "FUTEX_LOCK_PI"),
    (7, "FUTEX_UNLOCK_PI"),
    (8, "FUTEX_TRYLOCK_PI"),
    (9, "FUTEX_WAIT_BITSET"),
    (10, "FUTEX_WAKE_BITSET"),
    (11, "FUTEX_WAIT_REQUEUE_PI"),
    (12, "FUTEX_CMP_REQUEUE_PI"),
    (13, "FUTEX_LOCK_PI2"),
];
const FUTEX_PRIVATE_FLAG: u64 = 128;
const FUTEX_CLOCK_REALTIME: u64 = 256;

/// `FUTEX_WAIT_PRIVATE`, `FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`.
pub(crate) fn futex_op(b: &mut Vec<u8>, op: u64) {
    let op = op & 0xffff_ffff;
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    match name_of(cmd, FUTEX_OPS) {
        Some(n) => {
            b.extend_from_slice(n.as_bytes());
            if op & FUTEX_PRIVATE_FLAG != 0 {
                b.extend_from_slice(b"_PRIVATE");
            }
            if op & FUTEX_CLOCK_REALTIME != 0 {
                b.extend_from_slice(b"|FUTEX_CLOCK_REALTIME");
            }
        }
        None => put::hex(b, op),
    }
}

/// Number of futex arguments that mean something for `op` (strace shows
/// only those).
pub(crate) fn futex_nargs(op: u64) -> usize {
    match op & 127 {
        7 | 8 => 2,      // UNLOCK_PI, TRYLOCK_PI: uaddr, op
        1 | 2 => 3,      // WAKE, FD: + val
        0 | 6 | 13 => 4, // WAIT, LOCK_PI, LOCK_PI2: + timeout
        3 | 11 => 5,     // REQUEUE, WAIT_REQUEUE_PI: + uaddr2
        _ => 6,          // the rest use everything (val3 = bitset/op)
    }
}

pub(crate) const PRCTL_OPTIONS: &Names = &[
    l!(PR_SET_PDEATHSIG),
    l!(PR_GET_PDEATHSIG),
    l!(PR_GET_DUMPABLE),
    l!(PR_SET_DUMPABLE),
    l!(PR_GET_UNALIGN),
    l!(PR_SET_UNALIGN),
    l!(PR_GET_KEEPCAPS),
    l!(PR_SET_KEEPCAPS),
    l!(PR_GET_FPEMU),
    l!(PR_SET_FPEMU),
    l!(PR_GET_FPEXC),
    l!(PR_SET_FPEXC),
    l!(PR_GET_TIMING),
    l!(PR_SET_TIMING),
    l!(PR_SET_NAME),
    l!(PR_GET_NAME),
    l!(PR_GET_ENDIAN),
    l!(PR_SET_ENDIAN),
    l!(PR_GET_SECCOMP),
    l!(PR_SET_SECCOMP),
    l!(PR_CAPBSET_READ),
    l!(PR_CAPBSET_DROP),
    l!(PR_GET_TSC),
    l!(PR_SET_TSC),
    l!(PR_GET_SECUREBITS),
    l!(PR_SET_SECUREBITS),
    l!(PR_SET_TIMERSLACK),
    l!(PR_GET_TIMERSLACK),
    l!(PR_TASK_PERF_EVENTS_DISABLE),
    l!(PR_TASK_PERF_EVENTS_ENABLE),
    l!(PR_MCE_KILL),
    l!(PR_MCE_KILL_GET),
    l!(PR_SET_MM),
    l!(PR_SET_CHILD_SUBREAPER),
    l!(PR_GET_CHILD_SUBREAPER),
    l!(PR_SET_NO_NEW_PRIVS),
    l!(PR_GET_NO_NEW_PRIVS),
    l!(PR_GET_TID_ADDRESS),
    l!(PR_SET_THP_DISABLE),
    l!(PR_GET_THP_DISABLE),
    l!(PR_MPX_ENABLE_MANAGEMENT),
    l!(PR_MPX_DISABLE_MANAGEMENT),
    l!(PR_SET_FP_MODE),
    l!(PR_GET_FP_MODE),
    l!(PR_CAP_AMBIENT),
    (50, "PR_SVE_SET_VL"),
    (51, "PR_SVE_GET_VL"),
    (52, "PR_GET_SPECULATION_CTRL"),
    (53, "PR_SET_SPECULATION_CTRL"),
    (54, "PR_PAC_RESET_KEYS"),
    (55, "PR_SET_TAGGED_ADDR_CTRL"),
    (56, "PR_GET_TAGGED_ADDR_CTRL"),
    (57, "PR_SET_IO_FLUSHER"),
    (58, "PR_GET_IO_FLUSHER"),
    (59, "PR_SET_SYSCALL_USER_DISPATCH"),
    (60, "PR_PAC_SET_ENABLED_KEYS"),
    (61, "PR_PAC_GET_ENABLED_KEYS"),
    (62, "PR_SCHED_CORE"),
    (63, "PR_SME_SET_VL"),
    (64, "PR_SME_GET_VL"),
    (65, "PR_SET_MDWE"),
    (66, "PR_GET_MDWE"),
    (67, "PR_SET_MEMORY_MERGE"),
    (68, "PR_GET_MEMORY_MERGE"),
    (0x5356_4d41, "PR_SET_VMA"),
];

/// arch_prctl(2) codes (x86_64 only).
pub(crate) const ARCH_PRCTL_CODES: &Names = &[
    (0x1001, "ARCH_SET_GS"),
    (0x1002, "ARCH_SET_FS"),
    (0x1003, "ARCH_GET_FS"),
    (0x1004, "ARCH_GET_GS"),
    (0x1011, "ARCH_GET_CPUID"),
    (0x1012, "ARCH_SET_CPUID"),
    (0x1021, "ARCH_GET_XCOMP_SUPP"),
    (0x1022, "ARCH_GET_XCOMP_PERM"),
    (0x1023, "ARCH_REQ_XCOMP_PERM"),
    (0x1024, "ARCH_GET_XCOMP_GUEST_PERM"),
    (0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"),
    (0x4001, "ARCH_GET_UNTAG_MASK"),
    (0x4002, "ARCH_ENABLE_TAGGED_ADDR"),
    (0x4003, "ARCH_GET_MAX_TAG_BITS"),
    (0x4004, "ARCH_FORCE_TAGGED_SVA"),
    (0x5001, "ARCH_SHSTK_ENABLE"),
    (0x5002, "ARCH_SHSTK_DISABLE"),
    (0x5003, "ARCH_SHSTK_LOCK"),
    (0x5004, "ARCH_SHSTK_UNLOCK"),
    (0x5005, "ARCH_SHSTK_STATUS"),
];

pub(crate) const RLIMITS: &Names = &[
    (0, "RLIMIT_CPU"),
    (1, "RLIMIT_FSIZE"),
    (2, "RLIMIT_DATA"),
    (3, "RLIMIT_STACK"),
    (4, "RLIMIT_CORE"),
    (5, "RLIMIT_RSS"),
    (6, "RLIMIT_NPROC"),
    (7, "RLIMIT_NOFILE"),
    (8, "RLIMIT_MEMLOCK"),
    (9, "RLIMIT_AS"),
    (10, "RLIMIT_LOCKS"),
    (11, "RLIMIT_SIGPENDING"),
    (12, "RLIMIT_MSGQUEUE"),
    (13, "RLIMIT_NICE"),
    (14, "RLIMIT_RTPRIO"),
    (15, "RLIMIT_RTTIME"),
];

// ---------------------------------------------------------------- time

pub(crate) const CLOCKS: &Names = &[
    l!(CLOCK_REALTIME),
    l!(CLOCK_MONOTONIC),
    l!(CLOCK_PROCESS_CPUTIME_ID),
    l!(CLOCK_THREAD_CPUTIME_ID),
    l!(CLOCK_MONOTONIC_RAW),
    l!(CLOCK_REALTIME_COARSE),
    l!(CLOCK_MONOTONIC_COARSE),
    l!(CLOCK_BOOTTIME),
    l!(CLOCK_REALTIME_ALARM),
    l!(CLOCK_BOOTTIME_ALARM),
    l!(CLOCK_TAI),
];
pub(crate) const TIMER_FLAGS: &Names = &[l!(TIMER_ABSTIME)];

// ---------------------------------------------------------------- sockets

pub(crate) const ADDRESS_FAMILIES: &Names = &[
    l!(AF_UNSPEC),
    l!(AF_UNIX),
    l!(AF_INET),
    l!(AF_AX25),
    l!(AF_IPX),
    l!(AF_APPLETALK),
    l!(AF_BRIDGE),
    l!(AF_X25),
    l!(AF_INET6),
    l!(AF_KEY),
    l!(AF_NETLINK),
    l!(AF_PACKET),
    l!(AF_RDS),
    l!(AF_IRDA),
    l!(AF_LLC),
    l!(AF_IB),
    l!(AF_MPLS),
    l!(AF_CAN),
    l!(AF_TIPC),
    l!(AF_BLUETOOTH),
    l!(AF_ALG),
    l!(AF_NFC),
    (40, "AF_VSOCK"),
    (43, "AF_SMC"),
    (44, "AF_XDP"),
    (45, "AF_MCTP"),
];
pub(crate) const AF_UNIX: u64 = libc::AF_UNIX as u64;
pub(crate) const AF_INET: u64 = libc::AF_INET as u64;
pub(crate) const AF_INET6: u64 = libc::AF_INET6 as u64;
pub(crate) const AF_NETLINK: u64 = libc::AF_NETLINK as u64;

const SOCK_TYPES: &Names = &[
    l!(SOCK_STREAM),
    l!(SOCK_DGRAM),
    l!(SOCK_RAW),
    l!(SOCK_RDM),
    l!(SOCK_SEQPACKET),
    (6, "SOCK_DCCP"),
    (10, "SOCK_PACKET"),
];
/// `SOCK_NONBLOCK`/`SOCK_CLOEXEC` are `O_NONBLOCK`/`O_CLOEXEC`, the same on
/// both architectures.
/// In strace's order (src/xlat/sock_type_flags.in).
pub(crate) const SOCK_FLAGS: &Names = &[l!(SOCK_CLOEXEC), l!(SOCK_NONBLOCK)];
/// `EPOLL_CLOEXEC` is `O_CLOEXEC`.
pub(crate) const EPOLL_FLAGS: &Names = &[(libc::O_CLOEXEC as u64, "EPOLL_CLOEXEC")];
/// strace's order (src/xlat/statfs_flags.in).
pub(crate) const STATFS_FLAGS: &Names = &[
    (0x20, "ST_VALID"),
    (0x1, "ST_RDONLY"),
    (0x2, "ST_NOSUID"),
    (0x4, "ST_NODEV"),
    (0x8, "ST_NOEXEC"),
    (0x10, "ST_SYNCHRONOUS"),
    (0x40, "ST_MANDLOCK"),
    (0x400, "ST_NOATIME"),
    (0x800, "ST_NODIRATIME"),
    (0x1000, "ST_RELATIME"),
    (0x2000, "ST_NOSYMFOLLOW"),
];
/// sigaltstack's `ss_flags`.
pub(crate) const SS_FLAGS: &Names = &[
    (1, "SS_ONSTACK"),
    (2, "SS_DISABLE"),
    (0x8000_0000, "SS_AUTODISARM"),
];
pub(crate) const SPLICE_FLAGS: &Names = &[
    (1, "SPLICE_F_MOVE"),
    (2, "SPLICE_F_NONBLOCK"),
    (4, "SPLICE_F_MORE"),
    (8, "SPLICE_F_GIFT"),
];
/// ioctl FICLONE, whose argument is a descriptor.
pub(crate) const FICLONE: u64 = 0x4004_9409;
/// Capabilities by number (strace's src/xlat/cap.in, the same order).
pub(crate) const CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// `CAP_SYS_ADMIN`, or `0x30 /* CAP_??? */` as strace writes an unknown one.
pub(crate) fn capability(b: &mut Vec<u8>, cap: u64) {
    match usize::try_from(cap).ok().and_then(|i| CAPABILITIES.get(i)) {
        Some(name) => b.extend_from_slice(name.as_bytes()),
        None => {
            put::hex(b, cap);
            b.extend_from_slice(b" /* CAP_??? */");
        }
    }
}

pub(crate) const XATTR_FLAGS: &Names = &[(1, "XATTR_CREATE"), (2, "XATTR_REPLACE")];
/// `POSIX_FADV_*` (the generic values, x86_64's and arm64's).
pub(crate) const FADVICE: &Names = &[
    (0, "POSIX_FADV_NORMAL"),
    (1, "POSIX_FADV_RANDOM"),
    (2, "POSIX_FADV_SEQUENTIAL"),
    (3, "POSIX_FADV_WILLNEED"),
    (4, "POSIX_FADV_DONTNEED"),
    (5, "POSIX_FADV_NOREUSE"),
];

/// `SOCK_STREAM|SOCK_CLOEXEC`.
pub(crate) fn sock_type(b: &mut Vec<u8>, value: u64) {
    let value = value & 0xffff_ffff;
    match name_of(value & 0xf, SOCK_TYPES) {
        Some(n) => b.extend_from_slice(n.as_bytes()),
        None => put::hex(b, value & 0xf),
    }
    let rest = value & !0xf;
    if rest != 0 {
        b.push(b'|');
        flags(b, rest, SOCK_FLAGS);
    }
}

pub(crate) const IP_PROTOCOLS: &Names = &[
    l!(IPPROTO_IP),
    l!(IPPROTO_ICMP),
    l!(IPPROTO_IGMP),
    l!(IPPROTO_TCP),
    l!(IPPROTO_UDP),
    l!(IPPROTO_IPV6),
    l!(IPPROTO_GRE),
    l!(IPPROTO_ICMPV6),
    l!(IPPROTO_SCTP),
    l!(IPPROTO_UDPLITE),
    l!(IPPROTO_RAW),
    (262, "IPPROTO_MPTCP"),
];
pub(crate) const NETLINK_PROTOCOLS: &Names = &[
    (0, "NETLINK_ROUTE"),
    (4, "NETLINK_SOCK_DIAG"),
    (6, "NETLINK_XFRM"),
    (7, "NETLINK_SELINUX"),
    (9, "NETLINK_AUDIT"),
    (10, "NETLINK_FIB_LOOKUP"),
    (12, "NETLINK_NETFILTER"),
    (15, "NETLINK_KOBJECT_UEVENT"),
    (16, "NETLINK_GENERIC"),
];

pub(crate) const MSG_FLAGS: &Names = &[
    l!(MSG_OOB),
    l!(MSG_PEEK),
    l!(MSG_DONTROUTE),
    l!(MSG_CTRUNC),
    (0x10, "MSG_PROXY"),
    l!(MSG_TRUNC),
    l!(MSG_DONTWAIT),
    l!(MSG_EOR),
    l!(MSG_WAITALL),
    l!(MSG_FIN),
    l!(MSG_SYN),
    l!(MSG_CONFIRM),
    l!(MSG_RST),
    l!(MSG_ERRQUEUE),
    l!(MSG_NOSIGNAL),
    l!(MSG_MORE),
    l!(MSG_WAITFORONE),
    (0x40000, "MSG_BATCH"),
    (0x4000000, "MSG_ZEROCOPY"),
    (0x20000000, "MSG_FASTOPEN"),
    l!(MSG_CMSG_CLOEXEC),
];
/// setsockopt/getsockopt levels (`SOL_*`; the IP ones are protocol numbers).
pub(crate) const SOCKOPT_LEVELS: &Names = &[
    l!(SOL_SOCKET),
    (0, "SOL_IP"),
    (6, "SOL_TCP"),
    (17, "SOL_UDP"),
    (41, "SOL_IPV6"),
    (270, "SOL_NETLINK"),
];
pub(crate) const SOL_SOCKET: u64 = libc::SOL_SOCKET as u64;
pub(crate) const SOL_TCP: u64 = 6;
pub(crate) const SOL_IPV6: u64 = 41;

/// `SO_*` for `SOL_SOCKET`: x86_64 and arm64 both use the generic values
/// (only alpha, mips, parisc and sparc differ).
pub(crate) const SOCKET_OPTIONS: &Names = &[
    (1, "SO_DEBUG"),
    (2, "SO_REUSEADDR"),
    (3, "SO_TYPE"),
    (4, "SO_ERROR"),
    (5, "SO_DONTROUTE"),
    (6, "SO_BROADCAST"),
    (7, "SO_SNDBUF"),
    (8, "SO_RCVBUF"),
    (9, "SO_KEEPALIVE"),
    (10, "SO_OOBINLINE"),
    (12, "SO_PRIORITY"),
    (13, "SO_LINGER"),
    (15, "SO_REUSEPORT"),
    (16, "SO_PASSCRED"),
    (17, "SO_PEERCRED"),
    (18, "SO_RCVLOWAT"),
    (20, "SO_RCVTIMEO_OLD"),
    (21, "SO_SNDTIMEO_OLD"),
    (25, "SO_BINDTODEVICE"),
    (26, "SO_ATTACH_FILTER"),
    (30, "SO_ACCEPTCONN"),
    (31, "SO_PEERSEC"),
    (32, "SO_SNDBUFFORCE"),
    (33, "SO_RCVBUFFORCE"),
    (36, "SO_MARK"),
    (38, "SO_PROTOCOL"),
    (39, "SO_DOMAIN"),
    (46, "SO_BUSY_POLL"),
    (47, "SO_MAX_PACING_RATE"),
    (50, "SO_ATTACH_BPF"),
    (59, "SO_PEERGROUPS"),
    (60, "SO_ZEROCOPY"),
    (66, "SO_RCVTIMEO_NEW"),
    (67, "SO_SNDTIMEO_NEW"),
    (77, "SO_PEERPIDFD"),
];
pub(crate) const TCP_OPTIONS: &Names = &[
    (1, "TCP_NODELAY"),
    (2, "TCP_MAXSEG"),
    (3, "TCP_CORK"),
    (4, "TCP_KEEPIDLE"),
    (5, "TCP_KEEPINTVL"),
    (6, "TCP_KEEPCNT"),
    (7, "TCP_SYNCNT"),
    (8, "TCP_LINGER2"),
    (9, "TCP_DEFER_ACCEPT"),
    (10, "TCP_WINDOW_CLAMP"),
    (11, "TCP_INFO"),
    (12, "TCP_QUICKACK"),
    (13, "TCP_CONGESTION"),
    (18, "TCP_USER_TIMEOUT"),
    (23, "TCP_FASTOPEN"),
    (30, "TCP_FASTOPEN_CONNECT"),
    (31, "TCP_ULP"),
];
pub(crate) const IPV6_OPTIONS: &Names = &[(26, "IPV6_V6ONLY"), (49, "IPV6_RECVPKTINFO")];

pub(crate) const SHUTDOWN_HOW: &Names = &[l!(SHUT_RD), l!(SHUT_WR), l!(SHUT_RDWR)];
pub(crate) const EPOLL_OPS: &Names = &[l!(EPOLL_CTL_ADD), l!(EPOLL_CTL_DEL), l!(EPOLL_CTL_MOD)];

// ---------------------------------------------------------------- ioctl

/// Common ioctl requests. x86_64 and arm64 both use the generic tty ioctl
/// numbers and the generic `_IOC` encoding, so one table serves both.
pub(crate) const IOCTLS: &Names = &[
    (0x5401, "TCGETS"),
    (0x5402, "TCSETS"),
    (0x5403, "TCSETSW"),
    (0x5404, "TCSETSF"),
    (0x5409, "TCSBRK"),
    (0x540a, "TCXONC"),
    (0x540b, "TCFLSH"),
    (0x540c, "TIOCEXCL"),
    (0x540d, "TIOCNXCL"),
    (0x540e, "TIOCSCTTY"),
    (0x540f, "TIOCGPGRP"),
    (0x5410, "TIOCSPGRP"),
    (0x5411, "TIOCOUTQ"),
    (0x5412, "TIOCSTI"),
    (0x5413, "TIOCGWINSZ"),
    (0x5414, "TIOCSWINSZ"),
    (0x5415, "TIOCMGET"),
    (0x541b, "FIONREAD"),
    (0x541c, "TIOCLINUX"),
    (0x541d, "TIOCCONS"),
    (0x5421, "FIONBIO"),
    (0x5422, "TIOCNOTTY"),
    (0x5429, "TIOCGSID"),
    (0x802c_542a, "TCGETS2"),
    (0x402c_542b, "TCSETS2"),
    (0x8004_5430, "TIOCGPTN"),
    (0x4004_5431, "TIOCSPTLCK"),
    (0x5441, "TIOCGPTPEER"),
    (0x5450, "FIONCLEX"),
    (0x5451, "FIOCLEX"),
    (0x5452, "FIOASYNC"),
    (0x5460, "FIOQSIZE"),
    (0x8008_6601, "FS_IOC_GETFLAGS"),
    (0x4008_6602, "FS_IOC_SETFLAGS"),
    // strace's name: btrfs defined it first, with the same number.
    (FICLONE, "BTRFS_IOC_CLONE or FICLONE"),
    (0x8008_1272, "BLKGETSIZE64"),
    (0x8912, "SIOCGIFCONF"),
    (0x8913, "SIOCGIFFLAGS"),
    (0x8927, "SIOCGIFHWADDR"),
    (0x8933, "SIOCGIFINDEX"),
];

// ------------------------------------------------- the rest of the table
// Names for the calls programs make less often, in the order strace's
// xlat/*.in files list them (strace prints flags in that order).

/// O_CLOEXEC and O_NONBLOCK have the same values on x86_64 and aarch64.
const CLOEXEC: u64 = 0o2000000;
const NONBLOCK: u64 = 0o4000;

/// strace's xlat/efd_flags.in.
pub(crate) const EFD_FLAGS: &Names = &[
    (1, "EFD_SEMAPHORE"),
    (CLOEXEC, "EFD_CLOEXEC"),
    (NONBLOCK, "EFD_NONBLOCK"),
];
/// xlat/sfd_flags.in.
pub(crate) const SFD_FLAGS: &Names = &[(CLOEXEC, "SFD_CLOEXEC"), (NONBLOCK, "SFD_NONBLOCK")];
/// xlat/inotify_init_flags.in.
pub(crate) const IN_INIT_FLAGS: &Names = &[(NONBLOCK, "IN_NONBLOCK"), (CLOEXEC, "IN_CLOEXEC")];
/// xlat/timerfdflags.in.
pub(crate) const TFD_FLAGS: &Names = &[
    (1, "TFD_TIMER_ABSTIME"),
    (2, "TFD_TIMER_CANCEL_ON_SET"),
    (CLOEXEC, "TFD_CLOEXEC"),
    (NONBLOCK, "TFD_NONBLOCK"),
];
/// xlat/priorities.in.
pub(crate) const PRIO_WHICH: &Names = &[(0, "PRIO_PROCESS"), (1, "PRIO_PGRP"), (2, "PRIO_USER")];
/// xlat/schedulers.in.
pub(crate) const SCHED_POLICIES: &Names = &[
    (0, "SCHED_OTHER"),
    (1, "SCHED_FIFO"),
    (2, "SCHED_RR"),
    (3, "SCHED_BATCH"),
    (4, "SCHED_ISO"),
    (5, "SCHED_IDLE"),
    (6, "SCHED_DEADLINE"),
    (7, "SCHED_EXT"),
];
/// xlat/itimer_which.in.
pub(crate) const ITIMERS: &Names = &[
    (0, "ITIMER_REAL"),
    (1, "ITIMER_VIRTUAL"),
    (2, "ITIMER_PROF"),
];
/// xlat/usagewho.in (`RUSAGE_CHILDREN` is -1: an `int`).
pub(crate) const RUSAGE_WHO: &Names = &[
    (0, "RUSAGE_SELF"),
    (0xffff_ffff, "RUSAGE_CHILDREN"),
    (0xffff_fffe, "RUSAGE_BOTH"),
    (1, "RUSAGE_THREAD"),
];
/// xlat/mlockall_flags.in (the generic values).
pub(crate) const MCL_FLAGS: &Names = &[(1, "MCL_CURRENT"), (2, "MCL_FUTURE"), (4, "MCL_ONFAULT")];
/// xlat/mlock_flags.in.
pub(crate) const MLOCK_FLAGS: &Names = &[(1, "MLOCK_ONFAULT")];
/// xlat/umount_flags.in.
pub(crate) const UMOUNT_FLAGS: &Names = &[
    (1, "MNT_FORCE"),
    (2, "MNT_DETACH"),
    (4, "MNT_EXPIRE"),
    (8, "UMOUNT_NOFOLLOW"),
];
/// xlat/sync_file_range_flags.in.
pub(crate) const SYNC_FILE_RANGE_FLAGS: &Names = &[
    (1, "SYNC_FILE_RANGE_WAIT_BEFORE"),
    (2, "SYNC_FILE_RANGE_WRITE"),
    (4, "SYNC_FILE_RANGE_WAIT_AFTER"),
];
/// xlat/membarrier_cmds.in.
pub(crate) const MEMBARRIER_CMDS: &Names = &[
    (0, "MEMBARRIER_CMD_QUERY"),
    (1 << 0, "MEMBARRIER_CMD_GLOBAL"),
    (1 << 1, "MEMBARRIER_CMD_GLOBAL_EXPEDITED"),
    (1 << 2, "MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED"),
    (1 << 3, "MEMBARRIER_CMD_PRIVATE_EXPEDITED"),
    (1 << 4, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED"),
    (1 << 5, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE"),
    (
        1 << 6,
        "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE",
    ),
    (1 << 7, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ"),
    (1 << 8, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ"),
    (1 << 9, "MEMBARRIER_CMD_GET_REGISTRATIONS"),
];
/// `CLONE_*` namespace flags for unshare and setns (the clone flags
/// without the exit signal byte).
pub(crate) const UNSHARE_FLAGS: &Names = CLONE_FLAGS;

// ---------------------------------------------------------------- NUMA

/// xlat/mpol_modes.in.
pub(crate) const MPOL_MODES: &Names = &[
    (0, "MPOL_DEFAULT"),
    (1, "MPOL_PREFERRED"),
    (2, "MPOL_BIND"),
    (3, "MPOL_INTERLEAVE"),
    (4, "MPOL_LOCAL"),
    (5, "MPOL_PREFERRED_MANY"),
    (6, "MPOL_WEIGHTED_INTERLEAVE"),
];
/// xlat/mpol_mode_flags.in.
const MPOL_MODE_FLAGS: &Names = &[
    (1 << 15, "MPOL_F_STATIC_NODES"),
    (1 << 14, "MPOL_F_RELATIVE_NODES"),
    (1 << 13, "MPOL_F_NUMA_BALANCING"),
];
/// xlat/get_mempolicy_flags.in.
pub(crate) const GET_MEMPOLICY_FLAGS: &Names = &[
    (1, "MPOL_F_NODE"),
    (2, "MPOL_F_ADDR"),
    (4, "MPOL_F_MEMS_ALLOWED"),
];
/// xlat/mbind_flags.in.
pub(crate) const MBIND_FLAGS: &Names = &[
    (1, "MPOL_MF_STRICT"),
    (2, "MPOL_MF_MOVE"),
    (4, "MPOL_MF_MOVE_ALL"),
];

/// A memory policy mode with its mode flags, as strace's numa.c
/// print_mode: `MPOL_BIND`, `MPOL_BIND|MPOL_F_STATIC_NODES`.
pub(crate) fn mpol_mode(b: &mut Vec<u8>, value: u64) {
    let flag_bits = MPOL_MODE_FLAGS.iter().fold(0, |acc, (v, _)| acc | v);
    let (mode, mode_flags) = (value & !flag_bits, value & flag_bits);
    match name_of(mode, MPOL_MODES) {
        Some(n) if mode_flags == 0 => b.extend_from_slice(n.as_bytes()),
        Some(n) => {
            b.extend_from_slice(n.as_bytes());
            b.push(b'|');
            flags(b, mode_flags, MPOL_MODE_FLAGS);
        }
        None if mode_flags == 0 => {
            put::hex(b, mode);
            b.extend_from_slice(b" /* MPOL_??? */");
        }
        None => flags(b, value, MPOL_MODE_FLAGS),
    }
}

/// strace's xlat/pollflags.in (the generic values, x86_64's and arm64's).
/// `struct epoll_event`'s `events` (include/uapi/linux/eventpoll.h, in
/// strace's order: xlat/epollevents.in).
pub(crate) const EPOLL_EVENTS: &Names = &[
    (0x1, "EPOLLIN"),
    (0x2, "EPOLLPRI"),
    (0x4, "EPOLLOUT"),
    (0x8, "EPOLLERR"),
    (0x10, "EPOLLHUP"),
    (0x20, "EPOLLNVAL"),
    (0x40, "EPOLLRDNORM"),
    (0x80, "EPOLLRDBAND"),
    (0x100, "EPOLLWRNORM"),
    (0x200, "EPOLLWRBAND"),
    (0x400, "EPOLLMSG"),
    (0x2000, "EPOLLRDHUP"),
    (1 << 28, "EPOLLEXCLUSIVE"),
    (1 << 29, "EPOLLWAKEUP"),
    (1 << 30, "EPOLLONESHOT"),
    (1 << 31, "EPOLLET"),
];
pub(crate) const POLL_EVENTS: &Names = &[
    (0x1, "POLLIN"),
    (0x2, "POLLPRI"),
    (0x4, "POLLOUT"),
    (0x8, "POLLERR"),
    (0x10, "POLLHUP"),
    (0x20, "POLLNVAL"),
    (0x40, "POLLRDNORM"),
    (0x80, "POLLRDBAND"),
    (0x100, "POLLWRNORM"),
    (0x200, "POLLWRBAND"),
    (0x400, "POLLMSG"),
    (0x1000, "POLLREMOVE"),
    (0x2000, "POLLRDHUP"),
    (0x8000, "POLL_BUSY_LOOP"),
];
