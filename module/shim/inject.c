// SPDX-License-Identifier: GPL-2.0
/* Test-only delays and switches (module parameters, off by default). */
#include "internal.h"

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
