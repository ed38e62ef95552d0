#!/bin/sh
# `make demo`, on every node of a 4-node cluster of one-processor nodes: boot as an openMosix
# node would (rc.local: insmod, setpe -w with the cluster key). On node 1, eight ordinary
# CPU-bound jobs start; the balancer spreads them over the cluster by itself (mosmon and mps
# show it), and they end with the result an unmigrated run gives. Then a job that writes a
# file on node 1 while it runs on node 2 (its system calls run in its deputy at home).
# Unload cleanly. Every step is checked (lib.sh's check/expect_eq, which never end the
# script): each node ends with "node N: P passed, F failed" and fails if a step did.
. /extra/lib.sh
check "rc.local: mosix.ko loaded, node configured" /etc/rc.local
wait_until 15 all_up_now || echo "(not every node was heard of within 15 s)"
if [ "$MOSIX_NODE" = 1 ]; then
  T=/opt/mosix-tests
  ITER=60000000
  echo "---- node 1: one CPU job alone, without migration ----"
  $T/cpuloop $ITER 4 > /dev/null; want=$?
  echo "its result (exit status): $want"
  echo "---- node 1 starts 8 such jobs; nobody migrates them by hand ----"
  jobs=""
  for i in 1 2 3 4 5 6 7 8; do
    $T/cpuloop $ITER 4 > /dev/null < /dev/null &
    jobs="$jobs $!"
  done
  away=0
  for t in 3 10; do
    sleep $([ $t = 3 ] && echo 3 || echo 7)
    echo "---- after $t s: mosmon --once (load per node) and mps ----"
    mosmon --once -v --width 78
    mps $jobs
  done
  for p in $jobs; do
    [ "$(cat /proc/mosix/pid/$p/where 2> /dev/null)" != 0 ] && [ -d /proc/mosix/pid/$p ] && away=$((away + 1))
  done
  got=""
  for p in $jobs; do wait $p; got="$got $?"; done
  echo "---- results of the 8 jobs:$got (unmigrated: $want) ----"
  dmesg | grep 'balance: moving' | sed 's/^\[[ 0-9.]*\] mosix: //'
  expect_match "the balancer moved jobs away by itself (away after 10 s: $away of 8)" "$away" '^[1-8]$'
  expect_eq "all 8 jobs end with the unmigrated run's result" "$got" "$(for p in $jobs; do printf ' %s' "$want"; done)"
  echo "---- a job that writes a file here while it runs on node 2 ----"
  $T/fwdcheck files /tmp 40 8000000 | grep -v ready > /tmp/f.native
  sed 's/^/unmigrated: /' /tmp/f.native
  $T/fwdcheck files /tmp 40 8000000 > /tmp/f.out & p=$!
  check "the job is ready" wait_until 10 "grep -q ready /tmp/f.out && [ -d /proc/mosix/pid/$p ]"
  check "migrate it to node 2" migrate $p 2
  echo "where: node $(cat /proc/mosix/pid/$p/where 2> /dev/null)"
  wait $p; rc=$?
  grep -v ready /tmp/f.out | sed 's/^/migrated:   /'
  expect_eq "it ends as the unmigrated run does" "$rc $(grep -v ready /tmp/f.out)" "0 $(cat /tmp/f.native)"
  expect_eq "the file it wrote here has its 40 lines" "$(wc -l < /tmp/out.txt)" 40
  echo 1 > /proc/mosix/admin/stay
  sleep 3
else
  # Stay up (a node hosting jobs cannot unload) until node 1 is done.
  wait_until 300 'has_bit 1 $STAY' || echo "(node 1 did not say it is done within 300 s)"
  sleep 2
fi
echo "---- mosctl status (node $MOSIX_NODE) ----"
mosctl status
check "mosix.ko unloads cleanly" rmmod mosix
finish
