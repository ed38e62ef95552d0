#!/bin/sh
# nodes: 3
# kernels: stock debug
# System calls of a migrated process run at home, in its deputy: a program migrated mid-run
# writes a file at home line by line, reads it back, asks its parent's pid, the host name and
# its working directory, and prints what an unmigrated run prints (also after a ping-pong:
# home, node 3, node 2). Resource limits travel with it. A pipe joins a migrated process and a local shell loop. A migrated
# process forks and execs: it goes home first and the child runs there. A read blocked at home
# is restarted after its alarm ticks (SA_RESTART) and interrupted by a SIGTERM sent
# at home (EINTR, its handler runs); `mosctl bring` brings such a reader home at once (its read
# is made again at home), and `migrate home` a process making one call after another. A deputy killed at home takes its remote copy with it.
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
T=/opt/mosix-tests
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "the other nodes are up within 10 s" wait_until 10 all_up_now

# start OUT CMD...: starts CMD in the background (input from $IN, default /dev/null: an
# asynchronous command's input must be redirected explicitly), output in OUT, and waits until
# it is ready and known to /proc/mosix; its pid in P.
start() {
  OUT=$1; shift
  "$@" > "$OUT" < "${IN:-/dev/null}" & P=$!
  wait_until 10 "grep -q ready $OUT && [ -d /proc/mosix/pid/$P ]"
}
# The output without its "ready PID" line.
body() { grep -v '^ready ' "$1"; }

if [ "$N" = 1 ]; then
  mkdir -p /tmp/home && cd /tmp/home
  # 300 lines: it still runs when `migrate` comes (60 lines could end first under TCG: its
  # /proc/mosix/pid directory appears up to a second after it starts; CI once saw ESRCH).
  $T/fwdcheck files /tmp/home 300 8000000 > /tmp/ref.out; want=$?
  body /tmp/ref.out | indent

  start /tmp/f1.out $T/fwdcheck files /tmp/home 300 8000000
  check "the file writer migrates to node 2" migrate $P 2
  wait $P; got=$?
  expect_eq "it ends as unmigrated (status $want)" "$got" "$want"
  expect_eq "it printed what the unmigrated run printed (file at home, ppid, host, cwd)" "$(body /tmp/f1.out)" "$(body /tmp/ref.out)"
  expect_eq "the file at home has its 300 lines" "$(wc -l < /tmp/home/out.txt)" 300

  $T/fwdcheck files /tmp/home 300 8000000 > /tmp/ref2.out
  start /tmp/f2.out $T/fwdcheck files /tmp/home 300 8000000
  check "ping-pong: to node 2" migrate $P 2
  check "home (echo 0 > /proc/mosix/pid/PID/goto)" sh -c "echo 0 > /proc/mosix/pid/$P/goto"
  expect_eq "goto reads where it is: home" "$(cat /proc/mosix/pid/$P/goto)" 0
  check_fails "a bad goto write is refused (EINVAL)" sh -c "echo bogus > /proc/mosix/pid/$P/goto"
  check "to node 3 (goto)" sh -c "echo 3 > /proc/mosix/pid/$P/goto"
  expect_eq "where says node 3" "$(cat /proc/mosix/pid/$P/where)" 3
  check "to node 2 (through home)" migrate $P 2
  wait $P; got=$?
  expect_eq "after the ping-pong it ends as unmigrated" "$got $(body /tmp/f2.out)" "$want $(body /tmp/ref2.out)"

  # A 64 MiB memory walker, migrated mid-run, brought home and sent out again: the same
  # checksum and pass count as unmigrated (its memory checked word by word).
  # It checks its memory only once /tmp/mgate exists, made after the last move (its walk
  # takes about 3 s here, as long as the three moves).
  rm -f /tmp/mgate
  t0=$(date +%s)
  $T/memwalk 64 p1500 > /tmp/mref.out; want=$?
  echo "unmigrated 64 MiB walk: $(( $(date +%s) - t0 )) s" | indent
  start /tmp/m.out $T/memwalk 64 p1500 /tmp/mgate
  check "the 64 MiB walker migrates to node 2" migrate $P 2
  check "comes home" migrate $P home
  check "and goes to node 3" migrate $P 3
  touch /tmp/mgate
  wait $P; got=$?
  expect_eq "it prints and exits as unmigrated" "$got $(body /tmp/m.out)" "$want $(body /tmp/mref.out)"

  # A pipe between a local shell loop and a migrated process, and on to a file.
  gen() { i=0; while [ $i -lt 50 ]; do echo "item $i"; i=$((i + 1)); sleep 0.1; done; }
  gen | $T/fwdcheck pipe 2000000 > /tmp/pref.out
  gen | $T/fwdcheck pipe 2000000 > /tmp/prun.out &
  wait_until 10 'pidof fwdcheck > /dev/null && grep -q ready /tmp/prun.out'
  p=$(pidof fwdcheck)
  wait_until 3 "[ -d /proc/mosix/pid/$p ]"
  check "the pipe reader migrates to node 3" migrate $p 3
  expect_eq "where says node 3" "$(cat /proc/mosix/pid/$p/where)" 3
  wait
  expect_eq "the piped run printed what the unmigrated one printed (50 lines)" "$(body /tmp/prun.out)" "$(body /tmp/pref.out)"
  expect_match "and its last line counts them" "$(tail -n 1 /tmp/prun.out)" '^lines 50 sum '

  # fork and exec: the process goes home first, and the child runs there. It forks only once
  # /tmp/fgate exists, made once it is on node 2 (CI once saw a fork that came before the
  # move: the process then rightly ended on node 2, and never came home).
  rm -f /tmp/fgate
  $T/fwdcheck forkexec 100000000 > /tmp/fref.out; want=$?
  start /tmp/fx.out $T/fwdcheck forkexec 100000000 /tmp/fgate
  check "the forking process migrates to node 2" migrate $P 2
  expect_eq "it waits on node 2 (where 2) before it forks" "$(cat /proc/mosix/pid/$P/where)" 2
  touch /tmp/fgate
  check "it comes home to fork (where 0, two moves)" wait_until 60 "[ \"\$(cat /proc/mosix/pid/$P/where 2>/dev/null) \$(cat /proc/mosix/pid/$P/nmigs 2>/dev/null)\" = '0 2' ] || ! [ -d /proc/$P ]"
  wait $P; got=$?
  expect_eq "fork+exec from a migrated process: same output and status as unmigrated" "$got $(body /tmp/fx.out)" "$want $(body /tmp/fref.out)"
  expect_match "the kernel log says it came home" "$(dmesg | grep "process $P is home")" "is home from node 2"

  # Resource limits travel with the process: its 64 MiB address-space limit holds on node 3
  # (a 128 MiB map is refused there; without the limit a guest would make it).
  # It maps only once /tmp/lgate exists, made once it is on node 3.
  rm -f /tmp/lgate
  $T/fwdcheck limits 100000000 > /tmp/lref.out; want=$?
  start /tmp/l.out $T/fwdcheck limits 100000000 /tmp/lgate
  check "a process with a 64 MiB address-space limit migrates to node 3" migrate $P 3
  expect_eq "it waits on node 3 (where 3) before it maps" "$(cat /proc/mosix/pid/$P/where)" 3
  touch /tmp/lgate
  wait $P; got=$?
  expect_eq "on node 3 its limit holds, as unmigrated (a 128 MiB map is refused)" "$got $(body /tmp/l.out)" "$want $(body /tmp/lref.out)"
  expect_eq "(and unmigrated it was refused too)" "$want" 0
  expect_match "while without a limit a guest makes such a map" "$(ulimit -v unlimited; $T/memwalk 128 1 2>&1; echo rc=$?)" 'rc=0'

  # A read blocked at home: alarms on node 2 restart it, SIGTERM from home interrupts it.
  mkfifo /tmp/ff
  sleep 3600 > /tmp/ff & w=$!
  IN=/tmp/ff start /tmp/b.out $T/fwdcheck blockread
  check "the blocked reader migrates to node 2" migrate $P 2
  check "its alarm ticks (and the read goes on)" wait_until 10 "grep -q tick /tmp/b.out"
  sleep 1
  kill -TERM $P
  wait $P; rc=$?
  expect_eq "SIGTERM from home interrupted the read at home (EINTR, handler ran: 3)" "$rc" 3
  expect_eq "and its alarm had ticked meanwhile, restarting the read" "$(body /tmp/b.out)" "tick
ticks some
read: EINTR"

  # Brought home while its read blocks at home: the read is stopped there and made again at
  # home (no EINTR the program could see), and `bring` does not wait for it to end.
  IN=/tmp/ff start /tmp/h.out $T/fwdcheck blockread
  check "a third blocked reader migrates to node 2" migrate $P 2
  check "its alarm ticks" wait_until 10 "grep -q tick /tmp/h.out"
  t0=$(date +%s)
  check "mosctl bring returns" mosctl bring
  expect_eq "within 20 s (not when the read ends)" "$(( $(date +%s) - t0 < 20 ))" 1
  expect_eq "it is home" "$(cat /proc/mosix/pid/$P/where)" 0
  expect_match "the log counts it" "$(dmesg | grep 'bring:' | tail -n 1)" 'bring: 1 process\(es\) brought home'
  sleep 1
  check "and still reads (its read was not cut short)" kill -0 $P
  kill -TERM $P
  wait $P; rc=$?
  expect_eq "SIGTERM then interrupts the read, now made at home (3)" "$rc" 3
  expect_eq "it printed what the first reader printed" "$(body /tmp/h.out)" "tick
ticks some
read: EINTR"

  # A process that makes one forwarded call after another (getppid in a loop) is never
  # idle between them for long: asked home, it makes its next call at home.
  $T/callbench loop 10000000 > /dev/null & P=$!
  check "a getppid loop is known to /proc/mosix" wait_until 10 "[ -d /proc/mosix/pid/$P ]"
  check "it migrates to node 3" migrate $P 3
  sleep 2
  t0=$(date +%s)
  check "migrate home returns" migrate $P home
  expect_eq "within 20 s" "$(( $(date +%s) - t0 < 20 ))" 1
  expect_eq "it is home" "$(cat /proc/mosix/pid/$P/where)" 0
  kill $P; wait $P

  # A deputy killed at home while its call blocks: the process ends, on node 2 too.
  IN=/tmp/ff start /tmp/k.out $T/fwdcheck blockread
  check "another blocked reader migrates to node 2" migrate $P 2
  kill -KILL $P
  wait $P; rc=$?
  expect_eq "killed at home: its parent sees SIGKILL (137)" "$rc" 137
  kill $w
  check "no deputy watcher is left here" wait_until 10 "! ps | grep -v grep | grep -q mosix-dwatch"
  echo 1 > $A/stay
  check "nodes 2 and 3 are done (lstay)" wait_until 60 all_have $LSTAY
else
  check "node 1 is done migrating (stay)" wait_until 600 has_bit 1 $STAY
  check "no guest is left" wait_until 20 "! ps | grep -v grep | grep -q fwdcheck"
  check "no deputy watcher or remote thread is left" wait_until 20 "! ps | grep -v grep | grep -q -e mosix-rwatch -e mosix-remote"
  echo 1 > $A/lstay
  check "node 1 saw it and leaves" wait_until 60 "! has_bit 1 $UP"
fi
check "rmmod once nothing is away" rmmod mosix
finish
