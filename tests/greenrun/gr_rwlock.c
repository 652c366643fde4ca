/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_rwlock.c -- what glibc's blocking rwlock calls do that a green
 * thread's trylock-and-park did not: a rdlock or wrlock (any form) of a
 * rwlock the caller holds for writing fails with EDEADLK (glibc's
 * tst-rwlock3 hung: the green thread waited for itself), while another
 * thread waits; and under PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP a
 * waiting writer holds new readers back (tst-rwlock15 hung: the reader's
 * tryrdlock never failed, as the green writer was invisible).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "behind.h"

static const char *
err(int e)
{
	static char buf[32];

	switch (e) {
	case 0:
		return "0";
	case EDEADLK:
		return "EDEADLK";
	case EBUSY:
		return "EBUSY";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	default:
		snprintf(buf, sizeof(buf), "error %d", e);
		return buf;
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;

static void *
other_reader(void *arg)
{
	struct timespec ts = in_ms(CLOCK_REALTIME, 100);

	(void)arg;
	printf("  another thread's timedrdlock: %s\n",
	    err(pthread_rwlock_timedrdlock(&rw, &ts)));
	return NULL;
}

static void *
other_writer(void *arg)
{
	int e = pthread_rwlock_trywrlock(&rw);

	(void)arg;
	printf("  another thread's trywrlock after unlock: %s\n", err(e));
	if (e == 0)
		pthread_rwlock_unlock(&rw);
	return NULL;
}

static void
deadlock(const char *how)
{
	struct timespec ts;
	pthread_t t;

	printf("%s:\n", how);
	printf("  rdlock: %s\n", err(pthread_rwlock_rdlock(&rw)));
	printf("  wrlock: %s\n", err(pthread_rwlock_wrlock(&rw)));
	ts = in_ms(CLOCK_REALTIME, 50);
	printf("  timedrdlock: %s\n", err(pthread_rwlock_timedrdlock(&rw, &ts)));
	ts = in_ms(CLOCK_REALTIME, 50);
	printf("  timedwrlock: %s\n", err(pthread_rwlock_timedwrlock(&rw, &ts)));
	ts = in_ms(CLOCK_MONOTONIC, 50);
	printf("  clockrdlock: %s\n", err(pthread_rwlock_clockrdlock(&rw,
	    CLOCK_MONOTONIC, &ts)));
	ts = in_ms(CLOCK_MONOTONIC, 50);
	printf("  clockwrlock: %s\n", err(pthread_rwlock_clockwrlock(&rw,
	    CLOCK_MONOTONIC, &ts)));
	printf("  tryrdlock: %s\n", err(pthread_rwlock_tryrdlock(&rw)));
	pthread_create(&t, NULL, other_reader, NULL);
	pthread_join(t, NULL);
	printf("  unlock: %s\n", err(pthread_rwlock_unlock(&rw)));
	pthread_create(&t, NULL, other_writer, NULL);
	pthread_join(t, NULL);
	printf("  rdlock after unlock: %s\n", err(pthread_rwlock_rdlock(&rw)));
	printf("  unlock: %s\n", err(pthread_rwlock_unlock(&rw)));
}

/* ---- writer preference */

static pthread_rwlock_t pw;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const char *order[4];
static int norder;
static int saw_busy;		/* (atomic) the reader's tryrdlock failed */

static void
note(const char *who)
{
	pthread_mutex_lock(&mu);
	if (norder < 4)
		order[norder++] = who;
	pthread_mutex_unlock(&mu);
}

static void *
timed_writer(void *arg)
{
	struct timespec ts = in_ms(CLOCK_REALTIME, 1000);

	(void)arg;
	printf("  writer's timedwrlock: %s\n",
	    err(pthread_rwlock_timedwrlock(&pw, &ts)));
	return NULL;
}

static void *
writer(void *arg)
{
	(void)arg;
	if (pthread_rwlock_wrlock(&pw) == 0) {
		note("writer");
		pthread_rwlock_unlock(&pw);
	}
	return NULL;
}

/* Until a tryrdlock fails: the writer waits.  Bounded, not to spin. */
static int
until_busy(void)
{
	double end = now() + 5;
	int e;

	while ((e = pthread_rwlock_tryrdlock(&pw)) == 0 && now() < end) {
		pthread_rwlock_unlock(&pw);
		sched_yield();
	}
	if (e == 0)
		pthread_rwlock_unlock(&pw);
	return e;
}

static void *
reader(void *arg)
{
	int e;

	e = until_busy();
	if (arg != NULL)
		printf("  reader's tryrdlock while the writer waits: %s\n",
		    e == 0 ? "never failed" : err(e));
	__atomic_store_n(&saw_busy, 1, __ATOMIC_SEQ_CST);
	if (pthread_rwlock_rdlock(&pw) == 0) {
		note("reader");
		pthread_rwlock_unlock(&pw);
	}
	return NULL;
}

static void
prefer_writer(void)
{
	pthread_rwlockattr_t a;
	pthread_t tw, tr;

	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&pw, &a);

	/* tst-rwlock15: the writer times out; the reader then gets it. */
	printf("writer preferred, the writer times out:\n");
	pthread_rwlock_rdlock(&pw);
	pthread_create(&tw, NULL, timed_writer, NULL);
	pthread_create(&tr, NULL, reader, "say");
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	pthread_rwlock_unlock(&pw);
	printf("  reader got it: %s\n", norder == 1 ? order[0] : "no");

	/* The writer waits for the read lock; the reader comes after it. */
	printf("writer preferred, the read lock is released:\n");
	norder = 0;
	saw_busy = 0;
	pthread_rwlock_rdlock(&pw);
	pthread_create(&tw, NULL, writer, NULL);
	pthread_create(&tr, NULL, reader, NULL);
	/*
	 * Until the reader saw the writer wait, and a little more for it to
	 * wait too; if it is late, it still comes after the writer.
	 */
	{
		double end = now() + 5;
		struct timespec ms = { 0, 20000000L };

		while (!__atomic_load_n(&saw_busy, __ATOMIC_SEQ_CST) &&
		    now() < end)
			nanosleep(&ms, NULL);
		nanosleep(&ms, NULL);
	}
	pthread_rwlock_unlock(&pw);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	printf("  order: %s then %s\n", norder > 0 ? order[0] : "-",
	    norder > 1 ? order[1] : "-");
	pthread_rwlock_destroy(&pw);
	pthread_rwlockattr_destroy(&a);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_rwlock_trywrlock(&rw);
	deadlock("held by trywrlock");
	pthread_rwlock_wrlock(&rw);
	deadlock("held by wrlock");
	prefer_writer();
	return 0;
}
