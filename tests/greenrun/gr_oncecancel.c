/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_oncecancel.c -- a thread cancelled inside a pthread_once
 * initializer, under a cleanup handler of its own: the handler runs, the
 * join sees PTHREAD_CANCELED, and the once control is free again, so the
 * next pthread_once runs its initializer.  Under greenrun the unwind left
 * a stale record on the cancelled thread's stack and the program died of
 * SIGSEGV.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_barrier_t bar;
static int fds[2], ran_second, cleaned;

static void
first_init(void)
{
	char c;

	pthread_barrier_wait(&bar);
	/* A cancellation point that never returns: nobody writes. */
	if (read(fds[0], &c, 1) == 1)
		puts("first initializer: read returned");
}

static void
second_init(void)
{
	ran_second = 1;
}

static void
cleanup(void *arg)
{
	(void)arg;
	cleaned = 1;
}

static void *
thread(void *arg)
{
	(void)arg;
	pthread_cleanup_push(cleanup, NULL);
	pthread_once(&once, first_init);
	pthread_cleanup_pop(0);
	puts("pthread_once returned");
	return NULL;
}

int
main(void)
{
	pthread_t t;
	void *rv;

	if (pipe(fds) != 0)
		return 1;
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&t, NULL, thread, NULL);
	pthread_barrier_wait(&bar);
	pthread_cancel(t);
	pthread_join(t, &rv);
	printf("canceled: %s, cleanup ran: %s\n", rv == PTHREAD_CANCELED ?
	    "yes" : "no", cleaned ? "yes" : "no");
	pthread_once(&once, second_init);
	printf("second initializer ran: %s\n", ran_second ? "yes" : "no");
	return 0;
}
