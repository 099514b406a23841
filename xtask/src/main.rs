//! `cargo xtask`: the project's automation, in Rust so it needs nothing but cargo.
//!
//! | command | what it does |
//! | --- | --- |
//! | `setup [--arm64] [--bench]` | checks the build prerequisites (nightly + rust-src, bpf-linker, …) and installs what is missing |
//! | `build [--release] [--target x86_64\|aarch64]` | builds the `recorder` binary (eBPF included) |
//! | `run [--release] -- ARGS` | builds and runs the recorder as root |
//! | `test [--no-arm64] [-- FILTER]` | the whole suite, as CI runs it |
//! | `vm-run [...] -- BINARY [ARGS]` | runs a static aarch64 binary as root in an arm64 QEMU guest |
//! | `test-arm64 [...]` | runs the `tests` crate's integration tests in arm64 guests (4K and 16K pages) |
//! | `bench [--quick]` | the side-by-side overhead benchmark (recorder, strace, perf trace); table in target/bench/ |
//! | `bench-zstd [--arm64] [--levels L,...] [LOG...]` | cost and size of each zstd level for log blocks (x86, and the arm64 guest, emulated); table in target/bench-zstd/ |
//! | `gen-syscalls STRACE_SRC` | regenerates the syscall tables (names, argument counts, classes) from strace's |
//! | `man` | man pages and shell completions from the CLI definition, into target/man and target/completions |
//! | `deb --target x86_64\|aarch64` | the Debian package (binary, systemd unit, config, man pages, completions) |
//!
//! Modules: [`setup`] (prerequisites), [`compile`] (cargo invocations),
//! [`commands`] (`run`, `test`), [`arm64`] (`test-arm64`), [`vm`] (the QEMU
//! runner) with [`kernel`] (its cached kernel and busybox), [`cpio`] (initramfs
//! writer) and [`elf`] (header checks), [`bench`] (`bench`; a folder by
//! concern: modes, workloads, cells, rate, reader, report, host, and the
//! runs under load in `bench::load`), [`bench_zstd`] (`bench-zstd`),
//! [`package`] (`man`, `deb`); [`util`] has process helpers.

mod arm64;
mod bench;
mod bench_zstd;
mod commands;
mod compile;
mod cpio;
mod elf;
mod fuzz;
mod kernel;
mod package;
mod setup;
mod sysent;
mod util;
mod vm;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::compile::Arch;
use crate::kernel::KernelKind;

#[derive(Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "recorder project automation",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the build prerequisites and install whatever is missing (idempotent).
    Setup(setup::Options),
    /// Build the recorder binary (eBPF programs included).
    Build {
        /// Build with the release profile (aarch64 builds are always release).
        #[arg(long)]
        release: bool,
        /// CPU architecture to build for.
        #[arg(long, value_enum, default_value_t = Arch::X86_64)]
        target: Arch,
    },
    /// Build the recorder and run it as root (through `sudo -E` when not root).
    Run {
        /// Build and run the unoptimized binary instead of the release one
        /// (its drain is several times slower: a first recording must not
        /// be the lossy one).
        #[arg(long)]
        debug: bool,
        /// Arguments for the recorder.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Run the whole test suite, as CI does.
    Test {
        /// Skip the arm64 VM tests (a quick local run).
        #[arg(long)]
        no_arm64: bool,
        /// Extra arguments for every `cargo test` run, such as a test-name filter.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Run a static aarch64 binary as root in an arm64 QEMU guest and exit with its status.
    ///
    /// Exit status: the binary's own (128+N for signal N), 124 on timeout, 125 if the VM failed.
    VmRun(VmRunArgs),
    /// Build the `tests` crate for aarch64 and run its integration tests in arm64 guests.
    TestArm64(arm64::Options),
    /// Measure the recorder's overhead side by side with strace and perf trace (needs root).
    ///
    /// Prints a markdown table and writes it to target/bench/bench.md (raw samples in bench.json).
    Bench(bench::Options),
    /// Measure what each zstd level costs the log writer (ns/record, bytes/record) on sample logs.
    ///
    /// Without LOGs, records find, a getppid loop and tar first (needs root). `--arm64` repeats
    /// the sweep in the arm64 QEMU guest (emulated: only relative costs mean anything there).
    /// Prints markdown, also written to target/bench-zstd/bench-zstd.md.
    BenchZstd(bench_zstd::Options),
    /// Generate the man pages and shell completions (bash, zsh, fish) from the CLI definition.
    Man,
    /// Regenerate recorder/src/decode/sysent/generated.rs (syscall numbers, names, argument
    /// counts, trace classes) from strace's syscall tables.
    ///
    /// STRACE_SRC is strace's source tree (its git repository, or `apt-get source strace`).
    GenSyscalls {
        /// strace's source tree.
        strace_src: PathBuf,
    },
    /// Build the Debian package: binary, systemd unit (not enabled), config, man pages, completions.
    Deb {
        /// CPU architecture of the package (aarch64: the static musl binary).
        #[arg(long, value_enum, default_value_t = Arch::X86_64)]
        target: Arch,
    },
}

#[derive(clap::Args)]
struct VmRunArgs {
    /// Guest kernel: Debian's arm64 kernel with 4K or 16K pages.
    #[arg(long, value_enum, default_value_t = KernelKind::K4k)]
    kernel: KernelKind,
    /// Extra host file to copy into the guest's working directory /opt/run (repeatable).
    #[arg(long = "file", value_name = "PATH")]
    files: Vec<PathBuf>,
    /// Environment variable for the binary in the guest (repeatable).
    #[arg(long = "env", short = 'e', value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Copy what the binary leaves in the guest's /opt/out to this host directory.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Seconds for the whole VM run, boot included.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    timeout: u64,
    /// Show the guest's boot console on stderr.
    #[arg(long)]
    verbose: bool,
    /// The static aarch64 binary to run.
    binary: PathBuf,
    /// Its arguments (put `--` before the binary if they start with `-`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Exit status of `vm-run` when the VM itself failed, as in run-in-arm64-vm.sh.
const VM_FAILURE_STATUS: u8 = 125;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let is_vm_run = matches!(cli.command, Command::VmRun(_));
    match dispatch(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            // vm-run's own exit status is the guest binary's, so a failure of
            // the VM gets a status a test binary is unlikely to return.
            ExitCode::from(if is_vm_run { VM_FAILURE_STATUS } else { 1 })
        }
    }
}

/// Runs one command; `Ok` carries the process exit status.
fn dispatch(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Setup(opts) => setup::run(&opts).map(|()| 0),
        Command::Build { release, target } => compile::build_command(target, release).map(|_| 0),
        Command::Run { debug, args } => commands::run(!debug, &args),
        Command::Test { no_arm64, args } => commands::test(!no_arm64, &args).map(|()| 0),
        Command::VmRun(a) => {
            let env = a
                .env
                .iter()
                .map(|kv| util::parse_env_pair(kv))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let request = vm::Request {
                kernel: a.kernel,
                binary: a.binary,
                args: a.args,
                files: a.files,
                env,
                out_dir: a.out_dir,
                timeout: Duration::from_secs(a.timeout),
                verbose: a.verbose,
            };
            Ok(vm::run(&request)?.exit_status())
        }
        Command::TestArm64(opts) => arm64::run(&opts).map(|()| 0),
        Command::Bench(opts) => bench::run(&opts).map(|()| 0),
        Command::BenchZstd(opts) => bench_zstd::run(&opts).map(|()| 0),
        Command::Man => package::man_command().map(|()| 0),
        Command::GenSyscalls { strace_src } => sysent::run(&strace_src).map(|()| 0),
        Command::Deb { target } => package::deb_command(target).map(|_| 0),
    }
}
