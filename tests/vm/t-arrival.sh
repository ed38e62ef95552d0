#!/bin/sh
# nodes: 2
# kernels: stock debug
# `rmmod mosix` while a process is arriving (issue 11): the unload must neither fail with
# EAGAIN (a migration thread holds a module reference before any task is watched) nor miss
# the arrival (an expel that scanned only adopted guests once). The module's test switch
# inject_arrival_delay_ms holds node 2's adoption back 4 s once the image is in, and node 2
# unloads in that window. The unload must wait for the adoption, send the process home and
# unload; the process must end at home as an unmigrated run does.
# Part 2: `rmmod mosix` right after the node's last guest has gone home, while the threads
# that served it are ending (issue 11: 1 of 20 in the long `make torture` run failed with
# EAGAIN: the probe that holds a delete_module back went off before the last thread had
# dropped its module reference). inject_thread_end_delay_ms holds each ending migration
# thread of node 2 back 3 s with its reference; node 2 unloads in that window: the unload
# must wait for them and succeed.
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
T=/opt/mosix-tests
ITER=200000000
P=/sys/module/mosix/parameters/inject_arrival_delay_ms
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "the other node is up within 10 s" wait_until 10 all_up_now

if [ "$N" = 1 ]; then
  echo 1 > $A/lstay
  # Node 2 sets lstay once its test switch is on: only then may the process go.
  check "node 2 has armed its test switch (lstay)" wait_until 60 has_bit 2 $LSTAY
  nomig $T/cpuloop $ITER 1 > /tmp/ref.out & ref=$!
  # "wait": it ends only on SIGUSR1, so it is surely there for the checks below.
  $T/cpuloop $ITER 1 wait > /tmp/p.out < /dev/null & p=$!
  wait_until 10 "grep -q ready /tmp/p.out"
  check "it moves to node 2 (held back there 4 s)" migrate $p 2
  # node 2 unloads meanwhile: it sends the process home.
  check "it is home again within 60 s" wait_until 60 "[ \"\$(cat /proc/mosix/pid/$p/where)\" = 0 ]"
  expect_eq "it moved twice (out and home)" "$(cat /proc/mosix/pid/$p/nmigs)" 2
  kill -USR1 $p
  wait $p; got=$?
  wait $ref; want=$?
  expect_eq "it ends as an unmigrated run does" "$got" "$want"
  [ "$got" = "$want" ] || cat /tmp/p.out /tmp/ref.out | indent
  # Part 2.
  # (Node 2 unloads and loads again meanwhile; its nomfs, off at load, says when.)
  check "node 2 is back with its second switch armed (nomfs)" wait_until 120 "has_bit 2 \$UP && has_bit 2 \$NOMFS"
  $T/cpuloop $ITER 1 wait > /tmp/q.out < /dev/null & q=$!
  wait_until 10 "grep -q ready /tmp/q.out"
  check "a second process moves to node 2" migrate $q 2
  check "it is there" wait_until 30 "[ \"\$(cat /proc/mosix/pid/$q/where)\" = 2 ]"
  check "it comes home (node 2 then unloads as its threads end)" migrate $q home
  check "it is home within 60 s" wait_until 60 "[ \"\$(cat /proc/mosix/pid/$q/where)\" = 0 ]"
  check "node 2 has left again" wait_until 60 "! has_bit 2 $UP"
  kill -USR1 $q
  wait $q; got=$?
  expect_eq "it ends as an unmigrated run does" "$got" "$want"
  [ "$got" = "$want" ] || cat /tmp/q.out /tmp/ref.out | indent
else
  check_fails "the test switch refuses more than 10 s" sh -c "echo 10001 > $P"
  check "the test switch is set (4 s)" sh -c "echo 4000 > $P"
  echo 1 > $A/lstay
  check "a process arrives and is held back" wait_until 120 "dmesg | grep -q 'inject_arrival_delay_ms: process'"
  check "rmmod while it arrives: it waits for it, sends it home and unloads" rmmod mosix
  log=$(dmesg)
  line() { printf '%s\n' "$log" | grep -n "$1" | head -n 1 | cut -d: -f1; }
  u=$(line 'unload requested'); r=$(line 'runs here as'); e=$(line 'expel: ')
  expect_eq "the unload began before the adoption, which it waited for" \
    "$([ -n "$u" ] && [ -n "$r" ] && [ "$u" -lt "$r" ] && echo yes)" yes
  expect_match "it sent the arrived process home" "$(printf '%s\n' "$log" | grep 'expel: ')" \
    'expel: 1 guest\(s\) sent home; block set'
  expect_eq "in that order" "$([ -n "$e" ] && [ -n "$r" ] && [ "$r" -lt "$e" ] && echo yes)" yes
  [ -n "$u" ] && [ -n "$r" ] && [ -n "$e" ] || printf '%s\n' "$log" | tail -n 20 | indent
  expect_eq "no cpuloop is left here" "$(ps | grep -v grep | grep -c cpuloop)" 0
  # Part 2.
  # The kernel log from here on only.
  n0=$(dmesg | wc -l)
  since() { dmesg | tail -n +$((n0 + 1)); }
  /etc/rc.local || { echo "rc.local failed (part 2)"; exit 1; }
  Q=/sys/module/mosix/parameters/inject_thread_end_delay_ms
  check "the thread-end switch is set (3 s)" sh -c "echo 3000 > $Q"
  echo 1 > $A/lstay
  echo 1 > $A/nomfs
  check "a guest arrives" wait_until 120 "since | grep -q 'runs here as'"
  check "it leaves, and its threads are held back as they end" \
    wait_until 120 "since | grep -q 'inject_thread_end_delay_ms: thread'"
  uptime_s; t0=$_up
  check "rmmod as they end: it waits for them and unloads" rmmod mosix
  uptime_s
  log=$(since)
  d=$(line 'inject_thread_end_delay_ms: thread'); u=$(line 'unload requested'); g=$(line 'mosix: unloading')
  expect_eq "the unload was held back (not refused) and unloaded after the threads' hold" \
    "$([ -n "$d" ] && [ -n "$u" ] && [ -n "$g" ] && [ "$d" -lt "$u" ] && [ "$u" -lt "$g" ] && echo yes)" yes
  [ -n "$d" ] && [ -n "$u" ] && [ -n "$g" ] || printf '%s\n' "$log" | tail -n 20 | indent
  expect_eq "it took no more than the hold and the unload (under 15 s)" "$([ $((_up - t0)) -lt 15 ] && echo yes)" yes
  finish
  exit
fi
check "rmmod" rmmod mosix
finish
