// SPDX-License-Identifier: GPL-2.0
//! The C shim's functions (`shim/*.c`, declared in `shim/mosix_shim.h`).

use kernel::ffi::{
    c_char,
    c_uint,
    c_ulong,
    c_void, //
};

/// `struct mosix_task_facts` (its size is in the layout self-check).
#[repr(C)]
#[derive(Default)]
pub(crate) struct TaskFacts {
    pub(crate) kthread: u32,
    pub(crate) init: u32,
    pub(crate) threads: u32,
    pub(crate) policy: u32,
    pub(crate) io_ports: u32,
    pub(crate) addr32: u32,
    pub(crate) vm_locked: u32,
    pub(crate) vm_device: u32,
    pub(crate) vm_shared: u32,
}

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
    pub(crate) fn mosix_sample_procs(out: *mut crate::mcore::procstat::Sample, max: usize)
        -> usize;
    pub(crate) fn mosix_current_proc(pid: *mut i32, ppid: *mut i32, start_ns: *mut u64);
    pub(crate) fn mosix_now_ns() -> u64;
    pub(crate) fn mosix_work_queue(
        pid: i32,
        run: unsafe extern "C" fn(*mut c_void, *mut c_void),
        job: *mut c_void,
        err: *mut core::ffi::c_int,
    ) -> *mut c_void;
    pub(crate) fn mosix_work_queue_watched(
        token: u64,
        run: unsafe extern "C" fn(*mut c_void, *mut c_void),
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
    pub(crate) fn mosix_adopt_creds(
        uids: *const u32,
        gids: *const u32,
        clear_caps: bool,
    ) -> core::ffi::c_int;
    pub(crate) fn mosix_adopt_fpu(buf: *const u8, size: u32) -> core::ffi::c_int;
    pub(crate) fn mosix_adopt_tls(fs: u64, gs: u64);
    pub(crate) fn mosix_set_regs(regs: *const u64);
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
    pub(crate) fn mosix_task_facts(pid: i32, f: *mut TaskFacts) -> core::ffi::c_int;
    pub(crate) fn mosix_may_control(pid: i32) -> core::ffi::c_int;
    pub(crate) fn mosix_proc_rss(pid: i32) -> i64;
    pub(crate) fn mosix_module_hold() -> bool;
    pub(crate) fn mosix_module_refcount() -> core::ffi::c_uint;
    pub(crate) fn mosix_set_nice(nice: core::ffi::c_int) -> core::ffi::c_int;
    pub(crate) fn mosix_module_release();
    pub(crate) fn mosix_proc_ident(
        pid: i32,
        ppid: *mut i32,
        start_ns: *mut u64,
    ) -> core::ffi::c_int;
}
