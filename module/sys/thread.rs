// SPDX-License-Identifier: GPL-2.0
//! Kernel threads, typed: [`Thread`] owns its state and is stopped when its handle drops;
//! [`spawn`] starts a detached thread that runs a closure while it holds a module reference.
//!
//! Neither takes a raw function or a data pointer: the two `extern "C"` trampolines below are
//! the only thread functions, each instantiated for exactly the type it was given, so a caller
//! cannot pair a function with the wrong data (or with none).

use crate::sys::{
    shim,
    test_delay,
    to_result, //
    TestDelay,
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    ffi::{
        c_int,
        c_void, //
    },
    prelude::*,
};

/// What an owned thread runs: `f(&mut state)`.
struct Inner<T> {
    f: fn(&mut T),
    state: T,
}

/// A kernel thread that owns a `T` for its whole life and runs `f(&mut T)`; `f` must return
/// when [`should_stop`] says so. Dropping the handle stops the thread (`kthread_stop` waits
/// for `f` to return, or makes sure it never starts), then drops the `T`.
///
/// # Invariants
///
/// `task` is a started kthread running [`owned::<T>`] on `inner`, referenced
/// (`get_task_struct`) and not yet stopped. `inner` comes from `KBox::into_raw` and only that
/// thread uses it until the handle is dropped.
pub(crate) struct Thread<T: Send + 'static> {
    task: NonNull<bindings::task_struct>,
    inner: NonNull<Inner<T>>,
}

// SAFETY: `kthread_stop` may be called from any thread, and the state is `Send`: it is used
// by the thread, then dropped by whoever drops the handle.
unsafe impl<T: Send + 'static> Send for Thread<T> {}

// SAFETY: The handle offers no `&self` operation.
unsafe impl<T: Send + 'static> Sync for Thread<T> {}

impl<T: Send + 'static> Thread<T> {
    /// Starts kthread `name` running `f(&mut state)`.
    pub(crate) fn start(name: &CStr, state: T, f: fn(&mut T)) -> Result<Self> {
        let inner = KBox::into_raw(KBox::new(Inner { f, state }, GFP_KERNEL)?);
        // SAFETY: `owned::<T>` is the trampoline for exactly this `Inner<T>`, which stays
        // valid until the handle's drop has stopped the thread; `name` goes through "%s".
        let t = unsafe {
            bindings::kthread_create_on_node(
                Some(owned::<T>),
                inner.cast(),
                bindings::NUMA_NO_NODE,
                c"%s".as_char_ptr(),
                name.as_char_ptr(),
            )
        };
        let task = match kernel::error::from_err_ptr(t).and_then(|t| NonNull::new(t).ok_or(ENOMEM))
        {
            Ok(task) => task,
            Err(e) => {
                // SAFETY: From `KBox::into_raw` above; no thread was created to use it.
                drop(unsafe { KBox::from_raw(inner) });
                return Err(e);
            }
        };
        // SAFETY: `task` is a valid kthread that has not run yet; the reference keeps it
        // alive for `kthread_stop`.
        unsafe {
            bindings::get_task_struct(task.as_ptr());
            bindings::wake_up_process(task.as_ptr());
        }
        // INVARIANT: Started and referenced above; `inner` is the thread's only.
        Ok(Thread {
            task,
            // SAFETY: `KBox::into_raw` never returns null.
            inner: unsafe { NonNull::new_unchecked(inner) },
        })
    }
}

impl<T: Send + 'static> Drop for Thread<T> {
    fn drop(&mut self) {
        // SAFETY: `task` is a started kthread we hold a reference on (type invariant);
        // `kthread_stop` wakes it and waits until its function has returned (or makes sure it
        // never runs).
        unsafe {
            bindings::kthread_stop(self.task.as_ptr());
            bindings::put_task_struct(self.task.as_ptr());
        }
        // SAFETY: From `KBox::into_raw` (type invariant); the thread is gone.
        drop(unsafe { KBox::from_raw(self.inner.as_ptr()) });
    }
}

/// The thread function of every [`Thread<T>`].
///
/// # Safety
///
/// `data` is the `Inner<T>` that [`Thread::start`] created for this thread, valid and used by
/// nobody else until the handle's drop has stopped the thread.
unsafe extern "C" fn owned<T: Send + 'static>(data: *mut c_void) -> c_int {
    // SAFETY: See the function's safety section.
    let inner = unsafe { &mut *data.cast::<Inner<T>>() };
    (inner.f)(&mut inner.state);
    0
}

/// Whether the current kthread has been asked to stop.
pub(crate) fn should_stop() -> bool {
    // SAFETY: Called from a kthread's function.
    unsafe { bindings::kthread_should_stop() }
}

/// Starts detached kernel thread `name` running `f`, with a module reference that is dropped
/// only after `f` has returned and everything it owned is dropped. Fails with `ENODEV` once an
/// unload has begun (then `f` is dropped unrun).
pub(crate) fn spawn<F: FnOnce() + Send + 'static>(name: &CStr, f: F) -> Result {
    let f = KBox::into_raw(KBox::new(f, GFP_KERNEL)?);
    // SAFETY: `detached::<F>` is the trampoline for exactly this `KBox<F>`, which the thread
    // owns once it starts; `name` is a valid C string.
    let r = to_result(unsafe { shim::mosix_spawn(detached::<F>, f.cast(), name.as_char_ptr()) });
    if r.is_err() {
        // SAFETY: The thread did not start: the box is ours again.
        drop(unsafe { KBox::from_raw(f) });
    }
    r
}

/// The thread function of every [`spawn`]ed thread.
///
/// # Safety
///
/// `data` is the `KBox<F>` that [`spawn`] gave up to this thread, which holds the module
/// reference `mosix_spawn` took.
unsafe extern "C" fn detached<F: FnOnce() + Send + 'static>(data: *mut c_void) -> c_int {
    // SAFETY: See the function's safety section.
    let f = KBox::into_inner(unsafe { KBox::from_raw(data.cast::<F>()) });
    // Everything `f` owned is dropped when it returns.
    f();
    test_delay(TestDelay::ThreadEnd, 0);
    use kernel::ModuleMetadata;
    let this = <crate::LocalModule as ModuleMetadata>::THIS_MODULE;
    // SAFETY: This thread was started by `spawn`, whose `mosix_spawn` took the module
    // reference this drops; nothing of the module runs in this thread after it (the call
    // does not return, and objtool knows it).
    unsafe { bindings::__module_put_and_kthread_exit(this.as_ptr(), 0) }
}

#[kunit_tests(mosix_thread)]
mod tests {
    use super::*;
    use kernel::sync::atomic::{
        Atomic,
        Relaxed, //
    };

    static DROPS: Atomic<u32> = Atomic::new(0);
    static RUNS: Atomic<u32> = Atomic::new(0);

    /// A thread state that counts its drops.
    struct Counted;

    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Relaxed);
        }
    }

    fn run(_c: &mut Counted) {
        RUNS.fetch_add(1, Relaxed);
        while !should_stop() {
            crate::sys::sleep_ms(1);
        }
    }

    #[test]
    fn the_state_is_dropped_once_after_the_thread_stops() {
        let before = DROPS.load(Relaxed);
        let t = Thread::start(c"mosix-kunit", Counted, run);
        assert!(t.is_ok());
        // Let it start (a thread stopped before it runs never calls its function).
        crate::sys::poll_until(5_000, 1, || RUNS.load(Relaxed) > 0);
        assert_eq!(DROPS.load(Relaxed), before);
        drop(t);
        assert_eq!(DROPS.load(Relaxed), before + 1);
        assert_eq!(RUNS.load(Relaxed), 1);
    }
}
