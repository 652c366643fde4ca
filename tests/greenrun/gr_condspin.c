/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_condspin.c -- a lock built on a mutex and a condition variable
 * (an owner field: guile's mutexes are so made), held by pollers whose
 * condition waits have a deadline already past, and wanted by main.
 * Each poller's wait gives the lock up (owner 0, mutex unlocked),
 * returns at once with ETIMEDOUT and takes it back.  Natively main,
 * woken by the poller's signal, gets the lock in that window.  Under
 * greenrun the wait took the mutex back without a switch, so a poller
 * only gave its worker up at the mutex lock at the top of its loop,
 * holding the lock: main, on that worker, never got it (guile's
 * wait-condition-variable with a timeout that had run out, polled until
 * another thread's flag, hung under greenrun -w 1).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define NPOLL	3		/* more than the workers: one shares main's */

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t freed = PTHREAD_COND_INITIALIZER;	/* owner 0 */
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;	/* no signal */
static int owner;		/* (m) who holds the lock, 0 if free */
static int done;		/* (the lock) */

static void
lock(int me)
{
	pthread_mutex_lock(&m);
	while (owner != 0)
		pthread_cond_wait(&freed, &m);
	owner = me;
	pthread_mutex_unlock(&m);
}

static void
unlock(void)
{
	pthread_mutex_lock(&m);
	owner = 0;
	pthread_cond_signal(&freed);
	pthread_mutex_unlock(&m);
}

/* Wait on never with the lock held: let it go, wait, take it back. */
static void
timed_wait(int me, const struct timespec *abs)
{
	int rc;

	pthread_mutex_lock(&m);
	owner = 0;
	pthread_cond_signal(&freed);
	rc = pthread_cond_timedwait(&never, &m, abs);
	if (rc != ETIMEDOUT)
		printf("timedwait: %d\n", rc);
	while (owner != 0)
		pthread_cond_wait(&freed, &m);
	owner = me;
	pthread_mutex_unlock(&m);
}

static void *
poll_flag(void *arg)
{
	int me = (int)(long)arg;
	struct timespec past;

	clock_gettime(CLOCK_REALTIME, &past);
	past.tv_sec--;
	lock(me);
	while (!done)
		timed_wait(me, &past);
	unlock();
	return NULL;
}

int
main(void)
{
	pthread_t t[NPOLL];
	int i;

	for (i = 0; i < NPOLL; i++)
		pthread_create(&t[i], NULL, poll_flag, (void *)(long)(i + 2));
	usleep(20 * 1000);
	lock(1);
	done = 1;
	unlock();
	for (i = 0; i < NPOLL; i++)
		pthread_join(t[i], NULL);
	printf("%d pollers saw the flag\n", NPOLL);
	return 0;
}
