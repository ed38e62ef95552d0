#!/bin/sh
# nodes: 2 3 4
# cpus: 1
# kernels: stock debug
# Automatic load balancing. N = 2K CPU-bound jobs started on node 1 of K one-processor
# nodes spread by themselves: within 10 s every node runs N/K +- 1 of them, once settled
# none moves again, and every job ends with the result of an unmigrated run. On two
# nodes, what stays: lstay keeps local jobs home, locked jobs (nomig) stay, a node with
# block receives nothing; mosrun places and locks (runon, -h, -F, an unknown node, the
# node's default placement policy); a node running two guests sends one home when home
# is idle, unless they were locked at home while away.
. /extra/lib.sh
N=$MOSIX_NODE
K=$MOSIX_NODES
A=/proc/mosix/admin
T=/opt/mosix-tests
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "the other nodes are up within 10 s" wait_until 10 all_up_now

# spread LO HI PID...: every node runs LO..HI of the jobs
spread() {
  lo=$1; hi=$2; shift 2
  for m in $(job_counts "$@"); do [ "$m" -ge "$lo" ] && [ "$m" -le "$hi" ] || return 1; done
}
# moves PID...: the jobs' migrations so far
moves() { s=0; for p in "$@"; do s=$((s + $(cat /proc/mosix/pid/$p/nmigs 2>/dev/null || echo 0))); done; echo $s; }
# home PID...: every job runs at home
home() { for p in "$@"; do [ "$(cat /proc/mosix/pid/$p/where 2>/dev/null)" = 0 ] || return 1; done; }
# seen PID...: every job has its /proc/mosix/pid directory
seen() { for p in "$@"; do [ -d /proc/mosix/pid/$p ] || return 1; done; }
# spawn N CMD...: starts N copies of CMD in the background; their pids in $j
spawn() { n=$1; shift; j=""; while [ $n -gt 0 ]; do "$@" > /dev/null < /dev/null & j="$j $!"; n=$((n - 1)); done; }
# stays_home WHAT CMD...: three copies of CMD started here all run here 6 s later (they keep
# running, their pids in $j)
stays_home() { what=$1; shift; spawn 3 "$@"; wait_until 5 seen $j; sleep 6; check "$what" home $j; }
uptime_cs() { awk '{ sub(/\./, "", $1); print $1 + 0 }' /proc/uptime; }

if [ "$N" = 1 ]; then
  # The jobs repeat a 20M-iteration computation in rounds until told to end (cpuloop
  # "rounds"): they outlive the checks whatever the guests' speed (on 2 host cores, four
  # busy one-CPU guests run several times slower than one alone), and each ends with the
  # result of one plain run here, which is first made as the unmigrated reference.
  t0=$(uptime_cs); $T/cpuloop 20000000 1 > /tmp/job.ref; ref=$?; t1=$(uptime_cs)
  echo "reference: 20M iterations in $((t1 - t0)) cs alone, result $ref"
  # Each job's output in its own file (it prints its result's parts: the exit status alone
  # cannot say which part differs).
  jobs=""; k=0
  while [ $k -lt $((2 * K)) ]; do
    $T/cpuloop 20000000 1 rounds > /tmp/job.$k < /dev/null & jobs="$jobs $!"; k=$((k + 1))
  done
  start=$(uptime_cs)
  check "the $((2 * K)) jobs spread within 10 s (each node runs 1-3)" wait_until 10 spread 1 3 $jobs
  echo "spread after $(( ($(uptime_cs) - start) / 10 )) ds: $(job_counts $jobs)"
  check "and settle at two per node" wait_until 20 spread 2 2 $jobs
  settled=$(moves $jobs)
  sleep 15
  expect_eq "no job moves in the 15 s after settling (per node: $(job_counts $jobs))" "$(moves $jobs)" "$settled"
  expect_match "each job moved at most once" "$settled" "^[0-9]+$"
  [ "$settled" -le $((2 * K)) ] || bad "more moves than jobs: $settled"
  kill -USR1 $jobs
  rcs=""; ok=0
  for p in $jobs; do wait $p; rc=$?; rcs="$rcs $rc"; [ $rc = $ref ] && ok=$((ok + 1)); done
  echo "rounds run by each job: $(k=0; for p in $jobs; do sed -n 's/ rounds, .*//p' /tmp/job.$k; k=$((k + 1)); done | tr '\n' ' ')"
  expect_eq "every job ends with the unmigrated run's result $ref (exit statuses:$rcs)" "$ok" $((2 * K))
  [ $ok = $((2 * K)) ] ||
    { k=0; for p in $jobs; do echo "job $p: $(cat /tmp/job.$k)"; k=$((k + 1)); done | indent; }
  dmesg | grep 'balance:' | tail -n 12 | indent

  if [ "$K" = 2 ]; then
    # lstay: local jobs stay home.
    echo 1 > $A/lstay
    stays_home "lstay: three jobs stay home" $T/cpuloop 2000000000 1
    kill $j; wait 2> /dev/null
    echo 0 > $A/lstay
    # Locked jobs stay.
    stays_home "locked jobs stay home" nomig $T/cpuloop 2000000000 1
    expect_eq "nomig locks" "$(for p in $j; do cat /proc/mosix/pid/$p/lock; done | tr -d '\n')" 111
    kill $j; wait 2> /dev/null
    # cpujob: a CPU job may move from its start.
    spawn 2 cpujob $T/cpuloop 2000000000 1
    check "of two CPU jobs one moves within 10 s" wait_until 10 spread 1 1 $j
    kill $j; wait 2> /dev/null
    # mosrun placement.
    runon 2 $T/cpuloop 2000000000 1 > /dev/null < /dev/null & p=$!
    check "runon 2: the job runs on node 2" wait_until 10 "[ \"\$(cat /proc/mosix/pid/$p/where 2>/dev/null)\" = 2 ]"
    check "and is locked there" wait_until 5 "[ \"\$(cat /proc/mosix/pid/$p/lock 2>/dev/null)\" = 1 ]"
    kill $p; wait 2> /dev/null
    mosrun -h $T/cpuloop 2000000000 1 > /dev/null < /dev/null & p=$!
    wait_until 5 seen $p
    expect_eq "mosrun -h: home and locked" "$(cat /proc/mosix/pid/$p/where) $(cat /proc/mosix/pid/$p/lock)" "0 1"
    kill $p; wait 2> /dev/null
    # Placement policies: the node's default (round robin: the next node, node 2).
    echo 1 > $A/placement
    mosrun -l $T/cpuloop 2000000000 1 > /dev/null < /dev/null & p=$!
    check "admin/placement 1 (round robin): mosrun starts it on node 2" wait_until 10 "[ \"\$(cat /proc/mosix/pid/$p/where 2>/dev/null)\" = 2 ]"
    kill $p; wait 2> /dev/null
    echo 0 > $A/placement
    check "mosrun -P bestfit -m (more than any node has) runs it here" mosrun -P bestfit -m 100000 true
    mosrun -9 true 2> /tmp/err; rc=$?
    expect_eq "mosrun -9 (no such node) fails with 3" "$rc" 3
    expect_match "and says why" "$(cat /tmp/err)" "node 9"
    check "mosrun -F -9 runs it here" mosrun -F -9 true
    check_fails "mosrun -q is refused" mosrun -q true
    expect_eq "a wrapper passes the exit status" "$(iojob sh -c 'exit 7'; echo $?)" 7
    # A guest goes home when home has become the faster place for it: two jobs sent to
    # node 2 by hand, this node idle (lstay here: our balancer leaves our processes alone;
    # node 2's still moves its guests).
    echo 1 > $A/lstay
    spawn 2 $T/cpuloop 2000000000 1
    wait_until 5 seen $j
    for p in $j; do migrate $p 2; done
    expect_eq "two jobs sent to node 2" "$(job_counts $j)" "0 2"
    start=$(uptime_cs)
    check "node 2 sends one home within 20 s" wait_until 20 "[ \"\$(job_counts $j)\" = '1 1' ]"
    echo "one job home $(( ($(uptime_cs) - start) / 10 )) ds after the second arrived on node 2"
    n=$(moves $j)
    sleep 8
    expect_eq "then nothing moves (one job per node)" "$(moves $j) $(job_counts $j)" "$n 1 1"
    kill $j; wait 2> /dev/null
    # A lock set here while a job is away reaches node 2 (in the heartbeat): it stays there.
    spawn 2 $T/cpuloop 2000000000 1
    wait_until 5 seen $j
    for p in $j; do migrate $p 2 && echo 1 > /proc/mosix/pid/$p/lock; done
    sleep 12
    expect_eq "jobs locked while away stay on node 2" "$(job_counts $j)" "0 2"
    kill $j; wait 2> /dev/null
    echo 0 > $A/lstay
    # block: node 2 takes nothing.
    echo 1 > $A/nomfs
    check "node 2 blocks" wait_until 30 has_bit 2 $BLOCK
    stays_home "jobs stay home while node 2 blocks" $T/cpuloop 2000000000 1
    kill $j; wait 2> /dev/null
  fi
  # Done: stay tells the others; each answers with lstay; then this node leaves first (gossip
  # may take a few seconds to reach every node: a handshake, not a sleep).
  echo 1 > $A/stay
  check "the others have seen it (lstay)" wait_until 60 all_have $LSTAY
else
  if [ "$N" = 2 ] && [ "$K" = 2 ]; then
    check "node 1 reaches the block test" wait_until 400 has_bit 1 $NOMFS
    echo 1 > $A/block
  fi
  check "node 1 is done" wait_until 400 has_bit 1 $STAY
  echo 1 > $A/lstay
  check "node 1 leaves" wait_until 60 "! has_bit 1 $UP"
fi
check "rmmod" rmmod mosix
finish
