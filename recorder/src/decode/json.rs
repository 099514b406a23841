//! JSON Lines rendering (the contract is `docs/json-output.md`).
//!
//! Written by hand into the reused buffer: every value is a number, a bool,
//! null, or a string escaped by [`put::json_str`], and building a
//! `serde_json::Value` per line would cost several allocations.

use super::put;
use super::table::{self, Ty};
use super::text::is_err;
use super::{Arch, errno_name, syscall_name};
use crate::event::GroupDead;
use crate::event::{
    Capture, CaptureKind, Counters, Event, PauseEvent, ProcEvent, SignalEvent, Syscall, WhoEvent,
};

/// Appends `ev` as one JSON object and a newline (nothing for counters
/// unless `show_counters`).
/// `timed`: false for a lean log, whose calls have no duration (`dur_ns`
/// is then null, not 0).
pub(crate) fn event(b: &mut Vec<u8>, arch: Arch, show_counters: bool, timed: bool, ev: &Event) {
    match ev {
        Event::Syscall(sc) => syscall(b, arch, sc, timed),
        Event::Exec(p) => proc(b, "exec", p),
        Event::Fork(p) => proc(b, "fork", p),
        Event::Exit(p) => proc(b, "exit", p),
        Event::Signal(s) => signal(b, s),
        Event::Pause(p) => pause(b, p),
        Event::Who(w) => who(b, w),
        Event::Counters(c) => {
            if show_counters {
                counters(b, c);
            }
        }
    }
}

fn key(b: &mut Vec<u8>, k: &str) {
    b.extend_from_slice(b",\"");
    b.extend_from_slice(k.as_bytes());
    b.extend_from_slice(b"\":");
}

fn key_u64(b: &mut Vec<u8>, k: &str, v: u64) {
    key(b, k);
    put::u64(b, v);
}

fn key_bool(b: &mut Vec<u8>, k: &str, v: bool) {
    key(b, k);
    b.extend_from_slice(if v { b"true" } else { b"false" });
}

fn syscall(b: &mut Vec<u8>, arch: Arch, sc: &Syscall, timed: bool) {
    b.extend_from_slice(b"{\"type\":\"syscall\"");
    key_u64(b, "ts_ns", sc.enter_ns);
    key_u64(b, "pid", u64::from(sc.tgid));
    key_u64(b, "tid", u64::from(sc.tid));
    key_u64(b, "seq", sc.seq);
    key_u64(b, "cpu", u64::from(sc.cpu));
    key(b, "syscall");
    match syscall_name(arch, sc.nr) {
        Some(n) => put::json_str(b, n),
        None => {
            b.extend_from_slice(b"\"syscall_");
            put::i64(b, sc.nr);
            b.push(b'"');
        }
    }
    key(b, "nr");
    put::i64(b, sc.nr);
    key(b, "args");
    b.push(b'[');
    for (i, &a) in sc.args.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        put::u64(b, a);
    }
    b.push(b']');
    key(b, "ret");
    match sc.ret {
        Some(r) => put::i64(b, r),
        None => b.extend_from_slice(b"null"),
    }
    key(b, "errno");
    match sc.ret.filter(|&r| is_err(r)).and_then(|r| errno_name(-r)) {
        Some((name, _)) => put::json_str(b, name),
        None => b.extend_from_slice(b"null"),
    }
    key(b, "dur_ns");
    match sc.exit_ns.filter(|_| timed) {
        Some(x) => put::u64(b, x.saturating_sub(sc.enter_ns)),
        None => b.extend_from_slice(b"null"),
    }
    key_bool(b, "died_in_call", sc.died_in_call);
    key(b, "data");
    b.push(b'[');
    let spec = table::spec(arch, sc.nr);
    // msghdr arguments carry data first, then the address: only the first
    // capture of such an argument is text-like.
    let mut seen = [false; 6];
    for (n, c) in sc.data.iter().enumerate() {
        if n > 0 {
            b.push(b',');
        }
        let ty = spec.and_then(|s| s.args.get(usize::from(c.arg)).copied());
        let first_of_arg = match seen.get_mut(usize::from(c.arg)) {
            Some(s) => !std::mem::replace(s, true),
            None => false,
        };
        let textual = c.kind == CaptureKind::Str
            || match ty {
                Some(Ty::MsgIn | Ty::MsgOut) => first_of_arg,
                Some(t) => t.is_byte_buffer(),
                None => false,
            };
        capture(b, c, textual);
    }
    b.extend_from_slice(b"]}\n");
}

fn capture(b: &mut Vec<u8>, c: &Capture, textual: bool) {
    b.extend_from_slice(b"{\"arg\":");
    put::u64(b, u64::from(c.arg));
    key(b, "kind");
    b.extend_from_slice(match c.kind {
        CaptureKind::Str => b"\"str\"",
        CaptureKind::InBuf => b"\"in\"",
        CaptureKind::OutBuf => b"\"out\"",
    });
    key_u64(b, "len", c.len);
    key_bool(b, "truncated", c.truncated);
    key_bool(b, "read_failed", c.read_failed);
    key(b, "hex");
    b.push(b'"');
    put::hex_bytes(b, &c.bytes);
    b.push(b'"');
    if textual
        && !c.read_failed
        && let Ok(s) = std::str::from_utf8(&c.bytes)
    {
        key(b, "text");
        put::json_str(b, s);
    }
    b.push(b'}');
}

fn proc(b: &mut Vec<u8>, kind: &str, p: &ProcEvent) {
    b.extend_from_slice(b"{\"type\":");
    put::json_str(b, kind);
    key_u64(b, "ts_ns", p.ts_ns);
    key_u64(b, "pid", u64::from(p.tgid));
    key_u64(b, "tid", u64::from(p.tid));
    key_u64(b, "cpu", u64::from(p.cpu));
    key(b, "comm");
    put::json_str(b, &p.comm);
    match kind {
        "exec" => key_u64(b, "old_tid", u64::from(p.old_tid())),
        "fork" => key_u64(b, "child", u64::from(p.child())),
        _ => {
            key(b, "group_dead");
            b.extend_from_slice(match p.group_dead() {
                GroupDead::No => b"false".as_slice(),
                GroupDead::Yes => b"true",
                GroupDead::Unknown => b"null",
            });
        }
    }
    b.extend_from_slice(b"}\n");
}

fn signal(b: &mut Vec<u8>, s: &SignalEvent) {
    b.extend_from_slice(b"{\"type\":\"signal\"");
    key_u64(b, "ts_ns", s.ts_ns);
    key_u64(b, "pid", u64::from(s.tgid));
    key_u64(b, "tid", u64::from(s.tid));
    key_u64(b, "cpu", u64::from(s.cpu));
    key(b, "comm");
    put::json_str(b, &s.comm);
    key_u64(b, "sig", u64::from(s.sig));
    key(b, "signal");
    let mut name = Vec::new();
    super::consts::signal(&mut name, u64::from(s.sig), true);
    put::json_str(b, &String::from_utf8_lossy(&name));
    key_bool(b, "default_action", s.default_action);
    key_bool(b, "crash", s.is_crash());
    b.extend_from_slice(b"}\n");
}

fn pause(b: &mut Vec<u8>, p: &PauseEvent) {
    b.extend_from_slice(b"{\"type\":\"pause\"");
    key_u64(b, "ts_ns", p.start_ns);
    key_u64(b, "pid", u64::from(p.tgid));
    key_u64(b, "end_ns", p.end_ns);
    key_u64(b, "dur_ns", p.duration_ns());
    key_u64(b, "ring_bytes", p.ring_bytes);
    key(b, "end");
    put::json_str(b, pause_end(p.end));
    b.extend_from_slice(b"}\n");
}

fn who(b: &mut Vec<u8>, w: &WhoEvent) {
    b.extend_from_slice(b"{\"type\":\"who\"");
    key_u64(b, "ts_ns", w.ts_ns);
    key_u64(b, "pid", u64::from(w.tgid));
    key_u64(b, "tid", u64::from(w.tid));
    key(b, "comm");
    put::json_str(b, &w.comm);
    key_u64(b, "uid", u64::from(w.uid));
    key_u64(b, "gid", u64::from(w.gid));
    key(b, "exe");
    put::json_str(b, &w.exe);
    key(b, "source");
    put::json_str(b, who_source(w.source));
    key(b, "cgroup");
    put::json_str(b, &w.cgroup);
    key_u64(b, "cgroup_id", w.cgroup_id);
    key(b, "parents");
    b.push(b'[');
    for (i, p) in w.parents.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        b.extend_from_slice(b"{\"pid\":");
        put::u64(b, u64::from(p.pid));
        key(b, "comm");
        put::json_str(b, &p.comm);
        b.push(b'}');
    }
    b.extend_from_slice(b"]}\n");
}

/// The JSON name of where a who record's facts come from
/// (`WhoEvent::source`).
pub(crate) fn who_source(source: u32) -> &'static str {
    match source {
        WhoEvent::PROC => "proc",
        WhoEvent::EXITING => "exiting",
        WhoEvent::KERNEL => "kernel",
        WhoEvent::GONE => "gone",
        _ => "unknown",
    }
}

/// The JSON name of a pause's end (`PauseEvent::end`).
pub(crate) fn pause_end(end: u32) -> &'static str {
    match end {
        PauseEvent::RESUMED => "resumed",
        PauseEvent::LEFT_STOPPED => "left_stopped",
        PauseEvent::GONE => "gone",
        _ => "unknown",
    }
}

fn counters(b: &mut Vec<u8>, c: &Counters) {
    b.extend_from_slice(b"{\"type\":\"counters\"");
    key_u64(b, "emitted", c.emitted);
    key_u64(b, "ring_full", c.ring_full);
    key_u64(b, "exit_without_entry", c.exit_without_entry);
    key_u64(b, "stash_full", c.stash_full);
    key_u64(b, "died_in_call", c.died_in_call);
    key_u64(b, "read_failed", c.read_failed);
    key_u64(b, "entered", c.entered);
    key_u64(b, "user_dropped", c.user_dropped);
    key_u64(b, "written", c.written);
    key_u64(b, "entry_data", c.entry_data);
    key_u64(b, "entry_data_lost", c.entry_data_lost);
    key_u64(b, "paused", c.paused);
    b.extend_from_slice(b"}\n");
}
