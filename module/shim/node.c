// SPDX-License-Identifier: GPL-2.0
/* Facts of this node: online CPUs, runnable threads, process samples, the CPU's xsave facts. */
#include "internal.h"

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
u64 mosix_proc_runtime(struct task_struct *p)
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
