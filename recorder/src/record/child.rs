//! `recorder -- COMMAND`: start the command so that it cannot run before it
//! is selected.
//!
//! The child is forked before the async runtime starts (while the process is
//! single-threaded, so forking is safe) and blocks reading a pipe. The
//! daemon selects its pid "from its next execve", attaches, and only then
//! writes the byte that lets it exec. So the recording starts exactly at
//! the command's execve, as strace's does, and no first syscall is lost.
//!
//! With `-u USER` (or under sudo, see `privileges`) the child takes on the
//! user's groups, gid and uid before it waits, and execs with `HOME`,
//! `USER` and `LOGNAME` set for that user: those calls come before the
//! execve, so they are not in the log.

use std::{
    ffi::CString,
    os::fd::{AsRawFd, OwnedFd},
};

use nix::{
    sys::wait::{WaitStatus, waitpid},
    unistd::{ForkResult, Pid, fork, pipe2},
};

use super::privileges::Account;

pub struct PreparedChild {
    pid: Pid,
    release: OwnedFd,
}

#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    #[error("the command or the environment contains a NUL byte")]
    Nul,
    #[error("cannot start the command")]
    Sys(#[from] nix::Error),
}

/// The environment for a command run as `user`: ours, with the user's
/// `HOME`, `USER` and `LOGNAME`.
fn environment_for(user: &Account) -> Result<Vec<CString>, ChildError> {
    use std::os::unix::ffi::OsStrExt as _;
    let set = user.environment();
    let names = set.each_ref().map(|(name, _)| *name);
    let kept = std::env::vars_os().filter(|(k, _)| !names.iter().any(|name| k == *name));
    kept.chain(set.into_iter().map(|(k, v)| (k.into(), v)))
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).map_err(|_| ChildError::Nul)
        })
        .collect()
}

/// Forks the command, held before exec; as `run_as` if given. Must be
/// called while the process is single-threaded.
pub fn prepare(argv: &[String], run_as: Option<&Account>) -> Result<PreparedChild, ChildError> {
    let cargs: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()).map_err(|_| ChildError::Nul))
        .collect::<Result<_, _>>()?;
    let env = run_as.map(environment_for).transpose()?;
    let (rx, tx) = pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let msg_prefix = format!("recorder: cannot run {:?}: ", argv[0]).into_bytes();
    let user_prefix =
        run_as.map(|u| format!("recorder: cannot run {:?} as {}: ", argv[0], u.name).into_bytes());
    // SAFETY: single-threaded at this point (called before the runtime is
    // built); the child only makes system calls (setgroups, setresgid,
    // setresuid, read, execve, write, _exit) on memory prepared before the
    // fork.
    match unsafe { fork() }? {
        ForkResult::Child => {
            drop(tx);
            // Touch every argument string, so its page is mapped in this
            // process when execve's entry is recorded: the kernel side reads
            // argv without faulting pages in (probe reads cannot), and after
            // fork a page the child never touched may not be mapped yet
            // (seen on arm64 6.1: "read failed" for argv[1]).
            let mut sum = 0u8;
            for a in &cargs {
                for &b in a.as_bytes_with_nul() {
                    // SAFETY: reading our own bytes.
                    sum = sum.wrapping_add(unsafe { std::ptr::read_volatile(&b) });
                }
            }
            std::hint::black_box(sum);
            if let (Some(user), Some(prefix)) = (run_as, &user_prefix)
                && let Err(e) = user.become_user()
            {
                fail(prefix, e);
            }
            let mut b = [0u8; 1];
            loop {
                // SAFETY: valid fd and buffer.
                let n = unsafe { libc::read(rx.as_raw_fd(), b.as_mut_ptr().cast(), 1) };
                if n == 1 {
                    break;
                }
                if n < 0 && nix::errno::Errno::last() == nix::errno::Errno::EINTR {
                    continue;
                }
                // The recorder failed before releasing us: never run.
                // SAFETY: _exit is async-signal-safe.
                unsafe { libc::_exit(126) };
            }
            let err = match &env {
                Some(env) => nix::unistd::execvpe(&cargs[0], &cargs, env),
                None => nix::unistd::execvp(&cargs[0], &cargs),
            }
            .unwrap_err();
            fail(&msg_prefix, err)
        }
        ForkResult::Parent { child } => {
            drop(rx);
            Ok(PreparedChild {
                pid: child,
                release: tx,
            })
        }
    }
}

/// In the child: says why the command cannot run, and exits as a shell
/// would (127: not found, 126: not runnable).
fn fail(prefix: &[u8], err: nix::errno::Errno) -> ! {
    let desc = err.desc().as_bytes();
    // SAFETY: writes of prepared buffers to stderr, then _exit; all
    // async-signal-safe.
    unsafe {
        libc::write(2, prefix.as_ptr().cast(), prefix.len());
        libc::write(2, desc.as_ptr().cast(), desc.len());
        libc::write(2, b"\n".as_ptr().cast(), 1);
        libc::_exit(if err == nix::errno::Errno::ENOENT {
            127
        } else {
            126
        });
    }
}

impl PreparedChild {
    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// Lets the command exec.
    pub fn release(self) {
        // SAFETY: valid fd and buffer. If the child is already gone the
        // write fails, and wait() reports its status.
        let _ = unsafe { libc::write(self.release.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    }
}

/// Waits for the command; its exit status, or 128+N if signal N killed it
/// (the shell's convention, which strace follows too).
pub fn wait(pid: u32) -> i32 {
    let pid = Pid::from_raw(pid as i32);
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => return 128 + sig as i32,
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return 1,
        }
    }
}
