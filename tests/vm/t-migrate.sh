#!/bin/sh
# nodes: 3
# Migration of a running process: a CPU and FPU loop over 8 MiB, started on node 1, is moved
# to node 2 mid-run with `migrate`; it finishes there and its exit status (a hash of its
# registers, FPU state and memory) reaches its parent at home, equal to an unmigrated run's.
# Signals sent at home reach it there and run its own handlers. A process goes home and out
# again, and from node 2 to node 3 (through home), and still ends as it would have.
# `where`, `nmigs` and `mps` show where it is; what cannot move says why. (rmmod while a
# process is away evacuates first: t-evacuate.)
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
T=/opt/mosix-tests
ITER=60000000
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "the other node is up within 10 s" wait_until 10 all_up_now

if [ "$N" = 1 ]; then
  t0=$(date +%s)
  $T/cpuloop $ITER 8 > /tmp/ref.out; want=$?
  echo "unmigrated run: status $want in $(( $(date +%s) - t0 )) s" | indent

  $T/cpuloop $ITER 8 > /tmp/run.out & p=$!
  check "the loop started" wait_until 10 "grep -q ready /tmp/run.out && [ -d /proc/mosix/pid/$p ]"
  out=$(migrate $p 2 2>&1); rc=$?
  expect_eq "migrate $p 2 succeeds${out:+ ($out)}" "$rc" 0
  expect_eq "where says node 2" "$(cat /proc/mosix/pid/$p/where)" 2
  expect_eq "nmigs says 1" "$(cat /proc/mosix/pid/$p/nmigs)" 1
  expect_match "mps shows it on node 2" "$(mps $p | tail -n 1)" "^ *$p +[^ ]+ +2 "
  echo 1 > $A/block
  wait $p; got=$?
  expect_eq "its exit status reaches the parent at home, equal to the unmigrated run's" "$got" "$want"
  expect_match "the kernel log says it moved" "$(dmesg | grep 'migrated to node')" "process $p migrated to node 2"

  # Ping-pong: out, home, out to another node, home, out, and it still computes right.
  $T/cpuloop $ITER 8 > /tmp/pp.out & p=$!
  wait_until 10 "grep -q ready /tmp/pp.out && [ -d /proc/mosix/pid/$p ]"
  check "ping-pong: to node 2" migrate $p 2
  check "home again" migrate $p home
  expect_eq "where says home (0)" "$(cat /proc/mosix/pid/$p/where)" 0
  expect_eq "nmigs counts both moves" "$(cat /proc/mosix/pid/$p/nmigs)" 2
  check "to node 3" migrate $p 3
  check "from node 3 to node 2 (through home)" migrate $p 2
  expect_eq "where says node 2" "$(cat /proc/mosix/pid/$p/where)" 2
  check "and home" migrate $p home
  check "and out once more" migrate $p 3
  wait $p; got=$?
  expect_eq "after six moves it ends as unmigrated (status $want)" "$got" "$want"

  # Vector state (AVX2 ymm registers, MXCSR), thread-local storage, and a glibc dynamic
  # binary with its libraries: each migrated mid-run ends as an unmigrated run does.
  # vecloop (about 50 s here) ends on node 2.
  $T/vecloop 300000000 > /dev/null; want=$?
  $T/vecloop 300000000 > /tmp/p.out & p=$!
  wait_until 10 "grep -q ready /tmp/p.out && [ -d /proc/mosix/pid/$p ]"
  check "vecloop migrates mid-run" migrate $p 2
  wait $p; got=$?
  expect_eq "vecloop migrated ends as unmigrated (status $want)" "$got" "$want"
  # The dynamic binary computes for about 3 s only: it goes out and comes home, and then
  # ends on SIGUSR1 (wait), so that it surely is there for both moves.
  $T/cpuloop-dyn 40000000 4 > /dev/null; want=$?
  $T/cpuloop-dyn 40000000 4 wait > /tmp/p.out & p=$!
  wait_until 10 "grep -q ready /tmp/p.out && [ -d /proc/mosix/pid/$p ]"
  check "cpuloop-dyn migrates mid-run" migrate $p 2
  expect_eq "where says node 2" "$(cat /proc/mosix/pid/$p/where)" 2
  check "and comes home" migrate $p home
  kill -USR1 $p
  wait $p; got=$?
  expect_eq "cpuloop-dyn migrated ends as unmigrated (status $want)" "$got" "$want"

  # It keeps its home pid there: getpid and gettid answer the home pid on node 2.
  $T/pidcheck 8 > /tmp/pid.out & pc=$!
  wait_until 10 "grep -q ready /tmp/pid.out && [ -d /proc/mosix/pid/$pc ]"
  check "pidcheck migrates" migrate $pc 2
  wait $pc; rc=$?
  expect_eq "getpid and gettid gave the home pid on node 2 (exit 0)" "$rc" 0

  # Signals sent at home reach the process where it runs, with its own handlers (carried:
  # actions, alternate stack, ignored signals); its alarms tick there.
  $T/sigcatch > /tmp/sig.out & g=$!
  check "sigcatch started" wait_until 10 "grep -q ready /tmp/sig.out && [ -d /proc/mosix/pid/$g ]"
  check "migrate it to node 2" migrate $g 2
  sleep 3
  kill -USR1 $g
  kill -TERM $g
  wait $g; rc=$?
  expect_eq "SIGTERM from home ran its handler on node 2, on its alternate stack, after alarms (47)" "$rc" 47

  $T/stayer threads > /tmp/st.out & t=$!
  wait_until 5 'grep -q ready /tmp/st.out'
  wait_until 3 "[ -d /proc/mosix/pid/$t ]"
  out=$(migrate $t 2 2>&1); rc=$?
  expect_match "a process with threads stays, and migrate says why" "$rc $out" '^1 migrate: process [0-9]+ cannot move: clone_vm$'
  kill $t
  sleep 100 & s=$!
  wait_until 3 "[ -d /proc/mosix/pid/$s ]"
  echo 1 > /proc/mosix/pid/$s/lock
  out=$(migrate $s 2 2>&1); rc=$?
  expect_match "a locked process stays: user_lock" "$rc $out" '^1 .*cannot move: user_lock$'
  kill $s
  out=$(migrate 1 9 2>&1); rc=$?
  expect_match "init stays" "$rc $out" '^1 .*(cannot move: system|no such node)'
  out=$(migrate $$ bogus 2>&1); rc=$?
  expect_match "a bad target is a usage error" "$rc $out" '^2 .*not a node id'
  check "migrate to this node itself is a no-op" migrate $$ 1
  echo 1 > $A/stay
  check "nodes 2 and 3 saw the processes run and end (lstay)" wait_until 60 all_have $LSTAY
elif [ "$N" = 3 ]; then
  check "node 1 is done migrating (stay)" wait_until 600 has_bit 1 $STAY
  check "no guest is left" wait_until 20 "! ps | grep -v grep | grep -q -e cpuloop -e sigcatch -e vecloop"
  echo 1 > $A/lstay
  check "node 1 saw it and leaves" wait_until 60 "! has_bit 1 $UP"
else
  check "node 1 migrated its loop (block)" wait_until 120 has_bit 1 $BLOCK
  out=$(ps | grep -v grep | grep cpuloop)
  echo "$out" | indent
  expect_match "the migrant runs here under its name" "$out" 'cpuloop'
  check "the guest ends" wait_until 120 "! ps | grep -v grep | grep -q cpuloop"
  check "node 1 is done migrating (stay)" wait_until 600 has_bit 1 $STAY
  check "no guest is left" wait_until 20 "! ps | grep -v grep | grep -q -e cpuloop -e sigcatch -e vecloop"
  echo 1 > $A/lstay
  check "node 1 saw it and leaves" wait_until 60 "! has_bit 1 $UP"
fi
check "rmmod once nothing is away" rmmod mosix
finish
