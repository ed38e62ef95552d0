// SPDX-License-Identifier: GPL-2.0
//! `/proc/mosix/pid/<pid>/`: the per-process files, following the process table.

use super::*;

/// Makes `/proc/mosix/pid/<pid>/` follow `pids` (sorted): removes the directories of processes
/// that are gone, makes those of new ones. Call without [`procstat::PROCS`] or
/// [`cluster::CONFIG`] held (removal waits for readers, which take them).
pub(crate) fn sync_pids(pids: &[i32]) -> Result {
    let mut guard = PROC_TREE.lock();
    let Some(tree) = guard.as_mut() else {
        // The module is going away.
        return Ok(());
    };
    // Allocated before the old list is taken: a failure leaves every directory in place.
    let mut new = KVVec::with_capacity(pids.len(), GFP_KERNEL)?;
    let old = core::mem::replace(&mut tree.pid_dirs, KVVec::new());
    let mut old = old.into_iter().peekable();
    // A directory that cannot be made now is tried again at the next scan; the others are
    // kept and made (one failure must not take every process's directory away).
    let mut result = Ok(());
    for &pid in pids {
        // Directories of pids below this one are gone (dropped, so removed, here).
        while old.next_if(|(p, _)| *p < pid).is_some() {}
        let entry = match old.next_if(|(p, _)| *p == pid) {
            Some(e) => e,
            None => match pid_dir(&tree.pids, pid) {
                Ok(dir) => (pid, dir),
                Err(e) => {
                    result = Err(e);
                    continue;
                }
            },
        };
        // `pids` is sorted and `new` has room for all of them.
        new.push(entry, GFP_KERNEL)?;
    }
    // INVARIANT: every kept or new directory is a child of `tree.pids`, in pid order.
    tree.pid_dirs = new;
    result
}

/// Makes `/proc/mosix/pid/<pid>/` with its files under `pids`.
pub(super) fn pid_dir(pids: &ProcEntry, pid: i32) -> Result<ProcEntry> {
    let name = CString::try_from_fmt(fmt!("{}", pid))?;
    let dir = ProcEntry::mkdir(&name, Some(pids))?;
    for f in PidField::ALL {
        dir.file(f.name(), f.mode(), ProcFile::Pid(pid, f).cookie())?;
    }
    Ok(dir)
}

/// Process `pid`'s settings (as it has them or will inherit them), parent id and start time.
pub(super) fn pid_settings(pid: i32) -> Result<(Settings, i32, u64)> {
    let (ppid, start) = sys::proc_ident(pid)?;
    Ok((procstat::settings(pid, start, ppid), ppid, start))
}
