#!/bin/busybox sh
# PID 1 of the arm64 guest (see xtask/src/vm.rs). /opt/run/.vmrc, written per
# run, sets VM_NONCE, VM_BIN, VM_OUT, VM_MODULES and VM_PRINTK, the binary's
# arguments (set --) and its environment (export).
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /root /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/opt/run:/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
ln -sf /proc/self/fd /dev/fd 2>/dev/null
hostname arm64vm
ip link set lo up 2>/dev/null
# BPF maps are charged to RLIMIT_MEMLOCK on older kernels.
ulimit -l unlimited 2>/dev/null
exec </dev/console >/dev/console 2>&1
# The host relays the binary's output byte for byte: no \n -> \r\n.
stty -onlcr 2>/dev/null
. /opt/run/.vmrc
# Keep kernel messages off the console while the binary runs.
echo "$VM_PRINTK" > /proc/sys/kernel/printk
[ "$VM_OUT" = 1 ] && mkdir -p /opt/out
cd /opt/run
echo "@@VM-BEGIN-$VM_NONCE@@"
# Output goes through a FIFO and cat: many small write()s straight to the
# emulated serial tty are about 5x slower. Orphans that keep the FIFO open get 5 s.
mkfifo /run/out
cat /run/out & cpid=$!
"$VM_BIN" "$@" </dev/null >/run/out 2>&1
rc=$?
( sleep 5; kill $cpid 2>/dev/null ) & wpid=$!
wait $cpid 2>/dev/null
kill $wpid 2>/dev/null
echo "@@VM-END-$VM_NONCE rc=$rc@@"
if [ "$VM_OUT" = 1 ]; then
  # The host attached a raw virtio-mmio disk and reads the tar back from its
  # image. Debian builds the drivers as modules: load them now, after the
  # binary, so that it ran in an unchanged kernel.
  for m in $VM_MODULES; do
    case $m in
      *.xz) unxz -c "/lib/modules/$m" > "/tmp/${m%.xz}" && insmod "/tmp/${m%.xz}" ;;
      *) insmod "/lib/modules/$m" ;;
    esac
  done
  n=0
  while [ ! -b /dev/vda ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  if [ -b /dev/vda ]; then
    (cd /opt/out && tar cf /dev/vda .)
    orc=$?
  else
    orc=200  # NO_OUT_DISK in vm.rs
  fi
  echo "@@VM-OUT-$VM_NONCE rc=$orc@@"
fi
sync
poweroff -f
