// SPDX-License-Identifier: GPL-2.0
//! Facts and signals of processes: identity, credentials checks, stay facts, resident memory,
//! signals, exit, the adopter helper; and in `task/` the current task's capture, adoption and
//! system-call registers.

use crate::sys::{
    shim,
    to_result,
    to_value, //
};
use kernel::{
    bindings,
    prelude::*, //
};

pub(crate) mod adopt;
mod call;
mod capture;

pub(crate) use call::*;
pub(crate) use capture::*;

/// Whether the current task has `CAP_SYS_ADMIN`.
pub(crate) fn capable_sys_admin() -> bool {
    // SAFETY: `capable` has no preconditions; it reads the current task's credentials.
    unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as i32) }
}

/// The calling process's id, its parent's id and its start time (monotonic ns).
pub(crate) fn current_proc() -> (i32, i32, u64) {
    let (mut pid, mut ppid, mut start) = (0i32, 0i32, 0u64);
    // SAFETY: The pointers are valid for writes; `current` is always valid in process context.
    unsafe { shim::mosix_current_proc(&mut pid, &mut ppid, &mut start) };
    (pid, ppid, start)
}

/// The facts of process `pid`'s kernel state that decide its stay reasons (`mcore::stay`
/// decides). Sleeps.
pub(crate) fn task_facts(pid: i32) -> Result<crate::mcore::stay::TaskFacts> {
    let mut f = shim::TaskFacts::default();
    // SAFETY: Process context (it sleeps on the target's mmap lock); `f` is valid for writes
    // and has the C layout (checked at init).
    to_result(unsafe { shim::mosix_task_facts(pid, &mut f) })?;
    Ok(crate::mcore::stay::TaskFacts {
        kthread: f.kthread != 0,
        init: f.init != 0,
        threads: f.threads,
        policy: f.policy,
        io_ports: f.io_ports != 0,
        addr32: f.addr32 != 0,
        vm_locked: f.vm_locked != 0,
        vm_device: f.vm_device != 0,
        vm_shared: f.vm_shared != 0,
    })
}

/// Whether the caller may control process `pid` (`EPERM`, `ESRCH` if there is none): root
/// (`CAP_SYS_ADMIN`), or its uid or euid is the caller's euid (openMosix's `migrate` rule).
pub(crate) fn may_control(pid: i32) -> Result {
    // SAFETY: No pointers; reads the caller's and the target's credentials.
    to_result(unsafe { shim::mosix_may_control(pid) })
}

/// Process `pid`'s resident memory, bytes.
pub(crate) fn proc_rss(pid: i32) -> Result<u64> {
    // SAFETY: No pointers; takes and drops its own references.
    to_value(unsafe { shim::mosix_proc_rss(pid) })
}

/// Sets the current task's nice value (clamped to -20..19); returns the old one.
pub(crate) fn set_nice(nice: i32) -> i32 {
    // SAFETY: Process context; acts on the current task.
    unsafe { shim::mosix_set_nice(nice) }
}

/// Process `pid`'s parent id and start time.
pub(crate) fn proc_ident(pid: i32) -> Result<(i32, u64)> {
    let (mut ppid, mut start) = (0i32, 0u64);
    // SAFETY: The pointers are valid for writes.
    to_result(unsafe { shim::mosix_proc_ident(pid, &mut ppid, &mut start) })?;
    Ok((ppid, start))
}

/// The calling process's CPU time (all threads, living and exited), ns.
pub(crate) fn current_runtime_ns() -> u64 {
    // SAFETY: Process context; `current` is always valid.
    unsafe { shim::mosix_current_runtime_ns() }
}

/// Sets the current process's blocked signals (SIGKILL and SIGSTOP stay unblocked); the old
/// set.
pub(crate) fn set_blocked(mask: u64) -> u64 {
    // SAFETY: Acts on the current task.
    unsafe { shim::mosix_set_blocked(mask) }
}

/// Maps `len` bytes of anonymous memory anywhere in the current process.
pub(crate) fn map_any(len: u64, prot: u32) -> Result<u64> {
    // SAFETY: Process context; acts on the current process's memory.
    to_value(unsafe { shim::mosix_map_any(len, prot) })
}

/// Whether a signal (or a `TWA_SIGNAL` work) is pending for the current task.
pub(crate) fn signal_pending() -> bool {
    // SAFETY: No preconditions.
    unsafe { shim::mosix_signal_pending() }
}

/// Clears the current task's `TWA_SIGNAL` notification (only inside a task work: works
/// queued meanwhile still run after it, but its socket calls are not cut short by them).
pub(crate) fn clear_notify_signal() {
    // SAFETY: Acts on the current task's flags.
    unsafe { shim::mosix_clear_notify_signal() }
}

/// Sends signal `sig` to process `pid`.
pub(crate) fn kill(pid: i32, sig: i32) -> Result {
    // SAFETY: No pointers; `kill_pid` checks everything.
    to_result(unsafe { shim::mosix_kill(pid, sig) })
}

/// Makes signal `sig` pending for the current task (a real-time signal queues one more
/// instance); `sig` is 1-64 (the image check makes sure).
pub(crate) fn raise(sig: i32) {
    // SAFETY: Acts on the current task; `send_sig` checks the number.
    unsafe { shim::mosix_raise(sig) }
}

/// Whether a fatal signal is pending for the current task.
pub(crate) fn fatal_signal() -> bool {
    // SAFETY: No preconditions.
    unsafe { shim::mosix_fatal_signal() }
}

/// Ends the current process with wait status `status`.
pub(crate) fn exit(status: i32) -> ! {
    // SAFETY: Process context; `do_exit` does not return (objtool knows it).
    unsafe { bindings::do_exit(status as kernel::ffi::c_long) }
}

/// Runs the adopter helper with `token` and waits until it (the migrant) ends: the wait
/// status.
pub(crate) fn run_helper(token: u64) -> Result<i32> {
    // SAFETY: Process context (a kthread); no pointers.
    let r = unsafe { shim::mosix_run_helper(token) };
    to_result(r)?;
    Ok(r)
}

/// Takes one pending signal off the current task (0 if none).
pub(crate) fn take_signal() -> i32 {
    // SAFETY: Acts on the current task under its siglock.
    unsafe { shim::mosix_take_signal() }
}

/// Whether the current process is exiting or has no user memory.
pub(crate) fn current_gone() -> bool {
    // SAFETY: No preconditions.
    unsafe { shim::mosix_current_gone() }
}

/// Whether the current process is ending: exiting ([`current_gone`]), or a fatal signal is
/// on its way (it ends at its next return to user mode).
pub(crate) fn current_ending() -> bool {
    // SAFETY: No preconditions.
    unsafe { shim::mosix_current_ending() }
}

/// The wait status the current process is ending with (meaningful once [`current_ending`]).
pub(crate) fn current_exit_status() -> i32 {
    // SAFETY: No preconditions (reads the current task's own fields).
    unsafe { shim::mosix_current_exit_status() }
}
