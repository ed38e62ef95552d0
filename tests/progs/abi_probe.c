// SPDX-License-Identifier: GPL-2.0
/*
 * abi_probe: checks the /dev/mosix ABI from C, independently of the Rust tools.
 * The numbers below are what <asm-generic/ioctl.h> gives for the layouts documented in
 * docs/architecture.md; mosix-core's tests pin the same values on the Rust side.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct mosix_abi_version { uint32_t magic, version, release, reserved; };
struct mosix_node_info {
	uint32_t id, status, addr, reserved;
	int64_t cpus, load, speed, mem, rmem, tmem, util, age_ms;
};

#define MOSIX_IOC_VERSION _IOR(0xb7, 0, struct mosix_abi_version)
#define MOSIX_IOC_NODE_INFO _IOWR(0xb7, 5, struct mosix_node_info)
/* A tool built against a different NodeInfo layout (8 bytes shorter). */
#define MOSIX_IOC_NODE_INFO_OLD _IOC(_IOC_READ | _IOC_WRITE, 0xb7, 5, 72)

int main(void)
{
	struct mosix_abi_version v;
	struct mosix_node_info n;
	int fd = open("/dev/mosix", O_RDONLY);
	int fails = 0;

	if (fd < 0) { perror("open /dev/mosix"); return 1; }
	memset(&v, 0, sizeof(v));
	if (ioctl(fd, MOSIX_IOC_VERSION, &v) < 0) { perror("VERSION"); return 1; }
	printf("magic %#x version %u release %#x\n", v.magic, v.version, v.release);
	fails += v.magic != 0x4d4f5358;
	memset(&n, 0, sizeof(n));
	if (ioctl(fd, MOSIX_IOC_NODE_INFO, &n) < 0) { perror("NODE_INFO"); fails++; }
	printf("node %u status %u cpus %lld speed %lld\n", n.id, n.status, (long long)n.cpus, (long long)n.speed);
	fails += n.cpus < 1 || n.speed < 1;
	errno = 0;
	if (ioctl(fd, MOSIX_IOC_NODE_INFO_OLD, &n) == 0 || errno != ENOTTY) {
		printf("a mis-sized request was not refused with ENOTTY (errno %d)\n", errno);
		fails++;
	} else {
		printf("mis-sized request refused: ENOTTY\n");
	}
	close(fd);
	return fails ? 1 : 0;
}
