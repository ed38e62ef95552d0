// SPDX-License-Identifier: GPL-2.0
//! Rebuilding the current process (the adopter helper's ADOPT ioctl). Every function acts on
//! the calling process only.

use crate::sys::{
    shim,
    to_result, //
    RLIMIT_WORDS,
    SIGNAL_WORDS,
};
use kernel::prelude::*;

/// Unmaps every area but the kernel's special ones.
pub(crate) fn unmap_all() -> Result {
    // SAFETY: Process context; acts on the current process.
    to_result(unsafe { shim::mosix_unmap_all() })
}

/// Unmaps the current process's memory but for its argument and environment strings and
/// its vDSO: the deputy's, once the process runs elsewhere.
pub(crate) fn release_memory() -> Result {
    // SAFETY: Process context; acts on the current task's own memory.
    to_result(unsafe { shim::mosix_release_memory() })
}

/// Maps private anonymous memory at exactly `start`.
pub(crate) fn map_anon(start: u64, len: u64, prot: u32, growsdown: bool) -> Result {
    // SAFETY: Process context; no pointers.
    to_result(unsafe { shim::mosix_map_anon(start, len, prot, growsdown) })
}

/// Writes `buf` at `addr`, even into a read-only private mapping.
pub(crate) fn poke(addr: u64, buf: &[u8]) -> Result {
    let len = u32::try_from(buf.len()).map_err(|_| EINVAL)?;
    // SAFETY: `buf` is valid for `len` bytes.
    to_result(unsafe { shim::mosix_poke(addr, buf.as_ptr(), len) })
}

/// Sets the mm layout fields.
pub(crate) fn mm(v: &[u64; 11]) {
    // SAFETY: `v` holds the 11 values the shim reads.
    unsafe { shim::mosix_adopt_mm(v.as_ptr()) }
}

/// Sets the credentials; the capabilities go unless the ids keep them
/// (`mcore::image::keeps_caps`).
pub(crate) fn creds(uids: &[u32; 4], gids: &[u32; 4]) -> Result {
    let clear = !crate::mcore::image::keeps_caps(uids);
    // SAFETY: Both arrays hold the 4 values the shim reads.
    to_result(unsafe { shim::mosix_adopt_creds(uids.as_ptr(), gids.as_ptr(), clear) })
}

/// Installs the FPU state.
pub(crate) fn fpu(buf: &[u8]) -> Result {
    let len = u32::try_from(buf.len()).map_err(|_| EINVAL)?;
    // SAFETY: `buf` is valid for `len` bytes.
    to_result(unsafe { shim::mosix_adopt_fpu(buf.as_ptr(), len) })
}

/// Registers the migrant's rseq area in place of the helper's.
pub(crate) fn rseq(ptr: u64, len: u32, sig: u32) {
    // SAFETY: Acts on the current task; the area is the migrant's, already in place.
    unsafe { shim::mosix_adopt_rseq(ptr, len, sig) }
}

/// Installs the resource limits.
pub(crate) fn rlimits(v: &[u64; RLIMIT_WORDS]) {
    // SAFETY: `v` holds the `RLIMIT_WORDS` values the shim reads.
    unsafe { shim::mosix_adopt_rlimits(v.as_ptr()) }
}

/// Installs the signal actions and the alternate stack.
pub(crate) fn signals(v: &[u64; SIGNAL_WORDS]) {
    // SAFETY: `v` holds the `SIGNAL_WORDS` values the shim reads.
    unsafe { shim::mosix_adopt_signals(v.as_ptr()) }
}

/// Sets the TLS bases.
pub(crate) fn tls(fs: u64, gs: u64) {
    // SAFETY: Acts on the current task; any value is accepted by the CPU for the current
    // (canonical checks happen on use).
    unsafe { shim::mosix_adopt_tls(fs, gs) }
}

/// Installs the register file `r` of an image (`EINVAL` if its segments are not the current
/// task's; only the flags a user program may change are taken: `mcore::image::adopt_regs`).
pub(crate) fn regs(r: &[u64; 21]) -> Result {
    let mut cur = [0u8; 168];
    crate::sys::capture_regs(&mut cur);
    let mut current = [0u64; 21];
    for (v, b) in current.iter_mut().zip(cur.chunks_exact(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        *v = u64::from_ne_bytes(w);
    }
    let new = crate::mcore::image::adopt_regs(&current, r).map_err(|_| EINVAL)?;
    // SAFETY: `new` holds the 21 values the shim writes to the current task's `pt_regs`.
    unsafe { shim::mosix_set_regs(new.as_ptr()) };
    Ok(())
}

/// Closes descriptor `fd`.
pub(crate) fn close_fd(fd: i32) -> Result {
    // SAFETY: Acts on the current process's descriptor table.
    to_result(unsafe { shim::mosix_close_fd(fd) })
}

/// Where the current process's vDSO starts.
pub(crate) fn vdso() -> u64 {
    // SAFETY: No preconditions.
    unsafe { shim::mosix_current_vdso() }
}
