#!/usr/bin/python3
"""The recorder's CPU time per record written, two binaries alternating.

Usage (root): cpu_per_record.py QUOTA_US [REPS] [MODE]
  env BASE=/path/to/old/recorder MAIN=/path/to/new/recorder FX=/path/to/fx-rate

The recorder runs in a cgroup v1 `cpu` group with cpu.cfs_quota_us=QUOTA_US
per 100 ms (0: no limit), the fixture outside it: a uniquely named copy of
fx-rate, 2 threads as fast as they can for 3 s, recorded with
`--comm ... -s 0 --overflow MODE` (default drop; a binary from before
`--overflow`, such as 0f60a10, only drops and gets no flag). The recorder's CPU time
is its rusage (all threads, start-up included) from wait4; records written
come from `recorder info --json`. A held-back recorder is the case that
matters: that is where a slow board drops (or pauses) and where the writer's
adaptive storing (record/adapt.rs) engages.
"""
import json, os, signal, statistics, subprocess, sys, tempfile, time, shutil
quota = sys.argv[1]
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 4
mode = sys.argv[3] if len(sys.argv) > 3 else "drop"
G = "/sys/fs/cgroup/cpu/recq"
os.makedirs(G, exist_ok=True)
open(f"{G}/cpu.cfs_period_us", "w").write("100000")
open(f"{G}/cpu.cfs_quota_us", "w").write(quota if quota != "0" else "-1")
BIN = {"base": os.environ["BASE"], "main": os.environ["MAIN"]}
WORK = tempfile.mkdtemp(prefix="cpu-rec-")
FX = os.path.join(WORK, "fxcpr")
shutil.copy(os.environ["FX"], FX)
def overflow_flag(binary, mode):
    """`--overflow MODE` for a recorder that has the flag; none for one from
    before it (0f60a10, the binary issue 12 was filed against), whose only
    behaviour is drop."""
    h = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    return f"--overflow {mode}" if "--overflow" in h else ""
res = {"base": [], "main": []}
for rep in range(reps):
    for b in (["base", "main"] if rep % 2 == 0 else ["main", "base"]):
        log = f"{WORK}/{b}.rec"
        if os.path.exists(log):
            os.remove(log)
        rec = subprocess.Popen(["sh", "-c", f"echo $$ > {G}/cgroup.procs; exec {BIN[b]} --comm fxcpr {overflow_flag(BIN[b], mode)} -s 0 -q -o {log}"])
        time.sleep(2.5)
        fx = subprocess.run([FX, "100000000", "3", "2"], capture_output=True, text=True)
        time.sleep(0.5)
        rec.send_signal(signal.SIGINT)
        _, status, ru = os.wait4(rec.pid, 0)
        rec.returncode = status
        cpu = ru.ru_utime + ru.ru_stime
        info = json.loads(subprocess.run([BIN["main"], "info", "--json", log], capture_output=True, text=True).stdout)
        n = info["records"]
        lost = info["completeness"]["lost"]
        size = os.path.getsize(log)
        res[b].append(cpu * 1e9 / n)
        print(f"rep {rep} {b}: {n} records, {lost} lost, {size / n:.1f} B/record, cpu {cpu:.2f} s, {cpu * 1e9 / n:.0f} ns/record", flush=True)
print(f"\nquota {quota} us per 100 ms, --overflow {mode}: recorder CPU ns per record written, median (min-max) of {reps}")
for b in ("base", "main"):
    v = res[b]
    print(f"  {b}: {statistics.median(v):.0f} ({min(v):.0f}-{max(v):.0f})")
