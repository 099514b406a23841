//! Fixture for the outputs replay needs (issue 21). `fx-outputs DIR FILE`
//! makes raw system calls (the same on x86_64 and arm64) and prints, one
//! `name=RET:HEX` line each, what the kernel wrote into its memory, so a
//! test can hold the log's captures against what the program really got:
//!
//!   epoll_pwait  the events (two: a pipe's read end with data
//!                0x1122334455667788, its write end with 0x99)
//!   pselect6     the read and write sets as left by the call
//!   ppoll        the pollfd array after the call (revents)
//!   ioctl        FIONREAD's int
//!   getdents64   DIR's records
//!   sysinfo, prlimit64 (old limit), sched_getaffinity (ret bytes)
//!   read         FILE whole (64 KiB: replayable logs hold it whole)
//!   getrandom    through glibc's getrandom() (`grnd_libc`) and through
//!                syscall() (`grnd_sys`), with glibc's version
//!                (`glibc=2.36`): glibc 2.41 and later on Linux 6.11+
//!                may answer the first from the vDSO, without a syscall.

#[cfg(target_env = "gnu")]
use std::ffi::CStr;
use std::ffi::CString;
use std::io::Write as _;

use libc::{c_long, c_void, syscall};

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn show(name: &str, ret: c_long, bytes: &[u8]) {
    println!("{name}={ret}:{}", hex(bytes));
}

/// Bytes of a `struct epoll_event` on this architecture.
const EPOLL_EVENT: usize = if cfg!(target_arch = "x86_64") { 12 } else { 16 };

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = CString::new(args.next().expect("usage: fx-outputs DIR FILE")).unwrap();
    let file = CString::new(args.next().expect("usage: fx-outputs DIR FILE")).unwrap();
    // SAFETY: system calls on buffers that live across each call.
    unsafe {
        let mut p = [0i32; 2];
        assert_eq!(libc::pipe2(p.as_mut_ptr(), 0), 0);
        let (r, w) = (p[0], p[1]);
        assert_eq!(libc::write(w, b"hello".as_ptr().cast(), 5), 5);
        epoll(r, w);
        select(r, w);
        poll(r);
        mmsg();
        let mut n = [0u8; 4];
        let ret = syscall(libc::SYS_ioctl, r, 0x541b as c_long, n.as_mut_ptr());
        show("fionread", ret, &n);
        let fd = libc::open(dir.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        let mut d = [0u8; 4096];
        let ret = syscall(libc::SYS_getdents64, fd, d.as_mut_ptr(), d.len());
        show("getdents64", ret, &d[..ret.max(0) as usize]);
        let mut si = [0u8; 112];
        let ret = syscall(libc::SYS_sysinfo, si.as_mut_ptr());
        show("sysinfo", ret, &si);
        let mut old = [0u8; 16];
        let ret = syscall(
            libc::SYS_prlimit64,
            0,
            libc::RLIMIT_NOFILE,
            0usize,
            old.as_mut_ptr(),
        );
        show("prlimit64", ret, &old);
        let mut mask = [0u8; 128];
        let ret = syscall(
            libc::SYS_sched_getaffinity,
            0,
            mask.len(),
            mask.as_mut_ptr(),
        );
        show("sched_getaffinity", ret, &mask[..ret.max(0) as usize]);
        let fd = libc::open(file.as_ptr(), libc::O_RDONLY);
        let mut big = vec![0u8; 1 << 16];
        let ret = syscall(libc::SYS_read, fd, big.as_mut_ptr(), big.len());
        println!("read={ret}");
        let mut g = [0u8; 16];
        let ret = libc::getrandom(g.as_mut_ptr().cast::<c_void>(), g.len(), 0);
        show("grnd_libc", ret as c_long, &g);
        let ret = syscall(libc::SYS_getrandom, g.as_mut_ptr(), g.len(), 0);
        show("grnd_sys", ret, &g);
        println!("glibc={}", glibc_version());
    }
    let _ = std::io::stdout().flush();
}

/// glibc's version, `none` with another libc (the arm64 guest's static
/// musl build).
#[cfg(target_env = "gnu")]
fn glibc_version() -> String {
    // SAFETY: returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(libc::gnu_get_libc_version()) }
        .to_string_lossy()
        .into_owned()
}
#[cfg(not(target_env = "gnu"))]
fn glibc_version() -> String {
    "none".to_owned()
}

/// epoll_pwait (epoll_wait is not on arm64) on both ends of the pipe.
unsafe fn epoll(r: i32, w: i32) {
    // SAFETY: as in main.
    unsafe {
        let ep = libc::epoll_create1(0);
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: 0x1122_3344_5566_7788,
        };
        assert_eq!(libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, r, &raw mut ev), 0);
        let mut ev = libc::epoll_event {
            events: libc::EPOLLOUT as u32,
            u64: 0x99,
        };
        assert_eq!(libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, w, &raw mut ev), 0);
        let mut out = [0u8; 8 * 16];
        let ret = syscall(libc::SYS_epoll_pwait, ep, out.as_mut_ptr(), 8, 0, 0usize, 8);
        show(
            "epoll_pwait",
            ret,
            &out[..ret.max(0) as usize * EPOLL_EVENT],
        );
    }
}

/// pselect6 asking whether `r` is readable and `w` writable.
unsafe fn select(r: i32, w: i32) {
    let nfds = r.max(w) + 1;
    let mut rs = [0u64; 16];
    let mut ws = [0u64; 16];
    rs[(r / 64) as usize] |= 1 << (r % 64);
    ws[(w / 64) as usize] |= 1 << (w % 64);
    let mut ts = [1i64, 0];
    // SAFETY: as in main.
    let ret = unsafe {
        syscall(
            libc::SYS_pselect6,
            nfds,
            rs.as_mut_ptr(),
            ws.as_mut_ptr(),
            0usize,
            ts.as_mut_ptr(),
            0usize,
        )
    };
    let bytes = (nfds as usize).div_ceil(64) * 8;
    let as_bytes = |s: &[u64; 16]| s.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    println!(
        "pselect6={ret}:{}:{}",
        hex(&as_bytes(&rs)[..bytes]),
        hex(&as_bytes(&ws)[..bytes])
    );
}

/// recvmmsg of two datagrams sent over a socketpair: prints each
/// message's bytes and length.
unsafe fn mmsg() {
    // SAFETY: as in main.
    unsafe {
        let mut sv = [0i32; 2];
        assert_eq!(
            libc::socketpair(libc::AF_UNIX, libc::SOCK_DGRAM, 0, sv.as_mut_ptr()),
            0
        );
        for m in [&b"first datagram"[..], b"second, a little longer"] {
            assert_eq!(
                libc::send(sv[0], m.as_ptr().cast(), m.len(), 0),
                m.len() as isize
            );
        }
        let mut bufs = [[0u8; 64]; 2];
        let mut iov: Vec<libc::iovec> = bufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            })
            .collect();
        let mut msgs: Vec<libc::mmsghdr> = iov
            .iter_mut()
            .map(|v| {
                let mut h: libc::mmsghdr = std::mem::zeroed();
                h.msg_hdr.msg_iov = v;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        let ret = syscall(libc::SYS_recvmmsg, sv[1], msgs.as_mut_ptr(), 2, 0, 0usize);
        let got: Vec<String> = msgs
            .iter()
            .zip(&bufs)
            .take(ret.max(0) as usize)
            .map(|(m, b)| hex(&b[..m.msg_len as usize]))
            .collect();
        println!("recvmmsg={ret}:{}", got.join(":"));
    }
}

/// ppoll (poll is not on arm64) on the read end: its revents.
unsafe fn poll(r: i32) {
    let mut fds = [libc::pollfd {
        fd: r,
        events: libc::POLLIN,
        revents: 0,
    }];
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: as in main.
    let ret = unsafe {
        syscall(
            libc::SYS_ppoll,
            fds.as_mut_ptr(),
            1,
            &raw const ts,
            0usize,
            8,
        )
    };
    let p = fds[0];
    let mut b = p.fd.to_le_bytes().to_vec();
    b.extend(p.events.to_le_bytes());
    b.extend(p.revents.to_le_bytes());
    show("ppoll", ret, &b);
}
