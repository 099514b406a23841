//! The reader's throughput: `recorder dump` (text and `--json`) of the
//! largest getppid log to /dev/null, and its peak memory
//! ([`PeakRss`] when GNU time is installed, else wait4's rusage).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use super::Env;
use super::process::{PeakRss, file_size, measure};
use super::report::median;

/// `recorder dump` (text and --json) of one log, to /dev/null.
pub(super) struct Reader {
    pub(super) log_bytes: u64,
    pub(super) records: u64,
    /// Peak memory measured by GNU time rather than our own wait4.
    pub(super) rss_by_time: bool,
    pub(super) text: ReaderRuns,
    pub(super) json: ReaderRuns,
}

#[derive(Default)]
pub(super) struct ReaderRuns {
    pub(super) walls: Vec<Duration>,
    pub(super) max_rss_kib: u64,
}

impl ReaderRuns {
    pub(super) fn lines_per_second(&self, records: u64) -> Option<f64> {
        median(self.walls.iter().map(Duration::as_secs_f64).collect()).map(|s| records as f64 / s)
    }
}

pub(super) fn reader(env: &Env, log: &Path, runs: usize) -> Result<Reader> {
    let peak = PeakRss::new(env.path("dump.rss"));
    let mut r = Reader {
        log_bytes: file_size(log)?,
        records: 0,
        rss_by_time: peak.is_some(),
        text: ReaderRuns::default(),
        json: ReaderRuns::default(),
    };
    for _ in 0..runs {
        for json in [false, true] {
            let prefix = peak.as_ref().map(PeakRss::prefix).unwrap_or_default();
            let mut argv = prefix
                .into_iter()
                .chain([env.recorder.clone().into_os_string()]);
            let mut cmd = env.command(argv.next().context("a command")?);
            cmd.args(argv).arg("dump").arg(log);
            if json {
                cmd.arg("--json");
            }
            let out = measure(&mut cmd, false)?.success()?;
            let max_rss_kib = match &peak {
                Some(p) => p.read()?,
                None => out.max_rss_kib,
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
