// SPDX-License-Identifier: GPL-2.0
/*
 * C shim of mosix.ko: procfs plumbing, macro and inline wrappers, task work and the watched-task
 * table, the system-call probe, capture and adoption of a process's state, socket options,
 * and the layout table for the init-time self-check. See mosix_shim.h for what is still
 * decided here.
 */
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/proc_fs.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/jiffies.h>
#include <linux/tracepoint.h>
#include <linux/rseq.h>
#include <linux/umh.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/task_work.h>
#include <linux/completion.h>
#include <linux/refcount.h>
#include <linux/module.h>
#include <linux/delay.h>
#include <asm/fpu/api.h>
#include <asm/fsgsbase.h>
#include <asm/msr.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/timekeeping.h>
#include <linux/net.h>
#include <net/sock.h>
#include <linux/tcp.h>
#include <asm/cpufeature.h>
#include <asm/cpuid/api.h>
#include <asm/fpu/xcr.h>

#include "mosix_shim.h"

static int mosix_proc_show_op(struct seq_file *m, void *v)
{
	return mosix_proc_show(m, (unsigned long)m->private);
}

static int mosix_proc_open(struct inode *inode, struct file *file)
{
	/* Checked at open, with the opener's credentials (not at write time). */
	if (file->f_mode & FMODE_WRITE) {
		int err = mosix_proc_may_write((unsigned long)pde_data(inode));

		if (err)
			return err;
	}
	return single_open(file, mosix_proc_show_op, pde_data(inode));
}

static ssize_t mosix_proc_write_op(struct file *file, const char __user *ubuf, size_t count,
				   loff_t *ppos)
{
	unsigned long cookie = (unsigned long)pde_data(file_inode(file));
	size_t len = min_t(size_t, count, MOSIX_PROC_WRITE_MAX);
	char *buf;
	long ret;

	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = mosix_proc_write(cookie, buf, len, count);
	kfree(buf);
	return ret < 0 ? ret : (ssize_t)count;
}

static const struct proc_ops mosix_proc_ops = {
	.proc_open = mosix_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
	.proc_write = mosix_proc_write_op,
};

struct proc_dir_entry *mosix_proc_mkdir(const char *name, struct proc_dir_entry *parent)
{
	return proc_mkdir(name, parent);
}

struct proc_dir_entry *mosix_proc_file(const char *name, umode_t mode,
				       struct proc_dir_entry *parent, unsigned long cookie)
{
	return proc_create_data(name, mode, parent, &mosix_proc_ops, (void *)cookie);
}

void mosix_proc_remove(struct proc_dir_entry *pde)
{
	proc_remove(pde);
}

unsigned int mosix_online_cpus(void)
{
	return num_online_cpus();
}

unsigned int mosix_count_runnable(void)
{
	struct task_struct *g, *t;
	unsigned int n = 0;

	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (!(t->flags & PF_KTHREAD) && task_is_running(t))
			n++;
	}
	rcu_read_unlock();
	return n;
}

/* CPU time of the threads that exited, plus that of the living ones. Under RCU. */
static u64 mosix_proc_runtime(struct task_struct *p)
{
	struct task_struct *t;
	u64 rt = READ_ONCE(p->signal->sum_sched_runtime);

	for_each_thread(p, t)
		rt += READ_ONCE(t->se.sum_exec_runtime);
	return rt;
}

size_t mosix_sample_procs(struct mosix_proc_sample *out, size_t max)
{
	struct task_struct *p;
	size_t n = 0;

	rcu_read_lock();
	for_each_process(p) {
		u64 rt;

		if (p->flags & PF_KTHREAD)
			continue;
		if (n < max) {
			rt = mosix_proc_runtime(p);
			out[n].pid = task_tgid_nr(p);
			out[n].ppid = task_tgid_nr(rcu_dereference(p->real_parent));
			out[n].start_ns = p->start_time;
			out[n].runtime_ns = rt;
		}
		n++;
	}
	rcu_read_unlock();
	return n;
}

void mosix_current_proc(s32 *pid, s32 *ppid, u64 *start_ns)
{
	*pid = task_tgid_nr(current);
	*ppid = task_ppid_nr(current);
	*start_ns = current->group_leader->start_time;
}

u64 mosix_current_runtime_ns(void)
{
	u64 rt;

	rcu_read_lock();
	rt = mosix_proc_runtime(current);
	rcu_read_unlock();
	return rt;
}

/* Stay-reason bits: keep in step with mosix-core/src/stay.rs. */
#define MOSIX_STAY_DEV		0x2
#define MOSIX_STAY_MLOCK	0x20
#define MOSIX_STAY_CLONE	0x40
#define MOSIX_STAY_RT		0x80
#define MOSIX_STAY_IOPL		0x100
#define MOSIX_STAY_SYSTEM	0x200
#define MOSIX_STAY_SHARED	0x800
#define MOSIX_STAY_COMPAT	0x1000

/* The process (thread group leader) with global id pid, with a reference, or NULL. */
static struct task_struct *mosix_get_proc(s32 pid)
{
	struct task_struct *p;

	rcu_read_lock();
	p = pid_task(find_pid_ns(pid, &init_pid_ns), PIDTYPE_TGID);
	if (p)
		get_task_struct(p);
	rcu_read_unlock();
	return p;
}

/* A named special mapping ([vdso], [vvar], [uprobes]): the kernel's own, not a device. */
static bool mosix_special_mapping(struct vm_area_struct *vma)
{
	const char *name = vma->vm_ops && vma->vm_ops->name ? vma->vm_ops->name(vma) : NULL;

	return name && name[0] == '[';
}

static u32 mosix_mm_stay(struct mm_struct *mm)
{
	struct vm_area_struct *vma;
	u32 bits = 0;
	VMA_ITERATOR(vmi, mm, 0);

	if (mmap_read_lock_killable(mm))
		return 0;
	for_each_vma(vmi, vma) {
		vm_flags_t f = vma->vm_flags;

		if (f & VM_LOCKED)
			bits |= MOSIX_STAY_MLOCK;
		if ((f & (VM_IO | VM_PFNMAP | VM_MIXEDMAP)) && !mosix_special_mapping(vma))
			bits |= MOSIX_STAY_DEV;
		if (f & VM_MAYSHARE)
			bits |= MOSIX_STAY_SHARED;
	}
	mmap_read_unlock(mm);
	return bits;
}

long mosix_proc_stay(s32 pid)
{
	struct task_struct *p = mosix_get_proc(pid);
	struct mm_struct *mm;
	u32 bits = 0;

	if (!p)
		return -ESRCH;
	if ((p->flags & PF_KTHREAD) || is_global_init(p))
		bits |= MOSIX_STAY_SYSTEM;
	if (get_nr_threads(p) > 1)
		bits |= MOSIX_STAY_CLONE;
	if (p->policy == SCHED_FIFO || p->policy == SCHED_RR || p->policy == SCHED_DEADLINE)
		bits |= MOSIX_STAY_RT;
#ifdef CONFIG_X86_IOPL_IOPERM
	if (p->thread.io_bitmap || p->thread.iopl_emul)
		bits |= MOSIX_STAY_IOPL;
#endif
	if (test_tsk_thread_flag(p, TIF_ADDR32))
		bits |= MOSIX_STAY_COMPAT;
	mm = get_task_mm(p);
	if (mm) {
		bits |= mosix_mm_stay(mm);
		mmput(mm);
	}
	put_task_struct(p);
	return bits;
}

int mosix_proc_ident(s32 pid, s32 *ppid, u64 *start_ns)
{
	struct task_struct *p = mosix_get_proc(pid);

	if (!p)
		return -ESRCH;
	*ppid = task_ppid_nr(p);
	*start_ns = p->start_time;
	put_task_struct(p);
	return 0;
}

int mosix_may_control(s32 pid)
{
	struct task_struct *p = mosix_get_proc(pid);
	const struct cred *tc;
	kuid_t me = current_euid();
	bool ok;

	if (!p)
		return -ESRCH;
	rcu_read_lock();
	tc = __task_cred(p);
	ok = uid_eq(tc->uid, me) || uid_eq(tc->euid, me);
	rcu_read_unlock();
	put_task_struct(p);
	return ok || capable(CAP_SYS_ADMIN) ? 0 : -EPERM;
}

/* Resident pages of process `pid`, bytes (what its image would carry, roughly). */
s64 mosix_proc_rss(s32 pid)
{
	struct task_struct *p = mosix_get_proc(pid);
	struct mm_struct *mm;
	s64 bytes;

	if (!p)
		return -ESRCH;
	mm = get_task_mm(p);
	put_task_struct(p);
	if (!mm)
		return -ESRCH;
	bytes = (s64)get_mm_rss(mm) << PAGE_SHIFT;
	mmput(mm);
	return bytes;
}

/* Sets the current task's nice value; returns the old one. */
int mosix_set_nice(int nice)
{
	int old = task_nice(current);

	set_user_nice(current, clamp(nice, MIN_NICE, MAX_NICE));
	return old;
}

static bool mosix_module_get_probed(void);

/* A module reference, unless the module is going away (the probe goes on with it). */
bool mosix_module_hold(void)
{
	return mosix_module_get_probed();
}

void mosix_module_release(void)
{
	module_put(THIS_MODULE);
}

struct mosix_work {
	struct callback_head head;
	struct completion done;
	refcount_t refs;
	/* The job has been put back once (see mosix_work_fn()). */
	bool deferred;
	/* Runs once, and owns job from then on (the task work always runs once queued). */
	mosix_job_fn run;
	void *job;
};

static void mosix_work_put_ref(struct mosix_work *w)
{
	if (refcount_dec_and_test(&w->refs))
		kfree(w);
}

void mosix_work_complete(struct mosix_work *w)
{
	complete_all(&w->done);
}

void mosix_work_release(struct mosix_work *w)
{
	complete_all(&w->done);
	mosix_work_put_ref(w);
	module_put(THIS_MODULE);
}

static void mosix_work_fn(struct callback_head *head)
{
	struct mosix_work *w = container_of(head, struct mosix_work, head);

	/*
	 * A capture must see the task as user mode will: after every work queued before it.
	 * task_work_run() takes the whole list at once and runs it newest first, so a work
	 * queued before this one (the adopter's full-ax fix-up, a migrant's forwarded call that
	 * must rewind itself) may still be waiting behind it. Put the job back once: it then
	 * runs in task_work_run()'s next pass, after all of them. (task_work_run() has read
	 * head->next already: re-adding the head here is allowed.)
	 */
	if (!w->deferred) {
		w->deferred = true;
		if (!task_work_add(current, &w->head, TWA_RESUME))
			return;
		/* The task is exiting: run the job now (it finds the task gone). */
	}
	w->run(w->job, w);
	complete_all(&w->done);
	mosix_work_put_ref(w);
	/* The reference taken in mosix_work_queue(): rmmod waits for pending jobs. */
	module_put(THIS_MODULE);
}

/* Queues a job on task p (whose reference it takes over). */
static struct mosix_work *mosix_work_queue_task(struct task_struct *p, mosix_job_fn run,
						void *job, int *err)
{
	struct mosix_work *w;
	int r;

	*err = 0;
	if (!p) {
		*err = -ESRCH;
		return NULL;
	}
	if (task_is_stopped_or_traced(p) || (p->flags & (PF_EXITING | PF_KTHREAD))) {
		put_task_struct(p);
		*err = -EAGAIN;
		return NULL;
	}
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w) {
		put_task_struct(p);
		*err = -ENOMEM;
		return NULL;
	}
	/* Not once an unload has begun (a /proc/mosix write may still be running then). */
	if (!mosix_module_get_probed()) {
		put_task_struct(p);
		kfree(w);
		*err = -ENODEV;
		return NULL;
	}
	init_task_work(&w->head, mosix_work_fn);
	init_completion(&w->done);
	refcount_set(&w->refs, 2);
	w->run = run;
	w->job = job;
	r = task_work_add(p, &w->head, TWA_SIGNAL);
	put_task_struct(p);
	if (r) {
		module_put(THIS_MODULE);
		kfree(w);
		*err = r;
		return NULL;
	}
	return w;
}

struct mosix_work *mosix_work_queue(s32 pid, mosix_job_fn run, void *job, int *err)
{
	return mosix_work_queue_task(mosix_get_proc(pid), run, job, err);
}

int mosix_work_wait(struct mosix_work *w, unsigned int ms)
{
	/*
	 * Killable, not interruptible: a caller that gave up on a signal would leave its job
	 * queued while a second request for the same process could start (and a capture job
	 * queued on the caller, e.g. by the balancer, would cut every such wait short).
	 */
	long r = wait_for_completion_killable_timeout(&w->done, msecs_to_jiffies(ms));

	if (r > 0)
		return 0;
	return r == 0 ? -ETIMEDOUT : (int)r;
}

void mosix_work_put(struct mosix_work *w)
{
	mosix_work_put_ref(w);
}

bool mosix_current_gone(void)
{
	return (current->flags & PF_EXITING) || !current->mm;
}

bool mosix_current_ending(void)
{
	return mosix_current_gone() || fatal_signal_pending(current) ||
	       (current->signal->flags & SIGNAL_GROUP_EXIT);
}

int mosix_current_exit_status(void)
{
	/*
	 * As wait() will report it (wait_task_zombie()): a group exit's code (a fatal signal's
	 * delivery sets it, do_group_exit() uses it), else the task's own (do_exit() set it
	 * before the task works run). A fatal signal with neither: SIGKILL.
	 */
	if (current->signal->flags & SIGNAL_GROUP_EXIT)
		return current->signal->group_exit_code;
	if (current->flags & PF_EXITING)
		return current->exit_code;
	return SIGKILL;
}

long mosix_capture_vmas(struct mosix_vma *out, size_t max)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	long n = 0;
	VMA_ITERATOR(vmi, mm, 0);

	if (!mm)
		return -ESRCH;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for_each_vma(vmi, vma) {
		if (n < max) {
			vm_flags_t f = vma->vm_flags;

			out[n].start = vma->vm_start;
			out[n].end = vma->vm_end;
			out[n].prot = ((f & VM_READ) ? 1 : 0) | ((f & VM_WRITE) ? 2 : 0) | ((f & VM_EXEC) ? 4 : 0);
			out[n].flags = ((f & VM_GROWSDOWN) ? 1 : 0) | (mosix_special_mapping(vma) ? 2 : 0);
		}
		n++;
	}
	mmap_read_unlock(mm);
	return n;
}

void mosix_capture_ids(u32 *uids, u32 *gids, char *comm, u64 *mm, u64 *vdso, u64 *fs, u64 *gs, u64 *blocked)
{
	const struct cred *c = current_cred();
	struct mm_struct *m = current->mm;

	uids[0] = from_kuid_munged(&init_user_ns, c->uid);
	uids[1] = from_kuid_munged(&init_user_ns, c->euid);
	uids[2] = from_kuid_munged(&init_user_ns, c->suid);
	uids[3] = from_kuid_munged(&init_user_ns, c->fsuid);
	gids[0] = from_kgid_munged(&init_user_ns, c->gid);
	gids[1] = from_kgid_munged(&init_user_ns, c->egid);
	gids[2] = from_kgid_munged(&init_user_ns, c->sgid);
	gids[3] = from_kgid_munged(&init_user_ns, c->fsgid);
	strscpy_pad(comm, current->comm, TASK_COMM_LEN);
	if (m) {
		mm[0] = m->start_code;
		mm[1] = m->end_code;
		mm[2] = m->start_data;
		mm[3] = m->end_data;
		mm[4] = m->start_brk;
		mm[5] = m->brk;
		mm[6] = m->start_stack;
		mm[7] = m->arg_start;
		mm[8] = m->arg_end;
		mm[9] = m->env_start;
		mm[10] = m->env_end;
		*vdso = (u64)(unsigned long)m->context.vdso;
	}
	preempt_disable();
	*fs = x86_fsbase_read_cpu();
	rdmsrq(MSR_KERNEL_GS_BASE, *gs);
	preempt_enable();
	*blocked = current->blocked.sig[0];
}

void mosix_capture_rseq(u64 *ptr, u32 *len, u32 *sig)
{
#ifdef CONFIG_RSEQ
	*ptr = (u64)(unsigned long)current->rseq.usrptr;
	*len = current->rseq.len;
	*sig = current->rseq.sig;
#else
	*ptr = 0;
	*len = 0;
	*sig = 0;
#endif
}

/* The original rseq area size (kernel/rseq.c's ORIG_RSEQ_SIZE, not in a header). */
#define MOSIX_ORIG_RSEQ_SIZE 32

void mosix_adopt_rseq(u64 ptr, u32 len, u32 sig)
{
#ifdef CONFIG_RSEQ
	rseq_reset(current);
	if (!ptr)
		return;
	current->rseq.usrptr = (struct rseq __user *)(unsigned long)ptr;
	current->rseq.len = len;
	current->rseq.sig = sig;
	/* The version rseq_register() gives a registration of this length. */
	current->rseq.event.has_rseq = (IS_ENABLED(CONFIG_GENERIC_IRQ_ENTRY) && len > MOSIX_ORIG_RSEQ_SIZE) ? 2 : 1;
	rseq_force_update();
#endif
}

void mosix_capture_signals(u64 *out)
{
	struct sighand_struct *sh = current->sighand;
	int i;

	BUILD_BUG_ON(_NSIG != 64 || _NSIG_WORDS != 1);
	spin_lock_irq(&sh->siglock);
	for (i = 0; i < _NSIG; i++) {
		struct k_sigaction *ka = &sh->action[i];

		out[4 * i] = (u64)(unsigned long)ka->sa.sa_handler;
		out[4 * i + 1] = ka->sa.sa_flags;
		out[4 * i + 2] = (u64)(unsigned long)ka->sa.sa_restorer;
		out[4 * i + 3] = ka->sa.sa_mask.sig[0];
	}
	spin_unlock_irq(&sh->siglock);
	out[4 * _NSIG] = current->sas_ss_sp;
	out[4 * _NSIG + 1] = current->sas_ss_size;
	out[4 * _NSIG + 2] = current->sas_ss_flags;
}

void mosix_adopt_signals(const u64 *in)
{
	struct sighand_struct *sh = current->sighand;
	int i;

	spin_lock_irq(&sh->siglock);
	for (i = 0; i < _NSIG; i++) {
		struct k_sigaction *ka = &sh->action[i];

		if (i + 1 == SIGKILL || i + 1 == SIGSTOP)
			continue;
		ka->sa.sa_handler = (__sighandler_t)(unsigned long)in[4 * i];
		ka->sa.sa_flags = in[4 * i + 1];
		ka->sa.sa_restorer = (__sigrestore_t)(unsigned long)in[4 * i + 2];
		ka->sa.sa_mask.sig[0] = in[4 * i + 3] & ~(sigmask(SIGKILL) | sigmask(SIGSTOP));
	}
	spin_unlock_irq(&sh->siglock);
	current->sas_ss_sp = in[4 * _NSIG];
	current->sas_ss_size = in[4 * _NSIG + 1];
	current->sas_ss_flags = in[4 * _NSIG + 2];
}

void mosix_capture_rlimits(u64 *out)
{
	struct task_struct *leader = current->group_leader;
	int i;

	BUILD_BUG_ON(RLIM_NLIMITS != 16);
	task_lock(leader);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		out[2 * i] = current->signal->rlim[i].rlim_cur;
		out[2 * i + 1] = current->signal->rlim[i].rlim_max;
	}
	task_unlock(leader);
}

void mosix_adopt_rlimits(const u64 *in)
{
	struct task_struct *leader = current->group_leader;
	int i;

	task_lock(leader);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		/* As setrlimit() keeps them: the soft limit never above the hard one. */
		current->signal->rlim[i].rlim_max = in[2 * i + 1];
		current->signal->rlim[i].rlim_cur = min(in[2 * i], in[2 * i + 1]);
	}
	task_unlock(leader);
}

void mosix_capture_regs(void *out)
{
	memcpy(out, current_pt_regs(), sizeof(struct pt_regs));
}

/*
 * The FPU context of a user task. x86_task_fpu() is an out-of-line, unexported function when
 * CONFIG_X86_DEBUG_FPU=y (Debian's stock kernel); with or without it the context lies right
 * after the task_struct (arch_task_struct_size), which is what both variants compute. Callers
 * pass current, a user task (never a kernel thread, which has no user FPU context).
 */
static struct fpu *mosix_task_fpu(struct task_struct *t)
{
	return (struct fpu *)((void *)t + sizeof(*t));
}

u32 mosix_capture_fpu(void *out, u32 max)
{
	struct fpstate *fps;
	u32 size;

	if (current->flags & PF_KTHREAD)
		return 0;
	/* Saves the live user registers into the task's fpstate (TIF_NEED_FPU_LOAD set). */
	kernel_fpu_begin();
	kernel_fpu_end();
	fps = mosix_task_fpu(current)->fpstate;
	size = fps->size;
	if (size > max)
		return 0;
	memcpy(out, &fps->regs, size);
	return size;
}

/*
 * Unmaps the current process's memory except its special mappings (vDSO, vvar) and the
 * pages in [keep_lo, keep_hi) (page-aligned; an empty range keeps none).
 */
static int mosix_unmap_except(u64 keep_lo, u64 keep_hi)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	u64 start[16], end[16];
	int n, i, r;

	if (!mm)
		return -ESRCH;
	if (keep_hi <= keep_lo)
		keep_lo = keep_hi = 0;
	do {
		VMA_ITERATOR(vmi, mm, 0);

		n = 0;
		if (mmap_read_lock_killable(mm))
			return -EINTR;
		for_each_vma(vmi, vma) {
			if (mosix_special_mapping(vma))
				continue;
			/* The part below the kept range, then the part above it. */
			if (vma->vm_start < keep_lo) {
				start[n] = vma->vm_start;
				end[n] = min_t(u64, vma->vm_end, keep_lo);
				n++;
			}
			if (vma->vm_end > keep_hi) {
				start[n] = max_t(u64, vma->vm_start, keep_hi);
				end[n] = vma->vm_end;
				n++;
			}
			if (n >= ARRAY_SIZE(start) - 1)
				break;
		}
		mmap_read_unlock(mm);
		for (i = 0; i < n; i++) {
			r = vm_munmap(start[i], end[i] - start[i]);
			if (r)
				return r;
		}
	} while (n);
	return 0;
}

int mosix_unmap_all(void)
{
	return mosix_unmap_except(0, 0);
}

/*
 * Unmaps the current process's memory but for the pages holding its argument and
 * environment strings (which /proc/PID/cmdline and environ read): the deputy's memory, once
 * its process runs elsewhere.
 */
int mosix_release_memory(void)
{
	struct mm_struct *mm = current->mm;

	if (!mm)
		return -ESRCH;
	return mosix_unmap_except(mm->arg_start & PAGE_MASK, PAGE_ALIGN(mm->env_end));
}

int mosix_map_anon(u64 start, u64 len, u32 prot, bool growsdown)
{
	unsigned long flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
	unsigned long addr;

	if (growsdown)
		flags |= MAP_GROWSDOWN;
	addr = vm_mmap(NULL, start, len, prot & (PROT_READ | PROT_WRITE | PROT_EXEC), flags, 0);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	return addr == start ? 0 : -EEXIST;
}

int mosix_poke(u64 addr, const void *buf, u32 len)
{
	int n = access_process_vm(current, addr, (void *)buf, len, FOLL_WRITE | FOLL_FORCE);

	return n == len ? 0 : -EFAULT;
}

void mosix_adopt_mm(const u64 *v)
{
	struct mm_struct *mm = current->mm;

	mmap_write_lock(mm);
	mm->start_code = v[0];
	mm->end_code = v[1];
	mm->start_data = v[2];
	mm->end_data = v[3];
	mm->start_brk = v[4];
	mm->brk = v[5];
	mm->start_stack = v[6];
	mm->arg_start = v[7];
	mm->arg_end = v[8];
	mm->env_start = v[9];
	mm->env_end = v[10];
	mmap_write_unlock(mm);
}

int mosix_adopt_creds(const u32 *uids, const u32 *gids)
{
	kuid_t u[4];
	kgid_t g[4];
	struct cred *new;
	int i;

	for (i = 0; i < 4; i++) {
		u[i] = make_kuid(&init_user_ns, uids[i]);
		g[i] = make_kgid(&init_user_ns, gids[i]);
		if (!uid_valid(u[i]) || !gid_valid(g[i]))
			return -EINVAL;
	}
	new = prepare_creds();
	if (!new)
		return -ENOMEM;
	new->uid = u[0];
	new->euid = u[1];
	new->suid = u[2];
	new->fsuid = u[3];
	new->gid = g[0];
	new->egid = g[1];
	new->sgid = g[2];
	new->fsgid = g[3];
	if (!uid_eq(new->euid, GLOBAL_ROOT_UID)) {
		/* What setresuid() to a non-root user does to the capabilities. */
		cap_clear(new->cap_permitted);
		cap_clear(new->cap_effective);
		cap_clear(new->cap_ambient);
	}
	return commit_creds(new);
}

/*
 * Test only: delays (in ms, at most 10 s) that hold a step of a migration back, to open a
 * window a test must hit every time.
 * - inject_arrival_delay_ms (t-arrival): a migrant's image, once received, waits before its
 *   adopter starts: an unload must refuse or wait for an arriving process (remote::ARRIVING).
 * - inject_watch_delay_ms (t-endrace): a migrant's watcher waits before it takes the link: a
 *   migrant that ends meanwhile must still have its status sent home.
 * - inject_thread_end_delay_ms (t-arrival): a migration thread, done, waits before it drops
 *   its module reference: an unload meanwhile must wait for it, not fail with EAGAIN.
 */
static unsigned int mosix_inject_delay_ms[3];

static int mosix_delay_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, 10000);
}

static const struct kernel_param_ops mosix_delay_ops = {
	.set = mosix_delay_set,
	.get = param_get_uint,
};
module_param_cb(inject_arrival_delay_ms, &mosix_delay_ops, &mosix_inject_delay_ms[MOSIX_DELAY_ARRIVAL], 0600);
MODULE_PARM_DESC(inject_arrival_delay_ms, "Test only: delay each arriving process this many ms (0-10000)");
module_param_cb(inject_watch_delay_ms, &mosix_delay_ops, &mosix_inject_delay_ms[MOSIX_DELAY_WATCH], 0600);
MODULE_PARM_DESC(inject_watch_delay_ms, "Test only: delay each migrant's watcher this many ms (0-10000)");
module_param_cb(inject_thread_end_delay_ms, &mosix_delay_ops, &mosix_inject_delay_ms[MOSIX_DELAY_THREAD_END], 0600);
MODULE_PARM_DESC(inject_thread_end_delay_ms, "Test only: delay each migration thread's end this many ms (0-10000)");

/* pid: the process the step is for (0: the step is the current thread's). */
void mosix_test_delay(int which, s32 pid)
{
	static const char *const what[] = { "inject_arrival_delay_ms", "inject_watch_delay_ms",
					    "inject_thread_end_delay_ms" };
	static const char *const before[] = { "its adoption", "its watcher takes the link",
					      "it drops its module reference" };
	unsigned int ms;

	if (which < 0 || which >= ARRAY_SIZE(mosix_inject_delay_ms))
		return;
	ms = READ_ONCE(mosix_inject_delay_ms[which]);
	if (!ms)
		return;
	if (pid)
		pr_info("mosix: %s: process %d waits %u ms before %s (test switch)\n", what[which],
			pid, ms, before[which]);
	else
		pr_info("mosix: %s: thread %s waits %u ms before %s (test switch)\n", what[which],
			current->comm, ms, before[which]);
	msleep(ms);
}

/*
 * Test only (t-fpu): every FPU adoption first lets a context switch save the registers on
 * one CPU, adopts on another and returns on the first, the order that once resumed a
 * migrant with stale registers (see mosix_adopt_fpu()). Costs a few ms per adoption.
 */
static bool mosix_inject_fpu_hop;
module_param_named(inject_fpu_hop, mosix_inject_fpu_hop, bool, 0600);
MODULE_PARM_DESC(inject_fpu_hop, "Test only: move across CPUs around each FPU adoption");

struct mosix_fpu_hop {
	/* The CPU the hop returns to, or -1: no hop. */
	int from;
	cpumask_var_t saved;
};

static void mosix_fpu_hop_away(struct mosix_fpu_hop *h)
{
	unsigned int from, to;

	h->from = -1;
	if (!READ_ONCE(mosix_inject_fpu_hop) || !alloc_cpumask_var(&h->saved, GFP_KERNEL))
		return;
	cpumask_copy(h->saved, current->cpus_ptr);
	/* Live registers are saved on the way out; last_cpu then names this CPU. */
	msleep(2);
	from = mosix_task_fpu(current)->last_cpu;
	to = from < nr_cpu_ids ? cpumask_any_but(cpu_online_mask, from) : nr_cpu_ids;
	if (to >= nr_cpu_ids || set_cpus_allowed_ptr(current, cpumask_of(to))) {
		free_cpumask_var(h->saved);
		return;
	}
	h->from = from;
	pr_info_once("mosix: inject_fpu_hop: CPU %u to %u and back around an FPU adoption (test switch)\n", from, to);
}

static void mosix_fpu_hop_back(struct mosix_fpu_hop *h)
{
	if (h->from < 0)
		return;
	if (cpu_online(h->from))
		set_cpus_allowed_ptr(current, cpumask_of(h->from));
	set_cpus_allowed_ptr(current, h->saved);
	free_cpumask_var(h->saved);
}

int mosix_adopt_fpu(const void *buf, u32 size)
{
	struct fpu *fpu = mosix_task_fpu(current);
	const struct xregs_state *in = buf;
	struct mosix_fpu_hop hop;
	struct fpstate *fps;
	int r = -EINVAL;

	if (current->flags & PF_KTHREAD)
		return -EINVAL;
	mosix_fpu_hop_away(&hop);

	/* The registers go to fpstate (TIF_NEED_FPU_LOAD set): from now on it is the state. */
	kernel_fpu_begin();
	kernel_fpu_end();
	fps = fpu->fpstate;
	/* The same size, features and (compacted) layout as this task's own state. */
	if (fps->size != size || size < sizeof(struct xregs_state) ||
	    (in->header.xfeatures & ~fps->xfeatures) ||
	    in->header.xcomp_bv != fps->regs.xsave.header.xcomp_bv)
		goto out;
	fpregs_lock();
	memcpy(&fps->regs, buf, size);
	/*
	 * The CPU this task last ran user code on, or was switched out from with live
	 * registers, may still hold them and count them as this task's (its
	 * fpu_fpregs_owner_ctx is this fpu, and last_cpu names it): kernel_fpu_begin() above
	 * invalidated only the CPU it ran on. A return to user mode on that CPU would then skip
	 * the restore and resume the migrant with the old registers (issue 11: the adopter
	 * helper's, in a cpuloop's doubles). As __fpu_invalidate_fpregs_state() (not
	 * exported): no CPU holds them now.
	 */
	fpu->last_cpu = -1;
	set_thread_flag(TIF_NEED_FPU_LOAD);
	fpregs_unlock();
	r = 0;
out:
	mosix_fpu_hop_back(&hop);
	return r;
}

void mosix_adopt_tls(u64 fs, u64 gs)
{
	preempt_disable();
	x86_fsbase_write_cpu(fs);
	current->thread.fsbase = fs;
	wrmsrq(MSR_KERNEL_GS_BASE, gs);
	current->thread.gsbase = gs;
	preempt_enable();
}

/* The flags a user program may change (as sigreturn allows). */
#define MOSIX_USER_EFLAGS (X86_EFLAGS_AC | X86_EFLAGS_OF | X86_EFLAGS_DF | X86_EFLAGS_TF | \
			   X86_EFLAGS_SF | X86_EFLAGS_ZF | X86_EFLAGS_AF | X86_EFLAGS_PF | \
			   X86_EFLAGS_CF | X86_EFLAGS_RF)

int mosix_adopt_regs(const u64 *r)
{
	struct pt_regs *regs = current_pt_regs();
	struct pt_regs in;

	BUILD_BUG_ON(sizeof(in) != 21 * sizeof(u64));
	memcpy(&in, r, sizeof(in));
	if (in.cs != regs->cs || in.ss != regs->ss)
		return -EINVAL;
	in.flags = (regs->flags & ~MOSIX_USER_EFLAGS) | (in.flags & MOSIX_USER_EFLAGS);
	*regs = in;
	return 0;
}

u64 mosix_set_blocked(u64 mask)
{
	sigset_t set, old;

	siginitset(&set, mask & ~(sigmask(SIGKILL) | sigmask(SIGSTOP)));
	sigprocmask(SIG_SETMASK, &set, &old);
	return old.sig[0];
}

int mosix_close_fd(int fd)
{
	return close_fd(fd);
}

u64 mosix_current_vdso(void)
{
	return current->mm ? (u64)(unsigned long)current->mm->context.vdso : 0;
}

int mosix_run_helper(u64 token)
{
	static const char *const paths[] = { "/sbin/mosix-adopt", "/usr/sbin/mosix-adopt",
					     "/usr/local/sbin/mosix-adopt", "/bin/mosix-adopt",
					     "/usr/bin/mosix-adopt" };
	static char *envp[] = { "PATH=/sbin:/bin:/usr/sbin:/usr/bin", NULL };
	char tok[24];
	char *argv[3] = { NULL, tok, NULL };
	int i, r = -ENOENT;

	snprintf(tok, sizeof(tok), "%016llx", token);
	for (i = 0; i < ARRAY_SIZE(paths) && r == -ENOENT; i++) {
		argv[0] = (char *)paths[i];
		r = call_usermodehelper(argv[0], argv, envp, UMH_WAIT_PROC | UMH_KILLABLE);
	}
	return r;
}

int mosix_spawn(int (*fn)(void *), void *data, const char *name)
{
	struct task_struct *t;

	/* Not once an unload has begun: the thread would outlive the module's code. */
	if (!mosix_module_get_probed())
		return -ENODEV;
	t = kthread_run(fn, data, "%s", name);
	if (IS_ERR(t)) {
		module_put(THIS_MODULE);
		return PTR_ERR(t);
	}
	return 0;
}


int mosix_kill(s32 pid, int sig)
{
	struct pid *p = find_get_pid(pid);
	int r;

	if (!p)
		return -ESRCH;
	r = kill_pid(p, sig, 1);
	put_pid(p);
	return r;
}

int mosix_take_signal(void)
{
	kernel_siginfo_t info;
	enum pid_type type;
	sigset_t none;
	int sig;

	sigemptyset(&none);
	spin_lock_irq(&current->sighand->siglock);
	sig = dequeue_signal(&none, &info, &type);
	spin_unlock_irq(&current->sighand->siglock);
	return sig;
}

void mosix_raise(int sig)
{
	if (sig >= 1 && sig <= _NSIG)
		send_sig(sig, current, 1);
}

bool mosix_fatal_signal(void)
{
	return fatal_signal_pending(current);
}

#define MOSIX_MAX_WATCHED 256

/*
 * A watched task: a migrant hosted here or a deputy of a process that is away. Freed when its
 * last reference goes: the table's, and one per queued work (a work may run at the task's
 * exit, after the table has forgotten it). Holds a module reference (the works are module
 * code) and a task reference.
 */
struct mosix_watched {
	struct task_struct *task;
	u64 token;
	s32 home_pid;
	int kind;
	refcount_t refs;
	unsigned long queued;
	long nr;
	struct callback_head works[MOSIX_WORKS];
};

static struct mosix_watched *mosix_watched[MOSIX_MAX_WATCHED];
static atomic_t mosix_nr_watched = ATOMIC_INIT(0);
/* One past the highest slot ever used while the probe is on: the probe scans no further. */
static int mosix_watched_hi;
static DEFINE_MUTEX(mosix_watched_lock);
static struct tracepoint *mosix_tp_sys_enter;
static bool mosix_probe_on;

static void mosix_watched_put(struct mosix_watched *w)
{
	if (refcount_dec_and_test(&w->refs)) {
		put_task_struct(w->task);
		kfree(w);
		module_put(THIS_MODULE);
	}
}

static void mosix_watched_work(struct mosix_watched *w, int which)
{
	long status;

	/* Cleared first: the work may queue itself again. */
	clear_bit(which, &w->queued);
	status = mosix_watched_run(w->token, w->kind, which, READ_ONCE(w->nr));
	mosix_watched_put(w);
	/* The deputy's process ended where it ran: end it here with its wait status. */
	if (status >= 0)
		do_exit(status);
}

static void mosix_work_call_fn(struct callback_head *h)
{
	mosix_watched_work(container_of(h, struct mosix_watched, works[MOSIX_WORK_CALL]), MOSIX_WORK_CALL);
}

static void mosix_work_pump_fn(struct callback_head *h)
{
	mosix_watched_work(container_of(h, struct mosix_watched, works[MOSIX_WORK_PUMP]), MOSIX_WORK_PUMP);
}

static void mosix_work_cancel_fn(struct callback_head *h)
{
	mosix_watched_work(container_of(h, struct mosix_watched, works[MOSIX_WORK_CANCEL]), MOSIX_WORK_CANCEL);
}

static int mosix_watched_queue(struct mosix_watched *w, int which, enum task_work_notify_mode mode)
{
	if (test_and_set_bit(which, &w->queued))
		return 0;
	refcount_inc(&w->refs);
	if (task_work_add(w->task, &w->works[which], mode)) {
		clear_bit(which, &w->queued);
		/* The caller holds a reference too: this is never the last. */
		refcount_dec(&w->refs);
		return -ESRCH;
	}
	return 0;
}

/* Lets this task's next delete_module call through (its evacuation has run). */
static struct task_struct *mosix_unload_pass;

/*
 * A delete_module call while processes are away or hosted: if it names this module (and
 * the caller may unload modules), evacuate in the caller's context, then run the call again.
 */
static void mosix_unload_fn(struct callback_head *h)
{
	struct pt_regs *regs = current_pt_regs();
	char name[MODULE_NAME_LEN];
	long n = strncpy_from_user(name, (const char __user *)regs->di, sizeof(name));

	kfree(h);
	if (n > 0 && n < (long)sizeof(name) && !strcmp(name, KBUILD_MODNAME) && capable(CAP_SYS_MODULE)) {
		int i;

		mosix_unload_evacuate();
		/*
		 * The processes are home and the guests gone, but the threads and works that
		 * moved them may still be winding down, each with a module reference: wait (up to
		 * 10 s) until only this work's own is left, or the call fails with EAGAIN.
		 */
		for (i = 0; i < 200 && module_refcount(THIS_MODULE) > 1; i++)
			msleep(50);
	}
	WRITE_ONCE(mosix_unload_pass, current);
	regs->orig_ax = __NR_delete_module;
	regs->ax = -ERESTARTNOINTR;
	module_put(THIS_MODULE);
}

/* In the probe: holds a delete_module call back for mosix_unload_fn. */
static void mosix_unload_intercept(struct pt_regs *regs)
{
	struct callback_head *h;

	if (READ_ONCE(mosix_unload_pass) == current) {
		WRITE_ONCE(mosix_unload_pass, NULL);
		return;
	}
	/* Once an unload has begun (a second rmmod meanwhile), let the call fail by itself. */
	if (!try_module_get(THIS_MODULE))
		return;
	h = kmalloc(sizeof(*h), GFP_NOWAIT);
	if (!h) {
		module_put(THIS_MODULE);
		return;
	}
	init_task_work(h, mosix_unload_fn);
	if (task_work_add(current, h, TWA_SIGNAL)) {
		module_put(THIS_MODULE);
		kfree(h);
		return;
	}
	regs->orig_ax = -1;
	regs->ax = -ENOSYS;
}

static void mosix_sys_enter(void *data, struct pt_regs *regs, long id)
{
	struct mosix_watched *w;
	long ret;
	int i, r, hi;

	/*
	 * Every task of the node comes here while the probe is on (a task is watched, or a
	 * module reference is held): one load when no task is watched.
	 */
	if (likely(!atomic_read(&mosix_nr_watched))) {
		if (unlikely(id == __NR_delete_module))
			mosix_unload_intercept(regs);
		return;
	}
	hi = READ_ONCE(mosix_watched_hi);
	for (i = 0; i < hi; i++) {
		w = READ_ONCE(mosix_watched[i]);
		if (!w || w->task != current)
			continue;
		if (w->kind == MOSIX_W_DEPUTY) {
			/* The stub hands back a call's result: skip it, the work replies. */
			if (id == MOSIX_REPLY_NR) {
				regs->orig_ax = -1;
				mosix_watched_queue(w, MOSIX_WORK_CALL, TWA_RESUME);
			}
			return;
		}
		{
			u64 a[6] = { regs->di, regs->si, regs->dx, regs->r10, regs->r8, regs->r9 };

			r = mosix_migrant_syscall(id, w->home_pid, a, &ret);
		}
		if (r == 1) {
			regs->orig_ax = -1;
			regs->ax = ret;
		} else if (r == 2) {
			/* Skipped here; the work forwards it (or sends the process home). */
			WRITE_ONCE(w->nr, id);
			regs->orig_ax = -1;
			regs->ax = -ENOSYS;
			mosix_watched_queue(w, MOSIX_WORK_CALL, TWA_SIGNAL);
		}
		return;
	}
	if (id == __NR_delete_module)
		mosix_unload_intercept(regs);
}

static void mosix_find_sys_enter(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sys_enter"))
		*(struct tracepoint **)priv = tp;
}

/* The slot of the entry with token, or -1; under mosix_watched_lock. */
static int mosix_watched_find(u64 token)
{
	int i;

	for (i = 0; i < MOSIX_MAX_WATCHED; i++)
		if (mosix_watched[i] && mosix_watched[i]->token == token)
			return i;
	return -1;
}

/* Registers the probe if it is not on. Under mosix_watched_lock. */
static int mosix_probe_on_locked(void)
{
	int r;

	if (mosix_probe_on)
		return 0;
	if (!mosix_tp_sys_enter)
		for_each_kernel_tracepoint(mosix_find_sys_enter, &mosix_tp_sys_enter);
	r = mosix_tp_sys_enter ? tracepoint_probe_register(mosix_tp_sys_enter,
				(void *)mosix_sys_enter, NULL) : -ENOENT;
	if (!r)
		WRITE_ONCE(mosix_probe_on, true);
	return r;
}

int mosix_watch_add(int kind, u64 token, s32 home_pid)
{
	struct mosix_watched *w = kzalloc(sizeof(*w), GFP_KERNEL);
	int i, r = -ENOSPC;

	if (!w)
		return -ENOMEM;
	w->task = get_task_struct(current);
	w->token = token;
	w->home_pid = home_pid;
	w->kind = kind;
	refcount_set(&w->refs, 1);
	init_task_work(&w->works[MOSIX_WORK_CALL], mosix_work_call_fn);
	init_task_work(&w->works[MOSIX_WORK_PUMP], mosix_work_pump_fn);
	init_task_work(&w->works[MOSIX_WORK_CANCEL], mosix_work_cancel_fn);
	__module_get(THIS_MODULE);
	mutex_lock(&mosix_watched_lock);
	r = mosix_probe_on_locked();
	if (r)
		goto out;
	r = -ENOSPC;
	for (i = 0; i < MOSIX_MAX_WATCHED; i++) {
		if (!mosix_watched[i]) {
			WRITE_ONCE(mosix_watched[i], w);
			if (i >= mosix_watched_hi)
				WRITE_ONCE(mosix_watched_hi, i + 1);
			atomic_inc(&mosix_nr_watched);
			r = 0;
			break;
		}
	}
out:
	mutex_unlock(&mosix_watched_lock);
	if (r)
		mosix_watched_put(w);
	return r;
}

/*
 * Unregisters the probe if it is on (the caller then waits tracepoint_synchronize_unregister()
 * outside the lock); whether it was. Under mosix_watched_lock.
 */
static bool mosix_probe_off_locked(void)
{
	if (!mosix_probe_on)
		return false;
	tracepoint_probe_unregister(mosix_tp_sys_enter, (void *)mosix_sys_enter, NULL);
	WRITE_ONCE(mosix_probe_on, false);
	WRITE_ONCE(mosix_watched_hi, 0);
	/* A pass no restarted call used (the probe went first) must not let a later one by. */
	WRITE_ONCE(mosix_unload_pass, NULL);
	return true;
}

/*
 * Unregisters the probe once no task is watched and no module reference is held, called
 * about every 100 ms by the load sampler (which holds none). Every migration thread, queued
 * job and move (mosix_module_get_probed()), watched entry (mosix_watch_add()) and held-back
 * unload holds one, taken before it makes sure the probe is on (under mosix_watched_lock), so
 * a probe unregistered here is never missed by one of them. While a reference is held the
 * probe stays on: a delete_module call then is held back and waits for the reference to go
 * (mosix_unload_fn()). Before, the last thread or entry turned the probe off itself and
 * dropped its reference only after tracepoint_synchronize_unregister(): an rmmod in that
 * moment went straight to delete_module and failed with EAGAIN (issue 11, t-torture's rmmod
 * right after its guest had gone home, 1 of 20). An open /dev/mosix holds a reference too
 * (its owner is this module): the probe, if on, stays on until a tool closes it, but a tool's
 * open does not turn it on (an rmmod then fails with EAGAIN, as for any module in use).
 * The watched count is checked too: the reference count reads one low for a moment while a
 * delete_module call that was let through tries to stop the module (try_release_module_ref()),
 * and the probe must never go while a task needs it.
 */
void mosix_probe_idle(void)
{
	bool off = false;

	if (!READ_ONCE(mosix_probe_on))
		return;
	mutex_lock(&mosix_watched_lock);
	if (mosix_probe_on && !atomic_read(&mosix_nr_watched) && !module_refcount(THIS_MODULE))
		off = mosix_probe_off_locked();
	mutex_unlock(&mosix_watched_lock);
	if (off)
		tracepoint_synchronize_unregister();
}

/*
 * At unload, once nothing can turn the probe on (no thread, entry or job is left: they hold
 * module references, and new threads are refused once the unload has begun): unregisters it
 * if the sampler has not yet.
 */
void mosix_probe_unload(void)
{
	bool off;

	mutex_lock(&mosix_watched_lock);
	off = mosix_probe_off_locked();
	mutex_unlock(&mosix_watched_lock);
	if (off)
		tracepoint_synchronize_unregister();
}

/*
 * A module reference for a thread, a job or a move, unless an unload has begun; the probe goes
 * on with it, so that a delete_module call while it is held is held back for the evacuation
 * (mosix_unload_fn()) instead of refused for the reference. Before, the probe went on only
 * when a task was first watched: an rmmod while a guest was still being adopted (its remote
 * thread holding a reference, nothing watched yet) failed with EAGAIN (issue 11). Without
 * the probe (it cannot be registered) such an rmmod still fails that way.
 */
static bool mosix_module_get_probed(void)
{
	if (!try_module_get(THIS_MODULE))
		return false;
	mutex_lock(&mosix_watched_lock);
	mosix_probe_on_locked();
	mutex_unlock(&mosix_watched_lock);
	return true;
}

void mosix_watch_remove(u64 token)
{
	struct mosix_watched *gone = NULL;
	int i;

	mutex_lock(&mosix_watched_lock);
	i = mosix_watched_find(token);
	if (i >= 0) {
		gone = mosix_watched[i];
		WRITE_ONCE(mosix_watched[i], NULL);
		atomic_dec(&mosix_nr_watched);
	}
	mutex_unlock(&mosix_watched_lock);
	/* No probe runs on the removed entry after this (probes are tasks-trace RCU readers). */
	tracepoint_synchronize_unregister();
	if (gone)
		mosix_watched_put(gone);
}

struct mosix_work *mosix_work_queue_watched(u64 token, mosix_job_fn run, void *job, int *err)
{
	struct task_struct *p = NULL;
	int i;

	/*
	 * The watched task itself, not whatever has its pid now: a migrant that has ended and
	 * been reaped keeps its entry (and this reference) until the remote thread removes it.
	 */
	mutex_lock(&mosix_watched_lock);
	i = mosix_watched_find(token);
	if (i >= 0 && mosix_watched[i]->kind == MOSIX_W_MIGRANT)
		p = get_task_struct(mosix_watched[i]->task);
	mutex_unlock(&mosix_watched_lock);
	return mosix_work_queue_task(p, run, job, err);
}

/*
 * What the current task is watched as: MOSIX_W_MIGRANT or MOSIX_W_DEPUTY (its token in
 * *token), or 0 if it is neither.
 */
int mosix_current_watch(u64 *token)
{
	int i, kind = 0;

	mutex_lock(&mosix_watched_lock);
	for (i = 0; i < MOSIX_MAX_WATCHED; i++) {
		struct mosix_watched *w = mosix_watched[i];

		if (w && w->task == current) {
			kind = w->kind;
			*token = w->token;
			break;
		}
	}
	mutex_unlock(&mosix_watched_lock);
	return kind;
}

int mosix_watch_queue(u64 token, int which)
{
	int i, r = -ESRCH;

	mutex_lock(&mosix_watched_lock);
	i = mosix_watched_find(token);
	if (i >= 0)
		r = mosix_watched_queue(mosix_watched[i], which, TWA_SIGNAL);
	mutex_unlock(&mosix_watched_lock);
	return r;
}

int mosix_watch_state(u64 token)
{
	struct task_struct *t;
	int i, r = -ESRCH;

	mutex_lock(&mosix_watched_lock);
	i = mosix_watched_find(token);
	if (i >= 0) {
		t = mosix_watched[i]->task;
		r = 0;
		if (READ_ONCE(t->exit_state))
			r |= MOSIX_WS_DEAD;
		/* A peek (the task reference keeps both sets alive): SIGKILL acts by itself. */
		if ((READ_ONCE(t->pending.signal.sig[0]) |
		     READ_ONCE(t->signal->shared_pending.signal.sig[0])) & ~sigmask(SIGKILL))
			r |= MOSIX_WS_SIGNALS;
	}
	mutex_unlock(&mosix_watched_lock);
	return r;
}

struct mosix_ax_fixup {
	struct callback_head head;
	unsigned long ax;
};

static void mosix_ax_fixup_fn(struct callback_head *head)
{
	struct mosix_ax_fixup *f = container_of(head, struct mosix_ax_fixup, head);

	current_pt_regs()->ax = f->ax;
	kfree(f);
}

int mosix_set_ax_on_return(u64 ax)
{
	struct mosix_ax_fixup *f = kmalloc(sizeof(*f), GFP_KERNEL);
	int r;

	if (!f)
		return -ENOMEM;
	f->ax = ax;
	init_task_work(&f->head, mosix_ax_fixup_fn);
	r = task_work_add(current, &f->head, TWA_RESUME);
	if (r)
		kfree(f);
	return r;
}

void mosix_call_args(u64 *args)
{
	struct pt_regs *regs = current_pt_regs();

	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
}

void mosix_call_result(long nr, long ret)
{
	struct pt_regs *regs = current_pt_regs();

	regs->orig_ax = nr;
	regs->ax = ret;
}

void mosix_call_start(u64 ip, long nr, const u64 *args)
{
	struct pt_regs *regs = current_pt_regs();

	regs->ip = ip;
	regs->ax = nr;
	regs->di = args[0];
	regs->si = args[1];
	regs->dx = args[2];
	regs->r10 = args[3];
	regs->r8 = args[4];
	regs->r9 = args[5];
}

long mosix_call_handed_back(void)
{
	return (long)current_pt_regs()->di;
}

bool mosix_call_no_restart(long nr)
{
	struct pt_regs *regs = current_pt_regs();
	long ax = (long)regs->ax;

	if ((long)regs->orig_ax != nr)
		return false;
	if (ax != -ERESTARTSYS && ax != -ERESTARTNOINTR && ax != -ERESTARTNOHAND &&
	    ax != -ERESTART_RESTARTBLOCK)
		return false;
	regs->orig_ax = -1;
	return true;
}

bool mosix_call_skip_unstarted(u64 stub)
{
	struct pt_regs *regs = current_pt_regs();

	if (regs->ip != stub)
		return false;
	/* After the stub's syscall instruction, as if the call had said -ERESTARTNOINTR; no
	 * restart (orig_ax -1) that would take it back to the instruction. */
	regs->ip = stub + 2;
	regs->ax = -ERESTARTNOINTR;
	regs->orig_ax = -1;
	return true;
}

s64 mosix_map_any(u64 len, u32 prot)
{
	unsigned long addr = vm_mmap(NULL, 0, len, prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 0);

	return IS_ERR_VALUE(addr) ? (s64)(long)addr : (s64)addr;
}

struct mosix_event {
	wait_queue_head_t wq;
	atomic_t seq;
};

struct mosix_event *mosix_event_new(void)
{
	struct mosix_event *e = kzalloc(sizeof(*e), GFP_KERNEL);

	if (e)
		init_waitqueue_head(&e->wq);
	return e;
}

void mosix_event_free(struct mosix_event *e)
{
	kfree(e);
}

u32 mosix_event_seq(struct mosix_event *e)
{
	return (u32)atomic_read_acquire(&e->seq);
}

void mosix_event_signal(struct mosix_event *e)
{
	atomic_inc_return_release(&e->seq);
	wake_up_all(&e->wq);
}

int mosix_event_wait(struct mosix_event *e, u32 seen, unsigned int ms, bool intr)
{
	long t = msecs_to_jiffies(ms), r;

	if (intr)
		r = wait_event_interruptible_timeout(e->wq, (u32)atomic_read_acquire(&e->seq) != seen, t);
	else
		r = wait_event_idle_timeout(e->wq, (u32)atomic_read_acquire(&e->seq) != seen, t);
	if (r < 0)
		return (int)r;
	return r > 0 ? 1 : 0;
}

/* A socket whose arrivals (and state changes) advance an event. */
struct mosix_sock_hook {
	struct mosix_event *ev;
	void (*data_ready)(struct sock *sk);
	void (*state_change)(struct sock *sk);
};

/* Runs the socket's own callback, then advances the event. */
static void mosix_sk_notify(struct sock *sk, bool data)
{
	struct mosix_sock_hook *h;

	read_lock_bh(&sk->sk_callback_lock);
	h = sk->sk_user_data;
	if (h) {
		if (data)
			h->data_ready(sk);
		else
			h->state_change(sk);
		mosix_event_signal(h->ev);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void mosix_sk_data_ready(struct sock *sk)
{
	mosix_sk_notify(sk, true);
}

static void mosix_sk_state_change(struct sock *sk)
{
	mosix_sk_notify(sk, false);
}

int mosix_sock_hook(struct socket *sock, struct mosix_event *ev)
{
	struct sock *sk = sock->sk;
	struct mosix_sock_hook *h = kmalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return -ENOMEM;
	h->ev = ev;
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data) {
		write_unlock_bh(&sk->sk_callback_lock);
		kfree(h);
		return -EBUSY;
	}
	h->data_ready = sk->sk_data_ready;
	h->state_change = sk->sk_state_change;
	sk->sk_user_data = h;
	sk->sk_data_ready = mosix_sk_data_ready;
	sk->sk_state_change = mosix_sk_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	return 0;
}

void mosix_sock_unhook(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct mosix_sock_hook *h;

	write_lock_bh(&sk->sk_callback_lock);
	h = sk->sk_user_data;
	if (h) {
		sk->sk_data_ready = h->data_ready;
		sk->sk_state_change = h->state_change;
		sk->sk_user_data = NULL;
	}
	write_unlock_bh(&sk->sk_callback_lock);
	/* No callback runs on h now: they hold the callback lock for reading. */
	kfree(h);
}

void mosix_clear_notify_signal(void)
{
	clear_notify_signal();
}

bool mosix_signal_pending(void)
{
	return signal_pending(current);
}

u64 mosix_now_ns(void)
{
	return ktime_get_ns();
}

void mosix_sleep_ms(unsigned int ms)
{
	/*
	 * Not interruptible: a pending signal (or a task work's notification) must not turn a
	 * polling loop into a spin. A process waits killably; a kernel thread idly (not counted
	 * in the load average; kthread_stop() still wakes it). A process already killed (its
	 * last message still to send) sleeps for real: a killable sleep would return at once.
	 */
	if (current->flags & PF_KTHREAD)
		schedule_timeout_idle(msecs_to_jiffies(ms));
	else if (fatal_signal_pending(current))
		msleep(ms);
	else
		schedule_timeout_killable(msecs_to_jiffies(ms));
}

void mosix_sock_set_rcvtimeo(struct socket *sock, unsigned int ms)
{
	long t = msecs_to_jiffies(ms);

	WRITE_ONCE(sock->sk->sk_rcvtimeo, t > 0 ? t : 1);
}

void mosix_sock_set_sndtimeo(struct socket *sock, unsigned int ms)
{
	long t = msecs_to_jiffies(ms);

	WRITE_ONCE(sock->sk->sk_sndtimeo, t > 0 ? t : 1);
}

void mosix_sock_tune(struct socket *sock, bool reuseaddr, bool nodelay)
{
	if (reuseaddr)
		sock_set_reuseaddr(sock->sk);
	if (nodelay)
		tcp_sock_set_nodelay(sock->sk);
}

void mosix_cpu_facts(u64 *xfeatures, u32 *xstate_size)
{
	unsigned int eax, ebx, ecx, edx;

	*xfeatures = 0;
	*xstate_size = 0;
	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return;
	*xfeatures = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	cpuid_count(0xd, 1, &eax, &ebx, &ecx, &edx);
	if (boot_cpu_has(X86_FEATURE_XSAVES))
		*xstate_size = ebx;
	else {
		cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx);
		*xstate_size = ebx;
	}
}

unsigned long mosix_c_layout(unsigned int item)
{
	switch (item) {
	case MOSIX_L_TASK_SIZE: return sizeof(struct task_struct);
	case MOSIX_L_TASK_PID: return offsetof(struct task_struct, pid);
	case MOSIX_L_TASK_TGID: return offsetof(struct task_struct, tgid);
	case MOSIX_L_TASK_MM: return offsetof(struct task_struct, mm);
	case MOSIX_L_TASK_REAL_PARENT: return offsetof(struct task_struct, real_parent);
	case MOSIX_L_REGS_SIZE: return sizeof(struct pt_regs);
	case MOSIX_L_REGS_ORIG_AX: return offsetof(struct pt_regs, orig_ax);
	case MOSIX_L_REGS_AX: return offsetof(struct pt_regs, ax);
	case MOSIX_L_REGS_IP: return offsetof(struct pt_regs, ip);
	case MOSIX_L_REGS_SP: return offsetof(struct pt_regs, sp);
	case MOSIX_L_PROC_SAMPLE_SIZE: return sizeof(struct mosix_proc_sample);
	case MOSIX_L_VMA_SIZE: return sizeof(struct mosix_vma);
	default: return ~0UL;
	}
}
