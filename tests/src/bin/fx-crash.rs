//! Fixture: makes a few calls, the last one `close(-5000)`, then writes
//! through a null pointer and dies of SIGSEGV (no handler).

fn main() {
    // SAFETY: plain system calls; the null write is the point: it crashes.
    unsafe {
        libc::syscall(libc::SYS_getpid);
        libc::syscall(libc::SYS_close, -5000i64);
        std::ptr::write_volatile(std::ptr::null_mut::<u8>(), 1);
    }
}
