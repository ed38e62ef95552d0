// SPDX-License-Identifier: GPL-2.0
//! Delays the VM tests inject at chosen points (off unless a test turns them on).

use crate::sys::shim;

/// A step of a migration a test may hold back (`MOSIX_DELAY_*` in the shim's header).
#[derive(Clone, Copy)]
pub(crate) enum TestDelay {
    /// `inject_arrival_delay_ms`: before an arrived process is adopted.
    Arrival = 0,
    /// `inject_watch_delay_ms`: before a migrant's watcher takes the link.
    Watch = 1,
    /// `inject_thread_end_delay_ms`: before a migration thread drops its module reference.
    ThreadEnd = 2,
}

/// Test only: waits as long as the delay's module parameter says (0: not at all), logging
/// it, for process `pid` (0: for the current thread).
pub(crate) fn test_delay(which: TestDelay, pid: i32) {
    // SAFETY: No preconditions (it may sleep: called from a migration thread).
    unsafe { shim::mosix_test_delay(which as core::ffi::c_int, pid) }
}
