// SPDX-License-Identifier: GPL-2.0
//! Clocks and sleeps.

use crate::sys::{
    fatal_signal,
    shim, //
};
use kernel::bindings;

/// Monotonic time in ns (the clock of process start times).
pub(crate) fn now_ns() -> u64 {
    // SAFETY: No preconditions.
    unsafe { shim::mosix_now_ns() }
}

/// Sleeps up to `ms` milliseconds, or until woken (e.g. by `kthread_stop`).
pub(crate) fn sleep_ms(ms: u32) {
    // SAFETY: Process context.
    unsafe { shim::mosix_sleep_ms(ms) };
}

/// Polls `done` every `step_ms` until it holds (true) or `total_ms` have passed by the clock
/// (false); a fatal signal for the caller ends the wait early (false).
pub(crate) fn poll_until(total_ms: u32, step_ms: u32, mut done: impl FnMut() -> bool) -> bool {
    let end = now_ms() + i64::from(total_ms);
    loop {
        if done() {
            return true;
        }
        if now_ms() >= end || fatal_signal() {
            return false;
        }
        sleep_ms(step_ms);
    }
}

/// Monotonic time in milliseconds (since boot).
pub(crate) fn now_ms() -> i64 {
    // SAFETY: No preconditions.
    let ns = unsafe { bindings::ktime_get() };
    ns / 1_000_000
}

/// Wall-clock seconds (`CLOCK_REALTIME`), truncated to 32 bits.
pub(crate) fn wall_seconds() -> u32 {
    // SAFETY: No preconditions.
    let s = unsafe { bindings::ktime_get_real_seconds() };
    s as u32
}

/// Wall-clock nanoseconds since 1970 (`CLOCK_REALTIME`), 0 before 1970.
pub(crate) fn wall_ns() -> u64 {
    // SAFETY: No preconditions.
    let ns = unsafe { bindings::ktime_get_real() };
    u64::try_from(ns).unwrap_or(0)
}
