//! `recorder check`: can this kernel run the recorder? Tells a user on an
//! unknown board, before they need it, what is there, what is missing, and
//! what to do about it. Exit status 0 only when recording will work.

use std::io::Write as _;

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

/// Creates (and closes) a 1-page BPF ring buffer map: proves the bpf()
/// syscall exists, ring buffers are supported (5.8+), and we may use them.
fn ringbuf_probe() -> Result<(), std::io::Error> {
    const BPF_MAP_CREATE: libc::c_long = 0;
    const BPF_MAP_TYPE_RINGBUF: u32 = 27;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as u32;
    // union bpf_attr, map-create part: map_type, key_size, value_size,
    // max_entries, map_flags; the rest zero (the kernel wants a zeroed tail).
    let mut attr = [0u32; 32];
    attr[0] = BPF_MAP_TYPE_RINGBUF;
    attr[3] = page;
    // SAFETY: a valid pointer to a zero-padded attr of the given size.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_MAP_CREATE,
            attr.as_ptr(),
            std::mem::size_of_val(&attr),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: we own the fd just created.
    unsafe { libc::close(fd as i32) };
    Ok(())
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

    let privileged = crate::has_bpf_privileges();
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
        detail: match &probe {
            Ok(()) => "works".into(),
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                "bpf() not available (CONFIG_BPF_SYSCALL off)".into()
            }
            Err(e) => e.to_string(),
        },
        fix: "needs CONFIG_BPF_SYSCALL=y and a 5.8+ kernel; as non-root, CAP_BPF",
    });

    let tracefs = super::record::tracefs::ensure_mounted();
    let (tfs_ok, tfs_detail) = match &tracefs {
        Ok(p) => (true, p.display().to_string()),
        Err(e) => (false, e.to_string()),
    };
    items.push(Item {
        what: "tracefs mounted (or mountable)",
        ok: tfs_ok,
        detail: tfs_detail,
        fix: "mount -t tracefs nodev /sys/kernel/tracing (needs CONFIG_TRACING)",
    });
    let tp = |cat: &str, name: &str| {
        tracefs
            .as_ref()
            .map(|root| {
                root.join("events")
                    .join(cat)
                    .join(name)
                    .join("format")
                    .exists()
            })
            .unwrap_or(false)
    };
    let raw = tp("raw_syscalls", "sys_enter") && tp("raw_syscalls", "sys_exit");
    items.push(Item {
        what: "raw_syscalls tracepoints",
        ok: raw,
        detail: if raw {
            "present".into()
        } else {
            "missing".into()
        },
        fix: "needs CONFIG_HAVE_SYSCALL_TRACEPOINTS and CONFIG_FTRACE (events/raw_syscalls)",
    });
    let sched = [
        "sched_process_fork",
        "sched_process_exec",
        "sched_process_exit",
    ]
    .iter()
    .all(|n| tp("sched", n));
    items.push(Item {
        what: "sched process tracepoints",
        ok: sched,
        detail: if sched {
            "present".into()
        } else {
            "missing".into()
        },
        fix: "needs CONFIG_TRACEPOINTS (events/sched)",
    });
    let btf = std::path::Path::new("/sys/kernel/btf/vmlinux").exists();

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
        "info  kernel BTF                                     {} (not needed)",
        if btf { "present" } else { "absent" }
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
