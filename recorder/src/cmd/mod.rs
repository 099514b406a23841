//! The binary's commands, one module each: what `main` dispatches to. The
//! library (`recorder::`) holds what they share and can be tested without
//! a kernel; these hold the files, the terminal and the process.

pub mod bundle;
pub mod check;
pub mod docgen;
pub mod dump;
pub mod follow;
pub mod read;
pub mod record;
pub mod replay;
pub mod watch;
