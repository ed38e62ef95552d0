/* memwalk MIB SECONDS [GATE]: fills MIB MiB with a pattern, then walks it (reading and
 * updating every page) for SECONDS seconds (or, written pN, for N passes: the same output
 * every run), waits until the file GATE exists if one is named (checked every 10 ms), and
 * prints "memwalk MIB MiB: checksum X passes N"; exits 0 if the memory still holds what it
 * wrote. A process with a known resident size for migration tests and benchmarks. "ready PID"
 * is printed once the memory is filled. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mib, words, i;
	uint64_t *mem, sum = 0, passes = 0, want_passes = 0;
	double secs, end;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: memwalk MIB SECONDS [GATE]\n");
		return 2;
	}
	mib = strtoul(argv[1], NULL, 10);
	if (argv[2][0] == 'p')
		want_passes = strtoull(argv[2] + 1, NULL, 10);
	secs = want_passes ? 0 : strtod(argv[2], NULL);
	words = mib * 1024 * 1024 / sizeof(uint64_t);
	mem = malloc(words * sizeof(uint64_t) + 1);
	if (!mem) {
		perror("malloc");
		return 1;
	}
	for (i = 0; i < words; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ULL;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	end = now() + secs;
	while (want_passes ? passes < want_passes : now() < end) {
		/* One word per page per pass: every page is touched, the loop stays cheap. */
		for (i = 0; i < words; i += 512)
			mem[i] += 1;
		passes++;
	}
	wait_gate(argc == 4 ? argv[3] : NULL);
	for (i = 0; i < words; i++) {
		uint64_t want = i * 0x9e3779b97f4a7c15ULL + (i % 512 == 0 ? passes : 0);

		if (mem[i] != want) {
			printf("memwalk: word %zu is %llx, want %llx\n", i, (unsigned long long)mem[i],
			       (unsigned long long)want);
			return 1;
		}
		sum = sum * 31 + mem[i];
	}
	printf("memwalk %zu MiB: checksum %016llx passes %llu\n", mib, (unsigned long long)sum,
	       (unsigned long long)passes);
	return 0;
}
