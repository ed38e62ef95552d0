// SPDX-License-Identifier: GPL-2.0
//! Adoption: in the adopter helper's `ADOPT` ioctl, its memory and state are replaced by the
//! migrant's (also how home rebuilds a process that comes back).

use super::*;

/// What the helper must prepare: the migrant's vDSO address and name.
pub(crate) fn info(token: u64) -> Result<(u64, [u8; 16])> {
    let p = PENDING.lock();
    let e = p
        .iter()
        .find(|e| e.token == token && e.state == 0)
        .ok_or(ENOENT)?;
    Ok((e.header.vdso, e.header.comm))
}

/// The `ADOPT` ioctl: the calling helper becomes the migrant. On success returns the value
/// the migrant's `ax` must hold (the ioctl's return value lands there).
pub(crate) fn adopt(token: u64, fd: i32) -> Result<isize> {
    if !sys::capable_sys_admin() {
        return Err(EPERM);
    }
    let mut p = take(token).ok_or(ENOENT)?;
    let Some(mut link) = p.link.take() else {
        return Err(EINVAL);
    };
    let home_pid = p.header.pid;
    let t_helper = sys::now_ns();
    let r = rebuild_current(&mut p, &mut link, Some(fd));
    let pid = sys::current_proc().0;
    if r.is_ok() {
        let ms = |ns: u64| ns / 1_000_000;
        pr_info!(
            "migration: process {} from node {} runs here as {}: helper ready {} ms after the image began, rebuilt in {} ms\n",
            home_pid,
            p.header.home,
            pid,
            ms(t_helper.saturating_sub(p.arrived_ns)),
            ms(sys::now_ns().saturating_sub(t_helper))
        );
    }
    p.state = match r {
        Ok(_) => pid,
        Err(e) => e.to_errno(),
    };
    let ack = answer(&mut link, if r.is_ok() { 0 } else { p.state }, pid);
    if r.is_ok() && ack.is_ok() {
        // From now on the migrant and its watcher share the link.
        match Chan::new(link, pid, p.header.settings) {
            Ok(c) => p.chan = Some(c),
            // Without the channel home gets nothing: the migrant cannot run. (`exit` does
            // not return: the entry, and its arrival count, go first.)
            Err(_) => {
                drop(p);
                sys::exit(KILLED)
            }
        }
    } else {
        p.link = Some(link);
    }
    // Adopted (or failed): a guest `expel` finds from now on, or none. Counted until the
    // entry is back (`expel` reads the count first, then the entries).
    let arriving = p.arriving.take();
    // The remote thread takes the entry back when the helper ends.
    let _ = put(p);
    drop(arriving);
    match (r, ack) {
        (Ok(ax), Ok(())) => {
            // From now on the watcher holds the link (unless the migrant ends before it takes
            // it: the remote thread then sends the status home itself).
            start_watcher(token);
            if let Err(e) = sys::watch_add(sys::Watched::Migrant, token, home_pid) {
                pr_warn!(
                    "migration: system calls of process {} are not watched (error {})\n",
                    pid,
                    e.to_errno()
                );
            }
            // The ioctl system call keeps only an int of its return value: the migrant's
            // full ax is put in place on the way out.
            if sys::set_ax_on_return(ax as u64).is_err() {
                sys::exit(KILLED);
            }
            Ok(ax)
        }
        // Rebuilt, but home did not hear it: it ends the process; so do we.
        (Ok(_), Err(_)) => sys::exit(KILLED),
        // Refused before the helper's memory was touched: it can report and exit.
        (Err(e), _) if e == EXDEV => Err(e),
        // The helper's memory is gone: it cannot go back to user space.
        (Err(_), _) => sys::exit(wait_status::exited(127)),
    }
}

/// Rebuilds the calling process from an image whose head is `p` and whose pages come next
/// on `link`; `fd` (if any) is a descriptor to close. Returns the migrant's `ax`. After an
/// error past the first unmap the process has no memory left: its caller must end it.
pub(crate) fn rebuild_current(p: &mut Pending, link: &mut Link, fd: Option<i32>) -> Result<isize> {
    if rebuild::vdso() != p.header.vdso {
        pr_warn!(
            "migration: the adopter helper did not move its vDSO to {:#x}\n",
            p.header.vdso
        );
        return Err(EXDEV);
    }
    rebuild::unmap_all()?;
    for v in p.vmas.iter().filter(|v| v.flags & VMA_SPECIAL == 0) {
        rebuild::map_anon(
            v.start,
            v.end - v.start,
            v.prot,
            v.flags & VMA_GROWSDOWN != 0,
        )
        .inspect_err(|e| {
            pr_warn!(
                "migration: cannot map {:#x}-{:#x}: error {}\n",
                v.start,
                v.end,
                e.to_errno()
            );
        })?;
    }
    // The pages, straight from the link into place.
    let mut buf = KVVec::new();
    buf.resize(crate::mcore::link::MAX_PAYLOAD as usize, 0u8, GFP_KERNEL)?;
    p.receive_pages(link, &mut buf, &mut |run, data, vmas| {
        let i = vmas.partition_point(|v| v.end <= run.addr);
        if vmas.get(i).is_some_and(|v| v.prot & PROT_WRITE != 0) {
            UserSlice::new(UserPtr::from_addr(run.addr as usize), data.len())
                .writer()
                .write_slice(data)
        } else {
            for (k, page) in data.chunks(PAGE as usize).enumerate() {
                rebuild::poke(run.addr + k as u64 * PAGE, page)?;
            }
            Ok(())
        }
    })?;
    let h = &p.header;
    rebuild::mm(&h.mm);
    rebuild::creds(&h.uids, &h.gids)?;
    rebuild::fpu(&p.fpu)?;
    rebuild::tls(h.fs_base, h.gs_base);
    rebuild::rseq(h.rseq, h.rseq_len, h.rseq_sig);
    rebuild::signals(&p.signals);
    rebuild::rlimits(&p.rlimits);
    sys::set_blocked(h.blocked);
    let mut regs = p.regs;
    fix_restart(&mut regs);
    rebuild::regs(&regs)?;
    // The signals that were pending there are pending here, in the same order (blocked ones
    // wait for the process's mask as they did there).
    for &sig in p.pending.iter() {
        sys::raise(sig as i32);
    }
    if let Some(fd) = fd {
        rebuild::close_fd(fd)?;
    }
    Ok(regs[reg::AX] as isize)
}
