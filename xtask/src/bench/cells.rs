//! One workload under one mode, measured once ([`run_cell`]), beside a
//! [`Background`] recorder for the other-comm and empty-program modes
//! ([`background_cell`]).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::Env;
use super::logs::{RecorderSummary, TextLog};
use super::modes::Mode;
use super::process::{Outcome, field, file_size, measure, signal, wait4};
use super::workloads::{Own, TAR_ARCHIVE, Workload};
use crate::util;

/// A comm no process has: the "other comm" mode's recorder selects nothing.
pub(super) const OTHER_COMM: &str = "no-such-comm";
/// The recorder's stderr line that says the programs are attached.
const RECORDING_LINE: &str = "recorder: recording";
/// `recorder watch`'s line that says its program is attached.
const WATCHING_LINE: &str = "recorder: watching";
/// How long a recorder may take to load and attach its programs.
const ATTACH_TIMEOUT: Duration = Duration::from_secs(30);

/// One workload under one mode, and its samples.
pub(super) struct Cell {
    pub(super) workload: usize,
    pub(super) mode: Mode,
    pub(super) samples: Vec<Sample>,
}

/// One measured run.
#[derive(Clone, Debug, Default)]
pub(super) struct Sample {
    pub(super) wall: Duration,
    /// The workload's own clock (see [`Own`]): no tracer start or stop.
    pub(super) own: Option<f64>,
    /// Records in the log (lines, for the text tracers).
    pub(super) records: Option<u64>,
    pub(super) dropped: Option<u64>,
    pub(super) log_bytes: Option<u64>,
    /// The untraced runs right before and after this one (their mean):
    /// what its ratios are taken against.
    pub(super) base: Option<Base>,
}

/// The untraced baseline of one traced run.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Base {
    pub(super) wall_ms: f64,
    pub(super) own: Option<f64>,
}

impl Base {
    /// The faster of the untraced runs on either side of a traced one.
    /// Not their mean: on a shared machine noise only ever slows a run
    /// down, so the faster neighbour is the better estimate of the
    /// untraced time, and a mean with one slowed neighbour made traced
    /// runs look faster than untraced (`true` beside a background
    /// recorder at 0.28x: 1.6 ms against the mean of 1.6 and 79 ms).
    pub(super) fn between(before: &Sample, after: &Sample) -> Self {
        let ms = |s: &Sample| s.wall.as_secs_f64() * 1e3;
        Self {
            wall_ms: ms(before).min(ms(after)),
            own: before.own.zip(after.own).map(|(b, a)| b.min(a)),
        }
    }
}

/// Runs `w` once beside a background recorder of `mode` (another comm,
/// or empty programs), started for this run alone: attached before the
/// workload starts, stopped after it ended, so neither its start nor its
/// stop is in the sample. One recorder per run, not one per repetition:
/// the background cells then take their turn among the other modes like
/// any cell, instead of all running at the end of a repetition.
pub(super) fn background_cell(env: &Env, w: &Workload, mode: Mode, log: &Path) -> Result<Sample> {
    let extra = mode.background_args().context("not a background mode")?;
    let recorder = Background::start(env, &env.path("background.log"), extra, mode.is_watch())?;
    let sample = run_cell(env, w, mode, log)?;
    let summary = recorder
        .stop()
        .with_context(|| format!("the background recorder ({})", mode.label()))?;
    // Its totals: 0 records expected.
    Ok(Sample {
        records: Some(summary.records),
        dropped: Some(summary.lost),
        ..sample
    })
}

/// Each cell keeps its last log, so the reader can read one afterwards.
pub(super) fn cell_log(env: &Env, cell: usize) -> PathBuf {
    env.path(&format!("cell{cell}.log"))
}

/// Runs `w` once under `mode`, writing any log to `log`.
pub(super) fn run_cell(env: &Env, w: &Workload, mode: Mode, log: &Path) -> Result<Sample> {
    // Fresh files each time, for the log and tar's archive: overwriting a
    // large file costs a truncate (30-50 ms for tar's 160 MB on tmpfs),
    // inside the timed run, and more after a slower mode wrote more.
    let _ = std::fs::remove_file(log);
    let _ = std::fs::remove_file(env.path(TAR_ARCHIVE));
    if w.own == Own::Ms {
        // The real workloads read the page cache (tar reads 160 MB), which
        // this VM's memory reclaim (DAMON) empties within seconds to
        // minutes: an untimed run right before every timed one, so no mode
        // is charged for the disk because it ran after a long strace row.
        let mut warm = env.command(&w.argv[0]);
        warm.args(&w.argv[1..]);
        measure(&mut warm, true)?.success()?;
        let _ = std::fs::remove_file(env.path(TAR_ARCHIVE));
    }
    let workload = || {
        let mut cmd = env.command(&w.argv[0]);
        cmd.args(&w.argv[1..]);
        cmd
    };
    let traced = |tracer: &Path, before: &[&std::ffi::OsStr]| {
        let mut cmd = env.command(tracer);
        cmd.args(before).args(&w.argv);
        cmd
    };
    let sample = match mode {
        Mode::Untraced => {
            let out = measure(&mut workload(), w.own.key().is_some())?.success()?;
            sample_of(&out, w)
        }
        Mode::Recorder
        | Mode::RecorderNoData
        | Mode::RecorderLive
        | Mode::RecorderTraceSet
        | Mode::RecorderLean => {
            let args: Vec<&std::ffi::OsStr> = mode
                .recorder_flags()
                .iter()
                .map(|f| f.as_ref())
                .chain(["-o".as_ref(), log.as_ref(), "--".as_ref()])
                .collect();
            let out =
                measure(&mut traced(&env.recorder, &args), w.own.key().is_some())?.success()?;
            let summary = RecorderSummary::parse(&out.stderr)?;
            Sample {
                records: Some(summary.records),
                dropped: Some(summary.lost),
                log_bytes: Some(file_size(log)?),
                ..sample_of(&out, w)
            }
        }
        // The caller keeps a background recorder attached meanwhile.
        Mode::OtherComm
        | Mode::Floor
        | Mode::LeanOtherComm
        | Mode::LeanFloor
        | Mode::WatchUnselected
        | Mode::WatchPathReject
        | Mode::WatchMatched => {
            let out = measure(&mut workload(), w.own.key().is_some())?.success()?;
            sample_of(&out, w)
        }
        Mode::Strace => {
            let strace = env.strace.path().context("strace is unavailable")?;
            let out = measure(
                &mut traced(strace, &["-f".as_ref(), "-o".as_ref(), log.as_ref()]),
                w.own.key().is_some(),
            )?
            .success()?;
            let lines = TextLog::read(log, TextLog::strace)?;
            Sample {
                records: Some(lines.records),
                // ptrace stops the tracee at every call: strace cannot drop.
                dropped: None,
                log_bytes: Some(lines.bytes),
                ..sample_of(&out, w)
            }
        }
        Mode::Perf => {
            let perf = env.perf.path().context("perf is unavailable")?;
            let out = measure(
                &mut traced(
                    perf,
                    &["trace".as_ref(), "-o".as_ref(), log.as_ref(), "--".as_ref()],
                ),
                w.own.key().is_some(),
            )?
            .success()?;
            let lines = TextLog::read(log, TextLog::perf)?;
            Sample {
                records: Some(lines.records),
                dropped: Some(lines.lost),
                log_bytes: Some(lines.bytes),
                ..sample_of(&out, w)
            }
        }
    };
    if let Some(key) = w.own.key()
        && sample.own.is_none()
    {
        bail!("{} printed no {key}", w.argv[0].to_string_lossy());
    }
    Ok(sample)
}

fn sample_of(out: &Outcome, w: &Workload) -> Sample {
    Sample {
        wall: out.wall,
        own: w.own.key().and_then(|key| field(&out.stdout, key)),
        ..Sample::default()
    }
}

/// A recorder selecting a comm nobody has, running in the background.
struct Background {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Background {
    /// Starts the recorder and returns once its programs are attached.
    /// `watch`: `extra` is a `recorder watch` command line, which selects
    /// no comm.
    fn start(env: &Env, log: &Path, extra: &[&str], watch: bool) -> Result<Self> {
        let mut cmd = env.command(&env.recorder);
        cmd.args(extra);
        if !watch {
            cmd.args(["--comm", OTHER_COMM]);
        }
        cmd.arg("-o")
            .arg(log)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start `{}`", util::describe(&cmd)))?;
        let stderr = child.stderr.take().context("stderr is piped")?;
        let (tx, lines) = mpsc::channel();
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                all.push_str(&line);
                all.push('\n');
                let _ = tx.send(line);
            }
            all
        });
        let mut bg = Self {
            child: Some(child),
            lines,
            stderr: Some(stderr),
        };
        let deadline = Instant::now() + ATTACH_TIMEOUT;
        loop {
            match bg
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) if line.starts_with(RECORDING_LINE) || line.starts_with(WATCHING_LINE) => {
                    return Ok(bg);
                }
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    bail!("the background recorder did not attach within {ATTACH_TIMEOUT:?}")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let (status, stderr) = bg.reap()?;
                    bail!(
                        "the background recorder exited before attaching ({status}): {}",
                        stderr.trim_end()
                    );
                }
            }
        }
    }

    /// Stops it with SIGINT, as Ctrl-C would, and returns its summary.
    fn stop(mut self) -> Result<RecorderSummary> {
        if let Some(child) = &self.child {
            signal(child, libc::SIGINT);
        }
        let (status, stderr) = self.reap()?;
        if !status.success() {
            bail!(
                "the background recorder failed ({status}): {}",
                stderr.trim_end()
            );
        }
        RecorderSummary::parse(&stderr)
    }

    fn reap(&mut self) -> Result<(ExitStatus, String)> {
        let child = self.child.take().context("already reaped")?;
        let (status, _) = wait4(&child)?;
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        Ok((status, stderr))
    }
}

impl Drop for Background {
    /// On an error path: never leave a recorder attached.
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            signal(&child, libc::SIGKILL);
            let _ = wait4(&child);
        }
    }
}
