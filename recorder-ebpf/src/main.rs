//! The recorder's kernel side.
//!
//! Five programs (and two empty ones for the benchmark, at the end):
//! - `sys_enter` / `sys_exit` on the `raw_syscalls` tracepoints, attached as
//!   *raw* tracepoints (`BPF_PROG_TYPE_RAW_TRACEPOINT`): about 50 ns cheaper
//!   per syscall than classic tracepoints on the 2-core dev VM (no perf
//!   record is assembled for us), and, unlike `tp_btf`, they need no kernel
//!   BTF, which many vendor ARM kernels do not ship.
//! - `sched_process_fork` / `sched_process_exec` / `sched_process_exit`
//!   (classic tracepoints; field offsets come from tracefs at run time,
//!   because they moved in 6.x) maintain the set of traced processes.
//!
//! Selection is per *process* (tgid): one byte per pid in the `TRACED`
//! array. A thread that is not selected is remembered in `BYSTANDERS`,
//! under its `pt_regs` pointer, until the selection changes: from then on
//! each of its system calls costs the programs two inlined array lookups
//! and no helper call (see [`selection`]); only traced threads go further.
//!
//! Full mode: at entry the six arguments are stashed per thread, at exit
//! one merged record is emitted. On arm64 the first argument lives in x0,
//! which the return value overwrites before `sys_exit` runs (see
//! `syscall_set_return_value` in
//! <https://github.com/torvalds/linux/blob/v6.12/arch/arm64/include/asm/syscall.h>).
//!
//! Lean mode (`--mode lean`) attaches `sys_exit_lean` instead of both
//! syscall programs: everything is read at exit (arm64's first argument from
//! `orig_x0`), and `lean_enter`, on the per-syscall events of exec, exit and
//! clone, covers the calls whose exit does not tell (docs/design.md, "Lean
//! mode").
#![no_std]
#![no_main]
// An atomic add (`new_epoch`): the BPF target has no `AtomicU64::fetch_add`.
#![allow(
    internal_features,
    reason = "core_intrinsics is the one way to an atomic add on the BPF target"
)]
#![feature(core_intrinsics)]

mod capture;
mod watch;

use aya_ebpf::{
    helpers::{
        bpf_get_current_comm, bpf_get_current_pid_tgid, bpf_get_smp_processor_id, bpf_ktime_get_ns,
        bpf_probe_read_kernel, bpf_probe_read_user, bpf_send_signal_thread,
    },
    macros::{map, raw_tracepoint, tracepoint},
    maps::{Array, HashMap, PerCpuArray, RingBuf},
    programs::{RawTracePointContext, TracePointContext},
};
#[cfg(not(feature = "bounded-loops"))]
use aya_ebpf::{macros::btf_tracepoint, programs::BtfTracePointContext};
use core::intrinsics::{AtomicOrdering, atomic_xadd};
use recorder_common::{
    CAPTURE_ENTRIES, COMM_LEN, COMMS_ENTRIES, CaptureSpec, EntryDataRecord, PAUSED_ENTRIES, Paused,
    ProcRecord, SCRATCH_SIZE, STASH_ENTRIES, SYSCALL_HEAD_SIZE, SYSCALL_RECORD_SIZE, Scratch,
    Stash, SyscallRecord, TRACED_CHUNK, TracedChunk, bystander, capture::MAX_ENVP, ctr, flags,
    kind, pt_regs, seq_slot, trace, traced,
};

/// Default sizes; user space overrides them at load time (`set_max_entries`).
#[map(name = "EVENTS")]
static EVENTS: RingBuf = RingBuf::with_byte_size(1 << 22, 0);
#[map(name = "TRACED")]
static TRACED: Array<TracedChunk> = Array::with_max_entries(1 << 16, 0);
#[map(name = "STASH")]
static STASH: HashMap<u32, Stash> = HashMap::with_max_entries(STASH_ENTRIES, 0);
/// The stash's fast path (recorder_common::MAP_STASH_SLOTS): see
/// [`stash_ptr`].
#[map(name = "STASH_SLOTS")]
static STASH_SLOTS: Array<Stash> = Array::with_max_entries(1, 0);
/// Slot index -> owner (recorder_common::MAP_STASH_OWNERS).
#[map(name = "STASH_OWNERS")]
static STASH_OWNERS: HashMap<u32, u32> = HashMap::with_max_entries(STASH_ENTRIES, 0);
/// Threads in an exec whose argv or envp could not be read at entry: on
/// CPUs without a hardware access flag (ARMv8.0: Cortex-A72, the Raspberry
/// Pi 4) the first touch of a page that fork left "old" takes a fault,
/// which a BPF read may not take, so a child that execs an argv its parent
/// built reads as failed. After a successful exec the kernel has just
/// written argv and envp onto the new stack: the exit reads them there
/// (`emit_exec_args`). A map of its own, not a `Stash::active` state: a
/// branch on the failure inside sys_enter doubled the states the verifier
/// walks past the 1M-instruction limit.
#[map(name = "EXEC_REREAD")]
static EXEC_REREAD: HashMap<u32, u8> = HashMap::with_max_entries(EXEC_REREAD_ENTRIES, 0);
const EXEC_REREAD_ENTRIES: u32 = 1024;
#[map(name = "COMMS")]
static COMMS: HashMap<[u8; COMM_LEN], u8> = HashMap::with_max_entries(COMMS_ENTRIES, 0);
#[map(name = "WAKE")]
static WAKE: PerCpuArray<WakeState> = PerCpuArray::with_max_entries(1, 0);

#[repr(C)]
struct WakeState {
    records: u64,
    /// Consumer position when this CPU last woke the daemon, or u64::MAX.
    woke_at: u64,
}

#[map(name = "PAUSED")]
static PAUSED: HashMap<u32, Paused> = HashMap::with_max_entries(PAUSED_ENTRIES, 0);
#[map(name = "PAUSE_ON")]
static PAUSE_ON: Array<u32> = Array::with_max_entries(1, 0);
/// 1 once the recorder stops (recorder_common::MAP_CLOSING): checked first
/// by the programs on classic tracepoints, which stay attached until a
/// process the recorder leaves behind has detached them.
#[map(name = "CLOSING")]
static CLOSING: Array<u32> = Array::with_max_entries(1, 0);

#[inline(always)]
fn closing() -> bool {
    CLOSING.get(0).copied() == Some(1)
}

#[map(name = "COUNTERS")]
static COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(ctr::COUNT, 0);
/// Capture plan per syscall number (filled by user space from the running
/// architecture's table, so one build serves every numbering).
#[map(name = "CAPTURE")]
static CAPTURE: Array<CaptureSpec> = Array::with_max_entries(CAPTURE_ENTRIES, 0);
/// One scratch buffer per possible CPU (user space sets the count).
#[map(name = "SCRATCH")]
static SCRATCH: Array<Scratch> = Array::with_max_entries(1, 0);
/// `-e trace=SET`: a `trace::*` byte per syscall number, next to the
/// capture plans and indexed the same way (filled by user space from the
/// same tables). Only looked at when `TRACE_ALL` is 0.
#[map(name = "TRACE_SET")]
static TRACE_SET: Array<u8> = Array::with_max_entries(CAPTURE_ENTRIES, 0);
/// Per syscall number, the argument words a record without data leaves
/// off (`recorder_common::args_cut`), filled by the loader from strace's
/// tables. A map, not a global array: an array lookup is bounds-checked by
/// the verifier itself, where 6.1's lost the bound of an index into a
/// global through a register spill and refused the program.
#[map(name = "ARG_CUT")]
static ARG_CUT: Array<u8> = Array::with_max_entries(CAPTURE_ENTRIES, 0);
/// Lean mode: per-thread sequence numbers (see recorder_common::seq_slot).
/// An array lookup is inlined by the verifier: no helper call, no lock.
#[map(name = "SEQS")]
static SEQS: Array<u64> = Array::with_max_entries(1, 0);
/// Threads known not to be traced (recorder_common::bystander): see
/// [`selection`].
#[map(name = "BYSTANDERS")]
static BYSTANDERS: Array<u64> = Array::with_max_entries(bystander::SLOTS, 0);
/// The generation `BYSTANDERS` words are good for, in two counters that
/// are added: the programs' (an atomic add, see [`new_epoch`]) and user
/// space's (recorder_common::MAP_USER_EPOCH). Each in a section of its own,
/// so user space's whole-value update of its own never writes over the
/// programs', and both are plain loads: a global's address is known at
/// load time, where a map element takes an inlined lookup with its checks.
/// User space's part starts at 1, so no word is ever 0, which a slot
/// never written holds. Both are kept (`no_mangle`) in the object for old
/// kernels, which has no `BYSTANDERS` fast path, since user space updates
/// its part either way.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".bss.epoch")]
static mut KERNEL_EPOCH: u64 = 0;
#[unsafe(no_mangle)]
#[unsafe(link_section = ".data.user_epoch")]
static mut USER_EPOCH: u64 = 1;

// Read-only configuration, patched by user space before load (see
// recorder_common::globals). Read through `read_volatile` so the compiler
// does not fold the defaults in.
#[unsafe(no_mangle)]
static FOLLOW_FORKS: u8 = 1;
#[unsafe(no_mangle)]
static HAVE_COMMS: u8 = 0;
#[unsafe(no_mangle)]
static FORK_CHILD_PID_OFF: u32 = 20;
#[unsafe(no_mangle)]
static EXEC_OLD_PID_OFF: u32 = 16;
#[unsafe(no_mangle)]
static EXIT_GROUP_DEAD_OFF: u32 = 0;
#[unsafe(no_mangle)]
static SIG_OFF: u32 = 8;
#[unsafe(no_mangle)]
static SIG_HANDLER_OFF: u32 = 24;
#[unsafe(no_mangle)]
static NR_EXIT: i64 = -1;
#[unsafe(no_mangle)]
static NR_EXIT_GROUP: i64 = -1;
#[unsafe(no_mangle)]
static NR_EXECVE: i64 = -1;
#[unsafe(no_mangle)]
static NR_EXECVEAT: i64 = -1;
#[unsafe(no_mangle)]
static NR_CLONE: i64 = -1;
#[unsafe(no_mangle)]
static NR_CLONE3: i64 = -1;
#[unsafe(no_mangle)]
static NR_RT_SIGRETURN: i64 = -1;
#[unsafe(no_mangle)]
static SEQ_MASK: u32 = 0;
#[unsafe(no_mangle)]
static STASH_MASK: u32 = 0;
/// 1 in lean mode (`sys_exit_lean` attached instead of the pair).
#[unsafe(no_mangle)]
static LEAN: u8 = 0;
/// Occupancy (bytes) past which a record wakes the daemon; 0 = the
/// kernel's default wakeups.
#[unsafe(no_mangle)]
static WAKEUP_BYTES: u64 = 0;
/// Bytes captured per data item; 0 = no data capture.
#[unsafe(no_mangle)]
static CAPTURE_SIZE: u32 = 0;
/// Lossless mode: ring occupancy (bytes) at which the process whose call
/// just exited is paused; 0 = drop mode.
#[unsafe(no_mangle)]
static PAUSE_BYTES: u64 = 0;
/// 1: every syscall is recorded (no `-e`); 0: `TRACE_SET` decides.
#[unsafe(no_mangle)]
static TRACE_ALL: u8 = 1;

#[inline(always)]
fn cfg<T: Copy>(v: &'static T) -> T {
    // SAFETY: reading a plain static.
    unsafe { core::ptr::read_volatile(v) }
}

const CLONE_THREAD: u64 = 0x0001_0000;

/// `Stash::active` values.
const IDLE: u64 = 0;
const IN_CALL: u64 = 1;
/// The thread was selected during an execve (comm match): its entry was not
/// seen, so the one exit that follows is expected and not counted as loss.
const SKIP_EXIT: u64 = 2;
/// In a call outside `-e trace=SET` that is stashed only for
/// `sched_process_fork` (clone, clone3: see `trace::STASH_ONLY`): its exit
/// emits nothing and takes no sequence number.
const QUIET: u64 = 3;

#[inline(always)]
fn count(idx: u32) {
    if let Some(p) = COUNTERS.get_ptr_mut(idx) {
        // SAFETY: per-CPU slot; programs do not nest on one CPU.
        unsafe { *p += 1 };
    }
}

const BPF_RB_NO_WAKEUP: u64 = 1;
const BPF_RB_FORCE_WAKEUP: u64 = 2;
const BPF_RB_AVAIL_DATA: u64 = 0;
const BPF_RB_CONS_POS: u64 = 2;
/// Records between two occupancy checks on one CPU, minus one (a power of
/// two minus one): at most 64, fewer for small rings, so a check comes well
/// before a ring fills (a full ring takes no submits, so no checks).
#[unsafe(no_mangle)]
static CHECK_MASK: u32 = 63;

/// Flags for submitting a record: normally no wakeup (a wakeup costs the
/// traced thread an irq_work and the daemon a context switch, per record);
/// the daemon drains on its flush timer. Every CHECK_MASK + 1 records the
/// occupancy is checked (bpf_ringbuf_query, cheap), and the first record
/// past the threshold wakes the daemon. It wakes it again only once the
/// consumer has moved since: a wakeup that raced with a drain in progress
/// (and was consumed by it) must not leave the ring filling unattended,
/// and a daemon that is already awake must not be woken per record. A
/// prototype that queried and woke on every record above the threshold
/// cost 735-868 ns per syscall; this costs a per-CPU increment.
#[inline(always)]
fn submit_flags() -> u64 {
    let thr = cfg(&WAKEUP_BYTES);
    if thr == 0 {
        return 0;
    }
    let Some(w) = WAKE.get_ptr_mut(0) else {
        return BPF_RB_NO_WAKEUP;
    };
    // SAFETY: per-CPU slot; programs do not nest on one CPU.
    let w = unsafe { &mut *w };
    w.records = w.records.wrapping_add(1);
    if w.records & cfg(&CHECK_MASK) as u64 != 0 {
        return BPF_RB_NO_WAKEUP;
    }
    if EVENTS.query(BPF_RB_AVAIL_DATA) < thr {
        w.woke_at = u64::MAX;
        return BPF_RB_NO_WAKEUP;
    }
    let cons = EVENTS.query(BPF_RB_CONS_POS);
    if w.woke_at == cons {
        return BPF_RB_NO_WAKEUP;
    }
    w.woke_at = cons;
    BPF_RB_FORCE_WAKEUP
}

#[inline(always)]
fn count_n(idx: u32, n: u64) {
    if n == 0 {
        return;
    }
    if let Some(p) = COUNTERS.get_ptr_mut(idx) {
        // SAFETY: per-CPU slot; programs do not nest on one CPU.
        unsafe { *p += n };
    }
}

#[inline(always)]
fn traced_state(pid: u32) -> u8 {
    match TRACED.get(pid / TRACED_CHUNK as u32) {
        Some(c) => c.pids[(pid as usize) & (TRACED_CHUNK - 1)],
        None => traced::NO,
    }
}

/// The current thread's `pid_tgid` and its process's `traced_state`, or
/// None for a thread that is not selected (`traced::NO`). `regs` is the
/// tracepoint's `pt_regs` pointer, which names the thread (see
/// recorder_common::bystander): a thread found in `BYSTANDERS` under the
/// current generation is answered from there, without the helper call
/// that every other way of knowing the thread takes; that call is most of
/// what an unselected thread paid above the cost of any attached program.
/// The generation is read before the selection, so a word written here can
/// only be older than a change that happened meanwhile, never newer.
///
/// Not in the object for kernels before 5.17 (`bounded-loops`): its
/// `sys_enter`, whose capture loops the verifier walks iteration by
/// iteration, then went past the 1M-instruction limit on arm64 6.1.
#[cfg(not(feature = "bounded-loops"))]
#[inline(always)]
fn selection(regs: u64) -> Option<(u64, u8)> {
    let word = bystander::word(regs, epoch());
    let slot = BYSTANDERS.get_ptr_mut(bystander::slot(regs));
    if let Some(p) = slot
        // SAFETY: in-bounds element of an array map, one aligned word.
        && unsafe { *p } == word
    {
        return None;
    }
    let pid_tgid = bpf_get_current_pid_tgid();
    let state = traced_state((pid_tgid >> 32) as u32);
    if state == traced::NO {
        if let Some(p) = slot {
            // SAFETY: as above; a whole word, so a reader sees one
            // thread's word or another's, never a mix.
            unsafe { *p = word };
        }
        return None;
    }
    Some((pid_tgid, state))
}

/// [`selection`] without `BYSTANDERS`.
#[cfg(feature = "bounded-loops")]
#[inline(always)]
fn selection(_regs: u64) -> Option<(u64, u8)> {
    let pid_tgid = bpf_get_current_pid_tgid();
    let state = traced_state((pid_tgid >> 32) as u32);
    (state != traced::NO).then_some((pid_tgid, state))
}

/// The generation `BYSTANDERS` words are good for: the programs' count of
/// selection changes plus user space's.
#[cfg(not(feature = "bounded-loops"))]
#[inline(always)]
fn epoch() -> u64 {
    // SAFETY: aligned u64 globals, read whole.
    unsafe {
        let k = core::ptr::read_volatile(&raw const KERNEL_EPOCH);
        k.wrapping_add(core::ptr::read_volatile(&raw const USER_EPOCH))
    }
}

/// A thread has just become traced (a new thread or followed child of a
/// traced process, an exec under a selected name): every `BYSTANDERS` word
/// goes stale, since the new one may run on a stack whose last owner was
/// not traced. Called after `set_traced`. Rare next to system calls.
#[inline(always)]
fn new_epoch() {
    // SAFETY: an aligned u64 global. An atomic add whose result is unused
    // is BPF_XADD, which every kernel has (`AtomicU64::fetch_add` is
    // missing on the BPF target, which has no compare-and-swap).
    unsafe { atomic_xadd::<u64, u64, { AtomicOrdering::Relaxed }>(&raw mut KERNEL_EPOCH, 1) };
}

#[inline(always)]
fn set_traced(pid: u32, v: u8) {
    if let Some(c) = TRACED.get_ptr_mut(pid / TRACED_CHUNK as u32) {
        // SAFETY: in-bounds element of an array map; a single byte store, so
        // it never clobbers a neighbouring pid's byte.
        unsafe { (*c).pids[(pid as usize) & (TRACED_CHUNK - 1)] = v };
    }
}

/// The user stack pointer at syscall entry, from `struct pt_regs`; 0 if
/// unreadable.
#[inline(always)]
fn user_sp(regs: *const u8) -> u64 {
    #[cfg(bpf_target_arch = "x86_64")]
    let off = pt_regs::x86_64::SP;
    #[cfg(bpf_target_arch = "aarch64")]
    let off = pt_regs::aarch64::SP;
    // SAFETY: probe read of kernel memory; failure gives 0.
    unsafe { bpf_probe_read_kernel(regs.add(off) as *const u64) }.unwrap_or(0)
}

/// The `pt_regs` a syscall program receives: the registers the call was
/// entered with, and where they are read from.
///
/// - [`Raw`]: a raw tracepoint's argument, a plain number to the verifier,
///   read with `bpf_probe_read_kernel` (a helper call per read).
/// - [`Btf`]: a `tp_btf` program's argument (kernels with BTF), a typed
///   pointer the verifier lets the program load from directly, each load
///   covered by the JIT's exception table: no helper call. That is 47 ns
///   less program time per lean call on the dev VM (`progtime.py`, the
///   read left out), of about 170.
///
/// Offsets are the uapi-stable layouts of recorder_common::pt_regs.
trait Regs: Copy {
    fn ptr(self) -> *const u8;
    /// A number that names the calling thread (recorder_common::bystander).
    fn key(self) -> u64;
    /// The six arguments, at `sys_enter`.
    fn args_at_entry(self) -> [u64; 6];
    /// Lean mode: the number and the six arguments at `sys_exit`. A failed
    /// read gives nr -1.
    fn call_at_exit(self) -> (i64, [u64; 6]);
    /// The syscall number at `sys_exit` (the raw tracepoint's arguments are
    /// only `regs` and `ret`). The kernel keeps it there for the whole
    /// call, except that `rt_sigreturn` overwrites it with -1 (x86:
    /// `regs->orig_ax = -1` in restore_sigcontext; arm64:
    /// `forget_syscall`), so -1 here means "look at the stash".
    fn nr_at_exit(self) -> i64;
}

#[derive(Clone, Copy)]
struct Raw(*const u8);

impl Regs for Raw {
    #[inline(always)]
    fn ptr(self) -> *const u8 {
        self.0
    }

    #[inline(always)]
    fn key(self) -> u64 {
        self.0 as u64
    }

    /// One probe read.
    #[inline(always)]
    fn args_at_entry(self) -> [u64; 6] {
        let regs = self.0;
        #[cfg(bpf_target_arch = "x86_64")]
        {
            use pt_regs::x86_64::{ARG_WORDS as A, ARGS_FROM};
            // SAFETY: probe read of kernel memory; failure leaves zeros.
            let w: [u64; 8] =
                unsafe { bpf_probe_read_kernel(regs.add(ARGS_FROM) as *const [u64; 8]) }
                    .unwrap_or([0; 8]);
            [w[A[0]], w[A[1]], w[A[2]], w[A[3]], w[A[4]], w[A[5]]]
        }
        #[cfg(bpf_target_arch = "aarch64")]
        {
            // regs[0..6] first. At entry x0 still holds arg0 (it is only
            // overwritten at exit).
            // SAFETY: probe read of kernel memory; failure leaves zeros.
            unsafe { bpf_probe_read_kernel(regs as *const [u64; 6]) }.unwrap_or([0; 6])
        }
    }

    /// x86_64: one probe read covers them all. arm64: x1..x5, then orig_x0
    /// and syscallno (x0 holds the return value by now).
    #[inline(always)]
    fn call_at_exit(self) -> (i64, [u64; 6]) {
        let regs = self.0;
        #[cfg(bpf_target_arch = "x86_64")]
        {
            use pt_regs::x86_64::{ARG_WORDS as A, ARGS_FROM, NR_WORD, WORDS};
            // SAFETY: probe read of kernel memory.
            match unsafe { bpf_probe_read_kernel(regs.add(ARGS_FROM) as *const [u64; WORDS]) } {
                Ok(w) => (
                    w[NR_WORD] as i64,
                    [w[A[0]], w[A[1]], w[A[2]], w[A[3]], w[A[4]], w[A[5]]],
                ),
                Err(_) => (-1, [0; 6]),
            }
        }
        #[cfg(bpf_target_arch = "aarch64")]
        {
            use pt_regs::aarch64::{ORIG_X0, X1};
            // SAFETY: probe reads of kernel memory.
            let x = unsafe { bpf_probe_read_kernel(regs.add(X1) as *const [u64; 5]) };
            // SAFETY: as above; orig_x0 then syscallno (s32, little-endian;
            // at ORIG_X0 + 8, asserted in recorder-common).
            let tail = unsafe { bpf_probe_read_kernel(regs.add(ORIG_X0) as *const [u64; 2]) };
            match (x, tail) {
                (Ok(x), Ok(t)) => (
                    i64::from(t[1] as u32 as i32),
                    [t[0], x[0], x[1], x[2], x[3], x[4]],
                ),
                _ => (-1, [0; 6]),
            }
        }
    }

    #[inline(always)]
    fn nr_at_exit(self) -> i64 {
        let regs = self.0;
        #[cfg(bpf_target_arch = "x86_64")]
        {
            // orig_ax: the number the syscall was entered with (`syscall_get_nr`).
            // SAFETY: probe read of kernel memory; failure gives -1.
            unsafe { bpf_probe_read_kernel(regs.add(pt_regs::x86_64::ORIG_AX) as *const i64) }
                .unwrap_or(-1)
        }
        #[cfg(bpf_target_arch = "aarch64")]
        {
            // `s32 syscallno` (little-endian).
            let off = pt_regs::aarch64::SYSCALLNO;
            // SAFETY: probe read of kernel memory; failure gives -1.
            i64::from(unsafe { bpf_probe_read_kernel(regs.add(off) as *const i32) }.unwrap_or(-1))
        }
    }
}

/// Not in the object for kernels before 5.17, whose programs stay as they
/// were (tp_btf itself needs 5.5).
#[cfg(not(feature = "bounded-loops"))]
#[derive(Clone, Copy)]
struct Btf(*const u8);

#[cfg(not(feature = "bounded-loops"))]
impl Btf {
    /// The word at `off`: a direct load, which the verifier checks against
    /// the kernel's `struct pt_regs` (a member of that size must be there).
    #[inline(always)]
    fn word(self, off: usize) -> u64 {
        // SAFETY: a field of the pt_regs the tracepoint passed; the JIT
        // turns a faulting load into 0.
        unsafe { core::ptr::read_volatile(self.0.add(off) as *const u64) }
    }

    /// arm64's `s32 syscallno`.
    #[cfg(bpf_target_arch = "aarch64")]
    #[inline(always)]
    fn syscallno(self) -> i64 {
        // SAFETY: as in `word`, a 4-byte member.
        i64::from(unsafe {
            core::ptr::read_volatile(self.0.add(pt_regs::aarch64::SYSCALLNO) as *const i32)
        })
    }
}

#[cfg(not(feature = "bounded-loops"))]
impl Regs for Btf {
    #[inline(always)]
    fn ptr(self) -> *const u8 {
        self.0
    }

    /// The verifier refuses shifts and masks of a typed pointer, but with
    /// CAP_PERFMON lets a pointer be subtracted from another, which gives a
    /// number: the distance to one of our globals, whose address does not
    /// change while the programs are loaded, names the stack as well as
    /// the address does (recorder_common::bystander's argument holds for
    /// any fixed offset).
    #[inline(always)]
    fn key(self) -> u64 {
        (self.0 as u64).wrapping_sub(&raw const KERNEL_EPOCH as u64)
    }

    #[inline(always)]
    fn args_at_entry(self) -> [u64; 6] {
        #[cfg(bpf_target_arch = "x86_64")]
        {
            use pt_regs::x86_64::{ARG_WORDS as A, ARGS_FROM};
            let w = |i: usize| self.word(ARGS_FROM + 8 * A[i]);
            [w(0), w(1), w(2), w(3), w(4), w(5)]
        }
        #[cfg(bpf_target_arch = "aarch64")]
        {
            let w = |i: usize| self.word(8 * i);
            [w(0), w(1), w(2), w(3), w(4), w(5)]
        }
    }

    #[inline(always)]
    fn call_at_exit(self) -> (i64, [u64; 6]) {
        #[cfg(bpf_target_arch = "x86_64")]
        {
            // Only ax was written: the arguments are as at entry.
            (self.nr_at_exit(), self.args_at_entry())
        }
        #[cfg(bpf_target_arch = "aarch64")]
        {
            use pt_regs::aarch64::{ORIG_X0, X1};
            let w = |i: usize| self.word(X1 + 8 * i);
            (
                self.syscallno(),
                [self.word(ORIG_X0), w(0), w(1), w(2), w(3), w(4)],
            )
        }
    }

    #[inline(always)]
    fn nr_at_exit(self) -> i64 {
        #[cfg(bpf_target_arch = "x86_64")]
        {
            self.word(pt_regs::x86_64::ORIG_AX) as i64
        }
        #[cfg(bpf_target_arch = "aarch64")]
        {
            self.syscallno()
        }
    }
}

/// What `-e trace=SET` says about syscall `nr` (a `trace::*` value). Without
/// `-e` that is a load of one read-only byte; with it, one array lookup,
/// which the verifier inlines. Numbers outside the table are not in any
/// set (user space says so in the log's header).
#[inline(always)]
fn trace_verdict(nr: i64) -> u8 {
    if cfg(&TRACE_ALL) != 0 {
        return trace::RECORD;
    }
    if !(0..i64::from(CAPTURE_ENTRIES)).contains(&nr) {
        return trace::SKIP;
    }
    TRACE_SET.get(nr as u32).copied().unwrap_or(trace::SKIP)
}

/// The thread's stash: its slot of `STASH_SLOTS` if it owns one (an
/// inlined array lookup and a tag check: no helper call, no lock), else its
/// entry in the `STASH` hash map, if any.
///
/// A slot is only ever written by its owner (claimed in [`stash_new`]),
/// except by `sched_process_fork`, which fills a new child's slot before
/// the child runs. So two threads that share a slot (tids equal modulo
/// its size, possible only when `pid_max` exceeds the slot count) never
/// write one another's calls: the one that does not own it uses the hash
/// map, exactly as every thread did before.
#[inline(always)]
fn stash_ptr(tid: u32) -> Option<*mut Stash> {
    if let Some(p) = STASH_SLOTS.get_ptr_mut(tid & cfg(&STASH_MASK))
        // SAFETY: in-bounds element of an array map; an aligned u32 load.
        && unsafe { (*p).tid } == tid
    {
        return Some(p);
    }
    STASH.get_ptr_mut(tid)
}

/// Gives `tid` the stash `s`: its own slot if it holds it already, else
/// its hash entry if it has one (a thread numbered there keeps numbering
/// there: its sequence must not restart), else a free slot if it wins the
/// claim, else a new hash entry. Rare: once per thread, and at exec and
/// fork. Err: no room anywhere (the caller counts `STASH_FULL`).
#[inline(always)]
fn stash_new(tid: u32, s: Stash) -> Result<(), ()> {
    let idx = tid & cfg(&STASH_MASK);
    if let Some(p) = STASH_SLOTS.get_ptr_mut(idx) {
        // SAFETY: in-bounds element of an array map.
        let owner = unsafe { (*p).tid };
        if owner == tid
            || (owner == 0
                && STASH.get_ptr(tid).is_none()
                && STASH_OWNERS.insert(idx, tid, BPF_NOEXIST).is_ok())
        {
            // SAFETY: the slot is ours: only the insert's winner gets here
            // for a free slot, and an owner's slot is written by the owner.
            unsafe { *p = Stash { tid, _pad: 0, ..s } };
            return Ok(());
        }
    }
    STASH.insert(tid, Stash { tid: 0, ..s }, 0).map_err(|_| ())
}

/// Ends `tid`'s stash (thread exit, or its id handed over at exec): its
/// slot is freed (tag first, then the claim, so a claimer that sees the
/// slot free before the claim is gone loses the insert and uses the hash
/// map) and its hash entry removed.
#[inline(always)]
fn stash_free(tid: u32) {
    let idx = tid & cfg(&STASH_MASK);
    if let Some(p) = STASH_SLOTS.get_ptr_mut(idx)
        // SAFETY: in-bounds element of an array map.
        && unsafe { (*p).tid } == tid
    {
        // SAFETY: our own slot.
        unsafe {
            (*p).active = IDLE;
            (*p).tid = 0;
        }
        let _ = STASH_OWNERS.remove(idx);
        return;
    }
    let _ = STASH.remove(tid);
}

/// Sends a record without data, cut after the arguments the call takes
/// (`ARG_CUT`): the ring holds more records, and each is fewer cache
/// lines to write and read.
#[inline(always)]
fn emit_syscall(rec: SyscallRecord) {
    // A negative number (none reaches here) would wrap past the table: None.
    let cut = ARG_CUT.get(rec.nr as u32).copied().unwrap_or(0);
    let sent = match cut {
        6 => emit_words::<{ SYSCALL_HEAD_SIZE / 8 }>(&rec),
        3 => emit_words::<{ (SYSCALL_HEAD_SIZE + 24) / 8 }>(&rec),
        _ => emit_words::<{ SYSCALL_RECORD_SIZE / 8 }>(&rec),
    };
    count(if sent { ctr::EMITTED } else { ctr::RING_FULL });
}

/// Submits the first `W` words of `rec` as one record. Copied as `u64`s:
/// a byte-typed copy compiles to one load, shift and store per byte.
#[inline(always)]
fn emit_words<const W: usize>(rec: &SyscallRecord) -> bool {
    let Some(mut e) = EVENTS.reserve::<[u64; W]>(0) else {
        return false;
    };
    // SAFETY: W words are at most the record (every caller's W is one of
    // its sizes, and it is 8-aligned), and the entry is W writable words.
    unsafe {
        core::ptr::copy_nonoverlapping(
            (rec as *const SyscallRecord).cast::<u64>(),
            e.as_mut_ptr().cast::<u64>(),
            W,
        );
    }
    e.submit(submit_flags());
    true
}

/// A record of the current thread's call, on this CPU.
#[inline(always)]
fn syscall_record(tgid: u32, tid: u32, nr: i64, args: [u64; 6], seq: u64) -> SyscallRecord {
    SyscallRecord {
        kind: kind::SYSCALL,
        flags: 0,
        _pad: 0,
        // SAFETY: helper without preconditions.
        cpu: unsafe { bpf_get_smp_processor_id() },
        tgid,
        tid,
        nr,
        args,
        ret: 0,
        enter_ns: 0,
        exit_ns: 0,
        seq,
    }
}

#[inline(always)]
fn emit_proc(k: u8, tgid: u32, tid: u32, aux: u32) {
    emit_proc_flags(k, 0, tgid, tid, aux)
}

#[inline(always)]
fn emit_proc_flags(k: u8, fl: u8, tgid: u32, tid: u32, aux: u32) {
    match EVENTS.reserve::<ProcRecord>(0) {
        Some(mut e) => {
            e.write(ProcRecord {
                kind: k,
                flags: fl,
                _pad: 0,
                // SAFETY: helper without preconditions.
                cpu: unsafe { bpf_get_smp_processor_id() },
                tgid,
                tid,
                // SAFETY: helper without preconditions.
                ts_ns: unsafe { bpf_ktime_get_ns() },
                aux,
                _pad2: 0,
                comm: bpf_get_current_comm().unwrap_or([0; COMM_LEN]),
            });
            e.submit(submit_flags());
            count(ctr::EMITTED);
        }
        None => count(ctr::RING_FULL),
    }
}

/// The capture plan for `nr`, if data capture is on and the call has one.
#[inline(always)]
fn capture_spec(nr: i64) -> Option<&'static CaptureSpec> {
    if cfg(&CAPTURE_SIZE) == 0 || !(0..i64::from(CAPTURE_ENTRIES)).contains(&nr) {
        return None;
    }
    CAPTURE.get(nr as u32).filter(|s| s.args_end != 0)
}

/// Starts a record with data in this CPU's scratch buffer, after a fixed
/// header of `head` bytes that the caller writes.
#[inline(always)]
fn builder(head: usize) -> Option<capture::Builder> {
    // SAFETY: helper without preconditions.
    let cpu = unsafe { bpf_get_smp_processor_id() };
    let buf = SCRATCH.get_ptr_mut(cpu)? as *mut u8;
    Some(capture::Builder::new(buf, cfg(&CAPTURE_SIZE), head))
}

/// Copies the assembled record into the ring; counts it under `ok` or
/// `lost`.
#[inline(always)]
fn output(b: &capture::Builder, ok: u32, lost: u32) {
    count_n(ctr::READ_FAILED, b.failed_reads());
    let len = b.off() & (SCRATCH_SIZE - 1);
    // SAFETY: len < SCRATCH_SIZE, the buffer's size.
    let data = unsafe { core::slice::from_raw_parts(b.buf, len) };
    match EVENTS.output::<[u8]>(data, submit_flags()) {
        Ok(()) => count(ok),
        Err(_) => count(lost),
    }
}

/// A syscall record followed by the data its arguments point to.
#[inline(always)]
fn emit_syscall_with_data(rec: SyscallRecord, spec: &CaptureSpec) -> bool {
    let Some(mut b) = builder(size_of::<SyscallRecord>()) else {
        return false;
    };
    // SAFETY: the scratch buffer is far larger than a record and 8-aligned.
    unsafe { (b.buf as *mut SyscallRecord).write(rec) };
    capture::capture_at_exit(&mut b, spec, &rec.args, rec.ret);
    output(&b, ctr::EMITTED, ctr::RING_FULL);
    true
}

/// Data read at entry (execve's path and argv, gone after a successful
/// exec), sent ahead of the call's record, which user space joins by seq.
/// An exec with a failed read is noted in `EXEC_REREAD`.
#[inline(always)]
fn emit_entry_data(tid: u32, seq: u64, args: &[u64; 6], spec: &CaptureSpec, regs: *const u8) {
    let Some(mut b) = builder(size_of::<EntryDataRecord>()) else {
        return;
    };
    // SAFETY: as above.
    unsafe {
        (b.buf as *mut EntryDataRecord).write(EntryDataRecord {
            kind: kind::ENTRY_DATA,
            _pad: [0; 3],
            tid,
            seq,
        })
    };
    capture::capture_at_entry(&mut b, spec, args, user_sp(regs));
    output(&b, ctr::ENTRY_DATA, ctr::ENTRY_DATA_LOST);
    // Only execs read argument arrays (STR_ARRAY): their spec's at_entry is 1.
    if spec.at_entry == 1 && b.failed_reads() != 0 {
        // A full map only loses the second reading.
        let _ = EXEC_REREAD.insert(tid, 1, 0);
    }
}

/// Lean mode's [`emit_entry_data`], for exec (see `capture::capture_exec`;
/// `first` is the path's argument). The number is looked up once the data
/// is read, so the lookup's branches do not multiply the capture's paths.
#[inline(always)]
fn emit_exec_data(tid: u32, first: usize, args: &[u64; 6]) {
    let Some(mut b) = builder(size_of::<EntryDataRecord>()) else {
        return;
    };
    capture::capture_exec(&mut b, args, first);
    // SAFETY: as in emit_entry_data.
    unsafe {
        (b.buf as *mut EntryDataRecord).write(EntryDataRecord {
            kind: kind::ENTRY_DATA,
            _pad: [0; 3],
            tid,
            seq: lean_seq(tid, false),
        })
    };
    output(&b, ctr::ENTRY_DATA, ctr::ENTRY_DATA_LOST);
}

/// A successful exec's record with its path, argv and envp read from the
/// new user stack, where the kernel has just put them (`EXEC_REREAD`):
/// argc at the stack pointer, then argv's pointers, NULL, envp's pointers
/// (the ELF loader's create_elf_tables,
/// https://github.com/torvalds/linux/blob/v6.1/fs/binfmt_elf.c). User
/// space keeps these only for an argument whose entry read failed.
#[inline(always)]
fn emit_exec_args(rec: SyscallRecord, regs: *const u8) -> bool {
    let sp = user_sp(regs);
    if sp == 0 {
        return false;
    }
    // SAFETY: user read into a stack value.
    let Ok(argc) = (unsafe { bpf_probe_read_user(sp as *const u64) }) else {
        return false;
    };
    let Some(mut b) = builder(size_of::<SyscallRecord>()) else {
        return false;
    };
    // SAFETY: the scratch buffer is far larger than a record and 8-aligned.
    unsafe { (b.buf as *mut SyscallRecord).write(rec) };
    // execveat(dirfd, path, argv, envp, flags): one argument later.
    let argv = if rec.nr == cfg(&NR_EXECVEAT) { 2 } else { 1 };
    b.str_array(argv, sp + 8);
    let envp = sp + 8 * (argc.min(1 << 20) + 2);
    let envc = b.ptr_count(argv + 1, envp);
    // execve's path is the auxiliary vector's AT_EXECFN (the kernel's copy
    // of the name it was given; execveat's is /dev/fd/N/..., not its
    // argument). The auxiliary vector follows envp's NULL.
    if argv == 1 && envc < MAX_ENVP as u64 {
        let auxv = envp + 8 * (envc + 1);
        for i in 0..AUXV_MAX {
            // SAFETY: user read into a stack value.
            let Ok([key, value]) =
                (unsafe { bpf_probe_read_user((auxv + 16 * i) as *const [u64; 2]) })
            else {
                break;
            };
            if key == AT_NULL {
                break;
            }
            if key == AT_EXECFN {
                b.str_item(0, value);
                break;
            }
        }
    }
    output(&b, ctr::EMITTED, ctr::RING_FULL);
    true
}

/// Auxiliary vector entries looked through for AT_EXECFN (Linux 6.x puts
/// about 20; include/uapi/linux/auxvec.h).
const AUXV_MAX: u64 = 32;
const AT_NULL: u64 = 0;
const AT_EXECFN: u64 = 31;

#[raw_tracepoint(tracepoint = "sys_enter")]
pub fn sys_enter(ctx: RawTracePointContext) -> i32 {
    enter(Raw(ctx.arg(0)), ctx.arg(1))
}

/// [`sys_enter`] where the kernel has BTF (see [`Regs`]).
#[cfg(not(feature = "bounded-loops"))]
#[btf_tracepoint(function = "sys_enter")]
pub fn sys_enter_btf(ctx: BtfTracePointContext) -> i32 {
    enter(Btf(ctx.arg(0)), ctx.arg(1))
}

/// Full mode's entry: the call's arguments stashed for its exit.
#[inline(always)]
fn enter<R: Regs>(regs: R, nr: i64) -> i32 {
    let Some((pid_tgid, state)) = selection(regs.key()) else {
        return 0;
    };
    let tgid = (pid_tgid >> 32) as u32;
    if state == traced::AT_EXEC {
        if nr != cfg(&NR_EXECVE) && nr != cfg(&NR_EXECVEAT) {
            return 0;
        }
        set_traced(tgid, traced::YES);
    }
    // `-e trace=SET`, before anything is read or stashed: a call outside
    // the set costs this and nothing more, and takes no sequence number.
    let verdict = trace_verdict(nr);
    if verdict == trace::SKIP {
        return 0;
    }
    let quiet = verdict == trace::STASH_ONLY;
    let tid = pid_tgid as u32;
    let args = regs.args_at_entry();
    // SAFETY: helper without preconditions.
    let now = unsafe { bpf_ktime_get_ns() };
    if !quiet {
        count(ctr::ENTERED);
    }

    let stash = stash_ptr(tid);
    if nr == cfg(&NR_EXIT) || nr == cfg(&NR_EXIT_GROUP) {
        // These never reach sys_exit: emit now, marked as not returning.
        let seq = match stash {
            // SAFETY: our own thread's entry; only this thread writes it.
            Some(s) => unsafe {
                let q = (*s).seq;
                (*s).seq = q + 1;
                (*s).active = IDLE;
                q
            },
            None => 0,
        };
        emit_syscall(SyscallRecord {
            flags: flags::NO_RETURN,
            enter_ns: now,
            ..syscall_record(tgid, tid, nr, args, seq)
        });
        return 0;
    }
    if let Some(spec) = capture_spec(nr).filter(|_| !quiet)
        && spec.at_entry != 0
    {
        // SAFETY: our own thread's entry.
        let seq = stash.map_or(0, |s| unsafe { (*s).seq });
        emit_entry_data(tid, seq, &args, spec, regs.ptr());
    }
    let active = if quiet { QUIET } else { IN_CALL };
    match stash {
        // SAFETY: as above.
        Some(s) => unsafe {
            (*s).nr = nr;
            (*s).args = args;
            (*s).enter_ns = now;
            (*s).active = active;
        },
        None => {
            let s = Stash {
                nr,
                args,
                enter_ns: now,
                seq: 0,
                active,
                tid,
                _pad: 0,
            };
            // A quiet call is no record, so none is lost.
            if stash_new(tid, s).is_err() && !quiet {
                count(ctr::STASH_FULL);
            }
        }
    }
    0
}

#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn sys_exit(ctx: RawTracePointContext) -> i32 {
    exit(Raw(ctx.arg(0)), ctx.arg(1))
}

/// [`sys_exit`] where the kernel has BTF (see [`Regs`]).
#[cfg(not(feature = "bounded-loops"))]
#[btf_tracepoint(function = "sys_exit")]
pub fn sys_exit_btf(ctx: BtfTracePointContext) -> i32 {
    exit(Btf(ctx.arg(0)), ctx.arg(1))
}

/// Full mode's exit: the stashed call and its result, as one record.
#[inline(always)]
fn exit<R: Regs>(regs: R, ret: i64) -> i32 {
    let Some((pid_tgid, traced::YES)) = selection(regs.key()) else {
        return 0;
    };
    let tgid = (pid_tgid >> 32) as u32;
    // `-e trace=SET`: a call outside the set returns here, before the stash.
    // An exit whose number is gone (-1 after rt_sigreturn) goes on to the
    // stash, which knows whether its entry was recorded.
    let mut in_set = true;
    if cfg(&TRACE_ALL) == 0 {
        let nr = regs.nr_at_exit();
        let verdict = trace_verdict(nr);
        if verdict == trace::SKIP && nr != -1 {
            return 0;
        }
        in_set = verdict == trace::RECORD;
    }
    let tid = pid_tgid as u32;
    let Some(s) = stash_ptr(tid) else {
        // Only a call of the set whose entry was missed is worth counting.
        if in_set {
            count(ctr::EXIT_WITHOUT_ENTRY);
        }
        return 0;
    };
    // SAFETY: our own thread's entry; only this thread writes it.
    let s = unsafe { &mut *s };
    match s.active {
        IN_CALL => {}
        SKIP_EXIT | QUIET => {
            s.active = IDLE;
            return 0;
        }
        _ => {
            if in_set {
                count(ctr::EXIT_WITHOUT_ENTRY);
            }
            return 0;
        }
    }
    s.active = IDLE;
    let seq = s.seq;
    s.seq = seq + 1;
    // SAFETY: helper without preconditions.
    let now = unsafe { bpf_ktime_get_ns() };
    let rec = SyscallRecord {
        ret,
        enter_ns: s.enter_ns,
        exit_ns: now,
        ..syscall_record(tgid, tid, s.nr, s.args, seq)
    };
    if (s.nr == cfg(&NR_EXECVE) || s.nr == cfg(&NR_EXECVEAT)) && EXEC_REREAD.get_ptr(tid).is_some()
    {
        let _ = EXEC_REREAD.remove(tid);
        if ret == 0 && emit_exec_args(rec, regs.ptr()) {
            pause_if_behind(tgid);
            return 0;
        }
    }
    // at_entry 1: everything was read at entry.
    emit_at_exit(rec, s.nr, tgid)
}

/// Emits a call's record at its exit, with the data its plan reads then
/// (at_entry 1: everything was read at entry), falling back to the bare
/// record when that cannot be built; then pauses the process if the ring
/// is behind (lossless mode). Both modes' sys_exit end here.
#[inline(always)]
fn emit_at_exit(rec: SyscallRecord, nr: i64, tgid: u32) -> i32 {
    // The child's side of clone/clone3 (it returns 0 in the new task)
    // captures nothing: its arguments point into the parent's memory,
    // which a thread shares and the parent reuses as soon as it returns,
    // so what the child read depended on who ran first. The parent's
    // record has the data, read before the call returned.
    let child_side = rec.ret == 0 && (nr == cfg(&NR_CLONE) || nr == cfg(&NR_CLONE3));
    if !child_side
        && let Some(spec) = capture_spec(nr)
        && spec.at_entry != 1
        && emit_syscall_with_data(rec, spec)
    {
        pause_if_behind(tgid);
        return 0;
    }
    emit_syscall(rec);
    pause_if_behind(tgid);
    0
}

/// Lean mode: the thread's next sequence number, taken (`take`) or only
/// looked at (an entry-time record of a call whose own record comes at
/// exit). The slot array is the fast path; a thread whose slot another
/// thread holds (tids equal modulo the array's size) numbers its records in
/// the hash stash instead, and so does one that ever did: its stash entry's
/// `seq` is then non-zero, which the (rare) claim of a free slot checks
/// first, so a thread never restarts its numbers.
#[inline(always)]
fn lean_seq(tid: u32, take: bool) -> u64 {
    let mask = cfg(&SEQ_MASK);
    if tid >> seq_slot::TID_BITS == 0
        && let Some(p) = SEQS.get_ptr_mut(tid & mask)
    {
        // SAFETY: in-bounds element of an array map, read and written as one
        // aligned word.
        let w = unsafe { *p };
        let tag = seq_slot::tag(tid);
        if w & !seq_slot::SEQ_MASK == tag {
            if take {
                // SAFETY: as above; only the tag's thread writes a tagged slot.
                unsafe { *p = tag | ((w + 1) & seq_slot::SEQ_MASK) };
            }
            return w & seq_slot::SEQ_MASK;
        }
        let numbered_in_stash = stash_ptr(tid)
            // SAFETY: our own thread's entry.
            .is_some_and(|s| unsafe { (*s).seq } != 0);
        if w == 0 && !numbered_in_stash {
            if take {
                // SAFETY: as above. Two threads can only race for a free
                // slot when they share it (tids equal modulo its size):
                // the one whose write is lost finds the other's tag next
                // time and goes on in the stash, where its numbers start
                // again at 0 (one repeated number, never another thread's
                // arguments: those come from its own registers).
                unsafe { *p = tag | 1 };
            }
            return 0;
        }
    }
    match stash_ptr(tid) {
        // SAFETY: our own thread's entry; only this thread writes it.
        Some(s) => unsafe {
            let q = (*s).seq;
            if take {
                (*s).seq = q + 1;
            }
            q
        },
        None => {
            if take {
                let s = Stash {
                    nr: -1,
                    args: [0; 6],
                    enter_ns: 0,
                    seq: 1,
                    active: IDLE,
                    tid,
                    _pad: 0,
                };
                if stash_new(tid, s).is_err() {
                    count(ctr::STASH_FULL);
                }
            }
            0
        }
    }
}

/// Lean mode: a thread's slot is free again once it exits (or its tid is
/// handed to a new task), so a later thread of the same id starts at 0.
#[inline(always)]
fn lean_seq_free(tid: u32) {
    if let Some(p) = SEQS.get_ptr_mut(tid & cfg(&SEQ_MASK)) {
        // SAFETY: in-bounds element of an array map, one aligned word.
        unsafe {
            if *p & !seq_slot::SEQ_MASK == seq_slot::tag(tid) {
                *p = 0;
            }
        }
    }
}

/// Lean mode: a non-leader thread exec'd and took over the leader's id
/// `tid`: its numbers go on under that id, and the leader's end (as the
/// stash's do in `sched_process_exec`). A no-op in full mode, whose slots
/// stay free.
#[inline(always)]
fn lean_seq_move(old_tid: u32, tid: u32) {
    let mask = cfg(&SEQ_MASK);
    let mut seq = None;
    if let Some(p) = SEQS.get_ptr_mut(old_tid & mask) {
        // SAFETY: in-bounds element of an array map, one aligned word.
        unsafe {
            if *p & !seq_slot::SEQ_MASK == seq_slot::tag(old_tid) {
                seq = Some(*p & seq_slot::SEQ_MASK);
                *p = 0;
            }
        }
    }
    if let Some(p) = SEQS.get_ptr_mut(tid & mask) {
        // SAFETY: as above.
        unsafe {
            let w = *p;
            if w & !seq_slot::SEQ_MASK == seq_slot::tag(tid) || w == 0 {
                *p = match seq {
                    Some(q) => seq_slot::tag(tid) | q,
                    // The old thread numbered in the stash, which
                    // sched_process_exec moved: the leader's slot ends.
                    None => 0,
                };
            }
        }
    }
}

/// Lean mode: the only program on the syscall path. Everything is read at
/// exit, from the registers (see [`Regs::call_at_exit`]), so no stash and one
/// timestamp: records carry it as both `enter_ns` and `exit_ns` (the log's
/// header says lean, and readers show no durations). The calls whose exit
/// does not tell what they were called with are also hooked at entry
/// ([`lean_enter`], recorder_common::LEAN_TRACEPOINTS), which stashes them
/// (exec, clone) or records them (exit, exit_group).
#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn sys_exit_lean(ctx: RawTracePointContext) -> i32 {
    exit_lean(Raw(ctx.arg(0)), ctx.arg(1))
}

/// [`sys_exit_lean`] where the kernel has BTF (see [`Regs`]).
#[cfg(not(feature = "bounded-loops"))]
#[btf_tracepoint(function = "sys_exit")]
pub fn lean_exit_btf(ctx: BtfTracePointContext) -> i32 {
    exit_lean(Btf(ctx.arg(0)), ctx.arg(1))
}

#[inline(always)]
fn exit_lean<R: Regs>(regs: R, ret: i64) -> i32 {
    let Some((pid_tgid, traced::YES)) = selection(regs.key()) else {
        return 0;
    };
    let tgid = (pid_tgid >> 32) as u32;
    let tid = pid_tgid as u32;
    let (mut nr, mut args) = regs.call_at_exit();
    if nr == -1
        || nr == cfg(&NR_EXECVE)
        || nr == cfg(&NR_EXECVEAT)
        || nr == cfg(&NR_CLONE)
        || nr == cfg(&NR_CLONE3)
    {
        match lean_stashed(tid, nr) {
            Stashed::Call(n, a) => (nr, args) = (n, a),
            Stashed::Swallow => return 0,
            Stashed::Nothing => {}
        }
    }
    if nr == -1 {
        // The number is gone: rt_sigreturn (x86 `restore_sigcontext` sets
        // orig_ax to -1, arm64 `forget_syscall`). It takes no arguments;
        // the registers are the restored context.
        nr = cfg(&NR_RT_SIGRETURN);
        args = [0; 6];
    }
    if trace_verdict(nr) != trace::RECORD {
        return 0;
    }
    let rec = SyscallRecord {
        ret,
        ..lean_record(tgid, tid, nr, args, lean_seq(tid, true))
    };
    // at_entry 1: everything was read at entry (lean_enter). The SOCKLEN_IN
    // items of at_entry 2 are not read: at exit the kernel has overwritten
    // them (only the length it wrote back is recorded).
    emit_at_exit(rec, nr, tgid)
}

/// A lean record with its one timestamp as both entry and exit time.
#[inline(always)]
fn lean_record(tgid: u32, tid: u32, nr: i64, args: [u64; 6], seq: u64) -> SyscallRecord {
    // SAFETY: helper without preconditions.
    let now = unsafe { bpf_ktime_get_ns() };
    SyscallRecord {
        enter_ns: now,
        exit_ns: now,
        ..syscall_record(tgid, tid, nr, args, seq)
    }
}

enum Stashed {
    /// The call as stashed at entry: use its number and arguments.
    Call(i64, [u64; 6]),
    /// An exit that is not to be recorded (see `SKIP_EXIT`, `QUIET`).
    Swallow,
    Nothing,
}

/// Lean mode: what `lean_enter` stashed for this exit. Taken only for the
/// same number, or for -1 after an exec (arm64 kernels before 5.19 forgot
/// the number at exec: 42eede3ae05b).
#[inline(always)]
fn lean_stashed(tid: u32, nr: i64) -> Stashed {
    let Some(s) = stash_ptr(tid) else {
        return Stashed::Nothing;
    };
    // SAFETY: our own thread's entry; only this thread writes it.
    let s = unsafe { &mut *s };
    let exec = s.nr == cfg(&NR_EXECVE) || s.nr == cfg(&NR_EXECVEAT);
    // x86 reports a successful execveat as execve (Falco's probe notes it).
    let exec_exit = nr == -1 || nr == cfg(&NR_EXECVE) || nr == cfg(&NR_EXECVEAT);
    let same = s.nr == nr || (exec && exec_exit);
    if !same {
        return Stashed::Nothing;
    }
    let active = s.active;
    s.active = IDLE;
    match active {
        IN_CALL => Stashed::Call(s.nr, s.args),
        SKIP_EXIT | QUIET => Stashed::Swallow,
        _ => Stashed::Nothing,
    }
}

/// Lean mode: attached to the `syscalls:sys_enter_*` event of each of
/// recorder_common::LEAN_TRACEPOINTS (one program, six attachments). The
/// context is the one `perf_call_bpf_enter` builds: the number (int) at 8,
/// the arguments from 16 (the events' format files say the same), so no
/// register read is needed. (At 0 it has a `pt_regs` pointer, but since
/// 6.13 those are the kernel caller's registers, not the user's.)
/// <https://github.com/torvalds/linux/blob/v6.18/kernel/trace/trace_syscalls.c>
#[tracepoint(category = "syscalls", name = "sys_enter_execve")]
pub fn lean_enter(ctx: TracePointContext) -> u32 {
    if closing() {
        return 0;
    }
    let pid_tgid = bpf_get_current_pid_tgid();
    let tgid = (pid_tgid >> 32) as u32;
    let state = traced_state(tgid);
    if state == traced::NO {
        return 0;
    }
    // SAFETY: offsets of the context perf_call_bpf_enter builds.
    let Ok(nr) = (unsafe { ctx.read_at::<i32>(8) }) else {
        return 0;
    };
    let nr = i64::from(nr);
    if state == traced::AT_EXEC {
        if nr != cfg(&NR_EXECVE) && nr != cfg(&NR_EXECVEAT) {
            return 0;
        }
        set_traced(tgid, traced::YES);
    }
    let verdict = trace_verdict(nr);
    if verdict == trace::SKIP {
        return 0;
    }
    // SAFETY: as above; the arguments a call does not take are whatever
    // was on the kernel stack, and user space clears them.
    let args = unsafe { ctx.read_at::<[u64; 6]>(16) }.unwrap_or([0; 6]);
    let tid = pid_tgid as u32;
    if nr == cfg(&NR_EXIT) || nr == cfg(&NR_EXIT_GROUP) {
        // They never reach sys_exit: recorded now, marked as not returning.
        emit_syscall(SyscallRecord {
            flags: flags::NO_RETURN,
            exit_ns: 0,
            ..lean_record(tgid, tid, nr, args, lean_seq(tid, true))
        });
        return 0;
    }
    let exec = nr == cfg(&NR_EXECVE) || nr == cfg(&NR_EXECVEAT);
    if exec && verdict == trace::RECORD && capture_spec(nr).is_some() {
        emit_exec_data(tid, usize::from(nr == cfg(&NR_EXECVEAT)), &args);
    }
    // exec and clone: stashed for sys_exit_lean and sched_process_fork.
    let active = if verdict == trace::RECORD {
        IN_CALL
    } else {
        QUIET
    };
    // For a thread that dies inside the call (sched_process_exit).
    // SAFETY: helper without preconditions.
    let now = unsafe { bpf_ktime_get_ns() };
    match stash_ptr(tid) {
        // SAFETY: our own thread's entry; `seq` stays (see lean_seq).
        Some(s) => unsafe {
            (*s).nr = nr;
            (*s).args = args;
            (*s).enter_ns = now;
            (*s).active = active;
        },
        None => {
            let s = Stash {
                nr,
                args,
                enter_ns: now,
                seq: 0,
                active,
                tid,
                _pad: 0,
            };
            if stash_new(tid, s).is_err() && active == IN_CALL {
                count(ctr::STASH_FULL);
            }
        }
    }
    0
}

const SIGSTOP: u32 = 19;
const BPF_NOEXIST: u64 = 1;

/// Lossless mode: once the ring holds `PAUSE_BYTES`, the process whose
/// call just exited is stopped (SIGSTOP, delivered as it returns to user
/// space) and noted in `PAUSED`, so the daemon resumes it (SIGCONT) when it
/// has caught up. Checked at every exit, not every 64 records like the
/// wakeup: the headroom above `PAUSE_BYTES` must only absorb the records
/// other threads emit before they, too, reach this check. Pausing at exit
/// rather than entry means the call that crossed the line is recorded
/// whole, and a thread blocked in a call is not held up by it.
#[inline(always)]
fn pause_if_behind(tgid: u32) {
    let limit = cfg(&PAUSE_BYTES);
    if limit == 0 {
        return;
    }
    let occupancy = EVENTS.query(BPF_RB_AVAIL_DATA);
    if occupancy < limit || PAUSE_ON.get(0).copied() != Some(1) {
        return;
    }
    let p = Paused {
        // SAFETY: helper without preconditions.
        since_ns: unsafe { bpf_ktime_get_ns() },
        occupancy,
        stopped_ns: 0,
    };
    // Only a process the daemon will know to resume is stopped. The
    // thread that notes it stops itself, which stops the whole group; the
    // daemon looks for other senders' stops among the process's shared
    // pending signals, where `kill` puts them. Any other thread
    // that reaches this check before the group stop reaches it stops
    // itself (a SIGSTOP of its own, which also stops the group), so that
    // every thread emits at most this one record past the line, however
    // late the first thread gets to act on its signal (a preempted thread
    // on a loaded machine let the others overflow a small ring). SIGCONT
    // discards those per-thread stops.
    if PAUSED.get_ptr(tgid).is_some() {
        // SAFETY: helper without preconditions; signals the current thread.
        unsafe { bpf_send_signal_thread(SIGSTOP) };
        return;
    }
    if PAUSED.insert(tgid, p, BPF_NOEXIST).is_err() {
        return;
    }
    count(ctr::PAUSED);
    // Also a stop of its own thread, not of the process: a process-wide
    // SIGSTOP would stay pending (shared) when another thread's stop
    // stopped the group first, and the daemon would take it for someone
    // else's `kill -STOP` and leave the process stopped for good.
    // SAFETY: helper without preconditions; signals the current thread.
    unsafe { bpf_send_signal_thread(SIGSTOP) };
}

/// A new task. Every new process gets a fresh verdict here, whoever its
/// parent is: that is what keeps a reused pid from inheriting the selection
/// of a dead process, without having to see every exit.
#[tracepoint(category = "sched", name = "sched_process_fork")]
pub fn sched_process_fork(ctx: TracePointContext) -> u32 {
    if closing() {
        return 0;
    }
    // SAFETY: offset from the tracepoint's format file.
    let Ok(child) = (unsafe { ctx.read_at::<u32>(cfg(&FORK_CHILD_PID_OFF) as usize) }) else {
        return 0;
    };
    let pid_tgid = bpf_get_current_pid_tgid();
    let tgid = (pid_tgid >> 32) as u32;
    let parent_traced = traced_state(tgid) == traced::YES;
    if !parent_traced {
        // Also covers thread creation in untraced processes: a thread's tid
        // is never any live process's tgid, so clearing its byte is harmless.
        set_traced(child, traced::NO);
        return 0;
    }
    // Thread or process? Only the clone flags say, and the parent is inside
    // that very syscall, so its stash holds them.
    let tid = pid_tgid as u32;
    let mut thread = false;
    if let Some(s) = stash_ptr(tid) {
        // SAFETY: our own thread's entry.
        let s = unsafe { &*s };
        // QUIET: a clone outside `-e trace=SET`, stashed for this very check.
        if s.active == IN_CALL || s.active == QUIET {
            if s.nr == cfg(&NR_CLONE) {
                thread = s.args[0] & CLONE_THREAD != 0;
            } else if s.nr == cfg(&NR_CLONE3) {
                // struct clone_args starts with `u64 flags`.
                // SAFETY: probe read of user memory.
                let fl = unsafe { bpf_probe_read_user(s.args[0] as *const u64) }.unwrap_or(0);
                thread = fl & CLONE_THREAD != 0;
            }
        }
    }
    if thread {
        // Same process: its selection is already the tgid's.
        new_epoch();
        inherit_call(tid, child);
        return 0;
    }
    let follow = cfg(&FOLLOW_FORKS) != 0;
    set_traced(child, if follow { traced::YES } else { traced::NO });
    if follow {
        new_epoch();
        inherit_call(tid, child);
        emit_proc(kind::FORK, tgid, tid, child);
    }
    0
}

/// The new task's first event is the return of the parent's clone/fork in
/// the child. Its entry happened in the parent, so give the child a copy of
/// the parent's stash: the child's first record is then `clone(...) = 0`,
/// like strace shows, instead of an exit without an entry.
///
/// Not in lean mode: there the child's clone exit (x86) reads its own
/// registers, and on arm64, where the child never passes `sys_exit`, the
/// copy would stay in flight until the child's exit took it for a call
/// the child died in (lean's other calls never touch the stash).
#[inline(always)]
fn inherit_call(parent_tid: u32, child_tid: u32) {
    if cfg(&LEAN) != 0 {
        return;
    }
    if let Some(s) = stash_ptr(parent_tid) {
        // SAFETY: the parent's own entry, read in the parent's context.
        let mut s = unsafe { *s };
        if s.active == IN_CALL {
            s.seq = 0;
            // The child has not run yet, so nothing races this for its
            // slot but another thread's claim, which the insert settles.
            if stash_new(child_tid, s).is_err() {
                count(ctr::STASH_FULL);
            }
        }
    }
}

#[tracepoint(category = "sched", name = "sched_process_exec")]
pub fn sched_process_exec(ctx: TracePointContext) -> u32 {
    if closing() {
        return 0;
    }
    let pid_tgid = bpf_get_current_pid_tgid();
    let tgid = (pid_tgid >> 32) as u32;
    let tid = pid_tgid as u32;
    let mut state = traced_state(tgid);
    let mut newly_selected = false;
    if state != traced::YES && cfg(&HAVE_COMMS) != 0 {
        // The comm is the new program's name by now (begin_new_exec sets it
        // before this tracepoint fires), truncated to 15 bytes + NUL.
        if let Ok(comm) = bpf_get_current_comm()
            && COMMS.get_ptr(comm).is_some()
        {
            set_traced(tgid, traced::YES);
            new_epoch();
            state = traced::YES;
            newly_selected = true;
        }
    }
    if state != traced::YES {
        return 0;
    }
    // SAFETY: offset from the tracepoint's format file.
    let old_tid = unsafe { ctx.read_at::<u32>(cfg(&EXEC_OLD_PID_OFF) as usize) }.unwrap_or(tid);
    if old_tid != tid {
        // A non-leader thread exec'd and took over the leader's pid
        // (de_thread): its in-flight execve is stashed under the old tid.
        if let Some(s) = stash_ptr(old_tid) {
            // SAFETY: the old thread id is gone; nothing else touches it.
            let s = unsafe { *s };
            stash_free(old_tid);
            // The leader's own stash went at its exit (de_thread waits for
            // it), so this starts the id afresh.
            let _ = stash_new(tid, s);
        } else {
            stash_free(old_tid);
        }
        lean_seq_move(old_tid, tid);
    }
    if newly_selected {
        // The execve's entry was not seen: swallow its exit quietly. (Its
        // number, for lean mode's sys_exit, which matches exits by it.)
        let s = Stash {
            nr: cfg(&NR_EXECVE),
            args: [0; 6],
            enter_ns: 0,
            seq: 0,
            active: SKIP_EXIT,
            tid,
            _pad: 0,
        };
        if stash_new(tid, s).is_err() {
            count(ctr::STASH_FULL);
        }
    }
    emit_proc(kind::EXEC, tgid, tid, old_tid);
    0
}

#[tracepoint(category = "sched", name = "sched_process_exit")]
pub fn sched_process_exit(ctx: TracePointContext) -> u32 {
    if closing() {
        return 0;
    }
    let pid_tgid = bpf_get_current_pid_tgid();
    let tgid = (pid_tgid >> 32) as u32;
    if traced_state(tgid) != traced::YES {
        return 0;
    }
    let tid = pid_tgid as u32;
    if let Some(s) = stash_ptr(tid) {
        // SAFETY: our own thread's entry.
        let s = unsafe { *s };
        if s.active == IN_CALL {
            // Killed inside a call (e.g. another thread called exit_group
            // while this one blocked in read): record it, never returned.
            count(ctr::DIED_IN_CALL);
            emit_syscall(SyscallRecord {
                flags: flags::NO_RETURN | flags::DIED_IN_CALL,
                enter_ns: s.enter_ns,
                ..syscall_record(tgid, tid, s.nr, s.args, s.seq)
            });
        }
        stash_free(tid);
    }
    lean_seq_free(tid);
    let off = cfg(&EXIT_GROUP_DEAD_OFF);
    let group_dead = if off == 0 {
        2
    } else {
        // SAFETY: offset from the tracepoint's format file.
        match unsafe { ctx.read_at::<u8>(off as usize) } {
            Ok(0) => 0,
            Ok(_) => 1,
            Err(_) => 2,
        }
    };
    emit_proc(kind::EXIT, tgid, tid, group_dead);
    if group_dead == 1 {
        set_traced(tgid, traced::NO);
    }
    0
}

/// A signal being delivered to a traced thread: what turns a crash into a
/// snapshot (a fatal signal with no handler kills the process).
#[tracepoint(category = "signal", name = "signal_deliver")]
pub fn signal_deliver(ctx: TracePointContext) -> u32 {
    if closing() {
        return 0;
    }
    let pid_tgid = bpf_get_current_pid_tgid();
    let tgid = (pid_tgid >> 32) as u32;
    if traced_state(tgid) != traced::YES {
        return 0;
    }
    // SAFETY: offsets from the tracepoint's format file.
    let sig = unsafe { ctx.read_at::<i32>(cfg(&SIG_OFF) as usize) }.unwrap_or(0);
    // SAFETY: as above.
    let handler = unsafe { ctx.read_at::<u64>(cfg(&SIG_HANDLER_OFF) as usize) }.unwrap_or(1);
    // Our own pause taking effect (see pause_if_behind): noted for the
    // daemon, and not logged as a signal (the Pause event stands for it).
    if sig as u32 == SIGSTOP
        && let Some(p) = PAUSED.get_ptr_mut(tgid)
    {
        // SAFETY: a value of our own map; a plain store.
        unsafe {
            if (*p).stopped_ns == 0 {
                (*p).stopped_ns = bpf_ktime_get_ns();
            }
        }
        return 0;
    }
    // SIG_DFL is 0.
    let fl = if handler == 0 {
        flags::DEFAULT_ACTION
    } else {
        0
    };
    emit_proc_flags(kind::SIGNAL, fl, tgid, pid_tgid as u32, sig as u32);
    0
}

/// Benchmark floor (`recorder --bench-floor`): attached in place of
/// `sys_enter`/`sys_exit`, these do nothing, so what a syscall pays with them
/// attached is the kernel's cost of running *any* program there (the
/// syscall slow path, the tracepoint and BPF dispatch) and the difference to
/// the real programs is ours. `cargo xtask bench` reports both side by side.
#[raw_tracepoint(tracepoint = "sys_enter")]
pub fn floor_enter(_ctx: RawTracePointContext) -> i32 {
    0
}

/// See [`floor_enter`].
#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn floor_exit(_ctx: RawTracePointContext) -> i32 {
    0
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 13] = *b"Dual MIT/GPL\0";
