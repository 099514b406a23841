//! tracefs: make sure it is mounted, and read tracepoint field offsets from
//! the `format` files (the sched tracepoints' layouts changed across kernel
//! versions, e.g. `sched_process_fork` turned its comm arrays into
//! `__data_loc` strings in 6.x, moving `child_pid` from offset 44 to 20).

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use recorder_common::Tracepoint;
use thiserror::Error;

const CANDIDATES: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

#[derive(Debug, Error)]
pub enum TracefsError {
    #[error(
        "tracefs is not mounted and mounting it at /sys/kernel/tracing failed \
         (mount it by hand: mount -t tracefs nodev /sys/kernel/tracing)"
    )]
    Mount {
        #[source]
        source: io::Error,
    },
    #[error("cannot read {path} (`recorder check` tells which tracepoints this kernel lacks)")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: no field `{field}` in the tracepoint format")]
    MissingField { path: PathBuf, field: String },
}

/// Returns the tracefs root, mounting it at /sys/kernel/tracing if needed.
pub fn ensure_mounted() -> Result<PathBuf, TracefsError> {
    for c in CANDIDATES {
        if fs::metadata(format!("{c}/events")).is_ok() {
            return Ok(PathBuf::from(c));
        }
    }
    let target = CANDIDATES[0];
    nix::mount::mount(
        Some("nodev"),
        target,
        Some("tracefs"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .map_err(|e| TracefsError::Mount {
        source: io::Error::from(e),
    })?;
    Ok(PathBuf::from(target))
}

/// Where tracefs describes `tp`: its `format` file, present exactly when
/// the kernel has the tracepoint.
pub fn format_path(root: &Path, tp: &Tracepoint) -> PathBuf {
    root.join("events")
        .join(tp.category)
        .join(tp.name)
        .join("format")
}

fn read_format(root: &Path, tp: &Tracepoint) -> Result<String, TracefsError> {
    let path = format_path(root, tp);
    fs::read_to_string(&path).map_err(|source| TracefsError::Read { path, source })
}

/// Fails, naming its tracefs file, when the kernel lacks `tp`.
pub fn require(root: &Path, tp: &Tracepoint) -> Result<(), TracefsError> {
    read_format(root, tp).map(drop)
}

/// Field offset in a tracepoint's record, from its `format` file.
pub fn field_offset(
    root: &Path,
    tp: &Tracepoint,
    field: &str,
) -> Result<Option<u32>, TracefsError> {
    Ok(parse_offset(&read_format(root, tp)?, field))
}

/// Like [`field_offset`] but the field must exist.
pub fn required_offset(root: &Path, tp: &Tracepoint, field: &str) -> Result<u32, TracefsError> {
    field_offset(root, tp, field)?.ok_or_else(|| TracefsError::MissingField {
        path: format_path(root, tp),
        field: field.to_owned(),
    })
}

/// Parses lines such as
/// `field:pid_t child_pid;<TAB>offset:20;<TAB>size:4;<TAB>signed:1;`.
fn parse_offset(format: &str, field: &str) -> Option<u32> {
    format.lines().find_map(|line| {
        let decl = line.trim().strip_prefix("field:")?;
        let (decl, rest) = decl.split_once(';')?;
        // The declaration's last word is the name (possibly with `[N]`).
        let name = decl.split_whitespace().last()?;
        let name = name.split('[').next()?;
        if name != field {
            return None;
        }
        let off = rest.trim().strip_prefix("offset:")?;
        off.split(';').next()?.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::parse_offset;

    const FORK_6_18: &str = "name: sched_process_fork
ID: 366
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__data_loc char[] parent_comm;	offset:8;	size:4;	signed:0;
	field:pid_t parent_pid;	offset:12;	size:4;	signed:1;
	field:__data_loc char[] child_comm;	offset:16;	size:4;	signed:0;
	field:pid_t child_pid;	offset:20;	size:4;	signed:1;
";
    const FORK_6_1: &str = "format:
	field:char parent_comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t parent_pid;	offset:24;	size:4;	signed:1;
	field:char child_comm[16];	offset:28;	size:16;	signed:0;
	field:pid_t child_pid;	offset:44;	size:4;	signed:1;
";

    #[test]
    fn offsets_across_kernel_versions() {
        assert_eq!(parse_offset(FORK_6_18, "child_pid"), Some(20));
        assert_eq!(parse_offset(FORK_6_1, "child_pid"), Some(44));
        assert_eq!(parse_offset(FORK_6_1, "parent_comm"), Some(8));
        assert_eq!(parse_offset(FORK_6_1, "group_dead"), None);
        assert_eq!(parse_offset(FORK_6_18, "pid"), None);
    }
}
