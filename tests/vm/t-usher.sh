#!/bin/sh
# nodes: 2
# Memory ushering: on node 1 a locked process holds part of the memory and another grows
# past what is left. Before Linux would have to kill anything, node 1 moves the growing
# process to node 2, which has room; it finishes there with its memory intact, the locked
# one stays, and no OOM kill happens anywhere. Its deputy at home gives its memory back.
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
T=/opt/mosix-tests
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "the other nodes are up within 10 s" wait_until 10 all_up_now
avail_mib() { awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo; }

if [ "$N" = 1 ]; then
  a0=$(avail_mib)
  hog=$((a0 - 260))
  echo "available: $a0 MiB; a locked process takes $hog MiB, another grows to 300 MiB"
  nomig $T/memwalk $hog 600 > /dev/null < /dev/null & h=$!
  wait_until 30 "[ \$(avail_mib) -lt $((a0 - hog + 20)) ]"
  $T/grower 300 10 100 15 > /tmp/grower.out < /dev/null & g=$!
  check "the growing process is ushered to node 2" wait_until 90 "[ \"\$(cat /proc/mosix/pid/$g/where 2>/dev/null)\" = 2 ]"
  expect_match "because memory ran short" "$(dmesg | grep 'balance:' | head -n 3)" "memory short: moving process $g to node 2"
  check "its deputy gave its memory back (over 100 MiB available again)" wait_until 10 "[ \$(avail_mib) -gt 100 ]"
  wait $g; rc=$?
  expect_eq "it grew to 300 MiB there and its memory is intact" "$rc $(tail -n 1 /tmp/grower.out)" "0 grower 300 MiB: 0 bad pages"
  check "the locked process is still here" kill -0 $h
  expect_eq "and has not moved" "$(cat /proc/mosix/pid/$h/where)" 0
  kill $h; wait $h
  expect_eq "no OOM kill here" "$(dmesg | grep -ciE 'out of memory|oom-kill')" 0
  echo 1 > $A/stay
  sleep 3
else
  check "node 1 is done" wait_until 300 has_bit 1 $STAY
  expect_eq "no OOM kill here" "$(dmesg | grep -ciE 'out of memory|oom-kill')" 0
fi
check "rmmod" rmmod mosix
finish
