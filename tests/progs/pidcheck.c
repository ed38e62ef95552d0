/* pidcheck ITER: notes its pid and tid (raw system calls, no libc cache), computes for ITER
 * iterations, and exits 0 if it still has the same pid and tid (a migrated process keeps its
 * home pid wherever it runs), 1 if not. Prints "ready PID". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long iter = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000, i;
	volatile unsigned long x = 1;
	long p0 = syscall(SYS_getpid), t0 = syscall(SYS_gettid), p1, t1;

	printf("ready %ld\n", p0);
	fflush(stdout);
	for (i = 0; i < iter; i++)
		x = x * 6364136223846793005UL + 1;
	p1 = syscall(SYS_getpid);
	t1 = syscall(SYS_gettid);
	return p1 == p0 && t1 == t0 ? 0 : 1;
}
