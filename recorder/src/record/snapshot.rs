//! Crash snapshots: the flight recorder.
//!
//! While recording, the last `--snapshot-window` of every traced process's
//! events are kept in memory (bounded per process). When a process dies of
//! a crash signal (SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE, SIGSYS with no
//! handler) — or, with `--snapshot-on-failure`, exits with a non-zero
//! status — those events are written to one self-contained log in
//! `--snapshot-dir`: the file a bug report needs, left behind by a unit that
//! crashed at night.

use std::{
    collections::{HashMap, VecDeque},
    path::{Path, PathBuf},
    time::Duration,
};

use recorder::{
    event::{Counters, Event, Header, SignalEvent, Trailer},
    log::LogWriter,
};

use super::writer::{WriterError, create_file};

/// Events kept per process at most, whatever the window: a process making a
/// million calls a second must not make the recorder grow without bound.
pub const MAX_EVENTS_PER_PROCESS: usize = 200_000;
/// Approximate bytes kept per process at most (captured data dominates).
pub const MAX_BYTES_PER_PROCESS: usize = 32 << 20;

/// Rough in-memory size of an event.
fn weight(ev: &Event) -> usize {
    let data = match ev {
        Event::Syscall(s) => s.data.iter().map(|c| c.bytes.len() + 32).sum(),
        _ => 0,
    };
    160 + data
}

#[derive(Debug, Clone)]
pub struct SnapshotConfig {
    pub dir: PathBuf,
    pub window: Duration,
    /// Also snapshot a process that exits with a non-zero status.
    pub on_failure: bool,
}

/// Why a process gets a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    Crash(SignalEvent),
    ExitStatus(i64),
}

/// A snapshot ready to be written.
pub struct Pending {
    pub tgid: u32,
    pub comm: String,
    pub reason: Reason,
    pub events: Vec<Event>,
}

#[derive(Default)]
struct Proc {
    events: VecDeque<Event>,
    bytes: usize,
    comm: String,
    reason: Option<Reason>,
}

pub struct Snapshots {
    cfg: SnapshotConfig,
    nr_exit_group: i64,
    procs: HashMap<u32, Proc>,
}

fn ts(ev: &Event) -> Option<u64> {
    ev.ts_ns()
}

impl Snapshots {
    pub fn new(cfg: SnapshotConfig, nr_exit_group: i64) -> Self {
        Self {
            cfg,
            nr_exit_group,
            procs: HashMap::new(),
        }
    }

    /// Takes one event in order; returns a snapshot when a process that
    /// crashed (or failed) has exited.
    pub fn observe(&mut self, ev: &Event) -> Option<Pending> {
        let pid = ev.tgid()?;
        let window = self.cfg.window.as_nanos() as u64;
        let p = self.procs.entry(pid).or_default();
        p.events.push_back(ev.clone());
        p.bytes += weight(ev);
        let now = ts(ev);
        while p.events.len() > MAX_EVENTS_PER_PROCESS
            || p.bytes > MAX_BYTES_PER_PROCESS
            || now.is_some_and(|now| {
                p.events
                    .front()
                    .and_then(ts)
                    .is_some_and(|t| now.saturating_sub(t) > window)
            })
        {
            match p.events.pop_front() {
                Some(old) => p.bytes -= weight(&old),
                None => break,
            }
        }
        match ev {
            Event::Exec(e) => p.comm.clone_from(&e.comm),
            Event::Signal(s) if s.is_crash() => {
                p.comm.clone_from(&s.comm);
                p.reason = Some(Reason::Crash(s.clone()));
            }
            Event::Syscall(s)
                if self.cfg.on_failure
                    && s.nr == self.nr_exit_group
                    && s.args[0] as i32 != 0
                    && p.reason.is_none() =>
            {
                p.reason = Some(Reason::ExitStatus(i64::from(s.args[0] as i32)));
            }
            // The whole process is gone (group_dead), or, on kernels that
            // do not say, its leader is.
            Event::Exit(e) if e.process_ended() => {
                if p.comm.is_empty() {
                    p.comm.clone_from(&e.comm);
                }
                let p = self.procs.remove(&pid)?;
                return p.reason.map(|reason| Pending {
                    tgid: pid,
                    comm: p.comm,
                    reason,
                    events: p.events.into(),
                });
            }
            _ => {}
        }
        None
    }
}

/// Writes a snapshot as a complete log in `dir`; returns its path.
pub fn write(
    dir: &Path,
    header: &Header,
    counters: &Counters,
    snap: &Pending,
) -> Result<PathBuf, WriterError> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let comm: String = snap
        .comm
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{comm}-{}-{secs}.rec", snap.tgid));
    let file = create_file(&path)?;
    let err = |source| WriterError::Write {
        path: path.clone(),
        events: 0,
        source,
    };
    let mut w = LogWriter::new(
        std::io::BufWriter::new(file),
        header,
        super::writer::ZSTD_LEVEL,
    )
    .map_err(err)?;
    for ev in &snap.events {
        w.append(ev).map_err(err)?;
    }
    w.flush_block().map_err(err)?;
    let mut counters = counters.clone();
    let events = w.events_written();
    counters.written = events;
    let (end_wall_ns, end_mono_ns) = super::now_ns();
    let out = w
        .finish(&Trailer {
            end_wall_ns,
            end_mono_ns,
            counters,
        })
        .map_err(err)?;
    let sync_err = |source| WriterError::Sync {
        path: path.clone(),
        events,
        source,
    };
    let file = out.into_inner().map_err(|e| sync_err(e.into_error()))?;
    file.sync_all().map_err(sync_err)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use recorder::event::{ProcEvent, Syscall};

    fn call(pid: u32, ts: u64, nr: i64) -> Event {
        Event::Syscall(Syscall {
            tgid: pid,
            tid: pid,
            nr,
            enter_ns: ts,
            exit_ns: Some(ts + 1),
            ret: Some(0),
            ..Default::default()
        })
    }

    fn exit(pid: u32, ts: u64) -> Event {
        Event::Exit(ProcEvent {
            tgid: pid,
            tid: pid,
            ts_ns: ts,
            aux: 1,
            comm: "app".into(),
            ..Default::default()
        })
    }

    fn snapshots(on_failure: bool) -> Snapshots {
        Snapshots::new(
            SnapshotConfig {
                dir: PathBuf::from("/nonexistent"),
                window: Duration::from_secs(30),
                on_failure,
            },
            231,
        )
    }

    #[test]
    fn crash_gives_the_window_before_it() {
        let mut s = snapshots(false);
        let sec = 1_000_000_000;
        for i in 0..100 {
            assert!(s.observe(&call(7, i * sec, 1)).is_none());
            assert!(s.observe(&call(8, i * sec, 1)).is_none());
        }
        let sig = SignalEvent {
            tgid: 7,
            tid: 7,
            ts_ns: 100 * sec,
            sig: 11,
            default_action: true,
            comm: "app".into(),
            ..Default::default()
        };
        assert!(s.observe(&Event::Signal(sig.clone())).is_none());
        let snap = s.observe(&exit(7, 100 * sec + 5)).expect("snapshot");
        assert_eq!(snap.tgid, 7);
        assert_eq!(snap.reason, Reason::Crash(sig));
        // The last 30 s only, ending with the signal and the exit.
        let first = ts(&snap.events[0]).unwrap();
        assert!(first >= 70 * sec, "{first}");
        assert!(matches!(snap.events.last(), Some(Event::Exit(_))));
        // Process 8 neither crashed nor exited: no snapshot, still tracked.
        assert!(s.observe(&exit(8, 101 * sec)).is_none());
    }

    #[test]
    fn handled_signals_and_clean_exits_give_nothing() {
        let mut s = snapshots(false);
        s.observe(&call(7, 1, 1));
        s.observe(&Event::Signal(SignalEvent {
            tgid: 7,
            tid: 7,
            sig: 11,
            default_action: false,
            ..Default::default()
        }));
        assert!(s.observe(&exit(7, 5)).is_none());
    }

    #[test]
    fn non_zero_exit_only_when_asked() {
        let mut fail = call(7, 1, 231);
        if let Event::Syscall(sc) = &mut fail {
            sc.args[0] = 3;
        }
        let mut s = snapshots(false);
        s.observe(&fail);
        assert!(s.observe(&exit(7, 5)).is_none());
        let mut s = snapshots(true);
        s.observe(&fail);
        let snap = s.observe(&exit(7, 5)).expect("snapshot");
        assert_eq!(snap.reason, Reason::ExitStatus(3));
    }

    #[test]
    fn memory_is_bounded_per_process() {
        let mut s = snapshots(false);
        for i in 0..(MAX_EVENTS_PER_PROCESS as u64 + 10) {
            s.observe(&call(7, i, 1));
        }
        assert_eq!(s.procs[&7].events.len(), MAX_EVENTS_PER_PROCESS);
    }
}
