//! `cargo xtask man` and `cargo xtask deb`: man pages, shell completions and
//! the Debian package.
//!
//! Man pages and completions come from the CLI definition through the
//! recorder binary itself (`recorder man DIR`, `recorder completions
//! SHELL`), so xtask does not link the recorder crate (whose build script
//! builds the eBPF programs). They are the same for every architecture: the
//! host binary generates them, also for the aarch64 package.
//!
//! `deb` runs cargo-deb with `--no-build` on binaries built here (the
//! aarch64 one static, with arm64 eBPF programs, as `build --target aarch64`
//! makes it). cargo-deb resolves asset paths starting with `target/release/`
//! to the real target directory of the package's architecture, which is why
//! the generated files are written under it (`.../release/gen/`). The
//! package's contents are listed in `[package.metadata.deb]` of
//! recorder/Cargo.toml; after building, the .deb is checked with `dpkg-deb`
//! against the files the board needs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::compile::{self, Arch};
use crate::setup::{self, AARCH64_TARGET};
use crate::{elf, util};

/// Completion scripts: (shell, file name cargo-deb's assets expect).
const COMPLETIONS: [(&str, &str); 3] = [
    ("bash", "recorder.bash"),
    ("zsh", "_recorder"),
    ("fish", "recorder.fish"),
];

/// What a package must contain, whatever else it holds.
const REQUIRED_FILES: [&str; 8] = [
    "./usr/bin/recorder",
    "./usr/lib/systemd/system/recorder.service",
    "./etc/recorder/recorder.toml",
    "./usr/share/man/man1/recorder.1.gz",
    "./usr/share/man/man1/recorder-bundle.1.gz",
    "./usr/share/bash-completion/completions/recorder",
    "./usr/share/zsh/vendor-completions/_recorder",
    "./usr/share/fish/vendor_completions.d/recorder.fish",
];

/// `cargo xtask man`: man pages into target/man/man1, completion scripts
/// into target/completions.
pub fn man_command() -> Result<()> {
    setup::run(&setup::Options::default())?;
    let recorder = compile::build_host(true)?;
    let target = util::target_dir();
    generate(
        &recorder,
        &target.join("man/man1"),
        &target.join("completions"),
    )?;
    println!(
        "man: {} and {}",
        target.join("man/man1").display(),
        target.join("completions").display()
    );
    Ok(())
}

/// `cargo xtask deb --target ARCH`: builds the package; returns its path.
pub fn deb_command(arch: Arch) -> Result<PathBuf> {
    setup::run(&setup::Options {
        arm64: arch == Arch::Aarch64,
        deb: true,
        ..Default::default()
    })?;
    // The host binary generates the docs; for x86_64 it is also the one
    // packaged.
    let host = compile::build_host(true)?;
    let (release_dir, triple) = match arch {
        Arch::X86_64 => (
            host.parent()
                .context("binary has a directory")?
                .to_path_buf(),
            None,
        ),
        Arch::Aarch64 => {
            let bins = compile::build_aarch64(&["-p", "recorder", "--bins"])?;
            let bin = compile::find_binary(&bins, "recorder")?;
            elf::check_static_aarch64(&bin)?;
            (
                bin.parent()
                    .context("binary has a directory")?
                    .to_path_buf(),
                Some(AARCH64_TARGET),
            )
        }
    };
    let gen_dir = release_dir.join("gen");
    generate(&host, &gen_dir.join("man"), &gen_dir.join("completions"))?;

    let mut cmd = util::cargo();
    cmd.args(["deb", "-p", "recorder", "--no-build"]);
    if let Some(triple) = triple {
        cmd.args(["--target", triple]);
        // The host's binutils strip does not know arm64; LLVM's strips
        // any architecture (cargo-deb reads STRIP_<triple>).
        cmd.env(format!("STRIP_{triple}"), "llvm-strip-22")
            .env(format!("OBJCOPY_{triple}"), "llvm-objcopy-22");
    }
    let out = util::output(&mut cmd).context("cargo deb failed")?;
    // cargo-deb prints the package's path as its last line.
    let deb = out
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.ends_with(".deb"))
        .map(PathBuf::from)
        .with_context(|| format!("cargo deb printed no .deb path:\n{out}"))?;
    check_deb(&deb, arch)?;
    println!("deb: {}", deb.display());
    Ok(deb)
}

/// Man pages into `man_dir`, completion scripts into `completions_dir`,
/// both emptied first so no stale page of a removed subcommand survives.
fn generate(recorder: &Path, man_dir: &Path, completions_dir: &Path) -> Result<()> {
    for dir in [man_dir, completions_dir] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot empty {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    util::run(Command::new(recorder).arg("man").arg(man_dir))?;
    // Debian ships man pages gzipped, and cargo-deb leaves files under the
    // target directory as they are. -n: no name or time stamp inside, so
    // the same page gives the same bytes.
    let mut gzip = Command::new("gzip");
    gzip.args(["-9", "-n", "-f"]);
    for entry in std::fs::read_dir(man_dir)? {
        gzip.arg(entry?.path());
    }
    util::run(&mut gzip)?;
    for (shell, file) in COMPLETIONS {
        let script = util::output(Command::new(recorder).args(["completions", shell]))?;
        let path = completions_dir.join(file);
        std::fs::write(&path, script)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The package holds what the board needs, for the right architecture,
/// and nothing that would start the service on its own.
fn check_deb(deb: &Path, arch: Arch) -> Result<()> {
    let field = |name: &str| -> Result<String> {
        util::output(Command::new("dpkg-deb").arg("--field").arg(deb).arg(name))
            .map(|s| s.trim().to_owned())
    };
    let want_arch = match arch {
        Arch::X86_64 => "amd64",
        Arch::Aarch64 => "arm64",
    };
    let got_arch = field("Architecture")?;
    if got_arch != want_arch {
        bail!(
            "{}: architecture {got_arch}, expected {want_arch}",
            deb.display()
        );
    }
    let listing = util::output(Command::new("dpkg-deb").arg("--contents").arg(deb))?;
    let files: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .collect();
    let missing: Vec<&str> = REQUIRED_FILES
        .iter()
        .copied()
        .filter(|f| !files.contains(f))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} lacks {}; it holds:\n{listing}",
            deb.display(),
            missing.join(", ")
        );
    }
    // Enabling is the user's decision: no unit symlink shipped in the
    // package, and no maintainer script that enables on a fresh install
    // (cargo-deb's "dont-enable" snippet only re-enables a unit the admin
    // had enabled before an upgrade).
    if files.iter().any(|f| f.contains(".wants/")) {
        bail!(
            "{} ships a .wants/ symlink: the unit would start enabled",
            deb.display()
        );
    }
    let scripts = tempfile::tempdir()?;
    util::run(
        Command::new("dpkg-deb")
            .arg("--control")
            .arg(deb)
            .arg(scripts.path()),
    )?;
    if let Ok(postinst) = std::fs::read_to_string(scripts.path().join("postinst")) {
        let enables = postinst
            .lines()
            .any(|l| l.contains("deb-systemd-helper enable") && !l.trim_start().starts_with('#'))
            && !postinst.contains("was-enabled");
        if enables
            || postinst.contains("systemctl enable")
            || postinst.contains("deb-systemd-invoke start")
        {
            bail!(
                "{}: postinst enables or starts the unit:\n{postinst}",
                deb.display()
            );
        }
    }
    Ok(())
}
