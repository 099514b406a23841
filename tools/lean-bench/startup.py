#!/usr/bin/env python3
"""Start plus stop of `recorder -- /bin/true`, binaries interleaved.

    sudo python3 tools/lean-bench/startup.py BIN[,BIN...] [REPS]

Times the whole command (`-q -s 0`), every binary once per repetition,
the order reversed every other repetition, and prints min / median / max
in milliseconds per binary. The bench's `true` row measures the same for
one binary; this compares builds side by side.
"""
import statistics
import subprocess
import sys
import time

BINS = sys.argv[1].split(",")
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 15


def main():
    res = {b: [] for b in BINS}
    for r in range(REPS):
        for b in BINS if r % 2 == 0 else BINS[::-1]:
            t = time.perf_counter()
            subprocess.run([b, "-q", "-s", "0", "-o", "/tmp/startup.rec", "--", "/bin/true"],
                           check=True)
            res[b].append((time.perf_counter() - t) * 1000)
    for b in BINS:
        xs = res[b]
        print("%s: min %.0f, median %.0f, max %.0f ms" % (b, min(xs), statistics.median(xs), max(xs)))


if __name__ == "__main__":
    main()
