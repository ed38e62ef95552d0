// SPDX-License-Identifier: GPL-2.0
//! One forwarded call: set it up to run natively through the stub, and collect its result.

use super::*;

/// Sets up the call of request `frame`: its input buffers in the scratch area, the registers
/// at the stub. `Err(ret)`: answer at once with `ret`.
pub(super) fn start_call(d: &Deputy, frame: &[u8]) -> core::result::Result<(), i64> {
    let errno = sys::errno_ret;
    let Ok((req, plan, data)) = Request::decode(frame) else {
        pr_warn!(
            "process {}: refused a forwarded call it cannot carry\n",
            d.pid
        );
        return Err(errno(ENOSYS));
    };
    let offs = layout(&plan).ok_or(errno(E2BIG))?;
    let mut t = d.task.lock();
    if t.stub == 0 {
        let code = sys::map_any(PAGE, PROT_READ | PROT_EXEC).map_err(errno)?;
        rebuild::poke(code, &stub()).map_err(errno)?;
        t.scratch = sys::map_any(SCRATCH, PROT_READ | PROT_WRITE).map_err(errno)?;
        t.stub = code;
    }
    let mut args = req.args;
    let mut at = 0usize;
    for i in 0..6 {
        if plan.dirs[i] == crate::mcore::forward::Dir::None {
            continue;
        }
        let addr = t.scratch + offs[i];
        if plan.dirs[i].sent() {
            let n = plan.lens[i] as usize;
            let bytes = data.get(at..at + n).ok_or(errno(EPROTO))?;
            at += n;
            UserSlice::new(UserPtr::from_addr(addr as usize), n)
                .writer()
                .write_slice(bytes)
                .map_err(errno)?;
        }
        args[i] = addr;
    }
    t.nr = req.nr as i64;
    t.plan = plan;
    t.offs = offs;
    sys::call_start(t.stub, req.nr as i64, &args);
    Ok(())
}

/// The call's result is back (in the deputy's context): reply with it and its outputs.
pub(super) fn finish_call(d: &Deputy) {
    let ret = sys::call_handed_back();
    let (plan, offs, scratch) = {
        let t = d.task.lock();
        (t.plan, t.offs, t.scratch)
    };
    d.state.store(DeputyCall::Idle as u32, Release);
    let mut lens = reply_lens(&plan, ret);
    let mut out = KVVec::new();
    for i in 0..6 {
        let n = lens[i] as usize;
        if n == 0 {
            continue;
        }
        let from = out.len();
        let ok = out.resize(from + n, 0u8, GFP_KERNEL).is_ok()
            && UserSlice::new(UserPtr::from_addr((scratch + offs[i]) as usize), n)
                .reader()
                .read_slice(&mut out[from..])
                .is_ok();
        if !ok {
            out.truncate(from);
            lens[i] = 0;
        }
    }
    d.reply(ret, lens, &out);
}
