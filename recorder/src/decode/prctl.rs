//! prctl(2) as strace's prctl.c prints it: each option shows the arguments
//! it takes, in its own form (`prctl(PR_SET_KEEPCAPS, 1)`,
//! `prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0)`), and
//! PR_GET_DUMPABLE and PR_GET_SECUREBITS explain their result. The options
//! that write through a pointer (PR_GET_PDEATHSIG, PR_GET_TSC, ...) show
//! the pointer: the capture plan does not read their `int`. PR_SET_NAME and
//! PR_GET_NAME, whose name is captured, are the caller's.
//!
//! <https://github.com/strace/strace/blob/v6.1/src/prctl.c>

use libc::{
    PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_LOWER,
    PR_CAP_AMBIENT_RAISE, PR_CAPBSET_DROP, PR_CAPBSET_READ, PR_GET_DUMPABLE, PR_GET_KEEPCAPS,
    PR_GET_SECCOMP, PR_GET_SECUREBITS, PR_GET_TIMERSLACK, PR_GET_TIMING, PR_SET_CHILD_SUBREAPER,
    PR_SET_DUMPABLE, PR_SET_ENDIAN, PR_SET_FPEMU, PR_SET_FPEXC, PR_SET_KEEPCAPS,
    PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG, PR_SET_SECUREBITS, PR_SET_THP_DISABLE,
    PR_SET_TIMERSLACK, PR_SET_TIMING, PR_TASK_PERF_EVENTS_DISABLE, PR_TASK_PERF_EVENTS_ENABLE,
};

use super::consts::{self, Names};
use super::put;

/// Linux 5.6's option, not in libc (include/uapi/linux/prctl.h).
const PR_SET_IO_FLUSHER: i32 = 57;

/// `SUID_DUMP_*` (include/linux/sched/coredump.h; not in libc).
const DUMPABLE: &Names = &[
    (0, "SUID_DUMP_DISABLE"),
    (1, "SUID_DUMP_USER"),
    (2, "SUID_DUMP_ROOT"),
];

/// The `SECBIT_*` strace 6.1 names (its xlat/secbits.in); later bits show
/// in hex, as there.
const SECBITS: &Names = &[
    (libc::SECBIT_NOROOT as u64, "SECBIT_NOROOT"),
    (libc::SECBIT_NOROOT_LOCKED as u64, "SECBIT_NOROOT_LOCKED"),
    (
        libc::SECBIT_NO_SETUID_FIXUP as u64,
        "SECBIT_NO_SETUID_FIXUP",
    ),
    (
        libc::SECBIT_NO_SETUID_FIXUP_LOCKED as u64,
        "SECBIT_NO_SETUID_FIXUP_LOCKED",
    ),
    (libc::SECBIT_KEEP_CAPS as u64, "SECBIT_KEEP_CAPS"),
    (
        libc::SECBIT_KEEP_CAPS_LOCKED as u64,
        "SECBIT_KEEP_CAPS_LOCKED",
    ),
    (
        libc::SECBIT_NO_CAP_AMBIENT_RAISE as u64,
        "SECBIT_NO_CAP_AMBIENT_RAISE",
    ),
    (
        libc::SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED as u64,
        "SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED",
    ),
];

const AMBIENT: &Names = &[
    (PR_CAP_AMBIENT_IS_SET as u64, "PR_CAP_AMBIENT_IS_SET"),
    (PR_CAP_AMBIENT_RAISE as u64, "PR_CAP_AMBIENT_RAISE"),
    (PR_CAP_AMBIENT_LOWER as u64, "PR_CAP_AMBIENT_LOWER"),
    (PR_CAP_AMBIENT_CLEAR_ALL as u64, "PR_CAP_AMBIENT_CLEAR_ALL"),
];

/// prctl's arguments, the option first (`a`: the call's registers).
pub(crate) fn args(b: &mut Vec<u8>, a: &[u64; 6]) {
    let option = a[0] as u32 as i32;
    xval(b, a[0] & 0xffff_ffff, consts::PRCTL_OPTIONS, "PR_???");
    match option {
        PR_GET_KEEPCAPS
        | PR_GET_SECCOMP
        | PR_GET_TIMERSLACK
        | PR_GET_TIMING
        | PR_TASK_PERF_EVENTS_DISABLE
        | PR_TASK_PERF_EVENTS_ENABLE
        | PR_GET_DUMPABLE
        | PR_GET_SECUREBITS => {}
        PR_SET_CHILD_SUBREAPER
        | PR_SET_ENDIAN
        | PR_SET_FPEMU
        | PR_SET_FPEXC
        | PR_SET_KEEPCAPS
        | PR_SET_TIMING => {
            b.extend_from_slice(b", ");
            put::u64(b, a[1]);
        }
        PR_SET_DUMPABLE => {
            b.extend_from_slice(b", ");
            xval(b, a[1], DUMPABLE, "SUID_DUMP_???");
        }
        PR_CAPBSET_READ | PR_CAPBSET_DROP => {
            b.extend_from_slice(b", ");
            consts::capability(b, a[1]);
        }
        PR_CAP_AMBIENT => ambient(b, a),
        PR_SET_PDEATHSIG => {
            b.extend_from_slice(b", ");
            if a[1] > 128 {
                put::u64(b, a[1]);
            } else {
                consts::signal(b, a[1], true);
            }
        }
        PR_SET_SECUREBITS => {
            b.extend_from_slice(b", ");
            consts::flags(b, a[1], SECBITS);
        }
        PR_SET_TIMERSLACK => {
            b.extend_from_slice(b", ");
            put::i64(b, a[1] as i64);
        }
        PR_SET_NO_NEW_PRIVS | PR_SET_THP_DISABLE | PR_SET_IO_FLUSHER => {
            b.extend_from_slice(b", ");
            put::u64(b, a[1]);
            rest_hex(b, a, 2);
        }
        _ => rest_hex(b, a, 1),
    }
}

/// PR_CAP_AMBIENT's operation, then the capability for those that take
/// one, then the rest of the five arguments.
fn ambient(b: &mut Vec<u8>, a: &[u64; 6]) {
    b.extend_from_slice(b", ");
    xval(b, a[1], AMBIENT, "PR_CAP_AMBIENT_???");
    let op = a[1];
    let takes_cap = [
        PR_CAP_AMBIENT_RAISE,
        PR_CAP_AMBIENT_LOWER,
        PR_CAP_AMBIENT_IS_SET,
    ]
    .iter()
    .any(|&o| o as u64 == op);
    if takes_cap {
        b.extend_from_slice(b", ");
        consts::capability(b, a[2]);
        rest_hex(b, a, 3);
    } else {
        rest_hex(b, a, 2);
    }
}

/// Arguments `first..5` in hex (strace's print_prctl_args; prctl takes 5).
fn rest_hex(b: &mut Vec<u8>, a: &[u64; 6], first: usize) {
    for &v in &a[first..5] {
        b.extend_from_slice(b", ");
        put::hex(b, v);
    }
}

/// A named value, or `0x... /* WHAT_??? */` (strace's printxval).
fn xval(b: &mut Vec<u8>, v: u64, names: &Names, unknown: &str) {
    match consts::name_of(v, names) {
        Some(n) => b.extend_from_slice(n.as_bytes()),
        None => {
            put::hex(b, v);
            b.extend_from_slice(b" /* ");
            b.extend_from_slice(unknown.as_bytes());
            b.extend_from_slice(b" */");
        }
    }
}

/// What follows a successful prctl's result `r`: ` (SUID_DUMP_USER)` for
/// PR_GET_DUMPABLE; PR_GET_SECUREBITS shows a non-zero result in hex with
/// its bits, `0x10 (SECBIT_KEEP_CAPS)`. Writes the result too.
pub(crate) fn ret(b: &mut Vec<u8>, option: u64, r: i64) {
    match option as u32 as i32 {
        PR_GET_SECUREBITS if r != 0 => {
            put::hex(b, r as u64);
            b.extend_from_slice(b" (");
            consts::flags(b, r as u64, SECBITS);
            b.push(b')');
        }
        PR_GET_DUMPABLE => {
            put::i64(b, r);
            if let Some(n) = consts::name_of(r as u64, DUMPABLE) {
                b.extend_from_slice(b" (");
                b.extend_from_slice(n.as_bytes());
                b.push(b')');
            }
        }
        _ => put::i64(b, r),
    }
}
