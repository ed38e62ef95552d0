/* cpuloop ITER MIB: a deterministic CPU and FPU loop over MIB MiB of memory. Keeps running
 * values in integer and vector registers (doubles, SSE) across ITER iterations, then
 * checks its memory and ends with exit status = a hash of everything (0-255), the same on
 * every run: a migration that lost a register, an FPU bit or a page changes it. Prints
 * "ready PID" at the start and the full result at the end (stdout may be gone when it
 * runs away from home, so the exit status is the result that counts). With "wait", it then
 * waits for SIGUSR1 before it ends (a test can look at it while it is sure to exist).
 * With "rounds", it runs the same ITER-iteration computation again and again, each round
 * from the same start, until SIGUSR1 arrives, then ends after the round it is in: its exit
 * status is then that of one plain run (the same for every job, however long each ran), or
 * that status with bit 7 flipped if any round's result differed from the first's. A test
 * can keep such jobs running as long as its checks need, whatever the machine's speed. */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

/* The memory at the computation's start. */
static void fill(uint64_t *mem, uint64_t words)
{
	uint64_t i;

	for (i = 0; i < words; i++)
		mem[i] = i * 2654435761ULL;
}

/* The parts of a result, printed with it so that a wrong result says which part is wrong. */
static struct {
	uint64_t loop, x, mem;
	double a, b, c;
} parts;

/* One run of the computation over MEM, which holds fill()'s values; returns its hash. */
static uint64_t run(uint64_t iter, uint64_t *mem, uint64_t words)
{
	uint64_t i, h = 0x9e3779b97f4a7c15ULL, x = 88172645463325252ULL;
	double a = 1.0, b = 0.5, c = 0.25;
	uint64_t hm = 0x9e3779b97f4a7c15ULL;

	for (i = 0; i < iter; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		a = a * 1.0000001 + b * 0.5;
		b = b * 0.9999999 + c;
		c = c * 0.5 + (double)(x & 0xff) / 256.0;
		if (words)
			mem[x % words] += x;
		h = (h ^ x) * 0x100000001b3ULL;
	}
	parts.loop = h;
	for (i = 0; i < words; i++)
		h = (h ^ mem[i]) * 0x100000001b3ULL;
	for (i = 0; i < words; i++)
		hm = (hm ^ mem[i]) * 0x100000001b3ULL;
	h ^= (uint64_t)(a * 1e6) ^ (uint64_t)(b * 1e6) << 7 ^ (uint64_t)(c * 1e6) << 13;
	parts.x = x;
	parts.mem = hm;
	parts.a = a;
	parts.b = b;
	parts.c = c;
	return h;
}

static void say(uint64_t iter, uint64_t h)
{
	printf("cpuloop %llu iterations: %016llx (loop %016llx x %016llx mem %016llx a %a b %a c %a)\n",
	       (unsigned long long)iter, (unsigned long long)h, (unsigned long long)parts.loop,
	       (unsigned long long)parts.x, (unsigned long long)parts.mem, parts.a, parts.b, parts.c);
	fflush(stdout);
}

static int status(uint64_t h)
{
	return (int)((h ^ h >> 8 ^ h >> 16 ^ h >> 24 ^ h >> 32) & 0xff);
}

int main(int argc, char **argv)
{
	uint64_t iter, words, h, first, rounds = 1, wrong = 0;
	uint64_t *mem;
	sigset_t usr1;
	int sig, wait = argc == 4 && strcmp(argv[3], "wait") == 0;
	int again = argc == 4 && strcmp(argv[3], "rounds") == 0;
	struct sigaction sa;

	if (argc != 3 && !wait && !again) {
		fprintf(stderr, "usage: cpuloop ITER MIB [wait|rounds]\n");
		return 2;
	}
	/* Blocked from the start: a SIGUSR1 sent early is taken by the sigwait at the end. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (wait && sigprocmask(SIG_BLOCK, &usr1, NULL))
		return 2;
	/* A flag, looked at between rounds (no system call in the loop). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	if (again && sigaction(SIGUSR1, &sa, NULL))
		return 2;
	iter = strtoull(argv[1], NULL, 10);
	words = strtoull(argv[2], NULL, 10) * 1024 * 1024 / 8;
	mem = calloc(words + 1, 8);
	if (!mem)
		return 1;
	/* Memory in place before "ready", as a test that moves the process then expects. */
	fill(mem, words);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	first = h = run(iter, mem, words);
	say(iter, h);
	while (again && !stop) {
		fill(mem, words);
		h = run(iter, mem, words);
		rounds++;
		if (h != first) {
			say(iter, h);
			if (!wrong++)
				printf("round %llu differs from round 1\n", (unsigned long long)rounds);
		}
	}
	if (again) {
		printf("%llu rounds, %llu wrong\n", (unsigned long long)rounds, (unsigned long long)wrong);
		return wrong ? status(first) ^ 0x80 : status(first);
	}
	if (wait) {
		printf("done\n");
		fflush(stdout);
		if (sigwait(&usr1, &sig))
			return 2;
	}
	return status(h);
}
