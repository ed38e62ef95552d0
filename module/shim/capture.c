// SPDX-License-Identifier: GPL-2.0
/* Capturing the current process's state (in its own context, from a job). */
#include "internal.h"

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
struct fpu *mosix_task_fpu(struct task_struct *t)
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
