/* tcpblast: the raw TCP baseline of the migration benchmark.
 *   tcpblast server PORT            answers each connection: reads an 8-byte length, then that
 *                                   many bytes, then writes 1 byte back; forever
 *   tcpblast client HOST PORT BYTES sends BYTES to a server and prints "tcp BYTES NS": the
 *                                   time from connect to the server's answer
 *   tcpblast pingserver PORT        answers each message of each connection (8-byte length,
 *                                   then that many bytes) with 8 bytes, until the peer closes
 *   tcpblast ping HOST PORT SIZE N  N round trips of SIZE bytes to a pingserver; prints
 *                                   "ping SIZE P50_NS" (the median round trip)
 *   tcpblast now                    prints the monotonic clock in ns (busybox date has no %N) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 16];

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static int full(int fd, void *p, size_t n, int rd)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = rd ? read(fd, (char *)p + done, n - done) : write(fd, (char *)p + done, n - done);

		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

/* A listening socket on every address at port; -1 (and a message) on failure. */
static int listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4)) {
		perror("tcpblast: listen");
		return -1;
	}
	return s;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int s, one = 1;

	if (argc == 2 && !strcmp(argv[1], "now")) {
		printf("%llu\n", (unsigned long long)now_ns());
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "server")) {
		if ((s = listen_on(atoi(argv[2]))) < 0)
			return 1;
		for (;;) {
			int c = accept(s, NULL, NULL);
			uint64_t n, left;

			if (c < 0)
				continue;
			if (!full(c, &n, 8, 1)) {
				for (left = n; left; ) {
					size_t k = left < sizeof(buf) ? left : sizeof(buf);

					if (full(c, buf, k, 1))
						break;
					left -= k;
				}
				full(c, buf, 1, 0);
			}
			close(c);
		}
	}
	if (argc == 5 && !strcmp(argv[1], "client")) {
		uint64_t n = strtoull(argv[4], NULL, 10), left, t0;

		a.sin_port = htons(atoi(argv[3]));
		inet_pton(AF_INET, argv[2], &a.sin_addr);
		t0 = now_ns();
		s = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) || full(s, &n, 8, 0)) {
			perror("tcpblast client");
			return 1;
		}
		for (left = n; left; ) {
			size_t k = left < sizeof(buf) ? left : sizeof(buf);

			if (full(s, buf, k, 0))
				return 1;
			left -= k;
		}
		if (full(s, buf, 1, 1))
			return 1;
		printf("tcp %llu %llu\n", (unsigned long long)n, (unsigned long long)(now_ns() - t0));
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "pingserver")) {
		if ((s = listen_on(atoi(argv[2]))) < 0)
			return 1;
		for (;;) {
			int c = accept(s, NULL, NULL);
			uint64_t n;

			if (c < 0)
				continue;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			while (!full(c, &n, 8, 1) && n <= sizeof(buf) && !full(c, buf, n, 1) && !full(c, &n, 8, 0))
				;
			close(c);
		}
	}
	if (argc == 6 && !strcmp(argv[1], "ping")) {
		uint64_t n = strtoull(argv[4], NULL, 10), count = strtoull(argv[5], NULL, 10), *t, r;

		if (n > sizeof(buf) || !count || !(t = calloc(count, sizeof(*t))))
			return 2;
		a.sin_port = htons(atoi(argv[3]));
		inet_pton(AF_INET, argv[2], &a.sin_addr);
		s = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
			perror("tcpblast ping");
			return 1;
		}
		for (uint64_t i = 0; i < count; i++) {
			uint64_t t0 = now_ns();

			if (full(s, &n, 8, 0) || full(s, buf, n, 0) || full(s, &r, 8, 1))
				return 1;
			t[i] = now_ns() - t0;
		}
		for (uint64_t i = 1; i < count; i++)
			for (uint64_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
				r = t[j];
				t[j] = t[j - 1];
				t[j - 1] = r;
			}
		printf("ping %llu %llu\n", (unsigned long long)n, (unsigned long long)t[count / 2]);
		return 0;
	}
	fprintf(stderr, "usage: tcpblast server PORT | tcpblast client HOST PORT BYTES\n");
	return 2;
}
