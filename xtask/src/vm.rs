//! Runs a static aarch64 binary as root in a throw-away arm64 QEMU guest.
//!
//! A Rust port of shared/arm64-vm/run-in-arm64-vm.sh. The guest is Debian's
//! arm64 kernel (see [`crate::kernel`]) booted by `qemu-system-aarch64 -M virt`
//! under TCG (x86 KVM cannot run arm64) with an initramfs holding busybox,
//! strace (with its glibc), the
//! `/init` from `guest-init.sh`, and the binary plus extra files in `/opt/run`.
//! `/init` mounts proc/sys/dev, debugfs, tracefs, bpffs and cgroup2, runs the
//! binary, and prints nonce-tagged begin/end markers (the end one with the
//! exit status) on the serial console, which qemu connects to our stdout
//! pipe. Between the markers we relay the console to our stdout.
//!
//! Files come back out through a raw disk: with an output directory, the guest
//! writes a tar of its `/opt/out` onto `/dev/vda` and we unpack the tar from
//! the image file. Debian builds virtio-mmio and virtio-blk as modules, so
//! those two ride along in the initramfs and `/init` loads them.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::elf::{self, PageSize};
use crate::kernel::{self, KernelKind};
use crate::{cpio, util};

const GUEST_INIT: &str = include_str!("guest-init.sh");
/// Where the binary and the extra files land; also the working directory.
pub const GUEST_RUN_DIR: &str = "/opt/run";
/// The size of the sparse output disk: the limit for what /opt/out may hold.
const OUT_DISK_BYTES: u64 = 256 << 20;
/// Host environment variables forwarded to the guest binary when set.
const PASS_ENV: [&str; 4] = [
    "RUST_BACKTRACE",
    "RUST_LIB_BACKTRACE",
    "RUST_LOG",
    "RUST_MIN_STACK",
];
/// The output marker's status when /dev/vda did not appear (see guest-init.sh).
const NO_OUT_DISK: i32 = 200;
/// Console lines kept for error messages.
const TAIL_LINES: usize = 30;

pub struct Request {
    pub kernel: KernelKind,
    pub binary: PathBuf,
    pub args: Vec<String>,
    /// Host files copied into `/opt/run` under their file names.
    pub files: Vec<PathBuf>,
    pub env: Vec<(String, String)>,
    /// Where to unpack what the binary left in the guest's `/opt/out`.
    pub out_dir: Option<PathBuf>,
    /// For the whole run, boot included.
    pub timeout: Duration,
    /// Show the boot console (and kernel messages) on stderr.
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The binary's exit status (128+N if signal N killed it).
    Exited(i32),
    TimedOut,
}

impl Outcome {
    /// The process exit status that reports this outcome (124 for a timeout,
    /// as timeout(1) does).
    pub fn exit_status(self) -> u8 {
        match self {
            Outcome::Exited(code) => u8::try_from(code).unwrap_or(1),
            Outcome::TimedOut => 124,
        }
    }
}

pub fn run(req: &Request) -> Result<Outcome> {
    let qemu = which::which("qemu-system-aarch64").map_err(|_| {
        anyhow::anyhow!("qemu-system-aarch64 not found: run `cargo xtask setup --arm64`")
    })?;
    ensure!(
        req.binary.is_file(),
        "no such file: {}",
        req.binary.display()
    );
    elf::check_static_aarch64(&req.binary)?;
    let binary_name = guest_file_name(&req.binary)?;
    let mut names = vec![binary_name.clone()];
    for file in &req.files {
        let name = guest_file_name(file)?;
        ensure!(
            !names.contains(&name),
            "two files would both be {GUEST_RUN_DIR}/{name}"
        );
        names.push(name);
    }
    let assets = kernel::prepare(req.kernel)?;
    // Cortex-A72 (ARMv8.0, as in the Raspberry Pi 4) has no 16K translation
    // granule: a 16K kernel hangs on it without a word. Neoverse-N1 (ARMv8.2,
    // like the Pi 5's Cortex-A76) has all granules and boots as fast.
    let cpu = match assets.page_size {
        PageSize::K4 => "cortex-a72",
        PageSize::K16 | PageSize::K64 => "neoverse-n1",
    };

    let work = tempfile::Builder::new()
        .prefix("xtask-vm.")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let nonce = nonce()?;
    let initrd = work.path().join("initrd.cpio");
    write_initramfs(&initrd, req, &assets, &binary_name, &nonce)
        .context("cannot write the initramfs")?;
    let out_image = work.path().join("out.img");
    if req.out_dir.is_some() {
        // Sparse: costs no disk space beyond what the guest writes.
        File::create(&out_image)
            .and_then(|f| f.set_len(OUT_DISK_BYTES))
            .context("cannot create the output disk image")?;
    }

    let mut cmd = qemu_command(
        &qemu,
        cpu,
        &assets.kernel,
        &initrd,
        req.out_dir.is_some().then_some(out_image.as_path()),
        req.verbose,
    );
    let qemu_stderr = work.path().join("qemu.stderr");
    // stdin must not be our terminal: -serial stdio would put it in raw mode.
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(&qemu_stderr)?);

    let start = Instant::now();
    let mut child = cmd.spawn().context("cannot start qemu-system-aarch64")?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let verbose = req.verbose;
    let console_nonce = nonce.clone();
    let reader = std::thread::spawn(move || {
        relay_console(stdout, std::io::stdout(), &console_nonce, verbose)
    });

    let interrupted = interrupt::catch();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if interrupted.happened() {
            // Killing our own child by its handle; it may have exited meanwhile.
            let _ = child.kill();
            child.wait()?;
            bail!("interrupted");
        }
        if start.elapsed() >= req.timeout {
            timed_out = true;
            // Killing our own child by its handle; it may have exited meanwhile.
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let console = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the console reader panicked"))??;

    let context = || format!("kernel {}, cpu {cpu}", assets.kernel_package);
    if let Some(rc) = console.exit_code {
        if let Some(out_dir) = &req.out_dir {
            match console.out_code {
                Some(0) => unpack_out_disk(&out_image, out_dir)?,
                Some(NO_OUT_DISK) => bail!(
                    "the guest has no /dev/vda for /opt/out: loading the virtio modules failed ({}); last console lines:\n{}",
                    context(),
                    console.tail()
                ),
                Some(code) => bail!(
                    "the guest could not write /opt/out to its output disk (tar exit status {code}; over {} MiB?); last console lines:\n{}",
                    OUT_DISK_BYTES >> 20,
                    console.tail()
                ),
                None => bail!(
                    "the guest stopped before writing /opt/out to its output disk ({}); last console lines:\n{}",
                    context(),
                    console.tail()
                ),
            }
        }
        return Ok(Outcome::Exited(rc));
    }
    if timed_out {
        eprintln!(
            "vm: timeout: the VM did not finish within {} s ({})",
            req.timeout.as_secs(),
            context()
        );
        if console.lines_seen == 0 {
            eprintln!(
                "vm: the guest printed nothing, so it never booted (a 16K-page kernel on a CPU without 16K pages does that)"
            );
        } else if console.began {
            eprintln!("vm: the binary had started but had not exited (its output so far is above)");
        } else {
            eprintln!("vm: last console lines:\n{}", console.tail());
        }
        return Ok(Outcome::TimedOut);
    }
    let stderr = fs::read_to_string(&qemu_stderr).unwrap_or_default();
    bail!(
        "the VM exited ({status}) without reporting the binary's exit status ({})\nqemu stderr: {}\nlast console lines:\n{}",
        context(),
        stderr.trim(),
        console.tail()
    )
}

fn qemu_command(
    qemu: &Path,
    cpu: &str,
    kernel: &Path,
    initrd: &Path,
    out_image: Option<&Path>,
    verbose: bool,
) -> Command {
    let mut cmd = Command::new(qemu);
    cmd.args(["-M", "virt", "-cpu", cpu, "-smp", "1", "-m", "1G"])
        .args(["-display", "none", "-monitor", "none", "-serial", "stdio"])
        // -nic none: QEMU 7.2's virt machine otherwise wants efi-virtio.rom.
        .args(["-nic", "none", "-no-reboot"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .arg("-append")
        .arg(format!(
            "console=ttyAMA0 panic=-1 rdinit=/init{}",
            if verbose { "" } else { " quiet" }
        ));
    if let Some(image) = out_image {
        // virtio-mmio rather than `if=virtio` (PCI): one module fewer on 6.1.
        cmd.arg("-drive")
            .arg(format!(
                "file={},format=raw,if=none,id=out",
                image.display()
            ))
            .args(["-device", "virtio-blk-device,drive=out"]);
    }
    cmd
}

/// The name a host file gets in /opt/run; restricted so that .vmrc can use it
/// unquoted and it cannot clash with .vmrc.
fn guest_file_name(path: &Path) -> Result<String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} has no usable file name", path.display()))?;
    ensure!(
        !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b)),
        "{}: guest file names must match [A-Za-z0-9_+-][A-Za-z0-9._+-]*",
        path.display()
    );
    Ok(name.to_owned())
}

/// 16 hex digits, so the markers cannot be forged by accident by the binary.
fn nonce() -> Result<String> {
    let mut bytes = [0u8; 8];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("cannot read /dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The binary's environment: the request's, plus the host's settings that
/// shape Rust programs' diagnostics unless the request sets them itself.
fn guest_env(req: &Request) -> Vec<(String, String)> {
    let passed = PASS_ENV.iter().filter_map(|&key| {
        let value = std::env::var(key).ok()?;
        (!req.env.iter().any(|(k, _)| k == key)).then(|| (key.to_owned(), value))
    });
    passed.chain(req.env.iter().cloned()).collect()
}

/// The shell fragment that /init sources: markers, binary, argv, environment.
fn vmrc(
    req: &Request,
    env: &[(String, String)],
    binary_name: &str,
    nonce: &str,
    modules: &[String],
) -> String {
    let mut rc = format!(
        "VM_NONCE={nonce}\nVM_BIN={GUEST_RUN_DIR}/{binary_name}\nVM_OUT={}\nVM_MODULES='{}'\nVM_PRINTK={}\nset --",
        u8::from(req.out_dir.is_some()),
        modules.join(" "),
        if req.verbose { 7 } else { 1 }
    );
    for arg in &req.args {
        rc.push(' ');
        rc.push_str(&util::shell_quote(arg));
    }
    rc.push('\n');
    for (key, value) in env {
        rc.push_str(&format!("export {key}={}\n", util::shell_quote(value)));
    }
    rc
}

fn write_initramfs(
    path: &Path,
    req: &Request,
    assets: &kernel::Assets,
    binary_name: &str,
    nonce: &str,
) -> Result<()> {
    let file = File::create(path)?;
    let mut w = cpio::Writer::new(std::io::BufWriter::new(file));
    for (dir, mode) in [
        ("bin", 0o755),
        ("dev", 0o755),
        ("proc", 0o755),
        ("sys", 0o755),
        ("run", 0o755),
        ("tmp", 0o1777),
        ("root", 0o700),
        ("opt", 0o755),
        ("opt/run", 0o755),
    ] {
        w.dir(dir, mode)?;
    }
    // /init's output goes to /dev/console before devtmpfs is mounted.
    w.char_device("dev/console", 0o600, 5, 1)?;
    w.char_device("dev/null", 0o666, 1, 3)?;
    w.file_from("bin/busybox", 0o755, &assets.busybox)?;
    // strace and its glibc, in the directories the guest paths name.
    for dir in ["usr", "usr/bin", "lib", "lib/aarch64-linux-gnu"] {
        w.dir(dir, 0o755)?;
    }
    for (guest, cached) in &assets.strace {
        w.file_from(guest, 0o755, cached)?;
    }
    w.file("init", 0o755, GUEST_INIT.as_bytes())?;
    let mut modules = Vec::new();
    if req.out_dir.is_some() {
        w.dir("lib/modules", 0o755)?;
        for module in &assets.out_disk_modules {
            let name = guest_file_name(module)?;
            w.file_from(&format!("lib/modules/{name}"), 0o644, module)?;
            modules.push(name);
        }
    }
    w.file(
        "opt/run/.vmrc",
        0o644,
        vmrc(req, &guest_env(req), binary_name, nonce, &modules).as_bytes(),
    )?;
    w.file_from(&format!("opt/run/{binary_name}"), 0o755, &req.binary)?;
    for file in &req.files {
        // Keep the host's executable bit: extra files are often helper binaries.
        let executable = fs::metadata(file)
            .with_context(|| format!("cannot read {}", file.display()))?
            .permissions()
            .mode()
            & 0o111
            != 0;
        let mode = if executable { 0o755 } else { 0o644 };
        w.file_from(&format!("opt/run/{}", guest_file_name(file)?), mode, file)?;
    }
    w.finish()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    Ok(())
}

/// What the console said.
struct Console {
    lines_seen: usize,
    began: bool,
    exit_code: Option<i32>,
    /// Exit status of the guest's `tar` onto the output disk.
    out_code: Option<i32>,
    tail: VecDeque<String>,
}

impl Console {
    fn tail(&self) -> String {
        self.tail
            .iter()
            .map(|l| format!("  | {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Reads the serial console: boot messages before the begin marker (shown
/// only when verbose), the binary's output (relayed to stdout byte for byte),
/// the end marker with its exit status, then the output-disk marker.
fn relay_console(
    stdout: impl Read,
    mut host_stdout: impl Write,
    nonce: &str,
    verbose: bool,
) -> Result<Console> {
    let begin = format!("@@VM-BEGIN-{nonce}@@");
    let end = format!("@@VM-END-{nonce} rc=");
    let out = format!("@@VM-OUT-{nonce} rc=");
    let mut console = Console {
        lines_seen: 0,
        began: false,
        exit_code: None,
        out_code: None,
        tail: VecDeque::new(),
    };
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(console);
        }
        console.lines_seen += 1;
        let text = String::from_utf8_lossy(&line);
        let trimmed = text.trim_end_matches(['\n', '\r']);
        if console.tail.len() == TAIL_LINES {
            console.tail.pop_front();
        }
        console.tail.push_back(trimmed.to_owned());

        if !console.began {
            if trimmed.contains(&begin) {
                console.began = true;
            } else if verbose {
                eprintln!("{trimmed}");
            }
        } else if console.exit_code.is_none() {
            // The marker follows the output directly, so it shares a line
            // with output that did not end in a newline.
            if let Some(at) = find(&line, end.as_bytes()) {
                host_stdout.write_all(&line[..at])?;
                host_stdout.flush()?;
                console.exit_code = Some(marker_code(&line[at + end.len()..])?);
            } else {
                host_stdout.write_all(&line)?;
                host_stdout.flush()?;
            }
        } else if let Some(at) = find(&line, out.as_bytes()) {
            console.out_code = Some(marker_code(&line[at + out.len()..])?);
        } else if verbose {
            eprintln!("{trimmed}");
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses the `N@@` after a marker's `rc=`.
fn marker_code(rest: &[u8]) -> Result<i32> {
    let digits: Vec<u8> = rest
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .with_context(|| {
            format!(
                "malformed exit status marker: {:?}",
                String::from_utf8_lossy(rest)
            )
        })
}

/// Unpacks the tar the guest wrote at the start of the output disk.
fn unpack_out_disk(image: &Path, out_dir: &Path) -> Result<()> {
    fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let file = File::open(image)?;
    // The tar is followed by zeros, which read as its end.
    let mut archive = tar::Archive::new(BufReader::new(file));
    archive.set_preserve_permissions(false);
    archive.unpack(out_dir).with_context(|| {
        format!(
            "cannot unpack the guest's /opt/out into {}",
            out_dir.display()
        )
    })
}

/// Ctrl-C and SIGTERM while qemu runs: we kill qemu and return an error,
/// so the temporary directory (initramfs, disk image) is removed.
mod interrupt {
    use std::sync::atomic::{AtomicBool, Ordering};

    static FLAG: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_signal(_: libc::c_int) {
        FLAG.store(true, Ordering::SeqCst);
    }

    pub struct Guard;

    /// Installs the handler. A handler, unlike SIG_IGN, is reset by exec, so
    /// qemu still gets the terminal's Ctrl-C and stops by itself.
    pub fn catch() -> Guard {
        FLAG.store(false, Ordering::SeqCst);
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: the handler only stores to an atomic, which is
            // async-signal-safe.
            unsafe { libc::signal(signal, on_signal as *const () as libc::sighandler_t) };
        }
        Guard
    }

    impl Guard {
        pub fn happened(&self) -> bool {
            FLAG.load(Ordering::SeqCst)
        }
    }

    impl Drop for Guard {
        /// Back to the default disposition; a signal that came meanwhile is
        /// already reported as an error by the caller.
        fn drop(&mut self) {
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                // SAFETY: restoring the default disposition.
                unsafe { libc::signal(signal, libc::SIG_DFL) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmrc_quotes_arguments_and_environment() {
        let req = Request {
            kernel: KernelKind::K4k,
            binary: "/x/hello".into(),
            args: vec!["a b".into(), "it's".into(), "-v".into()],
            files: vec![],
            env: vec![("K".into(), "v w".into())],
            out_dir: Some("/tmp/o".into()),
            timeout: Duration::from_secs(1),
            verbose: false,
        };
        let rc = vmrc(
            &req,
            &req.env,
            "hello",
            "00ff",
            &["a.ko".into(), "b.ko.xz".into()],
        );
        assert_eq!(
            rc,
            "VM_NONCE=00ff\nVM_BIN=/opt/run/hello\nVM_OUT=1\nVM_MODULES='a.ko b.ko.xz'\nVM_PRINTK=1\n\
             set -- 'a b' 'it'\\''s' -v\nexport K='v w'\n"
        );
    }

    #[test]
    fn console_relay_finds_markers() {
        let console =
            b"boot\r\n@@VM-BEGIN-ab@@\nhello\npartial@@VM-END-ab rc=3@@\n@@VM-OUT-ab rc=0@@\n";
        let mut relayed = Vec::new();
        let c = relay_console(&console[..], &mut relayed, "ab", false).unwrap();
        assert_eq!(relayed, b"hello\npartial");
        assert!(c.began);
        assert_eq!(c.exit_code, Some(3));
        assert_eq!(c.out_code, Some(0));
    }

    #[test]
    fn guest_file_names_are_restricted() {
        assert!(guest_file_name(Path::new("/a/recorder")).is_ok());
        assert!(guest_file_name(Path::new("/a/.vmrc")).is_err());
        assert!(guest_file_name(Path::new("/a/x y")).is_err());
    }
}
