/* tcpblast: the raw TCP baseline of the migration benchmark.
 *   tcpblast server PORT            answers each connection: reads an 8-byte length, then that
 *                                   many bytes, then writes 1 byte back; forever
 *   tcpblast client HOST PORT BYTES sends BYTES to a server and prints "tcp BYTES NS": the
 *                                   time from connect to the server's answer
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

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int s, one = 1;

	if (argc == 2 && !strcmp(argv[1], "now")) {
		printf("%llu\n", (unsigned long long)now_ns());
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "server")) {
		a.sin_port = htons(atoi(argv[2]));
		s = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4)) {
			perror("tcpblast server");
			return 1;
		}
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
	fprintf(stderr, "usage: tcpblast server PORT | tcpblast client HOST PORT BYTES\n");
	return 2;
}
