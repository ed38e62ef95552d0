// SPDX-License-Identifier: GPL-2.0
//! Raw C calls of `mosix.ko`, fenced into small safe wrappers.
//!
//! Most raw calls live here; `net.rs` and `procfs.rs` hold the others, and a few `unsafe`
//! blocks remain elsewhere (the C→Rust entry points the shim calls, `#[no_mangle]` in
//! `deputy.rs`, `migrate.rs`, `remote.rs` and `procfs.rs`). Issue 13 confines them to `sys/` and
//! `net/`.

use crate::mcore::procstat::Sample;
use core::mem::{
    offset_of,
    size_of, //
};
use kernel::{
    bindings,
    ffi::{
        c_char,
        c_uint,
        c_ulong,
        c_void, //
    },
    prelude::*,
};

/// The C shim (`mosix_shim.c`).
pub(crate) mod shim {
    use kernel::ffi::{
        c_char,
        c_uint,
        c_ulong,
        c_void, //
    };

    extern "C" {
        pub(crate) fn mosix_proc_mkdir(name: *const c_char, parent: *mut c_void) -> *mut c_void;
        pub(crate) fn mosix_proc_file(
            name: *const c_char,
            mode: u16,
            parent: *mut c_void,
            cookie: c_ulong,
        ) -> *mut c_void;
        pub(crate) fn mosix_proc_remove(pde: *mut c_void);
        pub(crate) fn mosix_online_cpus() -> c_uint;
        pub(crate) fn mosix_c_layout(item: c_uint) -> c_ulong;
        pub(crate) fn mosix_count_runnable() -> c_uint;
        pub(crate) fn mosix_sleep_ms(ms: c_uint);
        pub(crate) fn mosix_sock_set_rcvtimeo(sock: *mut c_void, ms: c_uint);
        pub(crate) fn mosix_sock_set_sndtimeo(sock: *mut c_void, ms: c_uint);
        pub(crate) fn mosix_sock_tune(sock: *mut c_void, reuseaddr: bool, nodelay: bool);
        pub(crate) fn mosix_cpu_facts(xfeatures: *mut u64, xstate_size: *mut u32);
        pub(crate) fn mosix_sample_procs(
            out: *mut crate::mcore::procstat::Sample,
            max: usize,
        ) -> usize;
        pub(crate) fn mosix_current_proc(pid: *mut i32, ppid: *mut i32, start_ns: *mut u64);
        pub(crate) fn mosix_now_ns() -> u64;
        pub(crate) fn mosix_work_queue(
            pid: i32,
            job: *mut c_void,
            err: *mut core::ffi::c_int,
        ) -> *mut c_void;
        pub(crate) fn mosix_work_queue_watched(
            token: u64,
            job: *mut c_void,
            err: *mut core::ffi::c_int,
        ) -> *mut c_void;
        pub(crate) fn mosix_work_wait(w: *mut c_void, ms: c_uint) -> core::ffi::c_int;
        pub(crate) fn mosix_work_put(w: *mut c_void);
        pub(crate) fn mosix_capture_vmas(
            out: *mut crate::mcore::image::VmaDesc,
            max: usize,
        ) -> core::ffi::c_long;
        pub(crate) fn mosix_capture_ids(
            uids: *mut u32,
            gids: *mut u32,
            comm: *mut u8,
            mm: *mut u64,
            vdso: *mut u64,
            fs: *mut u64,
            gs: *mut u64,
            blocked: *mut u64,
        );
        pub(crate) fn mosix_capture_regs(out: *mut u8);
        pub(crate) fn mosix_capture_signals(out: *mut u64);
        pub(crate) fn mosix_adopt_signals(input: *const u64);
        pub(crate) fn mosix_capture_rlimits(out: *mut u64);
        pub(crate) fn mosix_adopt_rlimits(input: *const u64);
        pub(crate) fn mosix_take_signal() -> core::ffi::c_int;
        pub(crate) fn mosix_capture_rseq(ptr: *mut u64, len: *mut u32, sig: *mut u32);
        pub(crate) fn mosix_adopt_rseq(ptr: u64, len: u32, sig: u32);
        pub(crate) fn mosix_capture_fpu(out: *mut u8, max: u32) -> u32;
        pub(crate) fn mosix_current_gone() -> bool;
        pub(crate) fn mosix_current_ending() -> bool;
        pub(crate) fn mosix_current_exit_status() -> core::ffi::c_int;
        pub(crate) fn mosix_test_delay(which: core::ffi::c_int, pid: i32);
        pub(crate) fn mosix_work_complete(w: *mut c_void);
        pub(crate) fn mosix_work_release(w: *mut c_void);
        pub(crate) fn mosix_unmap_all() -> core::ffi::c_int;
        pub(crate) fn mosix_release_memory() -> core::ffi::c_int;
        pub(crate) fn mosix_map_anon(
            start: u64,
            len: u64,
            prot: u32,
            growsdown: bool,
        ) -> core::ffi::c_int;
        pub(crate) fn mosix_poke(addr: u64, buf: *const u8, len: u32) -> core::ffi::c_int;
        pub(crate) fn mosix_adopt_mm(mm: *const u64);
        pub(crate) fn mosix_adopt_creds(uids: *const u32, gids: *const u32) -> core::ffi::c_int;
        pub(crate) fn mosix_adopt_fpu(buf: *const u8, size: u32) -> core::ffi::c_int;
        pub(crate) fn mosix_adopt_tls(fs: u64, gs: u64);
        pub(crate) fn mosix_adopt_regs(regs: *const u64) -> core::ffi::c_int;
        pub(crate) fn mosix_set_blocked(mask: u64) -> u64;
        pub(crate) fn mosix_close_fd(fd: core::ffi::c_int) -> core::ffi::c_int;
        pub(crate) fn mosix_current_vdso() -> u64;
        pub(crate) fn mosix_run_helper(token: u64) -> core::ffi::c_int;
        pub(crate) fn mosix_spawn(
            f: unsafe extern "C" fn(*mut c_void) -> core::ffi::c_int,
            data: *mut c_void,
            name: *const c_char,
        ) -> core::ffi::c_int;

        pub(crate) fn mosix_fatal_signal() -> bool;
        pub(crate) fn mosix_kill(pid: i32, sig: core::ffi::c_int) -> core::ffi::c_int;
        pub(crate) fn mosix_watch_add(
            kind: core::ffi::c_int,
            token: u64,
            home_pid: i32,
        ) -> core::ffi::c_int;
        pub(crate) fn mosix_watch_remove(token: u64);
        pub(crate) fn mosix_watch_queue(token: u64, which: core::ffi::c_int) -> core::ffi::c_int;
        pub(crate) fn mosix_current_watch(token: *mut u64) -> core::ffi::c_int;
        pub(crate) fn mosix_raise(sig: core::ffi::c_int);
        pub(crate) fn mosix_probe_idle();
        pub(crate) fn mosix_probe_unload();
        pub(crate) fn mosix_watch_state(token: u64) -> core::ffi::c_int;
        pub(crate) fn mosix_call_args(args: *mut u64);
        pub(crate) fn mosix_set_ax_on_return(ax: u64) -> core::ffi::c_int;
        pub(crate) fn mosix_call_result(nr: core::ffi::c_long, ret: core::ffi::c_long);
        pub(crate) fn mosix_call_start(ip: u64, nr: core::ffi::c_long, args: *const u64);
        pub(crate) fn mosix_call_handed_back() -> core::ffi::c_long;
        pub(crate) fn mosix_call_no_restart(nr: core::ffi::c_long) -> bool;
        pub(crate) fn mosix_call_skip_unstarted(stub: u64) -> bool;
        pub(crate) fn mosix_map_any(len: u64, prot: u32) -> i64;
        pub(crate) fn mosix_event_new() -> *mut c_void;
        pub(crate) fn mosix_event_free(e: *mut c_void);
        pub(crate) fn mosix_event_seq(e: *mut c_void) -> u32;
        pub(crate) fn mosix_event_signal(e: *mut c_void);
        pub(crate) fn mosix_event_wait(
            e: *mut c_void,
            seen: u32,
            ms: c_uint,
            intr: bool,
        ) -> core::ffi::c_int;
        pub(crate) fn mosix_signal_pending() -> bool;
        pub(crate) fn mosix_clear_notify_signal();
        pub(crate) fn mosix_sock_hook(sock: *mut c_void, ev: *mut c_void) -> core::ffi::c_int;
        pub(crate) fn mosix_sock_unhook(sock: *mut c_void);

        pub(crate) fn mosix_current_runtime_ns() -> u64;
        pub(crate) fn mosix_proc_stay(pid: i32) -> core::ffi::c_long;
        pub(crate) fn mosix_may_control(pid: i32) -> core::ffi::c_int;
        pub(crate) fn mosix_proc_rss(pid: i32) -> i64;
        pub(crate) fn mosix_module_hold() -> bool;
        pub(crate) fn mosix_set_nice(nice: core::ffi::c_int) -> core::ffi::c_int;
        pub(crate) fn mosix_module_release();
        pub(crate) fn mosix_proc_ident(
            pid: i32,
            ppid: *mut i32,
            start_ns: *mut u64,
        ) -> core::ffi::c_int;
    }
}

/// Whether the current task has `CAP_SYS_ADMIN`.
pub(crate) fn capable_sys_admin() -> bool {
    // SAFETY: `capable` has no preconditions; it reads the current task's credentials.
    unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as i32) }
}

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

/// A kernel thread running `f` until it is stopped (on drop).
///
/// # Invariants
///
/// `task` is a started kthread, holding a reference (`get_task_struct`), not yet stopped.
pub(crate) struct KThread {
    task: core::ptr::NonNull<bindings::task_struct>,
}

// SAFETY: `kthread_stop` may be called from any thread.
unsafe impl Send for KThread {}
// SAFETY: The handle offers no `&self` operations.
unsafe impl Sync for KThread {}

impl KThread {
    /// Starts kthread `name` running `f`; `f` must return when [`should_stop`] says so.
    pub(crate) fn run(
        name: &CStr,
        f: unsafe extern "C" fn(*mut c_void) -> kernel::ffi::c_int,
    ) -> Result<KThread> {
        // SAFETY: A null `data` is what `f` expects (it takes no data).
        unsafe { Self::run_with(name, f, core::ptr::null_mut()) }
    }

    /// Starts kthread `name` running `f(data)`; `f` must return when [`should_stop`] says so.
    ///
    /// # Safety
    ///
    /// `data` must stay valid for `f` until the returned handle is dropped (which waits for
    /// `f` to return). `f` may also never run, if the handle is dropped early.
    pub(crate) unsafe fn run_with(
        name: &CStr,
        f: unsafe extern "C" fn(*mut c_void) -> kernel::ffi::c_int,
        data: *mut c_void,
    ) -> Result<KThread> {
        // SAFETY: `f` has the kthread signature; `data` is valid as long as `f` may use it
        // (function contract); `name` is printed through a `%s` format.
        let t = unsafe {
            bindings::kthread_create_on_node(
                Some(f),
                data,
                bindings::NUMA_NO_NODE,
                c"%s".as_char_ptr(),
                name.as_char_ptr(),
            )
        };
        let t = kernel::error::from_err_ptr(t)?;
        let task = core::ptr::NonNull::new(t).ok_or(ENOMEM)?;
        // SAFETY: `t` is a valid, not yet running kthread; keep it alive for `kthread_stop`.
        unsafe {
            bindings::get_task_struct(t);
            bindings::wake_up_process(t);
        }
        // INVARIANT: Started and referenced above.
        Ok(KThread { task })
    }
}

impl Drop for KThread {
    fn drop(&mut self) {
        // SAFETY: `task` is a started kthread we hold a reference on (type invariant);
        // `kthread_stop` wakes it and waits for its function to return.
        unsafe {
            bindings::kthread_stop(self.task.as_ptr());
            bindings::put_task_struct(self.task.as_ptr());
        }
    }
}

/// Whether the current kthread has been asked to stop.
pub(crate) fn should_stop() -> bool {
    // SAFETY: Called from a kthread's function.
    unsafe { bindings::kthread_should_stop() }
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

/// The calling process's id, its parent's id and its start time (monotonic ns).
pub(crate) fn current_proc() -> (i32, i32, u64) {
    let (mut pid, mut ppid, mut start) = (0i32, 0i32, 0u64);
    // SAFETY: The pointers are valid for writes; `current` is always valid in process context.
    unsafe { shim::mosix_current_proc(&mut pid, &mut ppid, &mut start) };
    (pid, ppid, start)
}

/// The stay-reason bits (`mcore::stay`) that the kernel's state of process `pid` shows (the
/// user lock is the module's own and not among them). Sleeps.
pub(crate) fn proc_stay(pid: i32) -> Result<u32> {
    // SAFETY: Process context (it sleeps on the target's mmap lock); no pointers.
    let r = unsafe { shim::mosix_proc_stay(pid) };
    Ok(to_value(r as i64)? as u32)
}

/// Whether the caller may control process `pid` (`EPERM`, `ESRCH` if there is none): root
/// (`CAP_SYS_ADMIN`), or its uid or euid is the caller's euid (openMosix's `migrate` rule).
pub(crate) fn may_control(pid: i32) -> Result {
    // SAFETY: No pointers; reads the caller's and the target's credentials.
    to_result(unsafe { shim::mosix_may_control(pid) })
}

/// Process `pid`'s resident memory, bytes.
pub(crate) fn proc_rss(pid: i32) -> Result<u64> {
    // SAFETY: No pointers; takes and drops its own references.
    to_value(unsafe { shim::mosix_proc_rss(pid) })
}

/// Sets the current task's nice value (clamped to -20..19); returns the old one.
pub(crate) fn set_nice(nice: i32) -> i32 {
    // SAFETY: Process context; acts on the current task.
    unsafe { shim::mosix_set_nice(nice) }
}

/// A module reference held while a balancing move runs (so that `rmmod` cannot start
/// meanwhile); `None` once the module is going away.
pub(crate) struct ModuleHold(());

impl ModuleHold {
    /// Takes a reference unless the module is being unloaded.
    pub(crate) fn take() -> Option<ModuleHold> {
        // SAFETY: No preconditions.
        unsafe { shim::mosix_module_hold() }.then_some(ModuleHold(()))
    }
}

impl Drop for ModuleHold {
    fn drop(&mut self) {
        // SAFETY: The reference taken by `take`.
        unsafe { shim::mosix_module_release() };
    }
}

/// Process `pid`'s parent id and start time.
pub(crate) fn proc_ident(pid: i32) -> Result<(i32, u64)> {
    let (mut ppid, mut start) = (0i32, 0u64);
    // SAFETY: The pointers are valid for writes.
    to_result(unsafe { shim::mosix_proc_ident(pid, &mut ppid, &mut start) })?;
    Ok((ppid, start))
}

/// The calling process's CPU time (all threads, living and exited), ns.
pub(crate) fn current_runtime_ns() -> u64 {
    // SAFETY: Process context; `current` is always valid.
    unsafe { shim::mosix_current_runtime_ns() }
}

/// This CPU's xsave facts for the link handshake: XCR0 and the xsave area size.
pub(crate) fn cpu_facts() -> (u64, u32) {
    let (mut x, mut n) = (0u64, 0u32);
    // SAFETY: The pointers are valid for writes; CPUID/XGETBV have no preconditions.
    unsafe { shim::mosix_cpu_facts(&mut x, &mut n) };
    (x, n)
}

/// A job queued to run in a process's own context (shim `mosix_work_*`); dropping it drops
/// the caller's reference.
///
/// # Invariants
///
/// `w` is a live `struct mosix_work` on which this holds one reference.
pub(crate) struct Work {
    w: core::ptr::NonNull<c_void>,
}

impl Work {
    /// Queues `mosix_job_run(job)` on process `pid`.
    ///
    /// # Safety
    ///
    /// `job` must stay valid until `mosix_job_free(job)`, which the shim calls when the last
    /// reference goes (not if this fails).
    pub(crate) unsafe fn queue(pid: i32, job: *mut c_void) -> Result<Work> {
        let mut err = 0;
        // SAFETY: `err` is valid for writes; `job` per the function's contract.
        let w = unsafe { shim::mosix_work_queue(pid, job, &mut err) };
        Self::queued(w, err)
    }

    /// Queues `mosix_job_run(job)` on the task of the migrant watched as `token` (not on
    /// whatever has its pid by now: a pid is free again once the migrant is reaped).
    ///
    /// # Safety
    ///
    /// As for [`Work::queue`].
    pub(crate) unsafe fn queue_watched(token: u64, job: *mut c_void) -> Result<Work> {
        let mut err = 0;
        // SAFETY: `err` is valid for writes; `job` per the function's contract.
        let w = unsafe { shim::mosix_work_queue_watched(token, job, &mut err) };
        Self::queued(w, err)
    }

    fn queued(w: *mut c_void, err: core::ffi::c_int) -> Result<Work> {
        match core::ptr::NonNull::new(w) {
            // INVARIANT: The shim returns the work with the caller's reference.
            Some(w) => Ok(Work { w }),
            None => Err(Error::from_errno(if err < 0 {
                err
            } else {
                -(bindings::ENOMEM as i32)
            })),
        }
    }

    /// Waits until the job has run: `ETIMEDOUT`, or `ERESTARTSYS` if a signal comes first (the
    /// job then runs on, abandoned).
    pub(crate) fn wait(&self, ms: u32) -> Result {
        // SAFETY: `w` is live (type invariant).
        to_result(unsafe { shim::mosix_work_wait(self.w.as_ptr(), ms) })
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        // SAFETY: We hold one reference (type invariant) and give it up.
        unsafe { shim::mosix_work_put(self.w.as_ptr()) };
    }
}

/// A handle on a running job, given to the job itself: it can wake the waiting caller early.
pub(crate) struct WorkHandle(*mut c_void);

impl WorkHandle {
    /// Wraps the shim's pointer.
    ///
    /// # Safety
    ///
    /// `w` is the live `struct mosix_work` of the job that is running.
    pub(crate) unsafe fn new(w: *mut c_void) -> Self {
        WorkHandle(w)
    }

    /// Wakes the caller waiting for the job (the job goes on).
    pub(crate) fn complete(&self) {
        // SAFETY: `self.0` is live while the job runs (constructor contract).
        unsafe { shim::mosix_work_complete(self.0) };
    }

    /// Ends the job and its process: releases what the job's return would have (the
    /// caller's wake-up, the job's reference, the module reference), then exits with wait
    /// status `status`. The job's data may be freed by then: touch nothing of it after.
    pub(crate) fn release_and_exit(self, status: i32) -> ! {
        // SAFETY: `self.0` is live (constructor contract); this gives up the job's references
        // exactly once, since the job never returns to the shim.
        unsafe { shim::mosix_work_release(self.0) };
        exit(status)
    }
}

/// A C `int` that is 0 or more, or `-errno`, as a [`Result`] (the one conversion of this
/// module: [`kernel::error::to_result`] and the two below).
pub(crate) use kernel::error::to_result;

/// A C `int` that is a count or `-errno`.
pub(crate) fn to_count(r: core::ffi::c_int) -> Result<usize> {
    to_result(r)?;
    Ok(r as usize)
}

/// A C `long` or `s64` that is a value or `-errno`.
pub(crate) fn to_value(r: i64) -> Result<u64> {
    if r < 0 {
        // A value below `i32::MIN` is no errno: `from_errno` makes it `EINVAL` (and says so).
        return Err(Error::from_errno(i32::try_from(r).unwrap_or(i32::MIN)));
    }
    Ok(r as u64)
}

/// An error as a system call returns it (`-errno`).
pub(crate) fn errno_ret(e: Error) -> i64 {
    i64::from(e.to_errno())
}

/// Rebuilding the current process (the adopter helper's ADOPT ioctl). Every function acts on
/// the calling process only.
pub(crate) mod adopt {
    use super::*;

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

    /// Sets the credentials.
    pub(crate) fn creds(uids: &[u32; 4], gids: &[u32; 4]) -> Result {
        // SAFETY: Both arrays hold the 4 values the shim reads.
        to_result(unsafe { shim::mosix_adopt_creds(uids.as_ptr(), gids.as_ptr()) })
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

    /// Installs the register file.
    pub(crate) fn regs(r: &[u64; 21]) -> Result {
        // SAFETY: `r` holds the 21 values the shim reads.
        to_result(unsafe { shim::mosix_adopt_regs(r.as_ptr()) })
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
}

/// Sets the current process's blocked signals (SIGKILL and SIGSTOP stay unblocked); the old
/// set.
pub(crate) fn set_blocked(mask: u64) -> u64 {
    // SAFETY: Acts on the current task.
    unsafe { shim::mosix_set_blocked(mask) }
}

/// What a watched task is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watched {
    /// A migrant hosted here.
    Migrant = 1,
    /// The deputy of a process that is away.
    Deputy = 2,
}

/// The works of a watched task (run in its context by the shim's task work).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum WorkKind {
    /// A migrant's forwarded call; a deputy's handed-back result.
    Call = 0,
    /// A deputy: send the signals pending here to the process.
    Pump = 1,
    /// A deputy: the process gave up waiting: stop the call.
    Cancel = 2,
}

impl WorkKind {
    pub(crate) fn from_raw(w: core::ffi::c_int) -> Option<WorkKind> {
        match w {
            0 => Some(WorkKind::Call),
            1 => Some(WorkKind::Pump),
            2 => Some(WorkKind::Cancel),
            _ => None,
        }
    }
}

/// `watch_state` bits.
pub(crate) const WS_DEAD: u32 = 1;
pub(crate) const WS_SIGNALS: u32 = 2;

/// Records the current task as watched under `token` (registers the system-call probe for
/// the first one).
pub(crate) fn watch_add(kind: Watched, token: u64, home_pid: i32) -> Result {
    // SAFETY: Process context; acts on the current task.
    to_result(unsafe { shim::mosix_watch_add(kind as core::ffi::c_int, token, home_pid) })
}

/// Forgets the task watched under `token` (the probe goes off later: [`probe_idle`]).
pub(crate) fn watch_remove(token: u64) {
    // SAFETY: Process context (it may sleep for the tracepoint grace period).
    unsafe { shim::mosix_watch_remove(token) }
}

/// Queues work `which` on the task watched under `token` (`ESRCH`: gone).
pub(crate) fn watch_queue(token: u64, which: WorkKind) -> Result {
    // SAFETY: Process context; no pointers.
    to_result(unsafe { shim::mosix_watch_queue(token, which as core::ffi::c_int) })
}

/// What the current task is watched as, with its token: a migrant hosted here, a deputy, or
/// (`None`) neither.
pub(crate) fn current_watch() -> Option<(Watched, u64)> {
    let mut token = 0u64;
    // SAFETY: Process context; `token` is valid for a write.
    match unsafe { shim::mosix_current_watch(&mut token) } {
        1 => Some((Watched::Migrant, token)),
        2 => Some((Watched::Deputy, token)),
        _ => None,
    }
}

/// `WS_*` bits of the task watched under `token`.
pub(crate) fn watch_state(token: u64) -> Result<u32> {
    // SAFETY: Process context; no pointers.
    let r = unsafe { shim::mosix_watch_state(token) };
    Ok(to_count(r)? as u32)
}

/// The current task's system-call arguments.
pub(crate) fn call_args() -> [u64; 6] {
    let mut a = [0u64; 6];
    // SAFETY: `a` has room for 6 values; acts on the current task's registers.
    unsafe { shim::mosix_call_args(a.as_mut_ptr()) };
    a
}

/// Sets the current task's `ax` on its way back to user mode, after the current system
/// call's (truncated) return value was stored.
pub(crate) fn set_ax_on_return(ax: u64) -> Result {
    // SAFETY: Acts on the current task; the shim owns the work it queues.
    to_result(unsafe { shim::mosix_set_ax_on_return(ax) })
}

/// Sets the result of the current task's call `nr` (the signal code then applies its
/// restart rules).
pub(crate) fn call_result(nr: i64, ret: i64) {
    // SAFETY: Acts on the current task's registers.
    unsafe { shim::mosix_call_result(nr as core::ffi::c_long, ret as core::ffi::c_long) }
}

/// Makes the current task start call `nr` with `args` at `ip` on its return to user mode.
pub(crate) fn call_start(ip: u64, nr: i64, args: &[u64; 6]) {
    // SAFETY: `args` holds 6 values; acts on the current task's registers.
    unsafe { shim::mosix_call_start(ip, nr as core::ffi::c_long, args.as_ptr()) }
}

/// The value the deputy's stub hands back.
pub(crate) fn call_handed_back() -> i64 {
    // SAFETY: Acts on the current task's registers.
    unsafe { shim::mosix_call_handed_back() as i64 }
}

/// If call `nr` just ended with a restart code, keeps the kernel from restarting it.
pub(crate) fn call_no_restart(nr: i64) -> bool {
    // SAFETY: Acts on the current task's registers.
    unsafe { shim::mosix_call_no_restart(nr as core::ffi::c_long) }
}

/// If the deputy's stub at `stub` has not entered its call yet (a cancel work on the way
/// to user mode), skips the call: the stub hands back `-ERESTARTNOINTR`.
pub(crate) fn call_skip_unstarted(stub: u64) -> bool {
    // SAFETY: Acts on the current task's registers.
    unsafe { shim::mosix_call_skip_unstarted(stub) }
}

/// Maps `len` bytes of anonymous memory anywhere in the current process.
pub(crate) fn map_any(len: u64, prot: u32) -> Result<u64> {
    // SAFETY: Process context; acts on the current process's memory.
    to_value(unsafe { shim::mosix_map_any(len, prot) })
}

/// Whether a signal (or a `TWA_SIGNAL` work) is pending for the current task.
pub(crate) fn signal_pending() -> bool {
    // SAFETY: No preconditions.
    unsafe { shim::mosix_signal_pending() }
}

/// Clears the current task's `TWA_SIGNAL` notification (only inside a task work: works
/// queued meanwhile still run after it, but its socket calls are not cut short by them).
pub(crate) fn clear_notify_signal() {
    // SAFETY: Acts on the current task's flags.
    unsafe { shim::mosix_clear_notify_signal() }
}

/// Something to wait for: a sequence number that [`Event::signal`] advances.
///
/// # Invariants
///
/// `e` is a live `mosix_event`, freed only on drop.
pub(crate) struct Event {
    e: core::ptr::NonNull<c_void>,
}

// SAFETY: The event is a wait queue and an atomic, safe to use from any thread.
unsafe impl Send for Event {}
// SAFETY: As above.
unsafe impl Sync for Event {}

/// How a wait for an [`Event`] ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waited {
    /// The event moved on.
    Moved,
    /// The time ran out.
    Timeout,
    /// A signal is pending (interruptible waits only).
    Interrupted,
}

impl Event {
    pub(crate) fn new() -> Result<Event> {
        // SAFETY: No preconditions.
        let e = unsafe { shim::mosix_event_new() };
        // INVARIANT: A fresh event, freed on drop.
        Ok(Event {
            e: core::ptr::NonNull::new(e).ok_or(ENOMEM)?,
        })
    }

    /// The current sequence number (read before checking the condition waited for).
    pub(crate) fn seq(&self) -> u32 {
        // SAFETY: `e` is live.
        unsafe { shim::mosix_event_seq(self.e.as_ptr()) }
    }

    /// The raw event, for the socket hook (`net.rs`).
    pub(crate) fn as_ptr(&self) -> *mut c_void {
        self.e.as_ptr()
    }

    /// Advances the sequence and wakes every waiter.
    pub(crate) fn signal(&self) {
        // SAFETY: `e` is live.
        unsafe { shim::mosix_event_signal(self.e.as_ptr()) }
    }

    /// Waits up to `ms` for the sequence to move on from `seen`; `intr`: a signal ends the
    /// wait (otherwise the wait takes no signal and does not count as load).
    pub(crate) fn wait(&self, seen: u32, ms: u32, intr: bool) -> Waited {
        // SAFETY: `e` is live; process context.
        match unsafe { shim::mosix_event_wait(self.e.as_ptr(), seen, ms, intr) } {
            1 => Waited::Moved,
            0 => Waited::Timeout,
            _ => Waited::Interrupted,
        }
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: `e` is live and unused after this (nobody waits: we own it).
        unsafe { shim::mosix_event_free(self.e.as_ptr()) }
    }
}

/// Sends signal `sig` to process `pid`.
pub(crate) fn kill(pid: i32, sig: i32) -> Result {
    // SAFETY: No pointers; `kill_pid` checks everything.
    to_result(unsafe { shim::mosix_kill(pid, sig) })
}

/// Makes signal `sig` pending for the current task (a real-time signal queues one more
/// instance); `sig` is 1-64 (the image check makes sure).
pub(crate) fn raise(sig: i32) {
    // SAFETY: Acts on the current task; `send_sig` checks the number.
    unsafe { shim::mosix_raise(sig) }
}

/// Whether a fatal signal is pending for the current task.
pub(crate) fn fatal_signal() -> bool {
    // SAFETY: No preconditions.
    unsafe { shim::mosix_fatal_signal() }
}

/// Ends the current process with wait status `status`.
pub(crate) fn exit(status: i32) -> ! {
    // SAFETY: Process context; `do_exit` does not return (objtool knows it).
    unsafe { bindings::do_exit(status as kernel::ffi::c_long) }
}

/// Runs the adopter helper with `token` and waits until it (the migrant) ends: the wait
/// status.
pub(crate) fn run_helper(token: u64) -> Result<i32> {
    // SAFETY: Process context (a kthread); no pointers.
    let r = unsafe { shim::mosix_run_helper(token) };
    to_result(r)?;
    Ok(r)
}

/// Starts a detached kernel thread running `f(data)`; it holds a module reference and must
/// end with [`thread_exit`].
///
/// # Safety
///
/// `data` must stay valid for `f`, which owns it.
pub(crate) unsafe fn spawn(
    name: &CStr,
    f: unsafe extern "C" fn(*mut c_void) -> core::ffi::c_int,
    data: *mut c_void,
) -> Result {
    // SAFETY: `name` is a valid C string; `data` per the contract.
    to_result(unsafe { shim::mosix_spawn(f, data, name.as_char_ptr()) })
}

/// Unregisters the system-call probe once nothing holds a module reference (see the shim's
/// `mosix_probe_idle`); the load sampler calls it on each tick.
pub(crate) fn probe_idle() {
    // SAFETY: Process context (the sampler kthread); it may sleep.
    unsafe { shim::mosix_probe_idle() }
}

/// The system-call probe's owner at unload: the probe goes on with the first migration
/// thread or watched task and off on the load sampler's tick once nothing holds a module
/// reference ([`probe_idle`]); dropped last at unload, when nothing can turn it on any more,
/// this turns it off if the sampler has not yet.
pub(crate) struct Probe;

impl Drop for Probe {
    fn drop(&mut self) {
        // SAFETY: Process context (module exit); it may sleep.
        unsafe { shim::mosix_probe_unload() }
    }
}

/// Ends a thread started by [`spawn`], dropping its module reference.
pub(crate) fn thread_exit() -> ! {
    use kernel::ModuleMetadata;
    test_delay(TestDelay::ThreadEnd, 0);
    let this = <crate::LocalModule as ModuleMetadata>::THIS_MODULE;
    // SAFETY: Called at the end of a thread from `spawn` (its contract), which took the
    // module reference this drops; the call does not return (objtool knows it).
    unsafe { bindings::__module_put_and_kthread_exit(this.as_ptr(), 0) }
}

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

/// Takes one pending signal off the current task (0 if none).
pub(crate) fn take_signal() -> i32 {
    // SAFETY: Acts on the current task under its siglock.
    unsafe { shim::mosix_take_signal() }
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

/// Whether the current process is exiting or has no user memory.
pub(crate) fn current_gone() -> bool {
    // SAFETY: No preconditions.
    unsafe { shim::mosix_current_gone() }
}

/// Whether the current process is ending: exiting ([`current_gone`]), or a fatal signal is
/// on its way (it ends at its next return to user mode).
pub(crate) fn current_ending() -> bool {
    // SAFETY: No preconditions.
    unsafe { shim::mosix_current_ending() }
}

/// The wait status the current process is ending with (meaningful once [`current_ending`]).
pub(crate) fn current_exit_status() -> i32 {
    // SAFETY: No preconditions (reads the current task's own fields).
    unsafe { shim::mosix_current_exit_status() }
}

/// A step of a migration a test may hold back (`MOSIX_DELAY_*` in the shim's header).
#[derive(Clone, Copy)]
pub(crate) enum TestDelay {
    /// `inject_arrival_delay_ms`: before an arrived process is adopted.
    Arrival = 0,
    /// `inject_watch_delay_ms`: before a migrant's watcher takes the link.
    Watch = 1,
    /// `inject_thread_end_delay_ms`: before a migration thread drops its module reference.
    ThreadEnd = 2,
}

/// Test only: waits as long as the delay's module parameter says (0: not at all), logging
/// it, for process `pid` (0: for the current thread).
pub(crate) fn test_delay(which: TestDelay, pid: i32) {
    // SAFETY: No preconditions (it may sleep: called from a migration thread).
    unsafe { shim::mosix_test_delay(which as core::ffi::c_int, pid) }
}

/// Monotonic time in ns (the clock of process start times).
pub(crate) fn now_ns() -> u64 {
    // SAFETY: No preconditions.
    unsafe { shim::mosix_now_ns() }
}

/// A kernel thread that owns a `T` for its whole life: the thread function gets `&mut T`;
/// dropping this stops the thread (`kthread_stop` waits for it), then frees the `T`.
///
/// # Invariants
///
/// `state` comes from `KBox::into_raw` and is used only by `thread` until `thread` is dropped.
pub(crate) struct OwnedThread<T> {
    thread: Option<KThread>,
    state: core::ptr::NonNull<T>,
}

// SAFETY: The state is only touched by the thread, then freed by whoever drops this.
unsafe impl<T: Send> Send for OwnedThread<T> {}
// SAFETY: No `&self` operation touches the state.
unsafe impl<T: Send> Sync for OwnedThread<T> {}

impl<T> OwnedThread<T> {
    /// Starts thread `name` running `f(state)`.
    ///
    /// # Safety
    ///
    /// `f` must use its argument only as the `&mut T` it is, and only until it returns.
    pub(crate) unsafe fn start(
        name: &CStr,
        state: T,
        f: unsafe extern "C" fn(*mut c_void) -> kernel::ffi::c_int,
    ) -> Result<Self> {
        let state = KBox::new(state, GFP_KERNEL)?;
        let state = core::ptr::NonNull::new(KBox::into_raw(state)).ok_or(ENOMEM)?;
        // SAFETY: `state` stays valid until `drop` has stopped the thread; `f` per contract.
        match unsafe { KThread::run_with(name, f, state.as_ptr().cast()) } {
            // INVARIANT: `state` is handed to the thread only.
            Ok(t) => Ok(OwnedThread {
                thread: Some(t),
                state,
            }),
            Err(e) => {
                // SAFETY: From `KBox::into_raw` above; no thread uses it.
                drop(unsafe { KBox::from_raw(state.as_ptr()) });
                Err(e)
            }
        }
    }
}

impl<T> Drop for OwnedThread<T> {
    fn drop(&mut self) {
        // Stop the thread first: its function has returned when `kthread_stop` returns.
        drop(self.thread.take());
        // SAFETY: From `KBox::into_raw` (type invariant); the thread is gone.
        drop(unsafe { KBox::from_raw(self.state.as_ptr()) });
    }
}

/// Sleeps up to `ms` milliseconds, or until woken (e.g. by `kthread_stop`).
pub(crate) fn sleep_ms(ms: u32) {
    // SAFETY: Process context.
    unsafe { shim::mosix_sleep_ms(ms) };
}

/// Polls `done` every `step_ms` until it holds (true) or `total_ms` have passed by the clock
/// (false); a fatal signal for the caller ends the wait early (false).
pub(crate) fn poll_until(total_ms: u32, step_ms: u32, mut done: impl FnMut() -> bool) -> bool {
    let end = now_ms() + i64::from(total_ms);
    loop {
        if done() {
            return true;
        }
        if now_ms() >= end || fatal_signal() {
            return false;
        }
        sleep_ms(step_ms);
    }
}

/// Monotonic time in milliseconds (since boot).
pub(crate) fn now_ms() -> i64 {
    // SAFETY: No preconditions.
    let ns = unsafe { bindings::ktime_get() };
    ns / 1_000_000
}

/// Wall-clock seconds (`CLOCK_REALTIME`), truncated to 32 bits.
pub(crate) fn wall_seconds() -> u32 {
    // SAFETY: No preconditions.
    let s = unsafe { bindings::ktime_get_real_seconds() };
    s as u32
}

/// Wall-clock nanoseconds since 1970 (`CLOCK_REALTIME`), 0 before 1970.
pub(crate) fn wall_ns() -> u64 {
    // SAFETY: No preconditions.
    let ns = unsafe { bindings::ktime_get_real() };
    u64::try_from(ns).unwrap_or(0)
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

/// A `/proc` entry created through the shim: a directory or file.
///
/// # Invariants
///
/// `pde` is a live `proc_dir_entry` created by the shim and not yet removed. Removing an entry
/// removes its whole subtree, so an owned `ProcEntry` must be dropped before any owned
/// `ProcEntry` of an ancestor (owners encode this in their field order).
pub(crate) struct ProcEntry {
    pde: core::ptr::NonNull<c_void>,
}

// SAFETY: A `proc_dir_entry` may be removed from any thread; the pointer is only used for that
// and as a parent for new entries, which procfs serialises internally.
unsafe impl Send for ProcEntry {}

impl ProcEntry {
    /// Creates directory `name` under `parent` (`None`: under `/proc`).
    pub(crate) fn mkdir(name: &CStr, parent: Option<&ProcEntry>) -> Result<ProcEntry> {
        let parent = parent.map_or(core::ptr::null_mut(), |p| p.pde.as_ptr());
        // SAFETY: `name` is NUL-terminated and copied by procfs; `parent` is null or live
        // (type invariant).
        let pde = unsafe { shim::mosix_proc_mkdir(name.as_char_ptr(), parent) };
        let pde = core::ptr::NonNull::new(pde).ok_or(ENOMEM)?;
        // INVARIANT: Created just now by the shim.
        Ok(ProcEntry { pde })
    }

    /// Creates file `name` under this directory; its callbacks receive `cookie`. The file lives
    /// as long as the directory.
    pub(crate) fn file(&self, name: &CStr, mode: u16, cookie: usize) -> Result {
        // SAFETY: `name` is NUL-terminated and copied by procfs; `self.pde` is live.
        let pde = unsafe {
            shim::mosix_proc_file(
                name.as_char_ptr(),
                mode,
                self.pde.as_ptr(),
                cookie as c_ulong,
            )
        };
        if pde.is_null() {
            return Err(ENOMEM);
        }
        Ok(())
    }

    /// Creates subdirectory `name` that lives as long as this directory (not owned).
    pub(crate) fn subdir(&self, name: &CStr) -> Result<ProcSubdir<'_>> {
        // SAFETY: As in `mkdir`.
        let pde = unsafe { shim::mosix_proc_mkdir(name.as_char_ptr(), self.pde.as_ptr()) };
        let pde = core::ptr::NonNull::new(pde).ok_or(ENOMEM)?;
        Ok(ProcSubdir {
            dir: core::mem::ManuallyDrop::new(ProcEntry { pde }),
            _parent: self,
        })
    }
}

impl Drop for ProcEntry {
    fn drop(&mut self) {
        // SAFETY: `pde` is live (type invariant); `proc_remove` waits for running callbacks.
        unsafe { shim::mosix_proc_remove(self.pde.as_ptr()) };
    }
}

/// A subdirectory borrowed from its parent: removed with the parent, never on its own.
pub(crate) struct ProcSubdir<'a> {
    dir: core::mem::ManuallyDrop<ProcEntry>,
    _parent: &'a ProcEntry,
}

impl core::ops::Deref for ProcSubdir<'_> {
    type Target = ProcEntry;
    fn deref(&self) -> &ProcEntry {
        &self.dir
    }
}

/// One entry of the layout self-check: the shim's item number, a name, Rust's value.
struct LayoutItem(c_uint, &'static str, usize);

/// Checks that the `task_struct`, `pt_regs` and shim struct layouts in the Rust bindings agree with C.
///
/// With `CONFIG_SCHEDSTATS=n`, bindgen loses the alignment of an empty struct and misplaces
/// every later `task_struct` field while `size_of` still matches: refuse to load then.
pub(crate) fn check_layouts() -> Result {
    type T = bindings::task_struct;
    type R = bindings::pt_regs;
    // Item numbers follow `enum mosix_layout_item` in `mosix_shim.h`.
    let items = [
        LayoutItem(0, "sizeof(struct task_struct)", size_of::<T>()),
        LayoutItem(1, "task_struct.pid", offset_of!(T, pid)),
        LayoutItem(2, "task_struct.tgid", offset_of!(T, tgid)),
        LayoutItem(3, "task_struct.mm", offset_of!(T, mm)),
        LayoutItem(4, "task_struct.real_parent", offset_of!(T, real_parent)),
        LayoutItem(5, "sizeof(struct pt_regs)", size_of::<R>()),
        LayoutItem(6, "pt_regs.orig_ax", offset_of!(R, orig_ax)),
        LayoutItem(7, "pt_regs.ax", offset_of!(R, ax)),
        LayoutItem(8, "pt_regs.ip", offset_of!(R, ip)),
        LayoutItem(9, "pt_regs.sp", offset_of!(R, sp)),
        LayoutItem(10, "sizeof(struct mosix_proc_sample)", size_of::<Sample>()),
        LayoutItem(
            11,
            "sizeof(struct mosix_vma)",
            size_of::<crate::mcore::image::VmaDesc>(),
        ),
    ];
    let mut ok = true;
    for LayoutItem(item, name, rust) in items {
        // SAFETY: Pure function of its argument.
        let c = unsafe { shim::mosix_c_layout(item) } as usize;
        if c != rust {
            pr_err!(
                "layout mismatch: {} is {} in C but {} in the Rust bindings\n",
                name,
                c,
                rust
            );
            ok = false;
        }
    }
    if !ok {
        pr_err!("refusing to load: rebuild the kernel with CONFIG_SCHEDSTATS=y (see docs/architecture.md)\n");
        return Err(ENOEXEC);
    }
    Ok(())
}

/// Borrows a C string handed in by the shim as bytes.
///
/// # Safety
///
/// `buf` must point to `len` readable bytes that stay valid and unchanged for `'a`.
pub(crate) unsafe fn bytes_from_c<'a>(buf: *const c_char, len: usize) -> &'a [u8] {
    if buf.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: Guaranteed by the caller.
    unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), len) }
}
