#!/bin/sh
# nodes: 1
# What cannot move says why: /proc/mosix/pid/<pid>/cantmove names openMosix's stay reasons
# (threads, shared memory, locked memory, real-time scheduling, init, the user's lock);
# /proc/mosix/pid/<pid>/lock is the user's lock, inherited by children, writable by the owner
# and root only; the directories follow the processes.
. /extra/lib.sh
/etc/rc.local
T=/opt/mosix-tests
D=/proc/mosix/pid
has_dir() { [ -d $D/$1 ]; }
# start KIND: runs stayer KIND in the background, prints its pid once it is ready.
start() {
  rm -f /tmp/stayer.$1
  $T/stayer $1 > /tmp/stayer.$1 2>&1 &
  wait_until 5 "grep -q ready /tmp/stayer.$1" || { cat /tmp/stayer.$1 >&2; echo 0; return; }
  sed -n 's/^ready //p' /tmp/stayer.$1
}

check "/proc/mosix/pid/1 exists" wait_until 3 has_dir 1
expect_match "init cannot move: system" "$(cat $D/1/cantmove)" '^system 0x200$'
check_fails "kernel threads have no directory" has_dir 2

plain=$(start plain)
check "a new process gets its directory within two seconds" wait_until 3 has_dir $plain
expect_eq "a plain process may move: cantmove is empty" "$(cat $D/$plain/cantmove)" ""
expect_eq "where: 0 (home)" "$(cat $D/$plain/where)" 0
expect_eq "nmigs: 0" "$(cat $D/$plain/nmigs)" 0
expect_eq "lock: 0" "$(cat $D/$plain/lock)" 0

for k in "threads clone_vm 0x40" "mlock mem_lock 0x20" "sysvshm shared_mem 0x800" \
         "sharedanon shared_mem 0x800" "rt rt_sched 0x80"; do
  set -- $k
  p=$(start $1)
  check "stayer $1 started ($p)" test "$p" -gt 0
  wait_until 3 has_dir $p
  expect_eq "$1: cantmove says '$2 $3'" "$(cat $D/$p/cantmove)" "$2 $3"
  kill $p
done

out=$(mps 1 $plain)
expect_match "mps shows the NODE column" "$(echo "$out" | head -n 1)" '^ +PID TTY +NODE STAT +TIME COMMAND$'
expect_match "mps: the plain process is at home (node 0)" "$(echo "$out" | grep "^ *$plain ")" "^ *$plain +[^ ]+ +0 +S .*stayer plain"
expect_match "mps lists init and kernel threads" "$(mps)" '^ +2 +\? +0 +S +[0-9]+:[0-9]+ \[kthreadd\]$'

# The user's lock.
echo 1 > $D/$plain/lock
expect_eq "lock reads 1 after writing 1" "$(cat $D/$plain/lock)" 1
expect_eq "cantmove names the user lock" "$(cat $D/$plain/cantmove)" "user_lock 0x80000000"
echo 0 > $D/$plain/lock
expect_eq "and nothing after unlocking" "$(cat $D/$plain/cantmove)" ""
check_fails "writing 2 to lock is refused" sh -c "echo 2 > $D/$plain/lock"
expect_match "and logged" "$(dmesg | tail -n 2)" "pid/$plain/lock: rejected write"

# Inherited: a locked shell's children are locked (openMosix: "unlocks the shell and its
# future children").
out=$(sh -c 'while [ ! -d /proc/mosix/pid/$$ ]; do sleep 0.1; done; echo 1 > /proc/mosix/pid/$$/lock
  sleep 1000 & c=$!; i=0; while [ ! -d /proc/mosix/pid/$c ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done
  echo "child $(cat /proc/mosix/pid/$c/lock)"; kill $c')
expect_eq "a child forked by a locked shell is locked" "$out" "child 1"

# Ownership: a user may lock their own process, not root's.
check_fails "a user cannot lock root's process" run_as_user "echo 1 > $D/$plain/lock"
run_as_user "$T/stayer plain > /tmp/stayer.user 2>&1 &"
wait_until 5 'grep -q ready /tmp/stayer.user'
up=$(sed -n 's/^ready //p' /tmp/stayer.user)
check "the user's process gets a directory" wait_until 3 has_dir $up
check "a user locks their own process" run_as_user "echo 1 > $D/$up/lock"
expect_eq "which reads 1" "$(cat $D/$up/lock)" 1
kill $up

# Directories follow the processes.
kill $plain
check "an exited process's directory goes within two seconds" wait_until 3 "! has_dir $plain && ! has_dir $up"
check_fails "reading a vanished process's file fails" cat $D/$plain/where 2>/dev/null
check "rmmod with pid directories" rmmod mosix
finish
