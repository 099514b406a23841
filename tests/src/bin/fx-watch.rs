//! Fixture for `recorder watch` (tests/tests/watch.rs). Prints `ready` on
//! stdout once its calls are made, then stays alive until its stdin closes,
//! so the watcher can read who it is from /proc.
//!
//! - `fx-watch unlink DIR`: in DIR, many unlinks and opens of other files,
//!   among them names that end like `doomed-file` without being it
//!   (`.doomed-file`, `xdoomed-file`, `doomed-file2`) and an open of
//!   `doomed-file`; then exactly one `unlinkat(dirfd, "doomed-file", 0)`.
//! - `fx-watch eacces FILE`: becomes uid/gid 65534 (nobody) and opens FILE,
//!   which only root may read: EACCES (exit status 3 if not).
//! - `fx-watch connect PORT`: TCP connects to 127.0.0.1:PORT+1,
//!   127.0.0.2:PORT, [::1]:PORT (where IPv6 works) and, once, to
//!   127.0.0.1:PORT; nothing listens, so they are refused.

use std::ffi::CString;
use std::io::Read as _;

/// Unlinks and opens of other files made around the one that counts.
const OTHERS: usize = 100;

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

fn touch(dirfd: i32, name: &str) {
    // SAFETY: valid NUL-terminated name; the fd is closed right away.
    unsafe {
        let fd = libc::openat(
            dirfd,
            c(name).as_ptr(),
            libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
            0o644,
        );
        assert!(fd >= 0, "create {name}");
        libc::close(fd);
    }
}

fn unlink_many(dir: &str) {
    let dirfd = {
        // SAFETY: valid path.
        let fd = unsafe { libc::open(c(dir).as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY) };
        assert!(fd >= 0, "open {dir}");
        fd
    };
    let decoys = [".doomed-file", "xdoomed-file", "doomed-file2", "doomed-fil"];
    for (i, name) in decoys.iter().enumerate() {
        touch(dirfd, name);
        touch(dirfd, &format!("other-{i}"));
    }
    touch(dirfd, "doomed-file");
    for i in 0..OTHERS {
        touch(dirfd, &format!("file-{i}"));
        let abs = c(&format!("{dir}/file-{i}"));
        // SAFETY: valid path. Half by absolute path, half relative to dirfd.
        unsafe {
            if i % 2 == 0 {
                libc::unlink(abs.as_ptr());
            } else {
                libc::unlinkat(dirfd, c(&format!("file-{i}")).as_ptr(), 0);
            }
        }
    }
    // SAFETY: valid names; the doomed file is opened (not a watched call).
    unsafe {
        let fd = libc::openat(dirfd, c("doomed-file").as_ptr(), libc::O_RDONLY);
        libc::close(fd);
        for name in decoys {
            libc::unlinkat(dirfd, c(name).as_ptr(), 0);
        }
        assert_eq!(
            libc::unlinkat(dirfd, c("doomed-file").as_ptr(), 0),
            0,
            "unlink doomed-file"
        );
        libc::unlink(c(&format!("{dir}/other-0")).as_ptr());
    }
    // dirfd stays open: the watcher resolves the relative name through it.
    ready_then_wait();
}

fn eacces(file: &str) {
    // SAFETY: plain system calls; dropping groups, then gid, then uid.
    unsafe {
        assert_eq!(libc::setgroups(0, std::ptr::null()), 0, "setgroups");
        assert_eq!(libc::setgid(65534), 0, "setgid");
        assert_eq!(libc::setuid(65534), 0, "setuid");
    }
    // SAFETY: valid path.
    let fd = unsafe { libc::open(c(file).as_ptr(), libc::O_RDONLY) };
    let errno = std::io::Error::last_os_error().raw_os_error();
    if fd >= 0 || errno != Some(libc::EACCES) {
        eprintln!("fx-watch: open {file}: fd {fd}, errno {errno:?}, expected EACCES");
        std::process::exit(3);
    }
    ready_then_wait();
}

fn connect_to(addr: std::net::SocketAddr) {
    // std's connect is one connect(2) on a fresh socket.
    let _ = std::net::TcpStream::connect(addr);
}

fn connects(port: u16) {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    let v4 = |a: [u8; 4], p: u16| SocketAddr::new(IpAddr::V4(Ipv4Addr::from(a)), p);
    connect_to(v4([127, 0, 0, 1], port + 1));
    connect_to(v4([127, 0, 0, 2], port));
    connect_to(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port));
    connect_to(v4([127, 0, 0, 1], port));
    connect_to(v4([127, 0, 0, 1], port + 2));
    ready_then_wait();
}

fn ready_then_wait() {
    println!("ready");
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("unlink"), Some(dir)) => unlink_many(dir),
        (Some("eacces"), Some(file)) => eacces(file),
        (Some("connect"), Some(port)) => connects(port.parse().expect("port")),
        _ => {
            eprintln!("usage: fx-watch unlink DIR | eacces FILE | connect PORT");
            std::process::exit(2);
        }
    }
}
