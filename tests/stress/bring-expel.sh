#!/bin/sh
# nodes: 3
# Stress (not in make test; about 8 min): t-evacuate's moves in a loop. Node 1 sends two
# cpuloop jobs to nodes 2 and 3 and brings them home with `mosctl bring` and `mosctl expel`
# at once, again and again, while node 2 keeps sending its own cpuloop job to node 1 (expel
# sends it home). Every job must end as the unmigrated run does. Run it with
#   scripts/cluster --nodes 3 --run tests/stress/bring-expel.sh --add tests/vm/lib.sh --timeout 1500
# It found issue 11's FPU cause (3 wrong results in about 930 round trips before the fix)
# and an expel that waited 120 s for a refused image's arrival count.
. /extra/lib.sh
N=$MOSIX_NODE; A=/proc/mosix/admin; T=/opt/mosix-tests
ITER=100000000; DUR=420
/etc/rc.local || exit 1
check "up" wait_until 10 all_up_now
echo 1 > $A/lstay
alive() { kill -0 $1 2>/dev/null; }
if [ "$N" = 1 ]; then
  echo 1 > $A/stay
  nomig $T/cpuloop $ITER 1 > /tmp/ref.out; want=$?
  cat /tmp/ref.out | indent
  uptime_s; end=$((_up + DUR)); runs=0; wrong=0
  while uptime_s; [ $_up -lt $end ]; do
    $T/cpuloop $ITER 1 > /tmp/a.out < /dev/null & a=$!
    $T/cpuloop $ITER 1 > /tmp/b.out < /dev/null & b=$!
    sleep 0.2
    while alive $a || alive $b; do
      migrate $a 2 > /dev/null 2>&1; migrate $b 3 > /dev/null 2>&1
      mosctl bring > /dev/null 2>&1 & p1=$!
      mosctl expel > /dev/null 2>&1 & p2=$!
      wait $p1 $p2
      mosctl noblock
      sleep 0.$(( $(od -An -N1 -tu1 /dev/urandom) % 10 ))
    done
    wait $a; ra=$?; wait $b; rb=$?
    runs=$((runs + 2))
    for r in $ra $rb; do [ $r = $want ] || wrong=$((wrong + 1)); done
    if [ "$ra $rb" != "$want $want" ]; then echo "WRONG: $ra $rb want $want"; cat /tmp/a.out /tmp/b.out | indent; fi
  done
  echo "runs $runs wrong $wrong moves home: $(dmesg | grep -c 'is home from node') guests sent home: $(dmesg | grep 'expel:' | grep -c -v 'no guest')" | indent
  expect_eq "no wrong result" $wrong 0
  echo 1 > $A/nomfs
  check "others done" wait_until 300 all_have $STAY
elif [ "$N" = 2 ]; then
  nomig $T/cpuloop $ITER 1 > /dev/null; want=$?
  runs=0; wrong=0
  while ! has_bit 1 $NOMFS; do
    $T/cpuloop $ITER 1 > /tmp/c.out < /dev/null & c=$!
    sleep 0.2
    while alive $c; do migrate $c 1 > /dev/null 2>&1; sleep 0.5; done
    wait $c; rc=$?; runs=$((runs + 1))
    if [ $rc != $want ]; then wrong=$((wrong + 1)); echo "WRONG: $rc want $want"; cat /tmp/c.out | indent; fi
  done
  echo "runs $runs wrong $wrong" | indent
  expect_eq "no wrong result" $wrong 0
  echo 1 > $A/stay
  check "node 1 left" wait_until 120 "! has_bit 1 $UP"
else
  check "node 1 done" wait_until 3000 has_bit 1 $NOMFS
  echo 1 > $A/stay
  check "node 1 left" wait_until 120 "! has_bit 1 $UP"
fi
check "rmmod" rmmod mosix
finish
