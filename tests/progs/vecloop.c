/* vecloop ITER: keeps eight AVX2 accumulators (256-bit ymm registers) and an SSE double
 * running through ITER iterations, with thread-local counters (fs-based TLS) updated on the
 * way; exits with a hash of all of them (0-255), the same on every run. A migration that
 * lost the upper halves of the ymm registers, an MXCSR bit or the TLS base changes it.
 * Prints "ready PID". With "wait", it then waits for SIGUSR1 before it ends (a test can move
 * it while it is sure to exist, however fast the loop ran). */
#include <immintrin.h>
#include <signal.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static __thread uint64_t tls_count[4];

int main(int argc, char **argv)
{
	uint64_t iter = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000, i, h = 1469598103934665603ULL;
	__m256i a0 = _mm256_set1_epi64x(1), a1 = _mm256_set1_epi64x(2), a2 = _mm256_set1_epi64x(3),
		a3 = _mm256_set1_epi64x(4), m = _mm256_set_epi64x(7, 11, 13, 17);
	__m256d d = _mm256_set1_pd(1.0), f = _mm256_set1_pd(1.0000001);
	uint64_t out[16];
	double dd[4];
	sigset_t usr1;
	int sig, wait = argc == 3 && strcmp(argv[2], "wait") == 0;

	/* Blocked from the start: a SIGUSR1 sent early is taken by the sigwait at the end. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (wait && sigprocmask(SIG_BLOCK, &usr1, NULL))
		return 255;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (i = 0; i < iter; i++) {
		a0 = _mm256_add_epi64(_mm256_xor_si256(a0, m), a1);
		a1 = _mm256_add_epi64(_mm256_slli_epi64(a1, 1), a2);
		a2 = _mm256_xor_si256(_mm256_srli_epi64(a2, 3), a3);
		a3 = _mm256_add_epi64(a3, a0);
		d = _mm256_mul_pd(d, f);
		tls_count[i & 3] += i;
	}
	_mm256_storeu_si256((__m256i *)&out[0], a0);
	_mm256_storeu_si256((__m256i *)&out[4], a1);
	_mm256_storeu_si256((__m256i *)&out[8], a2);
	_mm256_storeu_si256((__m256i *)&out[12], a3);
	_mm256_storeu_pd(dd, d);
	for (i = 0; i < 16; i++)
		h = (h ^ out[i]) * 0x100000001b3ULL;
	for (i = 0; i < 4; i++)
		h = (h ^ (uint64_t)(dd[i] * 1e9) ^ tls_count[i]) * 0x100000001b3ULL;
	printf("vecloop %llu: %016llx\n", (unsigned long long)iter, (unsigned long long)h);
	fflush(stdout);
	if (wait && sigwait(&usr1, &sig))
		return 255;
	return (int)((h ^ h >> 8 ^ h >> 16 ^ h >> 24) & 0xff);
}
