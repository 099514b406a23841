//! `recorder watch`: chosen calls of every process on the machine.
//!
//! One program on `sys_exit`, attached alone. Every thread of the machine
//! runs it at every syscall exit, so what it does for a call that is not
//! wanted is the whole cost of watching: it rejects in the cheapest order,
//! each step only for what passed the one before:
//! 1. the number: one register read and one array lookup (`TRACE_SET`, the
//!    same `-e trace=` bitmap recording uses);
//! 2. the outcome (`--failed`, `--errno`): the return value is an argument
//!    of the tracepoint, so a comparison (and for `--errno` one lookup);
//! 3. uid and cgroup (`--uid`, `--cgroup`): a helper call each;
//! 4. the path (`--path`) or the socket address (`--addr`): the path arguments are read from the caller's
//!    memory (still there at exit) and their final component compared with
//!    at most [`WATCH_NAMES_MAX`] names, eight word comparisons each.
//!
//! Only then is a record built: a [`WhoRecord`] (uid, gid, cgroup, comm as
//! the kernel knows them now) and the call's record with its data, as lean
//! mode makes it (numbers from the registers, one timestamp).

use aya_ebpf::{
    EbpfContext as _,
    helpers::{
        bpf_get_current_cgroup_id, bpf_get_current_comm, bpf_get_current_pid_tgid,
        bpf_get_current_uid_gid, bpf_get_smp_processor_id, bpf_probe_read_kernel,
        bpf_probe_read_kernel_str_bytes, bpf_probe_read_user, bpf_probe_read_user_str_bytes,
    },
    macros::{map, raw_tracepoint, tracepoint},
    maps::{Array, LruHashMap},
    programs::{RawTracePointContext, TracePointContext},
};
use recorder_common::{
    CAPTURE_ENTRIES, COMM_LEN, ERRNO_ENTRIES, NAME_WINDOW, NamePattern, ProcInfo, SyscallRecord,
    WATCH_NAMES_MAX, WATCH_PATH_MAX, WATCH_PROCS_ENTRIES, WhoRecord, ctr, kind, outcome, sock,
    trace,
};

#[cfg(not(feature = "bounded-loops"))]
use aya_ebpf::{macros::btf_tracepoint, programs::BtfTracePointContext};

#[cfg(not(feature = "bounded-loops"))]
use crate::Btf;
use crate::{
    EVENTS, FORK_CHILD_PID_OFF, Raw, Regs, SCRATCH, cfg, count, emit_at_exit, lean_record,
    submit_flags, trace_verdict,
};

#[map(name = "WATCH_NAMES")]
static WATCH_NAMES: Array<NamePattern> = Array::with_max_entries(WATCH_NAMES_MAX, 0);
#[map(name = "WATCH_ARGS")]
static WATCH_ARGS: Array<u8> = Array::with_max_entries(CAPTURE_ENTRIES, 0);
#[map(name = "WATCH_SOCK")]
static WATCH_SOCK: Array<u8> = Array::with_max_entries(CAPTURE_ENTRIES, 0);
#[map(name = "WATCH_ERRNO")]
static WATCH_ERRNO: Array<u8> = Array::with_max_entries(ERRNO_ENTRIES, 0);

#[unsafe(no_mangle)]
static WATCH_NAME_COUNT: u32 = 0;
#[unsafe(no_mangle)]
static WATCH_OUTCOME: u8 = outcome::ANY;
#[unsafe(no_mangle)]
static WATCH_UID: u32 = u32::MAX;
#[unsafe(no_mangle)]
static WATCH_CGROUP: u64 = 0;
#[unsafe(no_mangle)]
static WATCH_SELF: u32 = 0;
#[unsafe(no_mangle)]
static WATCH_SOCK_MODE: u8 = sock::OFF;
#[unsafe(no_mangle)]
static WATCH_FAMILY: u16 = 0;
#[unsafe(no_mangle)]
static WATCH_PORT: u16 = 0;
#[unsafe(no_mangle)]
static WATCH_IP4: u32 = 0;
#[unsafe(no_mangle)]
static WATCH_EXEC_FILENAME_OFF: u32 = 8;
#[map(name = "WATCH_PROCS")]
static WATCH_PROCS: LruHashMap<u32, ProcInfo> =
    LruHashMap::with_max_entries(WATCH_PROCS_ENTRIES, 0);

/// Whether the return value is an outcome `--failed`/`--errno` keep.
#[inline(always)]
fn outcome_wanted(ret: i64) -> bool {
    match cfg(&WATCH_OUTCOME) {
        outcome::ANY => true,
        outcome::FAILED => (-4095..0).contains(&ret),
        _ => (-4095..0).contains(&ret) && WATCH_ERRNO.get((-ret) as u32).copied().unwrap_or(0) != 0,
    }
}

/// Whether the uid and cgroup filters keep the current task.
#[inline(always)]
fn task_wanted() -> bool {
    let uid = cfg(&WATCH_UID);
    if uid != u32::MAX && bpf_get_current_uid_gid() as u32 != uid {
        return false;
    }
    let cg = cfg(&WATCH_CGROUP);
    // SAFETY: helper without preconditions.
    cg == 0 || unsafe { bpf_get_current_cgroup_id() } == cg
}

/// Whether one of the call's path arguments ends in a watched name.
#[inline(always)]
fn path_wanted(nr: i64, args: &[u64; 6]) -> bool {
    let names = cfg(&WATCH_NAME_COUNT);
    if names == 0 {
        return true;
    }
    let which = WATCH_ARGS.get(nr as u32).copied().unwrap_or(0);
    for (i, &arg) in args.iter().enumerate() {
        // NULL: no path (utimensat's, a successful exec's zeroed
        // registers), not a failed read.
        if which & (1 << i) != 0 && arg != 0 && name_matches(arg, names) {
            return true;
        }
    }
    false
}

/// `--addr`: whether the call's socket address is the one asked for: the
/// first 8 bytes of the sockaddr (family, port, and for IPv4 the address)
/// read from the caller's memory.
#[inline(always)]
fn addr_wanted(nr: i64, args: &[u64; 6]) -> bool {
    let mode = cfg(&WATCH_SOCK_MODE);
    if mode == sock::OFF {
        return true;
    }
    // Constant indices: the verifier refuses a variable offset into the
    // stack, where the arguments are.
    let ptr = match WATCH_SOCK.get(nr as u32).copied().unwrap_or(0) {
        1 => args[0],
        2 => args[1],
        3 => args[2],
        4 => args[3],
        5 => args[4],
        6 => args[5],
        _ => return false,
    };
    if ptr == 0 {
        return false;
    }
    // SAFETY: user read into a stack value.
    let Ok(head) = (unsafe { bpf_probe_read_user(ptr as *const [u8; 8]) }) else {
        count(ctr::READ_FAILED);
        return false;
    };
    let family = u16::from_le_bytes([head[0], head[1]]);
    let port = u16::from_le_bytes([head[2], head[3]]);
    let ip4 = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let want_family = cfg(&WATCH_FAMILY);
    let want_port = cfg(&WATCH_PORT);
    (family == AF_INET || family == AF_INET6)
        && (want_family == 0 || family == want_family)
        && (want_port == 0 || port == want_port)
        && (mode != sock::IP4 || ip4 == cfg(&WATCH_IP4))
}

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// Reads the string at `src` into this CPU's scratch, after
/// [`NAME_WINDOW`] zero bytes, and compares the window that ends at its
/// NUL with the patterns (see [`NamePattern`]).
#[inline(always)]
fn name_matches(src: u64, names: u32) -> bool {
    // SAFETY: helper without preconditions.
    let cpu = unsafe { bpf_get_smp_processor_id() };
    let Some(buf) = SCRATCH.get_ptr_mut(cpu) else {
        return false;
    };
    let buf = buf as *mut u8;
    // SAFETY: the scratch buffer (SCRATCH_SIZE bytes, 8-aligned) holds the
    // zeros, the path and the window read below: NAME_WINDOW +
    // WATCH_PATH_MAX bytes.
    let (zeros, path) = unsafe {
        (
            &mut *(buf as *mut [u64; NAME_WINDOW / 8]),
            core::slice::from_raw_parts_mut(buf.add(NAME_WINDOW), WATCH_PATH_MAX),
        )
    };
    *zeros = [0; NAME_WINDOW / 8];
    // SAFETY: user source, bounded destination.
    let n = match unsafe { bpf_probe_read_user_str_bytes(src as *const u8, path) } {
        Ok(s) => s.len(),
        Err(_) => {
            count(ctr::READ_FAILED);
            return false;
        }
    };
    // The window's last byte is the path's last: it starts n bytes into
    // the buffer (NAME_WINDOW zeros, then n bytes).
    // SAFETY: n < WATCH_PATH_MAX, so the window is inside the scratch.
    let win = unsafe {
        bpf_probe_read_kernel(buf.add(n & (WATCH_PATH_MAX - 1)) as *const [u64; NAME_WINDOW / 8])
    };
    let Ok(win) = win else { return false };
    for i in 0..WATCH_NAMES_MAX {
        if i >= names {
            break;
        }
        let Some(p) = WATCH_NAMES.get(i) else { break };
        let same = win
            .iter()
            .zip(p.mask.iter().zip(p.pat.iter()))
            .all(|(w, (m, t))| w & m == *t);
        if same {
            return true;
        }
    }
    false
}

#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn sys_exit_watch(ctx: RawTracePointContext) -> i32 {
    watch_exit(Raw(ctx.arg(0)), ctx.arg(1))
}

/// [`sys_exit_watch`] where the kernel has BTF: the number and arguments
/// loaded directly (see `Regs`), which every call of the machine reads.
#[cfg(not(feature = "bounded-loops"))]
#[btf_tracepoint(function = "sys_exit")]
pub fn watch_exit_btf(ctx: BtfTracePointContext) -> i32 {
    watch_exit(Btf(ctx.arg(0)), ctx.arg(1))
}

#[inline(always)]
fn watch_exit<R: Regs>(regs: R, ret: i64) -> i32 {
    let nr = regs.nr_at_exit();
    if trace_verdict(nr) != trace::RECORD {
        return 0;
    }
    if !outcome_wanted(ret) || !task_wanted() {
        return 0;
    }
    let (_, args) = regs.call_at_exit();
    if !path_wanted(nr, &args) || !addr_wanted(nr, &args) {
        return 0;
    }
    let pid_tgid = bpf_get_current_pid_tgid();
    let (tgid, tid) = ((pid_tgid >> 32) as u32, pid_tgid as u32);
    // The recorder's own calls (writing the log) would match a broad
    // watch, and each would make another.
    if tgid == cfg(&WATCH_SELF) {
        return 0;
    }
    emit_who(tid);
    // No per-thread sequence: a watch takes a few calls of many threads,
    // and its losses are the ring's count (`ring_full`), not gaps.
    let rec = SyscallRecord {
        ret,
        ..lean_record(tgid, tid, nr, args, 0)
    };
    emit_at_exit(rec, nr, tgid)
}

/// The [`WhoRecord`] that goes before the call's record.
#[inline(always)]
fn emit_who(tid: u32) {
    let ids = bpf_get_current_uid_gid();
    // A full ring is not counted here: the call's record, right after,
    // finds it full too and is counted (user space then says who is
    // unknown).
    if let Some(mut e) = EVENTS.reserve::<WhoRecord>(0) {
        e.write(WhoRecord {
            kind: kind::WHO,
            _pad: [0; 3],
            tid,
            uid: ids as u32,
            gid: (ids >> 32) as u32,
            // SAFETY: helper without preconditions.
            cgroup: unsafe { bpf_get_current_cgroup_id() },
            comm: bpf_get_current_comm().unwrap_or([0; COMM_LEN]),
        });
        e.submit(submit_flags());
    }
}

/// This CPU's scratch as a [`ProcInfo`] to fill: too large for the stack.
/// The fork and exec tracepoints fire inside a call, never inside the
/// watch's sys_exit program, the other user of the scratch.
#[inline(always)]
fn proc_info_scratch() -> Option<&'static mut ProcInfo> {
    // SAFETY: helper without preconditions.
    let cpu = unsafe { bpf_get_smp_processor_id() };
    // SAFETY: the scratch is 8-aligned and far larger than a ProcInfo;
    // only this program uses it on this CPU now.
    SCRATCH
        .get_ptr_mut(cpu)
        .map(|p| unsafe { &mut *(p as *mut ProcInfo) })
}

/// A new task: its parent (the current process) and, until it execs, its
/// parent's comm and program. Threads are noted too (keyed by their tid,
/// which user space never asks about): the tracepoint does not say which
/// a clone made.
#[tracepoint(category = "sched", name = "sched_process_fork")]
pub fn watch_fork(ctx: TracePointContext) -> u32 {
    // SAFETY: offset from the tracepoint's format file.
    let Ok(child) = (unsafe { ctx.read_at::<u32>(cfg(&FORK_CHILD_PID_OFF) as usize) }) else {
        return 0;
    };
    let Some(info) = proc_info_scratch() else {
        return 0;
    };
    let tgid = (bpf_get_current_pid_tgid() >> 32) as u32;
    info.ppid = tgid;
    info._pad = 0;
    info.comm = bpf_get_current_comm().unwrap_or([0; COMM_LEN]);
    match WATCH_PROCS.get_ptr(tgid) {
        // SAFETY: a value of our own map, copied.
        Some(p) => info.exe = unsafe { (*p).exe },
        None => info.exe[0] = 0,
    }
    let _ = WATCH_PROCS.insert(child, *info, 0);
    0
}

/// An exec: the process's new program (the path exec was given, as the
/// tracepoint's `filename`) and comm; its parent stays as its fork said.
#[tracepoint(category = "sched", name = "sched_process_exec")]
pub fn watch_exec(ctx: TracePointContext) -> u32 {
    let Some(info) = proc_info_scratch() else {
        return 0;
    };
    let tgid = (bpf_get_current_pid_tgid() >> 32) as u32;
    info.ppid = match WATCH_PROCS.get_ptr(tgid) {
        // SAFETY: a value of our own map.
        Some(p) => unsafe { (*p).ppid },
        None => 0,
    };
    info._pad = 0;
    info.comm = bpf_get_current_comm().unwrap_or([0; COMM_LEN]);
    info.exe[0] = 0;
    // `__data_loc`: the string's offset in the record (low 16 bits).
    // SAFETY: offset from the tracepoint's format file.
    if let Ok(loc) = unsafe { ctx.read_at::<u32>(cfg(&WATCH_EXEC_FILENAME_OFF) as usize) } {
        let src = (ctx.as_ptr() as usize + (loc & 0xffff) as usize) as *const u8;
        // SAFETY: kernel source inside the record, bounded destination.
        let _ = unsafe { bpf_probe_read_kernel_str_bytes(src, &mut info.exe) };
    }
    let _ = WATCH_PROCS.insert(tgid, *info, 0);
    0
}
