//! The replayed program's memory and descriptors, seen from the
//! supervisor: `process_vm_readv`/`process_vm_writev` (a parent may use
//! them on its child without root under Yama's scope 1), falling back to
//! `/proc/TID/mem`, which also writes read-only pages.

use std::os::unix::fs::FileExt as _;

use recorder::replay::check::Memory;

/// One thread's address space.
pub struct Tracee {
    pub tid: i32,
}

impl Memory for Tracee {
    fn read(&mut self, addr: u64, len: usize) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; len];
        let local = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: len,
        };
        let remote = libc::iovec {
            iov_base: addr as *mut _,
            iov_len: len,
        };
        // SAFETY: `local` covers `buf`; the remote side is the kernel's to check.
        let n = unsafe { libc::process_vm_readv(self.tid, &local, 1, &remote, 1, 0) };
        if n == len as isize {
            return Some(buf);
        }
        let f = std::fs::File::open(format!("/proc/{}/mem", self.tid)).ok()?;
        f.read_exact_at(&mut buf, addr).ok()?;
        Some(buf)
    }
}

impl Tracee {
    /// Writes `bytes` at `addr` in the program.
    pub fn write(&self, addr: u64, bytes: &[u8]) -> std::io::Result<()> {
        let local = libc::iovec {
            iov_base: bytes.as_ptr() as *mut _,
            iov_len: bytes.len(),
        };
        let remote = libc::iovec {
            iov_base: addr as *mut _,
            iov_len: bytes.len(),
        };
        // SAFETY: `local` covers `bytes` (only read); the kernel checks the remote side.
        let n = unsafe { libc::process_vm_writev(self.tid, &local, 1, &remote, 1, 0) };
        if n == bytes.len() as isize {
            return Ok(());
        }
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/{}/mem", self.tid))?;
        f.write_all_at(bytes, addr)
    }

    /// What descriptor `fd` of the program refers to (`/proc/TID/fd/FD`).
    pub fn fd_path(&self, fd: i32) -> Option<Vec<u8>> {
        use std::os::unix::ffi::OsStrExt as _;
        let p = std::fs::read_link(format!("/proc/{}/fd/{fd}", self.tid)).ok()?;
        Some(p.as_os_str().as_bytes().to_vec())
    }

    /// The first `n` bytes of the file behind descriptor `fd`.
    pub fn fd_head(&self, fd: i32, n: usize) -> Option<Vec<u8>> {
        let f = std::fs::File::open(format!("/proc/{}/fd/{fd}", self.tid)).ok()?;
        let mut buf = vec![0u8; n];
        let got = f.read_at(&mut buf, 0).ok()?;
        buf.truncate(got);
        Some(buf)
    }

    /// The program's working directory.
    pub fn cwd(&self) -> Option<Vec<u8>> {
        use std::os::unix::ffi::OsStrExt as _;
        let p = std::fs::read_link(format!("/proc/{}/cwd", self.tid)).ok()?;
        Some(p.as_os_str().as_bytes().to_vec())
    }

    /// The thread's process id (`Tgid:` of /proc/TID/status).
    pub fn tgid(&self) -> Option<u32> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.tid)).ok()?;
        let line = s.lines().find(|l| l.starts_with("Tgid:"))?;
        line[5..].trim().parse().ok()
    }
}
