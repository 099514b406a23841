//! `recorder replay LOG [-- COMMAND]`: runs the recorded program again
//! under a seccomp user-notification supervisor that answers its system
//! calls from the log (docs/design.md "Replay"). The per-call policy, the
//! comparison and the output bytes are the library's
//! ([`recorder::replay`]); this is the process side: starting the
//! program ([`spawn`]), its memory ([`mem`]), and the notification loop.

mod mem;
mod spawn;
mod supervise;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use recorder::cli::ReplayArgs;
use recorder::decode::Arch;
use recorder::replay::plan::{self, Recording};
use recorder::replay::policy::DEFAULT_HOST_PATHS;

/// What to do about each kind of blocker (`NotReplayable::kind`, the
/// hint).
const HINTS: [(&str, &str); 4] = [
    (
        "truncated",
        "record with --replayable (every item whole up to 64 KiB): the data read must fit",
    ),
    (
        "redacted",
        "replay the original log, not a bundle made with --redact data",
    ),
    (
        "read failed",
        "the recorder could not read those buffers when the calls returned: record again",
    ),
    (
        "not captured",
        "the log does not hold those calls' results: record with --replayable (data \
         capture on, this recorder's captures); calls whose results no log holds \
         (getrusage, times, io_uring...) cannot be replayed",
    ),
];

/// Blockers listed by name in a refusal; the rest are counted.
const BLOCKERS_SHOWN: usize = 20;

pub fn run(args: &ReplayArgs) -> anyhow::Result<i32> {
    let rec = Recording::load(&args.log).with_context(|| format!("{}", args.log.display()))?;
    let host = Arch::host().context("this machine's architecture is not one recorder knows")?;
    if rec.arch != host {
        bail!(
            "{}: recorded on {}, and this machine is {}: a log replays only on the \
             architecture it was recorded on (its system call numbers and structs are that \
             machine's); replay it on a machine or VM of that architecture",
            args.log.display(),
            rec.arch.name(),
            host.name(),
        );
    }
    if !rec.starts_at_exec() {
        bail!(
            "{}: the log does not start with the program's execve (it was recorded with -p or \
             --comm, or cut by `bundle`): replay needs a recording of `recorder -- COMMAND`",
            args.log.display()
        );
    }
    let argv = if args.command.is_empty() {
        rec.argv.clone()
    } else {
        args.command.clone()
    };
    if argv.is_empty() {
        bail!(
            "{}: the log holds no command line; give one after --",
            args.log.display()
        );
    }
    let exe = resolve(&argv[0])?;
    let host_paths = host_paths(args, &exe);
    refuse_blockers(&args.log, &rec, &host_paths)?;
    let exe_c = CString::new(exe.as_os_str().as_bytes())?;
    let argv_c = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .context("a NUL byte in the command line")?;
    let prog = spawn::filter(rec.arch);
    let child = spawn::spawn(&exe_c, &argv_c, &prog)?;
    if !child.killable_wait {
        eprintln!(
            "recorder replay: this kernel lacks SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (5.19): \
             a signal arriving while a call waits for the supervisor can make it fail with EINTR"
        );
    }
    let mut sup = supervise::Supervisor::new(rec, host_paths, args.go_live, args.show_output)?;
    sup.run(&child)
}

/// `argv0` as execve will find it: as given when it has a slash, else in
/// `PATH`.
fn resolve(argv0: &str) -> anyhow::Result<PathBuf> {
    if argv0.contains('/') {
        let p = PathBuf::from(argv0);
        if !p.exists() {
            bail!("{argv0}: no such file (replay runs the same build as the recording)");
        }
        return Ok(p);
    }
    which_in_path(argv0).with_context(|| format!("{argv0}: not found in PATH"))
}

fn which_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Install prefixes too broad to be one program's own: the system's.
const SYSTEM_PREFIXES: [&str; 3] = ["/", "/usr", "/usr/local"];

/// The default host paths, `--host-path`s, and the replayed binary's own
/// directory (as given and as resolved), with its install prefix when it
/// sits in a `bin` directory of its own (`/opt/app/bin/app`: its
/// `lib/` holds its code, like a pyenv Python's modules), not the
/// system's.
fn host_paths(args: &ReplayArgs, exe: &Path) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = DEFAULT_HOST_PATHS
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
    out.extend(
        args.host_path
            .iter()
            .map(|p| p.as_os_str().as_bytes().to_vec()),
    );
    for p in [exe.to_path_buf(), exe.canonicalize().unwrap_or_default()] {
        if let Some(dir) = std::path::absolute(&p)
            .ok()
            .as_deref()
            .and_then(Path::parent)
        {
            out.push(dir.as_os_str().as_bytes().to_vec());
            if let Some(prefix) = dir
                .parent()
                .filter(|_| matches!(dir.file_name(), Some(n) if n == "bin" || n == "sbin"))
                .filter(|p| !SYSTEM_PREFIXES.iter().any(|s| Path::new(s) == *p))
            {
                out.push(prefix.as_os_str().as_bytes().to_vec());
            }
        }
    }
    out.retain(|p| !p.is_empty() && p != b"/");
    out
}

/// Refuses a log whose emulated calls lack data, naming them.
fn refuse_blockers(log: &Path, rec: &Recording, host_paths: &[Vec<u8>]) -> anyhow::Result<()> {
    let blockers = plan::blockers(rec, host_paths);
    if blockers.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "{}: cannot be replayed: {} calls lack the data replay would give the program",
        log.display(),
        blockers.len()
    );
    for b in blockers.iter().take(BLOCKERS_SHOWN) {
        let on = if b.on.is_empty() {
            String::new()
        } else {
            format!(" on {}", b.on)
        };
        msg.push_str(&format!(
            "\n  tid {} seq {} {}{on}: {}",
            b.tid,
            b.seq,
            b.name,
            plan::why_text(&b.why)
        ));
    }
    if blockers.len() > BLOCKERS_SHOWN {
        msg.push_str(&format!(
            "\n  ... and {} more",
            blockers.len() - BLOCKERS_SHOWN
        ));
    }
    for (word, hint) in HINTS {
        if blockers.iter().any(|b| b.why.kind() == word) {
            msg.push_str("\n  ");
            msg.push_str(hint);
        }
    }
    bail!(msg)
}
