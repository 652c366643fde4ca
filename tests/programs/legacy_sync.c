/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * legacy_sync.c -- pthread mutex/cond/barrier/once/rwlock and unnamed
 * semaphores between the LWPs of one green process.  Run it with
 * GREENPROC_WORKERS=1: every LWP then shares one worker, so a wait that
 * blocked the worker instead of parking the LWP would deadlock at once.
 *
 *  - two LWPs hand a mutex and a condition variable back and forth 100k
 *    times;
 *  - a pthread_barrier across 8 LWPs, 20 rounds, one serial thread each;
 *  - pthread_once from 100 LWPs runs the init once (the init sleeps, so
 *    the others really wait for it);
 *  - a bounded buffer with two sem_t, producer and consumer;
 *  - readers and a writer on a pthread_rwlock;
 *  - pthread_cond_timedwait times out.
 *
 * Legacy part on top (libc only); the driver below is legacy_driver.h.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* ------------------------------------------------------------ legacy code */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- ping-pong */

#define ROUNDS	100000

static pthread_mutex_t pp_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_c = PTHREAD_COND_INITIALIZER;
static int pp_turn;
static long pp_count[2];

static void *
pingpong(void *arg)
{
	int me = (int)(intptr_t)arg, i;

	for (i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&pp_m);
		while (pp_turn != me)
			pthread_cond_wait(&pp_c, &pp_m);
		pp_count[me]++;
		pp_turn = !me;
		pthread_cond_signal(&pp_c);
		pthread_mutex_unlock(&pp_m);
	}
	return NULL;
}

static void
test_pingpong(void)
{
	pthread_t a, b;
	double t0 = now_s();
	int e1, e2;

	e1 = pthread_create(&a, NULL, pingpong, (void *)0);
	e2 = pthread_create(&b, NULL, pingpong, (void *)1);
	CHECK(e1 == 0 && e2 == 0, "pthread_create: %s %s", strerror(e1),
	    strerror(e2));
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK(pp_count[0] == ROUNDS && pp_count[1] == ROUNDS,
	    "ping-pong counts %ld %ld", pp_count[0], pp_count[1]);
	printf("pingpong: %d round trips in %.3f s\n", ROUNDS, now_s() - t0);
}

/* ---- barrier */

#define NB	8
#define BROUNDS	20

static pthread_barrier_t bar;
static atomic_int arrived[BROUNDS];
static atomic_int serials[BROUNDS];

static void *
barrier_fn(void *arg)
{
	int r, rc;

	(void)arg;
	for (r = 0; r < BROUNDS; r++) {
		atomic_fetch_add(&arrived[r], 1);
		rc = pthread_barrier_wait(&bar);
		CHECK_QUIET(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD,
		    "pthread_barrier_wait = %d", rc);
		if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
			atomic_fetch_add(&serials[r], 1);
		CHECK_QUIET(atomic_load(&arrived[r]) == NB,
		    "round %d: past the barrier with %d arrived", r,
		    atomic_load(&arrived[r]));
		if (r % 3 == 0)
			sched_yield();
	}
	return NULL;
}

static void
test_barrier(void)
{
	pthread_t t[NB];
	int i, bad = 0;

	CHECK(pthread_barrier_init(&bar, NULL, NB) == 0, "barrier_init");
	for (i = 0; i < NB; i++)
		pthread_create(&t[i], NULL, barrier_fn, NULL);
	for (i = 0; i < NB; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < BROUNDS; i++)
		bad += atomic_load(&serials[i]) != 1;
	CHECK(bad == 0, "%d rounds without exactly one serial thread", bad);
	CHECK(pthread_barrier_destroy(&bar) == 0, "barrier_destroy");
	printf("barrier: %d LWPs x %d rounds\n", NB, BROUNDS);
}

/* ---- once */

#define NONCE	100

static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_int once_runs, once_done, once_early;

static void
once_init(void)
{
	atomic_fetch_add(&once_runs, 1);
	usleep(5000);		/* the others must wait for this */
	atomic_store(&once_done, 1);
}

static void *
once_fn(void *arg)
{
	(void)arg;
	pthread_once(&once, once_init);
	if (!atomic_load(&once_done))
		atomic_fetch_add(&once_early, 1);
	return NULL;
}

static void
test_once(void)
{
	pthread_t t[NONCE];
	int i;

	for (i = 0; i < NONCE; i++)
		pthread_create(&t[i], NULL, once_fn, NULL);
	for (i = 0; i < NONCE; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&once_runs) == 1, "once init ran %d times",
	    atomic_load(&once_runs));
	CHECK(atomic_load(&once_early) == 0,
	    "%d threads returned from pthread_once before the init ended",
	    atomic_load(&once_early));
}

/* ---- semaphores */

#define NITEMS	20000
#define QLEN	4

static sem_t items, slots;
static int queue[QLEN];
static long consumed_sum;

static void *
producer(void *arg)
{
	int i;

	(void)arg;
	for (i = 1; i <= NITEMS; i++) {
		sem_wait(&slots);
		queue[i % QLEN] = i;
		sem_post(&items);
	}
	return NULL;
}

static void *
consumer(void *arg)
{
	int i;

	(void)arg;
	for (i = 1; i <= NITEMS; i++) {
		sem_wait(&items);
		CHECK_QUIET(queue[i % QLEN] == i, "item %d: got %d", i,
		    queue[i % QLEN]);
		consumed_sum += queue[i % QLEN];
		sem_post(&slots);
	}
	return NULL;
}

static void
test_sem(void)
{
	pthread_t p, c;
	struct timespec abs;
	int r, e;

	CHECK(sem_init(&items, 0, 0) == 0 && sem_init(&slots, 0, QLEN) == 0,
	    "sem_init: %s", strerror(errno));
	pthread_create(&c, NULL, consumer, NULL);
	pthread_create(&p, NULL, producer, NULL);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	CHECK(consumed_sum == (long)NITEMS * (NITEMS + 1) / 2,
	    "consumed sum %ld", consumed_sum);
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_nsec += 10 * 1000 * 1000;
	if (abs.tv_nsec >= 1000000000L) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000L;
	}
	r = sem_timedwait(&items, &abs);
	e = errno;
	CHECK(r == -1 && e == ETIMEDOUT, "sem_timedwait on 0 = %d (%s)", r,
	    strerror(e));
	sem_destroy(&items);
	sem_destroy(&slots);
}

/* ---- rwlock */

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long rw_a, rw_b;
static atomic_int rw_torn;

static void *
rw_reader(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		pthread_rwlock_rdlock(&rw);
		if (rw_a != rw_b)
			atomic_fetch_add(&rw_torn, 1);
		pthread_rwlock_unlock(&rw);
		if (i % 16 == 0)
			sched_yield();
	}
	return NULL;
}

static void *
rw_writer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		pthread_rwlock_wrlock(&rw);
		rw_a++;
		sched_yield();		/* readers run while we hold it */
		rw_b++;
		pthread_rwlock_unlock(&rw);
	}
	return NULL;
}

static void
test_rwlock(void)
{
	pthread_t t[5];
	int i;

	pthread_create(&t[0], NULL, rw_writer, NULL);
	for (i = 1; i < 5; i++)
		pthread_create(&t[i], NULL, rw_reader, NULL);
	for (i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&rw_torn) == 0 && rw_a == 2000 && rw_b == 2000,
	    "rwlock: %d torn reads, a %ld b %ld", atomic_load(&rw_torn), rw_a,
	    rw_b);
}

/* ---- timed cond wait */

static void
test_timedwait(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec abs;
	double t0;
	int r;

	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_nsec += 20 * 1000 * 1000;
	if (abs.tv_nsec >= 1000000000L) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000L;
	}
	t0 = now_s();
	pthread_mutex_lock(&m);
	r = pthread_cond_timedwait(&c, &m, &abs);
	pthread_mutex_unlock(&m);
	CHECK(r == ETIMEDOUT, "pthread_cond_timedwait = %d (%s)", r,
	    strerror(r));
	CHECK(now_s() - t0 >= 0.015, "timed out after %.3f s", now_s() - t0);
}

static int
legacy_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	test_pingpong();
	test_barrier();
	test_once();
	test_sem();
	test_rwlock();
	test_timedwait();
	printf("legacy: done\n");
	return 0;
}

/* ------------------------------------------------------------ driver */

#include "legacy_driver.h"

static char *sync_argv[] = { "legacy_sync", NULL };

static int
before(void)
{
	const char *w = getenv("GREENPROC_WORKERS");

	printf("driver: GREENPROC_WORKERS=%s\n", w != NULL ? w : "(unset)");
	return 0;
}

static const struct legacy_driver legacy_driver = {
	.main_fn = legacy_main, .argv = sync_argv, .timeout = 100,
	.before = before,
};
