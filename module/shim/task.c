// SPDX-License-Identifier: GPL-2.0
/* Facts, permissions and signals of processes (and stay-reason facts of their memory). */
#include "internal.h"

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

/* The process (thread group leader) with global id pid, with a reference, or NULL. */
struct task_struct *mosix_get_proc(s32 pid)
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
bool mosix_special_mapping(struct vm_area_struct *vma)
{
	const char *name = vma->vm_ops && vma->vm_ops->name ? vma->vm_ops->name(vma) : NULL;

	return name && name[0] == '[';
}

/* The facts of mm's areas. */
static void mosix_mm_facts(struct mm_struct *mm, struct mosix_task_facts *f)
{
	struct vm_area_struct *vma;
	VMA_ITERATOR(vmi, mm, 0);

	if (mmap_read_lock_killable(mm))
		return;
	for_each_vma(vmi, vma) {
		vm_flags_t fl = vma->vm_flags;

		if (fl & VM_LOCKED)
			f->vm_locked = 1;
		if ((fl & (VM_IO | VM_PFNMAP | VM_MIXEDMAP)) && !mosix_special_mapping(vma))
			f->vm_device = 1;
		if (fl & VM_MAYSHARE)
			f->vm_shared = 1;
	}
	mmap_read_unlock(mm);
}

int mosix_task_facts(s32 pid, struct mosix_task_facts *f)
{
	struct task_struct *p = mosix_get_proc(pid);
	struct mm_struct *mm;

	memset(f, 0, sizeof(*f));
	if (!p)
		return -ESRCH;
	f->kthread = !!(p->flags & PF_KTHREAD);
	f->init = is_global_init(p);
	f->threads = get_nr_threads(p);
	f->policy = p->policy;
#ifdef CONFIG_X86_IOPL_IOPERM
	f->io_ports = p->thread.io_bitmap || p->thread.iopl_emul;
#endif
	f->addr32 = test_tsk_thread_flag(p, TIF_ADDR32);
	mm = get_task_mm(p);
	if (mm) {
		mosix_mm_facts(mm, f);
		mmput(mm);
	}
	put_task_struct(p);
	return 0;
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

/* A module reference, unless the module is going away (the probe goes on with it). */
bool mosix_module_hold(void)
{
	return mosix_module_get_probed();
}

void mosix_module_release(void)
{
	module_put(THIS_MODULE);
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

void mosix_clear_notify_signal(void)
{
	clear_notify_signal();
}

bool mosix_signal_pending(void)
{
	return signal_pending(current);
}
