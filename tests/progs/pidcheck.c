/* pidcheck SECONDS: notes its pid and tid (raw system calls, no libc cache), computes for
 * SECONDS seconds (clock from the vDSO, no system call), and exits 0 if it still has the
 * same pid and tid (a migrated process keeps its home pid wherever it runs), 1 if not.
 * Prints "ready PID". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double end = now() + (argc > 1 ? strtod(argv[1], NULL) : 1.0);
	volatile unsigned long x = 1;
	long p0 = syscall(SYS_getpid), t0 = syscall(SYS_gettid), p1, t1;

	printf("ready %ld\n", p0);
	fflush(stdout);
	while (now() < end)
		x = x * 6364136223846793005UL + 1;
	p1 = syscall(SYS_getpid);
	t1 = syscall(SYS_gettid);
	return p1 == p0 && t1 == t0 ? 0 : 1;
}
