// SPDX-License-Identifier: GPL-2.0
//! Kernel threads: one owned by its handle (stopped on drop) and detached ones that hold a
//! module reference.

use crate::sys::{
    shim,
    test_delay,
    to_result, //
    TestDelay,
};
use kernel::{
    bindings,
    ffi::c_void,
    prelude::*, //
};

/// A kernel thread running `f` until it is stopped (on drop).
///
/// # Invariants
///
/// `task` is a started kthread, holding a reference (`get_task_struct`), not yet stopped.
pub(crate) struct KThread {
    task: core::ptr::NonNull<bindings::task_struct>,
}

// SAFETY: `kthread_stop` may be called from any thread.
unsafe impl Send for KThread {}

// SAFETY: The handle offers no `&self` operations.
unsafe impl Sync for KThread {}

impl KThread {
    /// Starts kthread `name` running `f`; `f` must return when [`should_stop`] says so.
    pub(crate) fn run(
        name: &CStr,
        f: unsafe extern "C" fn(*mut c_void) -> kernel::ffi::c_int,
    ) -> Result<KThread> {
        // SAFETY: A null `data` is what `f` expects (it takes no data).
        unsafe { Self::run_with(name, f, core::ptr::null_mut()) }
    }

    /// Starts kthread `name` running `f(data)`; `f` must return when [`should_stop`] says so.
    ///
    /// # Safety
    ///
    /// `data` must stay valid for `f` until the returned handle is dropped (which waits for
    /// `f` to return). `f` may also never run, if the handle is dropped early.
    pub(crate) unsafe fn run_with(
        name: &CStr,
        f: unsafe extern "C" fn(*mut c_void) -> kernel::ffi::c_int,
        data: *mut c_void,
    ) -> Result<KThread> {
        // SAFETY: `f` has the kthread signature; `data` is valid as long as `f` may use it
        // (function contract); `name` is printed through a `%s` format.
        let t = unsafe {
            bindings::kthread_create_on_node(
                Some(f),
                data,
                bindings::NUMA_NO_NODE,
                c"%s".as_char_ptr(),
                name.as_char_ptr(),
            )
        };
        let t = kernel::error::from_err_ptr(t)?;
        let task = core::ptr::NonNull::new(t).ok_or(ENOMEM)?;
        // SAFETY: `t` is a valid, not yet running kthread; keep it alive for `kthread_stop`.
        unsafe {
            bindings::get_task_struct(t);
            bindings::wake_up_process(t);
        }
        // INVARIANT: Started and referenced above.
        Ok(KThread { task })
    }
}

impl Drop for KThread {
    fn drop(&mut self) {
        // SAFETY: `task` is a started kthread we hold a reference on (type invariant);
        // `kthread_stop` wakes it and waits for its function to return.
        unsafe {
            bindings::kthread_stop(self.task.as_ptr());
            bindings::put_task_struct(self.task.as_ptr());
        }
    }
}

/// Whether the current kthread has been asked to stop.
pub(crate) fn should_stop() -> bool {
    // SAFETY: Called from a kthread's function.
    unsafe { bindings::kthread_should_stop() }
}

/// Starts a detached kernel thread running `f(data)`; it holds a module reference and must
/// end with [`thread_exit`].
///
/// # Safety
///
/// `data` must stay valid for `f`, which owns it.
pub(crate) unsafe fn spawn(
    name: &CStr,
    f: unsafe extern "C" fn(*mut c_void) -> core::ffi::c_int,
    data: *mut c_void,
) -> Result {
    // SAFETY: `name` is a valid C string; `data` per the contract.
    to_result(unsafe { shim::mosix_spawn(f, data, name.as_char_ptr()) })
}

/// Ends a thread started by [`spawn`], dropping its module reference.
pub(crate) fn thread_exit() -> ! {
    use kernel::ModuleMetadata;
    test_delay(TestDelay::ThreadEnd, 0);
    let this = <crate::LocalModule as ModuleMetadata>::THIS_MODULE;
    // SAFETY: Called at the end of a thread from `spawn` (its contract), which took the
    // module reference this drops; the call does not return (objtool knows it).
    unsafe { bindings::__module_put_and_kthread_exit(this.as_ptr(), 0) }
}

/// A kernel thread that owns a `T` for its whole life: the thread function gets `&mut T`;
/// dropping this stops the thread (`kthread_stop` waits for it), then frees the `T`.
///
/// # Invariants
///
/// `state` comes from `KBox::into_raw` and is used only by `thread` until `thread` is dropped.
pub(crate) struct OwnedThread<T> {
    thread: Option<KThread>,
    state: core::ptr::NonNull<T>,
}

// SAFETY: The state is only touched by the thread, then freed by whoever drops this.
unsafe impl<T: Send> Send for OwnedThread<T> {}

// SAFETY: No `&self` operation touches the state.
unsafe impl<T: Send> Sync for OwnedThread<T> {}

impl<T> OwnedThread<T> {
    /// Starts thread `name` running `f(state)`.
    ///
    /// # Safety
    ///
    /// `f` must use its argument only as the `&mut T` it is, and only until it returns.
    pub(crate) unsafe fn start(
        name: &CStr,
        state: T,
        f: unsafe extern "C" fn(*mut c_void) -> kernel::ffi::c_int,
    ) -> Result<Self> {
        let state = KBox::new(state, GFP_KERNEL)?;
        let state = core::ptr::NonNull::new(KBox::into_raw(state)).ok_or(ENOMEM)?;
        // SAFETY: `state` stays valid until `drop` has stopped the thread; `f` per contract.
        match unsafe { KThread::run_with(name, f, state.as_ptr().cast()) } {
            // INVARIANT: `state` is handed to the thread only.
            Ok(t) => Ok(OwnedThread {
                thread: Some(t),
                state,
            }),
            Err(e) => {
                // SAFETY: From `KBox::into_raw` above; no thread uses it.
                drop(unsafe { KBox::from_raw(state.as_ptr()) });
                Err(e)
            }
        }
    }
}

impl<T> Drop for OwnedThread<T> {
    fn drop(&mut self) {
        // Stop the thread first: its function has returned when `kthread_stop` returns.
        drop(self.thread.take());
        // SAFETY: From `KBox::into_raw` (type invariant); the thread is gone.
        drop(unsafe { KBox::from_raw(self.state.as_ptr()) });
    }
}
