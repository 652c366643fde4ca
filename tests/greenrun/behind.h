/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * behind.h -- for the programs that show a blocking call does not hold
 * its worker: a thread that will end every wait starts first and
 * sleeps, then more threads than there are workers block, each in a
 * call of its own.  Natively each thread has a CPU of its own; under
 * greenrun, a call made inline in the kernel held its worker, and the
 * ending thread, queued behind the waiters, never ran again: the
 * program hung.  Each waiter writes its line into result[i]; they are
 * printed in order, whatever order the waits ended in.  Also the small
 * helpers these programs share.
 */
#ifndef GR_BEHIND_H
#define GR_BEHIND_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BEHIND_MAX	8

static char result[BEHIND_MAX][128];
static int pipes[BEHIND_MAX][2];	/* one for each waiter that reads */
static volatile sig_atomic_t handled, done;

/* pipes[0..n-1]: true if made. */
static inline int
open_pipes(long n)
{
	long i;

	for (i = 0; i < n; i++)
		if (pipe(pipes[i]) != 0)
			return 0;
	return 1;
}

/* A byte into each of pipes[0..n-1]: true if written. */
static inline int
write_pipes(long n)
{
	long i;

	for (i = 0; i < n; i++)
		if (write(pipes[i][1], "x", 1) != 1)
			return 0;
	return 1;
}

/* An ender: wakes, then a byte into each of pipes[0..(long)n-1]. */
static inline void *
write_pipes_later(void *n)
{
	usleep(100000);
	return write_pipes((long)n) ? NULL : (void *)1;
}

static inline void
count_signal(int sig)
{
	(void)sig;
	handled++;
}

/*
 * (sig) to thread (t) until it sets done: one sent before its wait
 * began is lost, so again every 50 ms.
 */
static inline void
signal_until_done(pthread_t t, int sig)
{
	while (!done) {
		usleep(50000);
		pthread_kill(t, sig);
	}
}

/*
 * Start ender((void *)n), then (n) waiters (waiter((void *)i)), join
 * them all and print their lines: true if the ender returned NULL.
 */
static inline int
run_behind(void *(*ender)(void *), void *(*waiter)(void *), long n)
{
	pthread_t e, t[BEHIND_MAX];
	void *res;
	long i;

	pthread_create(&e, NULL, ender, (void *)n);
	usleep(10000);		/* it has started, and sleeps */
	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, waiter, (void *)i);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < n; i++)
		printf("%s\n", result[i]);
	pthread_join(e, &res);
	printf("ender: %s\n", res == NULL ? "ok" : "failed");
	return res == NULL;
}

/* A call's result as a line says it: the number, or -1 and errno. */
static inline const char *
said(long r)
{
	static __thread char buf[64];

	if (r >= 0)
		snprintf(buf, sizeof(buf), "%ld", r);
	else
		snprintf(buf, sizeof(buf), "-1 %s", strerror(errno));
	return buf;
}

/* (ms) milliseconds from now on (clock), as an absolute time. */
static inline struct timespec
in_ms(clockid_t clock, long ms)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

#endif /* GR_BEHIND_H */
