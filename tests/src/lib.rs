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
