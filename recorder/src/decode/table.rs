//! The syscall signature table, and the capture plan derived from it.
//!
//! One row per syscall *name*, so a single table serves both architectures
//! (numbers are resolved per architecture at first use). Each argument has a
//! display type ([`Ty`]); the types that point at user memory also say what
//! the kernel side should capture, so display and capture can never
//! disagree: [`capture_plan`] is a pure function of the row, not code per
//! syscall.

use std::sync::OnceLock;

use super::consts::{self, Names};
use super::structs;
use super::{Arch, syscall_nr};

/// Where the length of a captured item comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LenFrom {
    /// The value of argument `i` (a count or size argument).
    Arg(u8),
    /// The return value: the bytes actually transferred. Only known at exit,
    /// and only meaningful when the return value is >= 0.
    Ret,
    /// A fixed number of bytes: a struct whose size is known for the
    /// recorded architecture (e.g. `struct stat`: 144 on x86_64, 128 on
    /// aarch64).
    Fixed(u32),
    /// The `socklen_t` (32-bit) that argument `i` points to, read at exit
    /// (value-result lengths: accept's `addrlen`, getsockopt's `optlen`).
    /// After the call it holds the size the kernel *wanted* to store, which
    /// can exceed the buffer, so it must be clamped like any other length.
    ArgDeref(u8),
    /// Argument `i` elements of `n` bytes each (poll's `struct pollfd`
    /// array, counted by `nfds`).
    ArgTimes(u8, u32),
    /// Return value elements of `n` bytes each (epoll_wait's events: `ret`
    /// of them were written).
    RetTimes(u32),
    /// An `fd_set` of as many bits as argument `i` says (select's `nfds`),
    /// in whole `unsigned long`s as the kernel copies it.
    FdSet(u8),
}

/// What to capture for one argument of a syscall.
///
/// Every item is clamped to the header's `capture_size` (the capture then
/// has `truncated` set and `len` holds the full size). Items are read at
/// syscall exit, except when [`CapturePlan::at_entry`] is set. Output items
/// (`OutBuf`, `Iovec`/`Msghdr`/`Sockaddr` with `out`) are read only when the
/// call returned >= 0; input items are read whatever the result. A NULL
/// pointer is never read and yields no capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ArgPlan {
    /// Nothing to capture (a number, or memory not worth reading).
    #[default]
    None,
    /// NUL-terminated input string (a path, a name): one `Str` capture,
    /// without the NUL.
    Str,
    /// NULL-terminated array of string pointers (execve's argv and envp):
    /// one `Str` capture per element, in order, all with this argument's
    /// index. If the array has more elements than the kernel side reads, a
    /// final marker capture follows: kind `InBuf`, empty `bytes`, `len` =
    /// number of elements left out (0 if unknown). If the array itself
    /// cannot be read, a single `Str` capture with `read_failed`.
    StrArray,
    /// Input buffer: one `InBuf` capture of `len` bytes.
    InBuf { len: LenFrom },
    /// Output buffer or struct the kernel fills: one `OutBuf` capture.
    OutBuf { len: LenFrom },
    /// `struct iovec *` with `args[count_arg]` entries: the data of all
    /// segments concatenated into one capture (`OutBuf` if `out`, else
    /// `InBuf`). Length: the return value for `out`, the sum of `iov_len`
    /// otherwise.
    Iovec { count_arg: u8, out: bool },
    /// `struct msghdr *`: first the data of `msg_iov`, concatenated as for
    /// `Iovec` (always present, possibly empty or `read_failed`); then, if
    /// `msg_name` is non-NULL and `msg_namelen` > 0, the address as a second
    /// capture of the same kind and argument index. Kind: `OutBuf` if `out`
    /// (recvmsg), else `InBuf` (sendmsg).
    Msghdr { out: bool },
    /// `struct sockaddr *` of `len` bytes: one `InBuf` capture, or `OutBuf`
    /// if `out` (accept, recvfrom, getsockname...).
    Sockaddr { len: LenFrom, out: bool },
    /// getdents64's records: first one `OutBuf` capture without bytes,
    /// `len` the number of entries (counted in the kernel), `truncated`
    /// when there were more than the kernel side counts; then (recorders
    /// since December 2026) the records themselves, the `ret` bytes the
    /// call returned, as a second `OutBuf` capture.
    DirentCount,
    /// A buffer the call reads and writes back (select's `fd_set`s and
    /// timeout): one `InBuf` capture read at entry (what was asked) and
    /// one `OutBuf` capture at exit when the call succeeded (what it left
    /// there: the descriptors ready, the time left). Lean mode reads
    /// nothing at entry: only the `OutBuf`.
    InOut { len: LenFrom },
    /// recvmmsg's `struct mmsghdr *` array, at exit when the call
    /// succeeded (all `OutBuf` captures of this argument): first the `ret`
    /// entries as the kernel left them (64 bytes each), then for each of
    /// the first 8 messages its data (its iovecs up to `msg_len`,
    /// concatenated as for `Iovec`) and, when `msg_name` is set, its
    /// address.
    Mmsghdr,
    /// ioctl's `arg` at exit, when the call succeeded and the request is
    /// one whose output size `recorder_common::ioctl_out_size` knows: one
    /// `OutBuf` capture of that many bytes.
    IoctlOut,
    /// futex's `struct timespec *timeout` (argument 3): one `InBuf` capture
    /// of 16 bytes, only for the commands that take a timeout (for the
    /// others, argument 3 is a number).
    FutexTimeout,
    /// rt_sigreturn's mask to restore, read at entry from the signal frame
    /// on the user stack (not a register): one `InBuf` capture of 8 bytes.
    SigreturnMask,
    /// A `socklen_t *` value-result length: the value the caller offered,
    /// read at entry (one `InBuf` capture of 4 bytes) while the call's
    /// other items are read at exit.
    SocklenIn,
}

/// Capture instructions for one syscall on one architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CapturePlan {
    /// One entry per argument register.
    pub args: [ArgPlan; 6],
    /// Read every item at syscall entry instead of exit. Set for execve and
    /// execveat: a successful exec replaces the memory the pointers refer to,
    /// so nothing is left to read at exit.
    pub at_entry: bool,
}

impl CapturePlan {
    /// Capture nothing.
    pub const NONE: CapturePlan = CapturePlan {
        args: [ArgPlan::None; 6],
        at_entry: false,
    };

    /// True when no argument is captured.
    pub fn is_empty(&self) -> bool {
        self.args.iter().all(|a| *a == ArgPlan::None)
    }
}

/// How an argument is displayed (and, for pointers, captured).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    /// `int`: signed decimal of the low 32 bits (the kernel ignores the rest).
    Int,
    /// `long`/`off_t`: signed decimal.
    Long,
    /// `size_t`/`unsigned long`: unsigned decimal.
    Uint,
    /// Hex number.
    Hex,
    /// Pointer not captured: `NULL` or hex.
    Ptr,
    /// Not displayed (e.g. the high half of a 64-bit offset, unused on
    /// 64-bit ABIs).
    Hidden,
    /// File descriptor (`int`).
    Fd,
    /// Directory fd of the `*at` calls: `AT_FDCWD` by name.
    DirFd,
    /// Permission bits, octal.
    Mode,
    /// open's mode: shown only when the flags (previous argument) contain
    /// `O_CREAT` or `O_TMPFILE`, like strace.
    OpenMode,
    /// Input string (path or name).
    Path,
    /// execve's argv: `["ls", "-l"]`.
    Argv,
    /// execve's envp: `0x... /* 12 vars */`.
    Envp,
    InBuf(LenFrom),
    /// Output bytes shown as an escaped string.
    OutBuf(LenFrom),
    /// Output C string (stops at the first NUL, e.g. getcwd).
    OutStr(LenFrom),
    /// Output bytes random by nature (getrandom's), all in `\xNN` hex as
    /// strace shows them.
    OutHex(LenFrom),
    /// getgroups' list: `ret` gids (older recorders did not capture them:
    /// their logs show `[]` when it returned 0, else the pointer).
    Groups,
    /// setgroups' list: argument 0 gids read (older recorders did not:
    /// their logs show `[]` for none, else the pointer).
    GroupsIn,
    /// getdents64's buffer: `0x... /* 144 entries */`.
    Dirents,
    /// iovec array, count in argument `i`: data shown as one string.
    IovIn(u8),
    IovOut(u8),
    MsgIn,
    MsgOut,
    /// Input sockaddr, length in argument `i`.
    SockaddrIn(u8),
    /// Output sockaddr, `socklen_t *` in argument `i`.
    SockaddrOut(u8),
    /// `socklen_t *` of the buffer in argument `i`: `[16]` when that buffer
    /// was captured (its capture's `len` is the value), else the pointer.
    LenPtr(u8),
    Stat,
    Statx,
    TimespecIn,
    TimespecOut,
    TimevalOut,
    Utsname,
    /// `struct rlimit`, input and output.
    RlimIn,
    RlimOut,
    /// `struct sysinfo`.
    Sysinfo,
    /// `struct statfs` (output).
    Statfs,
    /// sigaltstack's `stack_t`, input and output.
    StackIn,
    StackOut,
    /// A CPU mask: output of `ret` bytes (sched_getaffinity), input of
    /// argument 1's (sched_setaffinity).
    CpuSetOut,
    CpuSetIn,
    /// capget's `cap_user_header_t`: as asked (read at entry, in full mode:
    /// for a version it does not know, such as libcap's probe's 0, the
    /// kernel writes its own back) and as the call left it (at exit: its
    /// version says how many data structs the call filled).
    CapHeader,
    /// capset's header, read only.
    CapHeaderIn,
    /// capget's `cap_user_data_t` (at most two structs, 24 bytes).
    CapDataOut,
    /// capset's data.
    CapDataIn,
    /// `int[2]` (pipe, socketpair).
    IntPair,
    /// wait4's `int *wstatus`.
    WaitStatus,
    SigactionIn,
    SigactionOut,
    SigsetIn,
    SigsetOut,
    /// openat2's `struct open_how *`, size in argument `i`.
    OpenHow(u8),
    /// clone3's `struct clone_args *`, size in argument `i`.
    CloneArgs(u8),
    /// statx's flags: the sync type first (`AT_STATX_SYNC_AS_STAT` is 0),
    /// then the `AT_*` flags, as strace does.
    StatxFlags,
    /// futex's timeout (argument 3), captured for the commands that take one.
    FutexTimeout,
    /// rt_sigreturn's `{mask=[...]}`: from the stack, not a register, so
    /// it is shown only when captured.
    SigreturnMask,
    /// `int *` the kernel fills: `[0]`, `[MPOL_DEFAULT]` (named from the
    /// table, decimal when unnamed), as strace's printnum_int.
    IntOut(&'static Names),
    /// `int *` read by the kernel, shown the same way.
    IntIn(&'static Names),
    /// A NUMA node mask of `unsigned long`s, its bit count (maxnode) in
    /// argument `i`; input (set_mempolicy, mbind) or output (get_mempolicy).
    NodeMaskIn(u8),
    NodeMaskOut(u8),
    /// set_mempolicy's and mbind's mode, with its mode flags.
    MpolMode,
    /// mknod's mode: the file type by name, then the permissions.
    MknodMode,
    /// mknod's device, shown only for character and block devices (the
    /// mode is the previous argument), as `makedev(0x1, 0x3)`.
    MknodDev,
    /// prctl's second argument: the name for PR_SET_NAME (input) and
    /// PR_GET_NAME (output), captured as a string; a number otherwise.
    PrctlArg,
    /// clone's `parent_tid`: the `int` the kernel stores there with
    /// CLONE_PARENT_SETTID (or the pidfd, CLONE_PIDFD), shown as `[N]`.
    ParentTid,
    /// utimensat's `struct timespec[2]`: `[UTIME_NOW, UTIME_NOW]`, or the
    /// times with their dates.
    Utimens,
    /// listxattr's list, its size in argument `i`: the names the call
    /// returned, or the pointer when the size was 0 (a query of the length:
    /// strace's xattr.c print_xattr_list).
    XattrList(u8),
    /// epoll_wait's `struct epoll_event` array: the `ret` events the call
    /// returned (12 bytes each on x86_64, where the struct is packed; 16 on
    /// arm64), `[{events=EPOLLIN, data={u32=5, u64=5}}]` as strace.
    EpollEvents,
    /// recvmmsg's messages: captured (`ArgPlan::Mmsghdr`), shown as the
    /// pointer (strace prints every `struct mmsghdr`; not decoded yet).
    MmsgOut,
    /// epoll_ctl's `struct epoll_event *` (an input; EPOLL_CTL_DEL ignores
    /// it and strace shows the pointer).
    EpollEventIn,
    /// select's `fd_set *`, `nfds` in argument 0: `[3 4]`, or `NULL`.
    FdSet,
    /// select's `struct timeval *` and pselect6's `struct timespec *`
    /// timeout: as asked (the kernel writes what is left back, which the
    /// result shows).
    SelTimespec,
    /// poll's `struct pollfd` array, its length in argument `i`:
    /// `[{fd=0, events=POLLIN}]` (the `revents` go with the result, see
    /// [`RetFmt::Poll`]).
    PollFds(u8),
    /// Flag set from a table.
    Flags(&'static Names),
    /// `int` enum from a table, decimal when unnamed.
    Enum(&'static Names),
    OpenFlags,
    /// Open-style flags without the access mode (pipe2, dup3, ...).
    FdFlags,
    MmapProt,
    MmapFlags,
    SockType,
    /// Protocol, named per the domain in argument 0.
    SockProto,
    Signal,
    CloneFlags,
    FcntlCmd,
    /// fcntl's third argument, typed by the command.
    FcntlArg,
    FutexOp,
    /// ioctl request: name or hex.
    IoctlReq,
    /// ioctl's argument: a descriptor for FICLONE, else hex.
    IoctlArg,
    /// setsockopt/getsockopt level.
    SockLevel,
    /// Option name, named per the level in argument 1.
    SockOptName,
    /// Option value (`optval`, always argument 3): `[1]` when it is an
    /// `int`, else the bytes. Input for setsockopt, output for getsockopt
    /// (length: the `socklen_t *` in argument 4).
    SockOptIn,
    SockOptOut,
}

/// How the return value is displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetFmt {
    Dec,
    /// Addresses (mmap, brk).
    Hex,
    /// Modes (umask).
    Oct,
    /// fcntl: `0x1 (flags FD_CLOEXEC)` for F_GETFD, `0x8002 (flags
    /// O_RDWR|O_LARGEFILE)` for F_GETFL, else decimal.
    Fcntl,
    /// poll: `0 (Timeout)`, or the descriptors that are ready, `1
    /// ([{fd=3, revents=POLLIN}])` (strace's poll.c), from the array read
    /// at exit (argument 0), with what is `left` of ppoll's timeout.
    Poll,
    /// select and pselect6: `0 (Timeout)`, or the sets as the call left
    /// them, `1 (in [3])` (strace's desc.c), with what is `left` of
    /// select's timeout.
    Select,
    /// prctl: PR_GET_DUMPABLE's `1 (SUID_DUMP_USER)`, PR_GET_SECUREBITS's
    /// `0x10 (SECBIT_KEEP_CAPS)` (strace's prctl.c), else decimal.
    Prctl,
}

/// One row of the table.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) name: &'static str,
    /// Row for this architecture only (clone's argument order differs).
    pub(crate) only: Option<Arch>,
    pub(crate) args: &'static [Ty],
    pub(crate) ret: RetFmt,
}

const fn s(name: &'static str, args: &'static [Ty]) -> Spec {
    Spec {
        name,
        only: None,
        args,
        ret: RetFmt::Dec,
    }
}

impl Spec {
    const fn hex(mut self) -> Spec {
        self.ret = RetFmt::Hex;
        self
    }

    const fn oct(mut self) -> Spec {
        self.ret = RetFmt::Oct;
        self
    }

    const fn poll(mut self) -> Spec {
        self.ret = RetFmt::Poll;
        self
    }

    const fn select(mut self) -> Spec {
        self.ret = RetFmt::Select;
        self
    }

    const fn prctl(mut self) -> Spec {
        self.ret = RetFmt::Prctl;
        self
    }

    const fn fcntl(mut self) -> Spec {
        self.ret = RetFmt::Fcntl;
        self
    }

    const fn on(mut self, arch: Arch) -> Spec {
        self.only = Some(arch);
        self
    }
}

use LenFrom::{Arg, Fixed, Ret};
use Ty::*;

const AT: Ty = Flags(consts::AT_FLAGS);

/// Bytes captured of a NUMA node mask: 16 `unsigned long`s, 1024 nodes,
/// what glibc and libnuma pass (`numa_max_possible_node() + 1` bits; ps
/// calls get_mempolicy with maxnode 1025). A longer mask shows as its
/// pointer.
pub(crate) const NODEMASK_CAPTURE: usize = 128;
const MSGF: Ty = Flags(consts::MSG_FLAGS);
const XATTR: Ty = Flags(consts::XATTR_FLAGS);

/// The signature table. Arguments past the listed ones are not shown.
static SPECS: &[Spec] = &[
    // --- files: open/close/io
    s("open", &[Path, OpenFlags, OpenMode]),
    s("openat", &[DirFd, Path, OpenFlags, OpenMode]),
    s("openat2", &[DirFd, Path, OpenHow(3), Uint]),
    s("creat", &[Path, Mode]),
    s("close", &[Fd]),
    s("close_range", &[Fd, Fd, Flags(consts::CLOSE_RANGE_FLAGS)]),
    s("read", &[Fd, OutBuf(Ret), Uint]),
    s("write", &[Fd, InBuf(Arg(2)), Uint]),
    s("pread64", &[Fd, OutBuf(Ret), Uint, Long]),
    s("pwrite64", &[Fd, InBuf(Arg(2)), Uint, Long]),
    s("readv", &[Fd, IovOut(2), Int]),
    s("writev", &[Fd, IovIn(2), Int]),
    // preadv/pwritev: (pos_l, pos_h); pos_h is unused on 64-bit ABIs.
    s("preadv", &[Fd, IovOut(2), Int, Long]),
    s("pwritev", &[Fd, IovIn(2), Int, Long]),
    s(
        "preadv2",
        &[Fd, IovOut(2), Int, Long, Hidden, Flags(consts::RWF_FLAGS)],
    ),
    s(
        "pwritev2",
        &[Fd, IovIn(2), Int, Long, Hidden, Flags(consts::RWF_FLAGS)],
    ),
    s("lseek", &[Fd, Long, Enum(consts::WHENCE)]),
    s("dup", &[Fd]),
    s("dup2", &[Fd, Fd]),
    s("dup3", &[Fd, Fd, FdFlags]),
    s("fcntl", &[Fd, FcntlCmd, FcntlArg]).fcntl(),
    s("ioctl", &[Fd, IoctlReq, IoctlArg]),
    s("flock", &[Fd, Flags(consts::FLOCK_OPS)]),
    s("fsync", &[Fd]),
    s("fdatasync", &[Fd]),
    s("sync", &[]),
    s("syncfs", &[Fd]),
    s("truncate", &[Path, Long]),
    s("ftruncate", &[Fd, Long]),
    s("fallocate", &[Fd, Hex, Long, Long]),
    s("getdents64", &[Fd, Dirents, Uint]),
    s("sendfile", &[Fd, Fd, Ptr, Uint]),
    s(
        "splice",
        &[Fd, Ptr, Fd, Ptr, Uint, Flags(consts::SPLICE_FLAGS)],
    ),
    s("tee", &[Fd, Fd, Uint, Flags(consts::SPLICE_FLAGS)]),
    s("copy_file_range", &[Fd, Ptr, Fd, Ptr, Uint, Hex]),
    s("memfd_create", &[Path, Flags(consts::MFD_FLAGS)]),
    s("pipe", &[IntPair]),
    s("pipe2", &[IntPair, FdFlags]),
    s("eventfd2", &[Uint, Flags(consts::EFD_FLAGS)]),
    s("inotify_init1", &[Flags(consts::IN_INIT_FLAGS)]),
    s("inotify_add_watch", &[Fd, Path, Hex]),
    s("epoll_create1", &[Flags(consts::EPOLL_FLAGS)]),
    s(
        "epoll_ctl",
        &[Fd, Enum(consts::EPOLL_OPS), Fd, EpollEventIn],
    ),
    s("epoll_wait", &[Fd, EpollEvents, Int, Int]),
    s("epoll_pwait", &[Fd, EpollEvents, Int, Int, SigsetIn, Uint]),
    s(
        "epoll_pwait2",
        &[Fd, EpollEvents, Int, TimespecIn, SigsetIn, Uint],
    ),
    s("poll", &[PollFds(1), Uint, Int]).poll(),
    s("ppoll", &[PollFds(1), Uint, TimespecIn, SigsetIn, Uint]).poll(),
    s("select", &[Int, FdSet, FdSet, FdSet, SelTimespec]).select(),
    s("pselect6", &[Int, FdSet, FdSet, FdSet, SelTimespec, Ptr]).select(),
    // --- files: metadata and names
    s("stat", &[Path, Stat]),
    s("lstat", &[Path, Stat]),
    s("fstat", &[Fd, Stat]),
    s("newfstatat", &[DirFd, Path, Stat, AT]),
    s(
        "statx",
        &[DirFd, Path, StatxFlags, Flags(consts::STATX_MASK), Statx],
    ),
    s("readlink", &[Path, OutBuf(Ret), Uint]),
    s("readlinkat", &[DirFd, Path, OutBuf(Ret), Uint]),
    s("getcwd", &[OutStr(Ret), Uint]),
    s("chdir", &[Path]),
    s("fchdir", &[Fd]),
    s("chroot", &[Path]),
    s("mkdir", &[Path, Mode]),
    s("mkdirat", &[DirFd, Path, Mode]),
    s("rmdir", &[Path]),
    s("unlink", &[Path]),
    s("unlinkat", &[DirFd, Path, Flags(consts::UNLINK_FLAGS)]),
    s("rename", &[Path, Path]),
    s("renameat", &[DirFd, Path, DirFd, Path]),
    s(
        "renameat2",
        &[DirFd, Path, DirFd, Path, Flags(consts::RENAME_FLAGS)],
    ),
    s("link", &[Path, Path]),
    s("linkat", &[DirFd, Path, DirFd, Path, AT]),
    s("symlink", &[Path, Path]),
    s("symlinkat", &[Path, DirFd, Path]),
    s("access", &[Path, Flags(consts::ACCESS_MODE)]),
    s("faccessat", &[DirFd, Path, Flags(consts::ACCESS_MODE)]),
    s(
        "faccessat2",
        &[
            DirFd,
            Path,
            Flags(consts::ACCESS_MODE),
            Flags(consts::ACCESSAT_FLAGS),
        ],
    ),
    s("chmod", &[Path, Mode]),
    s("fchmod", &[Fd, Mode]),
    s("fchmodat", &[DirFd, Path, Mode]),
    s("fchmodat2", &[DirFd, Path, Mode, AT]),
    s("chown", &[Path, Int, Int]),
    s("lchown", &[Path, Int, Int]),
    s("fchown", &[Fd, Int, Int]),
    s("fchownat", &[DirFd, Path, Int, Int, AT]),
    s("utimensat", &[DirFd, Path, Utimens, AT]),
    s("umask", &[Mode]).oct(),
    // --- extended attributes (strace's xattr.c: the value is shown only
    // when the call succeeded, from the bytes it returned)
    s("getxattr", &[Path, Path, OutBuf(Ret), Uint]),
    s("lgetxattr", &[Path, Path, OutBuf(Ret), Uint]),
    s("fgetxattr", &[Fd, Path, OutBuf(Ret), Uint]),
    s("setxattr", &[Path, Path, InBuf(Arg(3)), Uint, XATTR]),
    s("lsetxattr", &[Path, Path, InBuf(Arg(3)), Uint, XATTR]),
    s("fsetxattr", &[Fd, Path, InBuf(Arg(3)), Uint, XATTR]),
    s("listxattr", &[Path, XattrList(2), Uint]),
    s("llistxattr", &[Path, XattrList(2), Uint]),
    s("flistxattr", &[Fd, XattrList(2), Uint]),
    s("removexattr", &[Path, Path]),
    s("lremovexattr", &[Path, Path]),
    s("fremovexattr", &[Fd, Path]),
    // --- file systems
    s("statfs", &[Path, Statfs]),
    s("fstatfs", &[Fd, Statfs]),
    s("fadvise64", &[Fd, Long, Uint, Enum(consts::FADVICE)]),
    // --- processes
    s("execve", &[Path, Argv, Envp]),
    s("execveat", &[DirFd, Path, Argv, Envp, AT]),
    s("exit", &[Int]),
    s("exit_group", &[Int]),
    // x86_64: (flags, stack, parent_tid, child_tid, tls);
    // arm64 has CONFIG_CLONE_BACKWARDS: (flags, stack, parent_tid, tls, child_tid).
    s("clone", &[CloneFlags, Ptr, ParentTid, Ptr, Hex]).on(Arch::X86_64),
    s("clone", &[CloneFlags, Ptr, ParentTid, Hex, Ptr]).on(Arch::Aarch64),
    s("clone3", &[CloneArgs(1), Uint]),
    s("fork", &[]),
    s("vfork", &[]),
    s(
        "wait4",
        &[Int, WaitStatus, Flags(consts::WAIT_OPTIONS), Ptr],
    ),
    s("waitid", &[Int, Int, Ptr, Flags(consts::WAIT_OPTIONS), Ptr]),
    s("kill", &[Int, Signal]),
    s("tkill", &[Int, Signal]),
    s("tgkill", &[Int, Int, Signal]),
    s("pidfd_open", &[Int, Hex]),
    s("pidfd_send_signal", &[Fd, Signal, Ptr, Hex]),
    s("getpid", &[]),
    s("getppid", &[]),
    s("gettid", &[]),
    s("getuid", &[]),
    s("geteuid", &[]),
    s("getgid", &[]),
    s("getegid", &[]),
    s("getpgrp", &[]),
    s("setsid", &[]),
    s("setpgid", &[Int, Int]),
    s("getpgid", &[Int]),
    s("getsid", &[Int]),
    s("set_tid_address", &[Ptr]),
    s("set_robust_list", &[Ptr, Uint]),
    s("rseq", &[Ptr, Hex, Hex, Hex]),
    s(
        "prctl",
        &[Enum(consts::PRCTL_OPTIONS), PrctlArg, Hex, Hex, Hex],
    )
    .prctl(),
    s("arch_prctl", &[Enum(consts::ARCH_PRCTL_CODES), Hex]),
    s("getrlimit", &[Enum(consts::RLIMITS), RlimOut]),
    s("setrlimit", &[Enum(consts::RLIMITS), RlimIn]),
    s("prlimit64", &[Int, Enum(consts::RLIMITS), RlimIn, RlimOut]),
    s("sched_yield", &[]),
    s("sched_getaffinity", &[Int, Uint, CpuSetOut]),
    s("sched_setaffinity", &[Int, Uint, CpuSetIn]),
    s("uname", &[Utsname]),
    s("sysinfo", &[Sysinfo]),
    s("getgroups", &[Int, Groups]),
    s("setgroups", &[Int, GroupsIn]),
    s("getrandom", &[OutHex(Ret), Uint, Flags(consts::GRND_FLAGS)]),
    // --- signals
    s("rt_sigaction", &[Signal, SigactionIn, SigactionOut, Uint]),
    s(
        "rt_sigprocmask",
        &[Enum(consts::SIG_HOW), SigsetIn, SigsetOut, Uint],
    ),
    s("rt_sigreturn", &[SigreturnMask]),
    s("sigaltstack", &[StackIn, StackOut]),
    // --- time and synchronisation
    s("clock_gettime", &[Enum(consts::CLOCKS), TimespecOut]),
    s("clock_getres", &[Enum(consts::CLOCKS), TimespecOut]),
    s(
        "clock_nanosleep",
        &[
            Enum(consts::CLOCKS),
            Flags(consts::TIMER_FLAGS),
            TimespecIn,
            Ptr,
        ],
    ),
    s("nanosleep", &[TimespecIn, Ptr]),
    s("gettimeofday", &[TimevalOut, Ptr]),
    s("futex", &[Ptr, FutexOp, Uint, FutexTimeout, Ptr, Hex]),
    // --- memory
    s("mmap", &[Ptr, Uint, MmapProt, MmapFlags, Fd, Hex]).hex(),
    s("munmap", &[Ptr, Uint]),
    s("mprotect", &[Ptr, Uint, MmapProt]),
    s(
        "mremap",
        &[Ptr, Uint, Uint, Flags(consts::MREMAP_FLAGS), Ptr],
    )
    .hex(),
    s("madvise", &[Ptr, Uint, Enum(consts::MADVICE)]),
    s("brk", &[Ptr]).hex(),
    s("mlock", &[Ptr, Uint]),
    s("munlock", &[Ptr, Uint]),
    s("msync", &[Ptr, Uint, Hex]),
    // --- sockets
    s(
        "socket",
        &[Enum(consts::ADDRESS_FAMILIES), SockType, SockProto],
    ),
    s(
        "socketpair",
        &[Enum(consts::ADDRESS_FAMILIES), SockType, SockProto, IntPair],
    ),
    s("connect", &[Fd, SockaddrIn(2), Uint]),
    s("bind", &[Fd, SockaddrIn(2), Uint]),
    s("listen", &[Fd, Int]),
    s("accept", &[Fd, SockaddrOut(2), LenPtr(1)]),
    s(
        "accept4",
        &[Fd, SockaddrOut(2), LenPtr(1), Flags(consts::SOCK_FLAGS)],
    ),
    s("getsockname", &[Fd, SockaddrOut(2), LenPtr(1)]),
    s("getpeername", &[Fd, SockaddrOut(2), LenPtr(1)]),
    s("shutdown", &[Fd, Enum(consts::SHUTDOWN_HOW)]),
    s(
        "sendto",
        &[Fd, InBuf(Arg(2)), Uint, MSGF, SockaddrIn(5), Uint],
    ),
    s(
        "recvfrom",
        &[Fd, OutBuf(Ret), Uint, MSGF, SockaddrOut(5), LenPtr(4)],
    ),
    s("sendmsg", &[Fd, MsgIn, MSGF]),
    s("recvmsg", &[Fd, MsgOut, MSGF]),
    s("sendmmsg", &[Fd, Ptr, Uint, MSGF]),
    s("recvmmsg", &[Fd, MmsgOut, Uint, MSGF, Ptr]),
    s("setsockopt", &[Fd, SockLevel, SockOptName, SockOptIn, Uint]),
    s(
        "getsockopt",
        &[Fd, SockLevel, SockOptName, SockOptOut, LenPtr(3)],
    ),
    // --- the rest of strace's table: what programs call less often. The
    // types are strace's where a table type fits; structs the decoder does
    // not read yet are shown as pointers (strace prints their fields).
    // Files and descriptors.
    s("mknod", &[Path, MknodMode, MknodDev]),
    s("mknodat", &[DirFd, Path, MknodMode, MknodDev]),
    s("utime", &[Path, Ptr]),
    s("utimes", &[Path, Ptr]),
    s("futimesat", &[DirFd, Path, Ptr]),
    s("getdents", &[Fd, Ptr, Uint]),
    s("readahead", &[Fd, Long, Uint]),
    s(
        "sync_file_range",
        &[Fd, Long, Long, Flags(consts::SYNC_FILE_RANGE_FLAGS)],
    ),
    s("vmsplice", &[Fd, Ptr, Uint, Flags(consts::SPLICE_FLAGS)]),
    s("eventfd", &[Uint]),
    s("epoll_create", &[Int]),
    s("inotify_init", &[]),
    s("inotify_rm_watch", &[Fd, Int]),
    s("signalfd", &[Fd, SigsetIn, Uint]),
    s("signalfd4", &[Fd, SigsetIn, Uint, Flags(consts::SFD_FLAGS)]),
    s(
        "timerfd_create",
        &[Enum(consts::CLOCKS), Flags(consts::TFD_FLAGS)],
    ),
    s("timerfd_settime", &[Fd, Flags(consts::TFD_FLAGS), Ptr, Ptr]),
    s("timerfd_gettime", &[Fd, Ptr]),
    s("name_to_handle_at", &[DirFd, Path, Ptr, Ptr, AT]),
    s("open_by_handle_at", &[Fd, Ptr, OpenFlags]),
    s("fanotify_init", &[Hex, Hex]),
    s("fanotify_mark", &[Fd, Hex, Hex, DirFd, Path]),
    s("pidfd_getfd", &[Fd, Fd, Hex]),
    s("cachestat", &[Fd, Ptr, Ptr, Hex]),
    s("setxattrat", &[DirFd, Path, AT, Path, Ptr, Uint]),
    s("getxattrat", &[DirFd, Path, AT, Path, Ptr, Uint]),
    s("listxattrat", &[DirFd, Path, AT, XattrList(4), Uint]),
    s("removexattrat", &[DirFd, Path, AT, Path]),
    s("file_getattr", &[DirFd, Path, Ptr, Uint, AT]),
    s("file_setattr", &[DirFd, Path, Ptr, Uint, AT]),
    s("io_uring_setup", &[Uint, Ptr]),
    s("io_uring_enter", &[Fd, Uint, Uint, Hex, Ptr, Uint]),
    s("io_uring_register", &[Fd, Uint, Ptr, Uint]),
    s("io_setup", &[Uint, Ptr]),
    s("io_destroy", &[Hex]),
    s("io_submit", &[Hex, Long, Ptr]),
    s("io_cancel", &[Hex, Ptr, Ptr]),
    s("io_getevents", &[Hex, Long, Long, Ptr, TimespecIn]),
    s("io_pgetevents", &[Hex, Long, Long, Ptr, TimespecIn, Ptr]),
    // Mounts and file systems.
    s("mount", &[Path, Path, Path, Hex, Ptr]),
    s("umount2", &[Path, Flags(consts::UMOUNT_FLAGS)]),
    s("pivot_root", &[Path, Path]),
    s("swapon", &[Path, Hex]),
    s("swapoff", &[Path]),
    s("acct", &[Path]),
    s("quotactl", &[Hex, Path, Int, Ptr]),
    s("quotactl_fd", &[Fd, Hex, Int, Ptr]),
    s("open_tree", &[DirFd, Path, Hex]),
    s("open_tree_attr", &[DirFd, Path, Hex, Ptr, Uint]),
    s("move_mount", &[DirFd, Path, DirFd, Path, Hex]),
    s("fsopen", &[Path, Hex]),
    s("fsconfig", &[Fd, Uint, Ptr, Ptr, Int]),
    s("fsmount", &[Fd, Hex, Hex]),
    s("fspick", &[DirFd, Path, Hex]),
    s("mount_setattr", &[DirFd, Path, AT, Ptr, Uint]),
    s("statmount", &[Ptr, Ptr, Uint, Hex]),
    s("listmount", &[Ptr, Ptr, Uint, Hex]),
    // Credentials.
    s("setuid", &[Int]),
    s("setgid", &[Int]),
    s("setfsuid", &[Int]),
    s("setfsgid", &[Int]),
    s("setreuid", &[Int, Int]),
    s("setregid", &[Int, Int]),
    s("setresuid", &[Int, Int, Int]),
    s("setresgid", &[Int, Int, Int]),
    s("getresuid", &[IntOut(&[]), IntOut(&[]), IntOut(&[])]),
    s("getresgid", &[IntOut(&[]), IntOut(&[]), IntOut(&[])]),
    s("capget", &[CapHeader, CapDataOut]),
    s("capset", &[CapHeaderIn, CapDataIn]),
    // Processes and scheduling.
    s("getpriority", &[Enum(consts::PRIO_WHICH), Int]),
    s("setpriority", &[Enum(consts::PRIO_WHICH), Int, Int]),
    s("sched_setparam", &[Int, IntIn(&[])]),
    s("sched_getparam", &[Int, IntOut(&[])]),
    s(
        "sched_setscheduler",
        &[Int, Enum(consts::SCHED_POLICIES), IntIn(&[])],
    ),
    s("sched_getscheduler", &[Int]),
    s("sched_get_priority_max", &[Enum(consts::SCHED_POLICIES)]),
    s("sched_get_priority_min", &[Enum(consts::SCHED_POLICIES)]),
    s("sched_rr_get_interval", &[Int, TimespecOut]),
    s("sched_setattr", &[Int, Ptr, Hex]),
    s("sched_getattr", &[Int, Ptr, Uint, Hex]),
    s("getcpu", &[IntOut(&[]), IntOut(&[]), Ptr]),
    s("getrusage", &[Enum(consts::RUSAGE_WHO), Ptr]),
    s("times", &[Ptr]),
    s("personality", &[Hex]),
    s("unshare", &[Flags(consts::UNSHARE_FLAGS)]),
    s("setns", &[Fd, Flags(consts::UNSHARE_FLAGS)]),
    s("get_robust_list", &[Int, Ptr, Ptr]),
    s("kcmp", &[Int, Int, Int, Hex, Hex]),
    s("ptrace", &[Int, Int, Ptr, Ptr]),
    s("process_vm_readv", &[Int, Ptr, Uint, Ptr, Uint, Hex]),
    s("process_vm_writev", &[Int, Ptr, Uint, Ptr, Uint, Hex]),
    s(
        "process_madvise",
        &[Fd, Ptr, Uint, Enum(consts::MADVICE), Hex],
    ),
    s("process_mrelease", &[Fd, Hex]),
    s("ioprio_set", &[Int, Int, Hex]),
    s("ioprio_get", &[Int, Int]),
    s("seccomp", &[Uint, Hex, Ptr]),
    s("bpf", &[Int, Ptr, Uint]),
    s("perf_event_open", &[Ptr, Int, Int, Fd, Hex]),
    s("userfaultfd", &[FdFlags]),
    s("landlock_create_ruleset", &[Ptr, Uint, Hex]),
    s("landlock_add_rule", &[Fd, Int, Ptr, Hex]),
    s("landlock_restrict_self", &[Fd, Hex]),
    s("lsm_get_self_attr", &[Uint, Ptr, Ptr, Hex]),
    s("lsm_set_self_attr", &[Uint, Ptr, Uint, Hex]),
    s("lsm_list_modules", &[Ptr, Ptr, Hex]),
    s("syslog", &[Int, Ptr, Int]),
    s("sethostname", &[InBuf(Arg(1)), Uint]),
    s("setdomainname", &[InBuf(Arg(1)), Uint]),
    s("reboot", &[Hex, Hex, Hex, Ptr]),
    s("init_module", &[Ptr, Uint, Path]),
    s("finit_module", &[Fd, Path, Hex]),
    s("delete_module", &[Path, Hex]),
    s("kexec_load", &[Hex, Uint, Ptr, Hex]),
    s("kexec_file_load", &[Fd, Fd, Uint, Path, Hex]),
    s("add_key", &[Path, Path, InBuf(Arg(3)), Uint, Int]),
    s("request_key", &[Path, Path, Path, Int]),
    s("keyctl", &[Int, Hex, Hex, Hex, Hex]),
    // Signals.
    s("pause", &[]),
    s("alarm", &[Uint]),
    s("getitimer", &[Enum(consts::ITIMERS), Ptr]),
    s("setitimer", &[Enum(consts::ITIMERS), Ptr, Ptr]),
    s("rt_sigpending", &[SigsetOut, Uint]),
    s("rt_sigsuspend", &[SigsetIn, Uint]),
    s("rt_sigtimedwait", &[SigsetIn, Ptr, TimespecIn, Uint]),
    s("rt_sigqueueinfo", &[Int, Signal, Ptr]),
    s("rt_tgsigqueueinfo", &[Int, Int, Signal, Ptr]),
    // Time.
    s("time", &[Ptr]),
    s("settimeofday", &[Ptr, Ptr]),
    s("adjtimex", &[Ptr]),
    s("clock_settime", &[Enum(consts::CLOCKS), TimespecIn]),
    s("clock_adjtime", &[Enum(consts::CLOCKS), Ptr]),
    s("timer_create", &[Enum(consts::CLOCKS), Ptr, Ptr]),
    s(
        "timer_settime",
        &[Int, Flags(consts::TIMER_FLAGS), Ptr, Ptr],
    ),
    s("timer_gettime", &[Int, Ptr]),
    s("timer_getoverrun", &[Int]),
    s("timer_delete", &[Int]),
    s(
        "futex_waitv",
        &[Ptr, Uint, Hex, TimespecIn, Enum(consts::CLOCKS)],
    ),
    s("futex_wake", &[Ptr, Hex, Int, Hex]),
    s(
        "futex_wait",
        &[Ptr, Hex, Hex, Hex, TimespecIn, Enum(consts::CLOCKS)],
    ),
    s("futex_requeue", &[Ptr, Hex, Int, Int]),
    // Memory.
    s("mincore", &[Ptr, Uint, Ptr]),
    s("mlock2", &[Ptr, Uint, Flags(consts::MLOCK_FLAGS)]),
    s("mlockall", &[Flags(consts::MCL_FLAGS)]),
    s("munlockall", &[]),
    s("remap_file_pages", &[Ptr, Uint, MmapProt, Uint, MmapFlags]),
    s("pkey_mprotect", &[Ptr, Uint, MmapProt, Int]),
    s("pkey_alloc", &[Hex, Hex]),
    s("pkey_free", &[Int]),
    s("membarrier", &[Enum(consts::MEMBARRIER_CMDS), Hex, Int]),
    s("memfd_secret", &[FdFlags]),
    s("mseal", &[Ptr, Uint, Hex]),
    s("map_shadow_stack", &[Ptr, Uint, Hex]).hex(),
    s(
        "mbind",
        &[
            Ptr,
            Uint,
            MpolMode,
            NodeMaskIn(4),
            Uint,
            Flags(consts::MBIND_FLAGS),
        ],
    ),
    s("set_mempolicy", &[MpolMode, NodeMaskIn(2), Uint]),
    s(
        "get_mempolicy",
        &[
            IntOut(consts::MPOL_MODES),
            NodeMaskOut(2),
            Uint,
            Ptr,
            Flags(consts::GET_MEMPOLICY_FLAGS),
        ],
    ),
    s("set_mempolicy_home_node", &[Ptr, Uint, Uint, Hex]),
    s("migrate_pages", &[Int, Uint, Ptr, Ptr]),
    s("move_pages", &[Int, Uint, Ptr, Ptr, Ptr, Hex]),
    // System V and POSIX IPC.
    s("shmget", &[Hex, Uint, Hex]),
    s("shmat", &[Int, Ptr, Hex]).hex(),
    s("shmdt", &[Ptr]),
    s("shmctl", &[Int, Hex, Ptr]),
    s("semget", &[Hex, Int, Hex]),
    s("semop", &[Int, Ptr, Uint]),
    s("semtimedop", &[Int, Ptr, Uint, TimespecIn]),
    s("semctl", &[Int, Int, Hex, Hex]),
    s("msgget", &[Hex, Hex]),
    s("msgsnd", &[Int, Ptr, Uint, Hex]),
    s("msgrcv", &[Int, Ptr, Uint, Long, Hex]),
    s("msgctl", &[Int, Hex, Ptr]),
    s("mq_open", &[Path, OpenFlags, OpenMode, Ptr]),
    s("mq_unlink", &[Path]),
    s("mq_timedsend", &[Fd, InBuf(Arg(2)), Uint, Uint, TimespecIn]),
    s("mq_timedreceive", &[Fd, OutBuf(Ret), Uint, Ptr, TimespecIn]),
    s("mq_notify", &[Fd, Ptr]),
    s("mq_getsetattr", &[Fd, Ptr, Ptr]),
    // Obsolete or x86_64-only calls that strace decodes.
    s("uselib", &[Path]),
    s("ustat", &[Uint, Ptr]),
    s("_sysctl", &[Ptr]),
    s("iopl", &[Int]),
    s("ioperm", &[Hex, Hex, Int]),
    s("modify_ldt", &[Int, Ptr, Uint]),
    s("set_thread_area", &[Ptr]),
    s("get_thread_area", &[Ptr]),
    s("lookup_dcookie", &[Uint, Ptr, Uint]),
    s("listns", &[Ptr, Ptr, Uint, Hex]),
];

/// The calls strace itself prints raw, as hexadecimal registers
/// (`printargs`: src/syscall_dummy.h), and so without a row here: the
/// fallback prints as many registers as strace's table says they take.
/// `restart_syscall` is the one other call without a row: strace shows it
/// as `restart_syscall(<... resuming interrupted call ...>)`, from state
/// it keeps across the signal, which a recording does not hold.
#[cfg(test)]
pub(crate) const STRACE_PRINTS_RAW: &[&str] = &[
    "afs_syscall",
    "create_module",
    "epoll_ctl_old",
    "epoll_wait_old",
    "get_kernel_syms",
    "getpmsg",
    "nfsservctl",
    "putpmsg",
    "query_module",
    "rseq_slice_yield",
    "security",
    "sysfs",
    "tuxcall",
    "uretprobe",
    "vhangup",
    "vserver",
    "restart_syscall",
];

/// Per-architecture index: syscall number -> row.
fn index() -> &'static [Vec<Option<&'static Spec>>; 2] {
    static INDEX: OnceLock<[Vec<Option<&'static Spec>>; 2]> = OnceLock::new();
    INDEX.get_or_init(|| Arch::ALL.map(build_index))
}

fn build_index(arch: Arch) -> Vec<Option<&'static Spec>> {
    let mut v: Vec<Option<&'static Spec>> = Vec::new();
    // Generic rows first, so architecture-specific rows override them.
    let rows = SPECS
        .iter()
        .filter(|s| s.only.is_none())
        .chain(SPECS.iter().filter(|s| s.only == Some(arch)));
    for spec in rows {
        let Some(nr) = syscall_nr(arch, spec.name) else {
            continue; // not on this architecture (e.g. open on arm64)
        };
        let Ok(i) = usize::try_from(nr) else { continue };
        if v.len() <= i {
            v.resize(i + 1, None);
        }
        v[i] = Some(spec);
    }
    v
}

/// The row for syscall `nr` of `arch`, if the table has one.
pub(crate) fn spec(arch: Arch, nr: i64) -> Option<&'static Spec> {
    let i = usize::try_from(nr).ok()?;
    index()[arch.index()].get(i).copied().flatten()
}

/// The path (or name) string arguments of syscall `nr` of `arch`, a bit
/// per argument (bit i = argument i): what `recorder watch --path`
/// compares. 0 for a call without one, or without a row.
pub fn path_args(arch: Arch, nr: i64) -> u8 {
    path_arg_dirs(arch, nr)
        .iter()
        .fold(0, |m, &(i, _)| m | (1 << i))
}

/// The path arguments of syscall `nr` of `arch`, each with the directory
/// fd argument it is relative to (the nearest `DirFd` before it, for the
/// `*at` calls), in argument order.
pub fn path_arg_dirs(arch: Arch, nr: i64) -> Vec<(usize, Option<usize>)> {
    let Some(s) = spec(arch, nr) else {
        return Vec::new();
    };
    let mut dir = None;
    let mut out = Vec::new();
    for (i, t) in s.args.iter().enumerate() {
        match t {
            Ty::DirFd => dir = Some(i),
            Ty::Path => out.push((i, dir)),
            _ => {}
        }
    }
    out
}

/// Every row (for tests and coverage listings).
pub(crate) fn all_specs() -> &'static [Spec] {
    SPECS
}

impl Ty {
    /// What the kernel side should capture for an argument of this type.
    fn plan(self, arch: Arch) -> ArgPlan {
        use ArgPlan as P;
        let out_fixed = |n: usize| P::OutBuf {
            len: Fixed(n as u32),
        };
        let in_fixed = |n: usize| P::InBuf {
            len: Fixed(n as u32),
        };
        match self {
            Path => P::Str,
            LenPtr(_) => P::SocklenIn,
            Argv | Envp => P::StrArray,
            InBuf(len) => P::InBuf { len },
            OutBuf(len) | OutStr(len) | OutHex(len) => P::OutBuf { len },
            XattrList(_) => P::OutBuf { len: Ret },
            IovIn(count_arg) => P::Iovec {
                count_arg,
                out: false,
            },
            IovOut(count_arg) => P::Iovec {
                count_arg,
                out: true,
            },
            MsgIn => P::Msghdr { out: false },
            MsgOut => P::Msghdr { out: true },
            SockaddrIn(len_arg) => P::Sockaddr {
                len: Arg(len_arg),
                out: false,
            },
            SockaddrOut(len_ptr) => P::Sockaddr {
                len: LenFrom::ArgDeref(len_ptr),
                out: true,
            },
            Stat => out_fixed(structs::stat_size(arch)),
            Statx => out_fixed(structs::STATX_SIZE),
            TimespecIn => in_fixed(structs::TIMESPEC_SIZE),
            TimespecOut | TimevalOut => out_fixed(structs::TIMESPEC_SIZE),
            Utsname => out_fixed(structs::UTSNAME_SIZE),
            Dirents => P::DirentCount,
            EpollEvents => P::OutBuf {
                len: LenFrom::RetTimes(structs::epoll_event_size(arch) as u32),
            },
            MmsgOut => P::Mmsghdr,
            EpollEventIn => in_fixed(structs::epoll_event_size(arch)),
            FdSet => P::InOut {
                len: LenFrom::FdSet(0),
            },
            SelTimespec => P::InOut {
                len: Fixed(structs::TIMESPEC_SIZE as u32),
            },
            IoctlArg => P::IoctlOut,
            FutexTimeout => P::FutexTimeout,
            SigreturnMask => P::SigreturnMask,
            RlimIn => in_fixed(structs::RLIMIT_SIZE),
            RlimOut => out_fixed(structs::RLIMIT_SIZE),
            Sysinfo => out_fixed(structs::SYSINFO_SIZE),
            Statfs => out_fixed(structs::STATFS_SIZE),
            StackIn => in_fixed(structs::STACK_T_SIZE),
            StackOut => out_fixed(structs::STACK_T_SIZE),
            CpuSetOut => P::OutBuf { len: Ret },
            Groups => P::OutBuf {
                len: LenFrom::RetTimes(4),
            },
            CpuSetIn => P::InBuf { len: Arg(1) },
            CapHeader => P::InOut {
                len: Fixed(structs::CAP_HEADER_SIZE as u32),
            },
            CapHeaderIn => in_fixed(structs::CAP_HEADER_SIZE),
            CapDataOut => out_fixed(structs::CAP_DATA_SIZE),
            CapDataIn => in_fixed(structs::CAP_DATA_SIZE),
            GroupsIn => P::InBuf {
                len: LenFrom::ArgTimes(0, 4),
            },
            IntPair => out_fixed(8),
            WaitStatus => out_fixed(4),
            SigactionIn => in_fixed(structs::SIGACTION_SIZE),
            SigactionOut => out_fixed(structs::SIGACTION_SIZE),
            SigsetIn => in_fixed(8),
            SigsetOut => out_fixed(8),
            OpenHow(size_arg) | CloneArgs(size_arg) => P::InBuf { len: Arg(size_arg) },
            SockOptIn => P::InBuf { len: Arg(4) },
            IntOut(_) | ParentTid => out_fixed(4),
            PollFds(count_arg) => P::InBuf {
                len: LenFrom::ArgTimes(count_arg, structs::POLLFD_SIZE as u32),
            },
            PrctlArg => P::Str,
            Utimens => in_fixed(2 * structs::TIMESPEC_SIZE),
            IntIn(_) => in_fixed(4),
            NodeMaskIn(_) => in_fixed(NODEMASK_CAPTURE),
            NodeMaskOut(_) => out_fixed(NODEMASK_CAPTURE),
            SockOptOut => P::OutBuf {
                len: LenFrom::ArgDeref(4),
            },
            _ => P::None,
        }
    }

    /// True for types whose captured bytes are text-like data (as opposed to
    /// a struct), so JSON may offer them as `text`.
    pub(crate) fn is_byte_buffer(self) -> bool {
        matches!(
            self,
            Path | Argv
                | Envp
                | InBuf(_)
                | OutBuf(_)
                | OutStr(_)
                | OutHex(_)
                | XattrList(_)
                | IovIn(_)
                | IovOut(_)
        )
    }
}

fn plan_of(arch: Arch, spec: &Spec) -> CapturePlan {
    let mut plan = CapturePlan::NONE;
    for (slot, ty) in plan.args.iter_mut().zip(spec.args) {
        *slot = ty.plan(arch);
    }
    // Gone at exit: execve's strings after a successful exec, the signal
    // frame once rt_sigreturn has restored it.
    plan.at_entry = plan
        .args
        .iter()
        .any(|a| matches!(a, ArgPlan::StrArray | ArgPlan::SigreturnMask));
    plan
}

/// Capture plan of syscall `nr` in `arch`'s numbering (all `None` for
/// syscalls the table does not know).
pub fn capture_plan(arch: Arch, nr: i64) -> CapturePlan {
    spec(arch, nr).map_or(CapturePlan::NONE, |s| plan_of(arch, s))
}

/// Capture plan of syscall `name` on `arch` (all `None` if `arch` has no
/// such syscall or the table does not know it).
pub fn capture_plan_by_name(arch: Arch, name: &str) -> CapturePlan {
    syscall_nr(arch, name).map_or(CapturePlan::NONE, |nr| capture_plan(arch, nr))
}

/// Every syscall of `arch` that captures something, by number (ascending):
/// what the daemon loads into the kernel's plan map.
pub fn capture_table(arch: Arch) -> Vec<(i64, CapturePlan)> {
    index()[arch.index()]
        .iter()
        .enumerate()
        .filter_map(|(nr, s)| Some((nr as i64, plan_of(arch, (*s)?))))
        .filter(|(_, p)| !p.is_empty())
        .collect()
}
