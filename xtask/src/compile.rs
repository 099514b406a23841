//! Cargo invocations that build the recorder and the test binaries.

use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use cargo_metadata::{Message, TargetKind};

use crate::setup::{self, AARCH64_TARGET};
use crate::{elf, util};

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arch {
    #[value(name = "x86_64")]
    X86_64,
    #[value(name = "aarch64")]
    Aarch64,
}

/// `cargo xtask build`.
pub fn build_command(arch: Arch, release: bool) -> Result<PathBuf> {
    setup::run(&setup::Options {
        arm64: arch == Arch::Aarch64,
        ..Default::default()
    })?;
    match arch {
        Arch::X86_64 => {
            let bin = build_host(release)?;
            println!("build: {}", bin.display());
            Ok(bin)
        }
        Arch::Aarch64 => {
            if !release {
                println!("build: aarch64 builds always use the release profile");
            }
            let bins = build_aarch64(&["-p", "recorder", "--bins"])?;
            let bin = find_binary(&bins, "recorder")?;
            elf::check_static_aarch64(&bin)?;
            println!("build: {} (static aarch64 ELF)", bin.display());
            Ok(bin)
        }
    }
}

/// Builds the host recorder; returns the binary's path.
pub fn build_host(release: bool) -> Result<PathBuf> {
    let mut cmd = util::cargo();
    cmd.args(["build", "-p", "recorder", "--bins"]);
    if release {
        cmd.arg("--release");
    }
    let bins = cargo_executables(cmd)?;
    find_binary(&bins, "recorder")
}

/// `cargo build --release --target aarch64-unknown-linux-musl ARGS`; returns
/// the executables it produced.
///
/// aya-build takes the eBPF target's arch and endianness from the cargo
/// target, so this also builds the eBPF programs for arm64. Release, because
/// everything built for aarch64 runs under QEMU's (slow) emulation.
pub fn build_aarch64(args: &[&str]) -> Result<Vec<Executable>> {
    let mut cmd = aarch64_cargo("build");
    cmd.args(args);
    cargo_executables(cmd)
}

/// `cargo SUBCOMMAND --release --target aarch64-unknown-linux-musl`, set up
/// to link with rust-lld and to compile C dependencies with clang.
pub fn aarch64_cargo(subcommand: &str) -> Command {
    let mut cmd = util::cargo();
    cmd.args([subcommand, "--release", "--target", AARCH64_TARGET])
        // rust-lld ships with rustup and links against Rust's own copy of
        // musl; the musl target links statically by default.
        .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "rust-lld");
    // zstd-sys compiles libzstd's C code. clang cross-compiles by itself
    // (cc-rs passes --target); it only needs musl's arm64 headers (Debian's
    // musl-dev:arm64) instead of the host's glibc ones. The objects link
    // against the musl that Rust bundles. Set by `setup --arm64`; a CC the
    // caller chose wins.
    if std::env::var_os(format!("CC_{AARCH64_TARGET_ENV}")).is_none() {
        let resource_dir = util::probe(setup::CROSS_CLANG, ["-print-resource-dir"]);
        let resource_dir = resource_dir
            .as_deref()
            .map(str::trim)
            .unwrap_or("/usr/lib/llvm-22/lib/clang/22");
        cmd.env(format!("CC_{AARCH64_TARGET_ENV}"), setup::CROSS_CLANG)
            .env(format!("AR_{AARCH64_TARGET_ENV}"), setup::CROSS_AR)
            .env(
                format!("CFLAGS_{AARCH64_TARGET_ENV}"),
                format!(
                    "-nostdinc -isystem {resource_dir}/include -isystem {}",
                    setup::MUSL_ARM64_INCLUDE
                ),
            );
    }
    cmd
}

/// The target triple as cc-rs spells it in environment variable names.
const AARCH64_TARGET_ENV: &str = "aarch64_unknown_linux_musl";

/// An executable that cargo built.
#[derive(Debug, Clone)]
pub struct Executable {
    pub path: PathBuf,
    /// The cargo target's name (`recorder`, or a test file's stem).
    pub name: String,
    /// A test harness executable (`cargo test --no-run`), not a `[[bin]]`.
    pub is_test: bool,
    /// The kinds of the target it was built from (lib, bin, test…).
    pub kinds: Vec<TargetKind>,
}

impl Executable {
    /// The harness of a `tests/*.rs` file.
    pub fn is_integration_test(&self) -> bool {
        self.is_test && self.kinds.contains(&TargetKind::Test)
    }

    /// The harness of a `[[bin]]`'s unit tests.
    pub fn is_bin_unit_test(&self) -> bool {
        self.is_test && self.kinds.contains(&TargetKind::Bin)
    }
}

/// Runs a cargo build-like command with JSON messages on stdout (compiler
/// diagnostics still rendered on stderr) and returns the executables it built:
/// binaries, and test executables for `cargo test --no-run`.
pub fn cargo_executables(mut cmd: Command) -> Result<Vec<Executable>> {
    cmd.arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped());
    let what = util::describe(&cmd);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start `{what}`"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut executables = Vec::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        let message = message.with_context(|| format!("reading `{what}` output"))?;
        if let Message::CompilerArtifact(artifact) = message
            && let Some(exe) = artifact.executable
        {
            executables.push(Executable {
                path: exe.into_std_path_buf(),
                name: artifact.target.name.clone(),
                is_test: artifact.profile.test,
                kinds: artifact.target.kind.clone(),
            });
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("`{what}` failed ({status})");
    }
    Ok(executables)
}

/// The (non-test) executable of target `name` among `bins`.
pub fn find_binary(bins: &[Executable], name: &str) -> Result<PathBuf> {
    bins.iter()
        .find(|e| !e.is_test && e.name == name)
        .map(|e| e.path.clone())
        .with_context(|| format!("the build produced no `{name}` binary"))
}
