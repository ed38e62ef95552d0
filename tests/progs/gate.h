/* gate.h: wait_gate(GATE) returns once the file GATE exists (at once if GATE is NULL),
 * looking every 10 ms. A test makes the file once the process is where it must be for the
 * next step (moved, say), so that the step cannot come before the move on a slow host. */
#ifndef MOSIX_TEST_GATE_H
#define MOSIX_TEST_GATE_H
#include <time.h>
#include <unistd.h>

static inline void wait_gate(const char *gate)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	while (gate && access(gate, F_OK) != 0)
		nanosleep(&tick, NULL);
}
#endif
