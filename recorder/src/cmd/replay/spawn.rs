//! Starting the program under a seccomp user-notification filter, and the
//! filter itself.
//!
//! The child installs the filter (with no_new_privs, so no root is needed)
//! and execs. Once the filter is in place every system call of the child
//! waits for the supervisor, including the one it would use to hand the
//! listener over (sendmsg with SCM_RIGHTS would wait for a supervisor
//! that has no listener yet). So the child tells the parent, *before* the
//! filter, which descriptor number the listener will get (the lowest free
//! one), and the parent takes it with `pidfd_getfd` (Linux 5.6) while the
//! child waits in its first notified call, the execve. The listener is
//! close-on-exec, so the program does not inherit it.
//!
//! The filter is a hand-built classic BPF program of a dozen instructions
//! rather than a crate (libseccomp needs a C library, seccompiler brings a
//! JSON front end): kill on a foreign architecture (and x32 numbers),
//! allow the few calls replay leaves alone (`Class::Unwatched`), and send
//! every other call to the supervisor.

use std::ffi::CString;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};

use anyhow::{Context as _, bail};
use recorder::decode::{Arch, syscall_nr};
use recorder::replay::policy::{self, Class};

const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
/// x86_64's x32 ABI bit: such numbers mean other calls, so they are killed.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// The filter for `arch`: see the module comment.
pub fn filter(arch: Arch) -> Vec<libc::sock_filter> {
    let audit = match arch {
        Arch::X86_64 => AUDIT_ARCH_X86_64,
        Arch::Aarch64 => AUDIT_ARCH_AARCH64,
    };
    let allowed: Vec<u32> = policy::table()
        .filter(|(c, _)| *c == Class::Unwatched)
        .filter_map(|(_, n)| syscall_nr(arch, n))
        .map(|nr| nr as u32)
        .collect();
    let n = allowed.len() as u8;
    let stmt = |code: u32, k: u32| libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |code: u32, k: u32, jt: u8, jf: u8| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let (ld, jeq, jge, ret) = (
        libc::BPF_LD | libc::BPF_W | libc::BPF_ABS,
        libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
        libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
        libc::BPF_RET | libc::BPF_K,
    );
    // seccomp_data: nr at 0, arch at 4.
    let mut p = vec![
        stmt(ld, 4),
        jump(jeq, audit, 1, 0),
        stmt(ret, libc::SECCOMP_RET_KILL_PROCESS),
        stmt(ld, 0),
        jump(jge, X32_SYSCALL_BIT, 0, 1),
        stmt(ret, libc::SECCOMP_RET_KILL_PROCESS),
    ];
    // Each test jumps over the rest of the tests and the notify return to
    // the allow at the end.
    for (i, nr) in allowed.iter().enumerate() {
        p.push(jump(jeq, *nr, n - i as u8, 0));
    }
    p.push(stmt(ret, libc::SECCOMP_RET_USER_NOTIF));
    p.push(stmt(ret, libc::SECCOMP_RET_ALLOW));
    p
}

/// The started program: its pid (also its process group) and the
/// listener of its filter.
pub struct Spawned {
    pub pid: i32,
    pub listener: OwnedFd,
    /// The kernel has `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` (5.19).
    pub killable_wait: bool,
}

/// Forks; the child installs `filter` and execs `exe` with `argv` and the
/// current environment.
pub fn spawn(
    exe: &CString,
    argv: &[CString],
    prog: &[libc::sock_filter],
) -> anyhow::Result<Spawned> {
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error()).context("pipe2");
    }
    // SAFETY: both descriptors were just created and are ours.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut _,
    };
    // SAFETY: the child only makes async-signal-safe calls (raw system
    // calls on memory prepared before the fork) and ends in execve or
    // _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error()).context("fork");
    }
    if pid == 0 {
        // SAFETY: see above; `ptrs` and `fprog` outlive the exec.
        unsafe { child(exe, &ptrs, &fprog, wr.as_raw_fd()) }
    }
    drop(wr);
    take_listener(pid, &rd).inspect_err(|_| {
        // SAFETY: our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
    })
}

/// The child's side. Never returns.
unsafe fn child(
    exe: &CString,
    argv: &[*const libc::c_char],
    prog: &libc::sock_fprog,
    wr: i32,
) -> ! {
    // SAFETY: raw system calls on memory valid until the exec (the whole
    // function is this block).
    unsafe {
        libc::setpgid(0, 0);
        // Without its supervisor the program's calls would fail with ENOSYS.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        // Addresses as stable as the machine allows (they are not compared).
        let persona = libc::personality(0xffff_ffff);
        if persona >= 0 {
            libc::personality((persona | libc::ADDR_NO_RANDOMIZE) as libc::c_ulong);
        }
        let next = libc::fcntl(wr, libc::F_DUPFD, 0);
        libc::close(next);
        libc::write(wr, (&next as *const i32).cast(), 4);
        let flags = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
        let mut r = libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags | libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
            prog as *const libc::sock_fprog,
        );
        if r < 0 && *libc::__errno_location() == libc::EINVAL {
            // Before 5.19: without WAIT_KILLABLE_RECV.
            r = libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                flags,
                prog as *const libc::sock_fprog,
            );
        }
        if r < 0 {
            let e = *libc::__errno_location();
            libc::write(wr, (&e as *const i32).cast(), 4);
            libc::_exit(127);
        }
        libc::execve(exe.as_ptr(), argv.as_ptr(), environ());
        libc::_exit(127)
    }
}

fn environ() -> *const *const libc::c_char {
    unsafe extern "C" {
        static environ: *const *const libc::c_char;
    }
    // SAFETY: the C library's environment pointer, read once.
    unsafe { environ }
}

/// The parent's side: the listener's number from the pipe, then the
/// listener itself once the child has installed the filter.
fn take_listener(pid: i32, rd: &OwnedFd) -> anyhow::Result<Spawned> {
    let mut num = [0u8; 4];
    read_exact(rd, &mut num).context("the replayed program did not start")?;
    let num = i32::from_ne_bytes(num);
    // SAFETY: pidfd_open of our own child.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if pidfd < 0 {
        return Err(std::io::Error::last_os_error()).context("pidfd_open (Linux 5.3 or later)");
    }
    // SAFETY: just created.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    loop {
        // SAFETY: pidfd_getfd on our own child's descriptor number.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), num, 0) };
        if fd >= 0 {
            // SAFETY: just created.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))?;
            if link.to_string_lossy().contains("seccomp") {
                let killable_wait = kernel_at_least(5, 19);
                return Ok(Spawned {
                    pid,
                    listener: fd,
                    killable_wait,
                });
            }
        } else if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) {
            bail!("pidfd_getfd is missing: replay needs Linux 5.9 or later");
        }
        let mut e = [0u8; 4];
        if poll_readable(rd) {
            if read_exact(rd, &mut e).is_ok() {
                let err = std::io::Error::from_raw_os_error(i32::from_ne_bytes(e));
                return Err(err).context("installing the seccomp filter in the replayed program (needs Linux 5.0 or later with seccomp)");
            }
            bail!("the replayed program ended before its filter was in place");
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn poll_readable(fd: &OwnedFd) -> bool {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, 0) > 0 }
}

fn read_exact(fd: &OwnedFd, buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read as _;
    let mut f = std::fs::File::from(fd.try_clone()?);
    f.read_exact(buf)
}

/// Whether the running kernel is at least `major.minor`.
pub fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut it = release
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    (a, b) >= (major, minor)
}
