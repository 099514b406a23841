#!/usr/bin/python3
"""Loss-free getppid rate with the recorder held to a share of one CPU.

Usage (root): loss_free_rate.py QUOTA_US RATE,RATE,...
  env BASE=/path/to/old/recorder MAIN=/path/to/new/recorder FX=/path/to/fx-rate

The recorder runs in a cgroup v1 `cpu` group with cpu.cfs_quota_us=QUOTA_US
per 100 ms (25000: a quarter of a CPU), the fixture outside it: a copy of
fx-rate under a name no test uses (other tests run processes named fx-rate,
which `--comm fx-rate` would pick up), 2 threads paced to each RATE for 3 s.
The two binaries alternate, in an order that changes every step, twice over.
It prints records lost per run (`recorder info --json`, completeness.lost)
and the rate the fixture reached. Both run in drop mode: a binary with
`--overflow` is given `--overflow drop`, one from before it (0f60a10) drops
anyway.
"""
import json, os, signal, subprocess, sys, time
G = "/sys/fs/cgroup/cpu/rec25"
os.makedirs(G, exist_ok=True)
open(f"{G}/cpu.cfs_period_us", "w").write("100000")
open(f"{G}/cpu.cfs_quota_us", "w").write(sys.argv[1] if len(sys.argv) > 1 else "25000")
import shutil, tempfile
def overflow_flag(binary, mode):
    """`--overflow MODE` for a recorder that has the flag; none for one from
    before it (0f60a10, the binary issue 12 was filed against), whose only
    behaviour is drop."""
    h = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    return f"--overflow {mode}" if "--overflow" in h else ""
BIN = {"base": os.environ["BASE"], "main": os.environ["MAIN"]}
READER = BIN["main"]
WORK = tempfile.mkdtemp(prefix="loss-free-")
FX = os.path.join(WORK, "fxr25")
shutil.copy(os.environ["FX"], FX)
RATES = [int(x) for x in (sys.argv[2] if len(sys.argv) > 2 else "20000,40000,60000,80000,120000,160000,240000").split(",")]
REPS = 2
res = {}
for rep in range(REPS):
    for rate in RATES:
        order = ["base", "main"] if (rep + RATES.index(rate)) % 2 == 0 else ["main", "base"]
        for b in order:
            log = f"{WORK}/{b}.rec"
            if os.path.exists(log): os.remove(log)
            ov = overflow_flag(BIN[b], "drop")
            rec = subprocess.Popen(["sh", "-c", f"echo $$ > {G}/cgroup.procs; exec {BIN[b]} --comm fxr25 {ov} -s 0 -q -o {log}"])
            time.sleep(2.5)
            fx = subprocess.run([FX, str(rate), "3", "2"], capture_output=True, text=True)
            time.sleep(0.5)
            rec.send_signal(signal.SIGINT)
            rec.wait()
            info = json.loads(subprocess.run([READER, "info", "--json", log], capture_output=True, text=True).stdout)
            c = info["completeness"]
            ach = [float(x.split("=")[1]) for x in fx.stdout.split() if x.startswith("rate=") or x.startswith("achieved=")]
            lost = c["lost"]
            ach_rate = float(fx.stdout.split("rate=")[1].split()[0])
            res.setdefault((b, rate), []).append(f"{lost} lost @ {ach_rate/1000:.0f}k/s")
            print(f"rep {rep} {b:4} rate {rate:>7}: records {info['records']:>8} lost {lost:>8} fx: {fx.stdout.strip()[:80]}", flush=True)
print("\n| rate/s | base lost (runs) | main lost (runs) |")
for rate in RATES:
    print(f"| {rate} | {res[('base',rate)]} | {res[('main',rate)]} |")
