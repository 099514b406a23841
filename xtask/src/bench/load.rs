//! The bench's "Under load" section: the sustained-rate run (fx-rate
//! unpaced, one thread per CPU, `recorder -s 0` with the default ring) in
//! drop and in lossless (pause) mode, in four conditions:
//!
//! - quiet;
//! - beside one busy loop per CPU at nice 0 (a shell loop that makes no
//!   system calls): the traced program and the recorder compete for CPU;
//! - with the recorder held to 25% and to 10% of one CPU by a cgroup (a
//!   slow board core), the traced program outside that limit.
//!
//! Each condition also runs the fixture untraced, interleaved with the two
//! modes, so the slowdown a mode imposes on the traced program is the
//! untraced rate over the traced one, in the same condition. Nothing is
//! asserted: the tables only show what happened.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::Env;
use super::host::cpu_count;
use super::process::{PeakRss, field, measure, signal, wait4};
use super::report::{fmt_rate, fmt_ratio, median};

/// CFS period of the cgroup limits (the kernel's default).
const PERIOD_US: u64 = 100_000;
/// Shares of one CPU the recorder is held to.
const LIMITS: [u64; 2] = [25, 10];
/// How long the resume guard may take to leave the group after the
/// recorder exits, before the group is emptied by hand.
const GROUP_DRAIN_MS: u64 = 2000;

/// Where the run happens.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Condition {
    Quiet,
    /// One busy loop per CPU, at nice 0.
    Busy,
    /// The recorder limited to this percentage of one CPU.
    Limited(u64),
}

impl Condition {
    fn label(self) -> String {
        match self {
            Condition::Quiet => "quiet".to_owned(),
            Condition::Busy => "busy loop per CPU".to_owned(),
            Condition::Limited(p) => format!("recorder at {p}% of a CPU"),
        }
    }

    fn key(self) -> String {
        match self {
            Condition::Quiet => "quiet".to_owned(),
            Condition::Busy => "busy".to_owned(),
            Condition::Limited(p) => format!("recorder_cpu_{p}pct"),
        }
    }
}

/// How the fixture runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tracing {
    Untraced,
    /// `--overflow drop`.
    Drop,
    /// `--overflow pause`: lossless.
    Pause,
}

impl Tracing {
    const ALL: [Tracing; 3] = [Tracing::Untraced, Tracing::Drop, Tracing::Pause];

    fn key(self) -> &'static str {
        match self {
            Tracing::Untraced => "untraced",
            Tracing::Drop => "drop",
            Tracing::Pause => "pause",
        }
    }

    /// `--overflow`'s value.
    fn overflow(self) -> Option<&'static str> {
        match self {
            Tracing::Untraced => None,
            Tracing::Drop => Some("drop"),
            Tracing::Pause => Some("pause"),
        }
    }
}

/// Lossless mode's pauses, from `info --json`'s `completeness.pauses`.
#[derive(Clone, Copy, Debug, Default)]
struct Pauses {
    count: u64,
    total_ns: u64,
    max_ns: u64,
    left_stopped: u64,
}

/// What the recorder's log and rusage say about a traced run.
#[derive(Clone, Copy, Debug, Default)]
struct Traced {
    records: u64,
    ring_full: u64,
    writer_backlog: u64,
    pauses: Pauses,
    /// ru_maxrss of the recorder process (wait4), in KiB.
    max_rss_kib: u64,
}

impl Traced {
    fn dropped(&self) -> u64 {
        self.ring_full + self.writer_backlog
    }

    /// Dropped records over all the records there were.
    fn loss_rate(&self) -> f64 {
        let all = self.records + self.dropped();
        if all == 0 {
            0.0
        } else {
            self.dropped() as f64 / all as f64
        }
    }
}

/// One run of the fixture.
#[derive(Clone, Copy, Debug)]
struct Run {
    calls: u64,
    /// getppid calls per second it made.
    rate: f64,
    traced: Option<Traced>,
}

/// One condition and tracing, and its runs.
struct Row {
    condition: Condition,
    tracing: Tracing,
    runs: Vec<Run>,
}

/// Medians (and worst cases) of a row, as the table shows them.
struct Stats {
    rate: Option<f64>,
    /// Untraced calls/s over this row's, in the same condition.
    slowdown: Option<f64>,
    dropped_max: Option<u64>,
    loss_rate_max: Option<f64>,
    pauses_median: Option<f64>,
    paused_ns_median: Option<f64>,
    longest_pause_ns: Option<u64>,
    left_stopped: Option<u64>,
    max_rss_kib: Option<u64>,
}

/// The section's results.
pub(super) struct Load {
    seconds: f64,
    threads: u32,
    reps: usize,
    /// How the recorder's CPU was limited (`cgroup v1 /sys/fs/cgroup/cpu`).
    hierarchy: Option<String>,
    /// Conditions that could not be set up, and why.
    skipped: Vec<(Condition, String)>,
    rows: Vec<Row>,
}

/// Runs every condition, each with every tracing, `reps` times.
pub(super) fn under_load(env: &Env, quick: bool) -> Result<Load> {
    let (reps, seconds) = if quick { (1, 2.0) } else { (3, 3.0) };
    let mut load = Load {
        seconds,
        threads: u32::try_from(cpu_count()).unwrap_or(1),
        reps,
        hierarchy: None,
        skipped: Vec::new(),
        rows: Vec::new(),
    };
    let hierarchy = load.find_hierarchy();
    for rep in 0..reps {
        for condition in load.conditions() {
            let held = Held::enter(condition, hierarchy.as_ref())
                .with_context(|| format!("setting up {}", condition.label()))?;
            for row in load.rows.iter_mut().filter(|r| r.condition == condition) {
                let run = fixture_run(env, &held, row.tracing, seconds, load.threads)
                    .with_context(|| format!("{}, {}", condition.label(), row.tracing.key()))?;
                eprintln!(
                    "bench: under load {}/{reps}: {}, {}: {}",
                    rep + 1,
                    condition.label(),
                    row.tracing.key(),
                    describe(&run)
                );
                row.runs.push(run);
            }
        }
    }
    Ok(load)
}

impl Load {
    /// The cgroup hierarchy to limit the recorder with, and the rows of
    /// every condition that can run here (the limited ones only with one).
    fn find_hierarchy(&mut self) -> Option<Hierarchy> {
        let mut conditions = vec![Condition::Quiet, Condition::Busy];
        let hierarchy = match Hierarchy::find() {
            Ok(h) => {
                self.hierarchy = Some(h.describe());
                conditions.extend(LIMITS.map(Condition::Limited));
                Some(h)
            }
            Err(e) => {
                let reason = format!("{e:#}");
                self.skipped = LIMITS
                    .map(|p| (Condition::Limited(p), reason.clone()))
                    .to_vec();
                None
            }
        };
        for condition in conditions {
            for tracing in Tracing::ALL {
                self.rows.push(Row {
                    condition,
                    tracing,
                    runs: Vec::new(),
                });
            }
        }
        hierarchy
    }

    /// The conditions of the rows, in table order.
    fn conditions(&self) -> Vec<Condition> {
        let mut c: Vec<Condition> = self.rows.iter().map(|r| r.condition).collect();
        c.dedup();
        c
    }
}

fn describe(run: &Run) -> String {
    let rate = format!("{}/s", fmt_rate(run.rate));
    match &run.traced {
        None => rate,
        Some(t) => format!(
            "{rate}, {} dropped, {} pauses ({:.2} s), recorder RSS {:.1} MiB",
            t.dropped(),
            t.pauses.count,
            t.pauses.total_ns as f64 / 1e9,
            t.max_rss_kib as f64 / 1024.0
        ),
    }
}

/// A condition in force: busy loops running, or a cgroup to start the
/// recorder in. Dropping it ends the condition.
enum Held {
    Quiet,
    /// The loops spin until it is dropped.
    Busy {
        _spinners: Spinners,
    },
    Limited(CpuLimit),
}

impl Held {
    fn enter(condition: Condition, hierarchy: Option<&Hierarchy>) -> Result<Self> {
        Ok(match condition {
            Condition::Quiet => Held::Quiet,
            Condition::Busy => Held::Busy {
                _spinners: Spinners::start(cpu_count())?,
            },
            Condition::Limited(percent) => {
                let h = hierarchy.context("no cgroup hierarchy with a cpu controller")?;
                Held::Limited(h.limit(percent)?)
            }
        })
    }

    /// Prefixes for the recorder's argv (joining the limited group) and the
    /// fixture's (leaving it for the root group).
    fn prefixes(&self) -> (Vec<OsString>, Vec<OsString>) {
        match self {
            Held::Limited(cg) => (join_group(&cg.dir), join_group(&cg.root)),
            Held::Quiet | Held::Busy { .. } => (Vec::new(), Vec::new()),
        }
    }
}

/// `sh -c 'echo $$ > GROUP/cgroup.procs && exec "$@"' sh`: the command
/// that follows runs in GROUP, with the same pid.
fn join_group(group: &Path) -> Vec<OsString> {
    let script = format!(
        "echo $$ > '{}/cgroup.procs' && exec \"$@\"",
        group.display()
    );
    ["sh", "-c", &script, "sh"].map(OsString::from).to_vec()
}

/// Runs fx-rate once under `tracing`; a traced run's log is read with
/// `recorder info --json`, then removed.
fn fixture_run(
    env: &Env,
    held: &Held,
    tracing: Tracing,
    seconds: f64,
    threads: u32,
) -> Result<Run> {
    let log = env.path("load.log");
    let _ = std::fs::remove_file(&log);
    let (recorder_prefix, fixture_prefix) = held.prefixes();
    let peak = PeakRss::new(env.path("load.rss"));
    let mut argv = fixture_prefix;
    argv.extend([
        env.fx_rate.clone().into_os_string(),
        "max".into(),
        seconds.to_string().into(),
        threads.to_string().into(),
    ]);
    if let Some(overflow) = tracing.overflow() {
        let recorder: Vec<OsString> = recorder_prefix
            .into_iter()
            .chain(peak.as_ref().map(PeakRss::prefix).unwrap_or_default())
            .chain([
                env.recorder.clone().into_os_string(),
                "-o".into(),
                log.clone().into_os_string(),
                "-s".into(),
                "0".into(),
                "--overflow".into(),
                overflow.into(),
                "--".into(),
            ])
            .collect();
        argv = recorder.into_iter().chain(argv).collect();
    }
    let mut cmd = env.command(&argv[0]);
    cmd.args(&argv[1..]);
    let out = measure(&mut cmd, true)?.success()?;
    let number = |key: &str| {
        field(&out.stdout, key)
            .with_context(|| format!("fx-rate printed no {key}: {}", out.stdout.trim_end()))
    };
    let mut run = Run {
        calls: number("calls=")? as u64,
        rate: number("rate=")?,
        traced: None,
    };
    if tracing != Tracing::Untraced {
        let mut traced = read_log(env, &log)?;
        traced.max_rss_kib = match &peak {
            Some(p) => p.read()?,
            None => out.max_rss_kib,
        };
        run.traced = Some(traced);
        let _ = std::fs::remove_file(&log);
    }
    Ok(run)
}

/// Records, losses and pauses, from `recorder info --json LOG`.
fn read_log(env: &Env, log: &Path) -> Result<Traced> {
    let out = env
        .command(&env.recorder)
        .args(["info", "--json"])
        .arg(log)
        .output()
        .context("cannot run recorder info")?;
    if !out.status.success() {
        bail!(
            "`recorder info --json {}` failed ({}): {}",
            log.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    let info: Value =
        serde_json::from_slice(&out.stdout).context("recorder info --json printed no JSON")?;
    let c = &info["completeness"];
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    Ok(Traced {
        records: info["records"]
            .as_u64()
            .context("no records in recorder info --json")?,
        ring_full: n(&c["ring_full"]),
        writer_backlog: n(&c["writer_backlog"]),
        pauses: Pauses {
            count: n(&c["pauses"]["count"]),
            total_ns: n(&c["pauses"]["total_ns"]),
            max_ns: n(&c["pauses"]["max_ns"]),
            left_stopped: n(&c["pauses"]["left_stopped"]),
        },
        max_rss_kib: 0,
    })
}

/// Busy loops without system calls, one per CPU; killed on drop.
struct Spinners(Vec<Child>);

impl Spinners {
    fn start(n: usize) -> Result<Self> {
        let mut spinners = Self(Vec::new());
        for _ in 0..n {
            let child = Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("cannot start a busy loop (sh)")?;
            let pid = child.id();
            spinners.0.push(child);
            // Nice 0 whatever ours is.
            // SAFETY: no memory-safety preconditions; pid is our unreaped child.
            if unsafe { libc::setpriority(libc::PRIO_PROCESS, pid, 0) } != 0 {
                return Err(std::io::Error::last_os_error())
                    .context("cannot set a busy loop's nice value to 0");
            }
        }
        Ok(spinners)
    }
}

impl Drop for Spinners {
    fn drop(&mut self) {
        for child in &self.0 {
            signal(child, libc::SIGKILL);
        }
        for child in &self.0 {
            let _ = wait4(child);
        }
    }
}

/// The cgroup hierarchy with a CPU bandwidth controller.
enum Hierarchy {
    /// cgroup v1 `cpu` (cpu.cfs_period_us, cpu.cfs_quota_us), its root.
    V1(PathBuf),
    /// cgroup v2 (cpu.max), its root.
    V2(PathBuf),
}

impl Hierarchy {
    fn find() -> Result<Self> {
        let v1 = Path::new("/sys/fs/cgroup/cpu");
        if v1.join("cpu.cfs_quota_us").exists() {
            return Ok(Hierarchy::V1(v1.to_owned()));
        }
        let v2 = Path::new("/sys/fs/cgroup");
        let controllers = std::fs::read_to_string(v2.join("cgroup.controllers"))
            .context("no cgroup v1 cpu controller and no cgroup v2 hierarchy")?;
        if !controllers.split_whitespace().any(|c| c == "cpu") {
            bail!("cgroup v2 has no cpu controller (and there is no cgroup v1 cpu)");
        }
        // Child groups get cpu.max only once the root delegates the controller.
        std::fs::write(v2.join("cgroup.subtree_control"), "+cpu")
            .context("cannot enable the cgroup v2 cpu controller for child groups")?;
        Ok(Hierarchy::V2(v2.to_owned()))
    }

    fn root(&self) -> &Path {
        match self {
            Hierarchy::V1(r) | Hierarchy::V2(r) => r,
        }
    }

    fn describe(&self) -> String {
        let how = match self {
            Hierarchy::V1(r) => format!(
                "cgroup v1 `cpu` at {}: cpu.cfs_period_us={PERIOD_US} and \
                 cpu.cfs_quota_us=N×{}",
                r.display(),
                PERIOD_US / 100
            ),
            Hierarchy::V2(r) => format!(
                "cgroup v2 at {}: cpu.max=\"N×{} {PERIOD_US}\"",
                r.display(),
                PERIOD_US / 100
            ),
        };
        format!("{how} in a new child group per condition and repetition, removed afterwards")
    }

    /// A new child group limited to `percent` of one CPU.
    fn limit(&self, percent: u64) -> Result<CpuLimit> {
        let root = self.root();
        let dir = root.join(format!("recorder-bench-{}-{percent}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the cgroup {}", dir.display()))?;
        let limit = CpuLimit {
            dir,
            root: root.to_owned(),
        };
        let quota = PERIOD_US * percent / 100;
        let files: Vec<(&str, String)> = match self {
            Hierarchy::V1(_) => vec![
                ("cpu.cfs_period_us", PERIOD_US.to_string()),
                ("cpu.cfs_quota_us", quota.to_string()),
            ],
            Hierarchy::V2(_) => vec![("cpu.max", format!("{quota} {PERIOD_US}"))],
        };
        for (file, value) in files {
            let path = limit.dir.join(file);
            std::fs::write(&path, &value)
                .with_context(|| format!("cannot write {value} to {}", path.display()))?;
        }
        Ok(limit)
    }
}

/// A child cgroup with a CPU limit; removed on drop.
struct CpuLimit {
    dir: PathBuf,
    /// The hierarchy's root group, where the fixture goes.
    root: PathBuf,
}

impl CpuLimit {
    fn members(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("cgroup.procs"))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for CpuLimit {
    /// The recorder has exited; its resume guard follows within moments.
    /// Whatever is still there after that goes to the root group, so the
    /// empty group can be removed.
    fn drop(&mut self) {
        for _ in 0..GROUP_DRAIN_MS / 10 {
            if self.members().is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        for pid in self.members() {
            let _ = std::fs::write(self.root.join("cgroup.procs"), pid);
        }
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            eprintln!(
                "bench: cannot remove the cgroup {}: {e}",
                self.dir.display()
            );
        }
    }
}

impl Load {
    fn row(&self, condition: Condition, tracing: Tracing) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.condition == condition && r.tracing == tracing)
    }

    fn stats(&self, row: &Row) -> Stats {
        let rate = |r: &Row| median(r.runs.iter().map(|x| x.rate).collect());
        let traced: Vec<&Traced> = row.runs.iter().filter_map(|r| r.traced.as_ref()).collect();
        let med = |f: &dyn Fn(&Traced) -> f64| median(traced.iter().map(|t| f(t)).collect());
        let max = |f: &dyn Fn(&Traced) -> u64| traced.iter().map(|t| f(t)).max();
        let own = rate(row);
        let untraced = (row.tracing != Tracing::Untraced)
            .then(|| self.row(row.condition, Tracing::Untraced))
            .flatten()
            .and_then(rate);
        Stats {
            rate: own,
            slowdown: untraced.zip(own).map(|(u, t)| u / t),
            dropped_max: max(&|t| t.dropped()),
            loss_rate_max: traced.iter().map(|t| t.loss_rate()).reduce(f64::max),
            pauses_median: med(&|t| t.pauses.count as f64),
            paused_ns_median: med(&|t| t.pauses.total_ns as f64),
            longest_pause_ns: max(&|t| t.pauses.max_ns),
            left_stopped: max(&|t| t.pauses.left_stopped),
            max_rss_kib: max(&|t| t.max_rss_kib),
        }
    }

    pub(super) fn markdown(&self) -> String {
        let mut md = String::from("## Under load: contention and a slow recorder\n\n");
        let _ = writeln!(
            md,
            "`recorder -s 0 -o LOG --overflow drop|pause -- fx-rate max {} {}` ({} unpaced \
             getppid thread{}, one per CPU; default ring), and the same fixture untraced, in \
             each condition; medians of {} run{} of {} s.\n",
            self.seconds,
            self.threads,
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.reps,
            if self.reps == 1 { "" } else { "s" },
            self.seconds
        );
        let _ = writeln!(
            md,
            "| condition | overflow | calls/s | slowdown (× untraced) | dropped | loss rate | \
             pauses | paused | longest pause | recorder peak RSS |"
        );
        let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        for row in &self.rows {
            let _ = writeln!(md, "{}", self.table_row(row));
        }
        md.push('\n');
        for note in self.notes() {
            let _ = writeln!(md, "- {note}");
        }
        md.truncate(md.trim_end().len());
        md
    }

    fn table_row(&self, row: &Row) -> String {
        let s = self.stats(row);
        let mut cells = vec![
            row.condition.label(),
            row.tracing.key().to_owned(),
            s.rate.map_or_else(|| "—".to_owned(), fmt_rate),
        ];
        if row.tracing == Tracing::Untraced {
            cells.extend(std::iter::repeat_n("—".to_owned(), 7));
        } else {
            cells.extend(self.traced_cells(&s));
        }
        format!("| {} |", cells.join(" | "))
    }

    /// slowdown, dropped, loss rate, pauses, paused, longest, RSS.
    fn traced_cells(&self, s: &Stats) -> [String; 7] {
        let or_dash = |text: Option<String>| text.unwrap_or_else(|| "—".to_owned());
        let paused = s.paused_ns_median.map(|ns| {
            if ns > 0.0 {
                format!(
                    "{:.2} s ({})",
                    ns / 1e9,
                    fmt_share(ns / (self.seconds * 1e9))
                )
            } else {
                "0".to_owned()
            }
        });
        [
            or_dash(s.slowdown.map(fmt_ratio)),
            or_dash(s.dropped_max.map(|d| d.to_string())),
            or_dash(s.loss_rate_max.map(fmt_share)),
            or_dash(s.pauses_median.map(|p| format!("{p:.0}"))),
            or_dash(paused),
            or_dash(
                s.longest_pause_ns
                    .filter(|&ns| ns > 0)
                    .map(|ns| format!("{:.1} ms", ns as f64 / 1e6)),
            ),
            or_dash(
                s.max_rss_kib
                    .map(|k| format!("{:.1} MiB", k as f64 / 1024.0)),
            ),
        ]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = vec![
            "Conditions: **quiet** = nothing else of ours running. **busy loop per CPU** = one \
             `sh -c 'while :; do :; done'` per CPU at nice 0 (no system calls), killed \
             afterwards: the fixture and the recorder (nice -10) compete for CPU. **recorder at \
             N% of a CPU** = the recorder (and its resume guard) started in a new cgroup limited \
             to N ms per 100 ms, the fixture moved back to the root group before its exec: a \
             slow core for the recorder only."
                .to_owned(),
            "Each repetition runs every condition in table order and, within it, untraced, drop \
             and pause back to back. slowdown = the untraced calls/s of the same condition over \
             the row's (medians): for pause rows, what lossless mode costs the traced program; \
             drop rows show tracing's own cost. dropped = ring_full + writer_backlog from \
             `recorder info --json` (the worst run); loss rate = dropped ÷ (records in the log \
             + dropped), the worst run. pauses and paused (total time stopped, and its share of \
             the run) are medians, longest pause the worst run. recorder peak RSS = the recorder \
             process's own peak (GNU time's %M; the maximum over it and the processes it \
             reaped, fx-rate being a few MiB), the worst run. Without /usr/bin/time it is \
             wait4's ru_maxrss, which is at least xtask's own peak: a spawned child starts \
             with it."
                .to_owned(),
        ];
        if let Some(h) = &self.hierarchy {
            notes.push(format!("CPU limit: {h}."));
        }
        for (condition, reason) in &self.skipped {
            notes.push(format!("{}: not measured ({reason}).", condition.label()));
        }
        let left: u64 = self
            .rows
            .iter()
            .filter_map(|r| self.stats(r).left_stopped)
            .sum();
        if left > 0 {
            notes.push(format!(
                "**{left} pause(s) ended with the process left stopped**: nobody else stops \
                 fx-rate here, so this should not happen."
            ));
        }
        notes
    }

    pub(super) fn json(&self) -> Value {
        let rows: Vec<Value> = self.rows.iter().map(|row| self.row_json(row)).collect();
        let skipped: serde_json::Map<String, Value> = self
            .skipped
            .iter()
            .map(|(c, reason)| (c.key(), Value::from(reason.as_str())))
            .collect();
        json!({
            "seconds": self.seconds,
            "threads": self.threads,
            "runs": self.reps,
            "cpu_limit": self.hierarchy,
            "skipped": skipped,
            "rows": rows,
        })
    }

    fn row_json(&self, row: &Row) -> Value {
        let s = self.stats(row);
        let runs: Vec<Value> = row
            .runs
            .iter()
            .map(|r| {
                let traced = r.traced.map(|t| {
                    json!({
                        "records": t.records,
                        "ring_full": t.ring_full,
                        "writer_backlog": t.writer_backlog,
                        "dropped": t.dropped(),
                        "loss_rate": t.loss_rate(),
                        "pauses": {
                            "count": t.pauses.count,
                            "total_ns": t.pauses.total_ns,
                            "max_ns": t.pauses.max_ns,
                            "left_stopped": t.pauses.left_stopped,
                        },
                        "recorder_max_rss_kib": t.max_rss_kib,
                    })
                });
                json!({ "calls": r.calls, "calls_per_s": r.rate, "traced": traced })
            })
            .collect();
        json!({
            "condition": row.condition.key(),
            "overflow": row.tracing.overflow(),
            "median_calls_per_s": s.rate,
            "slowdown": s.slowdown,
            "dropped_max": s.dropped_max,
            "loss_rate_max": s.loss_rate_max,
            "pauses_median": s.pauses_median,
            "paused_ns_median": s.paused_ns_median,
            "longest_pause_ns": s.longest_pause_ns,
            "recorder_max_rss_kib": s.max_rss_kib,
            "runs": runs,
        })
    }
}

/// `0`, `0.012%`, `3.4%`, `61%`.
fn fmt_share(x: f64) -> String {
    let p = x * 100.0;
    if p <= 0.0 {
        "0".to_owned()
    } else if p < 0.1 {
        format!("{p:.3}%")
    } else if p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_losses() {
        assert_eq!(fmt_share(0.0), "0");
        assert_eq!(fmt_share(0.000_12), "0.012%");
        assert_eq!(fmt_share(0.034), "3.4%");
        assert_eq!(fmt_share(0.61), "61%");
        let t = Traced {
            records: 750,
            ring_full: 200,
            writer_backlog: 50,
            ..Traced::default()
        };
        assert_eq!((t.dropped(), t.loss_rate()), (250, 0.25));
        assert_eq!(Traced::default().loss_rate(), 0.0);
    }

    #[test]
    fn table_rows() {
        let run = |rate: f64, traced: Option<Traced>| Run {
            calls: (rate * 2.0) as u64,
            rate,
            traced,
        };
        let paused = Traced {
            records: 1_000_000,
            pauses: Pauses {
                count: 12,
                total_ns: 1_500_000_000,
                max_ns: 226_000_000,
                left_stopped: 0,
            },
            max_rss_kib: 64 * 1024,
            ..Traced::default()
        };
        let dropped = Traced {
            records: 600_000,
            ring_full: 400_000,
            max_rss_kib: 128 * 1024,
            ..Traced::default()
        };
        let c = Condition::Limited(10);
        let load = Load {
            seconds: 2.0,
            threads: 2,
            reps: 1,
            hierarchy: None,
            skipped: Vec::new(),
            rows: [
                (Tracing::Untraced, run(4e6, None)),
                (Tracing::Drop, run(1e6, Some(dropped))),
                (Tracing::Pause, run(5e5, Some(paused))),
            ]
            .into_iter()
            .map(|(tracing, r)| Row {
                condition: c,
                tracing,
                runs: vec![r],
            })
            .collect(),
        };
        let rows: Vec<String> = load.rows.iter().map(|r| load.table_row(r)).collect();
        assert_eq!(
            rows,
            [
                "| recorder at 10% of a CPU | untraced | 4.00M | — | — | — | — | — | — | — |",
                "| recorder at 10% of a CPU | drop | 1.00M | 4.00× | 400000 | 40% | 0 | 0 | — | 128.0 MiB |",
                "| recorder at 10% of a CPU | pause | 500.0k | 8.00× | 0 | 0 | 12 | 1.50 s (75%) | 226.0 ms | 64.0 MiB |",
            ]
        );
        assert_eq!(load.conditions(), [c]);
    }

    #[test]
    fn group_prefix() {
        let p = join_group(Path::new("/sys/fs/cgroup/cpu/x"));
        assert_eq!(
            p[2],
            OsString::from("echo $$ > '/sys/fs/cgroup/cpu/x/cgroup.procs' && exec \"$@\"")
        );
        assert_eq!(
            (p.len(), &p[0], &p[3]),
            (4, &OsString::from("sh"), &OsString::from("sh"))
        );
    }
}
