/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_sleep.c -- many short gp_nanosleep()s and yields over two workers.
 *
 * NLWP LWPs each run ITER steps, choosing at random between a short sleep
 * (0 to 300 us, sometimes 1 to 3 ms) and one to three yields.  NHOST host
 * threads sleep through gp_nanosleep() at the same time.  Every sleep is
 * timed: none may return early or fail.  Exercises the per-worker timers,
 * wakeups of parked workers and the run queues under churn.
 *
 * Exit status 0 on success; a message and 1 on failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "greenproc.h"
#include "../testutil.h"

#define NLWP	400
#define ITER	300
#define NHOST	2
#define HITER	300

static atomic_long sleeps, yields, early, errs, late;

/* xorshift32: each LWP and host thread has its own state. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
timed_sleep(uint64_t ns)
{
	struct timespec ts = tu_ts(ns);
	uint64_t t0, dt;

	t0 = tu_now_ns();
	if (gp_nanosleep(&ts, NULL) != 0) {
		atomic_fetch_add(&errs, 1);
		return;
	}
	dt = tu_now_ns() - t0;
	if (dt < ns)
		atomic_fetch_add(&early, 1);
	if (dt > ns + 5 * TU_S)		/* a lost wakeup, not just load */
		atomic_fetch_add(&late, 1);
	atomic_fetch_add(&sleeps, 1);
}

static void *
lwp_main(void *arg)
{
	uint32_t s = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
	uint32_t r;
	int i, n;

	for (i = 0; i < ITER; i++) {
		r = rnd(&s);
		if (r % 3 == 0) {
			for (n = 0; n <= (int)(r >> 8) % 3; n++)
				gp_yield();
			atomic_fetch_add(&yields, 1);
		} else if (r % 16 == 1) {
			timed_sleep(TU_MS + (r >> 8) % (2 * TU_MS));
		} else {
			timed_sleep((r >> 8) % 300000);
		}
	}
	return arg;
}

static void *
host_main(void *arg)
{
	uint32_t s = (uint32_t)(uintptr_t)arg * 40503u + 7;
	int i;

	for (i = 0; i < HITER; i++)
		timed_sleep(rnd(&s) % 500000);
	return NULL;
}

int
main(void)
{
	static gp_lwp_t h[NLWP];
	pthread_t th[NHOST];
	struct gp_counters st;
	uint64_t t0;
	long bad = 0;
	void *rv;
	int i, rc;

	if (gp_init(2) != 0) {
		perror("gp_init");
		return 1;
	}
	t0 = tu_now_ns();
	for (i = 0; i < NLWP; i++) {
		rc = gp_lwp_create(&h[i], lwp_main, (void *)(uintptr_t)i, NULL);
		if (rc != 0) {
			fprintf(stderr, "stress_sleep: gp_lwp_create: %s\n",
			    strerror(rc));
			return 1;
		}
	}
	for (i = 0; i < NHOST; i++) {
		if (pthread_create(&th[i], NULL, host_main,
		    (void *)(uintptr_t)i) != 0) {
			fprintf(stderr, "stress_sleep: pthread_create "
			    "failed\n");
			return 1;
		}
	}
	for (i = 0; i < NHOST; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NLWP; i++) {
		rv = NULL;
		if (gp_lwp_join(h[i], &rv) != 0 || rv != (void *)(uintptr_t)i)
			bad++;
	}

	if (bad != 0)
		fprintf(stderr, "stress_sleep: %ld joins failed\n", bad);
	if (atomic_load(&errs) != 0)
		fprintf(stderr, "stress_sleep: %ld sleeps failed\n",
		    atomic_load(&errs));
	if (atomic_load(&early) != 0)
		fprintf(stderr, "stress_sleep: %ld sleeps returned early\n",
		    atomic_load(&early));
	if (atomic_load(&late) != 0)
		fprintf(stderr, "stress_sleep: %ld sleeps over 5 s late\n",
		    atomic_load(&late));
	if (tu_wait_live(0, 0, 10 * TU_S, &st) != 0) {
		fprintf(stderr, "stress_sleep: live_lwps %ld, live_stacks %ld "
		    "after all joins\n", st.live_lwps, st.live_stacks);
		bad++;
	}
	if (gp_shutdown() != 0) {
		fprintf(stderr, "stress_sleep: gp_shutdown: %s\n",
		    strerror(errno));
		bad++;
	}
	if (bad != 0 || atomic_load(&errs) != 0 || atomic_load(&early) != 0 ||
	    atomic_load(&late) != 0) {
		fprintf(stderr, "stress_sleep: FAILED\n");
		return 1;
	}
	printf("stress_sleep: ok: %ld sleeps, %ld yield steps in %.0f ms\n",
	    atomic_load(&sleeps), atomic_load(&yields),
	    (tu_now_ns() - t0) / 1e6);
	return 0;
}
