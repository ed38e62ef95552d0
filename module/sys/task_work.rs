// SPDX-License-Identifier: GPL-2.0
//! Jobs queued on a process with `task_work` (`TWA_SIGNAL`): they run in its own context on
//! its way back to user mode.

use crate::sys::{
    exit,
    shim,
    to_result, //
};
use kernel::{
    bindings,
    ffi::c_void,
    prelude::*, //
};

/// A job queued to run in a process's own context (shim `mosix_work_*`); dropping it drops
/// the caller's reference.
///
/// # Invariants
///
/// `w` is a live `struct mosix_work` on which this holds one reference.
pub(crate) struct Work {
    w: core::ptr::NonNull<c_void>,
}

impl Work {
    /// Queues `mosix_job_run(job)` on process `pid`.
    ///
    /// # Safety
    ///
    /// `job` must stay valid until `mosix_job_free(job)`, which the shim calls when the last
    /// reference goes (not if this fails).
    pub(crate) unsafe fn queue(pid: i32, job: *mut c_void) -> Result<Work> {
        let mut err = 0;
        // SAFETY: `err` is valid for writes; `job` per the function's contract.
        let w = unsafe { shim::mosix_work_queue(pid, job, &mut err) };
        Self::queued(w, err)
    }

    /// Queues `mosix_job_run(job)` on the task of the migrant watched as `token` (not on
    /// whatever has its pid by now: a pid is free again once the migrant is reaped).
    ///
    /// # Safety
    ///
    /// As for [`Work::queue`].
    pub(crate) unsafe fn queue_watched(token: u64, job: *mut c_void) -> Result<Work> {
        let mut err = 0;
        // SAFETY: `err` is valid for writes; `job` per the function's contract.
        let w = unsafe { shim::mosix_work_queue_watched(token, job, &mut err) };
        Self::queued(w, err)
    }

    fn queued(w: *mut c_void, err: core::ffi::c_int) -> Result<Work> {
        match core::ptr::NonNull::new(w) {
            // INVARIANT: The shim returns the work with the caller's reference.
            Some(w) => Ok(Work { w }),
            None => Err(Error::from_errno(if err < 0 {
                err
            } else {
                -(bindings::ENOMEM as i32)
            })),
        }
    }

    /// Waits until the job has run: `ETIMEDOUT`, or `ERESTARTSYS` if a signal comes first (the
    /// job then runs on, abandoned).
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

/// A handle on a running job, given to the job itself: it can wake the waiting caller early.
pub(crate) struct WorkHandle(*mut c_void);

impl WorkHandle {
    /// Wraps the shim's pointer.
    ///
    /// # Safety
    ///
    /// `w` is the live `struct mosix_work` of the job that is running.
    pub(crate) unsafe fn new(w: *mut c_void) -> Self {
        WorkHandle(w)
    }

    /// Wakes the caller waiting for the job (the job goes on).
    pub(crate) fn complete(&self) {
        // SAFETY: `self.0` is live while the job runs (constructor contract).
        unsafe { shim::mosix_work_complete(self.0) };
    }

    /// Ends the job and its process: releases what the job's return would have (the
    /// caller's wake-up, the job's reference, the module reference), then exits with wait
    /// status `status`. The job's data may be freed by then: touch nothing of it after.
    pub(crate) fn release_and_exit(self, status: i32) -> ! {
        // SAFETY: `self.0` is live (constructor contract); this gives up the job's references
        // exactly once, since the job never returns to the shim.
        unsafe { shim::mosix_work_release(self.0) };
        exit(status)
    }
}
