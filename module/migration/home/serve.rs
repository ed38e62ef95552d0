// SPDX-License-Identifier: GPL-2.0
//! The deputy's service: waiting for the migrant's requests in its task's context, coming
//! home, passing signals on, and the works the probe queues on the deputy.

use super::*;
use crate::migration::guest;

/// The deputy's loop, in its own context: waits for what the watcher hands over and acts.
pub(super) fn serve(d: &Deputy) -> Outcome {
    loop {
        // A pump or cancel work queued meanwhile runs after this one; it must not cut the
        // link's socket calls short.
        sys::clear_notify_signal();
        let seen = d.ev.seq();
        if let Err(e) = d.pump() {
            d.lose(true, e);
        }
        if sys::fatal_signal() {
            return end(d, Outcome::Fatal);
        }
        ask_home_if_requested(d);
        forward_signals(d);
        let mut inbox = d.inbox.lock();
        if let Some(rx) = inbox.image.take() {
            drop(inbox);
            return come_home(d, rx);
        }
        if let Some(status) = inbox.exit {
            drop(inbox);
            return end(d, Outcome::Exit(status));
        }
        if inbox.lost {
            drop(inbox);
            return end(d, Outcome::Exit(KILLED));
        }
        if inbox.request {
            inbox.request = false;
            if d.cancelled() {
                // Stopped before it began (its `CANCEL` came with it): it did nothing; the
                // remote's kernel makes it again after the signal's handler (or the process
                // makes it at home).
                drop(inbox);
                d.reply(-ERESTARTNOINTR, [0; 6], &[]);
                continue;
            }
            match start_call(d, &inbox.frame) {
                Ok(()) => {
                    // A `CANCEL` read by the watcher from here on queues the cancel work; one
                    // read before did not (it saw no call running): queue it now. Fully
                    // ordered on both sides: one of them sees the other.
                    d.state.xchg(DeputyCall::Native as u32, Full);
                    if d.cancelled() {
                        let _ = sys::watch_queue(d.token, WorkKind::Cancel);
                    }
                    return Outcome::Native;
                }
                Err(ret) => {
                    drop(inbox);
                    d.reply(ret, [0; 6], &[]);
                    continue;
                }
            }
        }
        drop(inbox);
        d.ev.wait(seen, 200, false);
    }
}

/// Passes on a request (from `migrate` or `bring`) to bring the process home, once: the remote
/// sends the process when no call is outstanding, and stops one that blocks here (it is made
/// again at home). Called by the deputy while it waits and by its watcher while a call runs.
pub(super) fn ask_home_if_requested(d: &Deputy) {
    let mut t = d.task.lock();
    if !t.asked_home && t.slot.is_some_and(|s| s.request.xchg(-1, Acquire) == 0) {
        t.asked_home = true;
        let _ = d.send(kind::GO_HOME, &[]);
    }
}

/// The process comes home: its image follows on `rx`.
pub(super) fn come_home(d: &Deputy, rx: LinkRx) -> Outcome {
    let Some(tx) = d.tx.lock().take() else {
        return end(d, Outcome::Exit(KILLED));
    };
    let mut link = Link::join(tx, rx);
    match rebuild_home(&mut link, d.pid, d.node) {
        Ok(()) => end(d, Outcome::Home),
        Err(_) => end(d, Outcome::Exit(KILLED)),
    }
}

/// Sends the signals pending here to where the process runs (in the deputy's context: while
/// it waits, and in the pump work while a call blocks).
/// Once the process is on its way home they stay pending here. A signal is taken off only
/// under the sending half's lock, where `homeward` cannot change: none is taken and then not
/// sent.
pub(super) fn forward_signals(d: &Deputy) {
    let mut tx = d.tx.lock();
    let Some(tx) = (*tx).as_mut() else { return };
    while !d.homeward.load(Acquire) {
        let sig = sys::take_signal();
        if sig <= 0 {
            break;
        }
        let _ = tx.send(kind::SIGNAL, &[&sig.to_le_bytes()], IDLE_MS);
    }
}

/// A work of deputy `token`, in its context (the probe's [`sys::ProbeHandlers`]): `Some` wait
/// status with which the process must end.
pub(crate) fn deputy_work(token: u64, which: WorkKind) -> Option<i32> {
    if sys::current_gone() {
        return None;
    }
    let d = find(token)?;
    match which {
        WorkKind::Call if d.native() => {
            sys::clear_notify_signal();
            finish_call(&d);
            match serve(&d) {
                Outcome::Exit(status) => Some(status),
                _ => None,
            }
        }
        WorkKind::Call => None,
        WorkKind::Pump => {
            forward_signals(&d);
            None
        }
        WorkKind::Cancel => {
            if d.native() && d.cancelled() {
                let (nr, stub) = {
                    let t = d.task.lock();
                    (t.nr, t.stub)
                };
                // On the way to the stub (the call not begun), or back from the call.
                if !sys::call_skip_unstarted(stub) {
                    sys::call_no_restart(nr);
                }
            }
            None
        }
    }
}

/// Brings the process home over `link`, on which its image follows: rebuilds this task
/// from it, and answers. On success the task returns to user mode as the process.
fn rebuild_home(link: &mut Link, pid: i32, node: u32) -> Result {
    // Heartbeats may still be on the way: skip frames until the image begins.
    let mut head = loop {
        match guest::receive_head(link) {
            Ok(p) => break p,
            Err(e) if e == EPROTO => continue,
            Err(e) => return Err(e),
        }
    };
    if let Err(e) = guest::rebuild_current(&mut head, link, None) {
        pr_warn!(
            "process {}: could not come home from node {} (error {}): ending it\n",
            pid,
            node,
            e.to_errno()
        );
        return Err(e);
    }
    let mut ack = [0u8; 8];
    ack[4..].copy_from_slice(&pid.to_le_bytes());
    let _ = link.send(kind::ACK, &[&ack], IDLE_MS);
    Ok(())
}
