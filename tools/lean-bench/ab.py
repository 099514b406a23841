#!/usr/bin/env python3
"""Two recorder binaries against each other on the getppid loop, interleaved.

    sudo python3 tools/lean-bench/ab.py OLD NEW [CALLS [REPS [MODES]]]

For measuring one change at a time on a shared machine: each repetition
runs the untraced loop and then, for every mode, OLD and NEW back to back
(their order alternating from one repetition to the next), so both sides
see the same load. Modes: `full`, `lean` (the loop traced by
`recorder --mode M -- fx-loop`), `other_full`, `other_lean` (a recorder of
that mode selecting another comm while the loop runs untraced), `full_cap`
(full mode with data capture, `-s 4096`; the others run `-s 0`). The time
is fx-loop's own CPU time per call (`cpu_ns_per_call`). Repetitions during
which anybody else's program sat on raw_syscalls are dropped and run again,
as in interleaved.py. Printed: per mode, the median ns/call and the ratio
to untraced of each side (min / median / max), and NEW/OLD of the same
repetition (min / median / max).

fx-loop is target/release/fx-loop unless FX_LOOP says otherwise.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

from quiet import wait_quiet

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
if len(sys.argv) < 3:
    raise SystemExit(__doc__)
OLD, NEW = sys.argv[1], sys.argv[2]
N = sys.argv[3] if len(sys.argv) > 3 else "1000000"
REPS = int(sys.argv[4]) if len(sys.argv) > 4 else 7
MODES = sys.argv[5].split(",") if len(sys.argv) > 5 else ["full", "lean"]
LOOP = os.environ.get("FX_LOOP", os.path.join(ROOT, "target/release/fx-loop"))
TMP = tempfile.mkdtemp(prefix="ab-bench-")




def loop():
    return ns(subprocess.run([LOOP, N], capture_output=True, text=True).stdout)


def run(binary, mode):
    if mode in ("full", "lean", "full_cap"):
        m = "lean" if mode == "lean" else "full"
        size = "4096" if mode == "full_cap" else "0"
        out = subprocess.run([binary, "-q", "--mode", m, "-s", size, "-o", TMP + "/fg.rec",
                              "--", LOOP, N], capture_output=True, text=True)
        return ns(out.stdout)
    m = {"other_full": "full", "other_lean": "lean"}[mode]
    p = subprocess.Popen([binary, "--mode", m, "--comm", "nosuchcomm", "-o", TMP + "/bg.rec"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        if line.startswith("recorder: recording"):
            break
    else:
        raise SystemExit("background recorder did not start")
    try:
        return loop()
    finally:
        p.send_signal(2)
        p.wait()


def main():
    base, old, new = [], {m: [] for m in MODES}, {m: [] for m in MODES}
    loop()  # warm-up
    rep = dropped = 0
    while rep < REPS:
        clean = wait_quiet()
        got = {"untraced": loop()}
        for m in MODES:
            sides = [("old", OLD), ("new", NEW)]
            if rep % 2:
                sides.reverse()
            for name, binary in sides:
                got[(m, name)] = run(binary, m)
        if not clean or not wait_quiet():
            dropped += 1
            print("rep dropped: other raw_syscalls programs were attached", file=sys.stderr)
            if dropped > 3 * REPS:
                raise SystemExit("never quiet")
            continue
        rep += 1
        base.append(got["untraced"])
        for m in MODES:
            old[m].append(got[(m, "old")])
            new[m].append(got[(m, "new")])
        print("rep", rep, {str(k): round(v) for k, v in got.items()}, file=sys.stderr, flush=True)

    def mmm(xs):
        return "%.2fx / %.2fx / %.2fx" % (min(xs), statistics.median(xs), max(xs))
    print("repetitions kept: %d, dropped: %d; untraced median %.0f ns/call"
          % (REPS, dropped, statistics.median(base)))
    print("| mode | old ns/call | new ns/call | old vs untraced | new vs untraced | new/old |")
    print("|---|--:|--:|---|---|---|")
    for m in MODES:
        ro = [o / b for o, b in zip(old[m], base)]
        rn = [x / b for x, b in zip(new[m], base)]
        d = [x / o for x, o in zip(new[m], old[m])]
        print("| %s | %.0f | %.0f | %s | %s | %s |" % (
            m, statistics.median(old[m]), statistics.median(new[m]), mmm(ro), mmm(rn), mmm(d)))


if __name__ == "__main__":
    main()
