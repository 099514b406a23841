//! Lossless mode, the user-space half: resuming the processes the programs
//! paused, and making sure none stays paused if the recorder dies.
//!
//! The kernel half (`pause_if_behind` in the eBPF crate) stops a traced
//! process with SIGSTOP, at the exit of one of its calls, once the ring
//! holds `PAUSE_BYTES`, and notes it in the `PAUSED` map. After every drain
//! the daemon resumes (SIGCONT) every process in that map and logs a
//! [`PauseEvent`] for it. docs/design.md ("Lossless mode") says why this
//! mechanism and what a paused program's parent can see.
//!
//! Two edges:
//! - A process someone else stopped stays stopped: before resuming, the
//!   process's pending signals are read from `/proc/PID/status`. A stop
//!   signal sent while we held it is pending there (it cannot be delivered
//!   to a stopped process), and SIGCONT would discard it; then we leave the
//!   process stopped, as its sender asked.
//! - The recorder killed (even by SIGKILL) must not leave programs
//!   stopped. A small guard process, `recorder resume-guard`, holds the
//!   `PAUSED` and `PAUSE_ON` maps and a pipe from the recorder; when the
//!   pipe breaks without the recorder's "done" byte, it turns pausing off
//!   and resumes whatever is still paused.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aya::maps::{Array, HashMap, IterableMap as _, Map, MapData, MapError};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use recorder::event::PauseEvent;
use recorder_common::{MAP_PAUSE_ON, MAP_PAUSED, Paused};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PauseError {
    #[error("map {name}")]
    Map {
        name: &'static str,
        #[source]
        source: MapError,
    },
    #[error("cannot start the resume guard (it resumes paused programs if the recorder dies)")]
    Guard(#[source] std::io::Error),
}

fn map_err(name: &'static str) -> impl Fn(MapError) -> PauseError {
    move |source| PauseError::Map { name, source }
}

/// What the recorder writes to the guard when it has resumed everything
/// itself: the guard then exits without a sweep.
const DONE: u8 = b'D';

/// The daemon's side of lossless mode.
pub struct Pauser {
    paused: HashMap<MapData, u32, Paused>,
    pause_on: Array<MapData, u32>,
    guard: Option<(Child, std::io::PipeWriter)>,
}

impl Pauser {
    /// Starts the guard, then allows the programs to pause.
    pub fn start(
        paused: HashMap<MapData, u32, Paused>,
        mut pause_on: Array<MapData, u32>,
    ) -> Result<Self, PauseError> {
        let guard = spawn_guard(&paused, &pause_on).map_err(PauseError::Guard)?;
        pause_on.set(0, 1, 0).map_err(map_err(MAP_PAUSE_ON))?;
        Ok(Self {
            paused,
            pause_on,
            guard: Some(guard),
        })
    }

    /// Resumes every paused process; one event each. Called after a drain,
    /// when the ring has room again. Costs one map syscall when nothing is
    /// paused.
    pub fn resume_all(&mut self, now_ns: u64) -> Result<Vec<PauseEvent>, PauseError> {
        resume_all(&mut self.paused, now_ns)
    }

    /// Stops pausing, resumes what is still paused, and dismisses the
    /// guard.
    pub fn finish(mut self, now_ns: u64) -> Result<Vec<PauseEvent>, PauseError> {
        self.pause_on.set(0, 0, 0).map_err(map_err(MAP_PAUSE_ON))?;
        let events = resume_all(&mut self.paused, now_ns)?;
        if let Some((mut child, mut pipe)) = self.guard.take() {
            let _ = pipe.write_all(&[DONE]);
            drop(pipe);
            let _ = child.wait();
        }
        Ok(events)
    }
}

fn resume_all(
    paused: &mut HashMap<MapData, u32, Paused>,
    now_ns: u64,
) -> Result<Vec<PauseEvent>, PauseError> {
    // Keys first: deleting while iterating would restart the walk.
    let tgids: Vec<u32> = paused.keys().filter_map(Result::ok).collect();
    let mut events = Vec::with_capacity(tgids.len());
    for tgid in tgids {
        let Ok(p) = paused.get(&tgid, 0) else {
            continue;
        };
        // Removed before the SIGCONT: a process that runs on and fills the
        // ring again must be able to note itself anew.
        paused.remove(&tgid).map_err(map_err(MAP_PAUSED))?;
        events.push(PauseEvent {
            tgid,
            start_ns: p.since_ns,
            end_ns: now_ns,
            ring_bytes: p.occupancy,
            end: resume(tgid, p.stopped_ns != 0),
        });
    }
    Ok(events)
}

/// SIGSTOP (19), SIGTSTP, SIGTTIN, SIGTTOU: bits `sig - 1` of a pending
/// signal mask.
const STOP_SIGNALS: u64 = 0xf << 18;

/// Resumes `tgid` unless someone else stopped it meanwhile; says which.
/// `stopped`: our SIGSTOP was delivered, so a stop signal pending now is
/// someone else's. Before that, the pending one is ours, and SIGCONT
/// discards it: the process then never stops at all.
fn resume(tgid: u32, stopped: bool) -> u32 {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{tgid}/status")) else {
        return PauseEvent::GONE;
    };
    if stopped && stop_pending(&status) {
        return PauseEvent::LEFT_STOPPED;
    }
    match kill(Pid::from_raw(tgid as i32), Signal::SIGCONT) {
        Ok(()) => PauseEvent::RESUMED,
        Err(_) => PauseEvent::GONE,
    }
}

/// Whether `/proc/PID/status` text shows a stop signal pending for the
/// process (`ShdPnd`: what `kill` sends). Per-thread pending signals
/// (`SigPnd`) are not looked at: the programs' own per-thread stops wait
/// there until SIGCONT discards them.
fn stop_pending(status: &str) -> bool {
    status
        .lines()
        .filter_map(|l| l.strip_prefix("ShdPnd:"))
        .filter_map(|v| u64::from_str_radix(v.trim(), 16).ok())
        .any(|mask| mask & STOP_SIGNALS != 0)
}

/// Starts `recorder resume-guard PAUSED_FD PAUSE_ON_FD` with the two maps
/// inherited and the read end of a pipe as its stdin.
fn spawn_guard(
    paused: &HashMap<MapData, u32, Paused>,
    pause_on: &Array<MapData, u32>,
) -> std::io::Result<(Child, std::io::PipeWriter)> {
    use std::os::unix::process::CommandExt as _;
    let (rx, tx) = std::io::pipe()?;
    let paused_fd = fd_of(paused.map())?;
    let pause_on_fd = fd_of(pause_on.map())?;
    let (a, b) = (paused_fd.as_raw_fd(), pause_on_fd.as_raw_fd());
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg("resume-guard")
        .arg(a.to_string())
        .arg(b.to_string())
        .stdin(Stdio::from(OwnedFd::from(rx)))
        .stdout(Stdio::null());
    // SAFETY: between fork and exec only async-signal-safe calls (fcntl,
    // signal), on fds that stay open until `spawn` returns.
    unsafe {
        cmd.pre_exec(move || {
            for fd in [a, b] {
                // Inherited across the exec: clear close-on-exec.
                if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            // Ctrl-C in the terminal reaches the whole foreground group,
            // and a service stop SIGTERMs the whole unit: the guard must
            // outlive the recorder, so it ignores both (and SIGHUP).
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                libc::signal(sig, libc::SIG_IGN);
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    Ok((child, tx))
}

fn fd_of(m: &MapData) -> std::io::Result<OwnedFd> {
    m.fd().as_fd().try_clone_to_owned()
}

/// `recorder resume-guard`: waits for the recorder to go away; unless it
/// said it was done, turns pausing off and resumes every paused process,
/// a few times over while programs still running could pause one more.
pub fn guard_main(paused_fd: i32, pause_on_fd: i32) -> anyhow::Result<i32> {
    let mut byte = [0u8; 1];
    let said = loop {
        match std::io::stdin().read(&mut byte) {
            Ok(0) => break None,
            Ok(_) => break Some(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break None,
        }
    };
    if said == Some(DONE) {
        return Ok(0);
    }
    // SAFETY: the recorder left these fds open for us (spawn_guard) and
    // nothing else in this process uses them.
    let (paused, pause_on) = unsafe {
        (
            OwnedFd::from_raw_fd(paused_fd),
            OwnedFd::from_raw_fd(pause_on_fd),
        )
    };
    let mut paused: HashMap<MapData, u32, Paused> =
        HashMap::try_from(Map::HashMap(MapData::from_fd(paused)?))?;
    let mut pause_on: Array<MapData, u32> =
        Array::try_from(Map::Array(MapData::from_fd(pause_on)?))?;
    // Off first, so that no program pauses anything after the sweeps. A
    // program already past its check can still pause one more process:
    // sweep again after it has certainly finished.
    let _ = pause_on.set(0, 0, 0);
    for wait in [0, 10, 100, 1000] {
        std::thread::sleep(Duration::from_millis(wait));
        let resumed = resume_all(&mut paused, 0).map(|e| e.len()).unwrap_or(0);
        if resumed > 0 {
            eprintln!(
                "recorder: the recorder stopped without resuming {resumed} paused process(es): resumed them"
            );
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_signals_pending_for_the_process_are_seen() {
        let status = |shd: &str, sig: &str| {
            format!(
                "Name:\tx\nSigQ:\t0/1\nSigPnd:\t{sig}\nShdPnd:\t{shd}\nSigBlk:\t0000000000000000\n"
            )
        };
        let none = "0000000000000000";
        assert!(!stop_pending(&status(none, none)));
        // SIGSTOP (19) is bit 18, SIGTSTP bit 19, SIGTTOU (22) bit 21.
        assert!(stop_pending(&status("0000000000040000", none)));
        // A thread's own pending stop is ours (see pause_if_behind).
        assert!(!stop_pending(&status(none, "0000000000080000")));
        assert!(stop_pending(&status("0000000000200000", none)));
        // SIGCONT (18) and SIGUSR1 pending are not stops.
        assert!(!stop_pending(&status("0000000000020200", none)));
        // SigBlk is not read as pending.
        assert!(!stop_pending(
            "SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t00000000003c0000\n"
        ));
    }
}
