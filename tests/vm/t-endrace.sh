#!/bin/sh
# nodes: 2
# kernels: stock debug
# A migrant that ends just as it is moved keeps its exit status (issue 11: a t-balance job
# that had computed its result ended with SIGKILL's status instead).
# 1. It ends before its watcher on node 2 has taken the link: node 2's test switch
#    inject_watch_delay_ms holds every watcher back 2 s, and the process ends at once after
#    its arrival. The remote thread must send its status home itself.
# 2. It ends while it is asked home: it waits at home in a forwarded open of a FIFO (an open
#    is not stopped for a move), is asked home (`migrate PID home`), and the FIFO's reader
#    comes: it ends at once, while node 2's watcher sends it home. Twenty times: each must end
#    with its own status (42), never with SIGKILL's.
# 3. It is killed as it is asked home: `migrate PID home` and `kill -TERM PID` at once, both
#    passed on by its deputy in one round (the signal may reach node 2 with the request, and
#    the job that sends it home then runs with the fatal signal on its way). Twenty times:
#    each must end killed by SIGTERM (143), never by SIGKILL.
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
T=/opt/mosix-tests
D=/sys/module/mosix/parameters/inject_watch_delay_ms
ROUNDS=20
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "the other node is up within 10 s" wait_until 10 all_up_now

if [ "$N" = 1 ]; then
  echo 1 > $A/lstay
  mkfifo /tmp/ff
  # 1. Node 2 sets lstay once its test switch is on.
  check "node 2 has armed its test switch (lstay)" wait_until 60 has_bit 2 $LSTAY
  # A reader holds the FIFO open (read-write: no wait): the process's open returns at once.
  exec 3<> /tmp/ff
  rm -f /tmp/g
  $T/fwdcheck endopen /tmp/ff /tmp/g > /tmp/e.out < /dev/null & p=$!
  wait_until 10 "grep -q ready /tmp/e.out && [ -d /proc/mosix/pid/$p ]"
  check "a process moves to node 2 (its watcher held back 2 s there)" migrate $p 2
  now_cs; t0=$_cs
  touch /tmp/g
  wait $p; rc=$?
  now_cs
  expect_eq "it ends there before its watcher takes the link ($(( _cs - t0 )) cs), with its own status" "$rc $(( _cs - t0 < 150 ))" "42 1"
  exec 3<&-
  # 2. Node 2 turns its switch off, then clears lstay.
  echo 1 > $A/nomfs
  check "node 2 has turned its switch off" wait_until 60 "! has_bit 2 $LSTAY"
  rcs=""; r=1
  while [ $r -le $ROUNDS ]; do
    rm -f /tmp/g
    $T/fwdcheck endopen /tmp/ff /tmp/g > /tmp/e.out < /dev/null & p=$!
    wait_until 10 "grep -q ready /tmp/e.out && [ -d /proc/mosix/pid/$p ]"
    migrate $p 2 || bad "round $r: migrate $p 2 failed"
    touch /tmp/g
    # Away, its open runs here in its deputy (blocked: no reader yet).
    wait_until 10 "[ \"\$(cut -d' ' -f1 /proc/$p/syscall 2>/dev/null)\" = 257 ]" || bad "round $r: no open waits here"
    migrate $p home > /dev/null 2>&1 & m=$!
    # The request reaches node 2 (the process, waiting for its reply, notes it).
    pause 0.$(( r % 5 * 2 + 1 ))
    cat /tmp/ff > /dev/null
    wait $p; rcs="$rcs $?"
    wait $m
    r=$((r + 1))
  done
  expect_eq "$ROUNDS processes asked home as they ended: each ends with its own status" "$(echo $rcs | tr ' ' '\n' | sort | uniq -c | tr -s ' ')" " $ROUNDS 42"
  # 3.
  rcs=""; r=1
  while [ $r -le $ROUNDS ]; do
    $T/cpuloop 2000000000 1 > /tmp/c.out < /dev/null & p=$!
    wait_until 10 "grep -q ready /tmp/c.out && [ -d /proc/mosix/pid/$p ]"
    migrate $p 2 || bad "round $r: migrate $p 2 failed"
    pause 0.$(( r % 5 * 2 + 1 ))
    migrate $p home > /dev/null 2>&1 & m=$!
    kill -TERM $p
    # (Its shell's "Terminated" goes nowhere.)
    wait $p 2> /dev/null; rcs="$rcs $?"
    wait $m
    r=$((r + 1))
  done
  expect_eq "$ROUNDS processes killed as they were asked home: each ends by SIGTERM" "$(echo $rcs | tr ' ' '\n' | sort | uniq -c | tr -s ' ')" " $ROUNDS 143"
  dmesg | grep -E "mosix: process [0-9]+: link to node|lost|silent" | tail -n 5 | indent
  echo 1 > $A/stay
  check "node 2 is done (stay)" wait_until 60 has_bit 2 $STAY
else
  check_fails "the test switch refuses more than 10 s" sh -c "echo 10001 > $D"
  check "the test switch is set (2 s)" sh -c "echo 2000 > $D"
  echo 1 > $A/lstay
  check "a process arrives and its watcher is held back" wait_until 120 "dmesg | grep -q 'inject_watch_delay_ms: process'"
  check "node 1 is done with it (nomfs)" wait_until 120 has_bit 1 $NOMFS
  echo 0 > $D
  echo 0 > $A/lstay
  check "node 1 is done (stay)" wait_until 600 has_bit 1 $STAY
  dmesg | grep -E "cannot go home now|ended as it was to go home|home of process" | tail -n 5 | indent
  awk '/^TcpExt:/ { if (!h) { split($0, k); h = 1 } else { split($0, v); for (i in k) if (k[i] ~ /TCPAbortOn/) print k[i], v[i] } }' /proc/net/netstat | indent
  echo 1 > $A/stay
  check "node 1 leaves" wait_until 60 "! has_bit 1 $UP"
fi
check "rmmod" rmmod mosix
finish
