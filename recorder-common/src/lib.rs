//! Types and names shared across the kernel/user boundary.
//!
//! Everything here is `#[repr(C)]`, fixed width and free of implicit padding
//! (checked at compile time below), because the eBPF programs write these
//! structs into maps and the ring buffer and user space reads them back as
//! plain bytes. The eBPF crate uses this crate without features; user space
//! enables `user`, which implements [`aya::Pod`] for the map value types.
//!
//! The on-disk log format does *not* use these structs: user space converts
//! ring records into the log's own serde types, so a change here never breaks
//! logs that were already written.
#![no_std]

/// Per-CPU wakeup state (records since the last occupancy check, and
/// whether this CPU already woke the daemon for the current crossing).
pub const MAP_WAKE: &str = "WAKE";
/// Ring buffer all records go through (`BPF_MAP_TYPE_RINGBUF`).
pub const MAP_EVENTS: &str = "EVENTS";
/// Per-pid selection bytes, packed [`TRACED_CHUNK`] pids per array element.
pub const MAP_TRACED: &str = "TRACED";
/// Per-thread syscall-entry stash, keyed by tid: the fallback for the
/// threads that do not own a slot of [`MAP_STASH_SLOTS`].
pub const MAP_STASH: &str = "STASH";
/// The stash's fast path: an array of [`Stash`] indexed by
/// `tid & globals::STASH_MASK`, each slot owned by one thread at a time
/// (`Stash::tid`; 0 is free). Array lookups are inlined by the verifier,
/// so an owner's entry and exit cost no helper call and no lock.
pub const MAP_STASH_SLOTS: &str = "STASH_SLOTS";
/// Slot index (`u32`) -> owning tid (`u32`): a slot is claimed by an
/// insert with `BPF_NOEXIST`, which only one claimer can win (array
/// stores cannot arbitrate, and compare-and-swap needs 5.12). Touched
/// once when a thread claims its slot and once when it frees it.
pub const MAP_STASH_OWNERS: &str = "STASH_OWNERS";
/// Most entries of [`MAP_STASH_SLOTS`] (88 bytes each: 2.75 MiB). With
/// `pid_max` at or below it (32768 is the kernel's default) every tid has
/// a slot of its own; above it (4M on systemd machines) threads whose
/// tids are equal modulo the slot count share one, and all but its owner
/// use the hash map.
pub const STASH_SLOTS_MAX: u32 = 1 << 15;
/// Comm names (`[u8; 16]`, NUL padded) selected by `--comm`.
pub const MAP_COMMS: &str = "COMMS";
/// Per-CPU loss/volume counters, see the `CTR_*` indices.
pub const MAP_COUNTERS: &str = "COUNTERS";
/// Lossless mode: processes the programs paused (tgid -> [`Paused`]).
pub const MAP_PAUSED: &str = "PAUSED";
/// Lossless mode: one `u32`, 1 while pausing is allowed. The resume guard
/// clears it if the recorder dies, before it resumes every paused process.
pub const MAP_PAUSE_ON: &str = "PAUSE_ON";
/// One `u32`: 1 once the recorder stops. The programs on classic
/// tracepoints (fork, exec, exit, signal) then record nothing more, so that
/// their slow detaching can finish after the recorder has exited.
pub const MAP_CLOSING: &str = "CLOSING";
/// Processes that can be paused at once (entries of [`MAP_PAUSED`]). A
/// process that finds it full is not paused (its records may then be
/// dropped, and are counted).
pub const PAUSED_ENTRIES: u32 = 4096;
/// What to capture per syscall number ([`CaptureSpec`], indexed by nr).
pub const MAP_CAPTURE: &str = "CAPTURE";
/// Entries of [`MAP_CAPTURE`]: syscall numbers at or above it are never
/// captured (both architectures' tables end below 1024; the decode layer
/// skips rows beyond it).
pub const CAPTURE_ENTRIES: u32 = 1024;
/// Default entries of [`MAP_STASH`] (the loader sets the real number):
/// threads that can be inside a traced call at once.
pub const STASH_ENTRIES: u32 = 16384;
/// Names `--comm` can select at once (entries of [`MAP_COMMS`]).
pub const COMMS_ENTRIES: u32 = 64;
/// A task's comm as the kernel keeps it (`TASK_COMM_LEN`, NUL included):
/// the key of [`MAP_COMMS`] and [`ProcRecord::comm`].
pub const COMM_LEN: usize = 16;
/// Per-CPU scratch where records with data are assembled ([`SCRATCH_SIZE`]).
pub const MAP_SCRATCH: &str = "SCRATCH";
/// `recorder -e trace=SET`: one [`trace`] byte per syscall number (`u8`,
/// indexed by nr, [`CAPTURE_ENTRIES`] of them, like [`MAP_CAPTURE`]). Only
/// consulted when [`globals::TRACE_ALL`] is 0.
pub const MAP_TRACE_SET: &str = "TRACE_SET";
/// Per syscall number (`u8`, [`CAPTURE_ENTRIES`] of them), the argument
/// words its records without data leave off ([`args_cut`] of the number of
/// arguments it takes). The map starts zeroed, which sends the whole
/// record: the loader writes only the calls that take 3 or fewer.
pub const MAP_ARG_CUT: &str = "ARG_CUT";
/// Threads known not to be traced, one tagged `u64` word per slot (see
/// [`bystander`]), [`bystander::SLOTS`] of them: what lets a thread that is
/// not recorded leave the syscall programs without a helper call.
pub const MAP_BYSTANDERS: &str = "BYSTANDERS";
/// User space's part of the generation the words of [`MAP_BYSTANDERS`] are
/// checked against (see [`bystander`]): a `u64` global of the programs in
/// a section of its own, so this map is that one value (key 0). The
/// programs add their own part, which only they write. (The programs name
/// the section in a `link_section` attribute, which takes no constant.)
pub const MAP_USER_EPOCH: &str = ".data.user_epoch";
/// Lean mode: per-thread sequence numbers, one tagged `u64` word per slot
/// (see [`seq_slot`]), indexed by `tid & globals::SEQ_MASK`.
pub const MAP_SEQS: &str = "SEQS";
/// Threads in an exec whose argv or envp could not be read at entry; the
/// exit reads them from the new stack instead (ARMv8.0 cores without a
/// hardware access flag, see the programs' `EXEC_REREAD`).
pub const MAP_EXEC_REREAD: &str = "EXEC_REREAD";
/// `recorder watch --path`: the final path components to match, as
/// [`NamePattern`]s ([`WATCH_NAMES_MAX`] entries, the first
/// [`globals::WATCH_NAME_COUNT`] used).
pub const MAP_WATCH_NAMES: &str = "WATCH_NAMES";
/// `recorder watch --path`: per syscall number (`u8`, [`CAPTURE_ENTRIES`]
/// of them), a bit per argument that is a path string (bit i = argument i).
/// A call without one never matches a path filter.
pub const MAP_WATCH_ARGS: &str = "WATCH_ARGS";
/// `recorder watch --errno`: one `u8` per errno value (1 = selected),
/// [`ERRNO_ENTRIES`] of them.
pub const MAP_WATCH_ERRNO: &str = "WATCH_ERRNO";
/// `recorder watch`: what the kernel saw of the processes started while
/// it runs (tgid or tid -> [`ProcInfo`], an LRU hash), from their fork and
/// exec: who they were once they are gone from /proc.
pub const MAP_WATCH_PROCS: &str = "WATCH_PROCS";
/// Entries of [`MAP_WATCH_PROCS`]: the least recently used go first.
pub const WATCH_PROCS_ENTRIES: u32 = 8192;
/// Bytes of an executable's path kept in [`ProcInfo::exe`] (NUL included).
pub const EXE_LEN: usize = 256;
/// `recorder watch --addr`: per syscall number (`u8`, [`CAPTURE_ENTRIES`]
/// of them), the index + 1 of its socket-address argument (connect, bind:
/// 2; sendto: 5); 0 for a call without one, which `--addr` never matches.
pub const MAP_WATCH_SOCK: &str = "WATCH_SOCK";
/// Entries of [`MAP_WATCH_ERRNO`]: the kernel's error range is 1..=4095.
pub const ERRNO_ENTRIES: u32 = 4096;
/// Final path components `recorder watch --path` can match at once.
pub const WATCH_NAMES_MAX: u32 = 8;
/// Bytes of a path's end that [`NamePattern`] compares: a name of up to
/// `NAME_WINDOW - 1` bytes and the byte before it.
pub const NAME_WINDOW: usize = 64;
/// Bytes of a path the watch program reads to find its end
/// (`PATH_MAX`); the string is read after [`NAME_WINDOW`] zero bytes.
pub const WATCH_PATH_MAX: usize = 4096;

/// Every map above: the eBPF object must define exactly these (a test in
/// the loader holds the two together; the programs' `#[map(name = ..)]`
/// attributes need literals).
pub const MAPS: &[&str] = &[
    MAP_WAKE,
    MAP_EVENTS,
    MAP_TRACED,
    MAP_STASH,
    MAP_COMMS,
    MAP_COUNTERS,
    MAP_PAUSED,
    MAP_PAUSE_ON,
    MAP_CLOSING,
    MAP_CAPTURE,
    MAP_SCRATCH,
    MAP_TRACE_SET,
    MAP_ARG_CUT,
    MAP_SEQS,
    MAP_BYSTANDERS,
    MAP_EXEC_REREAD,
    MAP_STASH_SLOTS,
    MAP_STASH_OWNERS,
    MAP_WATCH_NAMES,
    MAP_WATCH_ARGS,
    MAP_WATCH_ERRNO,
    MAP_WATCH_PROCS,
    MAP_WATCH_SOCK,
];

pub const PROG_SYS_ENTER: &str = "sys_enter";
pub const PROG_SYS_EXIT: &str = "sys_exit";
pub const PROG_SCHED_FORK: &str = "sched_process_fork";
pub const PROG_SCHED_EXEC: &str = "sched_process_exec";
pub const PROG_SCHED_EXIT: &str = "sched_process_exit";
pub const PROG_SIGNAL_DELIVER: &str = "signal_deliver";
/// Lean mode (`recorder --lean`): the only `raw_syscalls` program, on
/// `sys_exit`, reading the arguments from the registers there.
pub const PROG_LEAN_EXIT: &str = "sys_exit_lean";
/// Lean mode: one classic tracepoint program attached to the per-syscall
/// `syscalls:sys_enter_*` events of the calls whose exit-time registers or
/// memory do not tell what they were called with (see [`LEAN_TRACEPOINTS`]).
pub const PROG_LEAN_ENTER: &str = "lean_enter";
/// `recorder watch`: the only program, on `sys_exit`, for every thread of
/// the machine (see [`WATCH_TRACEPOINTS`]).
pub const PROG_WATCH_EXIT: &str = "sys_exit_watch";
/// `recorder watch`: on `sched_process_fork` and `sched_process_exec`,
/// filling [`MAP_WATCH_PROCS`].
pub const PROG_WATCH_FORK: &str = "watch_fork";
pub const PROG_WATCH_EXEC: &str = "watch_exec";
/// The syscall programs as `tp_btf` programs, for kernels with BTF: the
/// same code, which loads the registers directly where the raw tracepoint
/// programs take a helper call (see [`BTF_TWINS`]). Not in the object
/// for kernels before 5.17.
pub const PROG_SYS_ENTER_BTF: &str = "sys_enter_btf";
pub const PROG_SYS_EXIT_BTF: &str = "sys_exit_btf";
pub const PROG_LEAN_EXIT_BTF: &str = "lean_exit_btf";
pub const PROG_WATCH_EXIT_BTF: &str = "watch_exit_btf";

/// Each raw tracepoint program that has a `tp_btf` twin, and the twin: the
/// same code, attached to the same tracepoint, which the kernel names by
/// the BTF typedef `btf_trace_<tracepoint name>`.
pub const BTF_TWINS: &[(&str, &str)] = &[
    (PROG_SYS_ENTER, PROG_SYS_ENTER_BTF),
    (PROG_SYS_EXIT, PROG_SYS_EXIT_BTF),
    (PROG_LEAN_EXIT, PROG_LEAN_EXIT_BTF),
    (PROG_WATCH_EXIT, PROG_WATCH_EXIT_BTF),
];

/// The `tp_btf` twin of raw tracepoint program `prog`, if it has one
/// ([`BTF_TWINS`]).
pub fn btf_variant(prog: &str) -> Option<&'static str> {
    BTF_TWINS
        .iter()
        .find_map(|&(raw, twin)| (raw == prog).then_some(twin))
}

/// Empty programs on the same tracepoints, for `recorder --bench-floor`.
pub const PROG_FLOOR_ENTER: &str = "floor_enter";
pub const PROG_FLOOR_EXIT: &str = "floor_exit";

/// A tracepoint and the program attached to it: `events/CATEGORY/NAME` in
/// tracefs. Raw tracepoints (the programs' ELF sections say which) are
/// attached by name only; their category still says where tracefs shows
/// them, which is how their presence is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracepoint {
    /// The program's name in the eBPF object (a `PROG_*` constant).
    pub prog: &'static str,
    pub category: &'static str,
    pub name: &'static str,
}

pub const TP_SCHED_FORK: Tracepoint = Tracepoint {
    prog: PROG_SCHED_FORK,
    category: "sched",
    name: "sched_process_fork",
};
pub const TP_SCHED_EXEC: Tracepoint = Tracepoint {
    prog: PROG_SCHED_EXEC,
    category: "sched",
    name: "sched_process_exec",
};
pub const TP_SCHED_EXIT: Tracepoint = Tracepoint {
    prog: PROG_SCHED_EXIT,
    category: "sched",
    name: "sched_process_exit",
};
pub const TP_SIGNAL_DELIVER: Tracepoint = Tracepoint {
    prog: PROG_SIGNAL_DELIVER,
    category: "signal",
    name: "signal_deliver",
};
pub const TP_SYS_EXIT: Tracepoint = Tracepoint {
    prog: PROG_SYS_EXIT,
    category: "raw_syscalls",
    name: "sys_exit",
};
pub const TP_SYS_ENTER: Tracepoint = Tracepoint {
    prog: PROG_SYS_ENTER,
    category: "raw_syscalls",
    name: "sys_enter",
};

/// Every tracepoint a recording attaches to, in attach order: the
/// lifecycle ones first (so no fork is missed), then sys_exit, then
/// sys_enter. The one list that loading, attaching and `recorder check`
/// all go by, so `check` cannot pass on a kernel where loading fails.
pub const TRACEPOINTS: &[Tracepoint] = &[
    TP_SCHED_FORK,
    TP_SCHED_EXEC,
    TP_SCHED_EXIT,
    TP_SIGNAL_DELIVER,
    TP_SYS_EXIT,
    TP_SYS_ENTER,
];

/// What lean mode attaches: the lifecycle programs, the exit-only syscall
/// program, and [`PROG_LEAN_ENTER`] on the `syscalls:sys_enter_*` events of
/// the calls whose exit does not tell what they were called with:
/// - execve, execveat: a successful exec replaces the registers (x86
///   `elf_common_init` zeroes them, arm64 `start_thread_common` clears
///   pt_regs) and the memory the path and argv were in;
/// - exit, exit_group: they never reach `sys_exit`;
/// - clone, clone3: `sched_process_fork` needs their flags (thread or
///   process) while the call is still in flight.
///
/// Not rt_sigreturn: its exit has number -1 (the registers are the restored
/// context), which `sys_exit_lean` takes for it, and the signal mask strace
/// shows is read from the frame at the user stack pointer, which these
/// events do not give (lean logs show `rt_sigreturn()`).
///
/// These are classic per-syscall events: they share one probe on
/// `raw_syscalls:sys_enter` (`perf_syscall_enter`) that returns after a
/// bitmap test for every other call, and no BPF program runs for those (see
/// <https://github.com/torvalds/linux/blob/v6.18/kernel/trace/trace_syscalls.c>).
pub const LEAN_TRACEPOINTS: &[Tracepoint] = &[
    TP_SCHED_FORK,
    TP_SCHED_EXEC,
    TP_SCHED_EXIT,
    TP_SIGNAL_DELIVER,
    Tracepoint {
        prog: PROG_LEAN_EXIT,
        ..TP_SYS_EXIT
    },
    lean_enter("sys_enter_execve"),
    lean_enter("sys_enter_execveat"),
    lean_enter("sys_enter_exit"),
    lean_enter("sys_enter_exit_group"),
    lean_enter("sys_enter_clone"),
    lean_enter("sys_enter_clone3"),
];

const fn lean_enter(name: &'static str) -> Tracepoint {
    Tracepoint {
        prog: PROG_LEAN_ENTER,
        category: "syscalls",
        name,
    }
}

/// What `recorder watch` attaches: one exit-only program on `sys_exit`.
/// The number, the return value and the arguments are all in the
/// registers there (as in lean mode), and the memory a path argument
/// points to is still the caller's, so one program can reject a call on
/// its number, its outcome and its path's final component before it
/// builds anything. Who made a call is read from /proc when its record
/// arrives; for a process that is gone by then, the fork and exec
/// programs (rare events, every process) keep its parent and executable
/// in [`MAP_WATCH_PROCS`].
pub const WATCH_TRACEPOINTS: &[Tracepoint] = &[
    Tracepoint {
        prog: PROG_WATCH_FORK,
        ..TP_SCHED_FORK
    },
    Tracepoint {
        prog: PROG_WATCH_EXEC,
        ..TP_SCHED_EXEC
    },
    Tracepoint {
        prog: PROG_WATCH_EXIT,
        ..TP_SYS_EXIT
    },
];

/// Lean mode's benchmark floor: the empty program on `sys_exit` alone.
pub const LEAN_FLOOR_TRACEPOINTS: &[Tracepoint] = &[Tracepoint {
    prog: PROG_FLOOR_EXIT,
    ..TP_SYS_EXIT
}];

/// What `recorder --bench-floor` attaches instead: the empty programs, on
/// tracepoints that are all in [`TRACEPOINTS`] (so `check` covers them).
pub const FLOOR_TRACEPOINTS: &[Tracepoint] = &[
    Tracepoint {
        prog: PROG_FLOOR_EXIT,
        ..TP_SYS_EXIT
    },
    Tracepoint {
        prog: PROG_FLOOR_ENTER,
        ..TP_SYS_ENTER
    },
];

/// Read-only globals (`.rodata`) that user space sets before load.
pub mod globals {
    /// `u8`: 1 to trace the children of traced processes.
    pub const FOLLOW_FORKS: &str = "FOLLOW_FORKS";
    /// `u8`: 1 when the COMMS map holds names (skips its lookup otherwise).
    pub const HAVE_COMMS: &str = "HAVE_COMMS";
    /// `u32`: offset of `child_pid` in the `sched_process_fork` record.
    /// Read from tracefs at run time: kernel 6.x turned the comm fields into
    /// `__data_loc`, which moved it (24+20 on 6.1, 20 on 6.18).
    pub const FORK_CHILD_PID_OFF: &str = "FORK_CHILD_PID_OFF";
    /// `u32`: offset of `old_pid` in the `sched_process_exec` record.
    pub const EXEC_OLD_PID_OFF: &str = "EXEC_OLD_PID_OFF";
    /// `u32`: offsets of `sig` and `sa_handler` in `signal_deliver`.
    pub const SIG_OFF: &str = "SIG_OFF";
    pub const SIG_HANDLER_OFF: &str = "SIG_HANDLER_OFF";
    /// `u32`: offset of `group_dead` in `sched_process_exit`, or 0 if absent.
    pub const EXIT_GROUP_DEAD_OFF: &str = "EXIT_GROUP_DEAD_OFF";
    /// `i64` syscall numbers of the running architecture, filled in from
    /// `libc::SYS_*` so the eBPF object holds no syscall table of its own.
    pub const NR_EXIT: &str = "NR_EXIT";
    pub const NR_EXIT_GROUP: &str = "NR_EXIT_GROUP";
    pub const NR_EXECVE: &str = "NR_EXECVE";
    pub const NR_EXECVEAT: &str = "NR_EXECVEAT";
    pub const NR_CLONE: &str = "NR_CLONE";
    pub const NR_CLONE3: &str = "NR_CLONE3";
    pub const NR_RT_SIGRETURN: &str = "NR_RT_SIGRETURN";
    /// `u32`: lean mode, entries of [`super::MAP_SEQS`] minus one (a power
    /// of two minus one).
    pub const SEQ_MASK: &str = "SEQ_MASK";
    /// `u32`: entries of [`super::MAP_STASH_SLOTS`] minus one (a power of
    /// two minus one).
    pub const STASH_MASK: &str = "STASH_MASK";
    /// `u8`: 1 in lean mode, for what the shared programs do differently
    /// (`sched_process_fork` does not copy the parent's clone to the child).
    pub const LEAN: &str = "LEAN";
    /// `u64`: ring occupancy (bytes) past which the programs wake the
    /// daemon; below it records are submitted with `BPF_RB_NO_WAKEUP`. 0
    /// leaves wakeups to the kernel's default (wake when the reader caught up).
    pub const WAKEUP_BYTES: &str = "WAKEUP_BYTES";
    /// `u32`: occupancy is checked every `CHECK_MASK + 1` records per CPU.
    pub const CHECK_MASK: &str = "CHECK_MASK";
    /// `u32`: bytes captured per data item; 0 turns data capture off.
    pub const CAPTURE_SIZE: &str = "CAPTURE_SIZE";
    /// Lossless mode: ring occupancy (bytes) at which a traced process is
    /// paused; 0 = drop mode (never pause).
    pub const PAUSE_BYTES: &str = "PAUSE_BYTES";
    /// `u8`: 1 (the default) records every syscall and never looks at
    /// [`super::MAP_TRACE_SET`]; 0 applies it (`-e trace=SET`), and calls
    /// whose number is outside `0..CAPTURE_ENTRIES` are not recorded.
    pub const TRACE_ALL: &str = "TRACE_ALL";
    /// `u32`: `recorder watch --path`, names in [`super::MAP_WATCH_NAMES`];
    /// 0 = no path filter.
    pub const WATCH_NAME_COUNT: &str = "WATCH_NAME_COUNT";
    /// `u8`: `recorder watch` outcome filter, a [`super::outcome`] value.
    pub const WATCH_OUTCOME: &str = "WATCH_OUTCOME";
    /// `u32`: `recorder watch --uid`: only calls of this uid (real uid);
    /// `u32::MAX` = any.
    pub const WATCH_UID: &str = "WATCH_UID";
    /// `u64`: `recorder watch --cgroup`: only calls of tasks in this cgroup
    /// (v2 id, the cgroup directory's inode number); 0 = any.
    pub const WATCH_CGROUP: &str = "WATCH_CGROUP";
    /// `u32`: offset of the `filename` `__data_loc` field in the
    /// `sched_process_exec` record (from tracefs).
    pub const WATCH_EXEC_FILENAME_OFF: &str = "WATCH_EXEC_FILENAME_OFF";
    /// `u8`: `recorder watch --addr`, a [`super::sock`] value.
    pub const WATCH_SOCK_MODE: &str = "WATCH_SOCK_MODE";
    /// `u16`: `--addr`'s address family (`AF_INET` 2, `AF_INET6` 10), 0 =
    /// either.
    pub const WATCH_FAMILY: &str = "WATCH_FAMILY";
    /// `u16`: `--addr`'s port as the sockaddr holds it (network order,
    /// read as a little-endian `u16`); 0 = any port.
    pub const WATCH_PORT: &str = "WATCH_PORT";
    /// `u32`: `--addr`'s IPv4 address as the sockaddr holds it (read as a
    /// little-endian `u32`), compared under [`super::sock::IP4`].
    pub const WATCH_IP4: &str = "WATCH_IP4";
    /// `u32`: the watching recorder's own pid, whose calls are never taken.
    pub const WATCH_SELF: &str = "WATCH_SELF";

    /// Every global above: the eBPF object must define exactly these (a
    /// test in the loader holds the two together).
    pub const ALL: &[&str] = &[
        FOLLOW_FORKS,
        HAVE_COMMS,
        FORK_CHILD_PID_OFF,
        EXEC_OLD_PID_OFF,
        SIG_OFF,
        SIG_HANDLER_OFF,
        EXIT_GROUP_DEAD_OFF,
        NR_EXIT,
        NR_EXIT_GROUP,
        NR_EXECVE,
        NR_EXECVEAT,
        NR_CLONE,
        NR_CLONE3,
        NR_RT_SIGRETURN,
        SEQ_MASK,
        STASH_MASK,
        LEAN,
        WAKEUP_BYTES,
        CHECK_MASK,
        CAPTURE_SIZE,
        PAUSE_BYTES,
        TRACE_ALL,
        WATCH_NAME_COUNT,
        WATCH_OUTCOME,
        WATCH_UID,
        WATCH_CGROUP,
        WATCH_SELF,
        WATCH_EXEC_FILENAME_OFF,
        WATCH_SOCK_MODE,
        WATCH_FAMILY,
        WATCH_PORT,
        WATCH_IP4,
    ];
}

/// Pids per element of the TRACED array. Each pid has its own byte, so
/// concurrent writers never read-modify-write a neighbour's state (BPF
/// atomics beyond add only exist from 5.12 on, and we support 5.8).
pub const TRACED_CHUNK: usize = 64;

/// TRACED byte values.
pub mod traced {
    /// Not selected.
    pub const NO: u8 = 0;
    /// Selected: every syscall is recorded.
    pub const YES: u8 = 1;
    /// Selected from its next execve on (used for `recorder -- COMMAND`, so
    /// the handshake before exec is not recorded but the execve is).
    pub const AT_EXEC: u8 = 2;
}

/// Values of [`MAP_TRACE_SET`], per syscall number.
pub mod trace {
    /// Not in the set: neither stashed at entry nor emitted at exit (the
    /// thread's sequence numbers do not count it).
    pub const SKIP: u8 = 0;
    /// In the set: recorded as usual.
    pub const RECORD: u8 = 1;
    /// Not in the set, but its arguments are stashed at entry (and nothing
    /// is emitted at exit): clone and clone3, whose flags are what tells
    /// `sched_process_fork` a new process (a `Fork` event) from a new
    /// thread, whatever the set.
    pub const STASH_ONLY: u8 = 2;
}

/// `recorder watch`: which outcomes are kept ([`globals::WATCH_OUTCOME`]).
pub mod outcome {
    /// Every outcome.
    pub const ANY: u8 = 0;
    /// `--failed`: a return value in the error range.
    pub const FAILED: u8 = 1;
    /// `--errno`: an error whose number [`super::MAP_WATCH_ERRNO`] selects.
    pub const ERRNO: u8 = 2;
}

/// `recorder watch --addr`: what the kernel compares
/// ([`globals::WATCH_SOCK_MODE`]). IPv6 addresses are compared in user
/// space only (the kernel compares family and port).
pub mod sock {
    /// No `--addr`.
    pub const OFF: u8 = 0;
    /// Family and port.
    pub const PORT: u8 = 1;
    /// Family, port and the IPv4 address.
    pub const IP4: u8 = 2;
}

/// A final path component `recorder watch --path` matches in the kernel,
/// as the last [`NAME_WINDOW`] bytes of a path (the string read after
/// `NAME_WINDOW` zero bytes, so a short path's window starts with zeros):
/// the window matches when `window[i] & mask[i] == pat[i]` for all eight
/// words. The name's bytes are masked with 0xff; the byte before it with
/// `!b'/'`, so it may be '/' or 0 (the path is the name alone), and also a
/// few other bytes whose bits are a subset of '/' (space, '.', '!', ...):
/// a pre-filter that may pass a little more, never less; user space checks
/// the whole path exactly. Little-endian words, as both architectures are.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NamePattern {
    pub pat: [u64; NAME_WINDOW / 8],
    pub mask: [u64; NAME_WINDOW / 8],
}

/// Sent just before a `recorder watch` record ([`kind::WHO`]): who made
/// the call, as the kernel knew it then (the process may be gone by the
/// time user space reads /proc).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WhoRecord {
    pub kind: u8,
    pub _pad: [u8; 3],
    pub tid: u32,
    /// Real uid and gid (`bpf_get_current_uid_gid`).
    pub uid: u32,
    pub gid: u32,
    /// cgroup v2 id (`bpf_get_current_cgroup_id`): the inode number of the
    /// task's cgroup directory.
    pub cgroup: u64,
    pub comm: [u8; COMM_LEN],
}

/// A process as its fork and exec showed it ([`MAP_WATCH_PROCS`]).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ProcInfo {
    /// The process that forked it (its tgid); 0 if its fork was not seen.
    pub ppid: u32,
    pub _pad: u32,
    /// Its comm after its last exec (or its parent's, if it never exec'd).
    pub comm: [u8; COMM_LEN],
    /// The path its last exec was given, NUL-terminated; empty if none
    /// was seen (it then runs its parent's program, if that was seen).
    pub exe: [u8; EXE_LEN],
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TracedChunk {
    pub pids: [u8; TRACED_CHUNK],
}

/// A process the programs paused (value of [`MAP_PAUSED`]).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Paused {
    /// CLOCK_MONOTONIC ns when it was paused.
    pub since_ns: u64,
    /// Ring occupancy (bytes) that made it pause.
    pub occupancy: u64,
    /// CLOCK_MONOTONIC ns when the stop took effect (its SIGSTOP was
    /// delivered); 0 until then. A stop signal pending after that was sent
    /// by someone else.
    pub stopped_ns: u64,
}

/// Per-thread stash written at sys_enter and consumed at sys_exit.
///
/// The entry stays for the thread's whole life (it is freed at
/// `sched_process_exit`), so the hot path costs one lookup at entry and one
/// at exit instead of insert + lookup + delete, and the per-thread sequence
/// number lives here for free. It is the thread's slot of
/// [`MAP_STASH_SLOTS`] if it owns one, else its entry in [`MAP_STASH`].
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Stash {
    pub nr: i64,
    pub args: [u64; 6],
    pub enter_ns: u64,
    /// Syscalls this thread has started since recording began (the next
    /// record's `seq`).
    pub seq: u64,
    /// 1 between sys_enter and sys_exit.
    pub active: u64,
    /// In [`MAP_STASH_SLOTS`]: the owning thread, 0 for a free slot. Not
    /// looked at in [`MAP_STASH`].
    pub tid: u32,
    pub _pad: u32,
}

/// Lean mode's per-thread sequence numbers ([`MAP_SEQS`]): one `u64` per
/// slot, the owning thread's id in the top [`TID_BITS`] bits and its next
/// sequence number below. One word, so a slot is read and written whole
/// (an aligned 8-byte access) and a thread never takes another's number: a
/// slot whose tag is another thread's sends the thread to the hash stash
/// instead ([`MAP_STASH`], `Stash::seq`). 0 is a free slot (tid 0 is the
/// idle task, never traced).
pub mod seq_slot {
    /// Thread ids are below `PID_MAX_LIMIT`, 4M = 2^22 on 64-bit
    /// (include/linux/threads.h).
    pub const TID_BITS: u32 = 22;
    pub const SEQ_BITS: u32 = 64 - TID_BITS;
    /// The sequence number part.
    pub const SEQ_MASK: u64 = (1 << SEQ_BITS) - 1;
    /// Largest slot count: 8 MiB of map. Below `pid_max` (4M on systemd
    /// machines) threads can share a slot; the tag check catches that.
    pub const MAX_ENTRIES: u32 = 1 << 20;

    pub const fn tag(tid: u32) -> u64 {
        (tid as u64) << SEQ_BITS
    }
}

/// A cache of "this thread is not traced", keyed by the thread's own
/// registers ([`MAP_BYSTANDERS`]).
///
/// A raw syscall tracepoint passes the `pt_regs` the call entered with,
/// which sit at the top of the calling thread's kernel stack
/// (`task_pt_regs`), so the pointer names the thread without a helper call
/// (`bpf_get_current_pid_tgid`, whose return is what costs on a CPU with
/// retpolines and SRSO's safe-RET). Stacks are at least 16 KiB
/// (`THREAD_SIZE` on x86_64 and arm64) and never overlap, so two live
/// threads' pointers differ in bit 14 or above: `ptr >> 14` is unique among
/// live threads. The slot is its low bits, the tag its next bits up to
/// bit 55 (the highest address bit on either architecture; arm64 may keep a
/// pointer tag above it, which names no other memory).
///
/// A word says "not traced at generation E" (see [`MAP_USER_EPOCH`]); whatever makes
/// a thread traced (a fork or new thread of a traced process, an exec whose
/// name is selected, a process selected by user space after attach) moves
/// the generation on, which makes every word stale at once. So a reused
/// stack, or a thread selected later, is never taken for a bystander. A
/// thread that is traced never writes its slot.
pub mod bystander {
    /// Slots (a power of two): 256 KiB of map.
    pub const SLOTS: u32 = 1 << SLOT_BITS;
    pub const SLOT_BITS: u32 = 15;
    /// Below this bit, pointers into one stack can differ.
    pub const STACK_SHIFT: u32 = 14;
    /// Address bits the tag keeps, above the slot's.
    const TAG_BITS: u32 = 56 - STACK_SHIFT - SLOT_BITS;
    /// The generation's bits in a word: it wraps after 2^37 changes, about
    /// 400 years at 10,000 traced forks a second.
    pub const EPOCH_BITS: u32 = 64 - TAG_BITS;

    /// The slot of the thread whose registers are at `regs`.
    #[inline(always)]
    pub const fn slot(regs: u64) -> u32 {
        ((regs >> STACK_SHIFT) as u32) & (SLOTS - 1)
    }

    /// The word that says the thread at `regs` was not traced at `epoch`.
    /// Never 0 (a slot never written): a kernel address has bits 47..55
    /// set, and the programs' generation never is 0 (user space's part
    /// starts at 1).
    #[inline(always)]
    pub const fn word(regs: u64, epoch: u64) -> u64 {
        let tag = (regs >> (STACK_SHIFT + SLOT_BITS)) & ((1 << TAG_BITS) - 1);
        (tag << EPOCH_BITS) | (epoch & ((1 << EPOCH_BITS) - 1))
    }
}

/// `struct pt_regs` offsets (bytes) where `sys_exit` finds a call's number
/// and arguments, from the architectures' uapi-stable layouts, so no BTF is
/// needed. Lean mode reads them at exit; full mode reads the arguments at
/// entry and the number at exit (under `-e`).
pub mod pt_regs {
    /// x86_64, arch/x86/include/asm/ptrace.h: r15 r14 r13 r12 bp bx r11
    /// r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss, 8 bytes each.
    /// The syscall ABI passes di, si, dx, r10, r8, r9; only ax is written
    /// (with the return value), so all six survive to `sys_exit`.
    /// <https://github.com/torvalds/linux/blob/v6.18/arch/x86/include/asm/ptrace.h>
    pub mod x86_64 {
        /// r10, the first of the words one read covers (r10 r9 r8 ax cx dx
        /// si di orig_ax): 9 words.
        pub const ARGS_FROM: usize = 56;
        pub const WORDS: usize = 9;
        /// Word indices of di, si, dx, r10, r8, r9 in that read.
        pub const ARG_WORDS: [usize; 6] = [7, 6, 5, 0, 2, 1];
        /// orig_ax: the number the call was entered with.
        pub const NR_WORD: usize = 8;
        pub const ORIG_AX: usize = 120;
        pub const SP: usize = 152;
    }
    /// arm64, arch/arm64/include/asm/ptrace.h: `user_pt_regs` (regs[31],
    /// sp, pc, pstate) is a prefix of `pt_regs`, then `orig_x0` at 272 and
    /// `s32 syscallno` at 280. The return value overwrites x0 before
    /// `sys_exit`, so the first argument is read from orig_x0 (what
    /// libbpf's `PT_REGS_PARM1_CORE_SYSCALL` does); x1..x5 survive.
    /// <https://github.com/torvalds/linux/blob/v6.18/arch/arm64/include/asm/ptrace.h>
    pub mod aarch64 {
        pub const X1: usize = 8;
        pub const SP: usize = 31 * 8;
        pub const ORIG_X0: usize = 272;
        pub const SYSCALLNO: usize = 280;
        // Lean mode reads both in one 16-byte read at ORIG_X0.
        const _: () = assert!(SYSCALLNO == ORIG_X0 + 8);
    }
}

/// Record kinds (first byte of every ring record).
pub mod kind {
    pub const SYSCALL: u8 = 1;
    pub const EXEC: u8 = 2;
    pub const FORK: u8 = 3;
    pub const EXIT: u8 = 4;
    /// Data captured at syscall *entry* (execve's path and argv, which a
    /// successful exec replaces): [`EntryDataRecord`] + items. User space
    /// attaches the items to the thread's next SYSCALL record with the same
    /// `seq`.
    pub const ENTRY_DATA: u8 = 5;
    /// A signal delivered to a traced thread ([`super::ProcRecord`]: `aux`
    /// = signal number, `flags` = [`super::flags::DEFAULT_ACTION`] when no
    /// handler takes it, so a fatal signal kills the process).
    pub const SIGNAL: u8 = 6;
    /// `recorder watch`: who made the call whose record follows
    /// ([`super::WhoRecord`]).
    pub const WHO: u8 = 7;
}

/// `SyscallRecord::flags` bits.
pub mod flags {
    /// The call never returned: exit/exit_group (emitted at entry), or the
    /// thread died while the call was in flight (emitted at thread exit).
    pub const NO_RETURN: u8 = 1;
    /// Emitted from `sched_process_exit`: the thread died inside the call.
    pub const DIED_IN_CALL: u8 = 2;
    /// SIGNAL records: the signal's default action applies (no handler).
    pub const DEFAULT_ACTION: u8 = 4;
}

/// Bytes of a whole [`SyscallRecord`]: what a record with data items
/// carries before its items.
pub const SYSCALL_RECORD_SIZE: usize = 104;
/// Bytes of a [`SyscallRecord`] before `args`: the smallest record the ring
/// carries, and what user space divides by to turn ring bytes into a
/// record count.
pub const SYSCALL_HEAD_SIZE: usize = 56;

/// Argument words a record without data leaves off for a call that takes
/// `taken` argument registers ([`MAP_ARG_CUT`]): 6, 3 or 0. The registers
/// a call does not take are recorded as 0 anyway (strace's tables), so the
/// ring need not carry them: a getppid record is 56 bytes instead of 104,
/// and the ring holds 1.75 times as many before it is full. Three sizes,
/// not seven, keep the programs' reserve branches few.
pub const fn args_cut(taken: u8) -> u8 {
    match taken {
        0 => 6,
        1..=3 => 3,
        _ => 0,
    }
}

/// One complete system call, as the ring buffer carries it.
///
/// `args` comes last so that a record without data items can end early:
/// it is [`SYSCALL_HEAD_SIZE`] bytes plus the words of `args` that
/// [`args_cut`] leaves (the rest read as 0). A record with items is always
/// whole, items after it; so a record shorter than [`SYSCALL_RECORD_SIZE`]
/// has no items.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SyscallRecord {
    pub kind: u8,
    pub flags: u8,
    pub _pad: u16,
    pub cpu: u32,
    pub tgid: u32,
    pub tid: u32,
    pub nr: i64,
    pub ret: i64,
    /// CLOCK_MONOTONIC ns (`bpf_ktime_get_ns`).
    pub enter_ns: u64,
    /// 0 when `flags` has `NO_RETURN`.
    pub exit_ns: u64,
    /// Per-thread sequence number: gaps mean records of this thread were lost.
    pub seq: u64,
    pub args: [u64; 6],
}

/// Process lifecycle event: exec, fork (new process only) or thread exit.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ProcRecord {
    pub kind: u8,
    pub flags: u8,
    pub _pad: u16,
    pub cpu: u32,
    pub tgid: u32,
    pub tid: u32,
    pub ts_ns: u64,
    /// FORK: child pid. EXEC: old tid (differs from `tid` when a non-leader
    /// thread exec'd). EXIT: 1 if the whole thread group is gone, 0 if not,
    /// 2 if the kernel does not say (before 6.x has no `group_dead`).
    pub aux: u32,
    pub _pad2: u32,
    /// `current->comm` at the event (after exec for EXEC).
    pub comm: [u8; COMM_LEN],
}

/// Header of an [`kind::ENTRY_DATA`] record; capture items follow.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EntryDataRecord {
    pub kind: u8,
    pub _pad: [u8; 3],
    pub tid: u32,
    pub seq: u64,
}

/// Data capture, shared by the table user space fills and the records the
/// programs emit. A SYSCALL record longer than [`SyscallRecord`] carries
/// capture items: a [`CaptureItem`] header followed by `size` bytes, one
/// after another to the end of the record.
pub mod capture {
    /// [`super::ArgSpec::kind`]
    pub const NONE: u8 = 0;
    /// NUL-terminated string.
    pub const STR: u8 = 1;
    /// NULL-terminated array of string pointers (argv): one STR item each.
    pub const STR_ARRAY: u8 = 2;
    /// Plain buffer (also sockaddrs and structs).
    pub const BUF: u8 = 3;
    /// `struct iovec[args[len_arg]]`: data of all segments, concatenated.
    pub const IOVEC: u8 = 4;
    /// `struct msghdr *`: iov data, then `msg_name` as a second item.
    pub const MSGHDR: u8 = 5;
    /// NULL-terminated array of pointers, counted and not read (execve's
    /// envp: how many variables, never their values): one ITEM_IN marker
    /// item without bytes whose `len` is the count, 0 when the array is
    /// longer than [`MAX_ENVP`] (unknown).
    pub const PTR_COUNT: u8 = 6;
    /// getdents64's `struct linux_dirent64` records, counted and not
    /// copied (strace's `/* 144 entries */`): one ITEM_OUT marker item
    /// without bytes whose `len` is the count, TRUNCATED when there were
    /// more than [`MAX_DIRENTS`] (`len` is then the number counted).
    pub const DIRENT_COUNT: u8 = 7;
    /// futex's argument 3: a `struct timespec` (16 bytes, ITEM_IN) for the
    /// commands that take a timeout there (WAIT, WAIT_BITSET, LOCK_PI,
    /// LOCK_PI2, WAIT_REQUEUE_PI); for the others it is a number (val2),
    /// not read.
    pub const FUTEX_TIMEOUT: u8 = 8;
    /// rt_sigreturn's restored signal mask (strace's `{mask=[...]}`): the
    /// 8-byte `uc_sigmask` of the signal frame on the user stack, read at
    /// entry from the stack pointer (the offsets are the architecture's
    /// frame layout), as one ITEM_IN item of argument 0.
    pub const SIGRETURN_MASK: u8 = 9;
    /// A `socklen_t *` value-result length, read at entry (what the caller
    /// offered, strace's `[128 => 16]`): one 4-byte ITEM_IN item.
    pub const SOCKLEN_IN: u8 = 10;
    /// A buffer the call both reads and writes back, sized like BUF (select's
    /// `fd_set`s with [`LEN_FDSET`], its timeout): read at entry (ITEM_IN,
    /// what was asked) and at exit when the call succeeded (ITEM_OUT, what
    /// it left there): two items of one argument.
    pub const INOUT: u8 = 11;
    /// ioctl's argument 2, at exit when the call succeeded: as many bytes
    /// as [`super::ioctl_out_size`] says the request (argument 1) writes
    /// (nothing for a request it does not know).
    pub const IOCTL_OUT: u8 = 12;
    /// recvmmsg's `struct mmsghdr` array (argument 1), at exit when the
    /// call succeeded: first the `ret` entries as the kernel left them
    /// ([`MMSGHDR_SIZE`] bytes each), then for each of the first
    /// [`MAX_MMSG`] messages its data (its iovecs, up to `msg_len`) and,
    /// when it has one, its address (`msg_name`, up to 128 bytes), as for
    /// recvmsg. All ITEM_OUT items of that argument.
    pub const MMSGHDR: u8 = 13;
    /// Bytes of a `struct mmsghdr` (a 56-byte `struct msghdr`, `msg_len`,
    /// padding), the same on x86_64 and arm64.
    pub const MMSGHDR_SIZE: u64 = 64;
    /// recvmmsg messages whose data is read per call.
    pub const MAX_MMSG: usize = 8;

    /// [`super::ArgSpec::len_src`]
    pub const LEN_ARG: u8 = 0;
    pub const LEN_RET: u8 = 1;
    pub const LEN_FIXED: u8 = 2;
    /// The u32 that `args[len_arg]` points to (socklen_t value-result).
    pub const LEN_ARG_DEREF: u8 = 3;
    /// `args[len_arg]` elements of `fixed` bytes each (poll's pollfd array).
    pub const LEN_ARG_TIMES: u8 = 4;
    /// `ret` elements of `fixed` bytes each (epoll_wait's events).
    pub const LEN_RET_TIMES: u8 = 5;
    /// An `fd_set` of `args[len_arg]` descriptors (select's `nfds`): the
    /// bytes of that many bits rounded up to whole `unsigned long`s, as
    /// the kernel copies them (`FDS_BYTES`).
    pub const LEN_FDSET: u8 = 6;

    /// [`super::CaptureItem::kind`] (matches the log's CaptureKind order).
    pub const ITEM_STR: u8 = 0;
    pub const ITEM_IN: u8 = 1;
    pub const ITEM_OUT: u8 = 2;

    /// [`super::CaptureItem::flags`]
    pub const TRUNCATED: u8 = 1;
    pub const READ_FAILED: u8 = 2;

    /// Largest capture size per item: 64 KiB, so that a read or message
    /// of a 64 KiB buffer (a common size) is captured whole. `--replayable`
    /// records with it.
    pub const MAX_SIZE: u32 = 1 << 16;
    /// What the programs mask sizes with (a power of two minus one above
    /// [`MAX_SIZE`]): the bound the verifier sees for every item's size.
    pub const SIZE_MASK: u32 = (1 << 17) - 1;
    /// Items stop once a record reaches this many bytes; offsets are masked
    /// with `OFF_LIMIT - 1`, which is what lets the verifier bound them.
    pub const OFF_LIMIT: usize = 1 << 17;
    /// argv elements read per execve.
    pub const MAX_ARGV: usize = 32;
    /// envp elements counted per execve (strace shows `/* 72 vars */`).
    pub const MAX_ENVP: usize = 512;
    /// Directory entries counted per getdents64 (a 32 KiB buffer of short
    /// names holds about 1,300).
    pub const MAX_DIRENTS: usize = 2048;
    /// iovec segments read per call.
    pub const MAX_IOV: usize = 8;
}

/// Bytes an ioctl request writes back to the `arg` pointer when it
/// succeeds (0: unknown or nothing). A small table of the requests
/// programs ask every day, whose numbers are the same on x86_64 and arm64
/// (include/uapi/asm-generic/ioctls.h, include/uapi/linux/sockios.h), then
/// any request whose number encodes a read direction and size (`_IOR`,
/// `_IOWR`: `_IOC_READ` is bit 31 on both, the size bits 16-29).
pub const fn ioctl_out_size(request: u32) -> u32 {
    match request {
        // TCGETS: the kernel's `struct termios` (4 flag words, c_line,
        // c_cc[19]): 36 bytes on both.
        0x5401 => 36,
        // TIOCGPGRP, TIOCOUTQ, FIONREAD (TIOCINQ), TIOCGSID: an int.
        0x540f | 0x5411 | 0x541b | 0x5429 => 4,
        // TIOCGWINSZ: struct winsize.
        0x5413 => 8,
        // SIOCGIFCONF: struct ifconf (the buffer it points to is not read).
        0x8912 => 16,
        // SIOCGIFNAME, FLAGS, ADDR, DSTADDR, BRDADDR, NETMASK, METRIC,
        // MTU, HWADDR, INDEX, TXQLEN: struct ifreq, 40 bytes on both.
        0x8910 | 0x8913 | 0x8915 | 0x8917 | 0x8919 | 0x891b | 0x891d | 0x8921 | 0x8927 | 0x8933
        | 0x8942 => 40,
        r if r >> 31 == 1 => (r >> 16) & 0x3fff,
        _ => 0,
    }
}

/// Per-CPU scratch size: a record's fixed part and items stay below
/// `OFF_LIMIT`, and the last item may add its 16-byte header and up to
/// `2 * (SIZE_MASK + 1)` bytes of data past it (iovec chunks are bounded
/// separately from the bytes already stored).
pub const SCRATCH_SIZE: usize = 1 << 19;
const _: () =
    assert!(capture::OFF_LIMIT + 16 + 2 * (capture::SIZE_MASK as usize + 1) + 128 <= SCRATCH_SIZE);
const _: () = assert!(capture::MAX_SIZE <= capture::SIZE_MASK);

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Scratch {
    pub buf: [u8; SCRATCH_SIZE],
}

/// How to capture one argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ArgSpec {
    /// `capture::NONE`, `STR`, ...
    pub kind: u8,
    /// `capture::LEN_*` (BUF only).
    pub len_src: u8,
    /// Argument index for LEN_ARG/LEN_ARG_DEREF, or IOVEC's count argument.
    pub len_arg: u8,
    /// 1: the kernel writes it (read at exit, only when ret >= 0).
    pub out: u8,
    /// Byte count for LEN_FIXED, element size for LEN_ARG_TIMES.
    pub fixed: u32,
}

/// Capture plan of one syscall, in the `CAPTURE` array at its number.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CaptureSpec {
    pub args: [ArgSpec; 6],
    /// 1: capture at entry only (execve), emitted as an ENTRY_DATA record;
    /// 2: at entry (the SOCKLEN_IN items) and at exit (the others).
    pub at_entry: u8,
    /// 1: recvmmsg, whose argument 1 ([`capture::MMSGHDR`]) is read after
    /// the per-argument loop, not inside it: its loop over the messages
    /// nested in that loop's callback made the verifier's work several
    /// times larger (sys_exit's load 90-175 ms instead of 30-80).
    pub mmsg: u8,
    /// One past the last argument with a plan (0: the call captures
    /// nothing): the per-argument loops stop there. Each iteration is a
    /// call of the loop body, ~10 ns on a retpoline/SRSO machine, and most
    /// calls capture only their first two arguments (docs/design.md, "What
    /// data capture costs").
    pub args_end: u8,
    pub _pad: [u8; 5],
}

/// One captured item in a record.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CaptureItem {
    pub arg: u8,
    /// `capture::ITEM_*`
    pub kind: u8,
    /// `capture::TRUNCATED` | `capture::READ_FAILED`
    pub flags: u8,
    pub _pad: u8,
    /// Bytes of data following this header.
    pub size: u32,
    /// Full length of the item (>= size).
    pub len: u64,
}

/// Indices into the per-CPU counters array (`COUNTERS`, `u64` values).
pub mod ctr {
    /// Records successfully submitted to the ring.
    pub const EMITTED: u32 = 0;
    /// Records lost because the ring was full.
    pub const RING_FULL: u32 = 1;
    /// sys_exit seen for a traced thread with no stashed entry (calls in
    /// flight when recording started); under `-e`, of calls in the set.
    pub const EXIT_WITHOUT_ENTRY: u32 = 2;
    /// sys_enter not stashed because the stash map was full.
    pub const STASH_FULL: u32 = 3;
    /// Calls still in flight when their thread died (recorded, no return).
    pub const DIED_IN_CALL: u32 = 4;
    /// User-memory reads that failed (data capture).
    pub const READ_FAILED: u32 = 5;
    /// Syscall entries seen for traced threads; under `-e`, of calls in the
    /// set (a call left out is counted nowhere).
    pub const ENTERED: u32 = 6;
    /// ENTRY_DATA records submitted. They are not log events (user space
    /// merges them into the call's record), so they are counted apart from
    /// EMITTED.
    pub const ENTRY_DATA: u32 = 7;
    /// ENTRY_DATA records lost because the ring was full: the call's record
    /// then has no path/argv (its seq shows no gap: the call itself is there).
    pub const ENTRY_DATA_LOST: u32 = 8;
    /// Lossless mode: times a process was paused (SIGSTOP sent).
    pub const PAUSED: u32 = 9;
    /// Slots in the counters map: every index above, plus one spare.
    pub const COUNT: u32 = 10;
}

macro_rules! assert_size {
    ($t:ty, $n:expr) => {
        const _: () = assert!(core::mem::size_of::<$t>() == $n);
    };
}
assert_size!(TracedChunk, 64);
assert_size!(Stash, 88);
assert_size!(Paused, 24);
assert_size!(SyscallRecord, SYSCALL_RECORD_SIZE);
const _: () = assert!(core::mem::offset_of!(SyscallRecord, args) == SYSCALL_HEAD_SIZE);
assert_size!(ProcRecord, 48);
assert_size!(EntryDataRecord, 16);
assert_size!(ArgSpec, 8);
assert_size!(CaptureSpec, 56);
assert_size!(CaptureItem, 16);
assert_size!(NamePattern, 128);
assert_size!(WhoRecord, 40);
assert_size!(ProcInfo, 24 + EXE_LEN);

#[cfg(feature = "user")]
mod pod {
    // All of these are repr(C), made of integers only, with no padding
    // (sizes asserted above), so every bit pattern is valid.
    // SAFETY: as above.
    unsafe impl aya::Pod for super::TracedChunk {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::Stash {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::Paused {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::SyscallRecord {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::ProcRecord {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::CaptureSpec {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::NamePattern {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::ProcInfo {}
}

#[cfg(test)]
mod tests {
    use super::bystander::{SLOTS, slot, word};

    /// Two stacks of x86_64's vmalloc area, 16 KiB and a guard page apart,
    /// and arm64's with a pointer tag in the top byte.
    const X86: u64 = 0xffff_c900_0064_bf58;
    const ARM: u64 = 0xf2ff_8000_8302_7eb0;

    #[test]
    fn bystander_words_tell_live_stacks_apart() {
        for base in [X86, ARM] {
            for apart in [16 << 10, 20 << 10, 32 << 10, (SLOTS as u64) << 14, 1 << 40] {
                let other = base + apart;
                assert!(
                    slot(base) != slot(other) || word(base, 7) != word(other, 7),
                    "{base:#x} and {other:#x} share a word"
                );
            }
            // The same thread, anywhere in the pointer's own 16 KiB: one word.
            assert_eq!(word(base, 7), word(base & !0x3fff, 7));
            assert_eq!(slot(base), slot(base & !0x3fff));
        }
    }

    #[test]
    fn bystander_words_go_stale_with_the_generation() {
        assert_ne!(word(X86, 1), word(X86, 2));
        assert_ne!(word(X86, 0), 0, "a zeroed slot must match nobody");
        // Bits above the address (arm64's pointer tag) name no other stack.
        assert_eq!(word(ARM, 3), word(ARM & 0x00ff_ffff_ffff_ffff, 3));
    }
}
