//! `recorder export`: the log as a timeline for other tools.
//!
//! `--format perfetto` writes the Chrome trace-event JSON format, which the
//! Perfetto UI (ui.perfetto.dev) and chrome://tracing open:
//!
//! - one track per thread: metadata events name each process (`process_name`)
//!   and thread (`thread_name`) after what the log says they were called;
//! - one complete event (`"ph":"X"`) per syscall, from entry to exit, named
//!   after the syscall, with the call as `dump -y` shows it, the return
//!   value, errno, sequence number and CPU in `args`; a call that never
//!   returned (`exit_group`, a thread that died inside a call) is an
//!   instant event;
//! - exec, fork, exit and signals as instant events (`"ph":"i"`); exec and
//!   the exit of a whole process are process-wide (`"s":"p"`);
//! - times in microseconds since the start of the recording, written with
//!   three decimals, so nanoseconds are kept exactly;
//! - the header and the completeness verdict in `otherData`.
//!
//! The complete events of a thread never overlap (trace viewers reject
//! improperly nested slices): a call that starts before the previous one
//! on its thread ended (possible only in corner cases, such as the record of
//! a non-leader thread's exec taking over the leader's id) is clipped to
//! start where the previous one ended, and says so in `args.clipped_ns`.
//!
//! `--format jsonl` is exactly `dump --json`: JSON Lines, docs/json-output.md.
//!
//! Both stream: memory does not grow with the log (per thread: one
//! timestamp and a name).

use crate::event::GroupDead;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::PathBuf;

use super::stats::NO_DURATIONS;
use super::{Completeness, Events, FilterSpec, IdMap, ReadError, Tasks};
use crate::decode::{Formatter, OutputFormat, ShowTid, TimeMode, errno_name, syscall_name};
use crate::event::{Event, Header, ProcEvent, Syscall};

/// Output formats of `recorder export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ExportFormat {
    /// Chrome trace-event JSON (Perfetto UI, chrome://tracing).
    #[default]
    Perfetto,
    /// JSON Lines, the same as `dump --json`.
    Jsonl,
    /// Apache Parquet, one row per event, for SQL engines (docs/parquet.md).
    /// Takes several logs; needs `-o FILE` unless standard output is not a
    /// terminal.
    Parquet,
}

/// Writes a Perfetto/Chrome trace-event JSON document, one event at a time.
pub struct Perfetto<W: Write> {
    out: W,
    /// Renders the `args.call` text (no time, no pid prefix, `-y` names).
    fmt: Formatter,
    start_ns: u64,
    /// End of the last complete event per thread, for nesting.
    last_end: IdMap<u64>,
    /// (pid, tid) of every track used, for the metadata events.
    tracks: BTreeSet<(u32, u32)>,
    b: Vec<u8>,
    /// A lean log: calls are instants at their exit, not slices.
    lean: bool,
}

/// `ts`/`dur` values: microseconds with three decimals (exact nanoseconds).
fn micros(b: &mut Vec<u8>, ns: i128) {
    if ns < 0 {
        b.push(b'-');
    }
    let ns = ns.unsigned_abs();
    let _ = write!(b, "{}.{:03}", ns / 1000, ns % 1000);
}

fn json_str(b: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *b, s);
}

impl<W: Write> Perfetto<W> {
    /// Starts the document for the log described by `header`.
    pub fn begin(mut out: W, header: &Header) -> Result<Self, ReadError> {
        let mut fmt = Formatter::new(header)?;
        fmt.format = OutputFormat::Text;
        fmt.time = TimeMode::None;
        fmt.show_tid = ShowTid::Never;
        fmt.show_duration = false;
        fmt.max_str = 64;
        fmt.decode_fds(true);
        out.write_all(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")?;
        Ok(Perfetto {
            out,
            fmt,
            start_ns: header.start_mono_ns,
            last_end: IdMap::default(),
            tracks: BTreeSet::new(),
            b: Vec::with_capacity(512),
            lean: header.lean,
        })
    }

    fn rel(&self, ts: u64) -> i128 {
        i128::from(ts) - i128::from(self.start_ns)
    }

    /// `{"ph":..,"pid":..,"tid":..,"ts":..` (the common start of an event;
    /// every event line but the first starts with `,`).
    fn head(&mut self, ph: &str, pid: u32, tid: u32, ts: u64) {
        let first = self.tracks.is_empty() && self.b.is_empty();
        self.tracks.insert((pid, tid));
        let rel = self.rel(ts);
        let b = &mut self.b;
        if !first {
            b.push(b',');
        }
        let _ = write!(b, "{{\"ph\":\"{ph}\",\"pid\":{pid},\"tid\":{tid},\"ts\":");
        micros(b, rel);
    }

    /// Writes `ev` (an event that passed the filters).
    pub fn event(&mut self, ev: &Event) -> std::io::Result<()> {
        self.b.clear();
        match ev {
            Event::Syscall(sc) => self.syscall(sc),
            Event::Exec(p) => {
                self.head("i", p.tgid, p.tid, p.ts_ns);
                self.b
                    .extend_from_slice(b",\"s\":\"p\",\"cat\":\"process\",\"name\":");
                json_str(&mut self.b, &format!("exec {}", p.comm));
                self.proc_args(p, "old_tid");
                self.fmt.track(ev);
            }
            Event::Fork(p) => {
                self.head("i", p.tgid, p.tid, p.ts_ns);
                let _ = write!(
                    self.b,
                    ",\"s\":\"t\",\"cat\":\"process\",\"name\":\"fork {}\"",
                    p.child()
                );
                self.proc_args(p, "child");
                self.fmt.track(ev);
            }
            Event::Exit(p) => {
                self.head("i", p.tgid, p.tid, p.ts_ns);
                let (scope, name) = match p.group_dead() {
                    GroupDead::Yes => ("p", "exit (process)"),
                    GroupDead::No => ("t", "exit (thread)"),
                    GroupDead::Unknown => ("t", "exit"),
                };
                let _ = write!(
                    self.b,
                    ",\"s\":\"{scope}\",\"cat\":\"process\",\"name\":\"{name}\""
                );
                self.proc_args(p, "group_dead");
                self.fmt.track(ev);
            }
            Event::Signal(s) => {
                self.head("i", s.tgid, s.tid, s.ts_ns);
                self.b
                    .extend_from_slice(b",\"s\":\"t\",\"cat\":\"signal\",\"name\":");
                json_str(&mut self.b, &super::info::signal_name(s.sig));
                let _ = write!(
                    self.b,
                    ",\"args\":{{\"sig\":{},\"default_action\":{},\"crash\":{}}}}}",
                    s.sig,
                    s.default_action,
                    s.is_crash()
                );
            }
            Event::Pause(p) => {
                // A slice on the process's main thread: where the program
                // was held back, and for how long.
                self.head("X", p.tgid, p.tgid, p.start_ns);
                self.b.extend_from_slice(b",\"dur\":");
                micros(&mut self.b, i128::from(p.duration_ns()));
                let _ = write!(
                    self.b,
                    ",\"cat\":\"recorder\",\"name\":\"paused (lossless)\",\"args\":{{\"ring_bytes\":{},\"end\":\"{}\"}}}}",
                    p.ring_bytes,
                    crate::decode::json_pause_end(p.end)
                );
            }
            Event::Who(w) => {
                // `recorder watch`: who the process is, as an instant on
                // the thread whose call follows.
                self.head("i", w.tgid, w.tid, w.ts_ns);
                self.b
                    .extend_from_slice(b",\"s\":\"t\",\"cat\":\"process\",\"name\":");
                json_str(&mut self.b, &format!("who {}", w.comm));
                self.b.extend_from_slice(b",\"args\":{\"who\":");
                json_str(&mut self.b, &w.text());
                self.b.extend_from_slice(b"}}");
            }
            Event::Counters(_) => return Ok(()),
        }
        self.b.push(b'\n');
        self.out.write_all(&self.b)
    }

    /// Follows an event that is not exported (descriptor names).
    pub fn track(&mut self, ev: &Event) {
        self.fmt.track(ev);
    }

    fn proc_args(&mut self, p: &ProcEvent, aux: &str) {
        self.b.extend_from_slice(b",\"args\":{\"comm\":");
        json_str(&mut self.b, &p.comm);
        match aux {
            "group_dead" => {
                let v = match p.group_dead() {
                    GroupDead::No => "false",
                    GroupDead::Yes => "true",
                    GroupDead::Unknown => "null",
                };
                let _ = write!(self.b, ",\"group_dead\":{v}}}}}");
            }
            _ => {
                let _ = write!(self.b, ",\"{aux}\":{}}}}}", p.aux);
            }
        }
    }

    fn syscall(&mut self, sc: &Syscall) {
        let call = {
            let line = self.fmt.render_text(&Event::Syscall(sc.clone()));
            String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(line)).into_owned()
        };
        let name = syscall_name(self.fmt.arch(), sc.nr)
            .map_or_else(|| format!("syscall_{}", sc.nr), str::to_owned);
        let returned = sc.ret.is_some() && sc.exit_ns.is_some();
        let mut clipped = 0;
        if returned && !self.lean {
            let end = sc.exit_ns.unwrap_or(sc.enter_ns).max(sc.enter_ns);
            let last = self.last_end.entry(sc.tid).or_insert(0);
            let start = if sc.enter_ns < *last {
                clipped = *last - sc.enter_ns;
                *last
            } else {
                sc.enter_ns
            };
            let end = end.max(start);
            *last = end;
            self.head("X", sc.tgid, sc.tid, start);
            self.b.extend_from_slice(b",\"dur\":");
            micros(&mut self.b, i128::from(end - start));
        } else {
            self.head("i", sc.tgid, sc.tid, sc.enter_ns);
            self.b.extend_from_slice(b",\"s\":\"t\"");
        }
        let failed = sc.ret.is_some_and(|r| (-4095..=-1).contains(&r));
        let _ = write!(
            self.b,
            ",\"cat\":\"{}\",\"name\":",
            if failed { "syscall,failed" } else { "syscall" }
        );
        json_str(&mut self.b, &name);
        self.b.extend_from_slice(b",\"args\":{\"call\":");
        json_str(&mut self.b, &call);
        match sc.ret {
            Some(r) => {
                let _ = write!(self.b, ",\"ret\":{r}");
            }
            None => self.b.extend_from_slice(b",\"ret\":null"),
        }
        if failed && let Some((e, _)) = sc.ret.and_then(|r| errno_name(-r)) {
            let _ = write!(self.b, ",\"errno\":\"{e}\"");
        }
        let _ = write!(self.b, ",\"seq\":{},\"cpu\":{}", sc.seq, sc.cpu);
        if sc.died_in_call {
            self.b.extend_from_slice(b",\"died_in_call\":true");
        }
        if clipped > 0 {
            let _ = write!(self.b, ",\"clipped_ns\":{clipped}");
        }
        if self.lean && returned {
            let _ = write!(self.b, ",\"duration\":\"{NO_DURATIONS}\"");
        }
        self.b.extend_from_slice(b"}}");
    }

    /// Names the tracks and closes the document.
    pub fn finish(
        mut self,
        header: &Header,
        tasks: &Tasks,
        c: &Completeness,
    ) -> std::io::Result<W> {
        let mut b = std::mem::take(&mut self.b);
        b.clear();
        let mut first = self.tracks.is_empty();
        let mut sep = |b: &mut Vec<u8>| {
            if !std::mem::replace(&mut first, false) {
                b.push(b',');
            }
        };
        let pids: BTreeSet<u32> = self.tracks.iter().map(|t| t.0).collect();
        for pid in pids {
            sep(&mut b);
            let name = tasks
                .process_name(pid)
                .map_or_else(|| format!("pid {pid}"), str::to_owned);
            let _ = write!(
                b,
                "{{\"ph\":\"M\",\"pid\":{pid},\"tid\":{pid},\"name\":\"process_name\",\"args\":{{\"name\":"
            );
            json_str(&mut b, &name);
            b.extend_from_slice(b"}}\n");
        }
        for &(pid, tid) in &self.tracks {
            sep(&mut b);
            let name = tasks
                .comm(tid, pid)
                .map_or_else(|| format!("tid {tid}"), str::to_owned);
            let _ = write!(
                b,
                "{{\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"name\":\"thread_name\",\"args\":{{\"name\":"
            );
            json_str(&mut b, &name);
            b.extend_from_slice(b"}}\n");
        }
        b.extend_from_slice(b"],\n\"otherData\":{\"recorder_version\":");
        json_str(&mut b, &header.recorder_version);
        b.extend_from_slice(b",\"arch\":");
        json_str(&mut b, &header.arch);
        b.extend_from_slice(b",\"kernel_release\":");
        json_str(&mut b, &header.kernel_release);
        b.extend_from_slice(b",\"hostname\":");
        json_str(&mut b, &header.hostname);
        b.extend_from_slice(b",\"command_line\":");
        json_str(&mut b, &header.command_line.join(" "));
        b.extend_from_slice(b",\"start_utc\":");
        json_str(&mut b, &super::time::utc(i128::from(header.start_wall_ns)));
        b.extend_from_slice(b",\"complete\":");
        b.extend_from_slice(if c.is_complete() { b"true" } else { b"false" });
        b.extend_from_slice(b",\"completeness\":");
        json_str(&mut b, &c.summary(None));
        b.extend_from_slice(b"}}\n");
        self.out.write_all(&b)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Exports every event of `events` that passes its filters; the error, if
/// reading stopped at damage (the document is complete and valid anyway:
/// it holds everything before the damage).
pub fn perfetto<R: Read, W: Write>(
    events: &mut Events<R>,
    out: W,
) -> Result<(W, Result<(), crate::log::LogError>), ReadError> {
    let header = events.header().clone();
    let mut p = Perfetto::begin(out, &header)?;
    let res = loop {
        match events.next_any() {
            Ok(Some((ev, true))) => p.event(&ev)?,
            Ok(Some((ev, false))) => p.track(&ev),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    let out = p.finish(&header, events.tasks(), &events.completeness())?;
    Ok((out, res))
}

/// JSON Lines of every event that passes the filters (`dump --json`).
pub fn jsonl<R: Read, W: Write>(
    events: &mut Events<R>,
    mut out: W,
) -> Result<(W, Result<(), crate::log::LogError>), ReadError> {
    let mut fmt = Formatter::new(events.header())?;
    fmt.format = OutputFormat::Json;
    let res = loop {
        match events.next_event() {
            Ok(Some(ev)) => fmt.write_event(&mut out, &ev)?,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    out.flush()?;
    Ok((out, res))
}

/// `recorder export`: writes the logs of `paths` in `format` to `out` and
/// the completeness summaries to `err`. Perfetto and JSON Lines take one
/// log; Parquet any number.
pub fn run(
    paths: &[PathBuf],
    spec: &FilterSpec,
    format: ExportFormat,
    out: &mut (dyn Write + Send),
    err: &mut dyn Write,
) -> Result<(), ReadError> {
    let path = match (format, paths) {
        (ExportFormat::Parquet, _) => {
            return super::parquet::run(paths, spec, out, err).map(drop);
        }
        (_, [path]) => path,
        _ => return Err(ReadError::OneLog(paths.len())),
    };
    let mut events = Events::open(path, spec)?.with_tasks();
    events.write_warnings(err)?;
    let (_, res) = match format {
        ExportFormat::Jsonl => jsonl(&mut events, out)?,
        _ => perfetto(&mut events, out)?,
    };
    writeln!(err, "{}", events.summary())?;
    ReadError::stopped(path, res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ProcEvent;

    fn header() -> Header {
        Header {
            arch: "x86_64".into(),
            start_mono_ns: 1_000,
            ..Default::default()
        }
    }

    fn call(tid: u32, enter: u64, exit: Option<u64>) -> Event {
        Event::Syscall(Syscall {
            tgid: 1,
            tid,
            nr: 39,
            ret: exit.map(|_| 1),
            enter_ns: enter,
            exit_ns: exit,
            ..Default::default()
        })
    }

    fn export(events: &[Event]) -> serde_json::Value {
        let mut p = Perfetto::begin(Vec::new(), &header()).unwrap();
        for e in events {
            p.event(e).unwrap();
        }
        let c = Completeness {
            records: events.len() as u64,
            counters: None,
            end: crate::log::EndState::Clean,
            gaps: 0,
            skipped: Default::default(),
            pauses: Default::default(),
        };
        let out = p.finish(&header(), &Tasks::default(), &c).unwrap();
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn nanoseconds_are_kept_and_times_are_relative_to_the_start() {
        let doc = export(&[call(1, 2_234, Some(3_235))]);
        let e = &doc["traceEvents"][0];
        assert_eq!(e["ph"], "X");
        assert_eq!(e["ts"].to_string(), "1.234");
        assert_eq!(e["dur"].to_string(), "1.001");
        assert_eq!(e["name"], "getpid");
        assert_eq!(e["args"]["call"], "getpid() = 1");
        assert_eq!(doc["displayTimeUnit"], "ns");
        // Before the start: negative, still exact.
        let doc = export(&[call(1, 999, Some(1_000))]);
        assert_eq!(doc["traceEvents"][0]["ts"].to_string(), "-0.001");
        // Written with all three decimals, whatever a JSON parser prints.
        let mut p = Perfetto::begin(Vec::new(), &header()).unwrap();
        p.event(&call(1, 3_000, Some(3_500))).unwrap();
        let text = String::from_utf8(p.out.clone()).unwrap();
        assert!(text.contains("\"ts\":2.000,\"dur\":0.500,"), "{text}");
    }

    #[test]
    fn overlapping_calls_of_a_thread_are_clipped() {
        let doc = export(&[
            call(1, 2_000, Some(3_000)),
            call(1, 2_500, Some(4_000)), // starts inside the previous one
            call(1, 2_600, Some(2_700)), // entirely inside: zero length
            call(2, 2_500, Some(4_000)), // another thread: untouched
        ]);
        let ev = doc["traceEvents"].as_array().unwrap();
        assert_eq!(ev[1]["ts"].as_f64(), Some(2.000));
        assert_eq!(ev[1]["dur"].as_f64(), Some(1.000));
        assert_eq!(ev[1]["args"]["clipped_ns"], 500);
        assert_eq!(ev[2]["ts"].as_f64(), Some(3.000));
        assert_eq!(ev[2]["dur"].as_f64(), Some(0.000));
        assert_eq!(ev[3]["ts"].as_f64(), Some(1.500));
        assert!(ev[3]["args"].get("clipped_ns").is_none());
    }

    #[test]
    fn calls_without_return_and_process_events_are_instants() {
        let exit = Event::Exit(ProcEvent {
            tgid: 1,
            tid: 1,
            ts_ns: 5_000,
            aux: 1,
            comm: "x".into(),
            ..Default::default()
        });
        let doc = export(&[call(1, 4_000, None), exit]);
        let ev = doc["traceEvents"].as_array().unwrap();
        assert_eq!(
            (ev[0]["ph"].as_str(), ev[0]["s"].as_str()),
            (Some("i"), Some("t"))
        );
        assert_eq!(ev[0]["args"]["ret"], serde_json::Value::Null);
        assert_eq!(
            (ev[1]["ph"].as_str(), ev[1]["s"].as_str()),
            (Some("i"), Some("p"))
        );
        assert_eq!(ev[1]["args"]["group_dead"], true);
        // One track, named.
        let names: Vec<&str> = ev
            .iter()
            .filter(|e| e["ph"] == "M")
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["process_name", "thread_name"]);
    }
}
