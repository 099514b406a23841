//! Fixture programs (in `src/bin`) and privileged integration tests (in
//! `tests/`) for the recorder. The tests load the real eBPF programs and
//! trace real processes, so they need root: in CI (`CI` set) they fail if
//! they cannot run; elsewhere they skip with a message saying why.
//!
//! The constants below are what the fixtures do, shared with the tests that
//! check the recording.

/// `fx-basic`: the path its openat fails on.
pub const BASIC_PATH: &[u8] = b"/nonexistent/recorder-fixture\0";
/// `fx-basic`: what it writes to stdout.
pub const BASIC_MSG: &[u8] = b"hello from fx-basic\n";
/// `fx-basic`: its exit status.
pub const BASIC_EXIT: i32 = 42;
/// `fx-threads`: worker threads started.
pub const THREADS: i64 = 4;
/// `fx-data`: length of its large write (more than the default capture size).
pub const DATA_BIG_LEN: usize = 10_000;
/// `fx-data`: the byte its large write repeats.
pub const DATA_BIG_BYTE: u8 = b'Z';
/// `fx-trace`: `getppid` calls it makes (and `-e trace=` leaves out).
pub const TRACE_GETPPIDS: usize = 200;
/// `fx-trace`: `openat` calls of its main thread, each on a path under
/// [`TRACE_PATH`] that does not exist; its child makes one more.
pub const TRACE_OPENS: usize = 10;
/// `fx-trace`: `close(-(3000 + i))` calls of its main thread (EBADF); its
/// worker thread makes one, `close(-3999)`.
pub const TRACE_CLOSES: usize = 10;
/// `fx-trace`: the prefix of the paths it opens.
pub const TRACE_PATH: &str = "/nonexistent/recorder-trace-";
