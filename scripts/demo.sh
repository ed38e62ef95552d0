#!/bin/sh
# `make demo`, on every node of a 4-node cluster: boot as an openMosix node would (rc.local),
# keep local processes home on node 1, show every node's status, unload cleanly.
set -e
/etc/rc.local
if [ "$MOSIX_NODE" = 1 ]; then
  echo 1 > /proc/mosix/admin/lstay
fi
sleep 1
echo "---- mosctl status (node $MOSIX_NODE) ----"
mosctl status
echo "---- mosctl whois ----"
mosctl whois
rmmod mosix
echo "mosix.ko unloaded cleanly"
