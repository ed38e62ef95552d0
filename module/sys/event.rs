// SPDX-License-Identifier: GPL-2.0
//! Events a thread waits for (a sequence count and a wait queue in C).

use crate::sys::shim;
use kernel::{
    ffi::c_void,
    prelude::*, //
};

/// Something to wait for: a sequence number that [`Event::signal`] advances.
///
/// # Invariants
///
/// `e` is a live `mosix_event`, freed only on drop.
pub(crate) struct Event {
    e: core::ptr::NonNull<c_void>,
}

// SAFETY: The event is a wait queue and an atomic, safe to use from any thread.
unsafe impl Send for Event {}

// SAFETY: As above.
unsafe impl Sync for Event {}

/// How a wait for an [`Event`] ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waited {
    /// The event moved on.
    Moved,
    /// The time ran out.
    Timeout,
    /// A signal is pending (interruptible waits only).
    Interrupted,
}

impl Event {
    pub(crate) fn new() -> Result<Event> {
        // SAFETY: No preconditions.
        let e = unsafe { shim::mosix_event_new() };
        // INVARIANT: A fresh event, freed on drop.
        Ok(Event {
            e: core::ptr::NonNull::new(e).ok_or(ENOMEM)?,
        })
    }

    /// The current sequence number (read before checking the condition waited for).
    pub(crate) fn seq(&self) -> u32 {
        // SAFETY: `e` is live.
        unsafe { shim::mosix_event_seq(self.e.as_ptr()) }
    }

    /// The raw event, for the socket hook (`net.rs`).
    pub(crate) fn as_ptr(&self) -> *mut c_void {
        self.e.as_ptr()
    }

    /// Advances the sequence and wakes every waiter.
    pub(crate) fn signal(&self) {
        // SAFETY: `e` is live.
        unsafe { shim::mosix_event_signal(self.e.as_ptr()) }
    }

    /// Waits up to `ms` for the sequence to move on from `seen`; `intr`: a signal ends the
    /// wait (otherwise the wait takes no signal and does not count as load).
    pub(crate) fn wait(&self, seen: u32, ms: u32, intr: bool) -> Waited {
        // SAFETY: `e` is live; process context.
        match unsafe { shim::mosix_event_wait(self.e.as_ptr(), seen, ms, intr) } {
            1 => Waited::Moved,
            0 => Waited::Timeout,
            _ => Waited::Interrupted,
        }
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: `e` is live and unused after this (nobody waits: we own it).
        unsafe { shim::mosix_event_free(self.e.as_ptr()) }
    }
}

#[kunit_tests(mosix_event)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_moves_the_sequence_and_ends_a_wait() {
        let e = Event::new();
        assert!(e.is_ok());
        let Ok(e) = e else { return };
        let seen = e.seq();
        // Nothing happened: the wait runs out.
        assert!(e.wait(seen, 10, false) == Waited::Timeout);
        e.signal();
        assert_eq!(e.seq(), seen.wrapping_add(1));
        // A wait for what was seen before the signal returns at once.
        assert!(e.wait(seen, 10_000, false) == Waited::Moved);
        // And one for the new value runs out again.
        assert!(e.wait(e.seq(), 10, false) == Waited::Timeout);
    }
}
