// SPDX-License-Identifier: GPL-2.0
/* The sys_enter probe and the watched-task table: migrants' and deputies' system calls, and the unload hold. */
#include "internal.h"

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
 * A delete_module call held back by the probe: Rust decides (mosix_unload_requested()) whether
 * it names this module and may go ahead, and empties the node first; then the call runs again.
 */
static void mosix_unload_fn(struct callback_head *h)
{
	struct pt_regs *regs = current_pt_regs();

	kfree(h);
	mosix_unload_requested(regs->di);
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
unsigned int mosix_module_refcount(void)
{
	return module_refcount(THIS_MODULE);
}

bool mosix_module_get_probed(void)
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
