/* fwdcheck MODE ...: programs whose system calls a migrated process forwards to its deputy.
 * Each prints "ready PID" first (then the test migrates it), and then prints only what an
 * unmigrated run prints too, so the two outputs can be compared byte for byte.
 *
 *   files DIR LINES ITER   appends LINES lines to DIR/out.txt (open, write, close each),
 *                          computing ITER steps before each; then reads the file back, and
 *                          prints its size, a checksum of its bytes and of what it computed,
 *                          the parent's pid, the host name and the working directory.
 *   pipe ITER              reads lines from stdin, answers each on stdout with a value
 *                          computed from it in ITER steps; at the end prints a checksum.
 *   forkexec ITER [GATE]   computes, forks a child that execs "/bin/echo child says hi",
 *                          waits for it, prints its status, computes again, prints a checksum.
 *                          With GATE it forks only once the file GATE exists (checked every
 *                          10 ms, at home while it is away), so a test can be sure the fork
 *                          comes after a migration.
 *   limits ITER [GATE]     sets its address-space limit to 64 MiB (before "ready"), computes
 *                          ITER steps, waits for GATE as forkexec does, then maps 128 MiB
 *                          (well within a guest's memory):
 *                          prints whether the limit held (the
 *                          limit travels with the process; the mapping is made where it runs).
 *   blockread              SIGTERM handler (no SA_RESTART), SIGALRM handler (SA_RESTART,
 *                          one alarm after 2 s, prints "tick"); blocks reading stdin; the tick
 *                          restarts the read, SIGTERM interrupts it: prints "ticks some",
 *                          "read: EINTR" and exits 3.
 *   endopen FIFO GATE      waits for GATE, opens FIFO for writing (away, the open blocks at
 *                          home until a reader comes) and ends at once with status 42: a
 *                          test asks it home while it waits, and its end then races the
 *                          move home.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"

static uint64_t mix(uint64_t x, long iter)
{
	volatile uint64_t v = x;

	for (long i = 0; i < iter; i++)
		v = v * 6364136223846793005ULL + 1442695040888963407ULL;
	return v;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static void ready(void)
{
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
}

static int files(const char *dir, long lines, long iter)
{
	char path[4096], buf[256], cwd[4096];
	uint64_t v = 1, sum = 14695981039346656037ULL;
	struct utsname u;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/out.txt", dir);
	unlink(path);
	for (long i = 0; i < lines; i++) {
		v = mix(v + i, iter);
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0) {
			perror("open");
			return 1;
		}
		n = snprintf(buf, sizeof(buf), "line %ld value %016llx\n", i, (unsigned long long)v);
		if (write(fd, buf, n) != n) {
			perror("write");
			return 1;
		}
		close(fd);
	}
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror("reopen");
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sum = fnv(sum, buf, n);
	close(fd);
	uname(&u);
	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "?");
	printf("size %lld sum %016llx value %016llx ppid %d host %s cwd %s\n", (long long)st.st_size,
	       (unsigned long long)sum, (unsigned long long)v, (int)getppid(), u.nodename, cwd);
	return 0;
}

static int pipe_mode(long iter)
{
	char line[256];
	uint64_t sum = 14695981039346656037ULL;
	long count = 0;

	while (fgets(line, sizeof(line), stdin)) {
		uint64_t v = mix(fnv(14695981039346656037ULL, line, strlen(line)), iter);

		printf("%ld %016llx\n", count++, (unsigned long long)v);
		fflush(stdout);
		sum = fnv(sum, &v, sizeof(v));
	}
	printf("lines %ld sum %016llx\n", count, (unsigned long long)sum);
	return 0;
}

static int forkexec(long iter, const char *gate)
{
	uint64_t v = mix(1, iter);
	int status;
	pid_t c;

	wait_gate(gate);
	fflush(stdout);
	c = fork();
	if (c < 0) {
		perror("fork");
		return 1;
	}
	if (c == 0) {
		execl("/bin/echo", "echo", "child says hi", (char *)NULL);
		_exit(127);
	}
	if (waitpid(c, &status, 0) != c) {
		perror("waitpid");
		return 1;
	}
	printf("child status %d\n", status);
	v = mix(v, iter);
	printf("value %016llx\n", (unsigned long long)v);
	return 0;
}

static volatile sig_atomic_t ticks, term;

static void on_alarm(int s)
{
	(void)s;
	/* One tick (the test sends SIGTERM once it has seen it: a SIGTERM delivered together
	 * with a tick would let the tick's SA_RESTART decide, as it would natively). */
	ticks++;
	if (write(1, "tick\n", 5) != 5)
		ticks += 100;
}

static void on_term(int s)
{
	(void)s;
	term = 1;
}

static int blockread(void)
{
	struct sigaction a = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct sigaction t = { .sa_handler = on_term };
	char c;
	ssize_t n;

	sigaction(SIGALRM, &a, NULL);
	sigaction(SIGTERM, &t, NULL);
	alarm(2);
	n = read(0, &c, 1);
	alarm(0);
	printf("ticks %s\n", ticks > 0 ? "some" : "none");
	if (n < 0 && errno == EINTR && term) {
		printf("read: EINTR\n");
		return 3;
	}
	printf("read: %zd\n", n);
	return 1;
}

static int limits(long iter, const char *gate)
{
	uint64_t v = mix(1, iter);
	void *p;

	wait_gate(gate);
	p = mmap(NULL, 128UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	printf("value %016llx 128 MiB map %s\n", (unsigned long long)v,
	       p == MAP_FAILED ? "refused: the 64 MiB limit holds" : "made: no limit");
	return p == MAP_FAILED ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct rlimit as = { 64UL << 20, 64UL << 20 };

	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "limits"))
		setrlimit(RLIMIT_AS, &as);
	ready();
	if (!strcmp(argv[1], "files") && argc == 5)
		return files(argv[2], atol(argv[3]), atol(argv[4]));
	if (!strcmp(argv[1], "pipe") && argc == 3)
		return pipe_mode(atol(argv[2]));
	if (!strcmp(argv[1], "forkexec") && (argc == 3 || argc == 4))
		return forkexec(atol(argv[2]), argc == 4 ? argv[3] : NULL);
	if (!strcmp(argv[1], "limits") && (argc == 3 || argc == 4))
		return limits(atol(argv[2]), argc == 4 ? argv[3] : NULL);
	if (!strcmp(argv[1], "blockread"))
		return blockread();
	if (!strcmp(argv[1], "endopen") && argc == 4) {
		wait_gate(argv[3]);
		if (open(argv[2], O_WRONLY) < 0)
			return 1;
		_exit(42);
	}
	return 2;
}
