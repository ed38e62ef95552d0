// SPDX-License-Identifier: GPL-2.0
//! The `mosix-rwatch` thread: the link's reader while the migrant runs, and sending it home.

use super::*;
use crate::migration::capture::{
    self,
    Figures, //
};

/// A send-home capture job ([`capture::Then`]) on migrant `.0`: the image goes home to its
/// deputy; the migrant then ends here.
#[derive(Clone, Copy)]
pub(super) struct SendHome(u64);

impl capture::Then for SendHome {
    fn mode(self) -> capture::Mode {
        capture::Mode::SendHome { token: self.0 }
    }

    fn not_taken(self) {
        set_gone_home(self.0);
    }

    fn after(self, link: Link, r: &Result<Figures>, _work: &sys::WorkHandle) -> Option<i32> {
        // Home has the process now (or it is lost): it ends here.
        if let Err(e) = r {
            pr_warn!(
                "migration: could not send process {} home (error {})\n",
                sys::current_proc().0,
                e.to_errno()
            );
        }
        set_gone_home(self.0);
        drop(link);
        Some(if r.is_ok() {
            0
        } else {
            wait_status::killed(SIGKILL)
        })
    }
}

/// What became of a try to send a migrant home (see [`hand_home`]).
pub(super) enum Handing {
    /// Its capture job has the link.
    Handed,
    /// It cannot take the job now: the link is back in its `Chan`, nothing said to home.
    Later(Error),
    /// The link is gone.
    Lost(Error),
}

/// Hands the whole link of migrant `token` to a capture job queued on it, which tells home
/// the image follows and sends it. A process that cannot take the job now (it is ending, or
/// stopped) gives the link back, with nothing said to home: the watcher tries again, or
/// finds its wait status (an ending process: home gets it as from any end). Before, home was
/// told first and, when the process ended instead, waited for an image that never came and
/// ended the process with SIGKILL.
pub(super) fn hand_home(chan: &Chan, token: u64) -> Handing {
    let tx = chan.tx.lock().take();
    let rx = chan.rx.lock().take();
    let (tx, (rx, buf)) = match (tx, rx) {
        (Some(tx), Some(rx)) => (tx, rx),
        (tx, rx) => {
            // Only the watcher takes the halves, and always both.
            *chan.tx.lock() = tx;
            *chan.rx.lock() = rx;
            return Handing::Lost(ENOTCONN);
        }
    };
    match capture::queue_on_migrant(token, SendHome(token), Link::join(tx, rx)) {
        Ok(()) => Handing::Handed,
        Err((e, Some(link))) => {
            let (tx, rx) = link.split();
            *chan.tx.lock() = Some(tx);
            *chan.rx.lock() = Some((rx, buf));
            Handing::Later(e)
        }
        Err((e, None)) => Handing::Lost(e),
    }
}

/// The `mosix-rwatch` thread: once the migrant runs, it is the only reader of the link: it
/// hands replies to the migrant's waiting call, delivers signals from home, beats every
/// second, kills the migrant if home is gone or silent for `linktimeout`, sends the process
/// home when it is time (home asks, `expel`, or the process makes a call that runs only at
/// home) once no call is outstanding, and sends the migrant's wait status home when it ends.
pub(super) fn watch_link(token: u64) {
    // (The list's lock is let go before the delay.)
    let pid = PENDING
        .lock()
        .iter()
        .find(|e| e.token == token)
        .map(|e| e.state);
    if let Some(pid) = pid {
        sys::test_delay(sys::TestDelay::Watch, pid);
    }
    // Started once the migrant runs: it is there, or already gone.
    let Some((chan, pid)) = take_for_watch(token) else {
        return;
    };
    let mut beat = 0i64;
    let mut home_alive = true;
    // When a request to go home was first seen, and whether its delay, or a refusal to
    // take the capture job, was logged.
    let (mut asked_at, mut slow_logged, mut refused_logged) = (0i64, false, false);
    loop {
        let seen = chan.ev.seq();
        if let Some(status) = posted_status(token) {
            if home_alive {
                let _ = chan.send_last(kind::EXIT, &[&status.to_le_bytes()]);
            }
            return;
        }
        if !home_alive {
            chan.ev.wait(seen, 200, false);
            continue;
        }
        // While a call waits for its reply the migrant reads the link itself; the watcher
        // stays out of its way (and asleep: no wake-up per frame).
        let calling = chan.call_state() == GuestCall::Call;
        let mut why = if calling { None } else { chan.pump().err() };
        // Going home, once no call is outstanding (the process itself may have asked).
        let asked = chan.asked.load(Acquire);
        // A request to go home is served within a second or so (a call that blocks at home
        // is stopped for it): say when one waits long.
        if asked && asked_at == 0 {
            asked_at = sys::now_ms();
        }
        if asked && !slow_logged && sys::now_ms() - asked_at > 5000 {
            slow_logged = true;
            pr_info!(
                "migration: process {} was asked home {} ms ago; still waiting (call state {})\n",
                pid,
                sys::now_ms() - asked_at,
                chan.state.load(Acquire)
            );
        }
        let going = (asked && chan.step(GuestCall::Idle, GuestEvent::GoHome))
            || chan.call_state() == GuestCall::Homeward;
        if going && why.is_none() {
            match hand_home(&chan, token) {
                Handing::Handed => {
                    chan.set_state(GuestCall::Handed);
                    return;
                }
                // Still on its way home (HOMEWARD): no call starts meanwhile.
                Handing::Later(e) => {
                    if !refused_logged {
                        refused_logged = true;
                        pr_info!(
                            "migration: process {} cannot go home now (error {}): \
                             ending, stopped or short of memory; trying again\n",
                            pid,
                            e.to_errno()
                        );
                    }
                }
                Handing::Lost(e) => why = Some(e),
            }
        }
        let now = sys::now_ms();
        if why.is_none() && now - beat >= 1000 {
            beat = now;
            if let Err(e) = chan.send(kind::HEARTBEAT, &[]) {
                why = Some(e);
            }
        }
        let silent = sys::now_ms() - chan.heard.load(Relaxed);
        if why.is_none() && silent > crate::cluster::param(crate::mcore::params::Param::LinkTimeout)
        {
            why = Some(ETIMEDOUT);
        }
        if let Some(e) = why.or(if chan.lost.load(Acquire) {
            Some(ECONNRESET)
        } else {
            None
        }) {
            pr_warn!(
                "migration: home of process {} is gone (error {}): ending it\n",
                pid,
                e.to_errno()
            );
            let _ = sys::kill(pid, SIGKILL);
            home_alive = false;
            chan.lose();
            chan.set_state(GuestCall::Idle);
            continue;
        }
        if calling {
            sys::sleep_ms(100);
        } else {
            chan.ev.wait(seen, 200, false);
        }
    }
}
