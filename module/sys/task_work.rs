// SPDX-License-Identifier: GPL-2.0
//! Jobs queued on a process with `task_work` (`TWA_SIGNAL`): they run in its own context on
//! its way back to user mode.
//!
//! A job is a [`Job`] in a `KBox`, which the queued work owns once queued: the shim calls the
//! job's trampoline exactly once (a queued task work always runs, at the latest in the task's
//! exit), and the job is dropped when its `run` returns. What the caller wants back it shares
//! with the job itself (an `Arc` of atomics, say); [`Work`] only lets it wait.

use crate::sys::{
    exit,
    shim,
    to_result, //
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    ffi::c_void,
    prelude::*, //
};

/// A job run in a process's own context.
pub(crate) trait Job: Send + 'static {
    /// Runs the job in the process's context; `w` can wake the waiting caller early. The job
    /// is dropped when this returns; then, if it returned a wait status, the process ends with
    /// it (having released what the work's return would have: the caller's wake-up, the work's
    /// reference and its module reference).
    fn run(job: KBox<Self>, w: &WorkHandle) -> Option<i32>;
}

/// Which task a job is queued on.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    /// The process with this pid.
    Pid(i32),
    /// The task of the migrant watched as this token (not whatever has its pid by now: a pid
    /// is free again once the migrant is reaped).
    Watched(u64),
}

/// A queued job's work, for its caller (shim `mosix_work_*`); dropping it drops the caller's
/// reference.
///
/// # Invariants
///
/// `w` is a live `struct mosix_work` on which this holds one reference.
pub(crate) struct Work {
    w: NonNull<c_void>,
}

impl Work {
    /// Queues `job` on `target`. On failure the job comes back, unrun.
    pub(crate) fn queue<J: Job>(
        target: Target,
        job: KBox<J>,
    ) -> core::result::Result<Work, (Error, KBox<J>)> {
        let job = KBox::into_raw(job);
        let mut err = 0;
        // SAFETY: `run::<J>` is the trampoline for exactly this `KBox<J>`, which the work owns
        // once queued; `err` is valid for writes.
        let w = unsafe {
            match target {
                Target::Pid(pid) => shim::mosix_work_queue(pid, run::<J>, job.cast(), &mut err),
                Target::Watched(token) => {
                    shim::mosix_work_queue_watched(token, run::<J>, job.cast(), &mut err)
                }
            }
        };
        match NonNull::new(w) {
            // INVARIANT: The shim returns the work with the caller's reference.
            Some(w) => Ok(Work { w }),
            None => {
                let e = Error::from_errno(if err < 0 {
                    err
                } else {
                    -(bindings::ENOMEM as i32)
                });
                // SAFETY: The job was not queued: it is the caller's again.
                Err((e, unsafe { KBox::from_raw(job) }))
            }
        }
    }

    /// Waits until the job has run (or woke the caller): `ETIMEDOUT`, or `ERESTARTSYS` if a
    /// fatal signal comes first (the job then runs on, abandoned).
    pub(crate) fn wait(&self, ms: u32) -> Result {
        // SAFETY: `w` is live (type invariant).
        to_result(unsafe { shim::mosix_work_wait(self.w.as_ptr(), ms) })
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        // SAFETY: We hold one reference (type invariant) and give it up.
        unsafe { shim::mosix_work_put(self.w.as_ptr()) };
    }
}

/// The trampoline the shim calls for a job of type `J`.
///
/// # Safety
///
/// `job` is the `KBox<J>` that [`Work::queue`] gave up to this work, `w` the live work that
/// runs it; called once.
unsafe extern "C" fn run<J: Job>(job: *mut c_void, w: *mut c_void) {
    // SAFETY: See the function's safety section: the box is ours now.
    let job = unsafe { KBox::from_raw(job.cast::<J>()) };
    let handle = WorkHandle(w);
    if let Some(status) = J::run(job, &handle) {
        // SAFETY: `w` is live (the work runs it); this gives up the work's references exactly
        // once, since the job does not return to the shim. The job has been dropped.
        unsafe { shim::mosix_work_release(w) };
        exit(status)
    }
}

/// A handle on a running job, given to the job itself.
///
/// # Invariants
///
/// The pointer is the live `struct mosix_work` of the job that is running; only the [`run`]
/// trampoline makes one, and it lives no longer than the job's `run`.
pub(crate) struct WorkHandle(*mut c_void);

impl WorkHandle {
    /// Wakes the caller waiting for the job (the job goes on).
    pub(crate) fn complete(&self) {
        // SAFETY: `self.0` is live while the job runs (type invariant).
        unsafe { shim::mosix_work_complete(self.0) };
    }
}
