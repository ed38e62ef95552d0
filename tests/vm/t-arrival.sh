#!/bin/sh
# nodes: 2
# `rmmod mosix` while a process is arriving (issue 11): the unload must neither fail with
# EAGAIN (a migration thread holds a module reference before any task is watched) nor miss
# the arrival (an expel that scanned only adopted guests once). The module's test switch
# inject_arrival_delay_ms holds node 2's adoption back 4 s once the image is in, and node 2
# unloads in that window. The unload must wait for the adoption, send the process home and
# unload; the process must end at home as an unmigrated run does.
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
  check "node 2 has left" wait_until 60 "! has_bit 2 $UP"
  kill -USR1 $p
  wait $p; got=$?
  wait $ref; want=$?
  expect_eq "it ends as an unmigrated run does" "$got" "$want"
  [ "$got" = "$want" ] || cat /tmp/p.out /tmp/ref.out | indent
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
  finish
  exit
fi
check "rmmod" rmmod mosix
finish
