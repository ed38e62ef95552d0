/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C side of mosix.ko: what the 7.3 Rust bindings do not reach (procfs, inline helpers,
 * macros, task work, the system-call probe, socket options, register, FPU and memory access
 * of the current task). Some decisions still live here (stay-reason bits, the eflags and
 * segment checks of an image, capability dropping, the watched-task table); issue 13 moves
 * them to Rust.
 */
#ifndef MOSIX_SHIM_H
#define MOSIX_SHIM_H

#include <linux/types.h>

struct proc_dir_entry;
struct seq_file;
struct socket;

/* Largest write accepted by a /proc/mosix file (the node table in map form). */
#define MOSIX_PROC_WRITE_MAX 16384

/* procfs: directories and files whose callbacks are mosix_proc_show/mosix_proc_write. */
struct proc_dir_entry *mosix_proc_mkdir(const char *name, struct proc_dir_entry *parent);
struct proc_dir_entry *mosix_proc_file(const char *name, umode_t mode,
				       struct proc_dir_entry *parent, unsigned long cookie);
void mosix_proc_remove(struct proc_dir_entry *pde);

/* Implemented in Rust (module/sys/proc_entry.rs, which calls what procfs.rs registered). */
int mosix_proc_show(struct seq_file *m, unsigned long cookie);
long mosix_proc_write(unsigned long cookie, const char *buf, size_t len, size_t total);
/* 0 if the opener may write the file, else a negative errno (decided in Rust). */
int mosix_proc_may_write(unsigned long cookie);

/* System facts that are macros or unbound variables. */
unsigned int mosix_online_cpus(void);
/* Runnable user threads right now (RCU walk of every thread; kernel threads not counted). */
unsigned int mosix_count_runnable(void);
/* One user process (the layout of mosix-core's procstat::Sample). */
struct mosix_proc_sample {
	s32 pid;
	s32 ppid;
	u64 start_ns;
	u64 runtime_ns;
};
/*
 * Fills out[0..max) with every user process (kernel threads skipped) and returns how many
 * there are (more than max: call again with a larger buffer). RCU walk, does not sleep.
 */
size_t mosix_sample_procs(struct mosix_proc_sample *out, size_t max);
/* The calling process's id, its parent's id and its start time (monotonic ns). */
void mosix_current_proc(s32 *pid, s32 *ppid, u64 *start_ns);
/* The calling process's CPU time (all threads, living and exited), ns. */
u64 mosix_current_runtime_ns(void);
/* The facts of a process's kernel state that decide its stay reasons (mcore::stay decides). */
struct mosix_task_facts {
	u32 kthread;	/* a kernel thread */
	u32 init;	/* the global init */
	u32 threads;	/* threads in its group */
	u32 policy;	/* scheduling policy (SCHED_*) */
	u32 io_ports;	/* I/O port rights (ioperm/iopl) */
	u32 addr32;	/* a 32-bit (compat) process */
	u32 vm_locked;	/* some area is VM_LOCKED */
	u32 vm_device;	/* some area is VM_IO/PFNMAP/MIXEDMAP, not a named special mapping */
	u32 vm_shared;	/* some area is VM_MAYSHARE */
};
/* Fills *f for process pid: 0, or -ESRCH. Sleeps (takes the process's mmap lock). */
int mosix_task_facts(s32 pid, struct mosix_task_facts *f);
/* 0 if the caller may control process pid (CAP_SYS_ADMIN, or its uid or euid is the caller's
 * euid), else -EPERM; -ESRCH if there is no such process. */
int mosix_may_control(s32 pid);
s64 mosix_proc_rss(s32 pid);
bool mosix_module_hold(void);
int mosix_set_nice(int nice);
void mosix_module_release(void);
/* Process pid's parent id and start time; 0, or -ESRCH if there is no such process. */
int mosix_proc_ident(s32 pid, s32 *ppid, u64 *start_ns);
/*
 * Work run in a process's own context (task_work, TWA_SIGNAL: on its way back to user mode,
 * interrupting an interruptible sleep). mosix_work_queue() queues run(job, w) on process pid
 * and takes a module reference for it; run is called exactly once and owns job from then on
 * (a queued task work always runs, at the latest in the task's exit). The caller waits with
 * mosix_work_wait() and drops its reference with mosix_work_put(); the last reference frees
 * the work. Returns NULL and sets *err (-ESRCH, -ENOMEM, -EAGAIN for a stopped or traced
 * process) on failure: job is then still the caller's.
 */
struct mosix_work;
typedef void (*mosix_job_fn)(void *job, struct mosix_work *w);
struct mosix_work *mosix_work_queue(s32 pid, mosix_job_fn run, void *job, int *err);
/* As mosix_work_queue(), on the task of migrant `token` (whatever now has its pid is not it). */
struct mosix_work *mosix_work_queue_watched(u64 token, mosix_job_fn run, void *job, int *err);
/* 0 once the job has run, -ERESTARTSYS if a fatal signal came first, -ETIMEDOUT (a
 * killable wait: a long transfer must not look like a hung task). */
int mosix_work_wait(struct mosix_work *w, unsigned int ms);
void mosix_work_put(struct mosix_work *w);
/* Wakes the waiting caller before the job ends (the job goes on, e.g. as a deputy). */
void mosix_work_complete(struct mosix_work *w);
/* For a job that ends its process (do_exit) instead of returning: does what returning would
 * (wakes the caller, drops the job's reference and the module reference). */
void mosix_work_release(struct mosix_work *w);

/* Rebuilding the current process (the adopter helper, in the ADOPT ioctl). */
/* Unmaps the current process's memory but its argument and environment pages (a deputy); -errno. */
int mosix_release_memory(void);
/*
 * Implemented in Rust (module/sys/probe.rs): a delete_module call with the user-space name
 * at name_uaddr was held back; if it is this module's (and the caller may unload modules),
 * empty the node and wait for the module references to go. Runs in the caller's context.
 */
void mosix_unload_requested(u64 name_uaddr);
/* References held on this module (module_refcount()). */
unsigned int mosix_module_refcount(void);
/* Unmaps every area but the kernel's special ones; -errno. */
int mosix_unmap_all(void);
/* Private anonymous mapping at exactly start; 0 or -errno. */
int mosix_map_anon(u64 start, u64 len, u32 prot, bool growsdown);
/* Writes len bytes at addr even into a read-only private mapping (as ptrace does). */
int mosix_poke(u64 addr, const void *buf, u32 len);
/* Sets the mm layout fields (start_code ... env_end, 11 values). */
void mosix_adopt_mm(const u64 *mm);
/*
 * Sets uid/euid/suid/fsuid and the gids, and clears the permitted, effective and ambient
 * capabilities if clear_caps (mcore::image::keeps_caps decides); -EINVAL for ids this kernel
 * cannot map.
 */
int mosix_adopt_creds(const u32 *uids, const u32 *gids, bool clear_caps);
/* Installs an FPU state in the kernel's layout; -EINVAL if its size or header do not fit. */
int mosix_adopt_fpu(const void *buf, u32 size);
/* Drops the helper's rseq registration and registers the migrant's area (ptr 0: none), as
 * rseq(2) would, without touching its contents. */
void mosix_adopt_rseq(u64 ptr, u32 len, u32 sig);
/* Installs signal actions and the alternate stack (the SIGNALS layout); SIGKILL's and
 * SIGSTOP's actions are left alone. */
void mosix_adopt_signals(const u64 *in);
/* Sets the fs and gs bases. */
void mosix_adopt_tls(u64 fs, u64 gs);
/* Installs the register file (21 u64) as given (mcore::image::adopt_regs made it). */
void mosix_set_regs(const u64 *regs);
/* Sets the blocked signals (SIGKILL and SIGSTOP stay unblocked); returns the old set. */
u64 mosix_set_blocked(u64 mask);
/* Closes a descriptor of the current process. */
int mosix_close_fd(int fd);
/* Where the current process's vDSO starts. */
u64 mosix_current_vdso(void);
/* Runs the adopter helper with the token and waits (killably, so not a hung task) until it
 * ends: its wait status, or -errno (-ENOENT: no helper found). */
int mosix_run_helper(u64 token);
/* Starts a kernel thread that holds a module reference and must end with
 * __module_put_and_kthread_exit(); -errno (-ENODEV once an unload has begun). */
int mosix_spawn(int (*fn)(void *), void *data, const char *name);
/* Sends signal sig to process pid (global id); -ESRCH if there is none. */
int mosix_kill(s32 pid, int sig);
/* Takes one pending signal off the current task (0 if none). */
int mosix_take_signal(void);
/* Whether a fatal signal is pending for the current task. */
bool mosix_fatal_signal(void);

/* Capture of the current process (called from a capture job, in its context). */
struct mosix_vma {
	u64 start;
	u64 end;
	u32 prot;
	u32 flags;
};
/* Its VMAs (at most max; returns how many there are), under the mmap read lock. */
long mosix_capture_vmas(struct mosix_vma *out, size_t max);
/* uids[4], gids[4], comm[16], mm[11], vdso, fs_base, gs_base, blocked. */
void mosix_capture_ids(u32 *uids, u32 *gids, char *comm, u64 *mm, u64 *vdso, u64 *fs, u64 *gs, u64 *blocked);
/* The registered rseq area, its length and signature (0s: none). */
void mosix_capture_rseq(u64 *ptr, u32 *len, u32 *sig);
/* Its signal actions and alternate stack: (64 * 4 + 3) u64, as mosix-core's SIGNALS frame. */
void mosix_capture_signals(u64 *out);
/* Its resource limits: (cur, max) for each of the 16. */
void mosix_capture_rlimits(u64 *out);
/* Installs resource limits in that layout (the CPU-time timer is not re-armed). */
void mosix_adopt_rlimits(const u64 *in);
/* Its register file (sizeof(struct pt_regs) bytes). */
void mosix_capture_regs(void *out);
/* Its FPU state in the kernel's xsave layout; returns the size (0 if it exceeds max). */
u32 mosix_capture_fpu(void *out, u32 max);
/* Whether the current task is exiting or has no user memory. */
bool mosix_current_gone(void);
/* Whether it is exiting or a fatal signal is on its way (it ends at its next return to user). */
bool mosix_current_ending(void);
/* The wait status it is ending with, as wait() will report it. */
int mosix_current_exit_status(void);
/* Test only: waits the time of the inject_..._delay_ms module parameter `which` (0: none). */
enum { MOSIX_DELAY_ARRIVAL = 0, MOSIX_DELAY_WATCH = 1, MOSIX_DELAY_THREAD_END = 2 };
void mosix_test_delay(int which, s32 pid);

/*
 * Watched tasks (migrants hosted here, deputies of processes that are away), for the
 * sys_enter probe, registered while there is one (or a module reference is held). mosix_watch_add() records the
 * current task under a token. For a migrant the probe asks Rust (mosix_migrant_syscall) what
 * to do with each call: 0 run it, 1 skip it with *ret as its result, 2 skip it and run the
 * CALL work (TWA_SIGNAL) with the call's number. For a deputy the probe skips the reserved
 * MOSIX_REPLY_NR call of its stub and runs the CALL work (TWA_RESUME). The works run
 * mosix_watched_run(token, kind, which, nr) in the task's context.
 */
#define MOSIX_W_MIGRANT 1
#define MOSIX_W_DEPUTY 2
#define MOSIX_WORK_CALL 0
#define MOSIX_WORK_PUMP 1
#define MOSIX_WORK_CANCEL 2
#define MOSIX_WORKS 3
/* mcore::forward::MOSIX_REPLY */
#define MOSIX_REPLY_NR 0x4d4f53L
/* mosix_watch_state() bits. */
#define MOSIX_WS_DEAD 1
#define MOSIX_WS_SIGNALS 2
int mosix_watch_add(int kind, u64 token, s32 home_pid);
void mosix_watch_remove(u64 token);
/* Queues work `which` (TWA_SIGNAL) on the task of token; -ESRCH if it is gone. */
int mosix_watch_queue(u64 token, int which);
/* What the current task is watched as (MOSIX_W_*, its token in *token), or 0. */
int mosix_current_watch(u64 *token);
/* Unregisters the probe once no module reference is held (the load sampler's tick). */
void mosix_probe_idle(void);
/* Unregisters the probe at unload (nothing can register it any more). */
void mosix_probe_unload(void);
/* Makes signal sig (1-64) pending for the current task. */
void mosix_raise(int sig);
/* MOSIX_WS_* bits of the task of token (signals: pending ones other than SIGKILL), -ESRCH. */
int mosix_watch_state(u64 token);
/* Implemented in Rust (module/sys/probe.rs, which calls the handlers registered at init). */
int mosix_migrant_syscall(long nr, s32 home_pid, const u64 *args, long *ret);
/* -1, or a wait status with which the task must exit. */
long mosix_watched_run(u64 token, int kind, int which, long nr);
/* The current task's system-call registers: arguments; the result (orig_ax = nr, so that the
 * signal code applies its restart rules); the start of a call at ip; the value the stub hands
 * back (di). */
void mosix_call_args(u64 *args);
/*
 * Sets the current task's ax to this value on its way back to user mode, after the system
 * call's return value was stored (the ioctl path keeps only an int of it). The caller must
 * keep the module loaded until then (a watched task does).
 */
int mosix_set_ax_on_return(u64 ax);
void mosix_call_result(long nr, long ret);
void mosix_call_start(u64 ip, long nr, const u64 *args);
long mosix_call_handed_back(void);
/* If call nr just ended with a restart code, keeps the kernel from restarting it. */
bool mosix_call_no_restart(long nr);
/* Skips the deputy's call if its stub has not entered it yet (ip still at `stub`). */
bool mosix_call_skip_unstarted(u64 stub);
/* An anonymous private mapping anywhere in the current process: its address or -errno. */
s64 mosix_map_any(u64 len, u32 prot);
/* An event to wait for: a sequence number that mosix_event_signal() advances. Waits return 1
 * once it differs from `seen`, 0 after ms, -ERESTARTSYS if interrupted (intr only; otherwise
 * the wait neither counts as load nor takes signals). */
struct mosix_event;
struct mosix_event *mosix_event_new(void);
void mosix_event_free(struct mosix_event *e);
u32 mosix_event_seq(struct mosix_event *e);
void mosix_event_signal(struct mosix_event *e);
int mosix_event_wait(struct mosix_event *e, u32 seen, unsigned int ms, bool intr);
/*
 * Clears the current task's TWA_SIGNAL notification. Only inside a task work: the works
 * queued meanwhile still run (task_work_run() loops until none is left), but the socket
 * calls of this one are not cut short by them.
 */
void mosix_clear_notify_signal(void);
/* Makes every arrival on (and state change of) a socket advance event ev, which must live
 * until mosix_sock_unhook(); -EBUSY if the socket is hooked already. */
int mosix_sock_hook(struct socket *sock, struct mosix_event *ev);
void mosix_sock_unhook(struct socket *sock);
/* Whether a signal (or a TWA_SIGNAL work) is pending for the current task. */
bool mosix_signal_pending(void);

/* Monotonic clock, ns (the clock of task start times). */
u64 mosix_now_ns(void);
/* Sleeps ms milliseconds, not interruptibly (a kthread_stop() or a fatal signal wakes it). */
void mosix_sleep_ms(unsigned int ms);

/* Sets a socket's receive / send (and connect) timeout (at least one jiffy). */
void mosix_sock_set_rcvtimeo(struct socket *sock, unsigned int ms);
void mosix_sock_set_sndtimeo(struct socket *sock, unsigned int ms);
/* SO_REUSEADDR and/or TCP_NODELAY on a TCP socket. */
void mosix_sock_tune(struct socket *sock, bool reuseaddr, bool nodelay);
/* XCR0 and the size of the xsave area the kernel uses (compacted if XSAVES is in use). */
void mosix_cpu_facts(u64 *xfeatures, u32 *xstate_size);

/* Layout self-check: C's view of the offsets and sizes the Rust bindings rely on. */
enum mosix_layout_item {
	MOSIX_L_TASK_SIZE,
	MOSIX_L_TASK_PID,
	MOSIX_L_TASK_TGID,
	MOSIX_L_TASK_MM,
	MOSIX_L_TASK_REAL_PARENT,
	MOSIX_L_REGS_SIZE,
	MOSIX_L_REGS_ORIG_AX,
	MOSIX_L_REGS_AX,
	MOSIX_L_REGS_IP,
	MOSIX_L_REGS_SP,
	MOSIX_L_PROC_SAMPLE_SIZE,
	MOSIX_L_VMA_SIZE,
	MOSIX_L_TASK_FACTS_SIZE,
	MOSIX_L_COUNT,
};
unsigned long mosix_c_layout(unsigned int item);

#endif /* MOSIX_SHIM_H */
