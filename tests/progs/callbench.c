/* callbench: the cost of system calls.
 *   callbench loop N   N getppid calls in a row, best of 5 rounds: prints "loop NS_PER_CALL"
 *   callbench fwd N    prints "ready PID", waits for SIGUSR1 (the benchmark migrates it
 *                      meanwhile), then times N getppid calls and N 4 KiB writes to /dev/null
 *                      (opened before), one by one: prints "getppid P50_NS" and
 *                      "write4k P50_NS" (medians). */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static volatile sig_atomic_t go;

static void on_usr1(int s)
{
	(void)s;
	go = 1;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 0;
	static char page[4096];
	uint64_t *t, best = UINT64_MAX;
	int fd;

	if (argc != 3 || n <= 0 || !(t = calloc(n, sizeof(*t))))
		return 2;
	if (!strcmp(argv[1], "loop")) {
		for (int r = 0; r < 5; r++) {
			uint64_t t0 = now_ns();

			for (long i = 0; i < n; i++)
				syscall(SYS_getppid);
			t0 = now_ns() - t0;
			if (t0 < best)
				best = t0;
		}
		printf("loop %llu\n", (unsigned long long)(best / n));
		return 0;
	}
	if (strcmp(argv[1], "fwd"))
		return 2;
	fd = open("/dev/null", O_WRONLY);
	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (!go)
		pause();
	for (long i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		syscall(SYS_getppid);
		t[i] = now_ns() - t0;
	}
	qsort(t, n, sizeof(*t), cmp);
	printf("getppid %llu\n", (unsigned long long)t[n / 2]);
	for (long i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (write(fd, page, sizeof(page)) != sizeof(page))
			return 1;
		t[i] = now_ns() - t0;
	}
	qsort(t, n, sizeof(*t), cmp);
	printf("write4k %llu\n", (unsigned long long)t[n / 2]);
	return 0;
}
