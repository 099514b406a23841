//! The short fuzz run of `cargo xtask test`: the cargo-fuzz targets in
//! `fuzz/` for a few seconds each, so a reader regression that the seed
//! corpus reaches shows up in CI. Longer runs are manual (fuzz/README.md).
//!
//! The corpus grows in `target/fuzz/corpus/` across runs; the seeds
//! (`fuzz/seeds/`, `recorder/tests/golden/logs/`) are read, never written. cargo-fuzz
//! needs nightly, which setup installs for the eBPF build anyway, and is
//! itself installed by setup.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::util;

/// Targets and how long each runs, in seconds.
const TARGETS: &[(&str, u32)] = &[("log_reader", 20), ("cli_values", 5)];

pub fn short_run() -> Result<()> {
    let root = util::project_root();
    let target_dir = util::target_dir().join("fuzz");
    for &(name, secs) in TARGETS {
        let start = Instant::now();
        let corpus = target_dir.join("corpus").join(name);
        std::fs::create_dir_all(&corpus)
            .with_context(|| format!("cannot create {}", corpus.display()))?;
        let mut dirs: Vec<PathBuf> = vec![corpus];
        if name == "log_reader" {
            dirs.push(root.join("fuzz/seeds"));
            dirs.push(root.join("recorder/tests/golden/logs"));
        }
        // `rustup run`: the `cargo` running xtask is stable's, and a
        // `+nightly` argument only works through the rustup proxy.
        let mut cmd = Command::new("rustup");
        cmd.current_dir(&root)
            .args(["run", "nightly", "cargo", "fuzz", "run", name])
            .arg("--fuzz-dir")
            .arg(root.join("fuzz"))
            .arg("--target-dir")
            .arg(&target_dir)
            .args(&dirs)
            .arg("--")
            .arg(format!("-max_total_time={secs}"))
            // A hang or an allocation out of bounds is a failure, not a
            // slow run: the reader bounds both by design.
            .arg("-timeout=10")
            .arg("-rss_limit_mb=2048")
            .arg("-print_final_stats=1")
            // The library alone: no eBPF build (and no bpf-linker) needed.
            .env("AYA_BUILD_SKIP", "1");
        util::run(&mut cmd).with_context(|| {
            format!(
                "fuzz target {name} failed: the crashing input is in fuzz/artifacts/{name}/ \
                 (reproduce with `cargo +nightly fuzz run {name} <file>`)"
            )
        })?;
        println!(
            "     fuzz target {name}: no failure in {:.0?}",
            start.elapsed()
        );
    }
    Ok(())
}
