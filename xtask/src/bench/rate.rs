//! How fast the drain keeps up: the sustained-rate search
//! ([`sustained_rate`]: the highest getppid rate held with zero drops, a
//! thread ladder then bisection) and the `--wakeup-threshold` sweep
//! ([`threshold_sweep`]), both fx-rate under a recorder in drop mode.

use std::time::Duration;

use anyhow::{Context, Result};

use super::host::cpu_count;
use super::logs::RecorderSummary;
use super::process::{field, measure};
use super::report::{fmt_rate, median};
use super::{Env, Plan};

/// A paced sustained-rate step "holds" its rate only if the fixture reached
/// this share of it: below, the CPU (not the recorder) set the limit.
pub(super) const RATE_REACHED: f64 = 0.98;

/// One step of the sustained-rate search: fx-rate under the recorder.
#[derive(Clone, Debug)]
pub(super) struct RateStep {
    pub(super) threads: u32,
    /// Calls per second asked for; `None`: as fast as the threads go.
    pub(super) target: Option<f64>,
    /// getppid calls per second the fixture made.
    pub(super) achieved: f64,
    pub(super) records: u64,
    pub(super) lost: u64,
    pub(super) loss: Option<String>,
    /// The recorder's own CPU time and voluntary context switches (its
    /// wakeups, flush timer included).
    pub(super) recorder_cpu: Duration,
    pub(super) recorder_nvcsw: u64,
}

impl RateStep {
    /// Zero drops, and the rate asked for was reached.
    pub(super) fn held(&self) -> bool {
        self.lost == 0
            && self
                .target
                .is_none_or(|t| self.achieved >= RATE_REACHED * t)
    }

    pub(super) fn describe(&self) -> String {
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

pub(super) struct Sustained {
    pub(super) seconds: f64,
    pub(super) steps: Vec<RateStep>,
}

impl Sustained {
    fn push(&mut self, step: RateStep) {
        eprintln!("bench: sustained rate: {}", step.describe());
        self.steps.push(step);
    }

    /// The held step with the highest rate, among those with `threads`
    /// threads (`None`: all).
    pub(super) fn best(&self, threads: Option<u32>) -> Option<&RateStep> {
        self.steps
            .iter()
            .filter(|s| s.held() && threads.is_none_or(|t| s.threads == t))
            .max_by(|a, b| a.achieved.total_cmp(&b.achieved))
    }

    /// The lowest rate tried above `rate` that did not hold, among steps
    /// with `threads` threads (`None`: all).
    pub(super) fn next_up(&self, rate: f64, threads: Option<u32>) -> Option<&RateStep> {
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
pub(super) fn sustained_rate(env: &Env, plan: &Plan) -> Result<Sustained> {
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
pub(super) struct Thresholds {
    pub(super) seconds: f64,
    pub(super) threads: u32,
    /// Per threshold, its runs.
    pub(super) rows: Vec<(&'static str, Vec<RateStep>)>,
}

impl Thresholds {
    /// The medians of a row: calls/s reached (a wakeup costs the threads
    /// an irq_work, and the recorder's CPU time is theirs to lose), the
    /// recorder's wakeups per second and its CPU time per record.
    pub(super) fn medians(&self, runs: &[RateStep]) -> (f64, f64, f64) {
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
pub(super) fn threshold_sweep(env: &Env, plan: &Plan) -> Result<Thresholds> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_three_digits() {
        assert_eq!(round3(1_234_567.0), 1_230_000.0);
    }
}
