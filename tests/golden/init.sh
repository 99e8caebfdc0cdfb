#!/bin/sh
# rig's /init: report dom0's memory as it sees it, then power off.
# Every line rig reads starts with "RIG:" so that no kernel message can be mistaken for it.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "RIG: stage init"
echo "RIG: uname $(uname -r)"
# one line: "meminfo MemTotal: 848224 MemFree: 816388 ..." (kB)
line=""
while read -r key value unit; do
  line="$line $key $value"
done < /proc/meminfo
echo "RIG: meminfo$line"
# rig's ACPI table, when its firmware placed one (rig.domain.acpi_table), read as ACPI's users
# read it
t=/sys/firmware/acpi/tables/RIGT
if [ -r "$t" ]; then
  echo "RIG: acpi-table RIGT $(sha256sum < "$t" | cut -d' ' -f1)"
fi
b=/sys/devices/system/xen_memory/xen_memory0
# the balloon moves toward its target once it runs (a kernel whose target is above what it holds
# populates up to it): wait until its count is its target, at most rig.settle= seconds, so that
# the figures below and Xen's count after them are the settled ones
settle=30
for word in $(cat /proc/cmdline); do
  case "$word" in rig.settle=*) settle="${word#rig.settle=}" ;; esac
done
waited=0
while [ -r "$b/target_kb" ] && [ "$(cat "$b/target_kb")" != "$(cat "$b/info/current_kb")" ] \
    && [ "$waited" -lt "$settle" ]; do
  sleep 1
  waited=$((waited + 1))
done
echo "RIG: settle $waited"
for f in target_kb info/current_kb info/low_kb info/high_kb; do
  if [ -r "$b/$f" ]; then
    echo "RIG: balloon $f $(cat "$b/$f")"
  else
    echo "RIG: balloon $f missing"
  fi
done
echo "RIG: stage done"
# rig now asks Xen for its own count of dom0's pages (debug key 'q' on the serial console) and
# stops the machine once the answer is in its log; without rig (a hand run), power off after
# rig.hold= seconds from the kernel command line
hold=20
for word in $(cat /proc/cmdline); do
  case "$word" in rig.hold=*) hold="${word#rig.hold=}" ;; esac
done
sleep "$hold"
poweroff -f
# poweroff should not return; if it does, say so and stop here rather than let the kernel panic
echo "RIG: poweroff-failed"
while true; do sleep 3600; done
