/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sync_spin.c -- pthread_spin_lock on a green thread that finds the lock
 * held lets the holder run.  With GREENPROC_WORKERS=1, A takes the lock
 * and sleeps, B spins: a spin that kept the worker would never let A
 * wake (the alarm then kills the program).  Then a counter bumped by four
 * LWPs under the lock, and a mutex handed between two LWPs that sleep
 * while holding it: the backstop poll never woke anyone.
 */
#include <stdint.h>

#include "sync.h"

static pthread_spinlock_t sl;
static atomic_int s_held, s_got;

static void *
spin_a(void *arg)
{
	(void)arg;
	CHECK(pthread_spin_lock(&sl) == 0, "A spin_lock");
	atomic_store(&s_held, 1);
	usleep(20000);		/* a green sleep: B runs meanwhile */
	CHECK(atomic_load(&s_got) == 0, "B got the spinlock A holds");
	CHECK(pthread_spin_unlock(&sl) == 0, "A spin_unlock");
	return NULL;
}

static void *
spin_b(void *arg)
{
	(void)arg;
	wait_for(&s_held, 1);
	CHECK(pthread_spin_trylock(&sl) == EBUSY, "B spin_trylock");
	CHECK(pthread_spin_lock(&sl) == 0, "B spin_lock");
	atomic_store(&s_got, 1);
	CHECK(pthread_spin_unlock(&sl) == 0, "B spin_unlock");
	return NULL;
}

#define NCOUNT	4
#define ITERS	5000

static long counter;

static void *
count_fn(void *arg)
{
	long v;
	int i;

	(void)arg;
	for (i = 0; i < ITERS; i++) {
		pthread_spin_lock(&sl);
		v = counter;
		if (i % 11 == 0)
			sched_yield();
		counter = v + 1;
		pthread_spin_unlock(&sl);
	}
	return NULL;
}

/* ---- a mutex held across sleeps: waiters are woken by the unlock only */

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long m_rounds;

static void *
sleepy_holder(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 10; i++) {
		pthread_mutex_lock(&m);
		m_rounds++;
		usleep(15000);	/* longer than the backstop's 10 ms */
		pthread_mutex_unlock(&m);
		sched_yield();
	}
	return NULL;
}

static int
legacy_main(int argc, char **argv)
{
	pthread_t a, b, t[NCOUNT];
	int i;

	(void)argc;
	(void)argv;
	pthread_spin_init(&sl, PTHREAD_PROCESS_PRIVATE);
	pthread_create(&a, NULL, spin_a, NULL);
	pthread_create(&b, NULL, spin_b, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK(atomic_load(&s_got) == 1, "B never got the spinlock");
	printf("spin: handed over\n");

	for (i = 0; i < NCOUNT; i++)
		pthread_create(&t[i], NULL, count_fn, NULL);
	for (i = 0; i < NCOUNT; i++)
		pthread_join(t[i], NULL);
	CHECK(counter == NCOUNT * ITERS, "counter %ld, want %d", counter,
	    NCOUNT * ITERS);

	pthread_create(&a, NULL, sleepy_holder, NULL);
	pthread_create(&b, NULL, sleepy_holder, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK(m_rounds == 20, "rounds %ld", m_rounds);
	return green_exit_code();
}

int
main(void)
{
	long n;

	driver_start();
	run_green("sync_spin", legacy_main);
	n = backstops();
	printf("backstops: %ld\n", n);
	CHECK(n == 0, "the backstop woke green waiters %ld times", n);
	return check_exit_code();
}
