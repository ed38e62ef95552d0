# Assertions for VM tests (sourced from /extra/lib.sh in the guest).
# Each node ends with "node N: P passed, F failed"; tests/vm/run-all.sh adds them up.
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
indent() { sed 's/^/       | /'; }
# check DESC CMD...: CMD must succeed.
check() {
  d=$1; shift
  if "$@" > /tmp/check.out 2>&1; then ok "$d"; else bad "$d (exit $?)"; indent < /tmp/check.out; fi
}
# check_fails DESC CMD...: CMD must fail.
check_fails() {
  d=$1; shift
  if "$@" > /tmp/check.out 2>&1; then bad "$d (succeeded)"; indent < /tmp/check.out; else ok "$d"; fi
}
# expect_eq DESC GOT WANT
expect_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; echo "got:  $2" | indent; echo "want: $3" | indent; fi
}
# expect_match DESC TEXT REGEX
expect_match() {
  if printf '%s\n' "$2" | grep -qE -- "$3"; then ok "$1"; else bad "$1"; printf '%s\n' "$2" | indent; echo "want /$3/" | indent; fi
}
# run_as_user CMD...: run a shell command line as the unprivileged user (uid 1000).
run_as_user() { su -s /bin/sh user -c "$*"; }
finish() {
  echo "node $MOSIX_NODE: $PASS passed, $FAIL failed"
  [ "$FAIL" = 0 ]
}
