//! `cargo xtask bench [--quick]`: the side-by-side overhead benchmark.
//!
//! One run measures every workload under every kind of tracing and prints
//! one markdown table (also written to `target/bench/bench.md`, with the raw
//! samples in `bench.json` next to it):
//!
//! - workloads: `true` (what starting and stopping a tracer costs), a loop of
//!   `getppid` (the floor), a loop of open/write/close of a small file (the
//!   classic microbenchmark), and two real programs timed by the fx-time
//!   wrapper (so the tracer's start and stop are left out): `find /usr
//!   -type f` (syscall-heavy: a call every ~0.4 µs) and `tar -cf FILE
//!   /usr/include` (archiving a source tree, reads and writes with data);
//! - tracing: none; `recorder -- CMD`; a recorder running for a comm nobody
//!   has (what every other process on the machine pays); the same with
//!   empty programs (`--bench-floor`: the kernel's price for any program on
//!   these tracepoints); `strace -f -o`; and `perf trace -o` where it works.
//!
//! The machines this runs on are shared and noisy, so only ratios measured
//! in the same run mean much: each repetition runs every cell once, in
//! table order (untraced, recorder, strace, perf, the next workload…), so
//! a noisy stretch hits all modes alike, and the table shows the median of
//! the repetitions. The other-comm cells, and then the empty-program cells,
//! run together at the end of each repetition under one background recorder, because starting a recorder
//! (verifying its programs) takes longer than most workloads. strace and
//! perf trace are 100-800x slower per call here, so they run on a reduced
//! workload (rows marked ‡) with its own untraced baseline, measured in the
//! same repetitions.
//!
//! Then a sustained-rate search (the highest syscall rate the recorder holds
//! for 10 s at default settings without a drop, driven by the `fx-rate`
//! fixture) and the reader's throughput (`recorder dump` of the largest
//! getppid log, with its peak memory from `wait4`'s rusage).
//!
//! Then `recorder report` of a million-call log ([`page`]): generate time,
//! page size, time until interactive in headless Chromium.
//!
//! And the sustained-rate run under load ([`load`]): drop and lossless
//! (pause) mode, quiet, beside a busy loop per CPU, and with the recorder
//! held to 25% and 10% of a CPU by a cgroup, against the same fixture
//! untraced in the same conditions.
//!
//! Not a test: nothing here passes or fails on a time, so CI stays
//! deterministic.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read};
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::{compile, setup, util};

mod load;
mod page;

#[derive(clap::Args, Clone, Copy, Default)]
pub struct Options {
    /// Smaller workloads, 3 runs per cell, 2 s sustained-rate steps and one
    /// 2 s run per row under load, so the whole benchmark takes about two
    /// minutes.
    #[arg(long)]
    pub quick: bool,
    /// Only the `recorder report` section (a page of a million-call log:
    /// generate time, size, time until interactive in headless Chromium).
    #[arg(long)]
    pub page_only: bool,
    /// Only the "Under load" section (drop and lossless mode beside CPU
    /// hogs and with the recorder in a 25% / 10% CPU cgroup), which decides
    /// the loss and pause figures; with --quick, one 2 s run per row.
    #[arg(long, conflicts_with = "page_only")]
    pub load_only: bool,
}

/// tar's archive, in the scratch directory.
const TAR_ARCHIVE: &str = "bench.tar";

/// A comm no process has: the "other comm" mode's recorder selects nothing.
const OTHER_COMM: &str = "no-such-comm";
/// The recorder's stderr line that says the programs are attached.
const RECORDING_LINE: &str = "recorder: recording";
/// How long a recorder may take to load and attach its programs.
const ATTACH_TIMEOUT: Duration = Duration::from_secs(30);
/// A paced sustained-rate step "holds" its rate only if the fixture reached
/// this share of it: below, the CPU (not the recorder) set the limit.
const RATE_REACHED: f64 = 0.98;

/// strace and perf trace run the loops with this many times fewer calls: at
/// 100-800x the untraced cost per call here, a full-size run would take
/// minutes.
const SLOW_DIVISOR: u64 = 100;

/// Sizes and durations of one benchmark run.
struct Plan {
    quick: bool,
    /// Repetitions of every cell.
    runs: usize,
    getppid_calls: u64,
    openwrite_iterations: u64,
    /// Root of the real workload, and the smaller tree strace and perf walk.
    find_root: PathBuf,
    find_reduced: Option<PathBuf>,
    /// What `tar -cf` archives (a source tree), and its reduced tree.
    tar_root: PathBuf,
    tar_reduced: Option<PathBuf>,
    /// Length of one sustained-rate step.
    rate_seconds: f64,
    /// Bisection steps after the thread ladder found a rate with drops.
    bisect_steps: usize,
}

impl Plan {
    fn new(quick: bool) -> Self {
        // The first candidate directory that exists. The reduced tree keeps
        // one strace run of `find` within a few seconds.
        let first_dir = |dirs: &[&str]| dirs.iter().map(PathBuf::from).find(|d| d.is_dir());
        let (find_root, find_reduced) = if quick {
            (
                first_dir(&["/usr/share"]).unwrap_or_else(|| "/usr".into()),
                first_dir(&["/usr/share/locale", "/usr/share/man", "/usr/include"]),
            )
        } else {
            (
                PathBuf::from("/usr"),
                first_dir(&["/usr/share", "/usr/include", "/usr/lib"]),
            )
        };
        Self {
            quick,
            runs: if quick { 3 } else { 5 },
            getppid_calls: if quick { 200_000 } else { 1_000_000 },
            openwrite_iterations: if quick { 20_000 } else { 100_000 },
            find_root,
            find_reduced,
            tar_root: first_dir(&["/usr/include", "/usr/share/doc"])
                .unwrap_or_else(|| "/usr/share".into()),
            tar_reduced: first_dir(&["/usr/include/linux", "/usr/share/doc/apt"]),
            rate_seconds: if quick { 2.0 } else { 10.0 },
            bisect_steps: if quick { 2 } else { 4 },
        }
    }
}

/// How a workload runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Untraced,
    Recorder,
    /// The recorder with data capture off (`-s 0`): the cost of capture is
    /// the difference to `Recorder`.
    RecorderNoData,
    OtherComm,
    /// Empty programs on the same tracepoints (`recorder --bench-floor`):
    /// what running any program there costs, the floor under `OtherComm`
    /// and `Recorder`.
    Floor,
    Strace,
    Perf,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Untraced => "none",
            Mode::Recorder => "recorder",
            Mode::RecorderNoData => "recorder -s 0 (no data)",
            Mode::OtherComm => "recorder, other comm",
            Mode::Floor => "empty programs (floor)",
            Mode::Strace => "strace -f",
            Mode::Perf => "perf trace",
        }
    }

    /// Runs while a background recorder is attached, not under a tracer.
    fn background(self) -> bool {
        matches!(self, Mode::OtherComm | Mode::Floor)
    }

    fn key(self) -> &'static str {
        match self {
            Mode::Untraced => "untraced",
            Mode::Recorder => "recorder",
            Mode::RecorderNoData => "recorder_no_data",
            Mode::OtherComm => "recorder_other_comm",
            Mode::Floor => "empty_programs",
            Mode::Strace => "strace",
            Mode::Perf => "perf_trace",
        }
    }
}

/// A program to measure, and the modes it is measured under.
struct Workload {
    /// Row label, such as `getppid ×1M`.
    label: String,
    argv: Vec<OsString>,
    /// How the workload times itself (its stdout is read for it), leaving
    /// out the tracer's start and stop.
    own: Own,
    /// The reduced size of a workload, for the slow tracers (rows get a ‡).
    reduced: bool,
    /// `true`: it measures what starting and stopping each tracer costs.
    start_stop: bool,
    modes: Vec<Mode>,
}

/// A workload's own clock.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Own {
    /// An fx-loop: `ns_per_call=` around its loop.
    NsPerCall,
    /// Run under fx-time: `own_ms=`, the command's wall time.
    Ms,
    /// Nothing: `true`, whose wall time is all start and stop.
    None,
}

impl Own {
    fn key(self) -> Option<&'static str> {
        match self {
            Own::NsPerCall => Some("ns_per_call="),
            Own::Ms => Some("own_ms="),
            Own::None => None,
        }
    }
}

/// One workload under one mode, and its samples.
struct Cell {
    workload: usize,
    mode: Mode,
    samples: Vec<Sample>,
}

/// One measured run.
#[derive(Clone, Debug, Default)]
struct Sample {
    wall: Duration,
    /// The workload's own clock (see [`Own`]): no tracer start or stop.
    own: Option<f64>,
    /// Records in the log (lines, for the text tracers).
    records: Option<u64>,
    dropped: Option<u64>,
    log_bytes: Option<u64>,
}

/// Whether a tracer runs here, and why not.
enum Availability {
    Yes(PathBuf),
    No(String),
}

impl Availability {
    fn path(&self) -> Option<&Path> {
        match self {
            Availability::Yes(p) => Some(p),
            Availability::No(_) => None,
        }
    }

    fn reason(&self) -> Option<&str> {
        match self {
            Availability::Yes(_) => None,
            Availability::No(r) => Some(r),
        }
    }
}

/// Binaries, tracers and the scratch directory.
struct Env {
    recorder: PathBuf,
    fx_loop: PathBuf,
    fx_rate: PathBuf,
    fx_time: PathBuf,
    strace: Availability,
    perf: Availability,
    /// On tmpfs when there is one: the logs and the open/write/close file,
    /// so that disk writeback (ext4 flushes a truncated file's blocks on
    /// close) is not what gets measured.
    scratch: tempfile::TempDir,
}

impl Env {
    fn path(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    /// A command with the environment every benchmark process gets.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        // fx-loop --openwrite creates its file in $TMPDIR.
        cmd.env("TMPDIR", self.scratch.path())
            .current_dir(self.scratch.path())
            .stdin(Stdio::null());
        cmd
    }
}

pub fn run(opts: &Options) -> Result<()> {
    let started = Instant::now();
    if !util::is_root() {
        bail!(
            "cargo xtask bench must run as root: the recorder and perf trace load tracing \
             programs (run it from a root shell)"
        );
    }
    setup::run(&setup::Options {
        bench: true,
        ..Default::default()
    })
    .context("setup --bench failed")?;
    let env = prepare()?;
    let measuring = Instant::now();
    let plan = Plan::new(opts.quick);
    if opts.page_only {
        let page = page::measure_page(&env, 3).context("the report page")?;
        println!("{}", page.markdown());
        return Ok(());
    }
    if opts.load_only {
        let load = load::under_load(&env, plan.quick).context("the runs under load")?;
        println!("{}", load.markdown());
        return Ok(());
    }
    let workloads = workloads(&plan, &env)?;
    let mut cells: Vec<Cell> = workloads
        .iter()
        .enumerate()
        .flat_map(|(i, w)| {
            w.modes.iter().map(move |&mode| Cell {
                workload: i,
                mode,
                samples: Vec::new(),
            })
        })
        .collect();

    eprintln!(
        "bench: {} cells × {} runs{}, then the sustained-rate search, the runs under load and the reader",
        cells.len(),
        plan.runs,
        if plan.quick { " (quick)" } else { "" }
    );
    // Warm-up, not measured: the page cache for the binaries, the dentry
    // cache for find.
    for w in &workloads {
        run_cell(&env, w, Mode::Untraced, &env.path("warmup.log"))
            .with_context(|| format!("warm-up run of {}", w.label))?;
    }
    for rep in 0..plan.runs {
        let t = Instant::now();
        for (i, cell) in cells.iter_mut().enumerate() {
            if cell.mode.background() {
                continue;
            }
            let w = &workloads[cell.workload];
            let sample = run_cell(&env, w, cell.mode, &cell_log(&env, i))
                .with_context(|| format!("{} under {}", w.label, cell.mode.label()))?;
            cell.samples.push(sample);
        }
        background_round(&env, &workloads, &mut cells, Mode::OtherComm)?;
        background_round(&env, &workloads, &mut cells, Mode::Floor)?;
        eprintln!(
            "bench: repetition {}/{} done in {:.1?}",
            rep + 1,
            plan.runs,
            t.elapsed()
        );
    }

    let sustained = sustained_rate(&env, &plan).context("sustained-rate search")?;
    let thresholds = threshold_sweep(&env, &plan).context("wakeup-threshold sweep")?;
    let load = load::under_load(&env, plan.quick).context("the runs under load")?;
    // The reader reads the getppid loop's recorder log, the largest one.
    let reader_log = cells
        .iter()
        .position(|c| c.mode == Mode::Recorder && workloads[c.workload].own == Own::NsPerCall)
        .map(|i| cell_log(&env, i))
        .context("no recorder log of the getppid loop")?;
    let reader = reader(&env, &reader_log, plan.runs).context("reader throughput")?;
    let page = page::measure_page(&env, plan.runs.min(3)).context("the report page")?;

    let report = Report {
        plan: &plan,
        env: &env,
        workloads: &workloads,
        cells: &cells,
        sustained: &sustained,
        thresholds: &thresholds,
        load: &load,
        reader: &reader,
        page: &page,
        elapsed: measuring.elapsed(),
        setup: measuring - started,
    };
    let markdown = report.markdown();
    print!("{markdown}");
    let dir = util::target_dir().join("bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let md_path = dir.join("bench.md");
    std::fs::write(&md_path, &markdown)
        .with_context(|| format!("cannot write {}", md_path.display()))?;
    let json_path = dir.join("bench.json");
    let json = serde_json::to_string_pretty(&report.json())?;
    std::fs::write(&json_path, json + "\n")
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    eprintln!(
        "bench: written to {} and {}",
        md_path.display(),
        json_path.display()
    );
    Ok(())
}

/// The cells of one repetition that run under a background recorder (for
/// another comm, or with empty programs), all under one: starting one takes
/// about half a second (mostly the verifier), more than most workloads.
fn background_round(
    env: &Env,
    workloads: &[Workload],
    cells: &mut [Cell],
    mode: Mode,
) -> Result<()> {
    if !cells.iter().any(|c| c.mode == mode) {
        return Ok(());
    }
    let extra: &[&str] = if mode == Mode::Floor {
        &["--bench-floor"]
    } else {
        &[]
    };
    let recorder = Background::start(env, &env.path("background.log"), extra)?;
    let mut ran = Vec::new();
    for (i, cell) in cells.iter_mut().enumerate() {
        if cell.mode != mode {
            continue;
        }
        let w = &workloads[cell.workload];
        let sample = run_cell(env, w, mode, &cell_log(env, i))
            .with_context(|| format!("{} under {}", w.label, cell.mode.label()))?;
        cell.samples.push(sample);
        ran.push(i);
    }
    let summary = recorder
        .stop()
        .with_context(|| format!("the background recorder ({})", mode.label()))?;
    // One recorder saw them all: each gets its totals (0 records expected).
    for i in ran {
        if let Some(sample) = cells[i].samples.last_mut() {
            sample.records = Some(summary.records);
            sample.dropped = Some(summary.lost);
        }
    }
    Ok(())
}

/// Each cell keeps its last log, so the reader can read one afterwards.
fn cell_log(env: &Env, cell: usize) -> PathBuf {
    env.path(&format!("cell{cell}.log"))
}

/// Builds the recorder and the fixtures, checks that recording works here,
/// and finds out which other tracers run.
fn prepare() -> Result<Env> {
    let mut build = util::cargo();
    // recorder builds its eBPF programs in build.rs; `tests` has the fixtures.
    build.args([
        "build",
        "--release",
        "-p",
        "recorder",
        "-p",
        "tests",
        "--bins",
    ]);
    let bins = compile::cargo_executables(build).context("building the recorder and fixtures")?;
    let recorder = compile::find_binary(&bins, "recorder")?;
    let check = Command::new(&recorder)
        .arg("check")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{} check`", recorder.display()))?;
    if !check.status.success() {
        bail!(
            "`recorder check` says this machine cannot record:\n{}",
            String::from_utf8_lossy(&check.stdout).trim_end()
        );
    }

    let shm = Path::new("/dev/shm");
    let scratch = if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("recorder-bench.")
            .tempdir_in(shm)
    } else {
        let dir = util::target_dir().join("bench");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        tempfile::Builder::new().prefix("scratch.").tempdir_in(dir)
    }
    .context("cannot create a scratch directory")?;

    let mut env = Env {
        recorder,
        fx_loop: compile::find_binary(&bins, "fx-loop")?,
        fx_rate: compile::find_binary(&bins, "fx-rate")?,
        fx_time: compile::find_binary(&bins, "fx-time")?,
        strace: Availability::No(String::new()),
        perf: Availability::No(String::new()),
        scratch,
    };
    env.strace = probe_tracer(&env, "strace", &["-f", "-o"]);
    env.perf = probe_tracer(&env, "perf", &["trace", "-o"]);
    for (name, a) in [("strace", &env.strace), ("perf trace", &env.perf)] {
        if let Some(reason) = a.reason() {
            eprintln!("bench: {name}: unavailable ({reason})");
        }
    }
    Ok(env)
}

/// Traces `true` once: whether the tracer works here, and if not, why.
fn probe_tracer(env: &Env, tool: &str, args: &[&str]) -> Availability {
    let Ok(path) = which::which(tool) else {
        return Availability::No("not installed".into());
    };
    let log = env.path("probe.log");
    let mut cmd = env.command(&path);
    cmd.args(args).arg(&log).arg("true");
    let result = cmd.output();
    let _ = std::fs::remove_file(&log);
    match result {
        Ok(out) if out.status.success() => Availability::Yes(path),
        Ok(out) => Availability::No(format!(
            "`{tool} {} LOG true` failed ({}): {}",
            args.join(" "),
            out.status,
            last_line(&String::from_utf8_lossy(&out.stderr))
        )),
        Err(e) => Availability::No(format!("cannot run {}: {e}", path.display())),
    }
}

fn last_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no message")
}

/// The workloads in table order, each with the modes it runs under.
fn workloads(plan: &Plan, env: &Env) -> Result<Vec<Workload>> {
    let slow: Vec<Mode> = [(Mode::Strace, &env.strace), (Mode::Perf, &env.perf)]
        .into_iter()
        .filter(|(_, a)| a.path().is_some())
        .map(|(m, _)| m)
        .collect();
    let fast = [
        Mode::Untraced,
        Mode::Recorder,
        Mode::RecorderNoData,
        Mode::OtherComm,
        Mode::Floor,
    ];
    let all: Vec<Mode> = fast.iter().chain(&slow).copied().collect();
    let reduced_modes: Vec<Mode> = std::iter::once(Mode::Untraced)
        .chain(slow.clone())
        .collect();
    let true_path = which::which("true").context("`true` is not on PATH")?;
    let find = which::which("find").context("`find` is not installed (Debian: findutils)")?;
    let tar = which::which("tar").context("`tar` is not installed (Debian: tar)")?;
    let os = |s: &str| OsString::from(s);

    let mut list = vec![Workload {
        label: "true (start/stop only)".into(),
        argv: vec![true_path.into()],
        own: Own::None,
        reduced: false,
        start_stop: true,
        modes: all.clone(),
    }];
    // The two loops, at full size for the fast modes and reduced for the slow.
    let loops = [
        (plan.getppid_calls, None),
        (plan.openwrite_iterations, Some("--openwrite")),
    ];
    for (n, flag) in loops {
        for reduced in [false, true] {
            if reduced && slow.is_empty() {
                continue;
            }
            let n = if reduced { n / SLOW_DIVISOR } else { n };
            let label = match flag {
                None => format!("getppid ×{}", si(n)),
                Some(_) => format!("open/write/close ×{} ({} calls)", si(n), si(3 * n)),
            };
            let mut argv = vec![env.fx_loop.clone().into_os_string(), n.to_string().into()];
            argv.extend(flag.map(os));
            list.push(Workload {
                label,
                argv,
                own: Own::NsPerCall,
                reduced,
                start_stop: false,
                modes: if reduced {
                    reduced_modes.clone()
                } else {
                    fast.to_vec()
                },
            });
        }
    }
    // The real workloads run under fx-time, which reports their own wall
    // time: a traced program's slowdown, without the tracer's start and stop
    // (the `true` row has those).
    let timed = |label: String, argv: Vec<OsString>, reduced: bool, modes: Vec<Mode>| Workload {
        label,
        argv: std::iter::once(env.fx_time.clone().into_os_string())
            .chain(argv)
            .collect(),
        own: Own::Ms,
        reduced,
        start_stop: false,
        modes,
    };
    let find_of = |root: &Path| {
        (
            format!("find {} -type f", root.display()),
            vec![
                find.clone().into_os_string(),
                root.into(),
                os("-type"),
                os("f"),
            ],
        )
    };
    // tar writes the archive to a file: with stdout on /dev/null, GNU tar
    // notices and skips reading the files at all.
    let tar_of = |root: &Path| {
        (
            format!("tar -cf FILE {}", root.display()),
            vec![
                tar.clone().into_os_string(),
                os("-cf"),
                env.path(TAR_ARCHIVE).into_os_string(),
                root.into(),
            ],
        )
    };
    // A tree's row label and argv.
    type Of<'a> = &'a dyn Fn(&Path) -> (String, Vec<OsString>);
    let real: [(&PathBuf, &Option<PathBuf>, Of); 2] = [
        (&plan.find_root, &plan.find_reduced, &find_of),
        (&plan.tar_root, &plan.tar_reduced, &tar_of),
    ];
    for (root, small, of) in real {
        let (label, argv) = of(root);
        match small {
            Some(small) if !slow.is_empty() => {
                list.push(timed(label, argv, false, fast.to_vec()));
                let (label, argv) = of(small);
                list.push(timed(label, argv, true, reduced_modes.clone()));
            }
            _ => list.push(timed(label, argv, false, all.clone())),
        }
    }
    Ok(list)
}

/// Runs `w` once under `mode`, writing any log to `log`.
fn run_cell(env: &Env, w: &Workload, mode: Mode, log: &Path) -> Result<Sample> {
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
        Mode::Recorder | Mode::RecorderNoData => {
            let capture: &[&std::ffi::OsStr] = if mode == Mode::RecorderNoData {
                &["-s".as_ref(), "0".as_ref()]
            } else {
                &[]
            };
            let args: Vec<&std::ffi::OsStr> = capture
                .iter()
                .copied()
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
        Mode::OtherComm | Mode::Floor => {
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

/// The number after `key` in `text` (`key` includes the `=`).
fn field(text: &str, key: &str) -> Option<f64> {
    text.split_whitespace()
        .find_map(|t| t.strip_prefix(key))
        .and_then(|v| v.parse().ok())
}

fn file_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("no log at {}", path.display()))?
        .len())
}

/// A finished child process, measured.
struct Outcome {
    what: String,
    wall: Duration,
    status: ExitStatus,
    stdout: String,
    stderr: String,
    /// Peak resident set size, of the process or of any descendant it waited for.
    max_rss_kib: u64,
    /// CPU time (user + system) and voluntary context switches, of the
    /// process and the descendants it reaped.
    cpu: Duration,
    nvcsw: u64,
}

impl Outcome {
    fn success(self) -> Result<Self> {
        if !self.status.success() {
            bail!(
                "`{}` failed ({}): {}",
                self.what,
                self.status,
                self.stderr.trim_end()
            );
        }
        Ok(self)
    }
}

/// Runs `cmd` to completion: wall time from spawn to reaping, its output
/// (stdout only when `capture_stdout`, else /dev/null), and its rusage.
fn measure(cmd: &mut Command, capture_stdout: bool) -> Result<Outcome> {
    cmd.stdout(if capture_stdout {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stderr(Stdio::piped());
    let what = util::describe(cmd);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start `{what}`"))?;
    // Both pipes are read concurrently, so neither can fill and block the child.
    let stdout = child.stdout.take().map(read_in_thread);
    let stderr = child.stderr.take().map(read_in_thread);
    let (status, rusage) = wait4(&child).with_context(|| format!("waiting for `{what}`"))?;
    let wall = start.elapsed();
    let join = |h: Option<JoinHandle<String>>| h.map(|h| h.join().unwrap_or_default());
    Ok(Outcome {
        what,
        wall,
        status,
        stdout: join(stdout).unwrap_or_default(),
        stderr: join(stderr).unwrap_or_default(),
        max_rss_kib: u64::try_from(rusage.ru_maxrss).unwrap_or(0),
        cpu: timeval(rusage.ru_utime) + timeval(rusage.ru_stime),
        nvcsw: u64::try_from(rusage.ru_nvcsw).unwrap_or(0),
    })
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

fn read_in_thread(mut r: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Reaps `child` with `wait4`, which (unlike `Child::wait`) returns its
/// rusage: `RUSAGE_CHILDREN` would only give the maximum over all children.
fn wait4(child: &Child) -> Result<(ExitStatus, libc::rusage)> {
    let pid = libc::pid_t::try_from(child.id()).context("pid out of range")?;
    let mut status = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; pid is our unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
        if r == pid {
            return Ok((ExitStatus::from_raw(status), rusage));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).context("wait4");
        }
    }
}

fn signal(child: &Child, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions; the child is not
        // reaped yet, so its pid cannot have been reused.
        unsafe { libc::kill(pid, sig) };
    }
}

/// The recorder's exit summary: `recorder: N records written to FILE (B
/// bytes), none lost` or `…; LOST n (ring buffer full: a, …)`.
struct RecorderSummary {
    records: u64,
    lost: u64,
    /// The `LOST n (…)` text, when something was lost.
    loss: Option<String>,
}

impl RecorderSummary {
    fn parse(stderr: &str) -> Result<Self> {
        let line = stderr
            .lines()
            .find(|l| l.starts_with("recorder: ") && l.contains(" records written to "))
            .with_context(|| {
                format!(
                    "no summary line in the recorder's output: {}",
                    stderr.trim_end()
                )
            })?;
        let number = |s: &str| -> Result<u64> {
            let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
            digits
                .parse()
                .with_context(|| format!("unexpected recorder summary: {line}"))
        };
        let records = number(&line["recorder: ".len()..])?;
        let loss = line.find("LOST ").map(|i| {
            let text = &line[i..];
            text[..text.find(')').map_or(text.len(), |j| j + 1)].to_owned()
        });
        let lost = match &loss {
            Some(text) => number(&text["LOST ".len()..])?,
            None => 0,
        };
        Ok(Self {
            records,
            lost,
            loss,
        })
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
    fn start(env: &Env, log: &Path, extra: &[&str]) -> Result<Self> {
        let mut cmd = env.command(&env.recorder);
        cmd.args(extra)
            .args(["--comm", OTHER_COMM, "-o"])
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
                Ok(line) if line.starts_with(RECORDING_LINE) => return Ok(bg),
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

/// Size and line counts of a text tracer's log.
struct TextLog {
    bytes: u64,
    records: u64,
    lost: u64,
}

/// What one line of a text log is.
enum Line {
    Record,
    Other,
    Lost(u64),
}

impl TextLog {
    fn read(path: &Path, classify: fn(&str) -> Line) -> Result<Self> {
        let data =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut log = Self {
            bytes: data.len() as u64,
            records: 0,
            lost: 0,
        };
        for line in String::from_utf8_lossy(&data).lines() {
            match classify(line) {
                Line::Record => log.records += 1,
                Line::Lost(n) => log.lost += n,
                Line::Other => {}
            }
        }
        Ok(log)
    }

    /// `PID call(…) = r`; exits and signals (`+++`, `---`) and the second
    /// half of an interrupted call (`<... x resumed>`) are not calls.
    fn strace(line: &str) -> Line {
        let rest = line
            .split_once(' ')
            .filter(|(pid, _)| pid.bytes().all(|b| b.is_ascii_digit()))
            .map_or(line, |(_, rest)| rest)
            .trim_start();
        if rest.is_empty()
            || rest.starts_with("+++")
            || rest.starts_with("---")
            || rest.contains(" resumed>")
        {
            Line::Other
        } else {
            Line::Record
        }
    }

    /// One line per call; `LOST n events!` when perf's buffer overflowed.
    fn perf(line: &str) -> Line {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("LOST ") {
            let n = rest.split(' ').next().and_then(|n| n.parse().ok());
            return Line::Lost(n.unwrap_or(1));
        }
        if line.is_empty() {
            Line::Other
        } else {
            Line::Record
        }
    }
}

/// One step of the sustained-rate search: fx-rate under the recorder.
#[derive(Clone, Debug)]
struct RateStep {
    threads: u32,
    /// Calls per second asked for; `None`: as fast as the threads go.
    target: Option<f64>,
    /// getppid calls per second the fixture made.
    achieved: f64,
    records: u64,
    lost: u64,
    loss: Option<String>,
    /// The recorder's own CPU time and voluntary context switches (its
    /// wakeups, flush timer included).
    recorder_cpu: Duration,
    recorder_nvcsw: u64,
}

impl RateStep {
    /// Zero drops, and the rate asked for was reached.
    fn held(&self) -> bool {
        self.lost == 0
            && self
                .target
                .is_none_or(|t| self.achieved >= RATE_REACHED * t)
    }

    fn describe(&self) -> String {
        let target = self
            .target
            .map_or_else(|| "max".to_owned(), |t| format!("{}/s", fmt_rate(t)));
        let result = match (&self.loss, self.held()) {
            (Some(loss), _) => loss.clone(),
            (None, true) => "no drops".to_owned(),
            (None, false) => "no drops, but the rate was not reached".to_owned(),
        };
        format!(
            "{} thread{}, {target}: {}/s, {result}",
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            fmt_rate(self.achieved)
        )
    }
}

struct Sustained {
    seconds: f64,
    steps: Vec<RateStep>,
}

impl Sustained {
    fn push(&mut self, step: RateStep) {
        eprintln!("bench: sustained rate: {}", step.describe());
        self.steps.push(step);
    }

    /// The held step with the highest rate, among those with `threads`
    /// threads (`None`: all).
    fn best(&self, threads: Option<u32>) -> Option<&RateStep> {
        self.steps
            .iter()
            .filter(|s| s.held() && threads.is_none_or(|t| s.threads == t))
            .max_by(|a, b| a.achieved.total_cmp(&b.achieved))
    }

    /// The lowest rate tried above `rate` that did not hold, among steps
    /// with `threads` threads (`None`: all).
    fn next_up(&self, rate: f64, threads: Option<u32>) -> Option<&RateStep> {
        self.steps
            .iter()
            .filter(|s| !s.held() && rate_of(s) > rate && threads.is_none_or(|t| s.threads == t))
            .min_by(|a, b| rate_of(a).total_cmp(&rate_of(b)))
    }
}

/// The highest getppid rate the recorder (default settings) holds for
/// `plan.rate_seconds` with zero drops.
///
/// First a ladder of unpaced runs with 1 thread, one per CPU and two per
/// CPU, until one drops: one thread rarely outruns the drain, and threads
/// beyond the CPUs compete with the recorder's own threads for CPU time
/// (the usual way a recorder falls behind). Then bisection on a paced rate
/// with the thread count that dropped: between the best rate held so far
/// and the rate that dropped, or below the latter when the extra threads
/// dropped at a lower rate than fewer threads held.
fn sustained_rate(env: &Env, plan: &Plan) -> Result<Sustained> {
    let cpus = u32::try_from(cpu_count()).unwrap_or(u32::MAX);
    let mut s = Sustained {
        seconds: plan.rate_seconds,
        steps: Vec::new(),
    };
    let mut ladder = vec![1];
    if cpus > 1 {
        ladder.push(cpus);
    }
    ladder.push(cpus.saturating_mul(2).max(2));
    let mut failed = None;
    for threads in ladder {
        let step = rate_step(env, plan, None, threads)?;
        let held = step.held();
        s.push(step);
        if !held {
            failed = Some(s.steps.len() - 1);
            break;
        }
    }
    let Some(failed) = failed else {
        return Ok(s);
    };
    let threads = s.steps[failed].threads;
    let mut hi = rate_of(&s.steps[failed]);
    let mut lo = s
        .best(None)
        .map(|b| b.achieved)
        .filter(|&b| b < hi)
        .unwrap_or(0.0);
    for _ in 0..plan.bisect_steps {
        // Round to 3 significant digits: targets read better in the table.
        let target = round3((lo + hi) / 2.0);
        if target <= lo || target >= hi {
            break;
        }
        let step = rate_step(env, plan, Some(target), threads)?;
        if step.held() {
            lo = target;
        } else {
            hi = target;
        }
        s.push(step);
    }
    Ok(s)
}

/// The rate a step tried: its target, or what it reached unpaced.
fn rate_of(step: &RateStep) -> f64 {
    step.target.unwrap_or(step.achieved)
}

fn round3(x: f64) -> f64 {
    if x <= 0.0 {
        return x;
    }
    let scale = 10f64.powi(x.log10().floor() as i32 - 2);
    (x / scale).round() * scale
}

/// The sustained rate and the threshold sweep measure how fast the drain
/// keeps up, so they run in drop mode: lossless mode (the default under
/// `--`) would hold the program back instead of dropping, and every rate
/// would "hold".
fn rate_step(env: &Env, plan: &Plan, target: Option<f64>, threads: u32) -> Result<RateStep> {
    rate_run(
        env,
        plan.rate_seconds,
        target,
        threads,
        &["--overflow", "drop"],
    )
}

/// fx-rate for `seconds` under a recorder with `extra` arguments.
fn rate_run(
    env: &Env,
    seconds: f64,
    target: Option<f64>,
    threads: u32,
    extra: &[&str],
) -> Result<RateStep> {
    let log = env.path("rate.log");
    let _ = std::fs::remove_file(&log);
    let mut cmd = env.command(&env.recorder);
    cmd.args(extra)
        .arg("-o")
        .arg(&log)
        .arg("--")
        .arg(&env.fx_rate)
        .arg(target.map_or_else(|| "max".to_owned(), |t| format!("{t:.0}")))
        .arg(seconds.to_string())
        .arg(threads.to_string());
    let out = measure(&mut cmd, true)?.success()?;
    // The recorder's rusage includes fx-rate's, which fx-rate reports.
    let fx_cpu = field(&out.stdout, "cpu_ms=").unwrap_or(0.0);
    let fx_nvcsw = field(&out.stdout, "nvcsw=").unwrap_or(0.0) as u64;
    // Up to 10 s at millions of records per second: free the tmpfs now.
    let _ = std::fs::remove_file(&log);
    let summary = RecorderSummary::parse(&out.stderr)?;
    let achieved = field(&out.stdout, "rate=")
        .with_context(|| format!("fx-rate printed no rate: {}", out.stdout.trim_end()))?;
    Ok(RateStep {
        threads,
        target,
        achieved,
        records: summary.records,
        lost: summary.lost,
        loss: summary.loss,
        recorder_cpu: out
            .cpu
            .saturating_sub(Duration::from_secs_f64(fx_cpu.max(0.0) / 1e3)),
        recorder_nvcsw: out.nvcsw.saturating_sub(fx_nvcsw),
    })
}

/// The `--wakeup-threshold` sweep: each threshold under a burst, fx-rate
/// unpaced with two threads per CPU, which compete with the recorder for
/// CPU time.
struct Thresholds {
    seconds: f64,
    threads: u32,
    /// Per threshold, its runs.
    rows: Vec<(&'static str, Vec<RateStep>)>,
}

impl Thresholds {
    /// The medians of a row: calls/s reached (a wakeup costs the threads
    /// an irq_work, and the recorder's CPU time is theirs to lose), the
    /// recorder's wakeups per second and its CPU time per record.
    fn medians(&self, runs: &[RateStep]) -> (f64, f64, f64) {
        let m = |f: &dyn Fn(&RateStep) -> f64| median(runs.iter().map(f).collect()).unwrap_or(0.0);
        (
            m(&|r| r.achieved),
            m(&|r| r.recorder_nvcsw as f64 / self.seconds),
            m(&|r| r.recorder_cpu.as_secs_f64() * 1e9 / r.records.max(1) as f64),
        )
    }
}

/// Runs the burst under each threshold, interleaved across repetitions so
/// noise hits all alike. This is what the default (25%) was chosen by.
fn threshold_sweep(env: &Env, plan: &Plan) -> Result<Thresholds> {
    let thresholds: &[&'static str] = if plan.quick {
        &["5%", "25%", "75%"]
    } else {
        &["1%", "5%", "10%", "25%", "50%", "75%"]
    };
    let mut sweep = Thresholds {
        seconds: if plan.quick { 1.0 } else { 3.0 },
        threads: u32::try_from(cpu_count())
            .unwrap_or(1)
            .saturating_mul(2)
            .max(2),
        rows: thresholds.iter().map(|&t| (t, Vec::new())).collect(),
    };
    for _ in 0..if plan.quick { 1 } else { 3 } {
        for (threshold, runs) in &mut sweep.rows {
            let step = rate_run(
                env,
                sweep.seconds,
                None,
                sweep.threads,
                &["--overflow", "drop", "--wakeup-threshold", threshold],
            )
            .with_context(|| format!("--wakeup-threshold {threshold}"))?;
            runs.push(step);
        }
    }
    Ok(sweep)
}

/// `recorder dump` (text and --json) of one log, to /dev/null.
struct Reader {
    log_bytes: u64,
    records: u64,
    /// Peak memory measured by GNU time rather than our own wait4.
    rss_by_time: bool,
    text: ReaderRuns,
    json: ReaderRuns,
}

#[derive(Default)]
struct ReaderRuns {
    walls: Vec<Duration>,
    max_rss_kib: u64,
}

impl ReaderRuns {
    fn lines_per_second(&self, records: u64) -> Option<f64> {
        median(self.walls.iter().map(Duration::as_secs_f64).collect()).map(|s| records as f64 / s)
    }
}

fn reader(env: &Env, log: &Path, runs: usize) -> Result<Reader> {
    // A child spawned from here starts with this process's peak RSS in its
    // ru_maxrss (exec records the outgoing address space's high-water mark,
    // and std spawns with vfork semantics), so wait4 alone would report
    // xtask's ~12 MiB for any smaller program. GNU time forks from its own
    // small process, so its %M is the reader's own peak.
    let time = Path::new("/usr/bin/time");
    let rss_file = env.path("dump.rss");
    let mut r = Reader {
        log_bytes: file_size(log)?,
        records: 0,
        rss_by_time: time.is_file(),
        text: ReaderRuns::default(),
        json: ReaderRuns::default(),
    };
    for _ in 0..runs {
        for json in [false, true] {
            let mut cmd = if r.rss_by_time {
                let mut cmd = env.command(time);
                cmd.args(["-f", "%M", "-o"])
                    .arg(&rss_file)
                    .arg(&env.recorder);
                cmd
            } else {
                env.command(&env.recorder)
            };
            cmd.arg("dump").arg(log);
            if json {
                cmd.arg("--json");
            }
            let out = measure(&mut cmd, false)?.success()?;
            let max_rss_kib = if r.rss_by_time {
                let text = std::fs::read_to_string(&rss_file)
                    .with_context(|| format!("cannot read {}", rss_file.display()))?;
                last_line(&text)
                    .parse()
                    .with_context(|| format!("GNU time wrote {text:?}, not a size in KiB"))?
            } else {
                out.max_rss_kib
            };
            // `recorder: complete: N records` (or INCOMPLETE: …).
            r.records = out
                .stderr
                .lines()
                .filter_map(|l| l.strip_prefix("recorder: "))
                .filter_map(|l| l.split_once(": ").map(|(_, rest)| rest))
                .find_map(|rest| rest.split(' ').next()?.parse().ok())
                .with_context(|| {
                    format!("no record count from recorder dump: {}", out.stderr.trim())
                })?;
            let runs = if json { &mut r.json } else { &mut r.text };
            runs.walls.push(out.wall);
            runs.max_rss_kib = runs.max_rss_kib.max(max_rss_kib);
        }
    }
    Ok(r)
}

/// Medians and ratios of one cell, as the table shows them.
struct Stats {
    runs: usize,
    wall_ms: f64,
    ratio: Option<f64>,
    own: Option<f64>,
    own_ratio: Option<f64>,
    records_per_s: Option<f64>,
    dropped: Option<u64>,
    bytes_per_record: Option<f64>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

struct Report<'a> {
    plan: &'a Plan,
    env: &'a Env,
    workloads: &'a [Workload],
    cells: &'a [Cell],
    sustained: &'a Sustained,
    thresholds: &'a Thresholds,
    load: &'a load::Load,
    reader: &'a Reader,
    page: &'a page::Page,
    /// Measuring time, and the setup and build before it.
    elapsed: Duration,
    setup: Duration,
}

impl Report<'_> {
    fn stats(&self, cell: &Cell) -> Stats {
        let wall = |c: &Cell| {
            median(
                c.samples
                    .iter()
                    .map(|s| s.wall.as_secs_f64() * 1e3)
                    .collect(),
            )
            .unwrap_or(0.0)
        };
        let ns = |c: &Cell| median(c.samples.iter().filter_map(|s| s.own).collect());
        let baseline = self
            .cells
            .iter()
            .find(|c| c.workload == cell.workload && c.mode == Mode::Untraced);
        let w = &self.workloads[cell.workload];
        let fixed_ms = self
            .cells
            .iter()
            .find(|c| self.workloads[c.workload].start_stop && c.mode == cell.mode)
            .map(wall);
        let wall_ms = wall(cell);
        let own = ns(cell);
        let with_records: Vec<&Sample> = cell
            .samples
            .iter()
            .filter(|s| s.records.is_some())
            .collect();
        Stats {
            runs: cell.samples.len(),
            wall_ms,
            ratio: baseline.map(|b| wall_ms / wall(b)),
            own,
            own_ratio: baseline.and_then(|b| Some(own? / ns(b)?)),
            // Over the workload's time: its own clock's, for fx-time, else
            // the wall time minus what the mode takes to trace `true` (the
            // recorder's start and stop take about half a second). A
            // background recorder's log holds only its periodic counters.
            records_per_s: (!w.start_stop && !cell.mode.background())
                .then(|| {
                    median(
                        with_records
                            .iter()
                            .filter_map(|s| {
                                let records = s.records?;
                                let all = s.wall.as_secs_f64();
                                let secs = match (w.own, s.own) {
                                    (Own::Ms, Some(ms)) => ms / 1e3,
                                    _ => all - fixed_ms.unwrap_or(0.0) / 1e3,
                                };
                                // Noise could make a tiny difference meaningless.
                                (secs > 0.05 * all).then(|| records as f64 / secs)
                            })
                            .collect(),
                    )
                })
                .flatten(),
            dropped: cell.samples.iter().filter_map(|s| s.dropped).max(),
            bytes_per_record: median(
                with_records
                    .iter()
                    .filter_map(|s| {
                        let records = s.records.filter(|&r| r > 0)?;
                        Some(s.log_bytes? as f64 / records as f64)
                    })
                    .collect(),
            ),
        }
    }

    fn markdown(&self) -> String {
        let mut md = String::new();
        let dash = || "—".to_owned();
        let _ = writeln!(md, "# recorder overhead benchmark\n");
        let _ = writeln!(
            md,
            "{} · kernel {} · {} CPUs ({}) · recorder {} · {} run: median of {} runs per row\n",
            utc_now(),
            kernel_release(),
            cpu_count(),
            cpu_model(),
            commit(),
            if self.plan.quick { "quick" } else { "full" },
            self.plan.runs
        );
        let _ = writeln!(
            md,
            "| workload | tracing | runs | wall ms | × untraced | own time (× untraced) | records/s | dropped | log B/record |"
        );
        let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|--:|");
        for cell in self.cells {
            let w = &self.workloads[cell.workload];
            let s = self.stats(cell);
            let value = |v: f64| match w.own {
                Own::NsPerCall => format!("{} ns/call", fmt_ns(v)),
                _ => format!("{} ms", fmt_ms(v)),
            };
            let ns = match (s.own, s.own_ratio) {
                (Some(v), Some(r)) if cell.mode != Mode::Untraced => {
                    format!("{} ({})", value(v), fmt_ratio(r))
                }
                (Some(v), _) => value(v),
                (None, _) => dash(),
            };
            let _ = writeln!(
                md,
                "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} |",
                w.label,
                if w.reduced { " ‡" } else { "" },
                cell.mode.label(),
                s.runs,
                fmt_ms(s.wall_ms),
                s.ratio.map_or_else(dash, fmt_ratio),
                ns,
                s.records_per_s.map_or_else(dash, fmt_rate),
                s.dropped.map_or_else(dash, |d| d.to_string()),
                s.bytes_per_record.map_or_else(dash, |b| format!("{b:.1}")),
            );
        }
        md.push('\n');
        for note in self.notes() {
            let _ = writeln!(md, "- {note}");
        }
        md.push('\n');
        let _ = writeln!(md, "{}\n", self.sustained_text());
        let _ = writeln!(md, "{}\n", self.threshold_text());
        let _ = writeln!(md, "{}\n", self.load.markdown());
        let _ = writeln!(md, "{}\n", self.reader_text());
        let _ = writeln!(md, "{}\n", self.page.markdown());
        let _ = writeln!(
            md,
            "Measured in {:.0?} (setup and build before that: {:.0?}).",
            self.elapsed, self.setup
        );
        md
    }

    fn notes(&self) -> Vec<String> {
        let scratch = self.env.scratch.path().parent().unwrap_or(Path::new("/"));
        let mut notes = vec![
            format!(
                "Tracing: **none** = the workload alone. **recorder** = `recorder -o LOG -- CMD` \
                 at default settings; its wall time includes loading (verifying) and detaching \
                 the eBPF programs, which the `true` row shows. **recorder, other comm** = \
                 `recorder --comm {OTHER_COMM} -o LOG` attached in the background while the \
                 workload runs untraced: what every other process on the machine pays. \
                 **empty programs (floor)** = the same, with `--bench-floor`: programs that \
                 return at once on the same raw_syscalls tracepoints, i.e. what the kernel \
                 charges for running any program there (syscall slow path, tracepoint and BPF \
                 dispatch); no design on these tracepoints can cost less. **strace -f** = \
                 `strace -f -o LOG CMD`. **perf trace** = `perf trace -o LOG -- CMD`."
            ),
            "own time: the workload's own clock, without the tracer's start and stop: for the \
             loops, fx-loop's clock around its loop (ns per call); for `find` and `tar`, which \
             run under the fx-time wrapper, the command's wall time from spawn to exit. \
             × untraced in that column is the slowdown the traced program sees. records/s: \
             records (lines, for the text logs) over the workload's own time (for the loops, \
             wall time − the same mode's wall time on `true`). dropped: \
             the worst run; strace cannot drop (ptrace stops the tracee at every call). log \
             B/record: log file size ÷ records (the recorder writes compressed binary; strace \
             and perf trace write text)."
                .to_owned(),
            format!(
                "Each repetition runs every row once, in table order, so noise hits all modes \
                 alike, except that the other-comm rows, then the empty-program rows, run \
                 together at its end under one background recorder (starting one takes as long \
                 as the `true` row says). Medians of {} repetitions, after one untraced warm-up \
                 run per workload; `find` and `tar` also get an untimed run right before every \
                 timed one (this VM reclaims the page cache within seconds to minutes). Logs \
                 and the open/write/close file are in {}{}.",
                self.plan.runs,
                scratch.display(),
                if is_tmpfs(scratch) {
                    " (tmpfs), so disk writeback is not measured"
                } else {
                    ""
                }
            ),
        ];
        if self.workloads.iter().any(|w| w.reduced) {
            notes.insert(
                1,
                format!(
                    "‡ strace and perf trace run a reduced workload (the loops with 1/{SLOW_DIVISOR} \
                     of the calls, `find` over a smaller tree), with its own untraced row measured \
                     in the same repetitions: × untraced compares rows of the same size. Process \
                     start and exit weigh more on small runs; ns/call in loop leaves them out and \
                     compares across sizes."
                ),
            );
        }
        for (name, a) in [("strace", &self.env.strace), ("perf trace", &self.env.perf)] {
            if let Some(reason) = a.reason() {
                notes.push(format!("{name}: unavailable ({reason})."));
            }
        }
        notes
    }

    fn sustained_text(&self) -> String {
        let s = self.sustained;
        let secs = s.seconds;
        let cpus = cpu_count();
        let threads = |t: u32| format!("{t} thread{}", if t == 1 { "" } else { "s" });
        let how = |st: &RateStep| match (st.target, st.threads) {
            (Some(_), _) => "paced".to_owned(),
            (None, 1) => "unpaced: the most one thread reaches".to_owned(),
            (None, t) => format!("unpaced: the most {t} threads reach"),
        };
        let mut text = String::from("## Sustained rate\n\n");
        match s.best(None) {
            None => {
                let _ = write!(text, "No rate tried was held for {secs} s without drops.");
            }
            Some(b) => {
                let _ = write!(
                    text,
                    "Highest getppid rate held for {secs} s with zero drops at default settings: \
                     **{}/s** ({}, {}).",
                    fmt_rate(b.achieved),
                    threads(b.threads),
                    how(b)
                );
                match s.next_up(b.achieved, None) {
                    Some(n) => {
                        let _ = write!(text, " Next step up: {}.", n.describe());
                    }
                    None if s.steps.iter().all(RateStep::held) => {
                        let _ = write!(text, " No drops up to the max rate the threads reach.");
                    }
                    None => {}
                }
            }
        }
        text.push_str("\n\nBy thread count:\n\n");
        let mut seen = Vec::new();
        for st in &s.steps {
            if seen.contains(&st.threads) {
                continue;
            }
            seen.push(st.threads);
            let t = st.threads;
            let oversubscribed = if t as usize > cpus {
                format!(" (more than the {cpus} CPUs: the recorder's threads compete with them)")
            } else {
                String::new()
            };
            let best = s.best(Some(t));
            let held = best.map_or_else(
                || "nothing held".to_owned(),
                |b| format!("held {}/s ({})", fmt_rate(b.achieved), how(b)),
            );
            let dropped = s
                .next_up(best.map_or(0.0, |b| b.achieved), Some(t))
                .map_or_else(String::new, |n| {
                    let rate = n.target.unwrap_or(n.achieved);
                    let result = n
                        .loss
                        .clone()
                        .unwrap_or_else(|| format!("reached only {}/s", fmt_rate(n.achieved)));
                    format!("; at {}/s: {result}", fmt_rate(rate))
                });
            let _ = writeln!(text, "- {}{oversubscribed}: {held}{dropped}.", threads(t));
        }
        text.push_str(
            "\n| step | threads | asked calls/s | reached calls/s | records | dropped |\n",
        );
        text.push_str("|--:|--:|--:|--:|--:|---|\n");
        for (i, st) in s.steps.iter().enumerate() {
            let _ = writeln!(
                text,
                "| {} | {} | {} | {} | {} | {} |",
                i + 1,
                st.threads,
                st.target.map_or_else(|| "max".to_owned(), fmt_rate),
                fmt_rate(st.achieved),
                st.records,
                st.loss.clone().unwrap_or_else(|| "0".to_owned())
            );
        }
        let _ = write!(
            text,
            "\n`fx-rate RATE {secs} THREADS` under `recorder --overflow drop -o LOG --`: unpaced runs with 1 \
             thread, one per CPU and two per CPU until one drops, then bisection on a paced \
             rate (1 ms slots) with that many threads. A paced step holds if it drops nothing \
             and reaches {:.0}% of the rate asked for. Rates count getppid calls only (the \
             pacing sleeps add at most 1000 calls/s per thread).",
            RATE_REACHED * 100.0
        );
        text
    }

    fn threshold_text(&self) -> String {
        let sweep = self.thresholds;
        let (seconds, threads) = (sweep.seconds, sweep.threads);
        let mut t = String::from("## Wakeup threshold\n\n");
        let _ = writeln!(
            t,
            "`recorder --overflow drop --wakeup-threshold T -o LOG -- fx-rate max {seconds} {threads}` \
             ({threads} unpaced threads, two per CPU, so the recorder competes for CPU), \
             medians of {} runs; dropped is the worst run. wakeups/s: the recorder's voluntary \
             context switches per second (flush timer included), CPU/record: its CPU time per \
             record (draining, encoding, compressing, writing, and also loading its programs, \
             about 0.4 s of CPU whatever the threshold, so compare rows, not absolutes).\n",
            sweep.rows.first().map_or(0, |(_, runs)| runs.len())
        );
        let _ = writeln!(
            t,
            "| threshold | calls/s reached | dropped | recorder wakeups/s | recorder CPU ns/record |"
        );
        let _ = writeln!(t, "|--:|--:|--:|--:|--:|");
        for (threshold, runs) in &sweep.rows {
            let (rate, wakeups, cpu) = sweep.medians(runs);
            let _ = writeln!(
                t,
                "| {threshold} | {} | {} | {wakeups:.0} | {cpu:.0} |",
                fmt_rate(rate),
                runs.iter().map(|r| r.lost).max().unwrap_or(0),
            );
        }
        t.truncate(t.trim_end().len());
        t
    }

    fn reader_text(&self) -> String {
        let r = self.reader;
        let part = |runs: &ReaderRuns| {
            format!(
                "{} lines/s, max RSS {:.1} MiB",
                runs.lines_per_second(r.records)
                    .map_or_else(|| "—".to_owned(), fmt_rate),
                runs.max_rss_kib as f64 / 1024.0
            )
        };
        format!(
            "## Reader\n\n`recorder dump LOG > /dev/null` of the getppid loop's log ({} records, \
             {:.1} MB), median of {} runs: text **{}**; `--json` **{}** (max RSS: {}).",
            r.records,
            r.log_bytes as f64 / 1e6,
            r.text.walls.len(),
            part(&r.text),
            part(&r.json),
            if r.rss_by_time {
                "GNU time's %M, the worst run"
            } else {
                "wait4's ru_maxrss, the worst run; an upper bound, as it starts at xtask's own \
                 peak (install GNU time for the reader's own)"
            }
        )
    }

    fn json(&self) -> serde_json::Value {
        let cells: Vec<serde_json::Value> = self
            .cells
            .iter()
            .map(|cell| {
                let w = &self.workloads[cell.workload];
                let s = self.stats(cell);
                let samples: Vec<serde_json::Value> = cell
                    .samples
                    .iter()
                    .map(|x| {
                        json!({
                            "wall_ms": x.wall.as_secs_f64() * 1e3,
                            "own": x.own,
                            "records": x.records,
                            "dropped": x.dropped,
                            "log_bytes": x.log_bytes,
                        })
                    })
                    .collect();
                json!({
                    "workload": w.label,
                    "argv": w.argv.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>(),
                    "reduced": w.reduced,
                    "mode": cell.mode.key(),
                    "median_wall_ms": s.wall_ms,
                    "ratio_to_untraced": s.ratio,
                    "own_unit": match w.own {
                        Own::NsPerCall => Some("ns_per_call"),
                        Own::Ms => Some("ms"),
                        Own::None => None,
                    },
                    "median_own": s.own,
                    "own_ratio_to_untraced": s.own_ratio,
                    "records_per_s": s.records_per_s,
                    "dropped_max": s.dropped,
                    "log_bytes_per_record": s.bytes_per_record,
                    "samples": samples,
                })
            })
            .collect();
        let steps: Vec<serde_json::Value> = self
            .sustained
            .steps
            .iter()
            .map(|st| {
                json!({
                    "threads": st.threads,
                    "target_per_s": st.target,
                    "achieved_per_s": st.achieved,
                    "records": st.records,
                    "lost": st.lost,
                    "loss": st.loss,
                    "held": st.held(),
                })
            })
            .collect();
        let r = self.reader;
        let reader_runs = |runs: &ReaderRuns| {
            json!({
                "wall_ms": runs.walls.iter().map(|w| w.as_secs_f64() * 1e3).collect::<Vec<_>>(),
                "lines_per_s": runs.lines_per_second(r.records),
                "max_rss_kib": runs.max_rss_kib,
                "max_rss_by": if r.rss_by_time { "gnu_time" } else { "wait4" },
            })
        };
        let unavailable: BTreeMap<&str, &str> =
            [("strace", &self.env.strace), ("perf_trace", &self.env.perf)]
                .into_iter()
                .filter_map(|(k, a)| Some((k, a.reason()?)))
                .collect();
        json!({
            "date": utc_now(),
            "kernel": kernel_release(),
            "cpus": cpu_count(),
            "cpu_model": cpu_model(),
            "commit": commit(),
            "quick": self.plan.quick,
            "runs": self.plan.runs,
            "cells": cells,
            "unavailable": unavailable,
            "sustained": {
                "seconds": self.sustained.seconds,
                "steps": steps,
                "best_held_per_s": self.sustained.best(None).map(|b| b.achieved),
            },
            "wakeup_threshold": {
                "seconds": self.thresholds.seconds,
                "threads": self.thresholds.threads,
                "rows": self.thresholds.rows.iter().map(|(threshold, runs)| json!({
                    "threshold": threshold,
                    "runs": runs.iter().map(|r| json!({
                        "rate": r.achieved,
                        "records": r.records,
                        "dropped": r.lost,
                        "recorder_cpu_ms": r.recorder_cpu.as_secs_f64() * 1e3,
                        "recorder_nvcsw": r.recorder_nvcsw,
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            },
            "under_load": self.load.json(),
            "reader": {
                "records": r.records,
                "log_bytes": r.log_bytes,
                "text": reader_runs(&r.text),
                "json": reader_runs(&r.json),
            },
            "report_page": self.page.json(),
            "measuring_seconds": self.elapsed.as_secs_f64(),
            "setup_and_build_seconds": self.setup.as_secs_f64(),
        })
    }
}

/// `1M`, `200k`, `2k`, `600`: exact only, since it labels workload sizes.
fn si(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn fmt_ms(ms: f64) -> String {
    match ms {
        ms if ms < 10.0 => format!("{ms:.2}"),
        ms if ms < 100.0 => format!("{ms:.1}"),
        ms => format!("{ms:.0}"),
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns < 1e4 {
        format!("{ns:.0}")
    } else {
        format!("{:.1}k", ns / 1e3)
    }
}

fn fmt_ratio(r: f64) -> String {
    match r {
        r if r < 10.0 => format!("{r:.2}×"),
        r if r < 100.0 => format!("{r:.1}×"),
        r => format!("{r:.0}×"),
    }
}

fn fmt_rate(r: f64) -> String {
    // Thresholds just below the unit, so 999,990 reads 1.00M, not 1000.0k.
    match r {
        r if r >= 999_950.0 => format!("{:.2}M", r / 1e6),
        r if r >= 999.5 => format!("{:.1}k", r / 1e3),
        r => format!("{r:.0}"),
    }
}

/// Whether `path` is on tmpfs.
fn is_tmpfs(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt as _;
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statfs is plain old data; all-zero is a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid NUL-terminated path and a pointer to a local.
    (unsafe { libc::statfs(c.as_ptr(), &mut st) } == 0) && st.f_type as i64 == TMPFS_MAGIC
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned())
}

pub(crate) fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown model".to_owned())
}

/// The commit measured, read-only (`git` is only asked, nothing changes).
fn commit() -> String {
    let root = util::project_root();
    let root = root.to_string_lossy();
    let hash = util::probe("git", ["-C", &root, "rev-parse", "--short", "HEAD"]);
    let dirty = util::probe(
        "git",
        ["-C", &root, "status", "--porcelain", "--untracked-files=no"],
    )
    .is_some_and(|s| !s.trim().is_empty());
    match hash {
        Some(h) => format!("{}{}", h.trim(), if dirty { "+changes" } else { "" }),
        None => "(no git)".to_owned(),
    }
}

/// Now, as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_recorder_summaries() {
        let ok = RecorderSummary::parse(
            "recorder: recording pid 1 to x\nrecorder: 1000067 records written to /x (5968332 bytes), none lost\n",
        )
        .unwrap();
        assert_eq!((ok.records, ok.lost, ok.loss), (1_000_067, 0, None));
        let lost = RecorderSummary::parse(
            "recorder: 12 records written to /x (89 bytes); LOST 7250701 (ring buffer full: 1519, \
             not written: 7249182, stash full: 0); 3 calls were already in progress when recording started",
        )
        .unwrap();
        assert_eq!(lost.lost, 7_250_701);
        assert_eq!(
            lost.loss.as_deref(),
            Some("LOST 7250701 (ring buffer full: 1519, not written: 7249182, stash full: 0)")
        );
        assert!(RecorderSummary::parse("recorder: error: nope").is_err());
    }

    #[test]
    fn classifies_text_log_lines() {
        assert!(matches!(TextLog::strace("123 getppid() = 1"), Line::Record));
        assert!(matches!(
            TextLog::strace("123 +++ exited with 0 +++"),
            Line::Other
        ));
        assert!(matches!(
            TextLog::strace("123 <... read resumed>\"x\", 1) = 1"),
            Line::Other
        ));
        assert!(matches!(TextLog::perf("LOST 17 events!"), Line::Lost(17)));
        assert!(matches!(
            TextLog::perf("0.096 ( 0.019 ms): fx-loop/18532 brk() = 0x5"),
            Line::Record
        ));
    }

    #[test]
    fn formats() {
        assert_eq!(si(1_000_000), "1M");
        assert_eq!(si(60_000), "60k");
        assert_eq!(si(600), "600");
        assert_eq!(round3(1_234_567.0), 1_230_000.0);
        assert_eq!(fmt_rate(999_990.0), "1.00M");
        assert_eq!(fmt_rate(999_400.0), "999.4k");
        assert_eq!(fmt_rate(999.7), "1.0k");
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }
}
