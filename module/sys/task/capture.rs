// SPDX-License-Identifier: GPL-2.0
//! Capturing the current task's state (its image's parts), in its own context.

use crate::sys::{
    shim,
    to_value, //
};
use core::mem::size_of;
use kernel::{
    bindings,
    prelude::*, //
};

/// The current process's VMAs, into `out` (resized).
pub(crate) fn capture_vmas(out: &mut KVVec<crate::mcore::image::VmaDesc>) -> Result {
    for _ in 0..4 {
        let max = out.capacity().max(64);
        out.resize(max, Default::default(), GFP_KERNEL)?;
        // SAFETY: `out` holds `max` writable `VmaDesc`s, the layout of `struct mosix_vma`
        // (checked at init); process context.
        let n = unsafe { shim::mosix_capture_vmas(out.as_mut_ptr(), max) };
        let n = to_value(n as i64)? as usize;
        if n <= max {
            out.truncate(n);
            return Ok(());
        }
        out.reserve(n.saturating_add(16).saturating_sub(out.len()), GFP_KERNEL)?;
    }
    Err(EAGAIN)
}

/// Identity and layout of the current process.
pub(crate) struct Ids {
    pub(crate) uids: [u32; 4],
    pub(crate) gids: [u32; 4],
    pub(crate) comm: [u8; 16],
    pub(crate) mm: [u64; 11],
    pub(crate) vdso: u64,
    pub(crate) fs_base: u64,
    pub(crate) gs_base: u64,
    pub(crate) blocked: u64,
}

/// Reads the current process's identity and layout.
pub(crate) fn capture_ids() -> Ids {
    let mut i = Ids {
        uids: [0; 4],
        gids: [0; 4],
        comm: [0; 16],
        mm: [0; 11],
        vdso: 0,
        fs_base: 0,
        gs_base: 0,
        blocked: 0,
    };
    // SAFETY: Every pointer is valid for the number of elements the shim writes (4, 4, 16,
    // 11, 1, 1, 1, 1); process context.
    unsafe {
        shim::mosix_capture_ids(
            i.uids.as_mut_ptr(),
            i.gids.as_mut_ptr(),
            i.comm.as_mut_ptr(),
            i.mm.as_mut_ptr(),
            &mut i.vdso,
            &mut i.fs_base,
            &mut i.gs_base,
            &mut i.blocked,
        )
    };
    i
}

const _: () = assert!(size_of::<bindings::pt_regs>() == 168);

/// The current process's registered rseq area: (address, length, signature), 0s if none.
pub(crate) fn capture_rseq() -> (u64, u32, u32) {
    let (mut p, mut l, mut s) = (0u64, 0u32, 0u32);
    // SAFETY: The pointers are valid for writes.
    unsafe { shim::mosix_capture_rseq(&mut p, &mut l, &mut s) };
    (p, l, s)
}

/// Number of u64 in the signal state (`mcore::image::SIGNALS_LEN` / 8).
pub(crate) const SIGNAL_WORDS: usize = 64 * 4 + 3;

const _: () = assert!(SIGNAL_WORDS * 8 == crate::mcore::image::SIGNALS_LEN);

/// The current process's signal actions and alternate stack.
pub(crate) fn capture_signals(out: &mut [u64; SIGNAL_WORDS]) {
    // SAFETY: `out` holds the `SIGNAL_WORDS` values the shim writes.
    unsafe { shim::mosix_capture_signals(out.as_mut_ptr()) }
}

/// Number of u64 in the resource limits (`mcore::image::RLIMITS_LEN` / 8).
pub(crate) const RLIMIT_WORDS: usize = 32;

const _: () = assert!(RLIMIT_WORDS * 8 == crate::mcore::image::RLIMITS_LEN);

/// The current process's resource limits.
pub(crate) fn capture_rlimits(out: &mut [u64; RLIMIT_WORDS]) {
    // SAFETY: `out` holds the `RLIMIT_WORDS` values the shim writes.
    unsafe { shim::mosix_capture_rlimits(out.as_mut_ptr()) }
}

/// The current process's register file.
pub(crate) fn capture_regs(out: &mut [u8; 168]) {
    // SAFETY: `out` holds `sizeof(struct pt_regs)` bytes (168, checked at init).
    unsafe { shim::mosix_capture_regs(out.as_mut_ptr()) };
}

/// The current process's FPU state; its size, 0 if `out` is too small.
pub(crate) fn capture_fpu(out: &mut [u8]) -> usize {
    let max = u32::try_from(out.len()).unwrap_or(u32::MAX);
    // SAFETY: `out` is valid for `max` bytes; process context.
    unsafe { shim::mosix_capture_fpu(out.as_mut_ptr(), max) as usize }
}
