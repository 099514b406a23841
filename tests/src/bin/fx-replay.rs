//! Fixture for `recorder replay` (tests/tests/replay.rs).
//!
//! `fx-replay inputs CONFIG`: reads CONFIG, an 8-byte getrandom seed and a
//! UDP message over loopback that carries its sender's (ephemeral, so
//! per-run) port and this process's pid, prints the three on stdout, and
//! fails (exit status [`INPUTS_FAIL`]) only when CONFIG says `fail`. With
//! `FX_REPLAY_EXTRA` set it first makes one extra call,
//! `access("/nonexistent/fx-replay-changed")`: a changed build.
//!
//! `fx-replay enospc FILE`: writes 64 KiB blocks to FILE until a write
//! fails, and handles the failure badly: it aborts (SIGABRT).
//!
//! `fx-replay sigpipe`: writes to a pipe whose reader is gone, with
//! SIGPIPE's default action: the signal ends it.

use std::io::Write as _;

/// `inputs`: the exit status when the config says `fail`.
const INPUTS_FAIL: i32 = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("inputs"), Some(cfg)) => inputs(cfg),
        (Some("enospc"), Some(file)) => enospc(file),
        (Some("sigpipe"), _) => sigpipe(),
        _ => {
            eprintln!("usage: fx-replay inputs CONFIG | enospc FILE | sigpipe");
            std::process::exit(64);
        }
    }
}

fn inputs(cfg: &str) {
    if std::env::var_os("FX_REPLAY_EXTRA").is_some() {
        // SAFETY: a NUL-terminated path.
        unsafe { libc::access(c"/nonexistent/fx-replay-changed".as_ptr(), libc::F_OK) };
    }
    let config = std::fs::read_to_string(cfg).expect("read the config");
    let mut seed = [0u8; 8];
    // SAFETY: the buffer is 8 bytes; a direct system call (not the vDSO).
    let n = unsafe { libc::syscall(libc::SYS_getrandom, seed.as_mut_ptr(), 8usize, 0) };
    assert_eq!(n, 8, "getrandom");
    let msg = udp_message();
    let line = format!(
        "config={:?} seed={} msg={:?}\n",
        config.trim(),
        seed.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        msg
    );
    std::io::stdout()
        .write_all(line.as_bytes())
        .expect("stdout");
    if config.contains("fail") {
        std::process::exit(INPUTS_FAIL);
    }
}

/// A datagram from one loopback socket to another, naming the sender.
fn udp_message() -> String {
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let text = format!(
        "from port {} pid {}",
        tx.local_addr().expect("addr").port(),
        std::process::id()
    );
    tx.send_to(text.as_bytes(), rx.local_addr().expect("addr"))
        .expect("send");
    let mut buf = [0u8; 256];
    let (n, _) = rx.recv_from(&mut buf).expect("recv");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn enospc(file: &str) {
    let mut f = std::fs::File::create(file).expect("create");
    let block = vec![b'x'; 64 * 1024];
    loop {
        if let Err(e) = f.write(&block) {
            // The bug: a full disk was never expected here.
            eprintln!("fx-replay: write failed: {e}");
            std::process::abort();
        }
    }
}

fn sigpipe() {
    // Rust ignores SIGPIPE; a C program (or one that restores it) does not.
    // SAFETY: restores the default action of one signal.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let mut fds = [0; 2];
    // SAFETY: room for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // The reader goes away.
    // SAFETY: our own descriptor.
    unsafe { libc::close(fds[0]) };
    let line = b"a line for a reader that went away\n";
    // SAFETY: a write of a valid buffer to our own pipe.
    let n = unsafe { libc::write(fds[1], line.as_ptr().cast(), line.len()) };
    // Reached only if the write did not kill it.
    std::process::exit(if n < 0 { 5 } else { 0 });
}
