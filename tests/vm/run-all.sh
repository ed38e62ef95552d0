#!/usr/bin/env bash
# Runs every tests/vm/t-*.sh on a fresh cluster (the node count is in the script's
# "# nodes: N" line) and adds up the per-node results.
#   MOSIX_VM_TESTS="t-expel t-migrate"   only these (and rig-selftest only when named)
#   MOSIX_VM_REPEAT=20                   each run that many times in a row, each on a fresh
#                                        cluster; the end says how many runs of each passed
#   MOSIX_VM_KERNEL=debug                every test on this kernel only (stock or debug)
# A script's "# kernels: K..." line says on which guest kernels it runs (default: stock,
# Debian 13's own); those named "debug" run on the project's debug kernel too (lockdep,
# atomic-sleep and hung-task checks: README, "Two kernels").
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPEAT=${MOSIX_VM_REPEAT:-1}
case "${MOSIX_VM_KERNEL:-}" in ""|stock|debug) ;; *) echo "run-all: MOSIX_VM_KERNEL must be stock or debug, not '$MOSIX_VM_KERNEL'" >&2; exit 2 ;; esac
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || { echo "run-all: MOSIX_VM_REPEAT must be a positive count, not '$REPEAT'" >&2; exit 2; }
total_pass=0; total_fail=0; failed_runs=(); failures=(); tally=()
if [ -z "${MOSIX_VM_TESTS:-}" ] || [[ " $MOSIX_VM_TESTS " == *" rig-selftest "* ]]; then
  echo "=== rig-selftest.sh (the rig must fail on kernel warnings, script failures, hangs)"
  out=$("$ROOT/tests/vm/rig-selftest.sh" 2>&1); rc=$?
  echo "$out"
  p=$(sed -n 's/^rig self-test: \([0-9]*\) passed, \([0-9]*\) failed/\1/p' <<< "$out")
  f=$(sed -n 's/^rig self-test: \([0-9]*\) passed, \([0-9]*\) failed/\2/p' <<< "$out")
  total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-1}))
  [ "$rc" = 0 ] || failed_runs+=(rig-selftest.sh)
  while IFS= read -r l; do failures+=("rig-selftest: $l"); done < <(grep -E 'FAIL' <<< "$out")
fi
# A script's "# nodes: N [N...]" line says on how many nodes it runs (once per count);
# "# cpus: C" how many processors each guest has (default: the rig's).
for t in "$ROOT"/tests/vm/t-*.sh; do
  [ -n "${MOSIX_VM_TESTS:-}" ] && ! [[ " $MOSIX_VM_TESTS " == *" $(basename "$t" .sh) "* ]] && continue
  counts=$(sed -n 's/^# nodes: *\([0-9 ]*\).*/\1/p' "$t" | head -n1); counts=${counts:-3}
  cpus=$(sed -n 's/^# cpus: *\([0-9]*\).*/\1/p' "$t" | head -n1)
  kernels=$(sed -n 's/^# kernels: *\([a-z ]*\).*/\1/p' "$t" | head -n1); kernels=${kernels:-stock}
  [ -n "${MOSIX_VM_KERNEL:-}" ] && kernels=$MOSIX_VM_KERNEL
  for kernel in $kernels; do
  for n in $counts; do
  base=$(basename "$t" .sh)
  [ "$(wc -w <<< "$counts")" -gt 1 ] && base="$base[$n]"
  [ "$kernel" != stock ] && base="$base{$kernel}"
  runs_ok=0
  for rep in $(seq "$REPEAT"); do
  name=$base
  [ "$REPEAT" -gt 1 ] && name="$base#$rep"
  echo "=== $name on $n nodes${cpus:+, $cpus CPU(s) each}, $kernel kernel"
  out=$(mktemp)
  "$ROOT/scripts/cluster" --flavour "$kernel" --nodes "$n" ${cpus:+--cpus "$cpus"} --run "$t" --add "$ROOT/tests/vm/lib.sh" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  p=$(sed -n 's/.*node [0-9]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$out" | paste -sd+ | bc)
  f=$(sed -n 's/.*node [0-9]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$out" | paste -sd+ | bc)
  total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
  if [ "$rc" != 0 ]; then
    failed_runs+=("$name")
    [ "${f:-0}" = 0 ] && total_fail=$((total_fail + 1))
  elif [ "${f:-0}" != 0 ]; then
    # A node reported failures in a boot whose exit status the rig could not see (killed).
    failed_runs+=("$name")
  else
    runs_ok=$((runs_ok + 1))
  fi
  # Each failure with up to 30 of its detail lines ("| ..."), which say why.
  while IFS= read -r l; do failures+=("$name: $l"); done < <(awk '
    /FAIL|not ok/ { print; d = 0; inf = 1; next }
    inf && /^(\[n[0-9]+\] )? +\| / { if (d++ < 30) print; next }
    { inf = 0 }' "$out")
  rm -f "$out"
  done
  tally+=("$base: $runs_ok of $REPEAT runs passed")
  done
  done
done
if [ "$REPEAT" -gt 1 ]; then
  for l in "${tally[@]}"; do echo "vm: $l"; done
fi
# Repeat what failed at the end, where a CI log's tail shows it.
for l in "${failures[@]}"; do echo "vm: $l"; done
[ ${#failed_runs[@]} -gt 0 ] && echo "vm: failed runs: ${failed_runs[*]}"
echo "vm: $total_pass passed, $total_fail failed"
[ ${#failed_runs[@]} = 0 ] && [ "$total_fail" = 0 ]
