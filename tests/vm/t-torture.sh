#!/bin/sh
# nodes: 3
# kernels: stock debug
# Migration torture (in the spirit of LinuxPMI's migtorture and CRIU's ZDTM): JOBS `torture`
# processes (tests/progs/torture.c: each round checks and hashes its general, SSE/AVX and
# x87 registers, 2 MiB of memory and its TLS, writes a line to a file at home and reads an
# older one back, while a 20 ms timer's handler runs on an alternate stack) are moved about
# by every path there is until they end:
#   node 1: `migrate` to node 2, to node 3, home, `balance`, `goto`, `mosctl bring`, and
#           its balancer (lstay is switched off and on);
#   node 2: `mosctl expel` every few seconds (and its balancer: a guest goes home when home
#           is faster for it);
#   node 3: `rmmod mosix` (evacuation) while it hosts a guest, then loads it again;
# with real-time signals sent at home just before many of the moves (in flight while the
# process moves). Every job must end exactly as the unmigrated run: the same file, the same
# exit status, every real-time signal received once, no inconsistency seen by the process.
# The moves go on until every job has done its ROUNDS and they have made MOVES moves in all
# (or MAX_S seconds have passed). /extra/torture.conf may set JOBS, DRIVERS (move loops on
# node 1, each over its share of the jobs), ROUNDS, MOVES, MAX_S and RMMODS (`make torture`).
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
T=/opt/mosix-tests
JOBS=3
DRIVERS=1
ROUNDS=8000
MOVES=150
MAX_S=330
RMMODS=2
[ -f /extra/torture.conf ] && . /extra/torture.conf
RT=34        # SIGRTMIN of the static (glibc) torture program: counted
FINISH=35    # SIGRTMIN+1: no more will come
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "the other nodes are up within 10 s" wait_until 10 all_up_now

# rnd N: a random number 0..N-1 in $_r (no fork).
_seed=$(( $(date +%s) % 65536 + N * 7919 ))
rnd() { _seed=$(( (_seed * 1103515245 + 12345) % 2147483648 )); _r=$(( (_seed / 65536) % $1 )); }

if [ "$N" = 1 ]; then
  echo 1 > $A/lstay
  # The unmigrated run, alongside (locked: it never moves).
  nomig $T/torture "$ROUNDS" /tmp/ref.out > /dev/null & ref=$!
  j=1; pids=""
  while [ $j -le "$JOBS" ]; do
    $T/torture "$ROUNDS" /tmp/j$j.out wait > /tmp/j$j.log 2>&1 &
    eval "pid$j=$!"
    pids="$pids $!"
    : > /tmp/sent.$j
    j=$((j + 1))
  done
  # Its handlers are in place once it says "ready" (a real-time signal before that ends it).
  for j in $(seq "$JOBS"); do
    check "job $j is ready" wait_until 30 "grep -q ready /tmp/j$j.log"
  done
  # /proc/mosix/pid/<pid>/ follows the process table within a second of a start (`goto`
  # below writes there; `migrate` needs no directory).
  for j in $(seq "$JOBS"); do
    eval "p=\$pid$j"
    check "job $j has its /proc/mosix/pid directory within 3 s" wait_until 3 "[ -e /proc/mosix/pid/$p/goto ]"
  done
  last=$(printf 'round %06d ' $((ROUNDS - 1)))
  # goto PID NODE: the move through /proc/mosix/pid/PID/goto.
  goto() { echo "$2" > "/proc/mosix/pid/$1/goto"; }
  # all_rounds_done: every job has written its last round. Looked at every 5 s at most, a
  # job's last line only (tail seeks), and a job no more once it is done: grepping the
  # growing files on every step (2.4 MB at the end of the long run) slowed the long run's
  # drivers, and so its moves, to a quarter of their early pace within 25 minutes.
  _rd_at=0; _rd_done=" "; _rd_all=0
  all_rounds_done() {
    [ "$_rd_all" = 1 ] && return 0
    uptime_s; [ "$_up" -lt "$_rd_at" ] && return 1
    _rd_at=$((_up + 5))
    _j=1
    while [ "$_j" -le "$JOBS" ]; do
      case "$_rd_done" in
        *" $_j "*) ;;
        *) tail -n 1 /tmp/j$_j.out | grep -q "^$last" || return 1; _rd_done="$_rd_done$_j " ;;
      esac
      _j=$((_j + 1))
    done
    _rd_all=1
  }
  # moves_so_far: the jobs' moves (nmigs) added up, in $_m (no fork).
  moves_so_far() {
    _m=0
    for _j in $(seq "$JOBS"); do
      eval "_p=\$pid$_j"; _n=0
      read -r _n 2> /dev/null < /proc/mosix/pid/$_p/nmigs
      _m=$((_m + ${_n:-0}))
    done
  }
  # done_moving: every job has done its rounds and the jobs have made MOVES moves (they
  # wait for the finish signal once their rounds are done: the moves go on), or MAX_S
  # seconds have passed.
  done_moving() {
    uptime_s; [ "$_up" -ge "$stop_at" ] && return 0
    all_rounds_done || return 1
    moves_so_far; [ "$_m" -ge "$MOVES" ]
  }
  # drive D: moves the jobs j with j % DRIVERS = D until every job has done its rounds;
  # counts in /tmp/{tries,refused,odd}.D, refusals in /tmp/refusals.D, the real-time
  # signals sent to job j as bytes of /tmp/sent.j.
  drive() {
    _d=$1; _seed=$((_seed + 7 * _d)); tries=0; refused=0; odd=0
    : > /tmp/refusals.$_d
    until done_moving; do
      rnd "$JOBS"; j=$((_r + 1))
      [ $((j % DRIVERS)) = "$_d" ] || continue
      eval "p=\$pid$j"
      # A real-time signal sent at home just before most moves: in flight while it moves.
      rnd 3
      if [ "$_r" != 0 ]; then kill -$RT "$p" && printf x >> /tmp/sent.$j; fi
      rnd 20
      case $_r in
        0|1|2|3) how="migrate $p 2" ;;
        4|5|6|7) how="migrate $p 3" ;;
        8|9|10) how="migrate $p home" ;;
        11) how="migrate $p balance" ;;
        12) how="goto $p 2" ;;
        13) how="goto $p 0" ;;
        14) how="mosctl bring" ;;
        15) echo 0 > $A/lstay; how= ;;
        16) echo 1 > $A/lstay; how= ;;
        *) how= ; pause 0.3 ;;
      esac
      [ -n "$how" ] || continue
      tries=$((tries + 1))
      uptime_s; _t0=$_up
      _ok=1; $how >> /tmp/refusals.$_d 2>&1 || _ok=0
      # A move (or bring) is done within seconds; a long wait is a stall (a request lost
      # on the way: `bring` once waited its full 120 s).
      uptime_s
      if [ $((_up - _t0)) -gt 60 ]; then
        odd=$((odd + 1))
        { echo "$how took $((_up - _t0)) s"; dmesg | tail -n 20; } >> /tmp/odd
      fi
      if [ $_ok = 0 ]; then
        refused=$((refused + 1))
        # Another mover (bring, the balancer, expel, rmmod) had it ("temporarily
        # unavailable": EAGAIN), or the target takes no processes now (expel's block,
        # node 3 unloaded: "Connection refused"; a handshake with a node too busy to answer
        # within 2 s: "Connection timed out"). Anything else is a failure.
        if ! tail -n 1 /tmp/refusals.$_d | grep -qE 'temporarily unavailable|Connection refused|Connection timed out'; then
          odd=$((odd + 1))
          { echo "$how failed: $(tail -n 1 /tmp/refusals.$_d)"; dmesg | tail -n 20; ls /proc/mosix/pid; ps; } >> /tmp/odd
        fi
      fi
    done
    echo "$tries $refused $odd" > /tmp/counts.$_d
  }
  # This shell locks itself now that the jobs are started: the drivers and every tool they
  # start inherit the lock, so the balancer moves the jobs, not the harness (it had moved
  # `migrate` processes and such away 107 times in 26 minutes, and each had to
  # come home, which slowed the long run to a third of its early pace).
  echo 1 > /proc/mosix/pid/$$/lock
  t1=$(date +%s)
  uptime_s; stop_at=$((_up + MAX_S))
  : > /tmp/odd
  d=0; drivers=""
  while [ $d -lt "$DRIVERS" ]; do drive $d & drivers="$drivers $!"; d=$((d + 1)); done
  wait $drivers
  tries=0; refused=0; odd=0
  for d in $(seq 0 $((DRIVERS - 1))); do
    read -r t r o < /tmp/counts.$d
    tries=$((tries + t)); refused=$((refused + r)); odd=$((odd + o))
    cat /tmp/refusals.$d >> /tmp/refusals
  done
  echo 1 > $A/lstay
  elapsed=$(( $(date +%s) - t1 ))
  moves=0
  for j in $(seq "$JOBS"); do
    eval "p=\$pid$j"
    read -r m < /proc/mosix/pid/$p/nmigs
    moves=$((moves + m))
  done
  wait $ref; want=$?
  echo "torture: $JOBS jobs, $moves moves in $elapsed s ($tries requests, $refused refused: another mover had the process, or the target took none)" | indent
  sed 's/[0-9][0-9]*/N/g' /tmp/refusals | sort | uniq -c | indent
  expect_eq "no move request failed for another reason than a concurrent move, none stalled" "$odd" 0
  [ "$odd" = 0 ] || { indent < /tmp/odd; indent < /tmp/refusals; }
  echo "jobs: $pids; unmigrated run: $ref" | indent
  # Every job ends where it is, after its last signal.
  for j in $(seq "$JOBS"); do
    eval "p=\$pid$j"
    kill -$FINISH "$p"
  done
  wrong=0
  for j in $(seq "$JOBS"); do
    eval "p=\$pid$j"; sent=$(( $(wc -c < /tmp/sent.$j) ))
    wait "$p"; rc=$?
    expect_eq "job $j ends with the unmigrated run's status" "$rc" "$want"
    expect_eq "job $j wrote what the unmigrated run wrote" \
      "$(grep -v '^done' /tmp/j$j.out | md5sum | cut -d' ' -f1)" "$(grep -v '^done' /tmp/ref.out | md5sum | cut -d' ' -f1)"
    expect_eq "job $j: same hash, every signal once, no inconsistency" \
      "$(sed -n 's/^done \([0-9a-f]*\) rt=\([0-9]*\) alarms=\([a-z]*\) errors=\([0-9]*\)/\1 \2 \3 \4/p' /tmp/j$j.out)" \
      "$(sed -n 's/^done \([0-9a-f]*\) .*/\1/p' /tmp/ref.out) $sent yes 0"
    [ "$rc" = "$want" ] || wrong=$((wrong + 1))
  done
  echo "torture: $moves moves, $wrong wrong results of $JOBS" | indent
  expect_eq "the jobs moved (at least 20 moves each)" "$(( moves >= 20 * JOBS ))" 1
  echo 1 > $A/nomfs
  check "the others are done (lstay)" wait_until 120 all_have $LSTAY
else
  if [ "$N" = 2 ]; then
    # Expel every few seconds; expel sets block: take guests again after it.
    until has_bit 1 $NOMFS; do
      rnd 30; pause "$(( _r / 10 + 1 )).$(( _r % 10 ))"
      # Every guest leaves (expel waits for them; it gives up after 120 s).
      uptime_s; _t0=$_up
      mosctl expel > /dev/null 2>&1 || bad "mosctl expel failed"
      uptime_s; [ $((_up - _t0)) -le 60 ] || bad "mosctl expel took $((_up - _t0)) s"
      echo 0 > $A/block
    done
  else
    # rmmod while a guest runs here: it is evacuated first; then the node comes back.
    k=0
    while [ $k -lt "$RMMODS" ] && ! has_bit 1 $NOMFS; do
      pause 5
      if ps | grep -v grep | grep -q torture; then
        check "rmmod evacuates its guests and unloads" rmmod mosix
        expect_eq "no torture job is left here" "$(ps | grep -v grep | grep -c torture)" 0
        /etc/rc.local > /dev/null 2>&1 || bad "rc.local after rmmod"
        k=$((k + 1))
      fi
    done
  fi
  check "node 1 is done (nomfs)" wait_until 14400 has_bit 1 $NOMFS
  echo 1 > $A/lstay
  check "node 1 saw it and leaves" wait_until 60 "! has_bit 1 $UP"
fi
check "rmmod" rmmod mosix
finish
