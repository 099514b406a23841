//! Decoders for the structs syscalls read or fill in, from captured bytes.
//!
//! The bytes come from an untrusted log, so every field access is checked:
//! each decoder either writes a complete rendering and returns `true`, or
//! writes nothing and returns `false` (too few bytes), leaving the caller to
//! show a fallback. Layouts are those of the *recorded* architecture; both
//! supported ones are little-endian and LP64, so only `struct stat` differs.

use std::io::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::Arch;
use super::consts;
use super::put::{self, le_u16, le_u32, le_u64};

/// x86_64's own `struct stat` (arch/x86/include/uapi/asm/stat.h).
pub(crate) const STAT_SIZE_X86_64: usize = 144;
/// arm64 uses the generic `struct stat` (include/uapi/asm-generic/stat.h).
pub(crate) const STAT_SIZE_AARCH64: usize = 128;
pub(crate) const STATX_SIZE: usize = 256;
/// `struct timespec` and `struct timeval`: two 64-bit fields.
pub(crate) const TIMESPEC_SIZE: usize = 16;
/// `struct pollfd`: int fd, short events, short revents.
pub(crate) const POLLFD_SIZE: usize = 8;
/// `struct new_utsname`: six 65-byte strings.
pub(crate) const UTSNAME_SIZE: usize = 390;
const UTS_FIELD: usize = 65;
/// Kernel `struct sigaction` for rt_sigaction: handler, flags, restorer,
/// 64-bit mask (same on both, arm64 defines `SA_RESTORER` too).
pub(crate) const SIGACTION_SIZE: usize = 32;
/// `CLONE_ARGS_SIZE_VER0`: the fields every clone3 caller passes.
const CLONE_ARGS_MIN: usize = 64;

/// Size of `struct stat` on `arch`.
pub(crate) fn stat_size(arch: Arch) -> usize {
    match arch {
        Arch::X86_64 => STAT_SIZE_X86_64,
        Arch::Aarch64 => STAT_SIZE_AARCH64,
    }
}

/// Runs `f`; if it returns `None` (a field was missing), removes whatever it
/// wrote so the caller's fallback starts from a clean buffer.
fn all_or_nothing(b: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>) -> Option<()>) -> bool {
    let mark = b.len();
    if f(b).is_some() {
        true
    } else {
        b.truncate(mark);
        false
    }
}

/// `makedev(0x88, 0x1)` from the kernel's `new_encode_dev` format (which
/// is also glibc's `dev_t` encoding, mknod's argument).
pub(crate) fn makedev(b: &mut Vec<u8>, dev: u64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    b.extend_from_slice(b"makedev(");
    put::hex(b, major);
    b.extend_from_slice(b", ");
    put::hex(b, minor);
    b.push(b')');
}

fn is_device(mode: u64) -> bool {
    let fmt = mode & libc::S_IFMT as u64;
    fmt == libc::S_IFCHR as u64 || fmt == libc::S_IFBLK as u64
}

/// `{st_mode=S_IFREG|0644, st_size=1234, ...}` (strace's abbreviated form;
/// devices show `st_rdev` instead of the size); with `verbose` (`-v`)
/// every field, as strace's print_struct_stat: `{st_dev=makedev(0xfe, 0),
/// st_ino=604, st_mode=..., st_nlink=1, st_uid=0, st_gid=0,
/// st_blksize=4096, st_blocks=80, st_size=38203, st_atime=1796612219 /*
/// 2026-12-07T02:56:59.084590756+0000 */, st_atime_nsec=84590756, ...}`.
pub(crate) fn stat(b: &mut Vec<u8>, arch: Arch, bytes: &[u8], verbose: bool) -> bool {
    all_or_nothing(b, |b| {
        if bytes.len() < stat_size(arch) {
            return None;
        }
        // (mode, nlink, uid, gid, rdev, blksize): the fields whose offsets
        // differ; st_dev, st_ino, st_size, st_blocks and the times do not.
        let (mode, nlink, uid, gid, rdev, blksize) = match arch {
            Arch::X86_64 => (
                le_u32(bytes, 24)?,
                le_u64(bytes, 16)?,
                le_u32(bytes, 28)?,
                le_u32(bytes, 32)?,
                le_u64(bytes, 40)?,
                le_u64(bytes, 56)?,
            ),
            Arch::Aarch64 => (
                le_u32(bytes, 16)?,
                u64::from(le_u32(bytes, 20)?),
                le_u32(bytes, 24)?,
                le_u32(bytes, 28)?,
                le_u64(bytes, 32)?,
                u64::from(le_u32(bytes, 56)?),
            ),
        };
        let size = le_u64(bytes, 48)? as i64;
        b.push(b'{');
        if verbose {
            b.extend_from_slice(b"st_dev=");
            makedev(b, le_u64(bytes, 0)?);
            let _ = write!(b, ", st_ino={}, st_mode=", le_u64(bytes, 8)?);
            consts::st_mode(b, u64::from(mode));
            let _ = write!(
                b,
                ", st_nlink={nlink}, st_uid={uid}, st_gid={gid}, st_blksize={blksize}, \
                 st_blocks={}",
                le_u64(bytes, 64)?
            );
        } else {
            b.extend_from_slice(b"st_mode=");
            consts::st_mode(b, u64::from(mode));
        }
        if is_device(u64::from(mode)) {
            b.extend_from_slice(b", st_rdev=");
            makedev(b, rdev);
        } else {
            b.extend_from_slice(b", st_size=");
            put::i64(b, size);
        }
        if verbose {
            for (name, off) in [("atime", 72), ("mtime", 88), ("ctime", 104)] {
                let sec = le_u64(bytes, off)? as i64;
                let nsec = le_u64(bytes, off + 8)?;
                let _ = write!(b, ", st_{name}={sec}");
                date_comment(b, sec, nsec);
                let _ = write!(b, ", st_{name}_nsec={nsec}");
            }
            b.push(b'}');
        } else {
            b.extend_from_slice(b", ...}");
        }
        Some(())
    })
}

/// ` /* 2026-12-07T02:56:59.084590756+0000 */` after a time, as strace's
/// sprinttime_nsec comments it: nothing for 0 (with 0 nanoseconds) or for
/// nanoseconds out of range.
fn date_comment(b: &mut Vec<u8>, sec: i64, nsec: u64) {
    if (sec == 0 && nsec == 0) || nsec > 999_999_999 {
        return;
    }
    b.extend_from_slice(b" /* ");
    b.extend_from_slice(crate::read::time::strace_date(sec, nsec as i64).as_bytes());
    b.extend_from_slice(b" */");
}

/// An id as strace's PRINT_VAL_ID: `-1` for `(uid_t)-1`, else unsigned.
fn id(b: &mut Vec<u8>, v: u32) {
    if v == u32::MAX {
        b.extend_from_slice(b"-1");
    } else {
        put::u64(b, u64::from(v));
    }
}

/// `STATX_*` mask bits (include/uapi/linux/stat.h) that decide which
/// fields strace 6.1's statx.c prints.
mod stx {
    pub(super) const TYPE: u32 = 0x1;
    pub(super) const MODE: u32 = 0x2;
    pub(super) const NLINK: u32 = 0x4;
    pub(super) const UID: u32 = 0x8;
    pub(super) const GID: u32 = 0x10;
    pub(super) const ATIME: u32 = 0x20;
    pub(super) const MTIME: u32 = 0x40;
    pub(super) const CTIME: u32 = 0x80;
    pub(super) const INO: u32 = 0x100;
    pub(super) const SIZE: u32 = 0x200;
    pub(super) const BLOCKS: u32 = 0x400;
    pub(super) const BTIME: u32 = 0x800;
    pub(super) const MNT_ID: u32 = 0x1000;
    pub(super) const DIOALIGN: u32 = 0x2000;
}

/// `{stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0,
/// stx_mode=S_IFREG|0644, stx_size=1234, ...}`, as strace 6.1's statx.c:
/// the mode and size only when the mask says they were filled in; with
/// `verbose` (`-v`) every field the mask covers, the timestamps as
/// `{tv_sec=..., tv_nsec=...} /* date */`.
pub(crate) fn statx(b: &mut Vec<u8>, bytes: &[u8], verbose: bool) -> bool {
    all_or_nothing(b, |b| {
        let mask = le_u32(bytes, 0)?;
        let has = |bit: u32| mask & bit != 0;
        b.extend_from_slice(b"{stx_mask=");
        consts::flags(b, u64::from(mask), consts::STATX_MASK);
        if verbose {
            let _ = write!(b, ", stx_blksize={}", le_u32(bytes, 4)?);
        }
        b.extend_from_slice(b", stx_attributes=");
        consts::flags(b, le_u64(bytes, 8)?, consts::STATX_ATTRS);
        if verbose {
            for (bit, name, off) in [
                (stx::NLINK, "stx_nlink", 16),
                (stx::UID, "stx_uid", 20),
                (stx::GID, "stx_gid", 24),
            ] {
                if has(bit) {
                    let _ = write!(b, ", {name}=");
                    let v = le_u32(bytes, off)?;
                    if bit == stx::NLINK {
                        put::u64(b, u64::from(v));
                    } else {
                        id(b, v);
                    }
                }
            }
        }
        if has(stx::TYPE | stx::MODE) {
            b.extend_from_slice(b", stx_mode=");
            consts::st_mode(b, u64::from(le_u16(bytes, 28)?));
        }
        if verbose && has(stx::INO) {
            let _ = write!(b, ", stx_ino={}", le_u64(bytes, 32)?);
        }
        if has(stx::SIZE) {
            let _ = write!(b, ", stx_size={}", le_u64(bytes, 40)?);
        }
        if !verbose {
            b.extend_from_slice(b", ...}");
            return Some(());
        }
        if has(stx::BLOCKS) {
            let _ = write!(b, ", stx_blocks={}", le_u64(bytes, 48)?);
        }
        b.extend_from_slice(b", stx_attributes_mask=");
        consts::flags(b, le_u64(bytes, 56)?, consts::STATX_ATTRS);
        for (bit, name, off) in [
            (stx::ATIME, "stx_atime", 64),
            (stx::BTIME, "stx_btime", 80),
            (stx::CTIME, "stx_ctime", 96),
            (stx::MTIME, "stx_mtime", 112),
        ] {
            if has(bit) {
                let sec = le_u64(bytes, off)? as i64;
                let nsec = le_u32(bytes, off + 8)?;
                let _ = write!(b, ", {name}={{tv_sec={sec}, tv_nsec={nsec}}}");
                date_comment(b, sec, u64::from(nsec));
            }
        }
        for (name, off) in [
            ("stx_rdev_major", 128),
            ("stx_rdev_minor", 132),
            ("stx_dev_major", 136),
            ("stx_dev_minor", 140),
        ] {
            let _ = write!(b, ", {name}={}", le_u32(bytes, off)?);
        }
        if has(stx::MNT_ID) {
            b.extend_from_slice(b", stx_mnt_id=");
            put::hex(b, le_u64(bytes, 144)?);
        }
        if has(stx::DIOALIGN) {
            let (mem, off) = (le_u32(bytes, 152)?, le_u32(bytes, 156)?);
            let _ = write!(b, ", stx_dio_mem_align={mem}, stx_dio_offset_align={off}");
        }
        b.push(b'}');
        Some(())
    })
}

/// `{tv_sec=1, tv_nsec=500000000}`, or `tv_usec` for a timeval.
pub(crate) fn timespec(b: &mut Vec<u8>, bytes: &[u8], usec: bool) -> bool {
    all_or_nothing(b, |b| {
        let sec = le_u64(bytes, 0)? as i64;
        let frac = le_u64(bytes, 8)? as i64;
        b.extend_from_slice(b"{tv_sec=");
        put::i64(b, sec);
        b.extend_from_slice(if usec { b", tv_usec=" } else { b", tv_nsec=" });
        put::i64(b, frac);
        b.push(b'}');
        Some(())
    })
}

/// `{sysname="Linux", nodename="host", ...}`, as strace abbreviates it;
/// with `verbose` (`-v`) all six fields, through `domainname`.
pub(crate) fn utsname(b: &mut Vec<u8>, bytes: &[u8], verbose: bool) -> bool {
    const NAMES: [&str; 6] = [
        "sysname",
        "nodename",
        "release",
        "version",
        "machine",
        "domainname",
    ];
    all_or_nothing(b, |b| {
        let all = bytes.get(..UTSNAME_SIZE)?;
        let shown = if verbose { NAMES.len() } else { 2 };
        b.push(b'{');
        for (k, (name, field)) in NAMES.iter().zip(all.chunks_exact(UTS_FIELD)).enumerate() {
            if k == shown {
                break;
            }
            if k > 0 {
                b.extend_from_slice(b", ");
            }
            b.extend_from_slice(name.as_bytes());
            b.push(b'=');
            put::quoted(b, put::until_nul(field), false);
        }
        b.extend_from_slice(if verbose { b"}" } else { b", ...}" });
        Some(())
    })
}

/// `struct rlimit` (64-bit fields on both architectures).
pub(crate) const RLIMIT_SIZE: usize = 16;

/// `{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}`, as strace's
/// resource.c writes limits.
pub(crate) fn rlimit(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    fn limit(b: &mut Vec<u8>, v: u64) {
        if v == u64::MAX {
            b.extend_from_slice(b"RLIM64_INFINITY");
        } else if v > 1024 && v.is_multiple_of(1024) {
            put::u64(b, v / 1024);
            b.extend_from_slice(b"*1024");
        } else {
            put::u64(b, v);
        }
    }
    all_or_nothing(b, |b| {
        let (cur, max) = (le_u64(bytes, 0)?, le_u64(bytes, 8)?);
        b.extend_from_slice(b"{rlim_cur=");
        limit(b, cur);
        b.extend_from_slice(b", rlim_max=");
        limit(b, max);
        b.push(b'}');
        Some(())
    })
}

/// `struct statfs` on 64-bit ABIs (x86_64 and arm64's generic one alike:
/// eleven 64-bit words, `f_fsid` two ints, then spare words).
pub(crate) const STATFS_SIZE: usize = 120;

/// `{f_type=EXT2_SUPER_MAGIC, f_bsize=4096, ..., f_flags=ST_VALID}`, as
/// strace's statfs.c writes it.
pub(crate) fn statfs(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    const COUNTS: [(&str, usize); 6] = [
        ("f_bsize", 8),
        ("f_blocks", 16),
        ("f_bfree", 24),
        ("f_bavail", 32),
        ("f_files", 40),
        ("f_ffree", 48),
    ];
    all_or_nothing(b, |b| {
        let _ = bytes.get(..STATFS_SIZE)?;
        let f_type = le_u64(bytes, 0)?;
        b.extend_from_slice(b"{f_type=");
        match super::fsmagic::fs_magic_name(f_type) {
            Some(n) => b.extend_from_slice(n.as_bytes()),
            None => put::hex(b, f_type),
        }
        for (name, off) in COUNTS {
            let _ = write!(b, ", {name}={}", le_u64(bytes, off)?);
        }
        let (a, c) = (le_u32(bytes, 56)?, le_u32(bytes, 60)?);
        let _ = write!(b, ", f_fsid={{val=[{a:#x}, {c:#x}]}}");
        let _ = write!(b, ", f_namelen={}", le_u64(bytes, 64)?);
        let _ = write!(b, ", f_frsize={}, f_flags=", le_u64(bytes, 72)?);
        consts::flags(b, le_u64(bytes, 80)?, consts::STATFS_FLAGS);
        b.push(b'}');
        Some(())
    })
}

/// `stack_t` (sigaltstack) on 64-bit ABIs.
pub(crate) const STACK_T_SIZE: usize = 24;

/// `{ss_sp=0x55f1b0b82b00, ss_flags=0, ss_size=65536}`.
pub(crate) fn stack_t(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    all_or_nothing(b, |b| {
        let (sp, flags, size) = (le_u64(bytes, 0)?, le_u32(bytes, 8)?, le_u64(bytes, 16)?);
        b.extend_from_slice(b"{ss_sp=");
        put::ptr(b, sp);
        b.extend_from_slice(b", ss_flags=");
        consts::flags(b, u64::from(flags), consts::SS_FLAGS);
        let _ = write!(b, ", ss_size={size}}}");
        Some(())
    })
}

/// A CPU mask as strace's affinity.c prints it: the CPUs set, `[0 1]`.
pub(crate) fn cpu_set(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    b.push(b'[');
    let mut first = true;
    for (i, byte) in bytes.iter().enumerate() {
        for bit in 0..8 {
            if byte & (1 << bit) != 0 {
                if !first {
                    b.push(b' ');
                }
                first = false;
                put::u64(b, (i * 8 + bit) as u64);
            }
        }
    }
    b.push(b']');
    true
}

/// `struct sysinfo` on 64-bit ABIs (x86_64 and arm64 alike).
pub(crate) const SYSINFO_SIZE: usize = 112;

/// All of `struct sysinfo`, in strace's sysinfo.c order and names.
pub(crate) fn sysinfo(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    const ULONGS: [(&str, usize); 6] = [
        ("totalram", 32),
        ("freeram", 40),
        ("sharedram", 48),
        ("bufferram", 56),
        ("totalswap", 64),
        ("freeswap", 72),
    ];
    all_or_nothing(b, |b| {
        let _ = bytes.get(..SYSINFO_SIZE)?;
        b.extend_from_slice(b"{uptime=");
        put::i64(b, le_u64(bytes, 0)? as i64);
        b.extend_from_slice(b", loads=[");
        for i in 0..3 {
            if i > 0 {
                b.extend_from_slice(b", ");
            }
            put::u64(b, le_u64(bytes, 8 + 8 * i)?);
        }
        b.push(b']');
        for (name, off) in ULONGS {
            let _ = write!(b, ", {name}={}", le_u64(bytes, off)?);
        }
        let procs = le_u16(bytes, 80)?;
        let (high, free_high) = (le_u64(bytes, 88)?, le_u64(bytes, 96)?);
        let unit = le_u32(bytes, 104)?;
        let _ = write!(
            b,
            ", procs={procs}, totalhigh={high}, freehigh={free_high}, mem_unit={unit}}}"
        );
        Some(())
    })
}

/// A `gid_t` list (getgroups): `[4, 24, 27]`, as strace's uid.c prints
/// it (`(gid_t)-1` as `-1`), `...` after `max` elements.
pub(crate) fn gid_list(b: &mut Vec<u8>, bytes: &[u8], max: usize) -> bool {
    if !bytes.len().is_multiple_of(4) {
        return false;
    }
    b.push(b'[');
    for (k, g) in bytes.chunks_exact(4).enumerate() {
        if k > 0 {
            b.extend_from_slice(b", ");
        }
        if k == max {
            b.extend_from_slice(b"...");
            break;
        }
        match le_u32(g, 0) {
            Some(u32::MAX) => b.extend_from_slice(b"-1"),
            Some(gid) => put::u64(b, u64::from(gid)),
            None => return false,
        }
    }
    b.push(b']');
    true
}

/// `[3, 4]` (pipe, socketpair).
pub(crate) fn int_pair(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    all_or_nothing(b, |b| {
        let x = le_u32(bytes, 0)? as i32;
        let y = le_u32(bytes, 4)? as i32;
        b.push(b'[');
        put::i64(b, i64::from(x));
        b.extend_from_slice(b", ");
        put::i64(b, i64::from(y));
        b.push(b']');
        Some(())
    })
}

/// `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`, strace's wait status form.
pub(crate) fn wait_status(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    all_or_nothing(b, |b| {
        let s = u64::from(le_u32(bytes, 0)?);
        b.extend_from_slice(b"[{");
        if s & 0x7f == 0 {
            b.extend_from_slice(b"WIFEXITED(s) && WEXITSTATUS(s) == ");
            put::u64(b, (s >> 8) & 0xff);
        } else if s & 0xff == 0x7f {
            b.extend_from_slice(b"WIFSTOPPED(s) && WSTOPSIG(s) == ");
            consts::signal(b, (s >> 8) & 0xff, true);
        } else if s == 0xffff {
            b.extend_from_slice(b"WIFCONTINUED(s)");
        } else {
            b.extend_from_slice(b"WIFSIGNALED(s) && WTERMSIG(s) == ");
            consts::signal(b, s & 0x7f, true);
            if s & 0x80 != 0 {
                b.extend_from_slice(b" && WCOREDUMP(s)");
            }
        }
        b.extend_from_slice(b"}]");
        Some(())
    })
}

/// `{sa_handler=SIG_DFL, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x...}`.
pub(crate) fn sigaction(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    all_or_nothing(b, |b| {
        let handler = le_u64(bytes, 0)?;
        let flags = le_u64(bytes, 8)?;
        let restorer = le_u64(bytes, 16)?;
        let mask = le_u64(bytes, 24)?;
        b.extend_from_slice(b"{sa_handler=");
        match handler {
            0 => b.extend_from_slice(b"SIG_DFL"),
            1 => b.extend_from_slice(b"SIG_IGN"),
            h => put::hex(b, h),
        }
        b.extend_from_slice(b", sa_mask=");
        consts::sigset(b, mask);
        b.extend_from_slice(b", sa_flags=");
        consts::flags(b, flags, consts::SA_FLAGS);
        if flags & consts::SA_RESTORER != 0 {
            b.extend_from_slice(b", sa_restorer=");
            put::ptr(b, restorer);
        }
        b.push(b'}');
        Some(())
    })
}

/// A 64-bit signal set: `[INT TERM]`.
pub(crate) fn sigset(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    all_or_nothing(b, |b| {
        consts::sigset(b, le_u64(bytes, 0)?);
        Some(())
    })
}

/// openat2's `{flags=O_RDONLY|O_CLOEXEC, mode=000, resolve=RESOLVE_BENEATH}`.
pub(crate) fn open_how(b: &mut Vec<u8>, arch: Arch, bytes: &[u8]) -> bool {
    all_or_nothing(b, |b| {
        let flags = le_u64(bytes, 0)?;
        let mode = le_u64(bytes, 8)?;
        let resolve = le_u64(bytes, 16)?;
        b.extend_from_slice(b"{flags=");
        consts::open_flags(b, arch, flags);
        b.extend_from_slice(b", mode=");
        put::oct(b, mode);
        b.extend_from_slice(b", resolve=");
        consts::flags(b, resolve, consts::RESOLVE_FLAGS);
        b.push(b'}');
        Some(())
    })
}

/// clone3's `{flags=CLONE_VM|..., exit_signal=SIGCHLD, stack=..., ...}`:
/// pointer fields only when a flag makes them meaningful, like strace.
pub(crate) fn clone_args(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    all_or_nothing(b, |b| {
        if bytes.len() < CLONE_ARGS_MIN {
            return None;
        }
        let flags = le_u64(bytes, 0)?;
        let pidfd = le_u64(bytes, 8)?;
        let child_tid = le_u64(bytes, 16)?;
        let parent_tid = le_u64(bytes, 24)?;
        let exit_signal = le_u64(bytes, 32)?;
        let stack = le_u64(bytes, 40)?;
        let stack_size = le_u64(bytes, 48)?;
        let tls = le_u64(bytes, 56)?;
        b.extend_from_slice(b"{flags=");
        consts::clone3_flags(b, flags);
        if flags & consts::CLONE_PIDFD != 0 {
            b.extend_from_slice(b", pidfd=");
            put::ptr(b, pidfd);
        }
        if flags & consts::CLONE_CHILD_TID != 0 {
            b.extend_from_slice(b", child_tid=");
            put::ptr(b, child_tid);
        }
        if flags & consts::CLONE_PARENT_SETTID != 0 {
            b.extend_from_slice(b", parent_tid=");
            put::ptr(b, parent_tid);
        }
        b.extend_from_slice(b", exit_signal=");
        consts::signal(b, exit_signal, true);
        b.extend_from_slice(b", stack=");
        put::ptr(b, stack);
        b.extend_from_slice(b", stack_size=");
        put::hex(b, stack_size);
        if flags & consts::CLONE_SETTLS != 0 {
            b.extend_from_slice(b", tls=");
            put::ptr(b, tls);
        }
        b.push(b'}');
        Some(())
    })
}

/// A socket address as strace's sockaddr.c prints it:
/// `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}`,
/// `{sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0),
/// inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}`,
/// `{sa_family=AF_UNIX, sun_path="/run/x.sock"}` (`@"..."` abstract),
/// `{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}`; other families
/// (or too-short addresses) show `sa_data`, the remaining bytes escaped.
/// Returns `false` only when not even the family is there.
pub(crate) fn sockaddr(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let Some(family) = le_u16(bytes, 0) else {
        return false;
    };
    let family = u64::from(family);
    let rest = bytes.get(2..).unwrap_or_default();
    b.extend_from_slice(b"{sa_family=");
    match consts::name_of(family, consts::ADDRESS_FAMILIES) {
        Some(n) => b.extend_from_slice(n.as_bytes()),
        None => put::u64(b, family),
    }
    let decoded = match family {
        consts::AF_UNIX => {
            if let Some(abstract_name) = rest.strip_prefix(b"\0") {
                b.extend_from_slice(b", sun_path=@");
                put::quoted(b, abstract_name, false);
            } else if !rest.is_empty() {
                b.extend_from_slice(b", sun_path=");
                put::quoted(b, put::until_nul(rest), false);
            }
            true
        }
        consts::AF_INET => sockaddr_in(b, bytes),
        consts::AF_INET6 => sockaddr_in6(b, bytes),
        consts::AF_NETLINK => match (le_u32(bytes, 4), le_u32(bytes, 8)) {
            (Some(pid), Some(groups)) => {
                let _ = write!(b, ", nl_pid={pid}, nl_groups={groups:08x}");
                true
            }
            _ => false,
        },
        _ => false,
    };
    if !decoded && !rest.is_empty() {
        b.extend_from_slice(b", sa_data=");
        put::quoted(b, rest, false);
    }
    b.push(b'}');
    true
}

fn sockaddr_in(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let (Some(port), Some(a)) = (bytes.get(2..4), bytes.get(4..8)) else {
        return false;
    };
    let port = u16::from_be_bytes([port[0], port[1]]);
    let ip = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
    let _ = write!(b, ", sin_port=htons({port}), sin_addr=inet_addr(\"{ip}\")");
    true
}

fn sockaddr_in6(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let (Some(port), Some(flow), Some(a)) = (bytes.get(2..4), bytes.get(4..8), bytes.get(8..24))
    else {
        return false;
    };
    let port = u16::from_be_bytes([port[0], port[1]]);
    let flow = u32::from_be_bytes([flow[0], flow[1], flow[2], flow[3]]);
    let mut octets = [0u8; 16];
    octets.copy_from_slice(a);
    let ip = Ipv6Addr::from(octets);
    let _ = write!(
        b,
        ", sin6_port=htons({port}), sin6_flowinfo=htonl({flow}), \
         inet_pton(AF_INET6, \"{ip}\", &sin6_addr)"
    );
    if let Some(scope) = le_u32(bytes, 24) {
        let _ = write!(b, ", sin6_scope_id={scope}");
    }
    true
}

/// utimensat's `struct timespec[2]` as strace's print_timespec_utime_pair:
/// `[UTIME_NOW, UTIME_OMIT]`, or `{tv_sec=..., tv_nsec=...}` followed by
/// its date as a comment (strace writes the reader's local time; we write
/// UTC, what strace writes where TZ is UTC).
pub(crate) fn utimens(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    all_or_nothing(b, |b| {
        b.push(b'[');
        for k in 0..2 {
            let sec = le_u64(bytes, 16 * k)? as i64;
            let nsec = le_u64(bytes, 16 * k + 8)? as i64;
            if k > 0 {
                b.extend_from_slice(b", ");
            }
            match nsec {
                UTIME_NOW => b.extend_from_slice(b"UTIME_NOW"),
                UTIME_OMIT => b.extend_from_slice(b"UTIME_OMIT"),
                _ => {
                    b.extend_from_slice(b"{tv_sec=");
                    put::i64(b, sec);
                    b.extend_from_slice(b", tv_nsec=");
                    put::i64(b, nsec);
                    b.extend_from_slice(b"} /* ");
                    b.extend_from_slice(crate::read::time::strace_date(sec, nsec).as_bytes());
                    b.extend_from_slice(b" */");
                }
            }
        }
        b.push(b']');
        Some(())
    })
}

/// The first `n` of poll's `struct pollfd`s in `bytes`: `(fd, events,
/// revents)`.
fn pollfds(bytes: &[u8], n: usize) -> impl Iterator<Item = (i32, u16, u16)> + '_ {
    bytes
        .chunks_exact(POLLFD_SIZE)
        .take(n)
        .filter_map(|p| Some((le_u32(p, 0)? as i32, le_u16(p, 4)?, le_u16(p, 6)?)))
}

/// poll's array as strace's print_pollfd: `[{fd=0, events=POLLIN}, {fd=-1}]`
/// (no events for a negative fd), `nfds` entries, `...` past what was
/// captured or past `max` entries (strace's `-s`).
pub(crate) fn pollfd_array(b: &mut Vec<u8>, bytes: &[u8], nfds: u64, max: usize) -> bool {
    let n = usize::try_from(nfds).unwrap_or(usize::MAX);
    if n == 0 || bytes.len() < POLLFD_SIZE {
        return false;
    }
    b.push(b'[');
    let shown = n.min(max).min(bytes.len() / POLLFD_SIZE);
    for (k, (fd, events, _)) in pollfds(bytes, shown).enumerate() {
        if k > 0 {
            b.extend_from_slice(b", ");
        }
        b.extend_from_slice(b"{fd=");
        put::i64(b, i64::from(fd));
        if fd >= 0 {
            b.extend_from_slice(b", events=");
            consts::flags(b, u64::from(events), consts::POLL_EVENTS);
        }
        b.push(b'}');
    }
    if shown < n {
        b.extend_from_slice(b", ...");
    }
    b.push(b']');
    true
}

/// The ready descriptors of a poll that returned > 0, as strace's
/// decode_poll_exiting: `[{fd=3, revents=POLLIN}]`; empty when none of
/// the captured entries has revents.
pub(crate) fn poll_revents(b: &mut Vec<u8>, bytes: &[u8], nfds: u64, max: usize) {
    let n = usize::try_from(nfds).unwrap_or(usize::MAX);
    let mut printed = 0;
    for (fd, _, revents) in pollfds(bytes, n).filter(|p| p.2 != 0) {
        b.extend_from_slice(if printed == 0 { b"[" } else { b", " });
        if printed == max {
            b.extend_from_slice(b"...");
            break;
        }
        b.extend_from_slice(b"{fd=");
        put::i64(b, i64::from(fd));
        b.extend_from_slice(b", revents=");
        consts::flags(b, u64::from(revents), consts::POLL_EVENTS);
        b.push(b'}');
        printed += 1;
    }
    if printed > 0 || b.last() == Some(&b'.') {
        b.push(b']');
    }
}

/// `struct epoll_event`: `__u32 events; __u64 data`, packed on x86_64
/// (`EPOLL_PACKED`, 12 bytes) and naturally aligned elsewhere (16 on arm64),
/// include/uapi/linux/eventpoll.h.
pub(crate) fn epoll_event_size(arch: Arch) -> usize {
    match arch {
        Arch::X86_64 => 12,
        Arch::Aarch64 => 16,
    }
}

/// epoll_wait's events as strace's epoll.c: `[{events=EPOLLIN,
/// data={u32=3, u64=3}}]`, the first `n` (the return value), `...` past
/// `max` of them. False when fewer than `n` were captured.
pub(crate) fn epoll_events(b: &mut Vec<u8>, arch: Arch, bytes: &[u8], n: u64, max: usize) -> bool {
    let size = epoll_event_size(arch);
    let data_off = size - 8;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if bytes.len() / size < n {
        return false;
    }
    b.push(b'[');
    for (k, e) in bytes.chunks_exact(size).take(n).enumerate() {
        if k > 0 {
            b.extend_from_slice(b", ");
        }
        if k == max {
            b.extend_from_slice(b"...");
            break;
        }
        if !epoll_event(b, e, data_off) {
            return false;
        }
    }
    b.push(b']');
    true
}

/// One `struct epoll_event` (epoll_ctl's): `{events=EPOLLIN, data={u32=3,
/// u64=3}}`.
pub(crate) fn epoll_event_in(b: &mut Vec<u8>, arch: Arch, bytes: &[u8]) -> bool {
    all_or_nothing(b, |b| {
        epoll_event(b, bytes, epoll_event_size(arch) - 8).then_some(())
    })
}

fn epoll_event(b: &mut Vec<u8>, e: &[u8], data_off: usize) -> bool {
    let (Some(events), Some(data)) = (le_u32(e, 0), le_u64(e, data_off)) else {
        return false;
    };
    b.extend_from_slice(b"{events=");
    consts::flags(b, u64::from(events), consts::EPOLL_EVENTS);
    b.extend_from_slice(b", data={u32=");
    put::u64(b, data & 0xffff_ffff);
    b.extend_from_slice(b", u64=");
    put::u64(b, data);
    b.extend_from_slice(b"}}");
    true
}

/// The descriptors set in select's `fd_set` (`nfds` bits), as strace's
/// print_fdset: `[3 7]`, `[]` for none. False when the capture holds fewer
/// bytes than `nfds` bits need.
pub(crate) fn fd_set(b: &mut Vec<u8>, bytes: &[u8], nfds: u64) -> bool {
    let Some(bits) = fd_set_bits(bytes, nfds) else {
        return false;
    };
    b.push(b'[');
    for (k, fd) in bits.enumerate() {
        if k > 0 {
            b.push(b' ');
        }
        put::u64(b, fd);
    }
    b.push(b']');
    true
}

/// The set bits of an `fd_set` below `nfds`, if the bytes hold them all.
pub(crate) fn fd_set_bits(bytes: &[u8], nfds: u64) -> Option<impl Iterator<Item = u64> + '_> {
    let nfds = nfds as u32 as i32;
    let n = u64::try_from(nfds).ok()?;
    if (bytes.len() as u64) < n.div_ceil(8) {
        return None;
    }
    Some((0..n).filter(move |&fd| bytes[(fd / 8) as usize] & (1 << (fd % 8)) != 0))
}

/// TIOCGWINSZ's `struct winsize` (four `unsigned short`s), as strace:
/// `{ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}`.
pub(crate) fn winsize(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    all_or_nothing(b, |b| {
        let names = ["ws_row", "ws_col", "ws_xpixel", "ws_ypixel"];
        b.push(b'{');
        for (k, name) in names.iter().enumerate() {
            if k > 0 {
                b.extend_from_slice(b", ");
            }
            b.extend_from_slice(name.as_bytes());
            b.push(b'=');
            put::u64(b, u64::from(le_u16(bytes, 2 * k)?));
        }
        b.push(b'}');
        Some(())
    })
}

/// `struct __user_cap_header_struct`: version and pid, two `u32`s.
pub(crate) const CAP_HEADER_SIZE: usize = 8;
/// Two `struct __user_cap_data_struct` (effective, permitted, inheritable),
/// what versions 2 and 3 take; version 1 takes one.
pub(crate) const CAP_DATA_SIZE: usize = 24;

/// `_LINUX_CAPABILITY_VERSION_*`:
/// <https://github.com/torvalds/linux/blob/v6.12/include/uapi/linux/capability.h#L32-L45>
const CAP_V1: u32 = 0x1998_0330;
const CAP_V2: u32 = 0x2007_1026;
const CAP_V3: u32 = 0x2008_0522;
const CAP_VERSIONS: &consts::Names = &[
    (CAP_V1 as u64, "_LINUX_CAPABILITY_VERSION_1"),
    (CAP_V2 as u64, "_LINUX_CAPABILITY_VERSION_2"),
    (CAP_V3 as u64, "_LINUX_CAPABILITY_VERSION_3"),
];

/// `{version=_LINUX_CAPABILITY_VERSION_3, pid=26842}`, as strace's
/// `print_cap_header`.
pub(crate) fn cap_header(b: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let (Some(version), Some(pid)) = (le_u32(bytes, 0), le_u32(bytes, 4)) else {
        return false;
    };
    b.extend_from_slice(b"{version=");
    match consts::name_of(u64::from(version), CAP_VERSIONS) {
        Some(n) => b.extend_from_slice(n.as_bytes()),
        None => {
            put::hex(b, u64::from(version));
            b.extend_from_slice(b" /* _LINUX_CAPABILITY_VERSION_??? */");
        }
    }
    b.extend_from_slice(b", pid=");
    put::i64(b, i64::from(pid as i32));
    b.push(b'}');
    true
}

/// How many data structs a header stands for: two for versions 2 and 3,
/// else one (strace's `print_cap_data` decides the same way).
pub(crate) fn cap_data_count(header: &[u8]) -> usize {
    match le_u32(header, 0) {
        Some(CAP_V2 | CAP_V3) => 2,
        _ => 1,
    }
}

/// `{effective=1<<CAP_CHOWN|..., permitted=..., inheritable=0}` of `count`
/// data structs, as strace's `print_cap_data`.
pub(crate) fn cap_data(b: &mut Vec<u8>, bytes: &[u8], count: usize) -> bool {
    if bytes.len() < 12 * count {
        return false;
    }
    b.push(b'{');
    for (k, name) in ["effective", "permitted", "inheritable"].iter().enumerate() {
        if k > 0 {
            b.extend_from_slice(b", ");
        }
        b.extend_from_slice(name.as_bytes());
        b.push(b'=');
        let lo = le_u32(bytes, 4 * k).unwrap_or(0);
        let hi = if count > 1 {
            le_u32(bytes, 12 + 4 * k).unwrap_or(0)
        } else {
            0
        };
        // strace's print_cap_bits: the low word unless only the high one
        // has bits, then the high word's.
        if lo != 0 || hi == 0 {
            cap_word(b, lo, 0);
        }
        if hi != 0 {
            if lo != 0 {
                b.push(b'|');
            }
            cap_word(b, hi, 32);
        }
    }
    b.push(b'}');
    true
}

/// One 32-bit word of a capability set: `1<<CAP_CHOWN|1<<CAP_KILL`, the
/// bits no capability has in hex after them, or `0x... /* CAP_??? */`
/// when no bit has a name (strace's `printflags`).
fn cap_word(b: &mut Vec<u8>, word: u32, first_cap: usize) {
    if word == 0 {
        b.push(b'0');
        return;
    }
    let mut rest = word;
    let mut named = false;
    for bit in 0..32 {
        let Some(name) = consts::CAPABILITIES.get(first_cap + bit) else {
            break;
        };
        if word & (1 << bit) != 0 {
            if named {
                b.push(b'|');
            }
            named = true;
            b.extend_from_slice(b"1<<");
            b.extend_from_slice(name.as_bytes());
            rest &= !(1 << bit);
        }
    }
    if rest != 0 {
        if named {
            b.push(b'|');
        }
        put::hex(b, u64::from(rest));
        if !named {
            b.extend_from_slice(b" /* CAP_??? */");
        }
    }
}
