//! Facts about the machine and the code measured, for the report's header
//! line and the JSON: kernel release, CPU count and model, the commit,
//! the date, and whether the scratch directory is on tmpfs.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::util;

/// Whether `path` is on tmpfs.
pub(super) fn is_tmpfs(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt as _;
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statfs is plain old data; all-zero is a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid NUL-terminated path and a pointer to a local.
    (unsafe { libc::statfs(c.as_ptr(), &mut st) } == 0) && st.f_type as i64 == TMPFS_MAGIC
}

pub(super) fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned())
}

pub(crate) fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown model".to_owned())
}

/// The commit measured, read-only (`git` is only asked, nothing changes).
pub(super) fn commit() -> String {
    let root = util::project_root();
    let root = root.to_string_lossy();
    let hash = util::probe("git", ["-C", &root, "rev-parse", "--short", "HEAD"]);
    let dirty = util::probe(
        "git",
        ["-C", &root, "status", "--porcelain", "--untracked-files=no"],
    )
    .is_some_and(|s| !s.trim().is_empty());
    match hash {
        Some(h) => format!("{}{}", h.trim(), if dirty { "+changes" } else { "" }),
        None => "(no git)".to_owned(),
    }
}

/// Now, as `YYYY-MM-DD HH:MM UTC`.
pub(super) fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}
