#!/bin/sh
# nodes: 1
# Per-process CPU statistics with slow/fast decay: /proc/mosix/procs lists every user process
# with its decay mode and decayed CPU share; /proc/mosix/decay/{slow,fast,nodecay,clear} set
# the writer's mode (inherited by its children); after the processes stop, fast decay forgets
# them sooner than slow, and no decay keeps the whole history.
. /extra/lib.sh
/etc/rc.local
P=/proc/mosix/procs
# pstat PID: "mode cpu cputime_ms" of PID, empty if not listed.
pstat() { while read -r p m c t; do [ "$p" = "$1" ] && { echo "$m $c $t"; return; }; done < $P; }
pmode() { set -- $(pstat "$1"); echo "${1:-none-listed}"; }
pcpu() { set -- $(pstat "$1"); echo "${2:--1}"; }
listed() { [ -n "$(pstat "$1")" ]; }
hog() { while :; do :; done; }

check "/proc/mosix/procs lists init" wait_until 5 listed 1
expect_eq "init decays slowly (the default)" "$(pmode 1)" slow
check_fails "kernel threads are not listed" listed 2

# Separate the modes clearly within a short test: the admin may set the rates.
echo 900 > /proc/mosix/admin/slowdecay
echo 700 > /proc/mosix/admin/fastdecay
hog & slow=$!
( echo 1 > /proc/mosix/decay/fast; hog ) & fast=$!
( echo 1 > /proc/mosix/decay/nodecay; hog ) & none=$!
sleep 1000 & idle=$!
check "every new process is listed within two seconds" wait_until 3 "listed $slow && listed $fast && listed $none && listed $idle"
expect_eq "a plain child of the shell decays slowly" "$(pmode $slow)" slow
expect_eq "a subshell that wrote decay/fast decays fast" "$(pmode $fast)" fast
expect_eq "one that wrote decay/nodecay does not decay" "$(pmode $none)" none
sleep 6
for p in $slow $fast $none; do
  c=$(pcpu $p)
  # Three hogs share two CPUs: about 66 each (the shell's own polling takes a little).
  check "hog $p ($(pmode $p)) uses about two thirds of a CPU ($c)" test "$c" -ge 40 -a "$c" -le 100
done
c=$(pcpu $idle)
check "a sleeping process uses none ($c)" test "$c" -le 2

# Stop the hogs and let six decay steps pass.
kill -STOP $slow $fast $none
sleep 6.5
s=$(pcpu $slow); f=$(pcpu $fast); n=$(pcpu $none)
echo "after 6 idle steps: slow $s fast $f none $n (rates 900/700)" | indent
check "fast decay forgot most of it ($f)" test "$f" -le 20
check "slow decay less ($s > $f)" test "$s" -gt "$f"
check "no decay least: the lifetime average ($n > $s)" test "$n" -gt "$s"
check "no decay: about half of the two-thirds share ($n)" test "$n" -ge 20 -a "$n" -le 45

# Children inherit the mode; a process reads its own mode from the decay files.
( echo 1 > /proc/mosix/decay/fast
  sh -c 'echo $$ > /tmp/child.pid; cat /proc/mosix/decay/fast /proc/mosix/decay/slow > /tmp/child.modes; sleep 1000' ) &
sub=$!
check "the child started" wait_until 5 '[ -s /tmp/child.modes ]'
expect_eq "a child forked after decay/fast reads fast=1 slow=0" "$(cat /tmp/child.modes | tr '\n' ' ')" "1 0 "
child=$(cat /tmp/child.pid)
check "and is listed as fast" wait_until 3 '[ "$(pmode $child)" = fast ]'
expect_eq "the shell itself is still slow" "$(cat /proc/mosix/decay/slow)" 1

# clear forgets: a process that burned CPU, then cleared, reads 0 after two idle steps.
out=$(sh -c 'e=$(($(date +%s) + 3)); while [ $(date +%s) -lt $e ]; do :; done
  while read -r p m c t; do [ "$p" = $$ ] && echo "before $c"; done < /proc/mosix/procs
  echo 1 > /proc/mosix/decay/clear; sleep 2.5
  while read -r p m c t; do [ "$p" = $$ ] && echo "after $c"; done < /proc/mosix/procs')
echo "$out" | indent
expect_match "busy before clear" "$out" 'before ([3-9][0-9]|100)'
expect_match "0 two idle steps after clear" "$out" 'after 0$'

# Bad writes are refused and logged; any user may set their own mode.
check_fails "writing 2 to decay/fast is refused" sh -c 'echo 2 > /proc/mosix/decay/fast'
expect_match "and logged" "$(dmesg | tail -n 3)" 'decay/fast: rejected write'
check_fails "procs is read-only" sh -c 'echo 1 > /proc/mosix/procs'
check "a user sets their own mode" run_as_user 'echo 1 > /proc/mosix/decay/fast && cat /proc/mosix/decay/fast | grep -qx 1'
check_fails "but not an admin parameter" run_as_user 'echo 1 > /proc/mosix/admin/stay'

# The table follows the processes every second whatever decayinterval is.
echo 5 > /proc/mosix/admin/decayinterval
sleep 300 & late=$!
check "with decayinterval 5, a new process is still listed within 2 s" wait_until 2 listed $late
check "and has its /proc/mosix/pid directory" wait_until 2 "[ -d /proc/mosix/pid/$late ]"
echo 1 > /proc/mosix/admin/decayinterval
kill $late

# Processes that are gone leave the table.
kill -9 $slow $fast $none $idle $sub 2>/dev/null
kill -9 "$child" 2>/dev/null
wait 2>/dev/null
check "exited processes are dropped within two steps" wait_until 3 "! listed $slow && ! listed $fast && ! listed $child"
check "rmmod with a full table" rmmod mosix
finish
