// SPDX-License-Identifier: GPL-2.0
//! Where a migrated process is in its system calls, on each side of its link: the states the
//! module keeps in atomics (as `u32`), and the only transitions it makes between them.
//!
//! The migrant's side ([`GuestCall`], on the target): a call is forwarded only from `Idle`;
//! going home starts only from `Idle` (so never in the middle of a call) and ends with the
//! capture job queued (`Handed`); losing home puts it back to `Idle` whatever it was doing.
//! The deputy's side ([`DeputyCall`], at home) has two states and no condition on them: it
//! becomes `Native` when it sets a forwarded call up to run in user mode through the stub, and
//! `Idle` again when the stub hands the result back.

/// The migrant's side of its calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum GuestCall {
    /// No call outstanding.
    Idle = 0,
    /// A forwarded call waits for its reply.
    Call = 1,
    /// The migrant is to go home: no call may start.
    Homeward = 2,
    /// Its capture job is queued: it goes home when its current work ends.
    Handed = 3,
}

/// What happens to the migrant's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestEvent {
    /// The migrant starts forwarding a call.
    CallStarts,
    /// The call's reply came (or its request could not be sent).
    CallEnds,
    /// The process is to go home (its call runs only there, or home or `expel` asked).
    GoHome,
    /// The capture job that takes it home is queued.
    Handed,
    /// Home is gone: the migrant is ended and nothing is outstanding any more.
    LinkLost,
}

impl GuestCall {
    /// The state stored as `v`.
    pub const fn from_u32(v: u32) -> Option<GuestCall> {
        match v {
            0 => Some(GuestCall::Idle),
            1 => Some(GuestCall::Call),
            2 => Some(GuestCall::Homeward),
            3 => Some(GuestCall::Handed),
            _ => None,
        }
    }

    /// The state after `e`, or `None` if `e` cannot happen now.
    pub const fn on(self, e: GuestEvent) -> Option<GuestCall> {
        use GuestCall::*;
        match (self, e) {
            (Idle, GuestEvent::CallStarts) => Some(Call),
            (Call, GuestEvent::CallEnds) => Some(Idle),
            (Idle, GuestEvent::GoHome) => Some(Homeward),
            (Homeward, GuestEvent::Handed) => Some(Handed),
            (_, GuestEvent::LinkLost) => Some(Idle),
            _ => None,
        }
    }
}

/// The deputy's side of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum DeputyCall {
    /// Waiting for a request, in the kernel.
    Idle = 0,
    /// Running a forwarded call in user mode.
    Native = 1,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn guest_event() -> impl Strategy<Value = GuestEvent> {
        prop_oneof![
            Just(GuestEvent::CallStarts),
            Just(GuestEvent::CallEnds),
            Just(GuestEvent::GoHome),
            Just(GuestEvent::Handed),
            Just(GuestEvent::LinkLost),
        ]
    }

    #[test]
    fn states_round_trip_their_numbers() {
        for s in [
            GuestCall::Idle,
            GuestCall::Call,
            GuestCall::Homeward,
            GuestCall::Handed,
        ] {
            assert_eq!(GuestCall::from_u32(s as u32), Some(s));
        }
        assert_eq!(GuestCall::from_u32(4), None);
    }

    proptest! {
        /// Any sequence of events, each applied where it can happen: no call starts once the
        /// migrant is on its way home; `Handed` comes only from `Homeward`; a call ends only
        /// if one started; losing home always settles `Idle`; every state is reachable only
        /// through these edges.
        #[test]
        fn guest_invariants(events in proptest::collection::vec(guest_event(), 0..64)) {
            let mut s = GuestCall::Idle;
            let mut trace = Vec::new();
            for e in events {
                let next = s.on(e);
                match e {
                    GuestEvent::CallStarts => prop_assert_eq!(next.is_some(), s == GuestCall::Idle),
                    GuestEvent::CallEnds => prop_assert_eq!(next.is_some(), s == GuestCall::Call),
                    GuestEvent::GoHome => prop_assert_eq!(next.is_some(), s == GuestCall::Idle),
                    GuestEvent::Handed => prop_assert_eq!(next.is_some(), s == GuestCall::Homeward),
                    GuestEvent::LinkLost => prop_assert_eq!(next, Some(GuestCall::Idle)),
                }
                if let Some(n) = next {
                    if n == GuestCall::Handed {
                        prop_assert_eq!(s, GuestCall::Homeward);
                    }
                    if n == GuestCall::Call {
                        prop_assert!(s != GuestCall::Homeward && s != GuestCall::Handed);
                    }
                    trace.push((s, e, n));
                    s = n;
                }
            }
            // From `Homeward` or `Handed` only home's loss gets back to `Idle`.
            for w in trace.windows(2) {
                let (_, _, a) = w[0];
                let (_, e, b) = w[1];
                if matches!(a, GuestCall::Homeward | GuestCall::Handed) && b == GuestCall::Idle {
                    prop_assert_eq!(e, GuestEvent::LinkLost);
                }
            }
        }
    }
}
