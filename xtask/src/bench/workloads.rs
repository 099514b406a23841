//! The programs measured, in table order ([`workloads`]): `true`, the
//! fx-loop loops (getppid, open/write/close), and `find` and `tar` under
//! fx-time, each at full size for the fast modes and, when strace or perf
//! trace run, at a reduced size with its own untraced baseline; and how
//! each workload reports its own time ([`Own`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::modes::Mode;
use super::{Env, Plan};

/// tar's archive, in the scratch directory.
pub(super) const TAR_ARCHIVE: &str = "bench.tar";

/// strace and perf trace run the loops with this many times fewer calls: at
/// 100-800x the untraced cost per call here, a full-size run would take
/// minutes.
pub(super) const SLOW_DIVISOR: u64 = 50;
/// ...but at least this many iterations: the quick run's open/write/close
/// loop divided by 100 was 600 calls, ~25 ms under strace, and two quick
/// runs put strace at 9.9x and 12.5x of it.
pub(super) const REDUCED_MIN: u64 = 2_000;

/// A program to measure, and the modes it is measured under.
pub(super) struct Workload {
    /// Row label, such as `getppid ×1M`.
    pub(super) label: String,
    pub(super) argv: Vec<OsString>,
    /// How the workload times itself (its stdout is read for it), leaving
    /// out the tracer's start and stop.
    pub(super) own: Own,
    /// The reduced size of a workload, for the slow tracers (rows get a ‡).
    pub(super) reduced: bool,
    /// `true`: it measures what starting and stopping each tracer costs.
    pub(super) start_stop: bool,
    pub(super) modes: Vec<Mode>,
}

/// A workload's own clock.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Own {
    /// An fx-loop: `cpu_ns_per_call=`, the loop thread's own CPU time
    /// (user + system, so every program run on its calls is in it) per
    /// call. Not its wall clock: on a shared 2-CPU machine the time a
    /// thread waits for a CPU is most of the spread between runs, and it
    /// is no cost of tracing. (A lossless pause is not CPU time either: the
    /// "Under load" section measures pauses.)
    NsPerCall,
    /// Run under fx-time: `own_cpu_ms=`, the command's CPU time (user +
    /// system, its children's included), for the same reason as
    /// `NsPerCall`: its wall time on the shared 2-CPU VM swung from 0.4x to
    /// 2x untraced between two quick runs, with other sessions' builds.
    Ms,
    /// Nothing: `true`, whose wall time is all start and stop.
    None,
}

impl Own {
    pub(super) fn key(self) -> Option<&'static str> {
        match self {
            Own::NsPerCall => Some("cpu_ns_per_call="),
            Own::Ms => Some("own_cpu_ms="),
            Own::None => None,
        }
    }
}

/// The workloads in table order, each with the modes it runs under.
pub(super) fn workloads(plan: &Plan, env: &Env) -> Result<Vec<Workload>> {
    let slow: Vec<Mode> = [(Mode::Strace, &env.strace), (Mode::Perf, &env.perf)]
        .into_iter()
        .filter(|(_, a)| a.path().is_some())
        .map(|(m, _)| m)
        .collect();
    let fast = [
        Mode::Untraced,
        Mode::Recorder,
        Mode::RecorderNoData,
        Mode::RecorderLive,
        Mode::RecorderLean,
        Mode::OtherComm,
        Mode::Floor,
        Mode::LeanOtherComm,
        Mode::LeanFloor,
        Mode::WatchUnselected,
        Mode::WatchPathReject,
        Mode::WatchMatched,
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
    // The getppid loop also runs with `-e trace=openat`, which leaves out
    // every one of its calls: what the in-kernel syscall set saves.
    let with_trace_set: Vec<Mode> = fast
        .iter()
        .copied()
        .flat_map(|m| match m {
            Mode::RecorderNoData => vec![m, Mode::RecorderTraceSet],
            _ => vec![m],
        })
        .collect();
    for (n, flag) in loops {
        for reduced in [false, true] {
            if reduced && slow.is_empty() {
                continue;
            }
            let n = if reduced {
                (n / SLOW_DIVISOR).max(REDUCED_MIN)
            } else {
                n
            };
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
                modes: match (reduced, flag) {
                    (true, _) => reduced_modes.clone(),
                    (false, None) => with_trace_set.clone(),
                    (false, Some(_)) => fast.to_vec(),
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

/// `1M`, `200k`, `2k`, `600`: exact only, since it labels workload sizes.
pub(super) fn si(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_sizes() {
        assert_eq!(si(1_000_000), "1M");
        assert_eq!(si(60_000), "60k");
        assert_eq!(si(600), "600");
    }
}
