//! The benchmark's output: the markdown table with its notes and sections
//! ([`Report::markdown`]), the raw samples as JSON ([`Report::json`]), the
//! medians and ratios a row shows, and the number formats every section
//! uses.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::cells::{Base, Cell, OTHER_COMM, Sample};
use super::host::{commit, cpu_count, cpu_model, is_tmpfs, kernel_release, utc_now};
use super::modes::Mode;
use super::rate::{RATE_REACHED, RateStep, Sustained, Thresholds};
use super::reader::{Reader, ReaderRuns};
use super::workloads::{Own, REDUCED_MIN, SLOW_DIVISOR, Workload};
use super::{Env, Plan, load, page};

/// Medians and ratios of one cell, as the table shows them.
struct Stats {
    runs: usize,
    wall_ms: f64,
    wall_spread: Option<Spread>,
    /// Wall time over the untraced run's, one ratio per repetition.
    ratio: Option<Spread>,
    own: Option<f64>,
    /// The same of the workload's own clock.
    own_ratio: Option<Spread>,
    records_per_s: Option<f64>,
    dropped: Option<u64>,
    bytes_per_record: Option<f64>,
}

/// Median, min and max of some values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Spread {
    pub(super) min: f64,
    pub(super) median: f64,
    pub(super) max: f64,
}

impl Spread {
    pub(super) fn of(v: Vec<f64>) -> Option<Self> {
        let min = v.iter().copied().reduce(f64::min)?;
        let max = v.iter().copied().reduce(f64::max)?;
        Some(Self {
            min,
            median: median(v)?,
            max,
        })
    }

    /// `1.23× (1.10–1.40)`.
    fn ratio_text(self) -> String {
        format!(
            "{} ({}–{})",
            fmt_ratio(self.median),
            fmt_ratio(self.min).trim_end_matches('×'),
            fmt_ratio(self.max)
        )
    }
}

/// The ratios of `cell`'s samples to the untraced runs around each
/// ([`Sample::base`]): runs that were far apart are never compared.
fn paired(
    cell: &Cell,
    value: impl Fn(&Sample) -> Option<f64>,
    of_base: impl Fn(&Base) -> Option<f64>,
) -> Option<Spread> {
    let ratios = cell
        .samples
        .iter()
        .filter_map(|s| Some(value(s)? / of_base(s.base.as_ref()?)?))
        .collect();
    Spread::of(ratios)
}

/// The watch rows, in both tables.
const WATCH_NOTE: &str = "**recorder watch, calls not selected** = `recorder watch -e \
     trace=unlinkat --path '*/no-such-file'` in the background: the workload's calls fail the \
     in-kernel syscall bitmap. **selected calls, path not matching** = `-e trace=getppid,openat \
     --path '*/no-such-file'`: getppid passes the bitmap and is turned away for having no path \
     argument, openat has its path read and compared. **--count, every call matching** = `-e \
     trace=getppid,openat --count`: every such call on the machine is recorded and counted \
     (records and dropped: the watch's own totals, for the whole machine). Compare them with \
     **empty exit program (lean floor)**, the floor of any exit-only program such as the watch's.";

/// `cargo xtask bench --watch-only`: each loop's own time per call beside
/// a `recorder watch`, against the untraced runs around it and against
/// the empty programs.
pub(super) fn watch_table(workloads: &[Workload], cells: &[Cell], plan: &Plan) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# recorder watch: what the rest of the machine pays\n\n{} · kernel {} · {} CPUs ({}) · recorder {} · median of {} runs per row\n",
        utc_now(),
        kernel_release(),
        cpu_count(),
        cpu_model(),
        commit(),
        plan.runs
    );
    let _ = writeln!(
        md,
        "| workload | beside | runs | own ns/call (min–max) | × untraced (min–max) | calls watched | dropped |"
    );
    let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|");
    let dash = || "—".to_owned();
    for cell in cells {
        let w = &workloads[cell.workload];
        let own = Spread::of(cell.samples.iter().filter_map(|s| s.own).collect());
        let ratio = (cell.mode != Mode::Untraced)
            .then(|| paired(cell, |s| s.own, |b| b.own))
            .flatten();
        let records = median(
            cell.samples
                .iter()
                .filter_map(|s| s.records.map(|r| r as f64))
                .collect(),
        );
        let dropped = median(
            cell.samples
                .iter()
                .filter_map(|s| s.dropped.map(|r| r as f64))
                .collect(),
        );
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            w.label,
            cell.mode.label(),
            cell.samples.len(),
            own.map_or_else(dash, |o| format!(
                "{} ({}–{})",
                fmt_ns(o.median),
                fmt_ns(o.min),
                fmt_ns(o.max)
            )),
            ratio.map_or_else(dash, Spread::ratio_text),
            records
                .filter(|_| cell.mode.is_watch())
                .map_or_else(dash, |r| format!("{r:.0}")),
            dropped
                .filter(|_| cell.mode.is_watch())
                .map_or_else(dash, |d| format!("{d:.0}")),
        );
    }
    let _ = writeln!(
        md,
        "\n- {WATCH_NOTE} **empty programs** = the floor of the full recorder (sys_enter + \
         sys_exit).\n\
         - own ns/call: the loop thread's CPU time per call, so waiting for a CPU on a shared \
         machine is not counted."
    );
    md
}

pub(super) fn median(mut v: Vec<f64>) -> Option<f64> {
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

pub(super) struct Report<'a> {
    pub(super) plan: &'a Plan,
    pub(super) env: &'a Env,
    pub(super) workloads: &'a [Workload],
    pub(super) cells: &'a [Cell],
    pub(super) sustained: &'a Sustained,
    pub(super) thresholds: &'a Thresholds,
    pub(super) load: &'a load::Load,
    pub(super) reader: &'a Reader,
    pub(super) page: &'a page::Page,
    /// Measuring time, and the setup and build before it.
    pub(super) elapsed: Duration,
    pub(super) setup: Duration,
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
        let wall_of = |s: &Sample| Some(s.wall.as_secs_f64() * 1e3);
        Stats {
            runs: cell.samples.len(),
            wall_ms,
            wall_spread: Spread::of(cell.samples.iter().filter_map(wall_of).collect()),
            ratio: paired(cell, wall_of, |b| Some(b.wall_ms)),
            own,
            own_ratio: paired(cell, |s| s.own, |b| b.own),
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

    pub(super) fn markdown(&self) -> String {
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
            "| workload | tracing | runs | wall ms (min–max) | × untraced (min–max) | own time | own × untraced (min–max) | records/s | dropped | log B/record |"
        );
        let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        for cell in self.cells {
            let w = &self.workloads[cell.workload];
            let s = self.stats(cell);
            let value = |v: f64| match w.own {
                Own::NsPerCall => format!("{} ns/call", fmt_ns(v)),
                _ => format!("{} ms", fmt_ms(v)),
            };
            let traced = cell.mode != Mode::Untraced;
            let ratio = |r: Option<Spread>| match r {
                Some(r) if traced => r.ratio_text(),
                _ => dash(),
            };
            let wall = s.wall_spread.map_or_else(dash, |w| {
                format!("{} ({}–{})", fmt_ms(w.median), fmt_ms(w.min), fmt_ms(w.max))
            });
            let _ = writeln!(
                md,
                "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                w.label,
                if w.reduced { " ‡" } else { "" },
                cell.mode.label(),
                s.runs,
                wall,
                ratio(s.ratio),
                s.own.map_or_else(dash, value),
                ratio(s.own_ratio),
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
                 the eBPF programs, which the `true` row shows. **recorder --live** = the same \
                 with `--live`, every call also printed on stderr, which the harness reads \
                 through a pipe as fast as it can (lines left out when printing falls behind \
                 are not counted as losses: the log has them). **recorder -e trace=openat** \
                 (getppid loop only) = the same with a syscall set that holds none of the \
                 loop's calls: the kernel side leaves them out before stashing anything, so \
                 its cost over the floor is what a call outside the set pays. **recorder, other comm** = \
                 `recorder --comm {OTHER_COMM} -o LOG` attached in the background while the \
                 workload runs untraced: what every other process on the machine pays. \
                 **empty programs (floor)** = the same, with `--bench-floor`: programs that \
                 return at once on the same raw_syscalls tracepoints, i.e. what the kernel \
                 charges for running any program there (syscall slow path, tracepoint and BPF \
                 dispatch); no design on these tracepoints can cost less. **empty program, \
                 sys_exit only (lean floor)** = the same with `--bench-floor exit`: one empty \
                 program on sys_exit, the floor of a recorder that records at exit only. \
                 Each background recorder is started for one run and attached before the \
                 workload starts, and stopped after it ended: its start and stop are not in \
                 the time. **strace -f** = \
                 `strace -f -o LOG CMD`. **perf trace** = `perf trace -o LOG -- CMD`."
            ),
            "own time: the workload's own clock, without the tracer's start and stop: for the \
             loops, the loop thread's CPU time (user + system) per call, which leaves out \
             waiting for a CPU on a shared machine; for `find` and `tar`, which \
             run under the fx-time wrapper, the command's CPU time (user + system, from \
             spawn to exit), likewise. The programs a tracer runs on a call run in the \
             caller's context, so their time is in it; a recorder's own work on the other \
             CPU (draining, compressing) is not. records/s: \
             records (lines, for the text logs) over the workload's own time (for the loops, \
             wall time − the same mode's wall time on `true`). dropped: \
             the worst run; strace cannot drop (ptrace stops the tracee at every call). log \
             B/record: log file size ÷ records (the recorder writes compressed binary; strace \
             and perf trace write text)."
                .to_owned(),
            format!(
                "Each repetition runs every workload under each of its modes with an untraced \
                 run before and after every one (U A U B U C U…), the background modes too, in \
                 an order rotated by one at every repetition (no mode always runs first or \
                 last). Each run's ratio is taken against the faster of the two untraced \
                 runs around it (noise on a shared machine only slows runs down), and the \
                 table shows the median (min–max) of those; wall ms \
                 likewise over the runs (the untraced row has all its runs, one more than \
                 the other modes per repetition). {} repetitions, after one untraced warm-up \
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
                     of the iterations but at least {REDUCED_MIN}, `find` and `tar` over a smaller \
                     tree), with its own untraced row measured \
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
        notes.push(WATCH_NOTE.to_owned());
        notes.push(self.faster_than_untraced());
        notes.push(foreign_note(
            super::foreign_syscall_programs().is_some(),
            super::UNTRACED_RUNS.load(std::sync::atomic::Ordering::Relaxed),
            super::FOREIGN_RUNS.load(std::sync::atomic::Ordering::Relaxed),
        ));
        notes
    }

    /// Rows whose every ratio came out below 1: a tracer cannot make a
    /// program faster, so a row here says the run was too noisy to trust
    /// (the workload's own clock where it has one, else the wall time).
    fn faster_than_untraced(&self) -> String {
        let rows: Vec<String> = self
            .cells
            .iter()
            .filter(|c| c.mode != Mode::Untraced)
            .filter_map(|c| {
                let s = self.stats(c);
                let r = s.own_ratio.or(s.ratio)?;
                (r.max < 1.0).then(|| {
                    format!(
                        "{} under {} ({})",
                        self.workloads[c.workload].label,
                        c.mode.label(),
                        r.ratio_text()
                    )
                })
            })
            .collect();
        if rows.is_empty() {
            "Check: no tracing mode came out faster than untraced beyond its min–max spread."
                .to_owned()
        } else {
            format!(
                "Check failed, too noisy to trust: faster than untraced in every repetition: {}.",
                rows.join("; ")
            )
        }
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

    /// One row of the main table, with its raw samples.
    fn cell_json(&self, cell: &Cell) -> serde_json::Value {
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
            "ratio_to_untraced": s.ratio.map(|r| r.median),
            "ratio_to_untraced_min": s.ratio.map(|r| r.min),
            "ratio_to_untraced_max": s.ratio.map(|r| r.max),
            "own_unit": match w.own {
                Own::NsPerCall => Some("cpu_ns_per_call"),
                Own::Ms => Some("ms"),
                Own::None => None,
            },
            "median_own": s.own,
            "own_ratio_to_untraced": s.own_ratio.map(|r| r.median),
            "own_ratio_to_untraced_min": s.own_ratio.map(|r| r.min),
            "own_ratio_to_untraced_max": s.own_ratio.map(|r| r.max),
            "records_per_s": s.records_per_s,
            "dropped_max": s.dropped,
            "log_bytes_per_record": s.bytes_per_record,
            "samples": samples,
        })
    }

    pub(super) fn json(&self) -> serde_json::Value {
        let cells: Vec<serde_json::Value> =
            self.cells.iter().map(|cell| self.cell_json(cell)).collect();
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

pub(super) fn fmt_ms(ms: f64) -> String {
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

pub(super) fn fmt_ratio(r: f64) -> String {
    match r {
        r if r < 10.0 => format!("{r:.2}×"),
        r if r < 100.0 => format!("{r:.1}×"),
        r => format!("{r:.0}×"),
    }
}

pub(super) fn fmt_rate(r: f64) -> String {
    // Thresholds just below the unit, so 999,990 reads 1.00M, not 1000.0k.
    match r {
        r if r >= 999_950.0 => format!("{:.2}M", r / 1e6),
        r if r >= 999.5 => format!("{:.1}k", r / 1e3),
        r => format!("{r:.0}"),
    }
}

/// What the untraced runs had beside them: another process's programs on
/// the raw_syscalls tracepoints put every thread on the syscall slow path,
/// so a ratio against such a run is left out.
fn foreign_note(have_bpftool: bool, runs: usize, foreign: usize) -> String {
    if !have_bpftool {
        return "Other tracers: not checked (no bpftool); an untraced run beside another \
                process's raw_syscalls program would be slowed like a traced one."
            .to_owned();
    }
    format!(
        "Other tracers: {foreign} of {runs} untraced runs had another process's program on the \
         raw_syscalls tracepoints just before or after them (`bpftool link show`, after waiting \
         up to 5 s for it to go); the ratios of the runs next to them are left out."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_rate(999_990.0), "1.00M");
        assert_eq!(fmt_rate(999_400.0), "999.4k");
        assert_eq!(fmt_rate(999.7), "1.0k");
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn ratios_are_taken_against_the_untraced_runs_around() {
        let ms = |v: u64| Duration::from_millis(v);
        // Untraced 100, 200, 100 ms around traced runs of 150 and 300 ms:
        // against the faster neighbour (100, 100) they are 1.5× and 3.0×
        // (against the means, 150 and 150, they would be 1.0× and 2.0×).
        let untraced: Vec<Sample> = [100, 200, 100]
            .iter()
            .map(|&v| Sample {
                wall: ms(v),
                own: Some(v as f64),
                ..Sample::default()
            })
            .collect();
        let traced = Cell {
            workload: 0,
            mode: Mode::Recorder,
            samples: [(150, 0), (300, 1)]
                .iter()
                .map(|&(v, i)| Sample {
                    wall: ms(v),
                    own: Some(v as f64),
                    base: Some(Base::between(&untraced[i], &untraced[i + 1])),
                    ..Sample::default()
                })
                .collect(),
        };
        let wall = |s: &Sample| Some(s.wall.as_secs_f64() * 1e3);
        let r = paired(&traced, wall, |b| Some(b.wall_ms)).unwrap();
        assert_eq!((r.min, r.median, r.max), (1.5, 2.25, 3.0));
        assert_eq!(r.ratio_text(), "2.25× (1.50–3.00×)");
        let own = paired(&traced, |s| s.own, |b| b.own).unwrap();
        assert_eq!(own, r);
        assert_eq!(Spread::of(vec![]), None);
    }
}
