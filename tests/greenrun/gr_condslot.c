/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_condslot.c -- a condition wait that nobody signals ends by its
 * timeout, whatever the addresses of the condition variable and its
 * mutex.  Under greenrun the green waits keep one generation word per
 * hash slot of an object's address; when the condvar and the mutex fell
 * in one slot, the wait's own unlock of the mutex moved the generation
 * the wait then slept on, and every wait returned at once as woken.  A
 * loop of such waits never gave its worker back: guile's join-thread,
 * whose waits kept waking, held the worker from the thread it waited
 * for (guile-3.0 with 200 threads under greenrun -w 1 hung about one
 * run in six).
 *
 * Each of NMUTEX mutexes waits once on one condvar with a short timeout;
 * with 1024 slots several of them share the condvar's.  Natively, and
 * under greenrun now, every wait times out.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define NMUTEX	8192

static pthread_mutex_t m[NMUTEX];
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;

int
main(void)
{
	struct timespec ts;
	int i, rc, woken = 0, other = 0;

	for (i = 0; i < NMUTEX; i++)
		pthread_mutex_init(&m[i], NULL);
	for (i = 0; i < NMUTEX; i++) {
		pthread_mutex_lock(&m[i]);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		rc = pthread_cond_timedwait(&c, &m[i], &ts);
		if (rc == 0)
			woken++;
		else if (rc != ETIMEDOUT)
			other++;
		pthread_mutex_unlock(&m[i]);
	}
	printf("%d waits: %d woken without a signal, %d failed\n", NMUTEX,
	    woken, other);
	return woken != 0 || other != 0;
}
