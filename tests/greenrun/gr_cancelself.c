/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_cancelself.c -- a thread whose cancel type is asynchronous cancels
 * itself: glibc's pthread_cancel acts at once, before it returns, and
 * the thread never reaches its loop without calls (glibc's
 * tst-cancel-self-canceltype hung under greenrun, the cancel waiting for
 * a cancellation point that never came).
 */
#include <pthread.h>
#include <stdio.h>

static volatile int cleaned, looped;

static void
cleanup(void *arg)
{
	(void)arg;
	cleaned = 1;
}

static void *
run(void *arg)
{
	(void)arg;
	pthread_cleanup_push(cleanup, NULL);
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
	pthread_cancel(pthread_self());
	looped = 1;
	for (;;)
		;
	pthread_cleanup_pop(0);
	return NULL;
}

int
main(void)
{
	pthread_t t;
	void *rv;

	pthread_create(&t, NULL, run, NULL);
	pthread_join(t, &rv);
	printf("%s, cleanup %s, loop %s\n",
	    rv == PTHREAD_CANCELED ? "cancelled" : "not cancelled",
	    cleaned ? "ran" : "did not run", looped ? "reached" : "not reached");
	return 0;
}
