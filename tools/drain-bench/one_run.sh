#!/usr/bin/env bash
# One run with the recorder held to 25% of a CPU (root):
#   one_run.sh RECORDER RATE [FX]
# The recorder goes into the cgroup v1 `cpu` group rec25 (25 ms per 100 ms),
# records `--comm fxr25 --overflow drop -s 0`; a copy of fx-rate named fxr25
# (FX, default target/debug/fx-rate) runs outside it, 2 threads paced to
# RATE calls/s in all for 3 s. Prints the recorder's summary line (records,
# lost, records written uncompressed) and how often the group was throttled.
set -eu
G=/sys/fs/cgroup/cpu/rec25
mkdir -p $G
echo 100000 > $G/cpu.cfs_period_us
echo 25000 > $G/cpu.cfs_quota_us
W=$(mktemp -d /tmp/one-run-XXXXXX)
cp "${3:-target/debug/fx-rate}" $W/fxr25
n0=$(awk '/nr_throttled/{print $2}' $G/cpu.stat)
sh -c "echo \$\$ > $G/cgroup.procs; exec $1 --comm fxr25 --overflow drop -s 0 -o $W/one.rec" 2> $W/err &
sleep 2.5
$W/fxr25 "$2" 3 2 > /dev/null
sleep 0.5
kill -INT $!
wait $! || true
n1=$(awk '/nr_throttled/{print $2}' $G/cpu.stat)
echo "$1 at $2/s: $(grep 'records written' $W/err | sed 's/^recorder: //') (throttled $((n1 - n0)) times)"
rm -rf $W
