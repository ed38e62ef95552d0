/* grower MAX_MIB STEP_MIB STEP_MS HOLD_S: grows its memory by STEP_MIB MiB (each page
 * written with a pattern) every STEP_MS ms up to MAX_MIB MiB, then keeps walking it for
 * HOLD_S seconds, checks every page and exits 0 if the memory holds what it wrote (1 if not).
 * Prints "grown N MiB" at each step: a process that fills a node's memory, for the memory
 * ushering test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_MAX 4096

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t pattern(size_t chunk, size_t word)
{
	return (chunk * 0x9e3779b97f4a7c15ULL) ^ (word * 0xff51afd7ed558ccdULL);
}

int main(int argc, char **argv)
{
	static uint64_t *chunks[CHUNK_MAX];
	size_t max, step, n = 0, words, c, w, bad = 0;
	unsigned step_ms;
	double hold, end;

	if (argc != 5) {
		fprintf(stderr, "usage: grower MAX_MIB STEP_MIB STEP_MS HOLD_S\n");
		return 2;
	}
	max = strtoul(argv[1], NULL, 10);
	step = strtoul(argv[2], NULL, 10);
	step_ms = strtoul(argv[3], NULL, 10);
	hold = atof(argv[4]);
	if (!step || max / step > CHUNK_MAX) {
		fprintf(stderr, "grower: bad sizes\n");
		return 2;
	}
	words = step * (1 << 20) / 8;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((n + 1) * step <= max) {
		chunks[n] = malloc(words * 8);
		if (!chunks[n]) {
			fprintf(stderr, "grower: out of memory at %zu MiB\n", n * step);
			return 3;
		}
		for (w = 0; w < words; w += 512)
			chunks[n][w] = pattern(n, w);
		n++;
		printf("grown %zu MiB\n", n * step);
		usleep(step_ms * 1000);
	}
	end = now() + hold;
	while (now() < end)
		for (c = 0; c < n; c++)
			for (w = 0; w < words; w += 512)
				chunks[c][w] ^= 1, chunks[c][w] ^= 1;
	for (c = 0; c < n; c++)
		for (w = 0; w < words; w += 512)
			bad += chunks[c][w] != pattern(c, w);
	printf("grower %zu MiB: %zu bad pages\n", n * step, bad);
	return bad ? 1 : 0;
}
