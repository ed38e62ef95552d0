// SPDX-License-Identifier: GPL-2.0
//! The registers of the current task's system call (the probe's and the forwarding's view).

use crate::sys::{
    shim,
    to_result, //
};
use kernel::prelude::*;

/// The current task's system-call arguments.
pub(crate) fn call_args() -> [u64; 6] {
    let mut a = [0u64; 6];
    // SAFETY: `a` has room for 6 values; acts on the current task's registers.
    unsafe { shim::mosix_call_args(a.as_mut_ptr()) };
    a
}

/// Sets the current task's `ax` on its way back to user mode, after the current system
/// call's (truncated) return value was stored.
pub(crate) fn set_ax_on_return(ax: u64) -> Result {
    // SAFETY: Acts on the current task; the shim owns the work it queues.
    to_result(unsafe { shim::mosix_set_ax_on_return(ax) })
}

/// Sets the result of the current task's call `nr` (the signal code then applies its
/// restart rules).
pub(crate) fn call_result(nr: i64, ret: i64) {
    // SAFETY: Acts on the current task's registers.
    unsafe { shim::mosix_call_result(nr as core::ffi::c_long, ret as core::ffi::c_long) }
}

/// Makes the current task start call `nr` with `args` at `ip` on its return to user mode.
pub(crate) fn call_start(ip: u64, nr: i64, args: &[u64; 6]) {
    // SAFETY: `args` holds 6 values; acts on the current task's registers.
    unsafe { shim::mosix_call_start(ip, nr as core::ffi::c_long, args.as_ptr()) }
}

/// The value the deputy's stub hands back.
pub(crate) fn call_handed_back() -> i64 {
    // SAFETY: Acts on the current task's registers.
    unsafe { shim::mosix_call_handed_back() as i64 }
}

/// If call `nr` just ended with a restart code, keeps the kernel from restarting it.
pub(crate) fn call_no_restart(nr: i64) -> bool {
    // SAFETY: Acts on the current task's registers.
    unsafe { shim::mosix_call_no_restart(nr as core::ffi::c_long) }
}

/// If the deputy's stub at `stub` has not entered its call yet (a cancel work on the way
/// to user mode), skips the call: the stub hands back `-ERESTARTNOINTR`.
pub(crate) fn call_skip_unstarted(stub: u64) -> bool {
    // SAFETY: Acts on the current task's registers.
    unsafe { shim::mosix_call_skip_unstarted(stub) }
}
