#!/bin/sh
# nodes: 2
# A migrant resumes with its own FPU and vector registers, never with those some CPU still
# holds from before (issue 11). Writing a task's saved FPU state must tell the kernel that
# no CPU holds its registers any more; the adoption once did not, and a return to user mode
# on the CPU where the task had last been switched out skipped the restore: the migrant ran
# on with the adopter helper's registers (cpuloop's three doubles all wrong; 3 wrong results
# in about 930 round trips of a bring-and-expel stress run, 1 in 86 runs of t-evacuate).
# The module's test switch inject_fpu_hop forces that order on every adoption (on node 2's
# adopter and in the deputy's rebuild at home): a context switch saves the registers on one
# CPU, the adoption runs on another, the return to user mode is on the first. Without the
# fix 4 of 8 cpuloop trips ended wrong this way. Here cpuloop (SSE doubles), vecloop (AVX2,
# TLS) and torture (general, SSE/AVX and x87 registers; forwarded calls, so that the deputy
# runs user code between calls and comes home from there) go out and home three times each
# and must end as unmigrated runs do.
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
T=/opt/mosix-tests
FINISH=35    # torture's SIGRTMIN+1: no more signals will come
/etc/rc.local || { echo "rc.local failed"; exit 1; }
check "the other node is up within 10 s" wait_until 10 all_up_now
echo 1 > $A/lstay
check "the test switch is on" sh -c 'echo 1 > /sys/module/mosix/parameters/inject_fpu_hop'

if [ "$N" = 1 ]; then
  # trips PID: out to node 2 and home, three times.
  trips() {
    for _k in 1 2 3; do
      migrate "$1" 2 > /dev/null || return 1
      sleep 1
      migrate "$1" home > /dev/null || return 1
      sleep 0.5
    done
  }
  # Both end only on SIGUSR1 (wait), sent once they are home: cpuloop takes 6-8 s here, about
  # as long as its trips, vecloop 4 s (stock kernel) to 25 s (debug kernel).
  for prog in "cpuloop 150000000 1" "vecloop 150000000"; do
    name=${prog%% *}
    more=wait
    nomig $T/$prog > /tmp/ref.out; want=$?
    $T/$prog $more > /tmp/p.out < /dev/null & p=$!
    wait_until 10 "grep -q ready /tmp/p.out"
    check "$name goes out and comes home three times" trips $p
    [ -n "$more" ] && kill -USR1 $p
    wait $p; got=$?
    expect_eq "$name ends as an unmigrated run does" "$got" "$want"
    [ "$got" = "$want" ] || cat /tmp/p.out /tmp/ref.out | indent
  done
  nomig $T/torture 40 /tmp/tref.out > /dev/null; twant=$?
  $T/torture 40 /tmp/t.out wait > /tmp/t.log 2>&1 & t=$!
  check "torture is ready" wait_until 30 "grep -q ready /tmp/t.log"
  check "torture goes out and comes home three times" trips $t
  check "torture has done its rounds" wait_until 300 "grep -q '^round 000039 ' /tmp/t.out"
  kill -$FINISH $t
  wait $t; got=$?
  expect_eq "torture ends as an unmigrated run does" "$got" "$twant"
  expect_eq "torture: same hash, no inconsistency" \
    "$(sed -n 's/^done \([0-9a-f]*\) rt=\([0-9]*\) alarms=\([a-z]*\) errors=\([0-9]*\)/\1 \2 \3 \4/p' /tmp/t.out)" \
    "$(sed -n 's/^done \([0-9a-f]*\) .*/\1/p' /tmp/tref.out) 0 yes 0"
  expect_match "the switch hopped (node 1's rebuilds)" "$(dmesg | grep 'inject_fpu_hop')" 'inject_fpu_hop: CPU'
  # Done: node 2 answers with stay.
  echo 1 > $A/nomfs
  check "node 2 is done (stay)" wait_until 60 has_bit 2 $STAY
else
  check "node 1 is done (nomfs)" wait_until 600 has_bit 1 $NOMFS
  expect_match "the switch hopped (node 2's adoptions)" "$(dmesg | grep 'inject_fpu_hop')" 'inject_fpu_hop: CPU'
  echo 1 > $A/stay
  check "node 1 leaves" wait_until 60 "! has_bit 1 $UP"
fi
check "rmmod" rmmod mosix
finish
