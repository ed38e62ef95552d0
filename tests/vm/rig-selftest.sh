#!/usr/bin/env bash
# Positive controls for scripts/cluster: runs that must FAIL do fail, for the right reason,
# and the netns is always removed. Prints "rig self-test: P passed, F failed".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
C="$ROOT/scripts/cluster"
pass=0; fail=0
t=$(mktemp -d)
result() { if [ "$1" = 0 ]; then pass=$((pass + 1)); echo "ok   - $2"; else fail=$((fail + 1)); echo "FAIL - $2"; fi; }

# The netns a killed run leaves behind (no process in it, its run gone) is deleted by the
# next run: one made up here, with a run number no process has.
orphan=999999; while [ -e /proc/$orphan ]; do orphan=$((orphan - 1)); done
orphan=mosix$orphan
before=$(ip netns list | grep -o '^mosix[0-9]*' | grep -vx "$orphan" || true)
ip netns add "$orphan"

# 1. A WARNING in a guest kernel log fails the run.
printf '#!/bin/sh\necho "WARNING: rig self-test (expected)" > /dev/kmsg\n' > "$t/warn.sh"
out=$("$C" --nodes 1 --run "$t/warn.sh" 2>&1); rc=$?
[ "$rc" != 0 ] && grep -q "kernel log shows: .*WARNING: rig self-test" <<< "$out"; result $? "a kernel WARNING fails the run"

# 2. One node's failing script fails the run, and is named.
printf '#!/bin/sh\n[ "$MOSIX_NODE" = 2 ] && exit 3\necho "node $MOSIX_NODE of $MOSIX_NODES fine"\n' > "$t/fail2.sh"
out=$("$C" --nodes 2 --run "$t/fail2.sh" 2>&1); rc=$?
[ "$rc" != 0 ] && grep -q "FAIL node 2: script exited 3" <<< "$out" && grep -q "^\[n1\] node 1 of 2 fine" <<< "$out"
result $? "a failing node script fails the run and is named; the others' output is prefixed"

# 3. A hung guest times out.
printf '#!/bin/sh\nsleep 600\n' > "$t/hang.sh"
out=$("$C" --nodes 1 --timeout 25 --run "$t/hang.sh" 2>&1); rc=$?
[ "$rc" != 0 ] && grep -q "timed out" <<< "$out"; result $? "a hung guest times out"

# 4. --keep, exec, stop.
if "$C" --nodes 2 --keep > "$t/keep.out" 2>&1; then
  out=$("$C" exec 2 'hostname; cat /proc/cmdline | tr " " "\n" | grep mosixvm.node='); rc=$?
  [ "$rc" = 0 ] && grep -q "^node2$" <<< "$out"; result $? "exec runs a command on a kept node"
  "$C" exec 1 'exit 7'; [ $? = 7 ]; result $? "exec returns the command's status"
  out=$("$C" exec 1 'ping -c 1 -W 5 10.77.0.2 >/dev/null && echo reachable'); grep -q reachable <<< "$out"
  result $? "nodes reach each other on the bridge"
  "$C" stop > /dev/null 2>&1; result $? "stop"
else
  cat "$t/keep.out"; result 1 "--keep brings the cluster up"
fi

# 5. No namespace left behind: none new without a process in it (the netns there before
# these runs, and a live cluster's, are not theirs to judge).
! ip netns list | grep -qx "$orphan\( .*\)\?"; result $? "a run deletes the netns an earlier, killed run left"
ip netns del "$orphan" 2> /dev/null
left=$(for n in $(ip netns list | grep -o '^mosix[0-9]*' | grep -vxF "$before"); do
  [ -z "$(ip netns pids "$n" 2> /dev/null)" ] && echo "$n"; done)
[ -z "$left" ]; result $? "no mosix netns left behind${left:+ (left: $(echo $left))}"
rm -rf "$t"
echo "rig self-test: $pass passed, $fail failed"
[ "$fail" = 0 ]
