// SPDX-License-Identifier: GPL-2.0
//! The migrant's system calls: the probe's verdict, and forwarding a call to the deputy (or
//! sending the process home to make it there).

use super::*;

/// What a migrant's system call does here (the probe's question, [`sys::ProbeHandlers`]).
pub(crate) fn on_syscall(nr: i64, home_pid: i32, args: &[u64; 6]) -> sys::Verdict {
    use crate::mcore::{forward::classify, syscalls::Place};
    use sys::Verdict;
    match classify(nr as u64, args).place {
        Place::Local => Verdict::Run,
        // The emulated calls are getpid and gettid: the process keeps its home pid wherever
        // it runs (single-threaded: tid = pid).
        Place::Emulated => Verdict::Answer(i64::from(home_pid)),
        Place::Home | Place::GoHome => Verdict::Forward,
    }
}

/// The call work of a migrant (in its context): forwards call `nr` to the deputy and puts
/// its result in place, or sends the process home to run it there.
pub(crate) fn forward(token: u64, nr: i64) {
    use crate::mcore::{forward::classify, syscalls::Place};
    if sys::current_gone() {
        return;
    }
    let Some(chan) = chan_of(token) else {
        sys::call_result(nr, sys::errno_ret(ENOSYS));
        return;
    };
    let mut args = sys::call_args();
    let call = classify(nr as u64, &args);
    let r = match call.place {
        Place::Home => forward_call(&chan, nr, &call, &mut args),
        _ => Err(EXDEV),
    };
    match r {
        Ok(ret) => sys::call_result(
            nr,
            if ret == -ERESTART_RESTARTBLOCK {
                sys::errno_ret(EINTR)
            } else {
                ret
            },
        ),
        // Runs only at home (or cannot travel): the process goes home and makes the call
        // there; the image rewinds it.
        Err(_) => go_home(&chan, nr),
    }
}

/// Sends the process home from within its call `nr`: asks the watcher and waits until the
/// capture job is queued (it runs when this work returns).
pub(super) fn go_home(chan: &Chan, nr: i64) {
    sys::call_result(nr, -ERESTARTNOINTR);
    if !chan.step(GuestCall::Idle, GuestEvent::GoHome) && chan.call_state() != GuestCall::Homeward {
        return;
    }
    loop {
        let seen = chan.ev.seq();
        if chan.call_state() == GuestCall::Handed || chan.lost.load(Acquire) || sys::fatal_signal()
        {
            return;
        }
        chan.ev.wait(seen, 1000, false);
    }
}

/// Forwards one call; its result. `Err`: the call is to be made at home (it cannot travel, or
/// it was stopped for the move home). A signal here, or a request to go home, stops a call
/// that blocks at home: the reply then says how it ended (a restart code if it had done
/// nothing).
pub(super) fn forward_call(
    chan: &Chan,
    nr: i64,
    call: &crate::mcore::syscalls::Call,
    args: &mut [u64; 6],
) -> Result<i64> {
    use crate::mcore::{
        forward::{plan, Dir, Reply, Request},
        syscalls::PATH_MAX,
    };
    let efault = sys::errno_ret(EFAULT);
    let mut p = plan(call, args).ok_or(E2BIG)?;
    let mut data = KVVec::new();
    let mut path = KVVec::new();
    for (i, &a) in args.iter().enumerate() {
        let at = UserPtr::from_addr(a as usize);
        match p.dirs[i] {
            Dir::Str => {
                if path.is_empty() {
                    path.resize(PATH_MAX as usize + 1, 0u8, GFP_KERNEL)?;
                }
                let Ok(s) = UserSlice::new(at, PATH_MAX as usize + 1)
                    .reader()
                    .strcpy_into_buf(&mut path)
                else {
                    return Ok(efault);
                };
                let bytes = s.to_bytes_with_nul();
                if bytes.len() > PATH_MAX as usize {
                    return Ok(sys::errno_ret(ENAMETOOLONG));
                }
                p.lens[i] = bytes.len() as u32;
                data.extend_from_slice(bytes, GFP_KERNEL)?;
            }
            Dir::In | Dir::InOut => {
                let from = data.len();
                data.resize(from + p.lens[i] as usize, 0u8, GFP_KERNEL)?;
                if UserSlice::new(at, p.lens[i] as usize)
                    .reader()
                    .read_slice(&mut data[from..])
                    .is_err()
                {
                    return Ok(efault);
                }
            }
            _ => {}
        }
    }
    // Asked home (or on its way): the call is made there. A process that makes one call
    // after another would otherwise keep its watcher from ever finding it idle.
    if chan.asked.load(Acquire) || !chan.step(GuestCall::Idle, GuestEvent::CallStarts) {
        return Err(EXDEV);
    }
    let req = Request {
        nr: nr as u64,
        args: *args,
        lens: p.lens,
    };
    // A frame is sent whole: no signal may cut the socket call short.
    let old = sys::set_blocked(!0);
    let sent = chan.send(kind::REQUEST, &[&req.encode(), &data]);
    sys::set_blocked(old);
    if sent.is_err() {
        chan.set_state(GuestCall::Idle);
        return Ok(sys::errno_ret(EIO));
    }
    let (mut cancelled, mut for_home) = (false, false);
    let ret = loop {
        let seen = chan.ev.seq();
        // Read what has come (a frame is read whole: no signal may cut it short).
        let old = sys::set_blocked(!0);
        let pumped = chan.pump();
        sys::set_blocked(old);
        if pumped.is_err() {
            chan.lose();
        }
        {
            let mut r = chan.reply.lock();
            if r.0 {
                r.0 = false;
                let Ok((reply, mut out)) = Reply::decode(&r.1, &p) else {
                    pr_warn!("migration: a malformed reply to call {}\n", nr);
                    break sys::errno_ret(EIO);
                };
                let mut ret = reply.ret;
                for (i, &a) in args.iter().enumerate() {
                    let n = reply.lens[i] as usize;
                    if n == 0 {
                        continue;
                    }
                    let (bytes, rest) = out.split_at(n.min(out.len()));
                    out = rest;
                    let at = UserPtr::from_addr(a as usize);
                    if UserSlice::new(at, n).writer().write_slice(bytes).is_err() {
                        ret = efault;
                    }
                }
                break ret;
            }
        }
        if chan.lost.load(Acquire) || sys::fatal_signal() {
            break sys::errno_ret(EINTR);
        }
        let homeward =
            crate::mcore::syscalls::stops_for_move(nr as u64) && chan.asked.load(Acquire);
        if !cancelled && (sys::signal_pending() || homeward) {
            // A signal for the process, or it is to go home: stop the call at home; its reply
            // says how it ended.
            cancelled = true;
            for_home = !sys::signal_pending();
            let old = sys::set_blocked(!0);
            let _ = chan.send(kind::CANCEL, &[]);
            sys::set_blocked(old);
        }
        chan.ev.wait(seen, 1000, !cancelled);
    };
    chan.set_state(GuestCall::Idle);
    // Stopped at home only for the move home, before it did anything, with no signal here to
    // explain it: the process makes the call again at home.
    if for_home
        && !sys::signal_pending()
        && crate::mcore::syscalls::remade_after_stop(nr as u64, ret)
    {
        return Err(EAGAIN);
    }
    Ok(ret)
}

/// After the helper has ended: its wait status home, or why it never became the migrant.
pub(super) fn finish(link: &mut Link, state: i32, status: Result<i32>) {
    match (state, status) {
        (pid, Ok(status)) if pid > 0 => {
            let _ = link.send_last(kind::EXIT, &[&status.to_le_bytes()]);
        }
        (err, _) if err < 0 => {
            let _ = answer_last(link, err, 0);
        }
        (_, Err(e)) => {
            pr_warn!("migration: cannot run the adopter helper mosix-adopt (error {}): is it installed in /sbin or /bin?\n", e.to_errno());
            let _ = answer_last(link, e.to_errno(), 0);
        }
        (_, Ok(status)) => {
            pr_warn!(
                "migration: the adopter helper ended (status {:#x}) before adopting\n",
                status
            );
            let _ = answer_last(link, ECHILD.to_errno(), 0);
        }
    }
}
