//! Fixture: background noise. Calls `close(-3000)` in a loop until killed,
//! so a test can check that an unselected process is not recorded.

fn main() {
    loop {
        // SAFETY: close of an invalid fd.
        unsafe { libc::syscall(libc::SYS_close, -3000i64) };
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
