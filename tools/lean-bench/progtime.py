#!/usr/bin/env python3
"""The syscall programs' own run time per call, from the kernel's BPF stats.

    sudo python3 tools/lean-bench/progtime.py BIN[,BIN...] [CALLS [REPS [MODES]]]

A/B runs of the getppid loop (ab.py) measure what the traced program pays
in all, which on a shared VM moves by 30% from one run to the next. This
measures only the programs: with `kernel.bpf_stats_enabled` on, the kernel
times every run of every program (`run_time_ns`, `run_cnt` in `bpftool prog
show`), so a change to the programs shows up without the noise of the rest
of the system call. It leaves out what the programs cost outside their own
code (the slow path, the dispatch), which no change to them moves, and
adds the stats' own two clock reads to every run, the same for every binary.

Per repetition, every mode under every binary, in an order that rotates.
Modes: `full`, `lean` (the loop traced: `--comm fx-loop --overflow pause`,
the mode `recorder -- COMMAND` uses), `other_full`, `other_lean` (a
recorder selecting another comm while the loop runs), `floor`,
`lean_floor` (the empty programs of `--bench-floor`: what the stats
themselves add to a run), `watch` (`recorder watch` of a path nobody
unlinks: every call of the machine runs its program). A mode ending in
`_raw` runs with `RECORDER_NO_BTF=1`: the raw tracepoint programs. Printed per mode and
binary: ns per run of each syscall program (min / median / max) and their
sum, the cost per system call.

fx-loop is target/release/fx-loop unless FX_LOOP says otherwise. LOOP_ARGS
adds arguments to it (`--fstat`: a call with a 144-byte output), and
CAPTURE sets the traced modes' `-s` (default 0, no data): `CAPTURE=4096
LOOP_ARGS=--fstat progtime.py A,B 300000 7 full,lean` is what one captured
item costs.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BINS = sys.argv[1].split(",")
N = sys.argv[2] if len(sys.argv) > 2 else "1000000"
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 7
MODES = sys.argv[4].split(",") if len(sys.argv) > 4 else ["other_full", "other_lean", "full", "lean"]
LOOP = os.environ.get("FX_LOOP", os.path.join(ROOT, "target/release/fx-loop"))
LOOP_ARGS = os.environ.get("LOOP_ARGS", "").split()
CAPTURE = os.environ.get("CAPTURE", "0")
TMP = tempfile.mkdtemp(prefix="progtime-")
PROGS = ("sys_enter", "sys_exit", "sys_exit_lean", "sys_enter_btf", "sys_exit_btf", "lean_exit_btf",
         "floor_enter", "floor_exit", "sys_exit_watch", "watch_exit_btf")
STATS = "/proc/sys/kernel/bpf_stats_enabled"


def prog_stats():
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True,
                         check=True).stdout
    return {p["name"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(out) if p.get("name") in PROGS}


def run(binary, mode):
    env = dict(os.environ)
    if mode.endswith("_raw"):
        env["RECORDER_NO_BTF"] = "1"
        mode = mode[:-len("_raw")]
    if mode == "watch":
        args = [binary, "watch", "-e", "trace=unlinkat", "--path", "/no/such/file",
                "-o", TMP + "/x.rec"]
        return timed(args, env, "recorder: watching")
    lean = mode.endswith("lean") or mode == "lean_floor"
    comm = "fx-loop" if mode in ("full", "lean") else "nosuchcomm"
    args = [binary, "--mode", "lean" if lean else "full", "-s", CAPTURE, "--comm", comm,
            "-o", TMP + "/x.rec"]
    if "floor" in mode:
        # `lean_floor` once ran as `--mode full --bench-floor` (both
        # programs: a stray floor_enter column); say which floor outright.
        args += ["--bench-floor", "exit" if lean else "both"]
    if comm == "fx-loop":
        args += ["--overflow", "pause"]
    return timed(args, env, "recorder: recording")


def timed(args, env, ready):
    """Runs the loop while the recorder of `args` is attached; ns per run of
    each program that ran."""
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, env=env)
    for line in p.stderr:
        if line.startswith(ready):
            break
    else:
        raise SystemExit("recorder did not start: %s" % " ".join(args))
    try:
        before = prog_stats()
        subprocess.run([LOOP, N] + LOOP_ARGS, capture_output=True, check=True)
        after = prog_stats()
    finally:
        p.send_signal(2)
        p.wait()
    per_run = {}
    for name, (t, c) in after.items():
        t0, c0 = before.get(name, (0, 0))
        if c > c0:
            per_run[name] = (t - t0) / (c - c0)
    return per_run


def main():
    if os.geteuid() != 0:
        raise SystemExit("needs root (bpf_stats_enabled, loading programs)")
    with open(STATS) as f:
        was = f.read().strip()
    with open(STATS, "w") as f:
        f.write("1")
    got = {(m, b): [] for m in MODES for b in BINS}
    try:
        for rep in range(REPS):
            for i, m in enumerate(MODES):
                order = BINS[(rep + i) % len(BINS):] + BINS[:(rep + i) % len(BINS)]
                for b in order:
                    got[(m, b)].append(run(b, m))
            print("rep", rep + 1, "done", file=sys.stderr, flush=True)
    finally:
        with open(STATS, "w") as f:
            f.write(was)

    def mmm(xs):
        return "%.0f / %.0f / %.0f" % (min(xs), statistics.median(xs), max(xs))
    print("ns per program run, min / median / max of %d repetitions, %s calls each" % (REPS, N))
    print("| mode | binary | " + " | ".join(PROGS) + " | per call (sum of medians) |")
    print("|---|---|" + "--:|" * (len(PROGS) + 1))
    for m in MODES:
        for b in BINS:
            cells, total = [], 0.0
            for name in PROGS:
                xs = [r[name] for r in got[(m, b)] if name in r]
                cells.append(mmm(xs) if xs else "")
                total += statistics.median(xs) if xs else 0
            print("| %s | %s | %s | %.0f |" % (m, b, " | ".join(cells), total))


if __name__ == "__main__":
    main()
