//! Process and path helpers shared by the commands.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The workspace root (xtask lives one level below it).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask's manifest dir has a parent")
        .to_path_buf()
}

/// The cargo target directory the child cargo commands will use.
///
/// `CARGO_TARGET_DIR` is inherited by the children, so honour it here too;
/// cargo resolves a relative one against its working directory, the root.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => project_root().join(dir),
        _ => project_root().join("target"),
    }
}

/// A `cargo` command (the one that runs us, when known) at the workspace root.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(project_root());
    cmd
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `cmd` as a shell-like string, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&shell_quote(&arg.to_string_lossy()));
    }
    s
}

/// Quotes `s` for a POSIX shell (busybox sh included), only when needed.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` with inherited stdio; fails unless it exits with status 0.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start `{}`", describe(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({})", describe(cmd), status);
    }
    Ok(())
}

/// Runs `cmd` and returns its stdout; stderr is kept for the error message.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot start `{}`", describe(cmd)))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!(
            "`{}` failed ({}): {}",
            describe(cmd),
            out.status,
            stderr.trim()
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("`{}` printed non-UTF-8", describe(cmd)))
}

/// Runs a cheap probe: `Some(stdout)` if it ran and succeeded, `None` otherwise.
pub fn probe<I, S>(program: &str, args: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Splits `KEY=VALUE`.
pub fn parse_env_pair(kv: &str) -> Result<(String, String)> {
    match kv.split_once('=') {
        Some((k, v))
            if !k.is_empty() && !k.contains(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) =>
        {
            Ok((k.to_owned(), v.to_owned()))
        }
        _ => bail!("expected KEY=VALUE with KEY made of letters, digits and _, got {kv:?}"),
    }
}

/// Wraps `cmd` in `sudo -E` when we are not root and sudo exists, so that
/// privileged children keep our environment (RECORDER_BIN, PATH for cargo…).
pub fn maybe_sudo(cmd: Command) -> Command {
    if is_root() {
        return cmd;
    }
    let Ok(sudo) = which::which("sudo") else {
        return cmd;
    };
    let mut wrapped = Command::new(sudo);
    wrapped
        .arg("-E")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    wrapped
}
