#!/bin/sh
# `make demo`, on every node of a 4-node cluster: boot as an openMosix node would (rc.local:
# insmod, setpe -w with the cluster key), keep local processes home on node 1, let node 2 run
# two CPU hogs, and show on node 1 what load gossip tells it (mosmon --once); node 3 migrates
# a running CPU job to the least loaded node and shows it come back with the right result, then
# a job that writes a file at home while it runs away (its system calls run in its deputy);
# unload cleanly.
set -e
. /extra/lib.sh
/etc/rc.local
if [ "$MOSIX_NODE" = 1 ]; then
  echo 1 > /proc/mosix/admin/lstay
fi
wait_until 15 all_up_now || echo "(not every node was heard of within 15 s)"
if [ "$MOSIX_NODE" = 2 ]; then
  hog() { while :; do :; done; }
  hog & h1=$!; hog & h2=$!
  sleep 6
  kill $h1 $h2
fi
if [ "$MOSIX_NODE" = 1 ]; then
  wait_until 10 '[ "$(node_val 2 load)" -ge 80 ]' || true
  echo "---- mosmon --once on node 1 (node 2 runs two CPU hogs) ----"
  mosmon --once -v --width 78
  echo "---- mosmon --once -t ----"
  mosmon --once -t --width 78
  sleep 2
fi
if [ "$MOSIX_NODE" = 3 ]; then
  T=/opt/mosix-tests
  echo "---- node 3: a CPU job (8 MiB, integer and FPU state), first without migration ----"
  $T/cpuloop 30000000 8 > /dev/null && want=0 || want=$?
  $T/cpuloop 30000000 8 > /dev/null & p=$!
  wait_until 10 "[ -d /proc/mosix/pid/$p ]"
  echo "---- migrate $p balance: to the least loaded node ----"
  migrate $p balance
  echo "where: node $(cat /proc/mosix/pid/$p/where)   nmigs: $(cat /proc/mosix/pid/$p/nmigs)"
  mps $p
  wait $p && got=0 || got=$?
  echo "exit status after migration: $got (without migration: $want)"
  echo "---- a job that writes a file here while it runs on node 2 ----"
  $T/fwdcheck files /tmp 40 8000000 | grep -v ready | sed 's/^/unmigrated: /'
  $T/fwdcheck files /tmp 40 8000000 > /tmp/f.out & p=$!
  wait_until 10 "grep -q ready /tmp/f.out && [ -d /proc/mosix/pid/$p ]"
  migrate $p 2 && echo "where: node $(cat /proc/mosix/pid/$p/where)"
  wait $p || true
  grep -v ready /tmp/f.out | sed 's/^/migrated:   /'
  echo "the file it wrote here: $(wc -l < /tmp/out.txt) lines"
  echo 1 > /proc/mosix/admin/stay
  sleep 3
else
  # Stay up (a node hosting the job cannot unload) until node 3 is done.
  wait_until 180 'has_bit 3 $STAY' || true
  [ "$MOSIX_NODE" = 1 ] || sleep 2
fi
echo "---- mosctl status (node $MOSIX_NODE) ----"
mosctl status
echo "---- gossip counters ----"
mosctl stats | grep -E '^(sent|received|dropped_bad_mac) '
rmmod mosix
echo "mosix.ko unloaded cleanly"
