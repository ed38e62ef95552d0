#!/bin/sh
# nodes: 3
# kernels: stock debug
# Leaving the cluster evacuates, as in openMosix, and returns when done: `setpe -off` on
# node 1 brings its processes home from nodes 2 and 3 and sends node 2's process, a guest
# on node 1, home; `rmmod mosix` on node 2 brings its process home from node 3 first and
# then unloads. Every process ends as an unmigrated run does.
. /extra/lib.sh
N=$MOSIX_NODE
T=/opt/mosix-tests
ITER=200000000
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "the other nodes are up within 10 s" wait_until 10 all_up_now
echo 1 > /proc/mosix/admin/lstay
running() { ps | grep -v grep | grep -c 'cpuloop'; }
is_down() { ! has_bit "$1" $UP; }
seen() { [ -d /proc/mosix/pid/$1 ]; }

if [ "$N" = 1 ]; then
  # stay: the guest from node 2 (three jobs on two processors here) is not sent home by the
  # balancer before setpe -off does it.
  echo 1 > /proc/mosix/admin/stay
  # Both jobs end only on SIGUSR1 (wait), sent once they are home: each is surely there
  # for the checks (they compute 8-10 s here, not much longer than the checks take).
  $T/cpuloop $ITER 1 wait > /tmp/a.out < /dev/null & a=$!
  $T/cpuloop $ITER 1 wait > /tmp/b.out < /dev/null & b=$!
  wait_until 5 "seen $a && seen $b"
  check "one job to node 2" migrate $a 2
  check "one to node 3" migrate $b 3
  check "node 2's job arrives here" wait_until 60 has_bit 2 $NOMFS
  expect_eq "three jobs run here (two of ours, a guest)" "$(running)" 3
  check "setpe -off returns" setpe -off
  expect_match "it brought both home" "$(dmesg | grep 'bring:' | tail -n 1)" 'bring: 2 process\(es\) brought home'
  expect_match "and sent the guest home" "$(dmesg | grep 'expel:' | tail -n 1)" 'expel: 1 guest\(s\) sent home'
  expect_eq "only our two jobs run here" "$(running)" 2
  kill -USR1 $a $b
  wait $a; ra=$?
  wait $b; rb=$?
  $T/cpuloop $ITER 1 > /tmp/ref.out; want=$?
  expect_eq "both end as an unmigrated run does" "$ra $rb" "$want $want"
  [ "$ra $rb" = "$want $want" ] || cat /tmp/a.out /tmp/b.out /tmp/ref.out | indent
elif [ "$N" = 2 ]; then
  # c ends only on SIGUSR1 (wait), sent once it is home; node 1 stays (no balancer moves
  # our job back) before it comes.
  $T/cpuloop $ITER 1 wait > /dev/null < /dev/null & c=$!
  wait_until 5 "seen $c"
  check "node 1 keeps its guests (stay)" wait_until 30 has_bit 1 $STAY
  check "a job to node 1" migrate $c 1
  echo 1 > /proc/mosix/admin/nomfs
  check "node 1 leaves the cluster" wait_until 120 is_down 1
  expect_eq "and our job is home" "$(cat /proc/mosix/pid/$c/where)" 0
  kill -USR1 $c
  $T/cpuloop $ITER 1 > /dev/null < /dev/null & e=$!
  wait_until 5 "seen $e"
  check "another job to node 3" migrate $e 3
  check "rmmod mosix returns and unloads" rmmod mosix
  expect_match "after bringing it home" "$(dmesg | grep 'bring:' | tail -n 1)" 'bring: 1 process\(es\) brought home'
  check "the module is gone" sh -c '! grep -q "^mosix " /proc/modules'
  wait $c; rc=$?
  wait $e; re=$?
  $T/cpuloop $ITER 1 > /dev/null; want=$?
  expect_eq "both jobs end as an unmigrated run does" "$rc $re" "$want $want"
  finish
  exit
else
  # Node 1's job stays here only briefly before node 1 leaves: the log says what came.
  check "node 2's job arrives" wait_until 120 "dmesg | grep -q 'from node 2 runs here'"
  check "node 2 leaves" wait_until 180 is_down 2
  expect_eq "and took its job home" "$(running)" 0
fi
check "rmmod" rmmod mosix
finish
