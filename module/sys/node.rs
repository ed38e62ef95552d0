// SPDX-License-Identifier: GPL-2.0
//! Facts of this node: processors, runnable count, process samples, memory, random numbers.

use crate::mcore::procstat::Sample;
use crate::sys::shim;
use kernel::{
    bindings,
    prelude::*, //
};

/// Number of online CPUs.
pub(crate) fn online_cpus() -> u32 {
    // SAFETY: Reads the online CPU mask; no preconditions.
    unsafe { shim::mosix_online_cpus() }
}

/// Runnable user threads right now.
pub(crate) fn count_runnable() -> u32 {
    // SAFETY: Walks the thread list under RCU in C; no preconditions.
    unsafe { shim::mosix_count_runnable() }
}

/// Samples every user process into `buf` (resized to the number of processes; grown and
/// retried when processes were added meanwhile).
pub(crate) fn sample_procs(buf: &mut KVVec<Sample>) -> Result {
    for _ in 0..4 {
        let max = buf.capacity().max(64);
        buf.resize(max, Sample::default(), GFP_KERNEL)?;
        // SAFETY: `buf` holds `max` initialised, writable `Sample`s, whose layout is the
        // shim's `struct mosix_proc_sample` (checked by `check_layouts`).
        let n = unsafe { shim::mosix_sample_procs(buf.as_mut_ptr(), max) };
        if n <= max {
            buf.truncate(n);
            return Ok(());
        }
        buf.reserve(
            n.saturating_add(n / 4).saturating_sub(buf.len()),
            GFP_KERNEL,
        )?;
    }
    Err(EAGAIN)
}

/// This CPU's xsave facts for the link handshake: XCR0 and the xsave area size.
pub(crate) fn cpu_facts() -> (u64, u32) {
    let (mut x, mut n) = (0u64, 0u32);
    // SAFETY: The pointers are valid for writes; CPUID/XGETBV have no preconditions.
    unsafe { shim::mosix_cpu_facts(&mut x, &mut n) };
    (x, n)
}

/// 64 random bits from the kernel's CRNG.
pub(crate) fn random_u64() -> u64 {
    // SAFETY: No preconditions; usable once the CRNG is seeded (it blocks nothing).
    unsafe { bindings::get_random_u64() }
}

/// Memory figures in pages.
pub(crate) struct MemInfo {
    /// Total RAM.
    pub(crate) total: i64,
    /// Free RAM as Linux counts it.
    pub(crate) free: i64,
    /// RAM available for new work without swapping (`MemAvailable`).
    pub(crate) available: i64,
}

/// Reads the memory figures.
pub(crate) fn meminfo() -> MemInfo {
    let mut si = bindings::sysinfo::default();
    // SAFETY: `si` is a valid, writable `struct sysinfo`.
    unsafe { bindings::si_meminfo(&mut si) };
    // SAFETY: No preconditions.
    let available = unsafe { bindings::si_mem_available() };
    // `si_meminfo` reports in units of `mem_unit`, which is `PAGE_SIZE`.
    MemInfo {
        total: i64::try_from(si.totalram).unwrap_or(i64::MAX),
        free: i64::try_from(si.freeram).unwrap_or(i64::MAX),
        available: available as i64,
    }
}
