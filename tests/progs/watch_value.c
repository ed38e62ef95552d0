/* watch_value FILE WANT TAG [AGEFILE]: polls FILE (a number) every 2 ms until it reads WANT
 * or more, then prints "@@MARK TAG age=A" (A from AGEFILE, ms, or -1) and exits 0; exits 1
 * after 30 s. For the gossip propagation benchmark: the rig stamps @@MARK lines with the
 * host's clock, so marks from different guests compare. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long read_num(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	struct timespec pause = { 0, 2 * 1000 * 1000 };
	long want, i;

	if (argc < 4) {
		fprintf(stderr, "usage: watch_value FILE WANT TAG [AGEFILE]\n");
		return 2;
	}
	want = atol(argv[2]);
	for (i = 0; i < 15000; i++) {
		if (read_num(argv[1]) >= want) {
			printf("@@MARK %s age=%ld\n", argv[3], argc > 4 ? read_num(argv[4]) : -1L);
			fflush(stdout);
			return 0;
		}
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "watch_value: %s never reached %ld\n", argv[1], want);
	return 1;
}
