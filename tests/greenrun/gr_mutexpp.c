/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_mutexpp.c -- priority-protect mutexes (glibc's tst-mutexpp10).  A
 * thread that locks one runs at the ceiling: pthread_getschedparam says
 * its own priority, sched_getparam of its id the boosted one, the
 * highest ceiling it holds.  A thread whose priority is above the
 * ceiling gets EINVAL.  pthread_mutex_setprioceiling of a mutex another
 * thread holds waits for it.  Under greenrun every lock of one failed
 * with EINVAL: glibc boosted the worker's kernel thread, which runs
 * SCHED_OTHER.  SCHED_FIFO needs root (natively): skipped without it.
 * (glibc's lock by a SCHED_OTHER thread fails, but leaves its count of
 * the ceiling raised, so that the next one succeeds: not compared.)
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t held;

static void
show(const char *when)
{
	struct sched_param sp, kp;
	int policy;

	pthread_getschedparam(pthread_self(), &policy, &sp);
	if (syscall(SYS_sched_getparam, (long)gettid(), &kp) != 0)
		kp.sched_priority = -1;
	printf("%s: priority %d, boosted %d\n", when, sp.sched_priority,
	    kp.sched_priority);
}

static void
pp_init(pthread_mutex_t *m, int type, int ceiling)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_PROTECT);
	pthread_mutexattr_setprioceiling(&a, ceiling);
	if (pthread_mutex_init(m, &a) != 0)
		printf("mutex_init failed\n");
	pthread_mutexattr_destroy(&a);
}

static const char *
said(int e)
{
	return e == 0 ? "0" : strerror(e);
}

static int unlocked = -1;	/* the holder's unlock, for main to print */

/* Holds (held) for 100 ms; started before main asks for a new ceiling. */
static void *
holder(void *arg)
{
	struct sched_param sp = { .sched_priority = 4 };

	pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	printf("holder: lock %s\n", said(pthread_mutex_lock(&held)));
	*(volatile int *)arg = 1;
	usleep(100000);
	/*
	 * Said before the unlock, and its result by main after the join:
	 * once it is unlocked, main's setprioceiling returns and prints,
	 * and which of the two printed first was a race (both natively and
	 * green; CI saw each order).
	 */
	printf("holder: unlocking\n");
	unlocked = pthread_mutex_unlock(&held);
	return NULL;
}

int
main(void)
{
	pthread_mutex_t m1, m2, m3, r;
	struct sched_param sp = { .sched_priority = 4 };
	volatile int locked = 0;
	pthread_t t;
	int old;

	if (geteuid() != 0) {
		printf("not root: skipped\n");
		return 0;
	}
	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
		return 1;
	pp_init(&m1, PTHREAD_MUTEX_NORMAL, 6);
	pp_init(&m2, PTHREAD_MUTEX_ERRORCHECK, 8);
	pp_init(&m3, PTHREAD_MUTEX_NORMAL, 5);
	show("FIFO 4");
	printf("lock m1 (6): %s\n", said(pthread_mutex_lock(&m1)));
	show("holding m1");
	printf("trylock m2 (8): %s\n", said(pthread_mutex_trylock(&m2)));
	printf("lock m2 again: %s\n", said(pthread_mutex_lock(&m2)));
	printf("lock m3 (5): %s\n", said(pthread_mutex_lock(&m3)));
	show("holding m1, m2, m3");
	pthread_mutex_unlock(&m2);
	show("holding m1, m3");
	pthread_mutex_unlock(&m1);
	show("holding m3");
	pthread_mutex_unlock(&m3);
	show("holding none");

	pp_init(&r, PTHREAD_MUTEX_RECURSIVE, 5);
	pthread_mutex_lock(&r);
	pthread_mutex_lock(&r);
	printf("setprioceiling of a held recursive one: %s",
	    said(pthread_mutex_setprioceiling(&r, 9, &old)));
	printf(", old %d\n", old);
	show("holding it twice");
	pthread_mutex_unlock(&r);
	pthread_mutex_unlock(&r);
	show("released");

	pp_init(&held, PTHREAD_MUTEX_NORMAL, 5);
	pthread_create(&t, NULL, holder, (void *)&locked);
	while (!locked)
		usleep(1000);
	printf("setprioceiling of one a thread holds: %s",
	    said(pthread_mutex_setprioceiling(&held, 7, &old)));
	printf(", old %d\n", old);
	pthread_join(t, NULL);
	printf("holder: unlock %s\n", said(unlocked));
	pthread_mutex_getprioceiling(&held, &old);
	printf("its ceiling now: %d\n", old);

	sp.sched_priority = 8;
	pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	printf("priority 8, ceiling 5: lock %s\n",
	    said(pthread_mutex_lock(&m3)));
	show("at the end");
	return 0;
}
