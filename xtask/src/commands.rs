//! `cargo xtask run` and `cargo xtask test`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::compile::{self, Arch, Executable};
use crate::{arm64, fuzz, package, setup, util};

/// `cargo xtask run`: build, then exec the recorder (under `sudo -E` when
/// not root). Exec, rather than spawn and wait, gives the caller the
/// recorder's exit status and signals exactly, and lets Ctrl-C reach only it.
pub fn run(release: bool, args: &[String]) -> Result<u8> {
    setup::run(&setup::Options::default())?;
    let bin = compile::build_host(release)?;
    let mut cmd = Command::new(&bin);
    cmd.args(args);
    // Without root and sudo, run it anyway: the recorder explains what
    // privilege it lacks better than we could.
    let mut cmd = util::maybe_sudo(cmd);
    let err = cmd.exec();
    Err(err).with_context(|| format!("cannot execute `{}`", util::describe(&cmd)))
}

/// `cargo xtask test`: the whole suite, as CI runs it. Each step is
/// announced; the first failure stops the run.
pub fn test(arm64: bool, extra: &[String]) -> Result<()> {
    let start = Instant::now();
    let steps = if arm64 { 7 } else { 6 };
    let step = |n: u32, what: &str| println!("==> test [{n}/{steps}] {what}");

    step(1, if arm64 { "setup --arm64" } else { "setup" });
    setup::run(&setup::Options {
        arm64,
        ..Default::default()
    })
    .context("setup failed")?;

    step(
        2,
        "cargo fmt --check, cargo clippy -D warnings (host crates, and the eBPF crate for its target)",
    );
    lint().context("lints failed")?;

    step(
        3,
        "cargo build --workspace --exclude recorder-ebpf --bins (recorder with its eBPF programs, fixtures)",
    );
    let mut build = util::cargo();
    // recorder-ebpf is built by recorder's build script for the bpf target;
    // built for the host it cannot link.
    build.args([
        "build",
        "--workspace",
        "--exclude",
        "recorder-ebpf",
        "--bins",
    ]);
    let built = compile::cargo_executables(build).context("build failed")?;
    let recorder = compile::find_binary(&built, "recorder")?;

    step(
        4,
        "unit tests (recorder, recorder-common, xtask), a short fuzz run of the log reader, the reference reader, DuckDB over the Parquet export",
    );
    util::run(
        util::cargo()
            .args([
                "test",
                "-p",
                "recorder",
                "-p",
                "recorder-common",
                "-p",
                "xtask",
                "--",
            ])
            .args(extra),
    )
    .context("unit tests failed")?;
    // Seconds, not minutes: catches reader regressions near the seeds.
    fuzz::short_run().context("fuzzing failed")?;
    reference_reader(&recorder).context("the reference reader disagrees with the recorder")?;
    parquet_duckdb(&recorder).context("DuckDB over the Parquet export disagrees with stats")?;

    step(5, "privileged integration tests (tests crate)");
    integration_tests(&recorder, extra).context("integration tests failed")?;

    // The packages build and hold what a board needs (package::deb_command
    // checks their contents); the unit itself is verified by the tests
    // crate (tests/tests/packaging.rs).
    step(
        6,
        if arm64 {
            "Debian packages (cargo xtask deb, x86_64 and aarch64)"
        } else {
            "Debian package (cargo xtask deb, x86_64)"
        },
    );
    package::deb_command(Arch::X86_64).context("packaging failed")?;
    if arm64 {
        package::deb_command(Arch::Aarch64).context("packaging failed")?;
    }

    if arm64 {
        step(7, "arm64 VM tests (cargo xtask test-arm64)");
        arm64::run(&arm64::Options {
            test_args: extra.to_vec(),
            ..Default::default()
        })
        .context("arm64 VM tests failed")?;
    }
    println!(
        "==> test: all {steps} steps passed in {:.0?}",
        start.elapsed()
    );
    Ok(())
}

/// Format and lints, before anything is built for the tests: a warning
/// fails the run, as in aya's CI. The eBPF crate is linted for its own
/// target with nightly's clippy and build-std (as aya-build compiles it),
/// once per `bpf_target_arch`, since each reads its own registers.
fn lint() -> Result<()> {
    util::run(util::cargo().args(["fmt", "--all", "--check"]))
        .context("cargo fmt --check: run `cargo fmt`")?;
    util::run(util::cargo().args([
        "clippy",
        "--workspace",
        "--exclude",
        "recorder-ebpf",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
    .context("cargo clippy found warnings")?;
    // Both objects: with bpf_loop, and with the bounded loops for kernels
    // before 5.17 (recorder-ebpf's `bounded-loops` feature).
    for arch in ["x86_64", "aarch64"] {
        for features in ["", "bounded-loops"] {
            util::run(
                Command::new("rustup")
                    .args(["run", "nightly", "cargo", "clippy", "-p", "recorder-ebpf"])
                    .args(["--target", "bpfel-unknown-none", "-Z", "build-std=core"])
                    .args(["--features", features])
                    .args(["--release", "--", "-D", "warnings"])
                    .env("AYA_BPF_TARGET_ARCH", arch)
                    .current_dir(util::project_root()),
            )
            .with_context(|| {
                format!("cargo clippy found warnings in the eBPF programs ({arch}, features: {features:?})")
            })?;
        }
    }
    Ok(())
}

/// The second reader (tools/reference-reader, Python, written from
/// docs/log-format.md alone): its self-tests, then field by field against
/// `recorder dump --json` and `info --json` on every golden log of every
/// format version, on damaged copies of them, and on crafted edge cases.
/// (Fresh recordings are compared by the privileged tests.)
fn reference_reader(recorder: &Path) -> Result<()> {
    let dir = util::project_root().join("tools/reference-reader");
    let logs = golden_logs()?;
    let py = setup::PYTHON;
    util::run(
        Command::new(py)
            .args(["-m", "unittest", "-q"])
            .current_dir(&dir),
    )?;
    util::run(
        Command::new(py)
            .arg(dir.join("compare.py"))
            .arg("--recorder")
            .arg(recorder)
            .args(["--damage", "100"])
            .args(&logs),
    )?;
    util::run(
        Command::new(py)
            .arg(dir.join("edge_cases.py"))
            .arg("--recorder")
            .arg(recorder),
    )
}

/// The golden logs of every format version and architecture.
fn golden_logs() -> Result<Vec<PathBuf>> {
    let golden = util::project_root().join("recorder/tests/golden/logs");
    let mut logs = Vec::new();
    for sub in [
        "x86_64",
        "aarch64",
        "v2/x86_64",
        "v2/aarch64",
        "future",
        "lean",
        "watch",
    ] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(golden.join(sub))
            .with_context(|| format!("cannot list {}", golden.join(sub).display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "rec"))
            .collect();
        found.sort();
        logs.extend(found);
    }
    if logs.is_empty() {
        bail!("no golden logs under {}", golden.display());
    }
    Ok(logs)
}

/// `export --format parquet` of every golden log, queried all at once with
/// DuckDB (tools/parquet-check): counts per syscall, errors per errno and a
/// join on process names must equal `stats --json`. Without DuckDB (setup
/// installs it) this fails under CI and is skipped loudly elsewhere.
fn parquet_duckdb(recorder: &Path) -> Result<()> {
    if !setup::duckdb_present() {
        let msg = format!(
            "DuckDB {} is not in {} (cargo xtask setup installs it)",
            setup::DUCKDB_VERSION,
            setup::duckdb_venv().display()
        );
        if std::env::var_os("CI").is_some_and(|v| v == "true") {
            bail!("{msg}");
        }
        println!("SKIPPED the DuckDB Parquet check: {msg}");
        return Ok(());
    }
    util::run(
        Command::new(setup::duckdb_python())
            .arg(util::project_root().join("tools/parquet-check/check.py"))
            .arg("--recorder")
            .arg(recorder)
            .args(golden_logs()?),
    )
}

/// Builds the `tests` crate's test executables as the current user, then
/// runs them as root (`sudo -E` when needed): cargo itself never runs under
/// sudo, which would leave root-owned files in target/ and use root's
/// CARGO_HOME. Without root or sudo they run anyway and skip loudly (or fail
/// when CI is set).
fn integration_tests(recorder: &Path, extra: &[String]) -> Result<()> {
    let tests_dir = util::project_root().join("tests");
    let mut build = util::cargo();
    build.args(["test", "-p", "tests", "--no-run"]);
    // The fixtures' own (empty) unit-test harnesses would only add noise.
    let executables: Vec<Executable> = compile::cargo_executables(build)?
        .into_iter()
        .filter(|e| e.is_test && !e.is_bin_unit_test())
        .collect();
    if executables.is_empty() {
        bail!("the tests crate has no test executables");
    }
    let bin_dir: PathBuf = recorder
        .parent()
        .expect("binary has a directory")
        .to_path_buf();
    if !util::is_root() && which::which("sudo").is_err() {
        println!(
            "test: not root and no sudo: the privileged tests will skip (or fail under CI=true)"
        );
    }
    for exe in &executables {
        println!("     Running {} ({})", exe.name, exe.path.display());
        // Through `env -u`: under sudo the recorder would run the tests'
        // commands as the user who ran sudo, and become that user after
        // attach (README, "Using it"), in directories only root can enter.
        // The tests that are about sudo set these variables themselves.
        let mut cmd = Command::new("env");
        cmd.args(["-u", "SUDO_UID", "-u", "SUDO_GID", "-u", "SUDO_USER"])
            .arg(&exe.path)
            .args(extra)
            // As `cargo test` would: the package root as working directory.
            .current_dir(&tests_dir)
            .env("CARGO_MANIFEST_DIR", &tests_dir)
            .env("RECORDER_BIN", recorder)
            .env("RECORDER_TEST_BIN_DIR", &bin_dir);
        util::run(&mut util::maybe_sudo(cmd))?;
    }
    Ok(())
}
