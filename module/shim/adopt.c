// SPDX-License-Identifier: GPL-2.0
/* Rebuilding the current process from an image (the adopter helper's ADOPT ioctl). */
#include "internal.h"

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

int mosix_adopt_creds(const u32 *uids, const u32 *gids, bool clear_caps)
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
	if (clear_caps) {
		cap_clear(new->cap_permitted);
		cap_clear(new->cap_effective);
		cap_clear(new->cap_ambient);
	}
	return commit_creds(new);
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

void mosix_set_regs(const u64 *r)
{
	BUILD_BUG_ON(sizeof(struct pt_regs) != 21 * sizeof(u64));
	memcpy(current_pt_regs(), r, sizeof(struct pt_regs));
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

s64 mosix_map_any(u64 len, u32 prot)
{
	unsigned long addr = vm_mmap(NULL, 0, len, prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 0);

	return IS_ERR_VALUE(addr) ? (s64)(long)addr : (s64)addr;
}
