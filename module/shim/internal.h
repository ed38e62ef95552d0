/* SPDX-License-Identifier: GPL-2.0 */
/* What the shim's files share among themselves (not Rust's business). */
#ifndef MOSIX_SHIM_INTERNAL_H
#define MOSIX_SHIM_INTERNAL_H

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

/* The original rseq area size (kernel/rseq.c's ORIG_RSEQ_SIZE, not in a header). */
#define MOSIX_ORIG_RSEQ_SIZE 32

/* node.c: CPU time of the threads that exited, plus that of the living ones. Under RCU. */
u64 mosix_proc_runtime(struct task_struct *p);
/* task.c: the process (thread group leader) with global id pid, with a reference, or NULL. */
struct task_struct *mosix_get_proc(s32 pid);
/* task.c: a named special mapping ([vdso], [vvar], [uprobes]): the kernel's own, not a device. */
bool mosix_special_mapping(struct vm_area_struct *vma);
/* capture.c: the FPU of task t. */
struct fpu *mosix_task_fpu(struct task_struct *t);
/* work.c: queues a job on task p (whose reference it takes over). */
struct mosix_work *mosix_work_queue_task(struct task_struct *p, mosix_job_fn run, void *job,
					 int *err);
/* probe.c: a module reference, unless an unload has begun (the probe holds it back). */
bool mosix_module_get_probed(void);

#endif /* MOSIX_SHIM_INTERNAL_H */
