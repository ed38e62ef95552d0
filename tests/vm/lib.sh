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
# Waiting costs (almost) nothing: a node that waits must not look loaded to the balancer
# (under TCG each fork costs milliseconds of CPU), so these helpers fork nothing.
# uptime_s: seconds since boot, in $_up (no fork).
uptime_s() { read -r _up _ < /proc/uptime; _up=${_up%.*}; }
# now_cs: centiseconds since boot, in $_cs (no fork).
now_cs() { read -r _cs _ < /proc/uptime; _f=${_cs#*.}; _cs=$(( ${_cs%.*} * 100 + ${_f#0} )); }
# pause SECS: sleeps (fractions allowed) by a timed read of a fifo that nobody writes,
# opened read-write only for the read (no fork after the first call, no fd left open).
pause() {
  [ -p /tmp/.pause ] || mkfifo /tmp/.pause
  read -r -t "$1" _ 2> /dev/null <> /tmp/.pause
  return 0
}
# wait_until SECS 'SHELL CONDITION': polls every 0.2 s; succeeds once the condition holds,
# fails after SECS whole seconds (counted in hundredths: a wait of 2 s lasts 2 s, not
# anything from 1 to 2 as whole seconds of uptime made it).
wait_until() {
  now_cs; _end=$((_cs + $1 * 100)); shift
  while :; do
    if eval "$*"; then return 0; fi
    now_cs; [ "$_cs" -ge "$_end" ] && return 1
    pause 0.2
  done
}
# Node views through /proc/mosix (the `read` builtin: no fork).
UP=2; STAY=4; LSTAY=8; BLOCK=16; QUIET=32; NOMFS=64
node_val() { v=-1; read -r v 2> /dev/null < "/proc/mosix/nodes/$1/$2"; echo "$v"; }
# has_bit NODE BIT: NODE's status, as this node sees it, has BIT.
has_bit() { _v=0; read -r _v 2> /dev/null < "/proc/mosix/nodes/$1/status"; [ $(( ${_v:-0} & $2 )) != 0 ]; }
# others: every node id but this one.
others() { i=1; while [ $i -le "$MOSIX_NODES" ]; do [ $i != "$MOSIX_NODE" ] && echo $i; i=$((i + 1)); done; }
# every_other TEST BIT: "TEST NODE BIT" holds for every other node (as seen here).
every_other() {
  _o=1
  while [ $_o -le "$MOSIX_NODES" ]; do
    [ $_o = "$MOSIX_NODE" ] || "$1" $_o "$2" || return 1
    _o=$((_o + 1))
  done
}
lacks_bit() { ! has_bit "$1" "$2"; }
# all_have BIT / none_have BIT: every other node (as seen here) has / lacks BIT.
all_have() { every_other has_bit "$1"; }
none_have() { every_other lacks_bit "$1"; }
# counter NAME: a counter from /proc/mosix/admin/stats.
counter() { sed -n "s/^$1 //p" /proc/mosix/admin/stats; }
# all_up_now: every other node is up in this node's view.
all_up_now() { all_have "$UP"; }
# job_counts PID...: how many of the processes run on each of the $MOSIX_NODES nodes,
# "n1 n2 ... nK", as this (their home) node sees them; each one's node read once (a process
# may move meanwhile); one without a /proc/mosix/pid directory yet counts nowhere.
job_counts() {
  _ws=""
  for _p in "$@"; do
    read -r _w 2> /dev/null < /proc/mosix/pid/$_p/where || continue
    [ "$_w" = 0 ] && _w=$MOSIX_NODE
    _ws="$_ws $_w"
  done
  _c=""; _k=1
  while [ $_k -le $MOSIX_NODES ]; do
    _m=0
    for _w in $_ws; do [ "$_w" = $_k ] && _m=$((_m + 1)); done
    _c="$_c${_c:+ }$_m"; _k=$((_k + 1))
  done
  echo "$_c"
}
