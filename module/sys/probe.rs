// SPDX-License-Identifier: GPL-2.0
//! The system-call probe and the watched-task table (C), and module references held by
//! moves and threads.

use crate::sys::{
    poll_until,
    shim,
    to_count,
    to_result, //
};
use kernel::{
    ffi::{
        c_int,
        c_long, //
    },
    prelude::*,
    sync::SetOnce,
};

/// What a migrant's system call does here.
pub(crate) enum Verdict {
    /// Run it here.
    Run,
    /// Skip it with this result (answered from what the migrant carried).
    Answer(i64),
    /// Skip it and forward it (the call work then sends it home, or the process with it).
    Forward,
}

/// What the probe and the watched tasks' works call (registered once, at init).
pub(crate) struct ProbeHandlers {
    /// For each system call of a migrant: what it does here.
    pub(crate) verdict: fn(nr: i64, home_pid: i32, args: &[u64; 6]) -> Verdict,
    /// The call work of migrant `token`, in its context: forward call `nr`.
    pub(crate) migrant_work: fn(token: u64, nr: i64),
    /// A work of deputy `token`, in its context: `Some` wait status to end the process with.
    pub(crate) deputy_work: fn(token: u64, which: WorkKind) -> Option<i32>,
    /// A `delete_module` of this module was asked for: empty the node first.
    pub(crate) unload: fn(),
}

static PROBE_HANDLERS: SetOnce<ProbeHandlers> = SetOnce::new();

/// Registers what the probe and the watched works call; until then a migrant's call runs
/// here and a work does nothing. Only the first registration counts (one per load).
pub(crate) fn register_probe(h: ProbeHandlers) {
    let _ = PROBE_HANDLERS.populate(h);
}

/// The system-call probe's question (called by the shim for each call of a migrant): 0 to
/// run it, 1 and `*ret` to skip it with that result, 2 to skip it and forward it.
///
/// # Safety
///
/// `args` points to 6 readable values; `ret` is valid for a write.
#[no_mangle]
unsafe extern "C" fn mosix_migrant_syscall(
    nr: c_long,
    home_pid: i32,
    args: *const u64,
    ret: *mut c_long,
) -> c_int {
    let Some(h) = PROBE_HANDLERS.as_ref() else {
        return 0;
    };
    // SAFETY: Readable (function contract).
    let a = unsafe { &*args.cast::<[u64; 6]>() };
    match (h.verdict)(nr as i64, home_pid, a) {
        Verdict::Run => 0,
        Verdict::Answer(r) => {
            // SAFETY: Valid for a write (function contract).
            unsafe { *ret = r as c_long };
            1
        }
        Verdict::Forward => 2,
    }
}

/// A work of a watched task, in its context (called by the shim): -1, or the wait status
/// with which the task must exit.
#[no_mangle]
extern "C" fn mosix_watched_run(token: u64, kind: c_int, which: c_int, nr: c_long) -> c_long {
    let Some(h) = PROBE_HANDLERS.as_ref() else {
        return -1;
    };
    if kind == Watched::Migrant as c_int {
        (h.migrant_work)(token, nr as i64);
        return -1;
    }
    match WorkKind::from_raw(which).and_then(|w| (h.deputy_work)(token, w)) {
        Some(status) => status as c_long,
        None => -1,
    }
}

/// A `delete_module` call held back by the probe (called by the shim's task work, in the
/// caller's context, before the call runs again): if it names this module and the caller may
/// unload modules, empty the node, then wait (up to 10 s) until the threads and works that
/// moved the processes have wound down and only this work's own module reference is left
/// (otherwise the call fails with `EAGAIN`).
#[no_mangle]
extern "C" fn mosix_unload_requested(name_uaddr: u64) {
    use kernel::{
        uaccess::{
            UserPtr,
            UserSlice, //
        },
        ModuleMetadata,
    };
    // Longer than any module name (`MODULE_NAME_LEN`, 56): a longer one is cut and differs.
    let mut buf = [0u8; 64];
    let Ok(name) = UserSlice::new(UserPtr::from_addr(name_uaddr as usize), buf.len())
        .reader()
        .strcpy_into_buf(&mut buf)
    else {
        return;
    };
    if name.to_bytes() != <crate::LocalModule as ModuleMetadata>::NAME.to_bytes()
        || !capable_sys_module()
    {
        return;
    }
    if let Some(h) = PROBE_HANDLERS.as_ref() {
        (h.unload)();
    }
    // SAFETY: No preconditions.
    poll_until(10_000, 50, || unsafe { shim::mosix_module_refcount() } <= 1);
}

/// Whether the current task has `CAP_SYS_MODULE`.
fn capable_sys_module() -> bool {
    // SAFETY: `capable` has no preconditions; it reads the current task's credentials.
    unsafe { kernel::bindings::capable(kernel::bindings::CAP_SYS_MODULE as i32) }
}

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
