#!/usr/bin/env python3
"""Checks `recorder export --format parquet` with a real SQL engine (DuckDB).

Exports every log given to its own Parquet file (as a fleet's logs would
be) and all of them to one more file, then runs SQL over all the files at
once: counts per syscall, errors per errno, and a join of the calls on
the `process` rows (process names). Every answer is compared with
`recorder stats --json` of the same log; the combined file must answer as
the separate files do. Exits non-zero on the first disagreement, naming it.

Usage: check.py --recorder PATH LOG...   (run with a Python that has duckdb)
"""

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb


def export(recorder, logs, out):
    subprocess.run(
        [recorder, "export", "--format", "parquet", "-o", str(out), *map(str, logs)],
        check=True,
        stderr=subprocess.DEVNULL,
    )


def stats(recorder, log):
    out = subprocess.run(
        [recorder, "stats", "--json", str(log)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


class Mismatch(Exception):
    pass


def same(what, got, want):
    if got != want:
        raise Mismatch(f"{what}:\n  DuckDB: {got}\n  stats:  {want}")


# Per file: calls, errors, calls without a return and time, per syscall.
# (Without a return: no `ret`. `dur_ns` is also null for every call of a
# lean log, which has no durations.)
PER_SYSCALL = """
SELECT filename, syscall, nr, count(*),
       count(*) FILTER (ret BETWEEN -4095 AND -1),
       count(*) FILTER (ret IS NULL),
       coalesce(sum(dur_ns), 0)
FROM calls GROUP BY ALL
"""

# Per file and syscall: failures by errno name (errno_N when it has none,
# as stats names them).
PER_ERRNO = """
SELECT filename, syscall, coalesce(errno, 'errno_' || CAST(-ret AS VARCHAR)), count(*)
FROM calls WHERE ret BETWEEN -4095 AND -1 GROUP BY ALL
"""

# The join: each call with its process's row, which names the process as
# stats does.
PER_PROCESS = """
SELECT c.filename, c.pid, coalesce(p.comm, '?'), count(*),
       count(*) FILTER (c.ret BETWEEN -4095 AND -1),
       coalesce(sum(c.dur_ns), 0)
FROM calls c JOIN events p
  ON p.type = 'process' AND p.recording_id = c.recording_id AND p.log = c.log AND p.pid = c.pid
GROUP BY ALL
"""


def query(db, files):
    """The three answers over `files`, keyed by the file each row came from."""
    # A view takes no parameters: the list is written as SQL literals.
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    db.execute(
        f"CREATE OR REPLACE VIEW events AS SELECT * FROM read_parquet([{listed}], filename = true)"
    )
    db.execute("CREATE OR REPLACE VIEW calls AS SELECT * FROM events WHERE type = 'call'")
    per_sc = collections.defaultdict(dict)
    for f, name, nr, calls, errors, unfinished, total in db.sql(PER_SYSCALL).fetchall():
        per_sc[f][name] = (nr, calls, errors, unfinished, int(total))
    per_errno = collections.defaultdict(lambda: collections.defaultdict(dict))
    for f, name, errno, n in db.sql(PER_ERRNO).fetchall():
        per_errno[f][name][errno] = n
    per_proc = collections.defaultdict(dict)
    for f, pid, name, calls, errors, total in db.sql(PER_PROCESS).fetchall():
        per_proc[f][pid] = (name, calls, errors, int(total))
    return per_sc, per_errno, per_proc


def compare(log, report, per_sc, per_errno, per_proc):
    want_sc = {
        r["name"]: (r["nr"], r["calls"], r["errors"], r["unfinished"], r["total_ns"])
        for r in report["syscalls"]
    }
    same(f"{log}: calls per syscall", per_sc, want_sc)
    want_errno = {r["name"]: r["errnos"] for r in report["syscalls"] if r["errnos"]}
    same(f"{log}: errors per errno", {k: dict(v) for k, v in per_errno.items()}, want_errno)
    want_proc = {
        r["pid"]: (r["name"], r["calls"], r["errors"], r["total_ns"]) for r in report["processes"]
    }
    same(f"{log}: calls per process (join on the process rows)", per_proc, want_proc)
    same(f"{log}: calls in all", sum(v[1] for v in per_sc.values()), report["calls"])


def fleet(db, reports):
    """Fleet-wide, across all files: errors per errno name, and calls per
    process name, against the sums of every log's stats."""
    want = collections.Counter()
    for r in reports:
        want.update(r["total"]["errnos"])
    got = dict(
        db.sql(
            "SELECT coalesce(errno, 'errno_' || CAST(-ret AS VARCHAR)), count(*) "
            "FROM calls WHERE ret BETWEEN -4095 AND -1 GROUP BY ALL"
        ).fetchall()
    )
    same("fleet: errors per errno", got, dict(want))
    want = collections.Counter()
    for r in reports:
        for p in r["processes"]:
            want[p["name"]] += p["calls"]
    got = dict(
        db.sql(
            "SELECT coalesce(p.comm, '?'), count(*) FROM calls c JOIN events p "
            "ON p.type = 'process' AND p.recording_id = c.recording_id AND p.log = c.log AND p.pid = c.pid "
            "GROUP BY ALL"
        ).fetchall()
    )
    same("fleet: calls per process name", got, dict(want))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recorder", required=True)
    ap.add_argument("logs", nargs="+", type=Path)
    args = ap.parse_args()
    db = duckdb.connect()
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, log in enumerate(args.logs):
            files.append(Path(tmp) / f"{i:03}-{log.stem}.parquet")
            export(args.recorder, [log], files[-1])
        combined = Path(tmp) / "all.parquet"
        export(args.recorder, args.logs, combined)
        reports = [stats(args.recorder, log) for log in args.logs]
        try:
            ids = db.sql(
                "SELECT filename, count(DISTINCT recording_id) FROM read_parquet(?, filename = true) GROUP BY ALL",
                params=[[str(f) for f in files]],
            ).fetchall()
            same("one recording id per log", sorted(n for _, n in ids), [1] * len(files))
            per_sc, per_errno, per_proc = query(db, files)
            for log, f, report in zip(args.logs, files, reports):
                compare(log, report, per_sc[str(f)], per_errno[str(f)], per_proc[str(f)])
            fleet(db, reports)
            # One file of all the logs holds the same rows and answers the
            # fleet-wide queries the same.
            rows = "SELECT count(*) FROM read_parquet(?)"
            separate = db.execute(rows, [[str(f) for f in files]]).fetchone()[0]
            same("rows of the combined file", db.execute(rows, [str(combined)]).fetchone()[0], separate)
            query(db, [combined])
            fleet(db, reports)
        except Mismatch as e:
            print(f"parquet-check: {e}", file=sys.stderr)
            return 1
    calls = sum(r["calls"] for r in reports)
    print(f"parquet-check: DuckDB {duckdb.__version__} agrees with stats on {len(reports)} logs, {calls} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
