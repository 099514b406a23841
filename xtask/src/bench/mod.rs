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
//!   these tracepoints), and with one empty program on sys_exit only
//!   (`--bench-floor exit`: the floor of an exit-only recorder); `strace
//!   -f -o`; and `perf trace -o` where it works.
//!
//! The machines this runs on are shared and noisy, so only ratios measured
//! side by side mean much: each repetition runs every workload under each
//! of its modes with an untraced run before and after every one, the
//! background modes too (each run beside a recorder started for it, outside
//! the timed part), in an order rotated at every repetition
//! ([`measure_cells`]); each ratio is taken against the untraced runs
//! around it, and the table shows the median, min and max of those. strace and
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
//!
//! The code, by concern: [`modes`] (the kinds of tracing, and which tracers
//! run here), [`workloads`] (the programs measured), [`cells`] (one
//! workload under one mode, and the background recorder), [`rate`] (the
//! sustained-rate search and the wakeup-threshold sweep), [`reader`]
//! (`recorder dump` throughput), [`load`] and [`page`] (their sections),
//! [`report`] (the markdown and JSON, and the number formats), [`host`]
//! (facts about this machine and commit), [`process`] (running a child and
//! measuring it) and [`logs`] (reading what the tracers wrote). This file
//! holds the options, the plan of a run, the environment, and the order
//! everything runs in.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{compile, setup, util};

mod cells;
mod host;
mod load;
mod logs;
mod modes;
mod page;
mod process;
mod rate;
mod reader;
mod report;
mod workloads;

pub(crate) use host::{cpu_count, cpu_model};

use cells::{Base, Cell, background_cell, cell_log, run_cell};
use modes::{Availability, Mode, probe_tracer};
use rate::{sustained_rate, threshold_sweep};
use reader::reader;
use report::Report;
use workloads::{Own, Workload, workloads};

#[derive(clap::Args, Clone, Copy, Default)]
pub struct Options {
    /// Smaller workloads, 2 s sustained-rate steps and one 2 s run per row
    /// under load (still 9 runs per cell), so the whole benchmark takes
    /// about ten minutes.
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
    /// Only the `recorder watch` rows: the getppid and open/write/close
    /// loops untraced, beside the empty programs, and beside a watch that
    /// does not select their calls, selects them but not their path, and
    /// records them all.
    #[arg(long, conflicts_with_all = ["page_only", "load_only"])]
    pub watch_only: bool,
}

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
            // Nine in quick runs too: with three, two quick runs in a row
            // agreed within 10% on 35-41 of their 53 own-time ratios (the
            // untraced getppid loop alone runs at ~165 or ~210 ns a call
            // from one minute to the next, and a median of three paired
            // ratios still follows that); with five, on 43-51, the rest off
            // by 10-12%. Nine narrow a median's spread by sqrt(9/5) = 1.34
            // for about two and a half minutes more.
            runs: 9,
            // A million in quick runs too: two quick runs of 200,000 calls
            // (60 ms of CPU each) disagreed by 10-17% on the floor and
            // background rows, all the rest within 10%; the longer loop
            // costs about 20 s.
            getppid_calls: 1_000_000,
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
    let mut workloads = workloads(&plan, &env)?;
    if opts.watch_only {
        workloads = watch_workloads(workloads);
    }
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
        "bench: {} cells × {} runs{}{}",
        cells.len(),
        plan.runs,
        if plan.quick { " (quick)" } else { "" },
        if opts.watch_only {
            ""
        } else {
            ", then the sustained-rate search, the runs under load and the reader"
        }
    );
    measure_cells(&env, &plan, &workloads, &mut cells)?;
    if opts.watch_only {
        println!("{}", report::watch_table(&workloads, &cells, &plan));
        return Ok(());
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
    write_outputs(&report)
}

/// `--watch-only`: the two loops at full size, under the modes a watch is
/// compared with.
fn watch_workloads(all: Vec<Workload>) -> Vec<Workload> {
    let keep = [
        Mode::Untraced,
        Mode::Floor,
        Mode::LeanFloor,
        Mode::WatchUnselected,
        Mode::WatchPathReject,
        Mode::WatchMatched,
    ];
    all.into_iter()
        .filter(|w| w.own == Own::NsPerCall && !w.reduced)
        .map(|mut w| {
            w.modes.retain(|m| keep.contains(m));
            w
        })
        .collect()
}

/// The main table's cells: one untraced warm-up run per workload, then
/// `plan.runs` repetitions. In each, every workload runs under each of its
/// modes with an untraced run before and after every one (U A U B U C U…),
/// the background modes too (each beside a recorder started for that run),
/// in an order rotated by one at every repetition, so that no mode always
/// runs first or last. Each traced run's ratios are taken against the mean
/// of the two untraced runs around it: drift on the shared machine, over
/// seconds, then hits both sides of a ratio alike.
fn measure_cells(env: &Env, plan: &Plan, workloads: &[Workload], cells: &mut [Cell]) -> Result<()> {
    // Warm-up, not measured: the page cache for the binaries, the dentry
    // cache for find.
    for w in workloads {
        run_cell(env, w, Mode::Untraced, &env.path("warmup.log"))
            .with_context(|| format!("warm-up run of {}", w.label))?;
    }
    for rep in 0..plan.runs {
        let t = Instant::now();
        for (wi, w) in workloads.iter().enumerate() {
            let of_w = |cells: &[Cell], untraced: bool| -> Vec<usize> {
                (0..cells.len())
                    .filter(|&i| cells[i].workload == wi)
                    .filter(|&i| (cells[i].mode == Mode::Untraced) == untraced)
                    .collect()
            };
            let base = of_w(cells, true).first().copied();
            let traced = of_w(cells, false);
            let mut before = match base {
                Some(b) => Some(untraced_run(env, w, cells, b)?),
                None => None,
            };
            for i in rotated(&traced, rep) {
                let mut sample = run_one(env, w, cells, i)?;
                if let (Some(b), Some((prev, prev_clean))) = (base, &before) {
                    let (after, after_clean) = untraced_run(env, w, cells, b)?;
                    // A ratio against a run that another tracer slowed
                    // would flatter the mode: left out (the notes count them).
                    if *prev_clean && after_clean {
                        sample.base = Some(Base::between(prev, &after));
                    }
                    before = Some((after, after_clean));
                }
                cells[i].samples.push(sample);
            }
        }
        eprintln!(
            "bench: repetition {}/{} done in {:.1?}",
            rep + 1,
            plan.runs,
            t.elapsed()
        );
    }
    Ok(())
}

/// Runs cell `i` once. An untraced run's sample is kept in its cell here;
/// a traced one's is returned for the caller to add its baseline to.
fn run_one(env: &Env, w: &Workload, cells: &mut [Cell], i: usize) -> Result<cells::Sample> {
    let mode = cells[i].mode;
    let log = cell_log(env, i);
    let sample = if mode.background() {
        background_cell(env, w, mode, &log)
    } else {
        run_cell(env, w, mode, &log)
    }
    .with_context(|| format!("{} under {}", w.label, mode.label()))?;
    if mode == Mode::Untraced {
        cells[i].samples.push(sample.clone());
    }
    Ok(sample)
}

/// Untraced runs, and those that had another process's program on the
/// raw_syscalls tracepoints before or after them (see
/// [`foreign_syscall_programs`]), for the report's notes.
pub(super) static UNTRACED_RUNS: AtomicUsize = AtomicUsize::new(0);
pub(super) static FOREIGN_RUNS: AtomicUsize = AtomicUsize::new(0);
/// How long an untraced run waits for another tracer to go away.
const QUIET_WAIT: Duration = Duration::from_secs(5);

/// An untraced run, and whether it was clean: no other process's program
/// on the syscall tracepoints just before it (it waits up to
/// [`QUIET_WAIT`] for them to go) or just after it. Without bpftool every
/// run counts as clean.
fn untraced_run(
    env: &Env,
    w: &Workload,
    cells: &mut [Cell],
    i: usize,
) -> Result<(cells::Sample, bool)> {
    let t = Instant::now();
    while (foreign_syscall_programs().unwrap_or(0) > 0 || recorders_alive() > 0)
        && t.elapsed() < QUIET_WAIT
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = foreign_syscall_programs().unwrap_or(0);
    let sample = run_one(env, w, cells, i)?;
    let clean = before == 0 && foreign_syscall_programs().unwrap_or(0) == 0;
    UNTRACED_RUNS.fetch_add(1, Ordering::Relaxed);
    if !clean {
        FOREIGN_RUNS.fetch_add(1, Ordering::Relaxed);
    }
    Ok((sample, clean))
}

/// Programs of other processes on the raw_syscalls tracepoints right now
/// (another recorder, a CI run, bpftrace), from `bpftool link show`:
/// while one is attached, every thread of the machine is on the syscall
/// slow path, so an "untraced" run is not. Only asked between runs, when
/// none of the bench's own recorders is attached. `None`: no bpftool.
pub(super) fn foreign_syscall_programs() -> Option<usize> {
    let out = std::process::Command::new("bpftool")
        .args(["link", "show", "--json"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let links: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(count_syscall_links(&links))
}

/// Processes named `recorder` (none of the bench's own runs between two
/// runs): a stopped recorder's holder process, which releases its classic
/// tracepoint links as it exits. The kernel takes a link out of the list
/// bpftool reads before it detaches it (`bpf_link_free` frees the id, then
/// releases: kernel/bpf/syscall.c), and the detach waits for RCU grace
/// periods, 100-200 ms here, with the tracepoint still on. Until the holder
/// is gone, an untraced run is on the syscall slow path, and a recorder
/// starting then waits for the same tracepoint locks: the bench's `true`
/// row at `-s 0` took 117-143 ms in 8 of 10 runs, 34-61 ms alone.
fn recorders_alive() -> usize {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    procs
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .filter(|e| {
            // `comm) S ...`: a zombie's exit, the detach with it, is done
            // (this VM's init reaps orphans a second or two later).
            std::fs::read_to_string(e.path().join("stat")).is_ok_and(|st| {
                st.split_once(" (")
                    .and_then(|(_, rest)| rest.rsplit_once(") "))
                    .is_some_and(|(comm, rest)| comm == "recorder" && !rest.starts_with('Z'))
            })
        })
        .count()
}

/// Raw tracepoint links on sys_enter/sys_exit, and every perf_event link:
/// bpftool does not say which tracepoint a perf_event link is on, and one
/// on a per-syscall event (`syscalls:sys_enter_execve`, as lean mode
/// attaches) puts every thread on the slow path as surely. A stopped
/// recorder's classic links live on for 100-200 ms in its holder process
/// (docs/design.md, "Start and stop"): an untraced run that started then
/// took 287 ns a getppid against 165 a second later.
fn count_syscall_links(links: &serde_json::Value) -> usize {
    links.as_array().map_or(0, |all| {
        all.iter()
            .filter(|l| {
                l["type"] == "perf_event"
                    || (l["type"] == "raw_tracepoint"
                        && (l["tp_name"] == "sys_enter" || l["tp_name"] == "sys_exit"))
            })
            .count()
    })
}

/// `items` rotated left by `by`: repetition `by`'s order of a workload's
/// cells.
fn rotated(items: &[usize], by: usize) -> Vec<usize> {
    let mut v = items.to_vec();
    if !v.is_empty() {
        let n = by % v.len();
        v.rotate_left(n);
    }
    v
}

/// Prints the report and writes it to target/bench/bench.md, with the raw
/// samples in bench.json.
fn write_outputs(report: &Report) -> Result<()> {
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

#[cfg(test)]
mod tests {
    /// `bpftool link show --json` as bpftool 7 prints it: the recorder's
    /// classic tracepoints are perf_event links (which count: they may be
    /// per-syscall events), its raw ones carry `tp_name`; of those only
    /// sys_enter/sys_exit ones count.
    #[test]
    fn foreign_links_are_the_raw_syscall_ones() {
        let links: serde_json::Value = serde_json::from_str(
            r#"[{"id": 1, "type": "perf_event", "prog_id": 7},
                {"id": 2, "type": "raw_tracepoint", "prog_id": 8, "tp_name": "sys_exit"},
                {"id": 3, "type": "raw_tracepoint", "prog_id": 9, "tp_name": "sys_enter"},
                {"id": 4, "type": "raw_tracepoint", "prog_id": 10, "tp_name": "sched_switch"},
                {"id": 5, "type": "tracing", "prog_id": 11}]"#,
        )
        .unwrap();
        assert_eq!(count_syscall_links(&links), 3);
        assert_eq!(count_syscall_links(&serde_json::json!([])), 0);
    }

    use super::{count_syscall_links, rotated};

    #[test]
    fn every_cell_takes_every_place_in_turn() {
        let cells = [4, 5, 6];
        assert_eq!(rotated(&cells, 0), [4, 5, 6]);
        assert_eq!(rotated(&cells, 1), [5, 6, 4]);
        assert_eq!(rotated(&cells, 2), [6, 4, 5]);
        assert_eq!(rotated(&cells, 3), [4, 5, 6]);
        assert!(rotated(&[], 2).is_empty());
    }
}
