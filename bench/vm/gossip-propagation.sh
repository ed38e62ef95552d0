#!/bin/sh
# nodes: 4
# Guest side of bench/gossip-vm: node 1 changes its speed TRIALS times, 2-3 s apart, and marks
# each change; nodes 2-4 mark the moment each change shows in their view of node 1. Every
# node samples the age of every other node's entry every 200 ms and reports percentiles.
. /extra/lib.sh
N=$MOSIX_NODE
T=20
/etc/rc.local || exit 1
wait_until 15 all_up_now || { echo "the cluster did not come up"; exit 1; }
sleep 3
( while :; do for o in $(others); do read -r a < /proc/mosix/nodes/$o/age; echo "$a"; done; sleep 0.2; done ) > /tmp/ages &
sampler=$!
if [ "$N" = 1 ]; then
  k=1
  while [ $k -le $T ]; do
    sleep "2.$(( (k * 37) % 10 ))"
    echo $((10000 + k)) > /proc/mosix/admin/speed
    echo "@@MARK change $k"
    k=$((k + 1))
  done
  sleep 5
else
  k=1
  while [ $k -le $T ]; do
    /opt/mosix-tests/watch_value /proc/mosix/nodes/1/speed $((10000 + k)) "seen $k" /proc/mosix/nodes/1/age || exit 1
    k=$((k + 1))
  done
  sleep 1
fi
kill $sampler
sort -n /tmp/ages | awk '$1 >= 0 { a[n++] = $1 } END { if (n) printf "@@AGES n=%d p50=%d p99=%d max=%d\n", n, a[int(n*0.5)], a[int(n*0.99)], a[n-1] }'
echo "@@GOSSIP $(tr '\n' ' ' < /proc/mosix/admin/stats)"
echo "@@INTERVAL $(cat /proc/mosix/admin/gossipinterval)"
