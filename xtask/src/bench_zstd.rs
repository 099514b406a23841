//! `cargo xtask bench-zstd [--arm64] [LOG...]`: what each zstd level costs
//! the log writer, on real logs, so the level for log blocks is chosen by
//! measurement.
//!
//! The measuring is done by the recorder crate's `zstd_levels` example (it
//! re-encodes a log's events with the library's `LogWriter` at each level,
//! in memory); this module builds it, records sample logs when none are
//! given, runs it natively and, with `--arm64`, inside the arm64 QEMU guest
//! of [`crate::vm`], and turns its `level=` lines into markdown. The guest
//! is emulated (TCG), so its section only says how levels compare with each
//! other there, never what they cost on a real arm64 CPU.
//!
//! Not a test: nothing here passes or fails on a time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

use crate::compile::{self, Arch};
use crate::kernel::KernelKind;
use crate::vm::{self, Outcome};
use crate::{bench, elf, setup, util};

#[derive(clap::Args, Clone)]
pub struct Options {
    /// Also run the sweep in the arm64 QEMU guest (emulated: only the
    /// relative cost of levels means anything there).
    #[arg(long)]
    pub arm64: bool,
    /// zstd levels to measure, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        default_value = "-1,1,2,3,4,5,6,7,9"
    )]
    pub levels: Vec<i32>,
    /// Recorder logs to measure on (default: record find, a getppid loop
    /// and tar as samples, which needs root).
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,
}

/// The record rate the cost paragraph assumes: a busy recording's peak,
/// where the writer thread's share of a core decides whether a level is
/// affordable.
const RATE_PER_S: f64 = 2_000_000.0;
/// The level the daemon uses today (recorder/src/record/writer.rs), marked
/// in the tables and the reference for relative costs.
const CURRENT_LEVEL: i32 = 3;
/// getppid calls in the sample loop: a second of the smallest records.
const LOOP_CALLS: u64 = 1_000_000;
/// Per log, the guest reads only this much of raw records: the guest has
/// 1 GiB and TCG runs 10-50x slower than native, and a prefix of a few
/// hundred blocks is as representative for comparing levels.
const GUEST_MAX_RAW_MIB: u64 = 16;
/// The guest runs each level this many times (and ignores the minimum
/// time, which so slow a CPU always exceeds).
const GUEST_MIN_REPS: u32 = 3;
/// Boot plus a sweep of three 16 MiB prefixes at ten levels under TCG.
const GUEST_TIMEOUT: Duration = Duration::from_secs(3600);
const EXAMPLE: &str = "zstd_levels";
/// Where the example leaves its lines in the guest (copied back by vm.rs).
const GUEST_OUT_FILE: &str = "/opt/out/zstd_levels.txt";

pub fn run(opts: &Options) -> Result<()> {
    ensure!(!opts.levels.is_empty(), "--levels needs at least one level");
    setup::run(&setup::Options {
        arm64: opts.arm64,
        ..Default::default()
    })?;
    let dir = util::target_dir().join("bench-zstd");
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let logs = if opts.logs.is_empty() {
        record_samples(&dir)?
    } else {
        opts.logs
            .iter()
            .map(|p| {
                ensure!(p.is_file(), "no such log: {}", p.display());
                let label = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| p.display().to_string());
                Ok((label, p.clone()))
            })
            .collect::<Result<Vec<_>>>()?
    };

    let host = build_example(Arch::X86_64)?;
    eprintln!("bench-zstd: native sweep ({} logs)", logs.len());
    let mut md = sweep_markdown(&host, &logs, &opts.levels)?;
    if opts.arm64 {
        let guest = build_example(Arch::Aarch64)?;
        eprintln!("bench-zstd: arm64 sweep in the QEMU guest (boot included, several minutes)");
        md.push('\n');
        md.push_str(&arm64_sweep(&guest, &logs, &opts.levels)?);
    }
    println!("{md}");
    let out = dir.join("bench-zstd.md");
    fs::write(&out, &md).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!("bench-zstd: written to {}", out.display());
    Ok(())
}

/// Builds the `zstd_levels` example (release) for `arch`; for aarch64 the
/// same static musl build as the recorder's, checked to run in the guest.
pub fn build_example(arch: Arch) -> Result<PathBuf> {
    let args = ["-p", "recorder", "--example", EXAMPLE];
    match arch {
        Arch::X86_64 => {
            let mut cmd = util::cargo();
            cmd.args(["build", "--release"]).args(args);
            compile::find_binary(&compile::cargo_executables(cmd)?, EXAMPLE)
        }
        Arch::Aarch64 => {
            let bin = compile::find_binary(&compile::build_aarch64(&args)?, EXAMPLE)?;
            elf::check_static_aarch64(&bin)?;
            Ok(bin)
        }
    }
}

/// Records the sample logs into `dir` with the release recorder at its
/// default settings (data capture on): a file-tree walk, the smallest
/// records (getppid) and big data-carrying ones (tar's reads and writes).
fn record_samples(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    ensure!(
        util::is_root(),
        "recording the sample logs needs root (the recorder loads eBPF programs): \
         run from a root shell, or pass recorded LOGs"
    );
    let recorder = compile::build_host(true)?;
    let mut cmd = util::cargo();
    cmd.args(["build", "--release", "-p", "tests", "--bin", "fx-loop"]);
    let fx_loop = compile::find_binary(&compile::cargo_executables(cmd)?, "fx-loop")?;

    let tar_out = Path::new("/dev/shm/x.tar");
    let samples: Vec<(&str, Vec<String>)> = vec![
        (
            "find",
            vec![
                "find".into(),
                "/usr/share".into(),
                "-type".into(),
                "f".into(),
            ],
        ),
        (
            "getppid",
            vec![
                fx_loop.to_string_lossy().into_owned(),
                LOOP_CALLS.to_string(),
            ],
        ),
        (
            "tar",
            vec![
                "tar".into(),
                "-cf".into(),
                tar_out.to_string_lossy().into_owned(),
                "/usr/include".into(),
            ],
        ),
    ];
    let mut logs = Vec::new();
    for (label, argv) in samples {
        let log = dir.join(format!("{label}.rec"));
        eprintln!(
            "bench-zstd: recording `{}` into {}",
            argv.join(" "),
            log.display()
        );
        let mut cmd = Command::new(&recorder);
        // The commands' own output (find's file list) is not the point.
        cmd.arg("-o")
            .arg(&log)
            .arg("--")
            .args(&argv)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let result = util::run(&mut cmd);
        if label == "tar" {
            // Only the recording of its writes was wanted.
            let _ = fs::remove_file(tar_out);
        }
        result.with_context(|| format!("recording the {label} sample failed"))?;
        logs.push((label.to_owned(), log));
    }
    Ok(logs)
}

/// Runs the example natively on `logs` and returns the markdown section:
/// the per-level table and what each level costs at [`RATE_PER_S`].
pub fn sweep_markdown(
    example_bin: &Path,
    logs: &[(String, PathBuf)],
    levels: &[i32],
) -> Result<String> {
    ensure!(!logs.is_empty(), "no logs to measure on");
    let mut cmd = Command::new(example_bin);
    cmd.arg(levels_arg(levels))
        .args(logs.iter().map(|(_, p)| p));
    let what = util::describe(&cmd);
    // Its progress and human tables on stderr/stdout: stdout is parsed, the
    // progress stays visible.
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start `{what}`"))?;
    if !out.status.success() {
        bail!("`{what}` failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let sweep = Sweep::parse(&text, logs)?;

    let mut md = String::new();
    let _ = writeln!(md, "## zstd level sweep: {} (native)\n", host_description());
    md.push_str(
        &sweep.intro("fastest of at least 5 passes and 0.2 s per level, levels taking turns"),
    );
    md.push_str(&sweep.table());
    md.push('\n');
    md.push_str(&sweep.cost_at_rate());
    Ok(md)
}

/// Runs the aarch64 example in the arm64 QEMU guest on copies of `logs`
/// (the first [`GUEST_MAX_RAW_MIB`] MiB of records of each) and returns its
/// markdown section, labelled as emulation.
pub fn arm64_sweep(
    example_bin: &Path,
    logs: &[(String, PathBuf)],
    levels: &[i32],
) -> Result<String> {
    ensure!(!logs.is_empty(), "no logs to measure on");
    let work = tempfile::Builder::new()
        .prefix("bench-zstd.")
        .tempdir()
        .context("cannot create a temporary directory")?;
    // vm.rs puts files in the guest under their own names, which it
    // restricts; numbered copies also keep two logs of one name apart.
    let mut files = Vec::new();
    let mut names = Vec::new();
    for (i, (label, path)) in logs.iter().enumerate() {
        let safe: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = format!("log{i}-{safe}.rec");
        let copy = work.path().join(&name);
        fs::copy(path, &copy)
            .with_context(|| format!("cannot copy {} for the guest", path.display()))?;
        files.push(copy);
        names.push(name);
    }
    let out_dir = work.path().join("out");
    let mut args = vec![
        levels_arg(levels),
        format!("--min-reps={GUEST_MIN_REPS}"),
        "--min-time=0".to_owned(),
        format!("--max-raw-mib={GUEST_MAX_RAW_MIB}"),
        format!("--out={GUEST_OUT_FILE}"),
    ];
    args.extend(names);
    let kernel = KernelKind::K4k;
    let request = vm::Request {
        kernel,
        binary: example_bin.to_owned(),
        args,
        files,
        env: Vec::new(),
        out_dir: Some(out_dir.clone()),
        timeout: GUEST_TIMEOUT,
        verbose: false,
    };
    match vm::run(&request).context("the arm64 sweep's VM run failed")? {
        Outcome::Exited(0) => {}
        Outcome::Exited(code) => bail!("{EXAMPLE} exited with status {code} in the arm64 guest"),
        Outcome::TimedOut => bail!(
            "the arm64 sweep did not finish within {} s",
            GUEST_TIMEOUT.as_secs()
        ),
    }
    let lines_file = out_dir.join(
        Path::new(GUEST_OUT_FILE)
            .file_name()
            .context("GUEST_OUT_FILE has a file name")?,
    );
    let text = fs::read_to_string(&lines_file).with_context(|| {
        format!(
            "the guest left no results ({} is missing)",
            lines_file.display()
        )
    })?;
    let sweep = Sweep::parse(&text, logs)?;

    let mut md = String::new();
    let _ = writeln!(
        md,
        "## zstd level sweep: arm64 under QEMU TCG emulation (NOT real hardware)\n"
    );
    let _ = writeln!(
        md,
        "**Emulated.** These times come from `qemu-system-aarch64` in TCG mode (every arm64 \
         instruction translated to x86 in software) on the x86_64 host above, with the \
         {}-page Debian kernel of `cargo xtask vm-run` and 1 vCPU. Absolute ns/record are \
         many times those of any real arm64 CPU and must not be used as such: only the \
         relative cost of the levels (last columns) is indicative, and even that only \
         roughly, since TCG does not emulate SIMD, caches or branch prediction at their \
         real cost. Each log is cut to its first {GUEST_MAX_RAW_MIB} MiB of records \
         (the guest has 1 GiB); sizes are those of the prefix.\n",
        kernel.name().to_uppercase()
    );
    md.push_str(&sweep.intro(&format!(
        "fastest of {GUEST_MIN_REPS} passes per level, levels taking turns"
    )));
    md.push_str(&sweep.table());
    md.push('\n');
    md.push_str(&sweep.relative());
    Ok(md)
}

/// `--levels=-1,1,3`: with `=`, so a negative first level is not taken for
/// an option.
fn levels_arg(levels: &[i32]) -> String {
    let list: Vec<String> = levels.iter().map(i32::to_string).collect();
    format!("--levels={}", list.join(","))
}

/// `2000000` as `2,000,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut s = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            s.push(',');
        }
        s.push(c);
    }
    s
}

/// "x86_64, CPU model, N CPUs" of this machine.
fn host_description() -> String {
    format!(
        "{}, {}, {} CPUs",
        std::env::consts::ARCH,
        bench::cpu_model(),
        bench::cpu_count()
    )
}

/// One `level=` line of the example.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    /// `None`: encoding without zstd.
    level: Option<i32>,
    log: usize,
    records: u64,
    raw_bytes: u64,
    ns_per_record: f64,
    bytes_per_record: f64,
    ratio: f64,
}

impl Row {
    fn parse(line: &str) -> Result<Self> {
        // The file name is last and may hold spaces: not needed here.
        let fields: BTreeMap<&str, &str> = line
            .split(" file=")
            .next()
            .unwrap_or(line)
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let get = |key: &str| {
            fields
                .get(key)
                .copied()
                .with_context(|| format!("no {key}= in `{line}`"))
        };
        let num = |key: &str| -> Result<f64> {
            get(key)?
                .parse()
                .with_context(|| format!("bad {key}= in `{line}`"))
        };
        let int = |key: &str| -> Result<u64> {
            get(key)?
                .parse()
                .with_context(|| format!("bad {key}= in `{line}`"))
        };
        let level = match get("level")? {
            "none" => None,
            l => Some(
                l.parse()
                    .with_context(|| format!("bad level= in `{line}`"))?,
            ),
        };
        Ok(Row {
            level,
            log: usize::try_from(int("log")?)?,
            records: int("records")?,
            raw_bytes: int("raw_bytes")?,
            ns_per_record: num("ns_per_record")?,
            bytes_per_record: num("bytes_per_record")?,
            ratio: num("ratio")?,
        })
    }
}

/// The example's results: rows by level (`None` first), one cell per log.
struct Sweep {
    labels: Vec<String>,
    /// Level → per-log row, in log order.
    levels: Vec<(Option<i32>, Vec<Row>)>,
}

impl Sweep {
    fn parse(text: &str, logs: &[(String, PathBuf)]) -> Result<Self> {
        let mut by_level: BTreeMap<Option<i32>, Vec<Option<Row>>> = BTreeMap::new();
        for line in text.lines().filter(|l| l.starts_with("level=")) {
            let row = Row::parse(line)?;
            ensure!(
                row.log < logs.len(),
                "result for log {} of {}",
                row.log,
                logs.len()
            );
            let cells = by_level
                .entry(row.level)
                .or_insert_with(|| vec![None; logs.len()]);
            let log = row.log;
            cells[log] = Some(row);
        }
        ensure!(!by_level.is_empty(), "{EXAMPLE} printed no `level=` lines");
        let levels = by_level
            .into_iter()
            .map(|(level, cells)| {
                let rows = cells
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        c.with_context(|| {
                            format!(
                                "{EXAMPLE} gave no result for level {} on {}",
                                level.map_or("none".into(), |l| l.to_string()),
                                logs[i].0
                            )
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok((level, rows))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Sweep {
            labels: logs.iter().map(|(l, _)| l.clone()).collect(),
            levels,
        })
    }

    fn level_name(level: Option<i32>) -> String {
        match level {
            None => "none (no zstd)".to_owned(),
            Some(l) if l == CURRENT_LEVEL => format!("**{l}** (current)"),
            Some(l) => l.to_string(),
        }
    }

    /// What was measured, on what; `passes` says how each level was repeated.
    fn intro(&self, passes: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Writer work per record (postcard encoding, zstd, CRC, framing, into memory, \
             256 KiB blocks as the daemon writes them), {passes}, by the recorder's \
             `{EXAMPLE}` example. `none` is the same work without zstd: the floor every \
             level pays. ratio = raw record bytes / compressed log bytes.\n"
        );
        let logs: Vec<String> = self
            .labels
            .iter()
            .zip(&self.levels[0].1)
            .map(|(label, r)| {
                format!(
                    "{label}: {} records, {:.1} MiB raw ({:.0} B/record)",
                    r.records,
                    r.raw_bytes as f64 / f64::from(1 << 20),
                    r.raw_bytes as f64 / r.records.max(1) as f64
                )
            })
            .collect();
        let _ = writeln!(s, "Logs: {}.\n", logs.join("; "));
        s
    }

    fn table(&self) -> String {
        let mut s = String::from("| level |");
        let mut rule = String::from("| --- |");
        for (what, _) in COLUMNS {
            for label in &self.labels {
                let _ = write!(s, " {label} {what} |");
                rule.push_str(" ---: |");
            }
        }
        s.push('\n');
        s.push_str(&rule);
        s.push('\n');
        for (level, rows) in &self.levels {
            let _ = write!(s, "| {} |", Self::level_name(*level));
            for (_, cell) in COLUMNS {
                for r in rows {
                    let _ = write!(s, " {} |", cell(r));
                }
            }
            s.push('\n');
        }
        s
    }

    /// The writer thread's share of one core at [`RATE_PER_S`], per level
    /// and log: the basis for choosing a level.
    fn cost_at_rate(&self) -> String {
        let share = |ns: f64| ns * RATE_PER_S / 1e9 * 100.0;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "**Cost at {rate} records/s.** The writer thread needs ns/record × {rate}/s of one \
             core; the part zstd adds is (level − none). Output rate is B/record × {rate}/s. \
             Only small records (getppid-like) come that fast; the data-heavy logs show what \
             a level costs per byte.\n",
            rate = thousands(RATE_PER_S as u64)
        );
        let none = self
            .levels
            .iter()
            .find(|(l, _)| l.is_none())
            .map(|(_, r)| r);
        for (level, rows) in &self.levels {
            let Some(level) = level else { continue };
            let parts: Vec<String> = self
                .labels
                .iter()
                .zip(rows)
                .enumerate()
                .map(|(i, (label, r))| {
                    let zstd = none
                        .map(|n| {
                            format!(", zstd {:.0}%", share(r.ns_per_record - n[i].ns_per_record))
                        })
                        .unwrap_or_default();
                    format!(
                        "{label} {:.0}% of a core{zstd}, {:.0} MB/s out",
                        share(r.ns_per_record),
                        r.bytes_per_record * RATE_PER_S / 1e6
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "- level {}: {}",
                Self::level_name(Some(*level)),
                parts.join("; ")
            );
        }
        s
    }

    /// Each level's ns/record and bytes relative to the current level's,
    /// per log: what an emulated run can say.
    fn relative(&self) -> String {
        let reference = self
            .levels
            .iter()
            .find(|(l, _)| *l == Some(CURRENT_LEVEL))
            .or_else(|| self.levels.iter().find(|(l, _)| l.is_some()));
        let Some((Some(ref_level), ref_rows)) = reference else {
            return String::new();
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "**Relative to level {ref_level}** (time ×, size ×; per log: {}):\n",
            self.labels.join(", ")
        );
        s.push_str("| level | time × | size × |\n| --- | ---: | ---: |\n");
        for (level, rows) in &self.levels {
            let ratio = |f: fn(&Row) -> f64| {
                rows.iter()
                    .zip(ref_rows)
                    .map(|(r, base)| format!("{:.2}", f(r) / f(base)))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                Self::level_name(*level),
                ratio(|r| r.ns_per_record),
                ratio(|r| r.bytes_per_record)
            );
        }
        s
    }
}

/// The per-log column groups of the table: heading and cell.
type Cell = fn(&Row) -> String;
const COLUMNS: [(&str, Cell); 3] = [
    ("ns/rec", |r| format!("{:.0}", r.ns_per_record)),
    ("B/rec", |r| format!("{:.1}", r.bytes_per_record)),
    ("ratio", |r| format!("{:.2}", r.ratio)),
];

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &str = "\
level=none log=0 records=10 raw_bytes=1000 out_bytes=1000 best_ns=500 reps=3 ns_per_record=50.0 mb_per_s=2000.0 bytes_per_record=100.00 ratio=1.000 file=a b.rec
level=3 log=0 records=10 raw_bytes=1000 out_bytes=100 best_ns=1000 reps=3 ns_per_record=100.0 mb_per_s=1000.0 bytes_per_record=10.00 ratio=10.000 file=a b.rec
level=1 log=0 records=10 raw_bytes=1000 out_bytes=125 best_ns=800 reps=3 ns_per_record=80.0 mb_per_s=1250.0 bytes_per_record=12.50 ratio=8.000 file=a b.rec
human table line
";

    #[test]
    fn parses_and_orders_levels() {
        let logs = vec![("a".to_owned(), PathBuf::from("a b.rec"))];
        let sweep = Sweep::parse(LINES, &logs).unwrap();
        let order: Vec<Option<i32>> = sweep.levels.iter().map(|(l, _)| *l).collect();
        assert_eq!(order, [None, Some(1), Some(3)]);
        assert_eq!(sweep.levels[2].1[0].ns_per_record, 100.0);
        let table = sweep.table();
        assert!(
            table.contains("| **3** (current) | 100 | 10.0 | 10.00 |"),
            "{table}"
        );
        // 100 ns at 2M/s is 20% of a core, 50 of which zstd adds: 10%.
        let cost = sweep.cost_at_rate();
        assert!(
            cost.contains("a 20% of a core, zstd 10%, 20 MB/s out"),
            "{cost}"
        );
        let rel = sweep.relative();
        assert!(rel.contains("| 1 | 0.80 | 1.25 |"), "{rel}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(2_000_000), "2,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }

    #[test]
    fn missing_cells_are_errors() {
        let logs = vec![
            ("a".to_owned(), PathBuf::from("a")),
            ("b".to_owned(), PathBuf::from("b")),
        ];
        assert!(Sweep::parse(LINES, &logs).is_err());
        assert!(Sweep::parse("nothing\n", &logs[..1]).is_err());
    }
}
