#!/bin/sh
# `make demo`, on every node of a 4-node cluster: boot as an openMosix node would (rc.local:
# insmod, setpe -w with the cluster key), keep local processes home on node 1, let node 2 run
# two CPU hogs, and show on node 1 what load gossip tells it (mosmon --once); unload cleanly.
set -e
. /extra/lib.sh
/etc/rc.local
if [ "$MOSIX_NODE" = 1 ]; then
  echo 1 > /proc/mosix/admin/lstay
fi
wait_until 15 all_up_now || echo "(not every node was heard of within 15 s)"
if [ "$MOSIX_NODE" = 2 ]; then
  hog() { while :; do :; done; }
  hog & h1=$!; hog & h2=$!
  sleep 6
  kill $h1 $h2
fi
if [ "$MOSIX_NODE" = 1 ]; then
  wait_until 10 '[ "$(node_val 2 load)" -ge 80 ]' || true
  echo "---- mosmon --once on node 1 (node 2 runs two CPU hogs) ----"
  mosmon --once -v --width 78
  echo "---- mosmon --once -t ----"
  mosmon --once -t --width 78
  sleep 2
fi
[ "$MOSIX_NODE" = 1 ] || sleep 8
echo "---- mosctl status (node $MOSIX_NODE) ----"
mosctl status
echo "---- gossip counters ----"
mosctl stats | grep -E '^(sent|received|dropped_bad_mac) '
rmmod mosix
echo "mosix.ko unloaded cleanly"
