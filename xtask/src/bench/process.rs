//! Running a child process and measuring it: wall time, output and
//! rusage ([`measure`], reaped with [`wait4`]), and reading the numbers
//! the fixtures print (`key=value`).

use std::io::Read;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::util;

pub(super) fn last_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no message")
}

/// The number after `key` in `text` (`key` includes the `=`).
pub(super) fn field(text: &str, key: &str) -> Option<f64> {
    text.split_whitespace()
        .find_map(|t| t.strip_prefix(key))
        .and_then(|v| v.parse().ok())
}

pub(super) fn file_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("no log at {}", path.display()))?
        .len())
}

/// A command's own peak RSS, from GNU time's `%M`.
///
/// A child spawned from xtask starts with xtask's peak in its ru_maxrss:
/// exec records the outgoing address space's high-water mark, and std
/// spawns with vfork semantics, so wait4 reports at least xtask's own peak
/// (55 MiB in a full bench run, by then) for any smaller program. GNU time
/// forks from its own small process, so its `%M` is the command's own.
/// `None` without /usr/bin/time (`cargo xtask setup --bench` installs it).
pub(super) struct PeakRss {
    file: std::path::PathBuf,
}

impl PeakRss {
    const TIME: &str = "/usr/bin/time";

    pub(super) fn new(file: std::path::PathBuf) -> Option<Self> {
        Path::new(Self::TIME).is_file().then_some(Self { file })
    }

    /// What goes before the command.
    pub(super) fn prefix(&self) -> Vec<std::ffi::OsString> {
        let _ = std::fs::remove_file(&self.file);
        [Self::TIME, "-f", "%M", "-o"]
            .map(Into::into)
            .into_iter()
            .chain([self.file.clone().into_os_string()])
            .collect()
    }

    /// The peak of the command that last ran under [`PeakRss::prefix`], KiB.
    pub(super) fn read(&self) -> Result<u64> {
        let text = std::fs::read_to_string(&self.file)
            .with_context(|| format!("cannot read {}", self.file.display()))?;
        last_line(&text)
            .parse()
            .with_context(|| format!("GNU time wrote {text:?}, not a size in KiB"))
    }
}

/// A finished child process, measured.
pub(super) struct Outcome {
    pub(super) what: String,
    pub(super) wall: Duration,
    pub(super) status: ExitStatus,
    pub(super) stdout: String,
    pub(super) stderr: String,
    /// Peak resident set size, of the process or of any descendant it waited for.
    pub(super) max_rss_kib: u64,
    /// CPU time (user + system) and voluntary context switches, of the
    /// process and the descendants it reaped.
    pub(super) cpu: Duration,
    pub(super) nvcsw: u64,
}

impl Outcome {
    pub(super) fn success(self) -> Result<Self> {
        if !self.status.success() {
            bail!(
                "`{}` failed ({}): {}",
                self.what,
                self.status,
                self.stderr.trim_end()
            );
        }
        Ok(self)
    }
}

/// Runs `cmd` to completion: wall time from spawn to reaping, its output
/// (stdout only when `capture_stdout`, else /dev/null), and its rusage.
pub(super) fn measure(cmd: &mut Command, capture_stdout: bool) -> Result<Outcome> {
    cmd.stdout(if capture_stdout {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stderr(Stdio::piped());
    let what = util::describe(cmd);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start `{what}`"))?;
    // Both pipes are read concurrently, so neither can fill and block the child.
    let stdout = child.stdout.take().map(read_in_thread);
    let stderr = child.stderr.take().map(read_in_thread);
    let (status, rusage) = wait4(&child).with_context(|| format!("waiting for `{what}`"))?;
    let wall = start.elapsed();
    let join = |h: Option<JoinHandle<String>>| h.map(|h| h.join().unwrap_or_default());
    Ok(Outcome {
        what,
        wall,
        status,
        stdout: join(stdout).unwrap_or_default(),
        stderr: join(stderr).unwrap_or_default(),
        max_rss_kib: u64::try_from(rusage.ru_maxrss).unwrap_or(0),
        cpu: timeval(rusage.ru_utime) + timeval(rusage.ru_stime),
        nvcsw: u64::try_from(rusage.ru_nvcsw).unwrap_or(0),
    })
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

fn read_in_thread(mut r: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Reaps `child` with `wait4`, which (unlike `Child::wait`) returns its
/// rusage: `RUSAGE_CHILDREN` would only give the maximum over all children.
pub(super) fn wait4(child: &Child) -> Result<(ExitStatus, libc::rusage)> {
    let pid = libc::pid_t::try_from(child.id()).context("pid out of range")?;
    let mut status = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; pid is our unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
        if r == pid {
            return Ok((ExitStatus::from_raw(status), rusage));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).context("wait4");
        }
    }
}

pub(super) fn signal(child: &Child, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions; the child is not
        // reaped yet, so its pid cannot have been reused.
        unsafe { libc::kill(pid, sig) };
    }
}
