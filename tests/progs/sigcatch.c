/* sigcatch: computes until SIGTERM arrives, handled on an alternate signal stack, with
 * SIGALRM ticks (alarm) counted on the way; exits 40 + (1 if the handler ran on the
 * alternate stack) + (2 if at least one SIGALRM was handled) + (4 if SIGUSR1 is still
 * ignored). A migrated run must exit as an unmigrated one: 47. Prints "ready PID". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t term, on_alt, alarms;
static char altstack[65536];

static void on_term(int sig)
{
	char here;

	(void)sig;
	on_alt = &here >= altstack && &here < altstack + sizeof(altstack);
	term = 1;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
	alarm(1);
}

int main(void)
{
	struct sigaction sa;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	volatile unsigned long x = 1;
	struct sigaction old;

	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGUSR1, SIG_IGN);
	alarm(1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (!term)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sigaction(SIGUSR1, NULL, &old);
	return 40 + (on_alt ? 1 : 0) + (alarms > 0 ? 2 : 0) + (old.sa_handler == SIG_IGN ? 4 : 0);
}
