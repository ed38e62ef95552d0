#!/bin/sh
# nodes: 3
# `mosctl bring` brings every process of this node that is away home, and returns when they
# are; `mosctl expel` sends every guest on this node home, and returns when they are gone.
# The processes go on and end as unmigrated runs do.
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
T=/opt/mosix-tests
ITER=60000000
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "the other nodes are up within 10 s" wait_until 10 all_up_now
guests() { ps | grep -v grep | grep -c 'cpuloop'; }

if [ "$N" = 1 ]; then
  # The jobs go where they are sent (no automatic balancing of local processes).
  echo 1 > $A/lstay
  $T/cpuloop $ITER 4 > /tmp/ref.out; want=$?
  # "wait": each ends only on SIGUSR1, so that it is surely there to be looked at (a job
  # that ended before a check once took its /proc/mosix/pid directory with it).
  $T/cpuloop $ITER 4 wait > /tmp/a.out & a=$!
  $T/cpuloop $ITER 4 wait > /tmp/b.out & b=$!
  wait_until 10 "[ -d /proc/mosix/pid/$a ] && [ -d /proc/mosix/pid/$b ]"
  check "one job to node 2" migrate $a 2
  check "one to node 3" migrate $b 3
  check "mosctl bring returns" mosctl bring
  expect_eq "and both are home" "$(cat /proc/mosix/pid/$a/where) $(cat /proc/mosix/pid/$b/where)" "0 0"
  expect_match "the log counts them" "$(dmesg | grep 'bring:' | tail -n 1)" 'bring: 2 process\(es\) brought home'
  check "both to node 2" sh -c "migrate $a 2 && migrate $b 2"
  echo 1 > $A/block
  check "node 2 expelled its guests (stay)" wait_until 120 has_bit 2 $STAY
  expect_eq "both are home again" "$(cat /proc/mosix/pid/$a/where) $(cat /proc/mosix/pid/$b/where)" "0 0"
  expect_eq "each moved four times" "$(cat /proc/mosix/pid/$a/nmigs) $(cat /proc/mosix/pid/$b/nmigs)" "4 4"
  kill -USR1 $a $b
  wait $a; ra=$?
  wait $b; rb=$?
  expect_eq "both end as unmigrated runs do" "$ra $rb" "$want $want"
  [ "$ra $rb" = "$want $want" ] || cat /tmp/a.out /tmp/b.out /tmp/ref.out | indent
  echo 1 > $A/nomfs
  check "the others are done (lstay)" wait_until 60 all_have $LSTAY
else
  if [ "$N" = 2 ]; then
    check "node 1 sent both jobs here (block)" wait_until 120 has_bit 1 $BLOCK
    check "two guests run here" wait_until 10 '[ "$(guests)" = 2 ]'
    check "mosctl expel returns" mosctl expel
    expect_eq "no guest is left here" "$(guests)" 0
    expect_match "the log counts them" "$(dmesg | grep 'expel:' | tail -n 1)" 'expel: 2 guest\(s\) sent home'
    expect_eq "expel sets block" "$(cat $A/block)" 1
    echo 1 > $A/stay
  fi
  check "node 1 is done (nomfs)" wait_until 180 has_bit 1 $NOMFS
  echo 1 > $A/lstay
  check "node 1 saw it and leaves" wait_until 60 "! has_bit 1 $UP"
fi
check "rmmod" rmmod mosix
finish
