/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sync_mutex.c -- a mutex is owned by a green thread, not by the worker
 * that runs it.  Two LWPs of one green process (on one worker with
 * GREENPROC_WORKERS=1, on one or two with 2):
 *  - recursive: B's trylock fails and B's lock waits while A holds it;
 *  - recursive: a counter bumped under the lock, with a yield inside the
 *    critical section, loses no update;
 *  - errorcheck: the owner's relock is EDEADLK, a non-owner's unlock
 *    EPERM, an unlock of an unlocked one EPERM;
 *  - mixed: a host thread and an LWP contend for one recursive mutex,
 *    each way round;
 *  - the preload's backstop poll never woke anybody (every release went
 *    through the interposers).
 */
#include <stdint.h>

#include "sync.h"

static pthread_mutex_t rm;		/* recursive */
static pthread_mutex_t em;		/* errorcheck */

static void
init_mutexes(void)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&rm, &a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&em, &a);
	pthread_mutexattr_destroy(&a);
}

/* ---- recursive: B waits while A holds */

static atomic_int r_held, r_tried, r_released;

static void *
rec_a(void *arg)
{
	(void)arg;
	CHECK(pthread_mutex_lock(&rm) == 0, "A lock");
	CHECK(pthread_mutex_lock(&rm) == 0, "A relock");
	atomic_store(&r_held, 1);
	wait_for(&r_tried, 1);
	/* B is (about to be) parked on rm: give it every chance to run. */
	usleep(20000);
	sched_yield();
	atomic_store(&r_released, 1);
	CHECK(pthread_mutex_unlock(&rm) == 0, "A unlock 1");
	CHECK(pthread_mutex_unlock(&rm) == 0, "A unlock 2");
	return NULL;
}

static void *
rec_b(void *arg)
{
	int e;

	(void)arg;
	wait_for(&r_held, 1);
	e = pthread_mutex_trylock(&rm);
	CHECK(e == EBUSY, "B trylock while A holds = %d (%s)", e, strerror(e));
	if (e == 0)
		pthread_mutex_unlock(&rm);
	e = pthread_mutex_unlock(&rm);
	CHECK(e == EPERM, "B unlock of A's mutex = %d (%s)", e, strerror(e));
	atomic_store(&r_tried, 1);
	CHECK(pthread_mutex_lock(&rm) == 0, "B lock");
	CHECK(atomic_load(&r_released) == 1, "B got the mutex while A held it");
	CHECK(pthread_mutex_unlock(&rm) == 0, "B unlock");
	return NULL;
}

static void
test_recursive(void)
{
	pthread_t a, b;

	CHECK(pthread_create(&a, NULL, rec_a, NULL) == 0, "create A");
	CHECK(pthread_create(&b, NULL, rec_b, NULL) == 0, "create B");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("recursive: done\n");
}

/* ---- recursive: mutual exclusion under contention */

#define NCOUNT	4
#define ITERS	2000

static long counter;

static void *
count_fn(void *arg)
{
	long v;
	int i;

	(void)arg;
	for (i = 0; i < ITERS; i++) {
		pthread_mutex_lock(&rm);
		pthread_mutex_lock(&rm);
		v = counter;
		if (i % 7 == 0)
			sched_yield();	/* others run: they must not get in */
		counter = v + 1;
		pthread_mutex_unlock(&rm);
		pthread_mutex_unlock(&rm);
	}
	return NULL;
}

static void
test_counter(void)
{
	pthread_t t[NCOUNT];
	int i;

	for (i = 0; i < NCOUNT; i++)
		pthread_create(&t[i], NULL, count_fn, NULL);
	for (i = 0; i < NCOUNT; i++)
		pthread_join(t[i], NULL);
	CHECK(counter == NCOUNT * ITERS, "counter %ld, want %d", counter,
	    NCOUNT * ITERS);
}

/* ---- errorcheck */

static atomic_int e_held, e_done;

static void *
err_a(void *arg)
{
	int e;

	(void)arg;
	CHECK(pthread_mutex_lock(&em) == 0, "A lock");
	e = pthread_mutex_lock(&em);
	CHECK(e == EDEADLK, "A relock = %d (%s)", e, strerror(e));
	e = pthread_mutex_trylock(&em);
	CHECK(e == EBUSY, "A trylock = %d (%s)", e, strerror(e));
	atomic_store(&e_held, 1);
	wait_for(&e_done, 1);
	CHECK(pthread_mutex_unlock(&em) == 0, "A unlock");
	e = pthread_mutex_unlock(&em);
	CHECK(e == EPERM, "A unlock of an unlocked mutex = %d (%s)", e,
	    strerror(e));
	return NULL;
}

static void *
err_b(void *arg)
{
	int e;

	(void)arg;
	wait_for(&e_held, 1);
	e = pthread_mutex_unlock(&em);
	CHECK(e == EPERM, "B unlock of A's mutex = %d (%s)", e, strerror(e));
	e = pthread_mutex_trylock(&em);
	CHECK(e == EBUSY, "B trylock = %d (%s)", e, strerror(e));
	atomic_store(&e_done, 1);
	CHECK(pthread_mutex_lock(&em) == 0, "B lock after A's unlock");
	CHECK(pthread_mutex_unlock(&em) == 0, "B unlock");
	return NULL;
}

static void
test_errorcheck(void)
{
	pthread_t a, b;

	CHECK(pthread_create(&a, NULL, err_a, NULL) == 0, "create A");
	CHECK(pthread_create(&b, NULL, err_b, NULL) == 0, "create B");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("errorcheck: done\n");
}

/* ---- mixed: a host thread and an LWP on one recursive mutex */

static atomic_int m_host_held, m_green_tried, m_host_released;
static atomic_int m_green_held, m_host_tried, m_green_released;

static void
host_side(void)
{
	int e;

	/* The host holds; the LWP waits. */
	CHECK(pthread_mutex_lock(&rm) == 0, "host lock");
	CHECK(pthread_mutex_lock(&rm) == 0, "host relock");
	atomic_store(&m_host_held, 1);
	while (atomic_load(&m_green_tried) == 0)
		usleep(1000);
	usleep(20000);
	atomic_store(&m_host_released, 1);
	CHECK(pthread_mutex_unlock(&rm) == 0, "host unlock 1");
	CHECK(pthread_mutex_unlock(&rm) == 0, "host unlock 2");

	/* The LWP holds; the host waits (in glibc, on the futex). */
	while (atomic_load(&m_green_held) == 0)
		usleep(1000);
	e = pthread_mutex_trylock(&rm);
	CHECK(e == EBUSY, "host trylock = %d (%s)", e, strerror(e));
	e = pthread_mutex_unlock(&rm);
	CHECK(e == EPERM, "host unlock of the LWP's = %d (%s)", e,
	    strerror(e));
	atomic_store(&m_host_tried, 1);
	CHECK(pthread_mutex_lock(&rm) == 0, "host lock");
	CHECK(atomic_load(&m_green_released) == 1,
	    "host got it while the LWP held it");
	CHECK(pthread_mutex_unlock(&rm) == 0, "host unlock");
}

static int
mixed_main(int argc, char **argv)
{
	int e;

	(void)argc;
	(void)argv;
	wait_for(&m_host_held, 1);
	e = pthread_mutex_trylock(&rm);
	CHECK(e == EBUSY, "LWP trylock = %d (%s)", e, strerror(e));
	atomic_store(&m_green_tried, 1);
	CHECK(pthread_mutex_lock(&rm) == 0, "LWP lock");
	CHECK(atomic_load(&m_host_released) == 1,
	    "LWP got it while the host held it");
	CHECK(pthread_mutex_unlock(&rm) == 0, "LWP unlock");

	CHECK(pthread_mutex_lock(&rm) == 0, "LWP lock");
	CHECK(pthread_mutex_lock(&rm) == 0, "LWP relock");
	atomic_store(&m_green_held, 1);
	wait_for(&m_host_tried, 1);
	usleep(20000);
	atomic_store(&m_green_released, 1);
	CHECK(pthread_mutex_unlock(&rm) == 0, "LWP unlock 1");
	CHECK(pthread_mutex_unlock(&rm) == 0, "LWP unlock 2");
	return green_exit_code();
}

static void *
mixed_green(void *arg)
{
	(void)arg;
	run_green("sync_mixed", mixed_main);
	return NULL;
}

static void
test_mixed(void)
{
	pthread_t t;

	/* A host thread runs the green process; this one is the host side. */
	CHECK(pthread_create(&t, NULL, mixed_green, NULL) == 0, "create");
	host_side();
	pthread_join(t, NULL);
	printf("mixed: done\n");
}

static int
legacy_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	test_recursive();
	test_counter();
	test_errorcheck();
	printf("legacy: done\n");
	return green_exit_code();
}

int
main(void)
{
	long n;

	driver_start();
	init_mutexes();
	run_green("sync_mutex", legacy_main);
	test_mixed();
	n = backstops();
	printf("backstops: %ld\n", n);
	CHECK(n == 0, "the backstop woke green waiters %ld times", n);
	return check_exit_code();
}
