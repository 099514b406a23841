//! Decoding recorded system calls: for people (strace-like text) and for
//! programs (JSON Lines), for both x86_64 and aarch64 syscall numbering.
//!
//! # Pieces
//!
//! - [`Arch`], [`syscall_name`], [`syscall_nr`], [`errno_name`]: the
//!   architecture tables, from the `syscalls` crate.
//! - The *signature table* (`table.rs`): for each syscall name, the type of
//!   every argument (fd, path, flags, output struct, ...) and of the return
//!   value. Keyed by name, so one table serves both architectures; the few
//!   calls whose argument order differs (clone) have a row per
//!   architecture.
//! - The *capture plan* ([`capture_plan`], [`capture_table`]), derived from
//!   the same rows: which arguments point at memory the kernel side should
//!   copy into the log, and how long it is ([`ArgPlan`], [`LenFrom`]).
//! - The [`Formatter`], which turns [`crate::event::Event`]s into text lines
//!   or JSON objects (see `docs/json-output.md` for the JSON contract).
//!
//! # Portability
//!
//! Nothing here performs a system call or depends on the machine reading
//! the log: the architecture comes from the log header, and constants whose
//! values differ between x86_64 and aarch64 (some `O_*` flags, the layout of
//! `struct stat`, clone's argument order) are spelled out per architecture
//! instead of being taken from the reader's `libc`.
//!
//! # Robustness
//!
//! Captured bytes come from untrusted logs. Every struct field is read with
//! a bounds check, and a capture too short for its struct falls back to the
//! pointer with a comment; no input makes the decoder panic.

mod arch;
mod classes;
mod consts;
mod fds;
mod fsmagic;
mod json;
mod prctl;
/// The JSON name of a pause's end, shared by `dump --json` and `export`.
pub(crate) use json::pause_end as json_pause_end;
mod put;
mod strerror;
mod structs;
pub mod sysent;
pub(crate) mod table;
mod text;

#[cfg(test)]
mod tests;

pub use arch::{Arch, errno_name, syscall_name, syscall_nr};
pub use classes::SyscallClass;
pub use put::StringEscapes;
pub use table::{
    ArgPlan, CapturePlan, LenFrom, capture_plan, capture_plan_by_name, capture_table,
    path_arg_dirs, path_args,
};
pub use text::{DecodeError, Formatter, OutputFormat, ShowTid, TextOptions, TimeMode};

/// Names of the syscalls the signature table decodes argument by argument
/// (others, the calls strace itself prints raw, are shown as strace shows
/// them: as many hex registers as the call takes), sorted, without
/// duplicates.
pub fn decoded_syscalls() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = table::all_specs().iter().map(|s| s.name).collect();
    v.sort_unstable();
    v.dedup();
    v
}
