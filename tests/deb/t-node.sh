#!/bin/bash
# nodes: 2
# On two Debian 13 nodes made from the packages (tests/deb/run.sh: dpkg -i, systemctl enable
# mosix), booted on the stock kernel with systemd as init. What an administrator checks:
# the service is up, the module is the package's, /dev/mosix is open to users, the man pages
# are there, the unit verifies. Then node 1's job migrates to node 2, home and out again and
# ends with the unmigrated run's result; a second job is on node 2 when node 2 stops its
# service (setpe -off evacuates it home, the module unloads), and it too ends right. Last,
# node 1 stops its service.
. /extra/lib.sh
N=$MOSIX_NODE
T=/opt/mosix-tests
A=/proc/mosix/admin
ITER=40000000
check "mosix.service is active" systemctl is-active --quiet mosix.service
systemctl status --no-pager mosix.service 2>&1 | head -n 8 | indent
expect_eq "mosix.ko is the package's" "$(readlink -f "$(modinfo -n mosix 2>&1)")" "/usr/lib/modules/$(uname -r)/updates/mosix.ko"
expect_eq "/dev/mosix is open to users (the package's udev rule)" "$(stat -c %a /dev/mosix 2>&1)" 666
check "setpe -r prints the installed table" setpe -r
check "man pages are installed (setpe(8), migrate(1))" test -f /usr/share/man/man8/setpe.8.gz -a -f /usr/share/man/man1/migrate.1.gz
check "bash completion is installed" test -s /usr/share/bash-completion/completions/mosctl
check "systemd-analyze verify mosix.service" systemd-analyze verify --man=no mosix.service
check "the other node is up within 20 s" wait_until 20 all_up_now

if [ "$N" = 1 ]; then
  $T/cpuloop $ITER 4 > /dev/null; want=$?
  echo "unmigrated: status $want"
  # A user's job, moved by the user (the shell su runs execs it: su's status is the job's).
  run_as_user "exec $T/cpuloop $ITER 4 > /dev/null 2>&1" & sp=$!
  check "the user's job runs" wait_until 10 "pgrep -u user -x cpuloop > /dev/null"
  p=$(pgrep -u user -n -x cpuloop)
  check "and is known to openMosix" wait_until 10 "[ -d /proc/mosix/pid/$p ]"
  check "the user migrates it to node 2" run_as_user "migrate $p 2"
  expect_eq "where says node 2" "$(cat /proc/mosix/pid/$p/where)" 2
  check "home again" migrate $p home
  expect_eq "where says home" "$(cat /proc/mosix/pid/$p/where)" 0
  check "and out to node 2" migrate $p 2
  expect_eq "nmigs says 3" "$(cat /proc/mosix/pid/$p/nmigs)" 3
  wait $sp; rc=$?
  expect_eq "it ends with the unmigrated run's result" "$rc" "$want"

  $T/cpuloop $ITER 4 > /dev/null & q=$!
  check "a second job is known" wait_until 10 "[ -d /proc/mosix/pid/$q ]"
  check "it migrates to node 2" migrate $q 2
  echo 1 > $A/nomfs
  check "node 2 stops its service; the job comes home" wait_until 120 "[ \"\$(cat /proc/mosix/pid/$q/where 2> /dev/null)\" = 0 ]"
  check "node 2 is down" wait_until 30 "! has_bit 2 \$UP"
  wait $q; rc=$?
  expect_eq "the job brought home ends with the unmigrated run's result" "$rc" "$want"
  check "systemctl stop mosix" systemctl stop mosix.service
  check "the module is unloaded" sh -c '! grep -q "^mosix " /proc/modules'
  check "and the service says inactive" sh -c '[ "$(systemctl is-active mosix.service)" = inactive ]'
else
  check "node 1's job arrives and node 1 asks for the stop" wait_until 240 "has_bit 1 \$NOMFS"
  check "systemctl stop mosix (setpe -off: the guest goes home)" systemctl stop mosix.service
  check "the module is unloaded" sh -c '! grep -q "^mosix " /proc/modules'
  journalctl -b -u mosix.service --no-pager 2>&1 | tail -n 6 | indent
fi
finish
