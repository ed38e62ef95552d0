#!/bin/sh
# nodes: 1
# kernels: debug
# The module's KUnit suites (the #[kunit_tests] modules under module/: errno conversions,
# the owned thread's start, stop and state drop, events). They exist only in a kernel with
# CONFIG_KUNIT=y, the debug kernel, and run when the module loads (the rig boots that kernel
# with kunit.enable=1 kunit.autorun=1 kunit.filter_glob=mosix*). Each suite must report every
# case passed, loading again runs them again, and unloading stays clean.
. /extra/lib.sh
check "insmod mosix.ko" insmod /lib/modules/mosix.ko
results() { dmesg | grep -E '# mosix_[a-z_]+: pass:[0-9]+ fail:[0-9]+' | sed 's/^\[[^]]*\] *//'; }
results | indent
for suite in mosix_errno mosix_event mosix_thread; do
  line=$(results | grep "# $suite: " | tail -n1)
  expect_match "suite $suite ran and every case passed" "$line" "# $suite: pass:[1-9][0-9]* fail:0 skip:0 total:[1-9]"
done
check "no case failed" sh -c "! dmesg | grep -q 'not ok'"
check "rmmod" rmmod mosix
check "insmod again runs them again" insmod /lib/modules/mosix.ko
n=$(results | grep -c '# mosix_thread: pass:1 fail:0')
expect_eq "the thread suite passed twice" "$n" 2
check "rmmod again" rmmod mosix
