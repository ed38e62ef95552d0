/* torture ROUNDS OUTFILE [wait]: a process that checks everything it holds while it is moved
 * about. Each round mixes
 *   - the integer registers (all but rsp and rbp) in a loop of inline assembly (a
 *     register changed by a move, even in its upper half, changes the result),
 *   - xmm0-xmm15 and the upper halves of ymm0-ymm15 (AVX2) in a loop of vector assembly,
 *   - the x87 stack in a loop of long-double arithmetic,
 *   - 2 MiB of memory, and a thread-local (TLS, %fs) accumulator checked against a copy,
 * and then writes a line with the round's hash to OUTFILE (a file at home: the write runs in
 * the deputy while the process is away), checks getpid/getppid against their values at the
 * start and, every 8th round, reads back (pread) what it wrote 8 rounds before.
 * A 20 ms ITIMER_REAL (set at home: its SIGALRM is sent on to wherever the process runs)
 * hits a handler that runs on an alternate stack and does its own SSE and x87 work; a
 * real-time signal (SIGRTMIN) sent by the test is counted, exactly (real-time signals queue:
 * none may be lost or doubled); SIGRTMIN+1 says "no more will come". None of the signals
 * changes the hash: the result is the same on every run, moved or not.
 * With "wait", after ROUNDS it goes on checking (registers, memory, pid, a read of its file;
 * no more writes) until SIGRTMIN+1 comes.
 * Ends with "done HASH rt=N alarms=N errors=N" in OUTFILE and on stdout, and exit status
 * hash & 0x7f, or 99 on an inconsistency it saw itself. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MEM_WORDS (2u * 1024 * 1024 / 8)
#define SPIN 40000

static volatile sig_atomic_t rt_count, finish, alarms, handler_errors;
static char altstack[65536];
static uint64_t *mem;
static __thread uint64_t tls_acc = 0x1234567890abcdefULL;
static uint64_t tls_mirror = 0x1234567890abcdefULL;
static int errors;
static int fd;

static void note_error(const char *what, long a, long b)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "ERROR %s: %ld != %ld\n", what, a, b);

	errors++;
	if (write(fd, line, n) != n)
		errors++;
	fprintf(stderr, "%s", line);
}

static void on_alarm(int sig)
{
	char here;
	volatile double d = 1.5;
	volatile long double x = 3.0L;
	int saved = errno;

	(void)sig;
	if (!(&here >= altstack && &here < altstack + sizeof(altstack)))
		handler_errors++;
	for (int i = 0; i < 100; i++) {
		d = d * 1.0001 + 0.5;
		x = x * 1.0001L + 0.25L;
	}
	if (d < 1.0 || x < 1.0L)
		handler_errors++;
	alarms++;
	errno = saved;
}

static void on_rt(int sig)
{
	(void)sig;
	rt_count++;
}

static void on_finish(int sig)
{
	(void)sig;
	finish = 1;
}

/* The general registers: fourteen live 64-bit values in rax, rbx, rcx, rdx, rsi, rdi and
 * r8-r15 for SPIN iterations (every register a move must carry but rsp and rbp). Reached by
 * name (rip-relative): no register is left to address them. */
uint64_t torture_gpr[14], torture_spin;

static uint64_t gpr_round(uint64_t seed)
{
	uint64_t h = 0;

	for (int i = 0; i < 14; i++)
		torture_gpr[i] = seed * (2 * i + 1) ^ (0xa5a5a5a5a5a5a5a5ULL >> i) ^ ((uint64_t)i << 60);
	torture_spin = SPIN;
	__asm__ volatile(
		"mov torture_gpr+0(%%rip), %%rax\n\t"
		"mov torture_gpr+8(%%rip), %%rbx\n\t"
		"mov torture_gpr+16(%%rip), %%rcx\n\t"
		"mov torture_gpr+24(%%rip), %%rdx\n\t"
		"mov torture_gpr+32(%%rip), %%rsi\n\t"
		"mov torture_gpr+40(%%rip), %%rdi\n\t"
		"mov torture_gpr+48(%%rip), %%r8\n\t"
		"mov torture_gpr+56(%%rip), %%r9\n\t"
		"mov torture_gpr+64(%%rip), %%r10\n\t"
		"mov torture_gpr+72(%%rip), %%r11\n\t"
		"mov torture_gpr+80(%%rip), %%r12\n\t"
		"mov torture_gpr+88(%%rip), %%r13\n\t"
		"mov torture_gpr+96(%%rip), %%r14\n\t"
		"mov torture_gpr+104(%%rip), %%r15\n\t"
		"1:\n\t"
		"rol $13, %%rax\n\t"
		"add %%rax, %%rbx\n\t"
		"xor %%rbx, %%rcx\n\t"
		"rol $7, %%rcx\n\t"
		"add %%rcx, %%rdx\n\t"
		"xor %%rdx, %%rsi\n\t"
		"rol $17, %%rsi\n\t"
		"add %%rsi, %%rdi\n\t"
		"xor %%rdi, %%r8\n\t"
		"rol $29, %%r8\n\t"
		"add %%r8, %%r9\n\t"
		"xor %%r9, %%r10\n\t"
		"rol $11, %%r10\n\t"
		"add %%r10, %%r11\n\t"
		"xor %%r11, %%r12\n\t"
		"rol $23, %%r12\n\t"
		"add %%r12, %%r13\n\t"
		"xor %%r13, %%r14\n\t"
		"rol $5, %%r14\n\t"
		"add %%r14, %%r15\n\t"
		"xor %%r15, %%rax\n\t"
		"bswap %%rax\n\t"
		"decq torture_spin(%%rip)\n\t"
		"jnz 1b\n\t"
		"mov %%rax, torture_gpr+0(%%rip)\n\t"
		"mov %%rbx, torture_gpr+8(%%rip)\n\t"
		"mov %%rcx, torture_gpr+16(%%rip)\n\t"
		"mov %%rdx, torture_gpr+24(%%rip)\n\t"
		"mov %%rsi, torture_gpr+32(%%rip)\n\t"
		"mov %%rdi, torture_gpr+40(%%rip)\n\t"
		"mov %%r8, torture_gpr+48(%%rip)\n\t"
		"mov %%r9, torture_gpr+56(%%rip)\n\t"
		"mov %%r10, torture_gpr+64(%%rip)\n\t"
		"mov %%r11, torture_gpr+72(%%rip)\n\t"
		"mov %%r12, torture_gpr+80(%%rip)\n\t"
		"mov %%r13, torture_gpr+88(%%rip)\n\t"
		"mov %%r14, torture_gpr+96(%%rip)\n\t"
		"mov %%r15, torture_gpr+104(%%rip)\n\t"
		:
		:
		: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
		  "r14", "r15", "cc", "memory");
	for (int i = 0; i < 14; i++)
		h = (h ^ torture_gpr[i]) * 0x100000001b3ULL;
	return h;
}

/* The vector registers: sixteen 256-bit values, each added to its neighbour SPIN times. */
static uint64_t vec_round(uint64_t seed)
{
	uint64_t v[64] __attribute__((aligned(32)));
	uint64_t h = 0;
	uint64_t n = SPIN / 4;

	for (int i = 0; i < 64; i++)
		v[i] = seed * (i + 1) + (uint64_t)i * 0x100000001b3ULL;
	__asm__ volatile(
		"vmovdqa 0(%[v]), %%ymm0\n\t"
		"vmovdqa 32(%[v]), %%ymm1\n\t"
		"vmovdqa 64(%[v]), %%ymm2\n\t"
		"vmovdqa 96(%[v]), %%ymm3\n\t"
		"vmovdqa 128(%[v]), %%ymm4\n\t"
		"vmovdqa 160(%[v]), %%ymm5\n\t"
		"vmovdqa 192(%[v]), %%ymm6\n\t"
		"vmovdqa 224(%[v]), %%ymm7\n\t"
		"vmovdqa 256(%[v]), %%ymm8\n\t"
		"vmovdqa 288(%[v]), %%ymm9\n\t"
		"vmovdqa 320(%[v]), %%ymm10\n\t"
		"vmovdqa 352(%[v]), %%ymm11\n\t"
		"vmovdqa 384(%[v]), %%ymm12\n\t"
		"vmovdqa 416(%[v]), %%ymm13\n\t"
		"vmovdqa 448(%[v]), %%ymm14\n\t"
		"vmovdqa 480(%[v]), %%ymm15\n\t"
		"1:\n\t"
		"vpaddq %%ymm15, %%ymm0, %%ymm0\n\t"
		"vpxor %%ymm0, %%ymm1, %%ymm1\n\t"
		"vpaddq %%ymm1, %%ymm2, %%ymm2\n\t"
		"vpxor %%ymm2, %%ymm3, %%ymm3\n\t"
		"vpaddq %%ymm3, %%ymm4, %%ymm4\n\t"
		"vpxor %%ymm4, %%ymm5, %%ymm5\n\t"
		"vpaddq %%ymm5, %%ymm6, %%ymm6\n\t"
		"vpxor %%ymm6, %%ymm7, %%ymm7\n\t"
		"vpaddq %%ymm7, %%ymm8, %%ymm8\n\t"
		"vpxor %%ymm8, %%ymm9, %%ymm9\n\t"
		"vpaddq %%ymm9, %%ymm10, %%ymm10\n\t"
		"vpxor %%ymm10, %%ymm11, %%ymm11\n\t"
		"vpaddq %%ymm11, %%ymm12, %%ymm12\n\t"
		"vpxor %%ymm12, %%ymm13, %%ymm13\n\t"
		"vpaddq %%ymm13, %%ymm14, %%ymm14\n\t"
		"vpxor %%ymm14, %%ymm15, %%ymm15\n\t"
		"vpermq $0x93, %%ymm15, %%ymm15\n\t"
		"dec %[n]\n\t"
		"jnz 1b\n\t"
		"vmovdqa %%ymm0, 0(%[v])\n\t"
		"vmovdqa %%ymm1, 32(%[v])\n\t"
		"vmovdqa %%ymm2, 64(%[v])\n\t"
		"vmovdqa %%ymm3, 96(%[v])\n\t"
		"vmovdqa %%ymm4, 128(%[v])\n\t"
		"vmovdqa %%ymm5, 160(%[v])\n\t"
		"vmovdqa %%ymm6, 192(%[v])\n\t"
		"vmovdqa %%ymm7, 224(%[v])\n\t"
		"vmovdqa %%ymm8, 256(%[v])\n\t"
		"vmovdqa %%ymm9, 288(%[v])\n\t"
		"vmovdqa %%ymm10, 320(%[v])\n\t"
		"vmovdqa %%ymm11, 352(%[v])\n\t"
		"vmovdqa %%ymm12, 384(%[v])\n\t"
		"vmovdqa %%ymm13, 416(%[v])\n\t"
		"vmovdqa %%ymm14, 448(%[v])\n\t"
		"vmovdqa %%ymm15, 480(%[v])\n\t"
		"vzeroupper\n\t"
		: [n] "+r"(n)
		: [v] "r"(v)
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
		  "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
	for (int i = 0; i < 64; i++)
		h = (h ^ v[i]) * 0x100000001b3ULL;
	return h;
}

/* The x87 stack: extended-precision values that live in st(0)-st(2). */
static uint64_t x87_round(uint64_t seed)
{
	long double a = (long double)(seed & 0xffff) / 65536.0L + 1.0L, b = 0.5L, c = 0.25L;
	long double r;

	for (int i = 0; i < SPIN / 4; i++) {
		a = a * 1.0000001L + b * 0.5L;
		b = b * 0.9999999L + c;
		c = c * 0.5L + 0.125L;
	}
	r = a * 1e6L + b * 1e3L + c;
	return (uint64_t)r;
}

static uint64_t mem_round(uint64_t seed, uint64_t r)
{
	uint64_t x = seed | 1, h = 0;

	for (int i = 0; i < 4096; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		mem[x % MEM_WORDS] += x + r;
	}
	for (uint64_t i = (r * 4099) % MEM_WORDS, k = 0; k < 8192; k++, i = (i + 521) % MEM_WORDS)
		h = (h ^ mem[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t fs_self(void)
{
	uint64_t v;

	__asm__ volatile("mov %%fs:0, %0" : "=r"(v));
	return v;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	uint64_t h = 0xcbf29ce484222325ULL, rounds, self;
	long line_len = 0;
	pid_t pid, ppid;
	char line[96];
	int wait_finish;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "wait"))) {
		fprintf(stderr, "usage: torture ROUNDS OUTFILE [wait]\n");
		return 2;
	}
	rounds = strtoull(argv[1], NULL, 10);
	wait_finish = argc == 4;
	fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(argv[2]);
		return 2;
	}
	mem = calloc(MEM_WORDS, 8);
	if (!mem)
		return 1;
	for (uint64_t i = 0; i < MEM_WORDS; i++)
		mem[i] = i * 2654435761ULL;
	pid = getpid();
	ppid = getppid();
	self = fs_self();
	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_RESTART | SA_ONSTACK;
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_rt;
	sigaction(SIGRTMIN, &sa, NULL);
	sa.sa_handler = on_finish;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	printf("ready %d\n", (int)pid);
	fflush(stdout);

	for (uint64_t r = 0; r < rounds; r++) {
		uint64_t g = gpr_round(h ^ r), v = vec_round(g), x = x87_round(v), m = mem_round(h + r, r);
		int n;

		tls_acc = tls_acc * 6364136223846793005ULL + r;
		tls_mirror = tls_mirror * 6364136223846793005ULL + r;
		if (tls_acc != tls_mirror)
			note_error("tls", (long)tls_acc, (long)tls_mirror);
		if (fs_self() != self)
			note_error("fs base", (long)fs_self(), (long)self);
		h = (h ^ g) * 0x100000001b3ULL;
		h = (h ^ v) * 0x100000001b3ULL;
		h = (h ^ x) * 0x100000001b3ULL;
		h = (h ^ m) * 0x100000001b3ULL;
		h = (h ^ tls_acc) * 0x100000001b3ULL;
		n = snprintf(line, sizeof(line), "round %06llu %016llx\n", (unsigned long long)r, (unsigned long long)h);
		if (write(fd, line, n) != n)
			note_error("write", n, -errno);
		line_len = n;
		if (getpid() != pid)
			note_error("getpid", getpid(), pid);
		if (getppid() != ppid)
			note_error("getppid", getppid(), ppid);
		if (r >= 8 && r % 8 == 0) {
			char back[96];
			off_t at = (off_t)(r - 8) * line_len;
			char want[32];

			if (pread(fd, back, line_len, at) != line_len)
				note_error("pread", (long)at, -errno);
			snprintf(want, sizeof(want), "round %06llu ", (unsigned long long)(r - 8));
			if (memcmp(back, want, strlen(want)))
				note_error("read back", (long)r, (long)(r - 8));
		}
	}
	if (wait_finish) {
		/* Check rounds until the finish signal (the moves go on meanwhile): the same
		 * register, vector and x87 computation again and again must give the same value,
		 * the memory the same sum, pid and parent the same answers (a forwarded call), and
		 * the file its first line (a forwarded read); nothing is written. */
		uint64_t want = x87_round(vec_round(gpr_round(h))), sum = 0, n = 0;
		struct timespec ts = { 0, 1000000 };
		char back[96];

		for (uint64_t i = 0; i < MEM_WORDS; i++)
			sum += mem[i] * (i | 1);
		while (!finish) {
			uint64_t got = x87_round(vec_round(gpr_round(h))), s2 = 0;

			if (got != want)
				note_error("check round", (long)got, (long)want);
			for (uint64_t i = 0; i < MEM_WORDS; i++)
				s2 += mem[i] * (i | 1);
			if (s2 != sum)
				note_error("memory", (long)s2, (long)sum);
			if (getpid() != pid || getppid() != ppid)
				note_error("pid or ppid", getpid(), getppid());
			if (line_len > 0 && (pread(fd, back, line_len, 0) != line_len || memcmp(back, "round 000000 ", 13)))
				note_error("read back first line", (long)n, 0);
			/* A pause now and then: moves also find it asleep. */
			if (++n % 16 == 0)
				nanosleep(&ts, NULL);
		}
	}
	{
		struct itimerval off = { { 0, 0 }, { 0, 0 } };

		setitimer(ITIMER_REAL, &off, NULL);
	}
	if (handler_errors)
		note_error("signal handler", handler_errors, 0);
	snprintf(line, sizeof(line), "done %016llx rt=%d alarms=%s errors=%d\n", (unsigned long long)h,
		 (int)rt_count, alarms > 0 ? "yes" : "no", errors);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		errors++;
	close(fd);
	printf("%s", line);
	return errors ? 99 : (int)(h & 0x7f);
}
