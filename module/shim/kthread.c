// SPDX-License-Identifier: GPL-2.0
/* Detached threads with a module reference, and the clock and sleep they use. */
#include "internal.h"

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
