#!/bin/sh
# Migration benchmark, run on 2 guests by bench/migration-vm. Node 1 prints, for each size:
#   @@TCP MIB NS      raw TCP transfer of the same bytes to node 2 (tcpblast, best of 3)
#   @@MIG MIB NS      `migrate` of a memwalk process of that size to node 2, wall time
#   @@PAGES MIB N     pages the image carried
# and @@NULL NS for 20 migrations of a tiny sleeping process. Node 2 serves tcpblast.
# Then forwarded system calls: @@PING SIZE NS (TCP round trip of SIZE bytes to node 2),
# @@FWD CALL NS and @@LOCAL CALL NS (getppid and a 4 KiB write of a process on node 2 whose
# home is node 1, and of the same process unmigrated: medians), and the cost of a system
# call of a process that never migrates: @@OVH unloaded|loaded|armed NS (module not loaded;
# loaded; loaded while a process is away, so that the system-call probe is registered).
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
T=/opt/mosix-tests
[ "$N" = 1 ] && ovh unloaded
/etc/rc.local > /dev/null 2>&1 || { echo "rc.local failed"; exit 1; }
wait_until 10 all_up_now
now() { $T/tcpblast now; }
ovh() { for i in 1 2 3; do echo "@@OVH $1 $($T/callbench loop 200000 | cut -d' ' -f2)"; done; }
if [ "$N" = 2 ]; then
  $T/tcpblast server 9000 &
  $T/tcpblast pingserver 9001 &
  echo 1 > $A/lstay
  wait_until 1800 has_bit 1 $BLOCK
  exit 0
fi
wait_until 30 has_bit 2 $LSTAY
for mib in ${MIG_SIZES:-1 16 64 256}; do
  best=
  for i in 1 2 3; do
    t=$($T/tcpblast client 10.77.0.2 9000 $((mib * 1048576)) | cut -d' ' -f3)
    [ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
  done
  echo "@@TCP $mib $best"
  $T/memwalk $mib 100000 > /tmp/w.out 2>&1 & p=$!
  wait_until 120 "grep -q ready /tmp/w.out && [ -d /proc/mosix/pid/$p ]"
  t0=$(now)
  migrate $p 2 || echo "@@FAIL migrate $mib"
  t1=$(now)
  echo "@@MIG $mib $((t1 - t0))"
  kill -9 $p; wait $p 2>/dev/null
  sleep 2
done
# The cost of running the migrate tool itself (a no-op: the process is already here).
for i in 1 2 3 4 5; do
  t0=$(now); migrate $$ 1; t1=$(now)
  echo "@@NOOP $((t1 - t0))"
done
for i in $(seq 1 ${NULL_RUNS:-20}); do
  $T/stayer plain > /tmp/s.out & p=$!
  wait_until 10 "grep -q ready /tmp/s.out && [ -d /proc/mosix/pid/$p ]"
  t0=$(now)
  migrate $p 2 || echo "@@FAIL migrate null"
  t1=$(now)
  echo "@@NULL $((t1 - t0))"
  kill -9 $p; wait $p 2>/dev/null
done
for size in 8 4096; do
  echo "@@PING $($T/tcpblast ping 10.77.0.2 9001 $size 500 | cut -d' ' -f2-)"
done
for where in LOCAL FWD; do
  $T/callbench fwd 300 > /tmp/cb.out & p=$!
  wait_until 10 "grep -q ready /tmp/cb.out && [ -d /proc/mosix/pid/$p ]"
  [ $where = FWD ] && { migrate $p 2 || echo "@@FAIL migrate callbench"; }
  kill -USR1 $p; wait $p
  sed -n -e "s/^getppid /@@$where getppid /p" -e "s/^write4k /@@$where write4k /p" /tmp/cb.out
done
ovh loaded
$T/stayer plain > /tmp/s.out & p=$!
wait_until 10 "grep -q ready /tmp/s.out && [ -d /proc/mosix/pid/$p ]"
migrate $p 2 && ovh armed
kill -9 $p; wait $p 2>/dev/null
echo 1 > $A/block
sleep 3
rmmod mosix && ovh unloaded
