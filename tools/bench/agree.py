#!/usr/bin/env python3
"""Whether two `cargo xtask bench` runs agree: every own-time ratio to
untraced (the table's "own × untraced" column) of one run against the
other's, within a relative tolerance.

    python3 tools/bench/agree.py A/bench.json B/bench.json [TOLERANCE]

TOLERANCE defaults to 0.10 (issue 13: two `--quick` runs must agree within
10% on every ratio). Prints each ratio side by side, marks those that do
not agree, and a count; exits 1 if any does not. It also flags a tracing
mode faster than untraced beyond its min-max spread (max below 1.0).
"""
import json
import signal
import sys


def ratios(path):
    cells = json.load(open(path))["cells"]
    out = {}
    for c in cells:
        r = c.get("own_ratio_to_untraced")
        if r is None:
            continue
        argv = [a.rsplit("/", 1)[-1] for a in c["argv"] if not a.endswith("fx-time")]
        key = (" ".join(argv) + (" (reduced)" if c["reduced"] else ""), c["mode"])
        out[key] = (r, c.get("own_ratio_to_untraced_min"), c.get("own_ratio_to_untraced_max"))
    return out


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    a, b = ratios(sys.argv[1]), ratios(sys.argv[2])
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 0.10
    agree, total, faster = 0, 0, 0
    for key in sorted(set(a) & set(b)):
        (ra, _, maxa), (rb, _, maxb) = a[key], b[key]
        total += 1
        ok = abs(ra - rb) <= tol * min(ra, rb)
        agree += ok
        flag = "" if ok else "  <-- differ"
        if (maxa is not None and maxa < 1.0) or (maxb is not None and maxb < 1.0):
            faster += 1
            flag += "  <-- faster than untraced"
        print("%-48s %-28s %6.2fx %6.2fx%s" % (key[0][:48], key[1], ra, rb, flag))
    print("%d of %d own-time ratios agree within %.0f%%; %d faster than untraced in every run"
          % (agree, total, tol * 100, faster))
    sys.exit(0 if agree == total and faster == 0 else 1)


if __name__ == "__main__":
    main()
