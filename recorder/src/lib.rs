//! `recorder`: a low-overhead Linux system-call recorder.
//!
//! The library half holds everything that does not touch the kernel — the
//! log format ([`log`]), what it stores ([`event`]) and how it is shown
//! ([`decode`]) — so it can be unit-tested and fuzzed anywhere without root.
//! The kernel-facing daemon lives in the binary (`src/main.rs` and its
//! modules).

pub mod bundle;
pub mod cli;
pub mod config;
pub mod decode;
pub mod diff;
pub mod event;
pub mod log;
pub mod read;
pub mod replay;
