#!/bin/sh
# nodes: 3
# Foundation: load the module, configure with setpe, administer with /proc and mosctl,
# reject bad writes (EINVAL, logged) and non-root writes (EPERM), unload cleanly.
. /extra/lib.sh
N=$MOSIX_NODE
A=/proc/mosix/admin
MAP="1 10.77.0.1 $MOSIX_NODES"

check "insmod mosix.ko" insmod /lib/modules/mosix.ko
expect_match "module logs with the mosix: prefix" "$(dmesg | grep 'mosix: loaded')" '^\[.*\] mosix: loaded \(ABI 1\)'
check "/dev/mosix exists" test -c /dev/mosix
chmod 0666 /dev/mosix
expect_eq "2 CPUs brought up" "$(nproc)" 2
out=$(/opt/mosix-tests/abi_probe 2>&1); rc=$?
expect_eq "C ABI probe agrees (version, NODE_INFO, ENOTTY on a mis-sized request)" "$rc" 0
[ "$rc" = 0 ] || echo "$out" | indent
expect_eq "mospe is 0 before setpe" "$(cat $A/mospe)" 0
expect_eq "slowdecay default" "$(cat $A/slowdecay)" 975
expect_eq "fastdecay default" "$(cat $A/fastdecay)" 926
expect_match "version" "$(cat $A/version)" '^openMosix version: 0\.1\.0'
out=$(mosctl status); rc=$?
expect_eq "mosctl status before setpe exits 3" "$rc" 3
expect_match "mosctl status says not configured" "$out" 'not configured'

# setpe round trip.
check "setpe -c checks the map" setpe -c -f /etc/mosix.map
check "setpe -w installs the map" setpe -w -f /etc/mosix.map
expect_eq "mospe is this node's id" "$(cat $A/mospe)" "$N"
expect_eq "setpe -r prints the table" "$(setpe -r)" "$MAP"
expect_eq "admin/config shows the table" "$(cat $A/config)" "$MAP"
expect_eq "nodes/ lists every node" "$(ls /proc/mosix/nodes | sort -n | tr '\n' ' ')" "$(seq 1 $MOSIX_NODES | tr '\n' ' ')"
expect_match "kernel says which node this is" "$(dmesg | tail -n 5)" "mosix: configuration changed: this is node #$N \\(of $MOSIX_NODES configured\\)"
setpe -r -f /tmp/map.out
expect_eq "setpe -r -f writes the same" "$(cat /tmp/map.out)" "$MAP"
check "setpe -w reads /etc/mosix.map by default" setpe -w
# Host names go through the system resolver (/etc/hosts here); ALIAS adds an address.
{ echo "# by name"; for i in $(seq 1 $MOSIX_NODES); do echo "$i node$i 1"; done; echo "2 10.77.1.2 ALIAS"; } > /tmp/names.map
check "setpe -w with host names and an ALIAS" setpe -W -f /tmp/names.map
expect_eq "names resolved to addresses" "$(setpe -r | head -n 2 | tr '\n' ' ')" "1 10.77.0.1 1 2 10.77.0.2 1 "
expect_eq "ALIAS kept" "$(setpe -r | tail -n 1)" "2 10.77.1.2 ALIAS"
expect_eq "whois the alias address" "$(mosctl whois 10.77.1.2)" "10.77.1.2 is openMosix node #2"
check "back to the range map" setpe -w -f /etc/mosix.map
printf '# a comment\n\n5 10.99.0.1 2\n' > /tmp/other.map
out=$(setpe -w -f /tmp/other.map 2>&1); rc=$?
expect_eq "setpe refuses a map without this host (exit 2)" "$rc" 2
expect_eq "openMosix's message" "$out" "setpe: the supplied table is well-formatted, but my IP address (10.77.0.$N) is not there!"
printf '1 10.77.0.1 3\n3 10.77.0.9 1\n' > /tmp/bad.map
out=$(setpe -w -f /tmp/bad.map 2>&1); rc=$?
expect_eq "setpe names file and line of an overlap" "$out" "setpe: /tmp/bad.map:2: overlapping node ids: some are already given on line 1"
expect_eq "mospe unchanged after a refused map" "$(cat $A/mospe)" "$N"

# Node files.
L=/proc/mosix/nodes/$N
expect_eq "own status is CONF|UP" "$(cat $L/status)" 3
expect_eq "own cpus" "$(cat $L/cpus)" 2
expect_eq "own speed" "$(cat $L/speed)" 10000
expect_eq "own util" "$(cat $L/util)" 100
check "own tmem is positive" test "$(cat $L/tmem)" -gt 0
check "own mem is positive" test "$(cat $L/mem)" -gt 0
other=$(( N % MOSIX_NODES + 1 ))
check "another node is heard of (CONF|UP) within 10 s" wait_until 10 '[ "$(node_val $other status)" = 3 ]'
check "its load is known" test "$(node_val $other load)" -ge 0
# A node in the table that never speaks: unknown values, not up.
ghost=$((MOSIX_NODES + 1))
echo "1 10.77.0.1 $ghost" > /tmp/ghost.map
check "setpe -w with a node that does not exist" setpe -w -f /tmp/ghost.map
expect_eq "never-heard node status is CONF only" "$(cat /proc/mosix/nodes/$ghost/status)" 1
expect_eq "never-heard node load unknown (-ENETUNREACH)" "$(cat /proc/mosix/nodes/$ghost/load)" -101
expect_eq "never-heard node age unknown" "$(cat /proc/mosix/nodes/$ghost/age)" -101
expect_eq "own age is 0" "$(cat $L/age)" 0

# mosctl agrees with /proc.
expect_eq "mosctl getspeed = nodes/N/speed" "$(mosctl getspeed)" "$(cat $L/speed)"
expect_eq "mosctl getutil" "$(mosctl getutil $N)" "$(cat $L/util)"
expect_eq "mosctl getload ghost" "$(mosctl getload $ghost 2>/dev/null)" -101
check_fails "mosctl getload ghost exits non-zero" mosctl getload $ghost
expect_eq "mosctl isup ghost" "$(mosctl isup $ghost)" no
expect_match "mosctl status ghost says never heard of" "$(mosctl status $ghost)" 'never heard of'
expect_match "mosctl status other shows the age" "$(mosctl status $other)" 'heard: +[0-9.]+ s ago'
check "back to the range map" setpe -w -f /etc/mosix.map
expect_eq "mosctl isup (self)" "$(mosctl isup)" yes
expect_eq "mosctl isup other" "$(mosctl isup $other)" yes
expect_eq "mosctl whois" "$(mosctl whois)" "This is openMosix node #$N"
expect_eq "mosctl whois ID" "$(mosctl whois $other)" "openMosix node #$other is at IP address 10.77.0.$other"
expect_eq "mosctl whois host" "$(mosctl whois node$other)" "10.77.0.$other is openMosix node #$other"
check_fails "mosctl whois unknown id" mosctl whois 99
expect_match "mosctl --json status" "$(mosctl --json status)" "\"id\":$N"

# Admin flags through /proc and mosctl.
for f in stay lstay block quiet nomfs; do
  echo 1 > $A/$f
  expect_eq "echo 1 > $f" "$(cat $A/$f)" 1
done
expect_eq "status shows STAY|LSTAY|BLOCK|QUIET|NOMFS" "$(cat $L/status)" $((3 + 4 + 8 + 16 + 32 + 64))
mosctl nostay; mosctl nolstay; mosctl noblock; mosctl noquiet; mosctl mfs
expect_eq "mosctl clears them" "$(cat $L/status)" 3
mosctl -lstay
expect_eq "mosctl -lstay (openMosix spelling) clears lstay" "$(cat $A/lstay)" 0
check "mosctl lstay" mosctl lstay
expect_eq "lstay via mosctl shows in /proc" "$(cat $A/lstay)" 1
echo 0 > $A/lstay
check "mosctl expel" mosctl expel
expect_eq "expel sets block" "$(cat $A/block)" 1
check "mosctl bring" mosctl bring
expect_eq "bring sets lstay" "$(cat $A/lstay)" 1
mosctl noblock; mosctl nolstay
check "mosctl setdecay" mosctl setdecay 2 990 900
expect_eq "decay files follow" "$(cat $A/decayinterval) $(cat $A/slowdecay) $(cat $A/fastdecay)" "2 990 900"
expect_eq "mosctl getdecay" "$(mosctl getdecay)" "decay interval 2 s, slow decay 990, fast decay 900"
check "mosctl setspeed" mosctl setspeed 15000
expect_eq "speed file follows" "$(cat $A/speed)" 15000
expect_eq "own node speed follows" "$(cat $L/speed)" 15000
gt=$(mosctl gettune)
for f in gateways decayinterval slowdecay fastdecay speed lstay stay block quiet; do
  expect_eq "gettune $f = /proc" "$(echo "$gt" | sed -n "s/^$f //p")" "$(cat $A/$f)"
done

# Bad writes: EINVAL with a log line saying why.
bad_write() {
  file=$1 val=$2 why=$3
  err=$( (echo "$val" > $A/$file) 2>&1 )
  expect_match "echo '$val' > $file fails with EINVAL" "$err" 'Invalid argument'
  expect_match "kernel log says why ($file)" "$(dmesg | tail -n 3)" "mosix: admin/$file: rejected write: $why"
}
bad_write lstay 2 "2 is not 0 or 1"
bad_write stay -1 "-1 is not 0 or 1"
bad_write speed abc "not a decimal number"
bad_write speed 0 "0 is outside 1..100000000"
bad_write slowdecay 1001 "1001 is outside 0..1000"
bad_write gateways 3 "3 is outside 0..2"
bad_write mospe 70000 "70000 is outside 0..65535"
bad_write mospe 9 "node 9 is not in the node table"
bad_write bring 0 "0 given; only 1 may be written"
bad_write block 99999999999999999999 "number out of range"
err=$( (echo "1 10.77.0.1 0" > $A/config) 2>&1 )
expect_match "malformed config write fails" "$err" 'Invalid argument'
expect_match "kernel names the line" "$(dmesg | tail -n 2)" "mosix: admin/config: rejected node table: line 1: count 0"
expect_eq "table unchanged" "$(cat $A/config)" "$MAP"
err=$( (echo 1 > $A/version) 2>&1 )
expect_match "version is read-only" "$err" 'denied'

# Unprivileged user: writes EPERM, reads fine.
err=$(run_as_user "echo 1 > $A/stay" 2>&1)
expect_match "non-root write gets EPERM" "$err" 'Operation not permitted'
expect_eq "stay unchanged" "$(cat $A/stay)" 0
out=$(run_as_user mosctl stay 2>&1); rc=$?
expect_eq "non-root mosctl stay exits 1" "$rc" 1
expect_match "and says root is needed" "$out" 'needs root'
expect_eq "non-root reads admin files" "$(run_as_user cat $A/lstay)" 0
expect_eq "non-root mosctl getspeed" "$(run_as_user mosctl getspeed)" 15000
out=$(run_as_user setpe -w -f /etc/mosix.map 2>&1)
expect_match "non-root setpe -w refused" "$out" 'Operation not permitted'

# Writes through config: the kernel parses the map itself (IP addresses only).
echo "1 10.77.0.1 $MOSIX_NODES" > $A/config
expect_eq "config write keeps mospe" "$(cat $A/mospe)" "$N"

# The cluster key.
expect_eq "setpe -w installed /etc/mosix/cluster.key" "$(counter key)" 1
check "mosctl genkey writes a key file" mosctl genkey /tmp/k1
expect_match "mode 0600" "$(ls -l /tmp/k1)" '^-rw-------'
out=$(mosctl genkey /tmp/k1 2>&1); rc=$?
expect_eq "genkey will not overwrite without --force (exit 1)" "$rc" 1
check "genkey --force" mosctl genkey --force /tmp/k1
cp /tmp/k1 /tmp/k2; chmod 644 /tmp/k2
out=$(setpe -k /tmp/k2 2>&1); rc=$?
expect_eq "a key file open to others is refused (exit 2)" "$rc" 2
expect_match "and says how to fix it" "$out" 'chmod 600 /tmp/k2'
printf 'nothex\n' > /tmp/k3; chmod 600 /tmp/k3
expect_match "a malformed key file names the line" "$(mosctl setkey /tmp/k3 2>&1)" 'k3: line 1: expected 32 hexadecimal digits'
chmod 644 /tmp/k1
out=$(run_as_user mosctl setkey /tmp/k1 2>&1)
chmod 600 /tmp/k1
expect_match "non-root key install refused" "$out" 'needs root|open to group'
check "mosctl clearkey" mosctl clearkey
expect_eq "no key: stats say key 0" "$(counter key)" 0
expect_match "and the log says gossip is off" "$(dmesg | grep 'mosix: cluster key' | tail -n 1)" 'removed: load gossip is off'
check "setpe -k reinstalls the cluster key" setpe -k /etc/mosix/cluster.key
expect_eq "key back" "$(counter key)" 1
err=$( (echo 1 > $A/stats) 2>&1 )
expect_match "stats is read-only" "$err" 'denied'
expect_match "stats lists every drop counter and the link counters" "$(cat $A/stats | cut -d' ' -f1 | tr '\n' ' ')" \
  '^key sent sent_bytes send_errors received merged unknown_entries dropped_malformed dropped_foreign dropped_bad_mac dropped_unknown_sender dropped_spoofed dropped_misdirected dropped_replayed dropped_no_key link_accepted link_connected link_refused link_unknown_peer link_bad_mac link_malformed link_no_key link_frames_in link_frames_out $'

# Unconfigure, reconfigure, unload.
check "setpe -off" setpe -off
expect_eq "mospe 0 after -off" "$(cat $A/mospe)" 0
expect_eq "nodes/ empty after -off" "$(ls /proc/mosix/nodes | wc -l)" 0
expect_eq "setpe -r prints nothing" "$(setpe -r)" ""
check "setpe -w again" setpe -w -f /etc/mosix.map
check "rmmod mosix" rmmod mosix
check_fails "/proc/mosix is gone" test -e /proc/mosix
check_fails "/dev/mosix is gone" test -e /dev/mosix
out=$(mosctl status 2>&1); rc=$?
expect_eq "mosctl without the module exits 3" "$rc" 3
expect_match "and says the module is not loaded" "$out" 'not loaded'
check "insmod again" insmod /lib/modules/mosix.ko
check "rmmod again" rmmod mosix
expect_match "unload logged" "$(dmesg | tail -n 1)" 'mosix: unloading'
finish
