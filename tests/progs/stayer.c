/* stayer KIND: becomes a process that cannot migrate for reason KIND, prints "ready PID" and
 * sleeps until killed. KIND: plain (no reason), threads (a second thread), mlock (locked
 * memory), sysvshm (SysV shared memory attached), sharedanon (MAP_SHARED|MAP_ANONYMOUS),
 * rt (SCHED_FIFO). For the stay-reason VM tests. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int become(const char *kind)
{
	if (!strcmp(kind, "plain"))
		return 0;
	if (!strcmp(kind, "threads")) {
		pthread_t t;

		return pthread_create(&t, NULL, idle, NULL);
	}
	if (!strcmp(kind, "mlock")) {
		static char page[4096] __attribute__((aligned(4096)));

		page[0] = 1;
		return mlock(page, sizeof(page));
	}
	if (!strcmp(kind, "sysvshm")) {
		int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		void *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);

		if (id >= 0)
			shmctl(id, IPC_RMID, NULL);
		return p == (void *)-1 ? -1 : 0;
	}
	if (!strcmp(kind, "sharedanon"))
		return mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) ==
		       MAP_FAILED ? -1 : 0;
	if (!strcmp(kind, "rt")) {
		struct sched_param sp = { .sched_priority = 1 };

		return sched_setscheduler(0, SCHED_FIFO, &sp);
	}
	fprintf(stderr, "stayer: unknown kind %s\n", kind);
	return -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: stayer plain|threads|mlock|sysvshm|sharedanon|rt\n");
		return 2;
	}
	if (become(argv[1])) {
		perror(argv[1]);
		return 1;
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;)
		pause();
}
