"""Whether the machine is quiet enough for an untraced run: shared by the
lean-bench scripts (imported from their own directory)."""
import json
import os
import subprocess
import time


def foreign():
    """Programs on the syscall tracepoints, anybody's (other sessions'
    recorders share this machine): while any is attached, every task is on
    the syscall slow path and the untraced and floor numbers mean nothing.
    Every perf_event link counts: bpftool does not name its tracepoint, and
    a stopped recorder's per-syscall events (lean mode) are among them."""
    out = subprocess.run(["bpftool", "link", "show", "-j"], capture_output=True, text=True).stdout
    return sum(1 for link in json.loads(out or "[]") if link.get("type") == "perf_event"
               or (link.get("type") == "raw_tracepoint"
                   and link.get("tp_name") in ("sys_enter", "sys_exit")))


def recorders():
    """Live processes named recorder: a stopped recorder's holder releases
    its classic links as it exits, and the kernel drops a link from
    bpftool's list before it detaches it (kernel/bpf/syscall.c,
    bpf_link_free), so until the holder has exited the slow path may still
    be on. A zombie's exit, the detach with it, is done."""
    n = 0
    for d in os.listdir("/proc"):
        try:
            if d.isdigit():
                comm, rest = open("/proc/%s/stat" % d).read().split(" (", 1)[1].rsplit(") ", 1)
                n += comm == "recorder" and not rest.startswith("Z")
        except (OSError, IndexError, ValueError):
            pass
    return n


def wait_quiet(limit=120):
    """Waits up to `limit` s for both to go; whether no foreign program is
    left (a holder that outlives the wait is the bench's own)."""
    t = time.time()
    while (foreign() or recorders()) and time.time() - t < limit:
        time.sleep(0.2)
    return foreign() == 0
