#!/usr/bin/env python3
"""Full against lean mode on the getppid loop, interleaved.

    sudo python3 tools/lean-bench/interleaved.py [CALLS [REPS [MODES]]]

(release builds of `recorder` and `fx-loop` first: `cargo build --release
-p recorder -p tests --bins`). Every mode runs once per repetition, in an
order that rotates from one repetition to the next; a mode's ratio is its
ns/call over the untraced ns/call of the same repetition, reported as
min / median / max over the repetitions. Modes: untraced, full and lean
(`recorder --mode M -- fx-loop`), the two floors (`--bench-floor both`
and `--bench-floor exit`) and the two bystanders (a recorder of either
mode for another comm).

The time is fx-loop's own CPU time per call (`cpu_ns_per_call`, which
holds the programs' time: they run in the syscall), not its wall time:
on the shared 2-core VM the wall time mostly measured the other sessions'
builds. A repetition is dropped, and run again, when anybody else's
program sat on raw_syscalls during it (the CI loop and other sessions
record on the same machine): such a program puts every task on the slow
path and makes the untraced and floor figures meaningless. `METRIC=
ns_per_call` measures wall time instead.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from quiet import wait_quiet
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
R = os.path.join(ROOT, "target/release/recorder")
LOOP = os.path.join(ROOT, "target/release/fx-loop")
N = sys.argv[1] if len(sys.argv) > 1 else "1000000"
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 7
MODES = sys.argv[3].split(",") if len(sys.argv) > 3 else [
    "untraced", "full", "lean", "floor", "lean_floor", "other_full", "other_lean"]
TMP = tempfile.mkdtemp(prefix="lean-bench-")
METRIC = os.environ.get("METRIC", "cpu_ns_per_call")


def ns(out):
    for tok in out.split():
        if tok.startswith(METRIC + "="):
            return float(tok.split("=")[1])
    raise SystemExit("no ns_per_call in %r" % out)

def background(flags):
    p = subprocess.Popen([R, *flags, "--comm", "nosuchcomm", "-o", TMP + "/bg.rec"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        if line.startswith("recorder: recording"):
            return p
    raise SystemExit("background recorder did not start")

def stop(p):
    p.send_signal(2); p.wait()

def run(mode):
    if mode == "untraced":
        return ns(subprocess.run([LOOP, N], capture_output=True, text=True).stdout)
    if mode in ("full", "lean"):
        out = subprocess.run([R, "-q", "--mode", mode, "-s", "4096", "-o", TMP + "/fg.rec", "--", LOOP, N],
                             capture_output=True, text=True)
        return ns(out.stdout)
    # The floor says which programs (it once followed the mode, and
    # `--comm` defaults to lean: "floor" was the exit-only one).
    flags = {"floor": ["--bench-floor", "both"], "lean_floor": ["--bench-floor", "exit"],
             "other_full": ["--mode", "full"], "other_lean": ["--mode", "lean"]}[mode]
    p = background(flags)
    try:
        return ns(subprocess.run([LOOP, N], capture_output=True, text=True).stdout)
    finally:
        stop(p)

samples = {m: [] for m in MODES}
ratios = {m: [] for m in MODES}
subprocess.run([LOOP, N], capture_output=True)  # warm-up
rep = 0
dropped = 0
while rep < REPS:
    order = MODES[rep % len(MODES):] + MODES[:rep % len(MODES)]
    got = {}
    clean = True
    for m in order:
        if not wait_quiet():
            clean = False
        got[m] = run(m)
        # Anybody's program that came meanwhile; a stopped recorder's own
        # links go within a fraction of a second.
        if not wait_quiet():
            clean = False
    if not clean:
        dropped += 1
        print("rep dropped: other raw_syscalls programs were attached", file=sys.stderr, flush=True)
        if dropped > 3 * REPS:
            raise SystemExit("never quiet")
        continue
    rep += 1
    for m in MODES:
        samples[m].append(got[m])
    for m in MODES:
        ratios[m].append(got[m] / got["untraced"])
    print("rep", rep, {m: round(v, 1) for m, v in got.items()}, file=sys.stderr, flush=True)
print("repetitions kept: %d, dropped (others attached): %d" % (REPS, dropped))
print("| mode | ns/call median | ratio to untraced min / median / max |")
print("|---|---|---|")
for m in MODES:
    r = ratios[m]
    print("| %s | %.0f | %.2fx / %.2fx / %.2fx |" % (m, statistics.median(samples[m]), min(r), statistics.median(r), max(r)))
for a, b in [("full", "floor"), ("lean", "lean_floor"), ("other_full", "floor"), ("other_lean", "lean_floor")]:
    if a in MODES and b in MODES:
        r = [x / y for x, y in zip(samples[a], samples[b])]
        print("| %s / %s | | %.2fx / %.2fx / %.2fx |" % (a, b, min(r), statistics.median(r), max(r)))
json.dump({"samples": samples}, open(os.path.join(TMP, "samples.json"), "w"))
print("raw samples: %s" % os.path.join(TMP, "samples.json"))
