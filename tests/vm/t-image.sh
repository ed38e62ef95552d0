#!/bin/sh
# nodes: 2
# The first half of a migration: a process's image (registers, FPU state, memory areas,
# pages) is captured in the process's own context and streamed over the authenticated link
# to node 2, which checks it completely and answers. The process stays home and keeps
# running undisturbed: its own memory check passes and its exit status is what it would be.
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
T=/opt/mosix-tests
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "the other node is up within 10 s" wait_until 10 all_up_now

if [ "$N" = 1 ]; then
  $T/memwalk 16 8 > /tmp/walk.out 2>&1 & w=$!
  check "memwalk filled 16 MiB" wait_until 10 'grep -q ready /tmp/walk.out'
  out=$(mosctl imagetest $w 2); rc=$?
  echo "$out" | indent
  expect_eq "the image of a running 16 MiB process goes to node 2 and is accepted" "$rc" 0
  pages=$(echo "$out" | sed -n 's/.*: \([0-9]*\) pages .*/\1/p')
  check "it carried at least the 16 MiB it filled ($pages pages)" test "${pages:-0}" -ge 4096
  out=$(mosctl --json imagetest $w 2)
  expect_match "--json gives the figures" "$out" '"capture_ns":[0-9]+'
  wait $w; rc=$?
  expect_eq "the process ran on undisturbed and its memory check passed (exit 0)" "$rc" 0
  expect_match "and printed its result" "$(cat /tmp/walk.out)" '^memwalk 16 MiB: checksum [0-9a-f]+ passes [0-9]+$'

  sleep 30 & s=$!
  check "a sleeping process's image is accepted too" mosctl imagetest $s 2
  check "and it is still asleep (interrupted sleeps restart)" sh -c "[ -d /proc/$s ] && ! grep -q '^State:.*Z' /proc/$s/status"
  kill $s

  $T/stayer threads > /tmp/st.out & t=$!
  wait_until 5 'grep -q ready /tmp/st.out'
  out=$(mosctl imagetest $t 2 2>&1); rc=$?
  expect_match "a process that cannot move is refused with the reason's pointer" "$rc $out" '^1 .*cantmove'
  expect_match "and the kernel log names the reason" "$(dmesg | tail -n 3)" "process $t cannot move: clone_vm"
  kill $t

  sleep 100 & s=$!
  kill -STOP $s
  out=$(mosctl imagetest $s 2 2>&1); rc=$?
  expect_match "a stopped process: try again" "$rc $out" '^1 .*stopped'
  kill -9 $s
  out=$(run_as_user "mosctl imagetest 1 2" 2>&1); rc=$?
  expect_match "a user may not send another user's process" "$rc $out" '^[13] .*(denied|root)'
  echo 1 > $A/block
  check "node 2 checked its side (lstay)" wait_until 30 has_bit 2 $LSTAY
else
  check "node 1 finished (block)" wait_until 90 has_bit 1 $BLOCK
  expect_match "this node accepted the image links" "$(counter link_accepted)" '^[2-9]$'
  check_fails "and refused none" sh -c 'dmesg | grep -q "refused the image"'
  echo 1 > $A/lstay
  sleep 4
fi
check "rmmod" rmmod mosix
finish
