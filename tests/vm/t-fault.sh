#!/bin/sh
# nodes: 2
# kernels: stock debug
# Failures while a process is away, and nothing hangs or leaks:
#  1. the process is killed at home (SIGKILL to its deputy): its parent sees it killed at
#     once, and the remote process on node 2 removes itself within seconds;
#  2. node 2 dies (the rig kills the guest) while running a migrant: the deputy at home ends
#     the process, with a logged reason, within the link timeout.
# Phases are paced through gossip status bits (nomfs, lstay, stay, block).
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
T=/opt/mosix-tests
/etc/rc.local || { echo "rc.local failed"; exit 1; }
[ "$N" = 2 ] && [ "$MOSIX_BOOT" = 2 ] && { check "rebooted node 2 is configured" test "$(cat $A/mospe)" = 2; finish; exit $?; }
check "the other node is up within 10 s" wait_until 10 all_up_now
hosting() { ps | grep -v grep | grep -q 'cpuloop'; }

if [ "$N" = 1 ]; then
  expect_eq "the link timeout defaults to 10 s" "$(cat $A/linktimeout)" 10000
  $T/cpuloop 4000000000 1 > /dev/null & p=$!
  wait_until 10 "[ -d /proc/mosix/pid/$p ]"
  check "migrate a long loop to node 2" migrate $p 2
  echo 1 > $A/nomfs
  check "node 2 sees it running (lstay)" wait_until 30 has_bit 2 $LSTAY
  t0=$(date +%s)
  kill -9 $p
  wait $p; rc=$?
  expect_eq "killed at home: the parent sees SIGKILL (137)" "$rc" 137
  check "and at once ($(( $(date +%s) - t0 )) s)" test $(( $(date +%s) - t0 )) -le 3
  check "node 2 saw its remote end (stay)" wait_until 40 has_bit 2 $STAY

  $T/cpuloop 4000000000 1 > /dev/null & q=$!
  wait_until 10 "[ -d /proc/mosix/pid/$q ]"
  check "migrate another long loop to node 2" migrate $q 2
  echo 1 > $A/block
  t0=$(date +%s)
  wait $q; rc=$?
  t=$(( $(date +%s) - t0 ))
  expect_eq "node 2 died: the deputy ended the process (SIGKILL, 137)" "$rc" 137
  check "within the link timeout and the rig's kill delay ($t s <= 25 s)" test "$t" -le 25
  expect_match "the kernel log says why" "$(dmesg | grep 'ending the process' | tail -n 1)" "process $q: (node 2 silent for [0-9]+ ms|link to node 2 lost)"
  echo "@@MOSIX-HOST start 2"
  check "rmmod (nothing is away any more)" rmmod mosix
  finish
else
  check "node 1 migrated its first loop (nomfs)" wait_until 60 has_bit 1 $NOMFS
  check "the migrant runs here" wait_until 10 hosting
  echo 1 > $A/lstay
  # Node 1 kills it once it hears our lstay (gossip: 1-4 s, more under load).
  check "killed at home, it is gone from here within 30 s of our lstay" wait_until 30 '! hosting'
  expect_match "the kernel log says why" "$(dmesg | grep 'home of process' | tail -n 1)" 'is gone'
  echo 1 > $A/stay
  check "node 1 migrated its second loop (block)" wait_until 60 has_bit 1 $BLOCK
  check "the second migrant runs here" wait_until 10 hosting
  # The rig kills this guest now; its status is lost with it: fail here if anything failed.
  finish || exit 1
  echo "@@MOSIX-HOST kill 2"
  sleep 1000
fi
