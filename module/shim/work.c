// SPDX-License-Identifier: GPL-2.0
/* Task work: jobs run in a process's own context on its way back to user mode. */
#include "internal.h"

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
struct mosix_work *mosix_work_queue_task(struct task_struct *p, mosix_job_fn run, void *job,
					 int *err)
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
