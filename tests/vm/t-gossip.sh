#!/bin/sh
# nodes: 4
# Load gossip on 4 nodes, as a user would check it through /proc/mosix and mosctl:
#  1. CPU load started on node 1 rises in every node's view, and falls when it stops;
#  2. a `quiet` node is marked down everywhere within the timeout, still listens, and comes
#     back when it speaks again;
#  3. a guest killed outright (node 3) is marked down everywhere within the timeout, and is
#     up again everywhere once it has rebooted;
#  4. forged, foreign, unauthenticated, replayed and misdirected packets are dropped, counted
#     and change nothing.
# The nodes pace each other through gossip itself: each phase's "I saw it" is a status bit
# (block, lstay, stay, nomfs) that the others wait for.
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
hog() { while :; do :; done; }
TIMEOUT_S=$(( $(cat $A/gossiptimeout 2>/dev/null || echo 6000) / 1000 ))

/etc/rc.local || { echo "rc.local failed"; exit 1; }
expect_eq "the cluster key is installed" "$(counter key)" 1
expect_eq "gossip defaults: interval 1000 ms, window 20, timeout 6000 ms" \
  "$(cat $A/gossipinterval) $(cat $A/gossipwindow) $(cat $A/gossiptimeout)" "1000 20 6000"
check "every other node is up in this node's view within 10 s" wait_until 10 all_up_now

final_barrier() {
  echo 1 > $A/block
  check "final barrier: every node reached the end" wait_until 40 all_have $BLOCK
  expect_match "mosmon --once -t: every node up" "$(mosmon --once -t)" 'nodes up +4'
  out=$(mosmon --once -v --width 80)
  expect_eq "mosmon --once -v: a row per node" "$(echo "$out" | grep -cE '^ +[1-4] ')" 4
  expect_eq "mosmon --json lists 4 nodes" "$(mosmon --json | grep -o '"id":' | wc -l)" 4
  sleep 4
  finish
  exit $?
}

if [ "$N" = 3 ] && [ "$MOSIX_BOOT" = 2 ]; then
  # Node 3, rebooted after the rig killed it (phase 3).
  check "after the reboot every other node is up in this node's view" wait_until 15 all_up_now
  check "node 2 finished forging (nomfs)" wait_until 90 has_bit 2 $NOMFS
  m=$(counter dropped_misdirected)
  check "a genuine packet replayed to the wrong node is dropped as misdirected ($m)" test "$m" -ge 1
  final_barrier
fi

# Phase 1: load on node 1.
if [ "$N" = 1 ]; then
  hog & h1=$!
  hog & h2=$!
  check "every node saw my load rise (they set block) within 20 s" wait_until 20 all_have $BLOCK
  kill $h1 $h2
  wait $h1 $h2 2>/dev/null
  check "every node saw my load fall (they cleared block) within 30 s" wait_until 30 none_have $BLOCK
  echo 1 > $A/stay
else
  check "node 1's load rises above 60 in this node's view within 20 s" wait_until 20 '[ "$(node_val 1 load)" -ge 60 ]'
  l=$(node_val 1 load); a=$(node_val 1 age)
  # Two hogs on 2 CPUs are 100; node 1's own polling adds a little. Node 1's gossip thread
  # competes with its hogs (under TCG its entries reach 4 s of age): fresh means within the
  # timeout.
  check "node 1's load as heard here is 100 or a little more ($l), and fresh (age $a ms < timeout)" \
    test "$l" -ge 60 -a "$l" -le 200 -a "$a" -ge 0 -a "$a" -lt "$(cat $A/gossiptimeout)"
  out=$(mosctl getload 1)
  check "mosctl getload 1 agrees ($out)" test "$out" -ge 40
  echo 1 > $A/block
  check "node 1's load falls below 25 within 30 s" wait_until 30 '[ "$(node_val 1 load)" -lt 25 ]'
  echo 0 > $A/block
  check "node 1 ends phase 1 (stay)" wait_until 40 has_bit 1 $STAY
fi

# Phase 2: node 4 goes quiet.
if [ "$N" = 4 ]; then
  echo 1 > $A/quiet
  sleep 1
  s0=$(counter sent); r0=$(counter received)
  sleep 3
  s1=$(counter sent); r1=$(counter received)
  expect_eq "a quiet node sends nothing" "$s1" "$s0"
  # The others hold lstay until they hear me again (up to 60 s); a quiet node hears their
  # lstay only from their probes of a down node (each sends one with probability 1/5 a
  # second), so this can take a while.
  check "every node saw me go down (they set lstay) within $((TIMEOUT_S + 40)) s" wait_until $((TIMEOUT_S + 40)) all_have $LSTAY
  r2=$(counter received)
  check "a quiet node still listens (received $r0 -> $r2)" test "$r2" -gt "$r0"
  echo 0 > $A/quiet
  check "every node saw me come back (they cleared lstay)" wait_until 30 none_have $LSTAY
  echo 1 > $A/nomfs
else
  t0=$(date +%s)
  check "quiet node 4 is marked down within the timeout + 3 s" wait_until $((TIMEOUT_S + 3)) '! has_bit 4 $UP'
  expect_eq "a down node's load reads -ENETUNREACH" "$(node_val 4 load)" -101
  out=$(mosctl isup 4); rc=$?
  expect_eq "mosctl isup 4 says no (exit 1)" "$out $rc" "no 1"
  echo 1 > $A/lstay
  # Node 4 speaks once it has heard every node's lstay: wait longer than it waits for that.
  check "node 4 is up again once it speaks (within 60 s)" wait_until 60 has_bit 4 $UP
  echo 0 > $A/lstay
  check "node 4 ends phase 2 (nomfs)" wait_until 30 has_bit 4 $NOMFS
fi

# Phase 3: the rig kills node 3, then boots it again.
if [ "$N" = 3 ]; then
  # A boot the rig kills has no exit status: fail the run here if anything failed so far.
  finish || exit 1
  echo "@@MOSIX-HOST kill 3"
  sleep 1000
fi
check "killed node 3 is marked down within the timeout + 3 s" wait_until $((TIMEOUT_S + 3)) '! has_bit 3 $UP'
a=$(node_val 3 age)
check "its age when marked down ($a ms) passed the timeout" test "$a" -ge "$(cat $A/gossiptimeout)"
[ "$N" = 4 ] && echo 0 > $A/nomfs
[ "$N" = 1 ] && echo "@@MOSIX-HOST start 3"
check "node 3 is up again after its reboot (within 60 s)" wait_until 60 has_bit 3 $UP
check "its load is readable again" test "$(node_val 3 load)" -ge 0

# Phase 4: node 2 forges.
if [ "$N" = 2 ]; then
  F=/opt/mosix-tests/gossip-forge
  r0=$(counter dropped_replayed)
  check "gossip-forge: garbage to node 1" $F garbage 10.77.0.1
  check "gossip-forge: node 2's entry with load 9999 under a wrong key to node 1" $F badmac 10.77.0.1 --as 2 --dest 1 --load 9999
  ip addr add 10.77.0.200/24 dev eth0
  check "gossip-forge: a packet from 10.77.0.200 (not in the map) to node 1" $F from 10.77.0.200 10.77.0.1
  check "gossip-forge: a genuine packet of node 1 replayed to node 2 and node 3" timeout 20 $F replay 10.77.0.1 10.77.0.2 10.77.0.3
  sleep 0.5
  r1=$(counter dropped_replayed)
  check "the replayed copy is dropped as a replay here ($r0 -> $r1)" test "$r1" -gt "$r0"
  echo 1 > $A/nomfs
elif [ "$N" = 1 ]; then
  check "node 2 finished forging (nomfs)" wait_until 90 has_bit 2 $NOMFS
  for c in dropped_foreign dropped_malformed dropped_bad_mac dropped_unknown_sender; do
    v=$(counter $c)
    check "$c counted ($v)" test "$v" -ge 1
  done
  l=$(node_val 2 load)
  check "the forged load was ignored (node 2's load reads $l)" test "$l" -lt 1000
  expect_match "mosctl stats shows the counters" "$(mosctl stats)" 'dropped_bad_mac +[1-9]'
fi
final_barrier
