// SPDX-License-Identifier: GPL-2.0
//! The `mosix-dwatch` thread: the link's reader while the deputy's call runs.

use super::*;

/// The `mosix-dwatch` thread of one deputy: reads the link while the deputy's call blocks, beats every second, passes on signals
/// that arrive here, and ends the deputy's shared part if its task dies mid-call.
pub(super) fn watch_link(d: &Deputy) {
    let mut beat = 0i64;
    loop {
        let seen = d.ev.seq();
        if d.done.load(Acquire) {
            return;
        }
        match sys::watch_state(d.token) {
            // The deputy ended (it forgot its task itself).
            Err(_) => return,
            Ok(s) if s & sys::WS_DEAD != 0 => {
                // Killed here while a call blocked: the process ends (its remote copy with it).
                pr_info!(
                    "process {}: ended at home while away on node {}\n",
                    d.pid,
                    d.node
                );
                end_shared(d);
                return;
            }
            Ok(s) if s & sys::WS_SIGNALS != 0 => {
                if d.native() {
                    let _ = sys::watch_queue(d.token, WorkKind::Pump);
                } else {
                    d.ev.signal();
                }
            }
            Ok(_) => {}
        }
        let now = sys::now_ms();
        if now - beat >= 1000 {
            beat = now;
            // With the owner's settings: a lock set here reaches the remote's balancer.
            let _ = d.send(
                kind::HEARTBEAT,
                &[&crate::procstat::carried(d.pid).encode().to_le_bytes()],
            );
        }
        // While the deputy waits for a request it reads the link itself; the watcher reads
        // only while a call runs (and otherwise sleeps: no wake-up per frame).
        let native = d.native();
        if native {
            ask_home_if_requested(d);
        }
        if let Err(e) = if native { d.pump() } else { Ok(()) } {
            if !d.done.load(Acquire) {
                d.lose(true, e);
            }
            return;
        }
        {
            let ib = d.inbox.lock();
            // The remote is done, or the image follows (the deputy reads it).
            if ib.exit.is_some() || ib.image.is_some() || ib.lost {
                return;
            }
        }
        let silent = sys::now_ms() - d.heard.load(Relaxed);
        if silent > crate::cluster::param(Param::LinkTimeout) {
            pr_warn!(
                "process {}: node {} silent for {} ms: ending the process\n",
                d.pid,
                d.node,
                silent
            );
            d.lose(false, ETIMEDOUT);
            return;
        }
        if native {
            d.ev.wait(seen, 100, false);
        } else {
            sys::sleep_ms(100);
        }
    }
}
