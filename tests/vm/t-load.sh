#!/bin/sh
# nodes: 1
# Load accounting on one node: a CPU hog raises this node's load within a second or two;
# when it stops, the load decays slowly, to near zero; two hogs on 2 CPUs read as one standard
# processor each (load 100); a node twice as fast shows half. rmmod stops the sampler.
# Readings use the shell's `read` builtin (no fork) and take the median of five, because the
# test's own commands are runnable while they run (slowly, under TCG).
. /extra/lib.sh
/etc/rc.local
L=/proc/mosix/nodes/$MOSIX_NODE/load
# median5: five readings 200 ms apart, median.
median5() {
  a=; for i in 1 2 3 4 5; do read -r v < $L; a="$a $v"; pause 0.2; done
  echo $a | tr ' ' '\n' | sort -n | sed -n 3p
}
sleep 3
idle=$(median5)
check "idle load is low ($idle)" test "$idle" -lt 30
hog() { while :; do :; done; }
hog & h1=$!
sleep 1.5
one=$(median5)
check "one hog on 2 CPUs reads about 50 ($one; the observer itself adds up to ~30 under TCG)" test "$one" -ge 35 -a "$one" -le 85
hog & h2=$!
sleep 1.5
two=$(median5)
check "two hogs read about 100 ($two)" test "$two" -ge 80 -a "$two" -le 130
echo 20000 > /proc/mosix/admin/speed
fast=$(median5)
check "a node twice as fast shows about half the load ($fast)" test "$fast" -ge 35 -a "$fast" -le 70
echo 10000 > /proc/mosix/admin/speed
kill $h1 $h2
wait $h1 $h2 2>/dev/null
read -r after < $L
check "load decays slowly: still above half just after the hogs stop ($after)" test "$after" -ge 50
sleep 6
late=$(median5)
check "and is low 6 s later ($late)" test "$late" -lt 30
check "rmmod stops the sampler" rmmod mosix
check_fails "no mosix-load thread left" sh -c 'ps | grep -v grep | grep -q mosix-load'
finish
