/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_hostexit.c -- exit() from a SIGEV_THREAD timer's callback (glibc
 * runs it on a helper thread of its own, a host thread under greenrun)
 * while main waits in pause(): the program ends with that status and
 * its atexit handler runs.  Under greenrun the exit waited for main,
 * for ever.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
bye(void)
{
	printf("atexit handler\n");
}

static void
callback(union sigval sv)
{
	(void)sv;
	printf("callback\n");
	exit(3);
}

int
main(void)
{
	struct itimerspec its;
	struct sigevent sev;
	timer_t t;

	atexit(bye);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = callback;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) != 0)
		return 1;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 20000000;
	if (timer_settime(t, 0, &its, NULL) != 0)
		return 1;
	for (;;)
		pause();
}
