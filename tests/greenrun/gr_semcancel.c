/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_semcancel.c -- sem_wait and sem_timedwait are cancellation points
 * even when the semaphore is free: a thread that cancelled itself is
 * cancelled there, not given the semaphore (glibc's sem_clockwait takes
 * it, and so must the green one).  Under greenrun the cancel acted only
 * if the wait parked.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>

static sem_t sem;

static void
cleanup(void *arg)
{
	printf("%s: cancelled\n", (const char *)arg);
}

static void *
thread(void *arg)
{
	const char *how = arg;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 60;
	pthread_cleanup_push(cleanup, arg);
	pthread_cancel(pthread_self());
	if (how[4] == '\0')
		sem_wait(&sem);
	else if (how[4] == 't')
		sem_timedwait(&sem, &ts);
	else
		sem_clockwait(&sem, CLOCK_REALTIME, &ts);
	printf("%s: took the semaphore\n", how);
	pthread_cleanup_pop(0);
	return NULL;
}

static void
run(const char *how)
{
	pthread_t t;
	void *rv;
	int v;

	sem_init(&sem, 0, 1);
	pthread_create(&t, NULL, thread, (void *)how);
	pthread_join(t, &rv);
	sem_getvalue(&sem, &v);
	printf("%s: %s, value %d\n", how, rv == PTHREAD_CANCELED ?
	    "PTHREAD_CANCELED" : "returned", v);
	sem_destroy(&sem);
}

int
main(void)
{
	run("wait");
	run("waittimed");
	run("waitclock");
	return 0;
}
