#!/bin/sh
# nodes: 3
# The inter-node link (authenticated kernel TCP, port 5428) that migration will use:
#  1. node 1 opens links to node 2 and to itself; frames of 64 B and 256 KiB come back intact
#     (the kernel compares them), and both sides count the link;
#  2. node 3, with another cluster key, is refused, and node 2 counts a bad MAC;
#  3. an unknown node id, a node not configured, and a non-root caller get clear errors;
#  4. rmmod with the link thread listening is clean.
# Phases are paced through gossip status bits (block, then stay).
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "every other node is up within 10 s" wait_until 10 all_up_now

if [ "$N" = 1 ]; then
  out=$(mosctl linktest 2 -c 20 -s 64); rc=$?
  echo "$out" | indent
  expect_eq "linktest to node 2 succeeds" "$rc" 0
  expect_match "and reports the round trips" "$out" '^link to node 2: handshake [0-9.]+ ms; 20 round trips of 64 bytes: min [0-9.]+ / avg [0-9.]+ / max [0-9.]+ ms$'
  check "256 KiB frames come back intact" mosctl linktest 2 -c 5 -s 262144
  check "a link to this node itself works" mosctl linktest 1 -c 3
  out=$(mosctl --json linktest 2 -c 3 -s 0)
  expect_match "--json gives the figures" "$out" '"min_ns":[0-9]+'
  expect_match "this node counts the links it opened" "$(counter link_connected)" '^[4-9]$'
  expect_match "and the frames" "$(counter link_frames_out)" '^[0-9]{2,}$'
  out=$(mosctl linktest 9 2>&1); rc=$?
  expect_eq "an unknown node id fails (exit 1)" "$rc" 1
  expect_match "and says so" "$out" 'no such node in the table'
  out=$(run_as_user "mosctl linktest 2" 2>&1); rc=$?
  expect_match "a user may not test links" "$rc $out" '^[13] .*(needs root|Permission denied|permission)'
  echo 1 > $A/block
  check "node 3 finished its wrong-key test (stay)" wait_until 60 has_bit 3 $STAY
fi

if [ "$N" = 2 ]; then
  check "node 1 finished (block)" wait_until 60 has_bit 1 $BLOCK
  expect_match "this node accepted node 1's links" "$(counter link_accepted)" '^[3-9]$'
  expect_match "and echoed their frames" "$(counter link_frames_in)" '^[0-9]{2,}$'
  b0=$(counter link_bad_mac)
  echo 1 > $A/lstay
  check "node 3 tried with another key (stay)" wait_until 60 has_bit 3 $STAY
  b1=$(counter link_bad_mac)
  check "the wrong-key handshake was counted as a bad MAC ($b0 -> $b1)" test "$b1" -gt "$b0"
fi

if [ "$N" = 3 ]; then
  check "node 1 finished (block)" wait_until 60 has_bit 1 $BLOCK
  check "node 2 is ready (lstay)" wait_until 30 has_bit 2 $LSTAY
  mosctl genkey /tmp/other.key > /dev/null
  mosctl setkey /tmp/other.key
  out=$(mosctl linktest 2 -c 1 2>&1); rc=$?
  echo "$out" | indent
  expect_match "with another cluster key the link is refused (exit 1)" "$rc $out" '^1 .*refused.*cluster key'
  mosctl setkey /etc/mosix/cluster.key
  check "with the right key again it works" mosctl linktest 2 -c 1
  mosctl clearkey
  out=$(mosctl linktest 2 -c 1 2>&1); rc=$?
  expect_match "without a key: a clear error" "$rc $out" '^1 .*no cluster key'
  mosctl setkey /etc/mosix/cluster.key
  setpe -off
  out=$(mosctl linktest 2 -c 1 2>&1); rc=$?
  expect_match "not configured: a clear error" "$rc $out" '^[13] .*(not configured|setpe)'
  setpe -w -f /etc/mosix.map
  check "the others are heard again" wait_until 30 all_up_now
  echo 1 > $A/stay
  # Gossip carries the bit; the others leave once they have seen it (a handshake: a fixed
  # sleep may end before every node has heard it).
  check "the others have seen it and left" wait_until 60 none_have $UP
fi

check "rmmod with the link thread listening" rmmod mosix
check_fails "no mosix-link thread left" sh -c 'ps | grep -v grep | grep -q mosix-link'
finish
