//! `cargo xtask setup`: check the prerequisites cheaply, install what is missing.
//!
//! The probes (`rustup … list`, `dpkg-query`, `bpf-linker --version`, PATH
//! look-ups) take well under a second together, so every other command runs
//! setup first. Installs happen only for what a probe found missing, each
//! announced with one line.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::{self, probe};

#[derive(clap::Args, Clone, Copy, Default)]
pub struct Options {
    /// Also what building for and testing on arm64 needs: the aarch64 musl
    /// target, clang-22 and musl-dev:arm64 (C dependencies), the arm64 dpkg
    /// architecture (musl-dev and the guest kernel packages come from it)
    /// and qemu-system-aarch64.
    #[arg(long)]
    pub arm64: bool,
    /// Also what the benchmarks need (strace, which the tests install anyway).
    #[arg(long)]
    pub bench: bool,
    /// Also what building Debian packages needs (cargo-deb, and dpkg-dev
    /// for the shared-library dependencies of the x86_64 binary).
    #[arg(long)]
    pub deb: bool,
}

/// Debian packages bpf-linker is built against (LLVM 22 from bookworm-security).
const LLVM_PACKAGES: &[&str] = &[
    "llvm-22-dev",
    "libpolly-22-dev",
    "libzstd-dev",
    "zlib1g-dev",
];
/// What tests/browser/check_report.py needs.
const BROWSER_PACKAGES: &[&str] = &["chromium", "chromium-driver", "python3-selenium"];
const LLVM_PREFIX: &str = "/usr/lib/llvm-22";
/// cargo-deb 3 reads `[package.metadata.deb]` as recorder/Cargo.toml writes it.
const CARGO_DEB_VERSION: &str = "^3";
/// bpf-linker 0.13 is the line known to build against LLVM 22 with feature `llvm-22`.
const BPF_LINKER_VERSION: &str = "~0.13";
/// cargo-fuzz runs the log reader's fuzz targets (`cargo xtask test`).
const CARGO_FUZZ_VERSION: &str = "^0.13";
pub const AARCH64_TARGET: &str = "aarch64-unknown-linux-musl";
/// The C cross compiler for aarch64 (zstd-sys has C code): clang from the
/// same LLVM 22 that bpf-linker needs, with musl's arm64 headers.
pub const CROSS_CLANG: &str = "clang-22";
pub const CROSS_AR: &str = "llvm-ar-22";
const MUSL_ARM64_PACKAGE: &str = "musl-dev:arm64";
pub const MUSL_ARM64_INCLUDE: &str = "/usr/include/aarch64-linux-musl";

pub fn run(opts: &Options) -> Result<()> {
    let mut installed_anything = false;
    let mut announce = |what: &str| {
        println!("setup: installing {what}");
        installed_anything = true;
    };

    // Rust toolchains first: they need no root.
    require_tool(
        "rustup",
        "install rustup from your distribution or rustup.rs",
    )?;
    let toolchains = util::output(Command::new("rustup").args(["toolchain", "list"]))?;
    if !toolchains.lines().any(|l| l.starts_with("nightly-")) {
        announce("the nightly toolchain with rust-src (for the eBPF programs, about 1 min)…");
        util::run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
            "--component",
            "rust-src",
        ]))?;
    }
    // rust-src: the eBPF build compiles core from source. clippy: `cargo
    // xtask test` lints the eBPF crate with it (build-std for the bpf
    // target needs nightly).
    let nightly = util::output(Command::new("rustup").args([
        "component",
        "list",
        "--installed",
        "--toolchain",
        "nightly",
    ]))?;
    for (c, why) in [
        ("rust-src", "the eBPF build compiles core from source"),
        ("clippy", "lints the eBPF programs"),
    ] {
        if !nightly
            .lines()
            .any(|l| l.trim() == c || l.starts_with(&format!("{c}-")))
        {
            announce(&format!("{c} for nightly ({why})…"));
            util::run(Command::new("rustup").args([
                "component",
                "add",
                c,
                "--toolchain",
                "nightly",
            ]))?;
        }
    }
    // `cargo xtask test` starts with fmt and clippy (of the toolchain cargo
    // uses here; rustup's minimal profile has neither).
    let components = util::output(
        Command::new("rustup")
            .args(["component", "list", "--installed"])
            .current_dir(util::project_root()),
    )?;
    for c in ["rustfmt", "clippy"] {
        if !components.lines().any(|l| l.starts_with(&format!("{c}-"))) {
            announce(&format!("the {c} component…"));
            util::run(
                Command::new("rustup")
                    .args(["component", "add", c])
                    .current_dir(util::project_root()),
            )?;
        }
    }
    if opts.arm64 {
        // `rustup target list` answers for the toolchain cargo uses here.
        let targets = util::output(
            Command::new("rustup")
                .args(["target", "list", "--installed"])
                .current_dir(util::project_root()),
        )?;
        if !targets.lines().any(|l| l.trim() == AARCH64_TARGET) {
            announce(&format!("the {AARCH64_TARGET} Rust target…"));
            util::run(
                Command::new("rustup")
                    .args(["target", "add", AARCH64_TARGET])
                    .current_dir(util::project_root()),
            )?;
        }
    }

    // Debian packages, all installed with one apt-get run after at most one update.
    let bpf_linker = bpf_linker_status()?;
    let mut apt = AptPlan::default();
    if bpf_linker == Presence::Missing {
        apt.want_packages(LLVM_PACKAGES)?;
    }
    if opts.arm64 {
        apt.want_arm64_architecture()?;
        apt.want_command("qemu-system-aarch64", "qemu-system-arm")?;
        apt.want_command(CROSS_CLANG, CROSS_CLANG)?;
        apt.want_command(CROSS_AR, "llvm-22")?;
        if !Path::new(MUSL_ARM64_INCLUDE).join("stdlib.h").is_file() {
            apt.packages.push(MUSL_ARM64_PACKAGE.to_owned());
        }
    }
    // strace is the outside reference of the test suite
    // (tests/tests/strace_compare.rs compares dump with it line by line),
    // besides being a column of the bench.
    apt.want_command("strace", "strace")?;
    // The bench asks bpftool whether anyone else's programs sit on the
    // raw_syscalls tracepoints while it measures untraced runs.
    apt.want_command("bpftool", "bpftool")?;
    // The bench's peak-RSS columns come from GNU time's %M: wait4 from
    // xtask reports xtask's own peak for a smaller child (bench::process).
    if opts.bench {
        apt.want_command("/usr/bin/time", "time")?;
    }
    // The reference reader (tools/reference-reader) runs on Debian's
    // Python with its zstd binding; a python3 earlier on PATH (pyenv)
    // would not see that module.
    apt.want_packages(&["python3", "python3-zstandard", "python3-venv"])?;
    // `recorder report`'s page is tested (and benched) in a real browser:
    // Debian's Chromium, driven through its chromedriver by Selenium
    // (tests/browser/check_report.py). About 100 MB, from apt.
    apt.want_packages(BROWSER_PACKAGES)?;
    if opts.deb {
        apt.want_command("dpkg-shlibdeps", "dpkg-dev")?;
    }
    if !apt.is_empty() {
        for line in apt.descriptions() {
            announce(&line);
        }
        apt.execute()?;
    }

    if bpf_linker == Presence::Missing {
        announce("bpf-linker (builds against LLVM 22, 2-3 min)…");
        cargo_install(
            "bpf-linker",
            BPF_LINKER_VERSION,
            &["--no-default-features", "--features", "llvm-22"],
            // Without LLVM_PREFIX the build finds LLVM 14's llvm-config on
            // PATH and fails with "unable to find library -lLLVM".
            &[
                ("LLVM_PREFIX", LLVM_PREFIX),
                ("LLVM_SYS_221_PREFIX", LLVM_PREFIX),
            ],
        )?;
    }

    if opts.deb && probe("cargo-deb", ["--version"]).is_none() {
        announce("cargo-deb (about 1 min)…");
        cargo_install("cargo-deb", CARGO_DEB_VERSION, &["--locked"], &[])?;
    }

    // `cargo xtask test` fuzzes the log reader briefly (with the nightly
    // toolchain installed above).
    if probe("cargo-fuzz", ["--version"]).is_none() {
        announce("cargo-fuzz (about 1 min)…");
        cargo_install("cargo-fuzz", CARGO_FUZZ_VERSION, &["--locked"], &[])?;
    }

    // The Parquet export is tested with DuckDB (no Debian package exists):
    // its PyPI wheel, in a venv of Debian's Python under target/.
    if !duckdb_present() {
        announce(&format!(
            "DuckDB {DUCKDB_VERSION} from PyPI into {} (about 10 s)…",
            duckdb_venv().display()
        ));
        install_duckdb()?;
    }

    if !installed_anything {
        println!("setup: all prerequisites present");
    }
    Ok(())
}

/// `cargo install KRATE --version VERSION EXTRA...` with `env` set, then a
/// check that the binary it installs (named like the crate) is on PATH.
fn cargo_install(krate: &str, version: &str, extra: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let mut cmd = util::cargo();
    cmd.args(["install", krate, "--version", version])
        .args(extra);
    for &(key, value) in env {
        cmd.env(key, value);
    }
    util::run(&mut cmd)?;
    if which::which(krate).is_err() {
        bail!(
            "{krate} was installed but is not on PATH: add {} to PATH",
            cargo_bin_dir().display()
        );
    }
    Ok(())
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Presence {
    Present,
    Missing,
}

fn bpf_linker_status() -> Result<Presence> {
    if probe("bpf-linker", ["--version"]).is_some() {
        return Ok(Presence::Present);
    }
    let installed = cargo_bin_dir().join("bpf-linker");
    if installed.is_file() {
        // Installing again would not help: the eBPF build looks it up on PATH.
        bail!(
            "bpf-linker is installed in {} but that directory is not on PATH",
            installed.parent().unwrap().display()
        );
    }
    Ok(Presence::Missing)
}

fn cargo_bin_dir() -> std::path::PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(Into::into)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .unwrap_or_else(|| "/root/.cargo".into());
    home.join("bin")
}

fn require_tool(name: &str, hint: &str) -> Result<()> {
    match which::which(name) {
        Ok(_) => Ok(()),
        Err(_) => bail!("`{name}` not found: {hint}"),
    }
}

/// The Python the reference reader runs on: Debian's, with the packages
/// setup installs for it.
pub const PYTHON: &str = "/usr/bin/python3";

/// The DuckDB the Parquet test queries with (the PyPI package `duckdb`).
pub const DUCKDB_VERSION: &str = "2.0.0";

/// The venv holding DuckDB.
pub fn duckdb_venv() -> std::path::PathBuf {
    util::target_dir().join("duckdb-venv")
}

/// The venv's Python, which imports `duckdb`.
pub fn duckdb_python() -> std::path::PathBuf {
    duckdb_venv().join("bin/python")
}

/// The venv exists and imports the pinned DuckDB (one Python start, about
/// 0.1 s).
pub fn duckdb_present() -> bool {
    let check = format!("import duckdb, sys; sys.exit(duckdb.__version__ != '{DUCKDB_VERSION}')");
    Command::new(duckdb_python())
        .args(["-c", &check])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn install_duckdb() -> Result<()> {
    let venv = duckdb_venv();
    if !duckdb_python().is_file() {
        util::run(Command::new(PYTHON).args(["-m", "venv"]).arg(&venv))?;
    }
    util::run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("duckdb=={DUCKDB_VERSION}")),
    )?;
    if !duckdb_present() {
        bail!(
            "DuckDB was installed into {} but does not import",
            venv.display()
        );
    }
    Ok(())
}

/// What apt has to do: packages to install, and whether the arm64
/// architecture must be added first.
#[derive(Default)]
struct AptPlan {
    add_arm64: bool,
    /// `dpkg --add-architecture arm64` was done but `apt-get update` was not.
    arm64_lists_missing: bool,
    packages: Vec<String>,
}

impl AptPlan {
    fn is_empty(&self) -> bool {
        !self.add_arm64 && !self.arm64_lists_missing && self.packages.is_empty()
    }

    fn require_dpkg() -> Result<()> {
        require_tool(
            "dpkg-query",
            "setup installs system packages with apt and dpkg (Debian/Ubuntu); install them by hand on other systems",
        )
    }

    fn want_packages(&mut self, packages: &[&str]) -> Result<()> {
        Self::require_dpkg()?;
        // One dpkg-query for all of them; it exits non-zero when some are unknown.
        let out = Command::new("dpkg-query")
            .args(["-W", "-f", "${Package} ${db:Status-Status}\n"])
            .args(packages)
            .stderr(std::process::Stdio::null())
            .output()
            .context("cannot run dpkg-query")?;
        let listing = String::from_utf8_lossy(&out.stdout);
        for package in packages {
            let installed = listing.lines().any(|l| {
                let mut words = l.split_whitespace();
                let name = words.next().unwrap_or("");
                // dpkg-query prints multi-arch packages without the :arch suffix.
                name == package.split(':').next().unwrap_or(package)
                    && words.next() == Some("installed")
            });
            if !installed {
                self.packages.push((*package).to_owned());
            }
        }
        Ok(())
    }

    fn want_command(&mut self, command: &str, package: &str) -> Result<()> {
        if which::which(command).is_err() {
            Self::require_dpkg()?;
            self.packages.push(package.to_owned());
        }
        Ok(())
    }

    fn want_arm64_architecture(&mut self) -> Result<()> {
        Self::require_dpkg()?;
        let native = util::output(Command::new("dpkg").arg("--print-architecture"))?;
        if native.trim() == "arm64" {
            return Ok(());
        }
        let foreign = util::output(Command::new("dpkg").arg("--print-foreign-architectures"))?;
        if !foreign.lines().any(|l| l.trim() == "arm64") {
            self.add_arm64 = true;
        } else if !arm64_lists_present() {
            self.arm64_lists_missing = true;
        }
        Ok(())
    }

    fn descriptions(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.add_arm64 || self.arm64_lists_missing {
            lines.push(
                "the arm64 package lists (dpkg --add-architecture arm64; apt-get update)…"
                    .to_owned(),
            );
        }
        if !self.packages.is_empty() {
            lines.push(format!("Debian packages: {}…", self.packages.join(" ")));
        }
        lines
    }

    /// The shell commands that carry out the plan, for a non-root user to run.
    fn shell_commands(&self) -> Vec<String> {
        let mut cmds = Vec::new();
        if self.add_arm64 {
            cmds.push("dpkg --add-architecture arm64".to_owned());
        }
        cmds.push("apt-get update".to_owned());
        if !self.packages.is_empty() {
            cmds.push(format!(
                "apt-get install -y --no-install-recommends {}",
                self.packages.join(" ")
            ));
        }
        cmds
    }

    fn execute(&self) -> Result<()> {
        if !util::is_root() {
            let cmds = self.shell_commands();
            bail!(
                "setup needs root for apt; run: sudo sh -c '{}'  and then this command again",
                cmds.join(" && ")
            );
        }
        if self.add_arm64 {
            util::run(Command::new("dpkg").args(["--add-architecture", "arm64"]))?;
        }
        apt_get(&["update", "-q"])?;
        if !self.packages.is_empty() {
            let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
            args.extend(self.packages.iter().map(String::as_str));
            apt_get(&args)?;
        }
        Ok(())
    }
}

fn apt_get(args: &[&str]) -> Result<()> {
    util::run(
        Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=300"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Whether apt has any arm64 `Packages` index (present after an update with
/// the arm64 architecture added).
fn arm64_lists_present() -> bool {
    std::fs::read_dir("/var/lib/apt/lists")
        .map(|dir| {
            dir.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .contains("binary-arm64_Packages")
            })
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_root_gets_the_exact_apt_commands() {
        let plan = AptPlan {
            add_arm64: true,
            arm64_lists_missing: false,
            packages: vec!["qemu-system-arm".into(), "musl-dev:arm64".into()],
        };
        assert_eq!(
            plan.shell_commands().join(" && "),
            "dpkg --add-architecture arm64 && apt-get update && \
             apt-get install -y --no-install-recommends qemu-system-arm musl-dev:arm64"
        );
    }
}
