#!/bin/sh
# Load-balancing benchmark, run on K one-processor guests by bench/balance-vm. Node 1 starts
# N = 2K CPU-bound jobs of about $JOB_S s of one processor each (calibrated) and prints:
#   @@UNLOADED NS      (K = 2) wall time of the same jobs on node 1 with the module not loaded
#   @@COUNTS MS C1..CK jobs per node, MS after the start (every 0.5 s for 15 s, then every 5 s)
#   @@SETTLED MS       first time every node ran N/K +- 1 of them
#   @@EXACT MS         first time every node ran exactly N/K
#   @@AFTER S MOVES    migrations in the S seconds after settling (exactly)
#   @@LOADED NS        wall time until every job ended, module loaded
. /extra/lib.sh
N=$MOSIX_NODE
K=$MOSIX_NODES
T=/opt/mosix-tests
JOB_S=${JOB_S:-40}
now() { $T/tcpblast now; }
if [ "$N" = 1 ]; then
  t0=$(now); $T/cpuloop 20000000 1 > /dev/null; t1=$(now)
  ITER=$(( 20000000 * JOB_S * 1000 / ((t1 - t0) / 1000000 + 1) ))
  echo "@@CAL $ITER"
  if [ "$K" = 2 ]; then
    t0=$(now)
    i=0; while [ $i -lt $((2 * K)) ]; do $T/cpuloop $ITER 1 > /dev/null < /dev/null & i=$((i + 1)); done
    wait
    echo "@@UNLOADED $(( $(now) - t0 ))"
  fi
fi
/etc/rc.local > /dev/null 2>&1 || { echo "rc.local failed"; exit 1; }
wait_until 15 all_up_now
# within LO HI C1..CK: every node runs LO..HI jobs, and all N are seen
within() {
  lo=$1; hi=$2; shift 2; sum=0
  for x in "$@"; do [ "$x" -ge "$lo" ] && [ "$x" -le "$hi" ] || return 1; sum=$((sum + x)); done
  [ $sum = $((2 * K)) ]
}
moves() { s=0; for p in $jobs; do s=$((s + $(cat /proc/mosix/pid/$p/nmigs 2>/dev/null || echo 0))); done; echo $s; }
if [ "$N" = 1 ]; then
  jobs=""
  t0=$(now)
  i=0; while [ $i -lt $((2 * K)) ]; do $T/cpuloop $ITER 1 > /dev/null < /dev/null & jobs="$jobs $!"; i=$((i + 1)); done
  # The watcher must not wait behind 2K CPU loops for its turn (its figures would lag); so
  # busy, it must not look like a job to move either: locked, once the jobs have their own
  # settings (a process takes its parent's at its first statistics scan).
  for p in $jobs; do wait_until 2 "[ -d /proc/mosix/pid/$p ]"; done
  echo 1 > /proc/mosix/pid/$$/lock
  renice -n -20 -p $$ > /dev/null
  settled=; exact=
  while :; do
    ms=$(( ($(now) - t0) / 1000000 ))
    cts=$(job_counts $jobs)
    echo "@@COUNTS $ms $cts"
    [ -z "$settled" ] && within 1 3 $cts && settled=$ms && echo "@@SETTLED $ms"
    [ -z "$exact" ] && within 2 2 $cts && exact=$ms && echo "@@EXACT $ms" && break
    [ $ms -gt 60000 ] && break
    if [ $ms -lt 15000 ]; then pause 0.5; else pause 5; fi
  done
  m0=$(moves)
  sleep 60
  echo "@@AFTER 60 $(( $(moves) - m0 ))"
  dmesg | grep 'balance: moving' | sed 's/^/@@MOVE /'
  echo "@@COUNTS $(( ($(now) - t0) / 1000000 )) $(job_counts $jobs)"
  wait
  echo "@@LOADED $(( $(now) - t0 ))"
  echo 1 > /proc/mosix/admin/stay
  sleep 3
else
  wait_until 1800 'has_bit 1 $STAY'
fi
