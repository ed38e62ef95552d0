#!/bin/sh
# nodes: 1
# kernels: debug
# The module's KUnit suites (the #[kunit_tests] modules under module/: errno conversions,
# the owned thread's start, stop and state drop, events). They exist only in a kernel with
# CONFIG_KUNIT=y, the debug kernel, and run when the module loads (the rig boots that kernel
# with kunit.enable=1 kunit.autorun=1 kunit.filter_glob=mosix*). Every suite must report ok
# (KTAP: "ok N <suite>", after an "ok" line per case), loading again runs them again, and
# unloading stays clean.
. /extra/lib.sh
check "insmod mosix.ko" insmod /lib/modules/mosix.ko
ktap() { dmesg | sed 's/^\[[^]]*\] //' | grep -E '^ *(not )?ok [0-9]+ |# Subtest: mosix_'; }
ktap | indent
for suite in mosix_errno mosix_event mosix_thread; do
  n=$(ktap | grep -cE "^ok [0-9]+ $suite\$")
  expect_eq "suite $suite ran and reported ok" "$n" 1
done
cases=$(ktap | grep -cE '^    ok [0-9]+ ')
check "each of its cases reported ok ($cases)" test "$cases" -ge 3
check "no case failed" sh -c "! dmesg | grep -q 'not ok'"
check "rmmod" rmmod mosix
check "insmod again runs them again" insmod /lib/modules/mosix.ko
n=$(ktap | grep -cE '^ok [0-9]+ mosix_thread$')
expect_eq "the thread suite reported ok twice" "$n" 2
check "no case failed the second time" sh -c "! dmesg | grep -q 'not ok'"
check "rmmod again" rmmod mosix
finish
