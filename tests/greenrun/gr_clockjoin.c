/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_clockjoin.c -- pthread_clockjoin_np (glibc 2.31): a join that gives
 * up on either clock, refuses another clock, then joins.  (glibc's own
 * spins on a time whose nanoseconds are out of range: not tried.)
 * Under greenrun it was not interposed and crashed on a green thread's
 * handle.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "behind.h"

static int fds[2];

static void *
waiter(void *arg)
{
	char c;

	/* Runs until main writes: the joins below find it alive. */
	if (read(fds[0], &c, 1) != 1)
		return NULL;
	return arg;
}

static void
say(const char *what, int r)
{
	printf("%s: %s\n", what, r == 0 ? "0" : strerror(r));
}

int
main(void)
{
	static int token = 42;
	struct timespec ts;
	pthread_t t;
	void *rv = NULL;

	if (pipe(fds) != 0 || pthread_create(&t, NULL, waiter, &token) != 0)
		return 1;
	ts = in_ms(CLOCK_MONOTONIC, 30);
	say("monotonic, alive", pthread_clockjoin_np(t, &rv, CLOCK_MONOTONIC,
	    &ts));
	ts = in_ms(CLOCK_REALTIME, 30);
	say("realtime, alive", pthread_clockjoin_np(t, &rv, CLOCK_REALTIME,
	    &ts));
	ts = in_ms(CLOCK_MONOTONIC, 30);
	say("process clock", pthread_clockjoin_np(t, &rv,
	    CLOCK_PROCESS_CPUTIME_ID, &ts));
	ts = in_ms(CLOCK_REALTIME, 30);
	say("timedjoin, alive", pthread_timedjoin_np(t, &rv, &ts));
	if (write(fds[1], "x", 1) != 1)
		return 1;
	ts = in_ms(CLOCK_MONOTONIC, 60000);
	say("monotonic, ends", pthread_clockjoin_np(t, &rv, CLOCK_MONOTONIC,
	    &ts));
	printf("value: %d\n", rv == &token ? *(int *)rv : -1);
	if (pthread_create(&t, NULL, waiter, &token) != 0 ||
	    write(fds[1], "x", 1) != 1)
		return 1;
	rv = NULL;
	say("no time", pthread_clockjoin_np(t, &rv, CLOCK_MONOTONIC, NULL));
	printf("value: %d\n", rv == &token ? *(int *)rv : -1);
	return 0;
}
