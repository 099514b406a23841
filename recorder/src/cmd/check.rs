//! `recorder check`: can this kernel run the recorder? Tells a user on an
//! unknown board, before they need it, what is there, what is missing, and
//! what to do about it. Exit status 0 only when recording will work.

use std::io::Write as _;

use recorder_common::{LEAN_TRACEPOINTS, TRACEPOINTS, Tracepoint};

use crate::record::tracefs;

struct Item {
    what: &'static str,
    ok: bool,
    detail: String,
    fix: &'static str,
}

fn kernel_version() -> Option<(u32, u32, String)> {
    let uts = nix::sys::utsname::uname().ok()?;
    let release = uts.release().to_string_lossy().into_owned();
    let mut it = release
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u32>().ok());
    let major = it.next()??;
    let minor = it.next()??;
    Some((major, minor, release))
}

/// Whether ring buffer maps (5.8+) can be created here, by aya's own
/// feature probe: proves the bpf() syscall exists, ring buffers are
/// supported, and we may use them.
fn ringbuf_probe() -> Result<(), String> {
    match aya::sys::is_map_supported(aya::maps::MapType::RingBuf) {
        Ok(true) => Ok(()),
        Ok(false) => Err("ring buffer maps are not supported (a kernel before 5.8)".into()),
        Err(e) if e.io_error.raw_os_error() == Some(libc::ENOSYS) => {
            Err("bpf() not available (CONFIG_BPF_SYSCALL off)".into())
        }
        Err(e) => Err(e.io_error.to_string()),
    }
}

/// Whether the kernel loads the two kinds of programs the recorder
/// attaches (aya's probe loads a minimal one of each).
fn program_probe() -> Result<(), String> {
    use aya::programs::ProgramType;
    for (t, name) in [
        (ProgramType::RawTracePoint, "raw tracepoint"),
        (ProgramType::TracePoint, "tracepoint"),
    ] {
        match aya::sys::is_program_supported(t) {
            Ok(true) => {}
            Ok(false) => return Err(format!("{name} programs are not supported")),
            Err(e) => {
                return Err(format!(
                    "probing {name} programs: {:#}",
                    anyhow::Error::new(e)
                ));
            }
        }
    }
    Ok(())
}

/// How `check` names the tracepoints of each tracefs category, and what a
/// kernel without them lacks, in the order they are shown.
const CATEGORIES: &[(&str, &str, &str)] = &[
    (
        "raw_syscalls",
        "raw_syscalls tracepoints",
        "needs CONFIG_HAVE_SYSCALL_TRACEPOINTS and CONFIG_FTRACE (events/raw_syscalls)",
    ),
    (
        "sched",
        "sched process tracepoints",
        "needs CONFIG_TRACEPOINTS (events/sched)",
    ),
    (
        "signal",
        "signal_deliver tracepoint",
        "needs CONFIG_TRACEPOINTS (events/signal)",
    ),
    (
        "syscalls",
        "per-syscall events (lean mode)",
        "needs CONFIG_FTRACE_SYSCALLS (events/syscalls); without it, record with --mode full",
    ),
];

/// Every tracepoint a recording may attach, in either mode (lean is the
/// default for -p and --comm), each once.
fn all_tracepoints() -> Vec<&'static Tracepoint> {
    let mut all: Vec<&Tracepoint> = Vec::new();
    for tp in TRACEPOINTS.iter().chain(LEAN_TRACEPOINTS) {
        if !all
            .iter()
            .any(|t| (t.category, t.name) == (tp.category, tp.name))
        {
            all.push(tp);
        }
    }
    all
}

/// One item per category of [`TRACEPOINTS`] and [`LEAN_TRACEPOINTS`], the
/// lists loading requires, so nothing loading needs goes unchecked. A category missing from
/// [`CATEGORIES`] still gets checked, under a generic item.
fn tracepoint_items(mut present: impl FnMut(&Tracepoint) -> bool) -> Vec<Item> {
    let known = |tp: &Tracepoint| CATEGORIES.iter().any(|&(c, ..)| c == tp.category);
    let groups = CATEGORIES
        .iter()
        .map(|&(category, what, fix)| {
            let tps: Vec<&Tracepoint> = all_tracepoints()
                .into_iter()
                .filter(|tp| tp.category == category)
                .collect();
            (what, fix, tps)
        })
        .chain(std::iter::once((
            "other tracepoints",
            "needs CONFIG_TRACEPOINTS",
            all_tracepoints()
                .into_iter()
                .filter(|tp| !known(tp))
                .collect(),
        )));
    groups
        .filter(|(_, _, tps)| !tps.is_empty())
        .map(|(what, fix, tps)| {
            let missing: Vec<String> = tps
                .iter()
                .filter(|tp| !present(tp))
                .map(|tp| format!("{}/{}", tp.category, tp.name))
                .collect();
            Item {
                what,
                ok: missing.is_empty(),
                detail: if missing.is_empty() {
                    "present".into()
                } else {
                    format!("missing: {}", missing.join(", "))
                },
                fix,
            }
        })
        .collect()
}

pub fn run() -> anyhow::Result<i32> {
    let mut items = Vec::new();

    let kv = kernel_version();
    items.push(match &kv {
        Some((maj, min, rel)) => Item {
            what: "kernel 5.8 or newer (BPF ring buffer)",
            ok: (*maj, *min) >= (5, 8),
            detail: rel.clone(),
            fix: "upgrade the kernel: the BPF ring buffer appeared in 5.8",
        },
        None => Item {
            what: "kernel 5.8 or newer (BPF ring buffer)",
            ok: false,
            detail: "cannot read the kernel version".into(),
            fix: "check uname -r",
        },
    });

    let privileged = super::record::has_bpf_privileges();
    items.push(Item {
        what: "privileges (root, or CAP_BPF + CAP_PERFMON)",
        ok: privileged,
        detail: if privileged {
            "yes".into()
        } else {
            "no".into()
        },
        fix: "run as root (sudo recorder ...) or grant CAP_BPF and CAP_PERFMON",
    });

    let probe = ringbuf_probe();
    items.push(Item {
        what: "bpf() syscall with ring buffer maps",
        ok: probe.is_ok(),
        detail: probe.err().unwrap_or_else(|| "works".into()),
        fix: "needs CONFIG_BPF_SYSCALL=y and a 5.8+ kernel; as non-root, CAP_BPF",
    });
    let probe = program_probe();
    items.push(Item {
        what: "tracepoint and raw tracepoint programs",
        ok: probe.is_ok(),
        detail: probe.err().unwrap_or_else(|| "load".into()),
        fix: "needs CONFIG_BPF_EVENTS=y; as non-root, CAP_BPF and CAP_PERFMON",
    });

    let (root, tfs_detail) = match tracefs::ensure_mounted() {
        Ok(p) => {
            let shown = p.display().to_string();
            (Some(p), shown)
        }
        // With its cause, which the message leaves to `source()`.
        Err(e) => (None, format!("{:#}", anyhow::Error::new(e))),
    };
    items.push(Item {
        what: "tracefs mounted (or mountable)",
        ok: root.is_some(),
        detail: tfs_detail,
        fix: "mount -t tracefs nodev /sys/kernel/tracing (needs CONFIG_TRACING)",
    });
    items.extend(tracepoint_items(|tp| {
        root.as_ref()
            .is_some_and(|root| tracefs::format_path(root, tp).exists())
    }));
    let btf = std::path::Path::new("/sys/kernel/btf/vmlinux").exists();
    let tp_btf = btf && crate::record::kernel::syscall_programs_use_btf();

    let mut out = std::io::stdout().lock();
    let all_ok = items.iter().all(|i| i.ok);
    for i in &items {
        writeln!(
            out,
            "{:4}  {:46} {}",
            if i.ok { "ok" } else { "FAIL" },
            i.what,
            i.detail
        )?;
        if !i.ok {
            writeln!(out, "      fix: {}", i.fix)?;
        }
    }
    writeln!(
        out,
        "info  kernel BTF                                     {}",
        match (btf, tp_btf) {
            (true, true) => "present (the syscall programs load registers directly, as tp_btf)",
            (true, false) =>
                "present, but unused here (the syscall programs read registers with a helper)",
            _ => "absent (not needed; the syscall programs read registers with a helper)",
        }
    )?;
    writeln!(
        out,
        "{}",
        if all_ok {
            "recording will work on this machine"
        } else {
            "recording will NOT work here until the items marked FAIL are fixed"
        }
    )?;
    Ok(if all_ok { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_every_tracepoint_loading_needs() {
        let mut asked = Vec::new();
        let items = tracepoint_items(|tp| {
            asked.push(*tp);
            true
        });
        assert!(items.iter().all(|i| i.ok));
        // Each once, and nothing else: the loader's lists are check's list.
        assert_eq!(asked.len(), all_tracepoints().len(), "{asked:?}");
        assert!(
            TRACEPOINTS
                .iter()
                .chain(LEAN_TRACEPOINTS)
                .all(|tp| asked
                    .iter()
                    .any(|a| (a.category, a.name) == (tp.category, tp.name))),
            "{asked:?}"
        );
        assert!(
            items.iter().all(|i| i.what != "other tracepoints"),
            "every category has its own item and fix"
        );
    }

    /// The bug this list fixed: `check` said OK on a kernel without
    /// signal_deliver, where loading then failed.
    #[test]
    fn each_missing_tracepoint_fails_the_check() {
        for gone in all_tracepoints() {
            let items = tracepoint_items(|tp| tp != gone);
            let failed: Vec<&Item> = items.iter().filter(|i| !i.ok).collect();
            assert_eq!(failed.len(), 1, "{gone:?}");
            assert_eq!(
                failed[0].detail,
                format!("missing: {}/{}", gone.category, gone.name)
            );
        }
    }
}
