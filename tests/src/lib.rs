//! Fixture programs (in `src/bin`) and privileged integration tests (in
//! `tests/`) for the recorder. The tests load the real eBPF programs, so
//! they need root; see `tests/common/mod.rs` for how they skip or fail.
