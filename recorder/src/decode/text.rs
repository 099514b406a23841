//! The [`Formatter`]: events to strace-like text lines or JSON Lines.

use crate::event::GroupDead;
use std::io::{self, Write};

use super::consts;
use super::fds::{self, Effect, FdTable};
use super::json;
use super::prctl;
use super::put::{self, StringEscapes};
use super::structs;
use super::sysent;
use super::table::{self, RetFmt, Spec, Ty};
use super::{Arch, errno_name, syscall_name};
use crate::event::{
    Capture, CaptureKind, Counters, Event, Header, ProcEvent, SignalEvent, Syscall,
};

/// Why a log cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("log header names architecture {0:?}; supported: x86_64, aarch64")]
    UnknownArch(String),
}

/// Timestamp at the start of each text line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeMode {
    /// Seconds since the recording started, six decimals (`0.000123`).
    #[default]
    Relative,
    /// Wall-clock time of day in **UTC**, `HH:MM:SS.ffffff` (like strace
    /// `-tt`, but UTC so the output does not depend on the reader's zone).
    WallClock,
    /// Seconds since the same thread's previous event, six decimals (like
    /// strace `-r`, but per thread: that is the time the thread spent
    /// between its calls, plus the previous call's duration).
    SincePrevious,
    /// No timestamp.
    None,
}

/// When to prefix lines with `[pid TGID/TID] `.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShowTid {
    /// When [`Formatter::multi_thread`] is set.
    #[default]
    Auto,
    Always,
    Never,
}

/// What [`Formatter::write_event`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// strace-like text, one line per event.
    #[default]
    Text,
    /// JSON Lines, see `docs/json-output.md`.
    Json,
}

/// Renders the events of one log.
///
/// Built from the log's [`Header`], so names, numbers, flag values and
/// struct layouts are those of the recorded machine. Rendering goes into an
/// internal buffer that is reused from line to line, then to the writer in a
/// single `write_all`; wrap the writer in a `BufWriter`.
#[derive(Debug, Clone)]
pub struct Formatter {
    arch: Arch,
    start_mono_ns: u64,
    realtime_offset_ns: i64,
    /// Data capture was on while recording (`capture_size > 0`): an absent
    /// capture then means "empty" (e.g. an empty argv) rather than "not
    /// captured".
    capture_on: bool,
    /// A lean log (`Header::lean`): no call has a duration, so `-T` shows
    /// none and JSON's `dur_ns` is null.
    lean: bool,
    /// The log is a bundle with captures redacted (`recorder bundle
    /// --redact data` or `argv`): an empty, truncated capture is shown as
    /// redacted.
    data_redacted: bool,
    /// Output format for [`Formatter::write_event`].
    pub format: OutputFormat,
    pub time: TimeMode,
    /// Append the call's duration, ` <0.000012>` (strace `-T`).
    pub show_duration: bool,
    pub show_tid: ShowTid,
    /// The log involves more than one thread (tells [`ShowTid::Auto`] to show
    /// the prefix). The caller knows it from a first pass or the trailer.
    pub multi_thread: bool,
    /// Print [`Event::Counters`] too (by default they are skipped and the
    /// caller prints a final summary).
    pub show_counters: bool,
    /// Longest string or buffer shown in text output, in bytes; longer ones
    /// are cut and end in `...` (strace's `-s`, whose default 32 is ours
    /// too). `usize::MAX` shows everything captured. JSON always has all.
    pub max_str: usize,
    buf: Vec<u8>,
    /// Descriptor names for `-y` (see [`Formatter::decode_fds`]); `None`
    /// when off.
    fds: Option<FdTable>,
    /// [`TimeMode::SincePrevious`]: each thread's previous event time, and
    /// the delta of the event being rendered.
    prev_ns: std::collections::HashMap<u32, u64>,
    delta_ns: u64,
    /// [`Formatter::learn_threads`]: the first thread seen.
    first_tid: Option<u32>,
    /// `-x`/`-xx`.
    escapes: StringEscapes,
    /// `-v`: structs and arrays in full (strace's `-v`).
    verbose: bool,
}

/// The text options `recorder dump` and live output (`recorder --live`)
/// share, so both print the same lines for the same flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    /// `-s`: bytes shown of each string or buffer; 0 shows all captured.
    pub string_limit: usize,
    /// `-t`/`-tt`: UTC wall-clock times.
    pub wall_clock: bool,
    /// `-T`: each call's duration.
    pub durations: bool,
    /// `-y`: descriptor paths.
    pub decode_fds: bool,
    /// `-x`/`-xx`: strings in hex.
    pub escapes: StringEscapes,
    /// `-v`: structs in full (stat, statx, uname) and arrays without the
    /// `-s` limit on their elements, like strace's `-v`. execve's
    /// environment and getdents64's records stay abbreviated: the log
    /// holds only their counts.
    pub verbose: bool,
}

/// A return value in the kernel's error range (`-4095..=-1`).
pub(crate) fn is_err(ret: i64) -> bool {
    (-4095..=-1).contains(&ret)
}

impl Formatter {
    /// A formatter for the log described by `header`, with default options
    /// (text, relative time, durations, automatic pid prefix).
    pub fn new(header: &Header) -> Result<Formatter, DecodeError> {
        let arch = Arch::from_name(&header.arch)
            .ok_or_else(|| DecodeError::UnknownArch(header.arch.clone()))?;
        let mut f = Formatter::for_arch(arch, header.start_mono_ns, header.realtime_offset_ns);
        f.capture_on = header.capture_size > 0;
        f.lean = header.lean;
        f.data_redacted = crate::bundle::captures_redacted(header);
        Ok(f)
    }

    /// A formatter without a header (capture assumed on).
    pub fn for_arch(arch: Arch, start_mono_ns: u64, realtime_offset_ns: i64) -> Formatter {
        Formatter {
            arch,
            start_mono_ns,
            realtime_offset_ns,
            capture_on: true,
            lean: false,
            data_redacted: false,
            format: OutputFormat::Text,
            time: TimeMode::Relative,
            show_duration: true,
            show_tid: ShowTid::Auto,
            multi_thread: false,
            show_counters: false,
            max_str: usize::MAX,
            buf: Vec::with_capacity(1024),
            fds: None,
            prev_ns: std::collections::HashMap::new(),
            delta_ns: 0,
            first_tid: None,
            escapes: StringEscapes::Octal,
            verbose: false,
        }
    }

    /// Sets the options of [`TextOptions`].
    pub fn text_options(&mut self, o: &TextOptions) {
        self.max_str = match o.string_limit {
            0 => usize::MAX,
            n => n,
        };
        if o.wall_clock {
            self.time = TimeMode::WallClock;
        }
        self.show_duration = o.durations;
        self.decode_fds(o.decode_fds);
        self.escapes = o.escapes;
        self.verbose = o.verbose;
    }

    /// For events read once, in order, where whether a second thread comes
    /// cannot be known ahead (a pipe, `dump --follow`, live output): the
    /// `[pid N]` prefix is shown from the first event of a second thread
    /// on, as strace does. Call it for every event, shown or not.
    pub fn learn_threads(&mut self, ev: &Event) {
        if self.multi_thread {
            return;
        }
        match (self.first_tid, ev.tid()) {
            (_, None) => {}
            (None, tid) => self.first_tid = tid,
            (Some(first), Some(tid)) => self.multi_thread = first != tid,
        }
    }

    /// Text output shows the path of descriptors the log saw opened
    /// (`read(3</etc/hosts>, ...)`, strace's `-y`). The names come from
    /// earlier calls, so every event of the log must go through the
    /// formatter in order: [`Formatter::track`] the ones not shown.
    pub fn decode_fds(&mut self, on: bool) {
        self.fds = on.then(FdTable::default);
    }

    /// Updates what the formatter remembers across events (the descriptor
    /// names of [`Formatter::decode_fds`]) for an event that is not shown.
    pub fn track(&mut self, ev: &Event) {
        if let Some(t) = self.fds.as_mut() {
            match ev {
                Event::Syscall(sc) => {
                    let e = t.effect(self.arch, sc);
                    t.apply(sc.tgid, e);
                }
                ev => t.proc_event(ev),
            }
        }
    }

    /// The recorded architecture.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// Writes `ev` in [`Formatter::format`]. Events that are not shown
    /// (counters, unless [`Formatter::show_counters`]) write nothing.
    pub fn write_event(&mut self, out: &mut impl Write, ev: &Event) -> io::Result<()> {
        match self.format {
            OutputFormat::Text => self.write_text(out, ev),
            OutputFormat::Json => self.write_json(out, ev),
        }
    }

    /// Writes `ev` as a text line.
    pub fn write_text(&mut self, out: &mut impl Write, ev: &Event) -> io::Result<()> {
        let line = self.render_text(ev);
        if line.is_empty() {
            Ok(())
        } else {
            out.write_all(line)
        }
    }

    /// Writes `ev` as one JSON object and a newline.
    pub fn write_json(&mut self, out: &mut impl Write, ev: &Event) -> io::Result<()> {
        let line = self.render_json(ev);
        if line.is_empty() {
            Ok(())
        } else {
            out.write_all(line)
        }
    }

    /// `ev` as a text line (with its newline), or empty if not shown. The
    /// slice is valid until the next call.
    pub fn render_text(&mut self, ev: &Event) -> &[u8] {
        // Take the buffer so the rendering code can borrow `self` freely;
        // moving a Vec does not allocate.
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        let _escapes = put::escapes_for_now(self.escapes);
        if let (TimeMode::SincePrevious, Some(tid), Some(ts)) = (self.time, ev.tid(), ev.ts_ns()) {
            let prev = self.prev_ns.insert(tid, ts).unwrap_or(ts);
            self.delta_ns = ts.saturating_sub(prev);
        }
        match ev {
            Event::Syscall(sc) => {
                // Arguments show the names from before the call, the
                // returned descriptor the name the call gives it.
                let effect = self.fds.as_ref().map(|t| t.effect(self.arch, sc));
                self.text_syscall(&mut b, sc, effect.as_ref());
                if let (Some(t), Some(e)) = (self.fds.as_mut(), effect) {
                    t.apply(sc.tgid, e);
                }
            }
            Event::Exec(p) => self.text_proc(&mut b, p, ProcKind::Exec),
            Event::Fork(p) => self.text_proc(&mut b, p, ProcKind::Fork),
            Event::Exit(p) => self.text_proc(&mut b, p, ProcKind::Exit),
            Event::Signal(s) => self.text_signal(&mut b, s),
            Event::Pause(p) => self.text_pause(&mut b, p),
            Event::Who(w) => self.text_who(&mut b, w),
            Event::Counters(c) => {
                if self.show_counters {
                    text_counters(&mut b, c);
                }
            }
        }
        if let (Some(t), Event::Fork(_) | Event::Exit(_)) = (self.fds.as_mut(), ev) {
            t.proc_event(ev);
        }
        self.buf = b;
        &self.buf
    }

    /// `ev` as a JSON line (with its newline), or empty if not shown.
    pub fn render_json(&mut self, ev: &Event) -> &[u8] {
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        json::event(&mut b, self.arch, self.show_counters, !self.lean, ev);
        self.buf = b;
        &self.buf
    }

    fn put_time(&self, b: &mut Vec<u8>, ts_ns: u64) {
        match self.time {
            TimeMode::None => return,
            TimeMode::SincePrevious => put::secs6(b, self.delta_ns),
            TimeMode::Relative => {
                let d = i128::from(ts_ns) - i128::from(self.start_mono_ns);
                if d < 0 {
                    b.push(b'-');
                }
                put::secs6(b, u64::try_from(d.unsigned_abs()).unwrap_or(u64::MAX));
            }
            TimeMode::WallClock => {
                const NS: i128 = 1_000_000_000;
                let t = i128::from(ts_ns) + i128::from(self.realtime_offset_ns);
                let secs = t.div_euclid(NS);
                let us = (t.rem_euclid(NS) / 1000) as u64;
                let tod = secs.rem_euclid(86_400) as u64;
                put::pad(b, tod / 3600, 2);
                b.push(b':');
                put::pad(b, tod / 60 % 60, 2);
                b.push(b':');
                put::pad(b, tod % 60, 2);
                b.push(b'.');
                put::pad(b, us, 6);
            }
        }
        b.push(b' ');
    }

    fn put_tid(&self, b: &mut Vec<u8>, tgid: u32, tid: u32) {
        let show = match self.show_tid {
            ShowTid::Always => true,
            ShowTid::Never => false,
            ShowTid::Auto => self.multi_thread,
        };
        if show {
            b.extend_from_slice(b"[pid ");
            put::u64(b, u64::from(tgid));
            if tid != tgid {
                b.push(b'/');
                put::u64(b, u64::from(tid));
            }
            b.extend_from_slice(b"] ");
        }
    }

    fn text_syscall(&self, b: &mut Vec<u8>, sc: &Syscall, fd_effect: Option<&Effect>) {
        self.put_time(b, sc.enter_ns);
        self.put_tid(b, sc.tgid, sc.tid);
        let spec = table::spec(self.arch, sc.nr);
        match syscall_name(self.arch, sc.nr) {
            Some(name) => b.extend_from_slice(name.as_bytes()),
            None => {
                b.extend_from_slice(b"syscall_");
                put::i64(b, sc.nr);
            }
        }
        b.push(b'(');
        match spec {
            Some(spec) => Call::new(self, sc).args(b, spec),
            None => {
                // No signature: the registers strace's table says the call
                // takes, in hex (the others are not arguments, and the drain
                // recorded them as 0).
                let n = sysent::lookup(self.arch, sc.nr).map_or(6, |s| usize::from(s.nargs));
                for (i, &a) in sc.args.iter().take(n).enumerate() {
                    if i > 0 {
                        b.extend_from_slice(b", ");
                    }
                    put::hex(b, a);
                }
            }
        }
        b.push(b')');
        match sc.ret {
            None if sc.died_in_call => b.extend_from_slice(b" = ? <unfinished: thread exited>"),
            None => b.extend_from_slice(b" = ?"),
            Some(r) if is_err(r) => {
                let e = -r;
                match errno_name(e) {
                    // Kernel-internal restart codes never reach user space:
                    // strace shows them as `= ? ERESTARTSYS (...)`.
                    Some((n, d)) => {
                        b.extend_from_slice(if e >= 512 { b" = ? " } else { b" = -1 " });
                        b.extend_from_slice(n.as_bytes());
                        b.extend_from_slice(b" (");
                        b.extend_from_slice(d.as_bytes());
                        b.push(b')');
                    }
                    None => {
                        b.extend_from_slice(b" = -1 (errno ");
                        put::i64(b, e);
                        b.push(b')');
                    }
                }
            }
            Some(r) => {
                b.extend_from_slice(b" = ");
                match spec.map_or(RetFmt::Dec, |s| s.ret) {
                    RetFmt::Dec => {
                        put::i64(b, r);
                        if let (Some(t), Some(e)) = (&self.fds, fd_effect) {
                            fds::annotate_returned(b, t.returned_name(sc.tgid, e));
                        }
                    }
                    RetFmt::Hex => put::hex(b, r as u64),
                    RetFmt::Oct => put::oct(b, r as u64),
                    RetFmt::Fcntl => fcntl_ret(b, self.arch, sc.args[1] & 0xffff_ffff, r),
                    RetFmt::Prctl => prctl::ret(b, sc.args[0], r),
                    RetFmt::Poll => {
                        put::i64(b, r);
                        self.poll_ret(b, sc, r, spec.is_some_and(|s| s.name == "ppoll"));
                    }
                    RetFmt::Select => {
                        put::i64(b, r);
                        select_ret(b, sc, r, spec.is_some_and(|s| s.name == "select"));
                    }
                }
            }
        }
        if self.show_duration
            && !self.lean
            && let Some(exit) = sc.exit_ns
        {
            b.extend_from_slice(b" <");
            put::secs6(b, exit.saturating_sub(sc.enter_ns));
            b.push(b'>');
        }
        b.push(b'\n');
    }

    /// poll's result as strace's poll.c: ` (Timeout)` for 0, else the
    /// ready descriptors (from the array, read at exit) and, for ppoll,
    /// what is `left` of the timeout (the kernel writes it back).
    fn poll_ret(&self, b: &mut Vec<u8>, sc: &Syscall, r: i64, ppoll: bool) {
        if r == 0 {
            b.extend_from_slice(b" (Timeout)");
            return;
        }
        let mark = b.len();
        b.extend_from_slice(b" (");
        let start = b.len();
        let ok = |c: &&Capture| !c.read_failed && !c.truncated;
        if let Some(c) = sc.data.iter().filter(ok).find(|c| c.arg == 0) {
            let max = if self.verbose {
                usize::MAX
            } else {
                self.max_str
            };
            structs::poll_revents(b, &c.bytes, sc.args[1] & 0xffff_ffff, max);
        }
        if ppoll && let Some(c) = sc.data.iter().filter(ok).find(|c| c.arg == 2) {
            b.extend_from_slice(if b.len() == start {
                b"left "
            } else {
                b", left "
            });
            if !structs::timespec(b, &c.bytes, false) {
                b.truncate(mark);
                return;
            }
        }
        if b.len() == start {
            b.truncate(mark);
        } else {
            b.push(b')');
        }
    }

    /// `--- SIGSEGV (no handler: the process dies) ---`, strace style.
    fn text_signal(&self, b: &mut Vec<u8>, s: &SignalEvent) {
        self.put_time(b, s.ts_ns);
        self.put_tid(b, s.tgid, s.tid);
        b.extend_from_slice(b"--- ");
        consts::signal(b, u64::from(s.sig), true);
        if s.is_crash() {
            b.extend_from_slice(b" (no handler: the process dies)");
        }
        b.extend_from_slice(b" ---\n");
    }

    /// `+++ paused 0.012345 s (recorder catching up: 4194304 bytes waiting) +++`
    fn text_pause(&self, b: &mut Vec<u8>, p: &crate::event::PauseEvent) {
        use crate::event::PauseEvent;
        self.put_time(b, p.start_ns);
        self.put_tid(b, p.tgid, p.tgid);
        let d = p.duration_ns();
        b.extend_from_slice(
            format!(
                "+++ paused {}.{:06} s (recorder catching up: {} bytes waiting)",
                d / 1_000_000_000,
                d % 1_000_000_000 / 1000,
                p.ring_bytes
            )
            .as_bytes(),
        );
        b.extend_from_slice(match p.end {
            PauseEvent::RESUMED => b"".as_slice(),
            PauseEvent::LEFT_STOPPED => b", left stopped: stopped by someone else meanwhile",
            _ => b", process gone",
        });
        b.extend_from_slice(b" +++\n");
    }

    /// `+++ who pid 42 (rm): exe /usr/bin/rm, uid 0, ... +++`: what
    /// `recorder watch` printed under the process's calls.
    fn text_who(&self, b: &mut Vec<u8>, w: &crate::event::WhoEvent) {
        self.put_time(b, w.ts_ns);
        self.put_tid(b, w.tgid, w.tid);
        b.extend_from_slice(b"+++ who pid ");
        put::u64(b, u64::from(w.tgid));
        if w.tid != w.tgid {
            b.push(b'/');
            put::u64(b, u64::from(w.tid));
        }
        b.extend_from_slice(b" (");
        put::escaped(b, w.comm.as_bytes());
        b.extend_from_slice(b"): ");
        put::escaped(b, w.text().as_bytes());
        b.extend_from_slice(b" +++\n");
    }

    fn text_proc(&self, b: &mut Vec<u8>, p: &ProcEvent, kind: ProcKind) {
        self.put_time(b, p.ts_ns);
        self.put_tid(b, p.tgid, p.tid);
        match kind {
            ProcKind::Exec => {
                b.extend_from_slice(b"+++ exec comm=");
                put::escaped(b, p.comm.as_bytes());
                if let Some(old) = p.exec_by_other_thread() {
                    b.extend_from_slice(b" old_tid=");
                    put::u64(b, u64::from(old));
                }
            }
            ProcKind::Fork => {
                b.extend_from_slice(b"+++ fork child ");
                put::u64(b, u64::from(p.child()));
            }
            ProcKind::Exit => {
                b.extend_from_slice(match p.group_dead() {
                    GroupDead::Yes => b"+++ exited (process)".as_slice(),
                    GroupDead::No => b"+++ exited (thread)",
                    GroupDead::Unknown => b"+++ exited",
                });
            }
        }
        b.extend_from_slice(b" +++\n");
    }
}

#[derive(Clone, Copy)]
enum ProcKind {
    Exec,
    Fork,
    Exit,
}

fn text_counters(b: &mut Vec<u8>, c: &Counters) {
    let fields: [(&str, u64); 9] = [
        ("emitted", c.emitted),
        ("ring_full", c.ring_full),
        ("exit_without_entry", c.exit_without_entry),
        ("stash_full", c.stash_full),
        ("died_in_call", c.died_in_call),
        ("read_failed", c.read_failed),
        ("entered", c.entered),
        ("user_dropped", c.user_dropped),
        ("written", c.written),
    ];
    b.extend_from_slice(b"--- counters");
    for (name, v) in fields {
        b.push(b' ');
        b.extend_from_slice(name.as_bytes());
        b.push(b'=');
        put::u64(b, v);
    }
    b.extend_from_slice(b" ---\n");
}

/// One syscall being rendered: the pieces every argument renderer needs.
struct Call<'a> {
    arch: Arch,
    capture_on: bool,
    data_redacted: bool,
    max_str: usize,
    /// Elements shown of an array: `-s`, or all of them with `-v`.
    max_elems: usize,
    verbose: bool,
    sc: &'a Syscall,
    fds: Option<&'a FdTable>,
}

impl<'a> Call<'a> {
    fn new(f: &'a Formatter, sc: &'a Syscall) -> Call<'a> {
        Call {
            arch: f.arch,
            capture_on: f.capture_on,
            data_redacted: f.data_redacted,
            max_str: f.max_str,
            max_elems: if f.verbose { usize::MAX } else { f.max_str },
            verbose: f.verbose,
            fds: f.fds.as_ref(),
            sc,
        }
    }

    /// `<path>` after a descriptor whose name is known (`-y`).
    fn fd_name(&self, b: &mut Vec<u8>, fd: i64) {
        if let Some(t) = self.fds {
            t.annotate(b, self.sc.tgid, fd);
        }
    }

    /// A quoted string or buffer, cut at `max_str`.
    fn quoted(&self, b: &mut Vec<u8>, bytes: &[u8], truncated: bool) {
        match bytes.get(..self.max_str) {
            Some(head) if head.len() < bytes.len() => put::quoted(b, head, true),
            _ => put::quoted(b, bytes, truncated),
        }
    }

    /// Output buffers hold data only when the call succeeded.
    fn succeeded(&self) -> bool {
        self.sc.ret.is_some_and(|r| !is_err(r))
    }

    fn captures(&self, i: usize) -> impl Iterator<Item = &'a Capture> + use<'a> {
        let sc = self.sc;
        sc.data.iter().filter(move |c| usize::from(c.arg) == i)
    }

    fn capture(&self, i: usize) -> Option<&'a Capture> {
        self.captures(i).next()
    }

    /// How many of the row's arguments strace would show for this call.
    fn nargs(&self, spec: &Spec) -> usize {
        let n = spec.args.len();
        let a1 = self.sc.args[1] & 0xffff_ffff; // op and cmd are `int`s
        match spec.args.get(1) {
            Some(Ty::FutexOp) => n.min(consts::futex_nargs(a1)),
            Some(Ty::FcntlCmd) if !consts::fcntl_has_arg(a1) => n.min(2),
            // mremap's new_address only with MREMAP_MAYMOVE and MREMAP_FIXED
            // or MREMAP_DONTUNMAP (strace's mem.c).
            _ if spec.name == "mremap" => {
                let flags = self.sc.args[3];
                if flags & 1 != 0 && flags & 6 != 0 {
                    n
                } else {
                    n.min(4)
                }
            }
            _ => n,
        }
    }

    fn args(&self, b: &mut Vec<u8>, spec: &Spec) {
        match spec.args {
            [Ty::CloneFlags, ..] => return self.clone_args(b, spec),
            [_, Ty::FutexOp, ..] => return self.futex_args(b),
            // PR_SET_NAME and PR_GET_NAME: the name (strace's prctl.c);
            // the other options' arguments are numbers (prctl.rs).
            [Ty::Enum(names), Ty::PrctlArg, ..] if matches!(self.sc.args[0], 15 | 16) => {
                consts::int_enum(b, self.sc.args[0], names);
                b.extend_from_slice(b", ");
                let name = |b: &mut Vec<u8>, c: &Capture| {
                    let s = put::until_nul(&c.bytes);
                    self.quoted(b, s, c.truncated && s.len() == c.bytes.len());
                    true
                };
                return if self.sc.args[0] == 15 {
                    self.input(b, 1, name)
                } else {
                    self.output(b, 1, name)
                };
            }
            [Ty::Enum(_), Ty::PrctlArg, ..] => return prctl::args(b, &self.sc.args),
            _ => {}
        }
        let mut first = true;
        for (i, &ty) in spec.args.iter().enumerate().take(self.nargs(spec).min(6)) {
            match ty {
                Ty::Hidden => continue,
                Ty::SigreturnMask if self.capture(i).is_none() => continue,
                Ty::OpenMode => {
                    let flags = i.checked_sub(1).map_or(0, |j| self.sc.args[j]);
                    if flags & (consts::O_CREAT | consts::O_TMPFILE_ANY) == 0 {
                        continue;
                    }
                }
                // strace's mknod.c: the device only for device files.
                Ty::MknodDev => {
                    let mode = i.checked_sub(1).map_or(0, |j| self.sc.args[j]);
                    let kind = mode & u64::from(libc::S_IFMT);
                    if kind != u64::from(libc::S_IFCHR) && kind != u64::from(libc::S_IFBLK) {
                        continue;
                    }
                }
                _ => {}
            }
            if !first {
                b.extend_from_slice(b", ");
            }
            first = false;
            self.arg(b, i, ty);
        }
    }

    fn arg(&self, b: &mut Vec<u8>, i: usize, ty: Ty) {
        let v = self.sc.args[i];
        let int = i64::from(v as u32 as i32);
        let arch = self.arch;
        match ty {
            Ty::Int => put::i64(b, int),
            Ty::Fd => {
                put::i64(b, int);
                self.fd_name(b, int);
            }
            Ty::Long => put::i64(b, v as i64),
            Ty::Uint => put::u64(b, v),
            Ty::Hex => put::hex(b, v),
            Ty::Ptr => put::ptr(b, v),
            Ty::Hidden => {}
            Ty::DirFd => {
                if int == i64::from(libc::AT_FDCWD) {
                    b.extend_from_slice(b"AT_FDCWD");
                } else {
                    put::i64(b, int);
                    self.fd_name(b, int);
                }
            }
            Ty::Mode | Ty::OpenMode => put::oct(b, v & 0xffff_ffff),
            Ty::Path => self.input(b, i, |b, c| {
                self.quoted(b, &c.bytes, c.truncated);
                true
            }),
            Ty::Argv => self.argv(b, i),
            Ty::Envp => self.envp(b, i),
            Ty::InBuf(_) | Ty::IovIn(_) => self.input(b, i, |b, c| {
                self.quoted(b, &c.bytes, c.truncated);
                true
            }),
            Ty::OutBuf(_) | Ty::IovOut(_) => self.output(b, i, |b, c| {
                self.quoted(b, &c.bytes, c.truncated);
                true
            }),
            Ty::OutStr(_) => self.output(b, i, |b, c| {
                let s = put::until_nul(&c.bytes);
                self.quoted(b, s, c.truncated && s.len() == c.bytes.len());
                true
            }),
            Ty::OutHex(_) => self.output(b, i, |b, c| {
                let shown = c.bytes.get(..self.max_str).unwrap_or(&c.bytes);
                b.push(b'"');
                put::escaped_hex(b, shown);
                b.push(b'"');
                if c.truncated || shown.len() < c.bytes.len() {
                    b.extend_from_slice(b"...");
                }
                true
            }),
            Ty::Dirents => match self.capture(i) {
                Some(c) if self.succeeded() && c.bytes.is_empty() && !c.read_failed => {
                    put::ptr(b, v);
                    b.extend_from_slice(b" /* ");
                    put::u64(b, c.len);
                    b.extend_from_slice(if c.truncated {
                        b"+ entries */"
                    } else {
                        b" entries */"
                    });
                }
                _ => put::ptr(b, v),
            },
            Ty::Groups => match self.sc.ret {
                Some(0) if v != 0 => b.extend_from_slice(b"[]"),
                _ => self.output(b, i, |b, c| structs::gid_list(b, &c.bytes, self.max_elems)),
            },
            // strace prints `[]` for a count of 0 whatever the pointer.
            Ty::GroupsIn if self.sc.args[0] as u32 == 0 && v != 0 => b.extend_from_slice(b"[]"),
            Ty::GroupsIn => self.input(b, i, |b, c| structs::gid_list(b, &c.bytes, self.max_elems)),
            Ty::StatxFlags => consts::statx_flags(b, v & 0xffff_ffff),
            Ty::MsgIn => self.msghdr(b, i, false),
            Ty::MsgOut => self.msghdr(b, i, true),
            Ty::SockaddrIn(_) => self.input(b, i, |b, c| structs::sockaddr(b, &c.bytes)),
            Ty::SockaddrOut(_) => self.output(b, i, |b, c| structs::sockaddr(b, &c.bytes)),
            Ty::LenPtr(j) => self.value_result_len(b, i, usize::from(j)),
            Ty::Stat => self.output(b, i, |b, c| structs::stat(b, arch, &c.bytes, self.verbose)),
            Ty::Statx => self.output(b, i, |b, c| structs::statx(b, &c.bytes, self.verbose)),
            Ty::TimespecIn => self.input(b, i, |b, c| structs::timespec(b, &c.bytes, false)),
            Ty::TimespecOut => self.output(b, i, |b, c| structs::timespec(b, &c.bytes, false)),
            Ty::TimevalOut => self.output(b, i, |b, c| structs::timespec(b, &c.bytes, true)),
            Ty::Utsname => self.output(b, i, |b, c| structs::utsname(b, &c.bytes, self.verbose)),
            Ty::RlimIn => self.input(b, i, |b, c| structs::rlimit(b, &c.bytes)),
            Ty::RlimOut => self.output(b, i, |b, c| structs::rlimit(b, &c.bytes)),
            Ty::Sysinfo => self.output(b, i, |b, c| structs::sysinfo(b, &c.bytes)),
            Ty::Statfs => self.output(b, i, |b, c| structs::statfs(b, &c.bytes)),
            Ty::StackIn => self.input(b, i, |b, c| structs::stack_t(b, &c.bytes)),
            Ty::StackOut => self.output(b, i, |b, c| structs::stack_t(b, &c.bytes)),
            Ty::CpuSetIn => self.input(b, i, |b, c| structs::cpu_set(b, &c.bytes)),
            // As asked, as strace shows it; lean mode has only the header
            // as the call left it.
            Ty::CapHeader if self.captures(i).any(|c| c.kind == CaptureKind::InBuf) => {
                self.asked(b, i, |b, c| structs::cap_header(b, &c.bytes))
            }
            Ty::CapHeader => self.output(b, i, |b, c| structs::cap_header(b, &c.bytes)),
            Ty::CapHeaderIn => self.input(b, i, |b, c| structs::cap_header(b, &c.bytes)),
            Ty::CapDataOut => self.cap_data(b, i, true),
            Ty::CapDataIn => self.cap_data(b, i, false),
            Ty::CpuSetOut => self.output(b, i, |b, c| structs::cpu_set(b, &c.bytes)),
            Ty::IntPair => self.output(b, i, |b, c| structs::int_pair(b, &c.bytes)),
            Ty::WaitStatus => {
                // wait4 returning 0 (WNOHANG, nothing to reap) leaves the
                // status untouched: whatever was captured is stale.
                if self.sc.ret == Some(0) {
                    put::ptr(b, v);
                } else {
                    self.output(b, i, |b, c| structs::wait_status(b, &c.bytes));
                }
            }
            Ty::SigactionIn => self.input(b, i, |b, c| structs::sigaction(b, &c.bytes)),
            Ty::SigactionOut => self.output(b, i, |b, c| structs::sigaction(b, &c.bytes)),
            Ty::SigsetIn => self.input(b, i, |b, c| structs::sigset(b, &c.bytes)),
            Ty::SigsetOut => self.output(b, i, |b, c| structs::sigset(b, &c.bytes)),
            Ty::OpenHow(_) => self.input(b, i, |b, c| structs::open_how(b, arch, &c.bytes)),
            Ty::CloneArgs(_) => self.input(b, i, |b, c| {
                structs::clone_args(b, &c.bytes) && {
                    self.clone3_result(b, &c.bytes);
                    true
                }
            }),
            Ty::IntOut(names) => self.output(b, i, |b, c| int_ref(b, &c.bytes, names)),
            Ty::IntIn(names) => self.input(b, i, |b, c| int_ref(b, &c.bytes, names)),
            Ty::NodeMaskIn(m) => self.input(b, i, |b, c| self.nodemask(b, c, m)),
            Ty::NodeMaskOut(m) => self.output(b, i, |b, c| self.nodemask(b, c, m)),
            Ty::MpolMode => consts::mpol_mode(b, v & 0xffff_ffff),
            Ty::PrctlArg => put::hex(b, v),
            Ty::EpollEvents => {
                let n = self.sc.ret.unwrap_or(0).max(0) as u64;
                self.output(b, i, |b, c| {
                    structs::epoll_events(b, arch, &c.bytes, n, self.max_elems)
                })
            }
            // EPOLL_CTL_DEL (2) takes no event.
            Ty::MmsgOut => put::ptr(b, v),
            Ty::EpollEventIn if self.sc.args[1] & 0xffff_ffff == 2 => put::ptr(b, v),
            Ty::EpollEventIn => self.input(b, i, |b, c| structs::epoll_event_in(b, arch, &c.bytes)),
            // What was asked is the entry's item (lean logs have none: the
            // pointer is shown).
            Ty::FdSet => self.asked(b, i, |b, c| structs::fd_set(b, &c.bytes, self.sc.args[0])),
            Ty::SelTimespec => {
                let usec = self.arch == Arch::X86_64 && self.is_select();
                self.asked(b, i, |b, c| structs::timespec(b, &c.bytes, usec))
            }
            Ty::PollFds(n) => self.input(b, i, |b, c| {
                structs::pollfd_array(
                    b,
                    &c.bytes,
                    self.sc.args[usize::from(n)] & 0xffff_ffff,
                    self.max_elems,
                )
            }),
            Ty::XattrList(size) if self.sc.args[usize::from(size)] == 0 => put::ptr(b, v),
            Ty::XattrList(_) => self.output(b, i, |b, c| {
                self.quoted(b, &c.bytes, c.truncated);
                true
            }),
            Ty::ParentTid => self.output(b, i, |b, c| int_ref(b, &c.bytes, &[])),
            Ty::Utimens => self.input(b, i, |b, c| structs::utimens(b, &c.bytes)),
            Ty::MknodMode => consts::st_mode(b, v & 0xffff_ffff),
            Ty::MknodDev => structs::makedev(b, v),
            // Flag arguments are `int`s: the kernel ignores the upper half.
            Ty::Flags(names) => consts::flags(b, v & 0xffff_ffff, names),
            Ty::Enum(names) => consts::int_enum(b, v, names),
            Ty::OpenFlags => consts::open_flags(b, arch, v & 0xffff_ffff),
            Ty::FdFlags => consts::flags(b, v & 0xffff_ffff, consts::open_flag_names(arch)),
            Ty::MmapProt => consts::flags(b, v, consts::prot_names(arch)),
            Ty::MmapFlags => consts::mmap_flags(b, arch, v),
            Ty::SockType => consts::sock_type(b, v),
            Ty::SockProto => match self.sc.args[0] & 0xffff_ffff {
                consts::AF_INET | consts::AF_INET6 => consts::int_enum(b, v, consts::IP_PROTOCOLS),
                consts::AF_NETLINK => consts::int_enum(b, v, consts::NETLINK_PROTOCOLS),
                _ => put::i64(b, int),
            },
            Ty::Signal => consts::signal(b, v & 0xffff_ffff, true),
            Ty::CloneFlags => consts::clone_flags(b, v),
            Ty::FcntlCmd => consts::int_enum(b, v, consts::FCNTL_CMDS),
            Ty::FcntlArg => self.fcntl_arg(b, v),
            Ty::FutexOp => consts::futex_op(b, v),
            // Shown by futex_args, which knows whether it is a timeout.
            Ty::FutexTimeout => put::ptr(b, v),
            Ty::SigreturnMask => {
                // Not a register: the capture alone says what was there.
                b.extend_from_slice(b"{mask=");
                if let Some(c) = self.capture(i) {
                    show_capture(b, v, c, |b, c| structs::sigset(b, &c.bytes));
                }
                b.push(b'}');
            }
            Ty::SockLevel => consts::int_enum(b, v, consts::SOCKOPT_LEVELS),
            Ty::SockOptName => {
                let names = match self.sc.args[1] & 0xffff_ffff {
                    consts::SOL_SOCKET => consts::SOCKET_OPTIONS,
                    consts::SOL_TCP => consts::TCP_OPTIONS,
                    consts::SOL_IPV6 => consts::IPV6_OPTIONS,
                    _ => &[],
                };
                consts::int_enum(b, v, names);
            }
            Ty::SockOptIn => self.input(b, i, sockopt_value),
            Ty::SockOptOut => self.output(b, i, sockopt_value),
            Ty::IoctlArg if self.sc.args[1] & 0xffff_ffff == consts::FICLONE => {
                put::i64(b, int);
                self.fd_name(b, int);
            }
            // The outputs captured (recorder_common::ioctl_out_size) that
            // strace shows as a value: an int (FIONREAD, TIOCOUTQ,
            // TIOCGPGRP, TIOCGSID) and struct winsize (TIOCGWINSZ).
            Ty::IoctlArg => match self.sc.args[1] & 0xffff_ffff {
                0x540f | 0x5411 | 0x541b | 0x5429 => {
                    self.output(b, i, |b, c| int_ref(b, &c.bytes, &[]))
                }
                0x5413 => self.output(b, i, |b, c| structs::winsize(b, &c.bytes)),
                _ => put::hex(b, v),
            },
            Ty::IoctlReq => match consts::name_of(v & 0xffff_ffff, consts::IOCTLS) {
                Some(n) => b.extend_from_slice(n.as_bytes()),
                None => put::hex(b, v & 0xffff_ffff),
            },
        }
    }

    /// A node mask as strace's numa.c print_nodemask: as many `unsigned
    /// long`s as `maxnode` (argument `m`) bits need, each as C's `%#0*lx`
    /// with the width of 16 digits (`0x00000000000001`, zero as 16 `0`s),
    /// at most `-s` of them. False (the pointer is shown) when the capture
    /// holds fewer than the mask has.
    fn nodemask(&self, b: &mut Vec<u8>, c: &Capture, m: u8) -> bool {
        let maxnode = self.sc.args[usize::from(m)];
        let n = usize::try_from(maxnode.saturating_add(62) / 64).unwrap_or(usize::MAX);
        if n == 0 || c.bytes.len() / 8 < n {
            return false;
        }
        b.push(b'[');
        for (k, word) in c
            .bytes
            .chunks_exact(8)
            .take(n.min(self.max_elems))
            .enumerate()
        {
            if k > 0 {
                b.extend_from_slice(b", ");
            }
            let v = u64::from_le_bytes(word.try_into().expect("chunks of 8"));
            let digits = format!("{v:x}");
            if v == 0 {
                b.extend_from_slice(b"0000000000000000");
            } else {
                b.extend_from_slice(b"0x");
                b.extend(std::iter::repeat_n(
                    b'0',
                    14usize.saturating_sub(digits.len()),
                ));
                b.extend_from_slice(digits.as_bytes());
            }
        }
        if n > self.max_elems {
            b.extend_from_slice(b", ...");
        }
        b.push(b']');
        true
    }

    /// A `socklen_t *` as strace's net.c shows it: `[128 => 16]`, the
    /// value offered (read at entry) and the one returned (the length of
    /// the buffer in argument `buf`'s capture), `[16]` when they are the
    /// same or only one is known (a failed call: the value offered).
    fn value_result_len(&self, b: &mut Vec<u8>, i: usize, buf: usize) {
        let v = self.sc.args[i];
        let offered = self
            .capture(i)
            .and_then(|c| put::le_u32(&c.bytes, 0))
            .map(u64::from);
        let returned = self
            .capture(buf)
            .filter(|c| self.succeeded() && !c.read_failed)
            .map(|c| c.len);
        let (first, then) = match (offered, returned) {
            _ if v == 0 => return put::ptr(b, v),
            (Some(u), Some(r)) if u != r => (u, Some(r)),
            (Some(u), _) => (u, None),
            (None, Some(r)) => (r, None),
            (None, None) => return put::ptr(b, v),
        };
        b.push(b'[');
        put::u64(b, first);
        if let Some(r) = then {
            b.extend_from_slice(b" => ");
            put::u64(b, r);
        }
        b.push(b']');
    }

    /// What clone3 stored, as strace shows it after the struct:
    /// ` => {parent_tid=[1234]}`. With CLONE_PARENT_SETTID the kernel
    /// stores the child's tid there, which is what the parent got back,
    /// so no memory needs reading. (CLONE_PIDFD's descriptor is not
    /// captured: nothing is shown then.)
    fn clone3_result(&self, b: &mut Vec<u8>, bytes: &[u8]) {
        let flags = put::le_u64(bytes, 0).unwrap_or(0);
        let set_tid = flags & consts::CLONE_PARENT_SETTID != 0;
        match self.sc.ret {
            Some(tid) if tid > 0 && set_tid && flags & consts::CLONE_PIDFD == 0 => {
                b.extend_from_slice(b" => {parent_tid=[");
                put::i64(b, tid);
                b.extend_from_slice(b"]}");
            }
            _ => {}
        }
    }

    /// clone as strace's clone.c shows it: named arguments, and only the
    /// pointers the flags make the kernel use. The row says where the tls
    /// (`Hex`) and child tid (`Ptr`) are: their order differs on arm64.
    fn clone_args(&self, b: &mut Vec<u8>, spec: &Spec) {
        let a = &self.sc.args;
        let flags = a[0] & !0xff;
        let tls = spec.args.iter().rposition(|t| matches!(t, Ty::Hex));
        let ctid = (3..spec.args.len()).find(|&i| Some(i) != tls);
        b.extend_from_slice(b"child_stack=");
        put::ptr(b, a[1]);
        b.extend_from_slice(b", flags=");
        consts::clone_flags(b, a[0]);
        if flags & (consts::CLONE_PARENT_SETTID | consts::CLONE_PIDFD) != 0 {
            // strace reads it back after the call: `[1234]`.
            b.extend_from_slice(b", parent_tid=");
            self.arg(b, 2, Ty::ParentTid);
        }
        if let Some(i) = tls.filter(|_| flags & consts::CLONE_SETTLS != 0) {
            b.extend_from_slice(b", tls=");
            put::ptr(b, a[i]);
        }
        if let Some(i) = ctid.filter(|_| flags & consts::CLONE_CHILD_TID != 0) {
            b.extend_from_slice(b", child_tidptr=");
            put::ptr(b, a[i]);
        }
    }

    /// futex as strace's futex.c shows it: only the arguments the
    /// operation uses, the timeout as a struct, the bitset by name.
    fn futex_args(&self, b: &mut Vec<u8>) {
        let a = &self.sc.args;
        let val = |b: &mut Vec<u8>, i: usize| put::u64(b, a[i] & 0xffff_ffff);
        put::ptr(b, a[0]);
        b.extend_from_slice(b", ");
        consts::futex_op(b, a[1]);
        // The fields after uaddr and op, per command (`op & 127`).
        let fields: &[u8] = match a[1] & 127 {
            0 => b"vt",     // WAIT: val, timeout
            6 | 13 => b"t", // LOCK_PI, LOCK_PI2
            9 => b"vtB",    // WAIT_BITSET: + val3 as a bitset
            10 => b"vB",    // WAKE_BITSET
            3 => b"v2a",    // REQUEUE: val, val2, uaddr2
            4 | 12 => b"v2au",
            11 => b"vta", // WAIT_REQUEUE_PI
            1 | 2 => b"v",
            7 | 8 => b"",
            _ => b"vtax", // WAKE_OP and unknown: everything, val3 in hex
        };
        for f in fields {
            b.extend_from_slice(b", ");
            match f {
                b'v' => val(b, 2),
                b'2' => val(b, 3),
                b't' => self.input(b, 3, |b, c| structs::timespec(b, &c.bytes, false)),
                b'a' => put::ptr(b, a[4]),
                b'u' => val(b, 5),
                b'B' if a[5] & 0xffff_ffff == 0xffff_ffff => {
                    b.extend_from_slice(b"FUTEX_BITSET_MATCH_ANY");
                }
                _ => put::hex(b, a[5] & 0xffff_ffff),
            }
        }
    }

    fn fcntl_arg(&self, b: &mut Vec<u8>, v: u64) {
        let cmd = self.sc.args[1] & 0xffff_ffff;
        match cmd {
            consts::F_SETFD => consts::flags(b, v, consts::FD_FLAGS),
            consts::F_SETFL => consts::open_flags(b, self.arch, v & 0xffff_ffff),
            consts::F_SETSIG => consts::signal(b, v & 0xffff_ffff, true),
            consts::F_SETLEASE => consts::int_enum(b, v, consts::LEASE_TYPES),
            consts::F_ADD_SEALS => consts::flags(b, v, consts::SEAL_FLAGS),
            c if consts::fcntl_int_arg(c) => put::i64(b, i64::from(v as u32 as i32)),
            _ => put::ptr(b, v),
        }
    }

    /// An input item: the capture rendered by `render`, else the pointer.
    fn input(
        &self,
        b: &mut Vec<u8>,
        i: usize,
        render: impl FnOnce(&mut Vec<u8>, &Capture) -> bool,
    ) {
        let v = self.sc.args[i];
        if v == 0 {
            b.extend_from_slice(b"NULL");
            return;
        }
        match self.capture(i) {
            None => put::hex(b, v),
            // Its bytes were dropped (their length is kept in `c.len`).
            Some(c) if self.data_redacted && c.bytes.is_empty() && c.truncated => {
                put::hex(b, v);
                b.extend_from_slice(b" /* redacted */");
            }
            Some(c) => show_capture(b, v, c, render),
        }
    }

    /// An argument that the call both reads and writes back (select's
    /// sets): what it held on entry, the `InBuf` item read then.
    fn asked(
        &self,
        b: &mut Vec<u8>,
        i: usize,
        render: impl FnOnce(&mut Vec<u8>, &Capture) -> bool,
    ) {
        let v = self.sc.args[i];
        if v == 0 {
            return b.extend_from_slice(b"NULL");
        }
        match self.captures(i).find(|c| c.kind == CaptureKind::InBuf) {
            None => put::hex(b, v),
            Some(c) if self.data_redacted && c.bytes.is_empty() && c.truncated => {
                put::hex(b, v);
                b.extend_from_slice(b" /* redacted */");
            }
            Some(c) => show_capture(b, v, c, render),
        }
    }

    /// Whether the call is select (its timeout is a `timeval`).
    fn is_select(&self) -> bool {
        syscall_name(self.arch, self.sc.nr) == Some("select")
    }

    /// An output item: only meaningful when the call succeeded.
    fn output(
        &self,
        b: &mut Vec<u8>,
        i: usize,
        render: impl FnOnce(&mut Vec<u8>, &Capture) -> bool,
    ) {
        if self.succeeded() {
            self.input(b, i, render);
        } else {
            put::ptr(b, self.sc.args[i]);
        }
    }

    /// capget's (`out`) or capset's data: as many structs as the header's
    /// version says, the header as capget left it (strace reads it again
    /// at exit to decide the same) or as capset was given it; without a
    /// header, the pointer.
    fn cap_data(&self, b: &mut Vec<u8>, i: usize, out: bool) {
        let header = |kind| {
            self.captures(0)
                .find(|c| c.kind == kind && !c.read_failed && !c.bytes.is_empty())
        };
        let Some(h) = header(if out {
            CaptureKind::OutBuf
        } else {
            CaptureKind::InBuf
        }) else {
            return put::ptr(b, self.sc.args[i]);
        };
        let n = structs::cap_data_count(&h.bytes);
        let render = |b: &mut Vec<u8>, c: &Capture| structs::cap_data(b, &c.bytes, n);
        if out {
            self.output(b, i, render);
        } else {
            self.input(b, i, render);
        }
    }

    /// `["ls", "-l"]`; `...` marks elements left out.
    fn argv(&self, b: &mut Vec<u8>, i: usize) {
        let v = self.sc.args[i];
        if v == 0 {
            b.extend_from_slice(b"NULL");
            return;
        }
        let mut items = self.captures(i).peekable();
        match items.peek() {
            None if !self.capture_on => return put::hex(b, v),
            Some(c) if c.read_failed && self.captures(i).count() == 1 => {
                return failed(b, v);
            }
            _ => {}
        }
        b.push(b'[');
        for (n, c) in items.enumerate() {
            if n > 0 {
                b.extend_from_slice(b", ");
            }
            if c.kind != CaptureKind::Str {
                b.extend_from_slice(b"...");
            } else if c.read_failed {
                b.extend_from_slice(b"/* read failed */");
            } else if self.data_redacted && c.bytes.is_empty() && c.truncated {
                b.extend_from_slice(b"/* redacted */");
            } else {
                self.quoted(b, &c.bytes, c.truncated);
            }
        }
        b.push(b']');
    }

    /// `0x7ffd... /* 12 vars */` (strace's default: the environment is long
    /// and rarely interesting; JSON output has all of it).
    fn envp(&self, b: &mut Vec<u8>, i: usize) {
        let v = self.sc.args[i];
        if v == 0 {
            b.extend_from_slice(b"NULL");
            return;
        }
        let mut strings = 0u64;
        let mut left_out = None;
        let mut failures = 0u64;
        for c in self.captures(i) {
            if c.kind == CaptureKind::Str {
                strings += 1;
                failures += u64::from(c.read_failed);
            } else {
                left_out = Some(c.len);
            }
        }
        if strings == 0 && left_out.is_none() && !self.capture_on {
            return put::hex(b, v);
        }
        if strings == 1 && failures == 1 && left_out.is_none() {
            return failed(b, v);
        }
        put::hex(b, v);
        b.extend_from_slice(b" /* ");
        // Recorders since issue 14 count the variables without reading
        // them: a marker alone, `len` the count.
        let total = strings.saturating_add(left_out.unwrap_or(0));
        put::u64(b, total);
        if left_out == Some(0) {
            b.push(b'+');
        }
        b.extend_from_slice(if total == 1 && left_out != Some(0) {
            b" var */"
        } else {
            b" vars */"
        });
    }

    /// `{msg_name={AF_INET, 1.2.3.4:53}, data="..."}`: the kernel side
    /// captures the iovec data first, then the address if there is one.
    fn msghdr(&self, b: &mut Vec<u8>, i: usize, out: bool) {
        let v = self.sc.args[i];
        if v == 0 || (out && !self.succeeded()) {
            return put::ptr(b, v);
        }
        let mut items = self.captures(i);
        let (Some(data), name) = (items.next(), items.next()) else {
            return put::hex(b, v);
        };
        if data.read_failed && name.is_none() {
            return failed(b, v);
        }
        b.push(b'{');
        if let Some(n) = name {
            b.extend_from_slice(b"msg_name=");
            if n.read_failed {
                b.extend_from_slice(b"/* read failed */");
            } else if !structs::sockaddr(b, &n.bytes) {
                self.quoted(b, &n.bytes, n.truncated);
            }
            b.extend_from_slice(b", ");
        }
        b.extend_from_slice(b"data=");
        if data.read_failed {
            b.extend_from_slice(b"/* read failed */");
        } else {
            self.quoted(b, &data.bytes, data.truncated);
        }
        b.push(b'}');
    }
}

/// fcntl's result, as strace's fcntl.c shows it: F_GETFD's and F_GETFL's
/// in hex with their flags named (F_GETFD's 0 plainly), others in decimal.
fn fcntl_ret(b: &mut Vec<u8>, arch: Arch, cmd: u64, r: i64) {
    const F_GETFD: u64 = libc::F_GETFD as u64;
    const F_GETFL: u64 = libc::F_GETFL as u64;
    match cmd {
        F_GETFD if r != 0 => {
            put::hex(b, r as u64);
            b.extend_from_slice(b" (flags ");
            consts::flags(b, r as u64, consts::FD_FLAGS);
            b.push(b')');
        }
        F_GETFL => {
            put::hex(b, r as u64);
            b.extend_from_slice(b" (flags ");
            consts::open_flags(b, arch, r as u64);
            b.push(b')');
        }
        _ => put::i64(b, r),
    }
}

/// A socket option value: `[1]` for the common `int` options, else bytes.
fn sockopt_value(b: &mut Vec<u8>, c: &Capture) -> bool {
    match <[u8; 4]>::try_from(c.bytes.as_slice()) {
        Ok(int) if !c.truncated => {
            b.push(b'[');
            put::i64(b, i64::from(i32::from_le_bytes(int)));
            b.push(b']');
        }
        _ => put::quoted(b, &c.bytes, c.truncated),
    }
    true
}

/// `0x7ffd1234 /* read failed */`.
fn failed(b: &mut Vec<u8>, ptr: u64) {
    put::hex(b, ptr);
    b.extend_from_slice(b" /* read failed */");
}

/// A capture through `render`, with the two fallbacks every pointer shares:
/// a failed read, and too few bytes for the struct.
fn show_capture(
    b: &mut Vec<u8>,
    ptr: u64,
    c: &Capture,
    render: impl FnOnce(&mut Vec<u8>, &Capture) -> bool,
) {
    if c.read_failed {
        failed(b, ptr);
    } else if !render(b, c) {
        put::hex(b, ptr);
        b.extend_from_slice(b" /* ");
        put::u64(b, c.bytes.len() as u64);
        b.extend_from_slice(b" bytes captured, too short */");
    }
}

/// select's result as strace's desc.c decode_select: ` (Timeout)` for 0,
/// else the sets as the call left them (`in [3], out [4]`, from the
/// `OutBuf` items read at exit) and what is `left` of the timeout.
fn select_ret(b: &mut Vec<u8>, sc: &Syscall, r: i64, usec: bool) {
    if r == 0 {
        return b.extend_from_slice(b" (Timeout)");
    }
    let left = |arg: u8| {
        sc.data
            .iter()
            .find(|c| c.arg == arg && c.kind == CaptureKind::OutBuf && !c.read_failed)
    };
    let mut out = Vec::new();
    for (arg, name) in [(1u8, "in"), (2, "out"), (3, "except")] {
        let Some(bits) = left(arg).and_then(|c| structs::fd_set_bits(&c.bytes, sc.args[0])) else {
            continue;
        };
        for (k, fd) in bits.enumerate() {
            if k == 0 {
                if !out.is_empty() {
                    out.extend_from_slice(b", ");
                }
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b" [");
            } else {
                out.push(b' ');
            }
            put::u64(&mut out, fd);
        }
        if out.last().is_some_and(u8::is_ascii_digit) {
            out.push(b']');
        }
    }
    if sc.args[4] != 0
        && let Some(c) = left(4)
    {
        let mark = out.len();
        if !out.is_empty() {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(b"left ");
        if !structs::timespec(&mut out, &c.bytes, usec) {
            out.truncate(mark);
        }
    }
    if !out.is_empty() {
        b.extend_from_slice(b" (");
        b.extend_from_slice(&out);
        b.push(b')');
    }
}

/// `[0]`, `[MPOL_DEFAULT]`: an `int` behind a pointer (strace's
/// printnum_int, or printxval inside brackets).
fn int_ref(b: &mut Vec<u8>, bytes: &[u8], names: &consts::Names) -> bool {
    let Some(v) = put::le_u32(bytes, 0) else {
        return false;
    };
    b.push(b'[');
    consts::int_enum(b, u64::from(v), names);
    b.push(b']');
    true
}
