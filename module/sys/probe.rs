// SPDX-License-Identifier: GPL-2.0
//! The system-call probe and the watched-task table (C), and module references held by
//! moves and threads.

use crate::sys::{
    shim,
    to_count,
    to_result, //
};
use kernel::prelude::*;

/// A module reference held while a balancing move runs (so that `rmmod` cannot start
/// meanwhile); `None` once the module is going away.
pub(crate) struct ModuleHold(());

impl ModuleHold {
    /// Takes a reference unless the module is being unloaded.
    pub(crate) fn take() -> Option<ModuleHold> {
        // SAFETY: No preconditions.
        unsafe { shim::mosix_module_hold() }.then_some(ModuleHold(()))
    }
}

impl Drop for ModuleHold {
    fn drop(&mut self) {
        // SAFETY: The reference taken by `take`.
        unsafe { shim::mosix_module_release() };
    }
}

/// What a watched task is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watched {
    /// A migrant hosted here.
    Migrant = 1,
    /// The deputy of a process that is away.
    Deputy = 2,
}

/// The works of a watched task (run in its context by the shim's task work).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum WorkKind {
    /// A migrant's forwarded call; a deputy's handed-back result.
    Call = 0,
    /// A deputy: send the signals pending here to the process.
    Pump = 1,
    /// A deputy: the process gave up waiting: stop the call.
    Cancel = 2,
}

impl WorkKind {
    pub(crate) fn from_raw(w: core::ffi::c_int) -> Option<WorkKind> {
        match w {
            0 => Some(WorkKind::Call),
            1 => Some(WorkKind::Pump),
            2 => Some(WorkKind::Cancel),
            _ => None,
        }
    }
}

/// `watch_state` bits.
pub(crate) const WS_DEAD: u32 = 1;

pub(crate) const WS_SIGNALS: u32 = 2;

/// Records the current task as watched under `token` (registers the system-call probe for
/// the first one).
pub(crate) fn watch_add(kind: Watched, token: u64, home_pid: i32) -> Result {
    // SAFETY: Process context; acts on the current task.
    to_result(unsafe { shim::mosix_watch_add(kind as core::ffi::c_int, token, home_pid) })
}

/// Forgets the task watched under `token` (the probe goes off later: [`probe_idle`]).
pub(crate) fn watch_remove(token: u64) {
    // SAFETY: Process context (it may sleep for the tracepoint grace period).
    unsafe { shim::mosix_watch_remove(token) }
}

/// Queues work `which` on the task watched under `token` (`ESRCH`: gone).
pub(crate) fn watch_queue(token: u64, which: WorkKind) -> Result {
    // SAFETY: Process context; no pointers.
    to_result(unsafe { shim::mosix_watch_queue(token, which as core::ffi::c_int) })
}

/// What the current task is watched as, with its token: a migrant hosted here, a deputy, or
/// (`None`) neither.
pub(crate) fn current_watch() -> Option<(Watched, u64)> {
    let mut token = 0u64;
    // SAFETY: Process context; `token` is valid for a write.
    match unsafe { shim::mosix_current_watch(&mut token) } {
        1 => Some((Watched::Migrant, token)),
        2 => Some((Watched::Deputy, token)),
        _ => None,
    }
}

/// `WS_*` bits of the task watched under `token`.
pub(crate) fn watch_state(token: u64) -> Result<u32> {
    // SAFETY: Process context; no pointers.
    let r = unsafe { shim::mosix_watch_state(token) };
    Ok(to_count(r)? as u32)
}

/// Unregisters the system-call probe once nothing holds a module reference (see the shim's
/// `mosix_probe_idle`); the load sampler calls it on each tick.
pub(crate) fn probe_idle() {
    // SAFETY: Process context (the sampler kthread); it may sleep.
    unsafe { shim::mosix_probe_idle() }
}

/// The system-call probe's owner at unload: the probe goes on with the first migration
/// thread or watched task and off on the load sampler's tick once nothing holds a module
/// reference ([`probe_idle`]); dropped last at unload, when nothing can turn it on any more,
/// this turns it off if the sampler has not yet.
pub(crate) struct Probe;

impl Drop for Probe {
    fn drop(&mut self) {
        // SAFETY: Process context (module exit); it may sleep.
        unsafe { shim::mosix_probe_unload() }
    }
}
