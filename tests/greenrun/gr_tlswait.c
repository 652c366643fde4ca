/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_tlswait.c -- threads that wait on a thread-local object another
 * thread writes through a pointer, as MariaDB's InnoDB group commit
 * does (log0sync.cc: each thread queues the address of its
 * thread_local waiter, a futex word with a link and an LSN, and the
 * leader writes and wakes the ones it served).  NWAIT threads queue
 * &me and wait on me.signalled with syscall(SYS_futex); a leader
 * takes the list, reads each waiter's id through its pointer, then
 * sets its word and wakes it.  Natively every waiter has an address of
 * its own and every one is woken.  Under greenrun a thread-local's
 * address is its worker's slot (ARCHITECTURE section 27, "Addresses"):
 * the waiters of one worker queue one address, the list loops on it,
 * and the wake-ups land in whichever thread's values are loaded there
 * (MariaDB hung with 4 clients that each created a table).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NWAIT	8
#define TRIES	3		/* one-second futex waits before giving up */

struct waiter {
	struct waiter	*next;		/* (m) the queue */
	atomic_int	 signalled;	/* set by the leader, then woken */
	int		 id;
};

static _Thread_local struct waiter me;

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queued = PTHREAD_COND_INITIALIZER;
static struct waiter *list;		/* (m) */
static int nqueued;			/* (m) */
static int served[NWAIT];		/* ids the leader read, in list order */
static int nserved;
static const void *addr[NWAIT];		/* each waiter's &me */
static int woken[NWAIT];

static void *
waiter(void *arg)
{
	struct timespec ts = { 1, 0 };
	int i = (int)(long)arg, t;

	me.id = i;
	addr[i] = &me;
	pthread_mutex_lock(&m);
	me.next = list;
	list = &me;
	nqueued++;
	pthread_cond_signal(&queued);
	pthread_mutex_unlock(&m);
	for (t = 0; t < TRIES; t++) {
		if (atomic_exchange(&me.signalled, 0) == 1) {
			woken[i] = 1;
			break;
		}
		syscall(SYS_futex, &me.signalled, FUTEX_WAIT_PRIVATE, 0, &ts,
		    NULL, 0);
	}
	return NULL;
}

static void *
leader(void *arg)
{
	struct waiter *w, *next;
	int n;

	(void)arg;
	pthread_mutex_lock(&m);
	while (nqueued < NWAIT)
		pthread_cond_wait(&queued, &m);
	w = list;
	list = NULL;
	pthread_mutex_unlock(&m);
	/* At most NWAIT links: under greenrun the list loops. */
	for (n = 0; n < NWAIT && w != NULL; n++, w = next) {
		next = w->next;
		served[nserved++] = w->id;
		atomic_store(&w->signalled, 1);
		syscall(SYS_futex, &w->signalled, FUTEX_WAKE_PRIVATE, 1,
		    NULL, NULL, 0);
	}
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int
main(void)
{
	pthread_t t[NWAIT], lt;
	int i, j, distinct = 0;

	if (pthread_create(&lt, NULL, leader, NULL) != 0)
		return 1;
	for (i = 0; i < NWAIT; i++)
		if (pthread_create(&t[i], NULL, waiter, (void *)(long)i) != 0)
			return 1;
	for (i = 0; i < NWAIT; i++)
		pthread_join(t[i], NULL);
	pthread_join(lt, NULL);

	for (i = 0; i < NWAIT; i++) {
		for (j = 0; j < i && addr[j] != addr[i]; j++)
			;
		distinct += j == i;
	}
	printf("%d waiters, %d distinct addresses of their thread-local\n",
	    NWAIT, distinct);
	qsort(served, (size_t)nserved, sizeof(served[0]), cmp);
	printf("the leader served:");
	for (i = 0; i < nserved; i++)
		printf(" %d", served[i]);
	printf("\n");
	for (i = 0; i < NWAIT; i++)
		printf("waiter %d: %s\n", i, woken[i] ? "woken" : "not woken");
	return 0;
}
