/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_lwp.c -- create/join/detach storms from host threads and LWPs at
 * once, on two workers.
 *
 * Five actors run concurrently: NHOST host threads and NDRIVER driver
 * LWPs.  Each round, an actor
 *	- makes LOCAL LWPs: half joinable (some of which make and join a
 *	  child of their own), a quarter detached by attribute and a quarter
 *	  detached by gp_lwp_detach() right after creation; it joins its
 *	  joinable ones and checks their return values;
 *	- makes CROSS LWPs and publishes their handles in a shared table, then
 *	  joins as many handles taken from that table, which other actors
 *	  (other kernel threads, other workers) mostly created: cross-worker
 *	  wakeups through join.
 * At the end every LWP must have run exactly once and the live LWP and
 * stack counters must be back to zero.  Counts fit the TSan tier.
 *
 * Exit status 0 on success; a message and 1 on failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenproc.h"
#include "../testutil.h"

#define NHOST	3
#define NDRIVER	2
#define NACTOR	(NHOST + NDRIVER)
#define ROUNDS	200
#define LOCAL	32
#define CROSS	16
#define NCROSS	(NACTOR * ROUNDS * CROSS)
#define MAGIC	((uintptr_t)0x5a5a0000)

static atomic_long failures;
static atomic_long ran;			/* bodies that ran, children included */
static atomic_long made;		/* LWPs created, children included */
static atomic_long detached_made;
static atomic_long detached_ran;

static gp_lwp_t cross_h[NCROSS];
static atomic_int cross_ready[NCROSS];
static atomic_int cross_pub;		/* next table slot to publish */
static atomic_int cross_claim;		/* next table slot to join */

static gp_attr_t *detached_attr;

#define FAIL(...) do {							\
	fprintf(stderr, "stress_lwp: " __VA_ARGS__);			\
	fputc('\n', stderr);						\
	atomic_fetch_add(&failures, 1);					\
} while (0)

/* Kinds of body, in the low bits of the argument. */
enum { K_PLAIN, K_YIELD, K_NAP, K_NEST, K_DETACHED };

static void *body(void *arg);

static void *
make_arg(uintptr_t id, int kind)
{
	return (void *)((id << 3) | (uintptr_t)kind);
}

static void
pause_here(void)
{
	if (gp_lwp_self() != NULL)
		gp_yield();
	else
		sched_yield();
}

static void *
body(void *arg)
{
	uintptr_t a = (uintptr_t)arg;
	struct timespec ts = { 0, 20000 };
	gp_lwp_t child;
	void *rv;

	switch (a & 7) {
	case K_YIELD:
		gp_yield();
		gp_yield();
		break;
	case K_NAP:
		if (gp_nanosleep(&ts, NULL) != 0)
			FAIL("gp_nanosleep: errno %d", errno);
		break;
	case K_NEST:
		atomic_fetch_add(&made, 1);
		if (gp_lwp_create(&child, body, make_arg(a >> 3, K_YIELD),
		    NULL) != 0) {
			FAIL("nested gp_lwp_create failed");
			break;
		}
		if (gp_lwp_join(child, &rv) != 0)
			FAIL("nested gp_lwp_join failed");
		else if ((uintptr_t)rv != ((uintptr_t)make_arg(a >> 3,
		    K_YIELD) ^ MAGIC))
			FAIL("nested join: wrong value");
		break;
	}
	atomic_fetch_add(&ran, 1);
	/* Last: main() stops waiting once every detached one got here. */
	if ((a & 7) == K_DETACHED)
		atomic_fetch_add(&detached_ran, 1);
	return (void *)(a ^ MAGIC);
}

static int
create(gp_lwp_t *h, void *arg, const gp_attr_t *attr)
{
	int rc;

	atomic_fetch_add(&made, 1);
	rc = gp_lwp_create(h, body, arg, attr);
	if (rc != 0) {
		atomic_fetch_sub(&made, 1);
		FAIL("gp_lwp_create: %s", strerror(rc));
	}
	return rc;
}

static void
join_check(gp_lwp_t h, void *arg)
{
	void *rv = NULL;
	int rc;

	rc = gp_lwp_join(h, &rv);
	if (rc != 0)
		FAIL("gp_lwp_join: %s", strerror(rc));
	else if ((uintptr_t)rv != ((uintptr_t)arg ^ MAGIC))
		FAIL("gp_lwp_join: got %p for %p", rv, arg);
}

static void
local_round(uintptr_t base)
{
	gp_lwp_t h[LOCAL];
	void *args[LOCAL];
	int i, kind, rc;

	for (i = 0; i < LOCAL; i++) {
		args[i] = NULL;
		switch (i % 4) {
		case 0:
		case 1:
			kind = (i % 8 == 0) ? K_NEST : (i % 8 == 1) ? K_NAP :
			    (i % 8 == 4) ? K_YIELD : K_PLAIN;
			args[i] = make_arg(base + (uintptr_t)i, kind);
			if (create(&h[i], args[i], NULL) != 0)
				args[i] = NULL;
			break;
		case 2:
			atomic_fetch_add(&detached_made, 1);
			if (create(&h[i], make_arg(base + (uintptr_t)i,
			    K_DETACHED), detached_attr) != 0)
				atomic_fetch_sub(&detached_made, 1);
			break;
		case 3:
			atomic_fetch_add(&detached_made, 1);
			if (create(&h[i], make_arg(base + (uintptr_t)i,
			    K_DETACHED), NULL) != 0) {
				atomic_fetch_sub(&detached_made, 1);
				break;
			}
			rc = gp_lwp_detach(h[i]);
			if (rc != 0)
				FAIL("gp_lwp_detach: %s", strerror(rc));
			break;
		}
	}
	for (i = 0; i < LOCAL; i++)
		if (args[i] != NULL)
			join_check(h[i], args[i]);
}

/*
 * Publish CROSS new LWPs, then join CROSS published ones.  Every actor
 * publishes before it claims, so a claimed slot is always being or has
 * been published: waiting for it cannot deadlock.
 */
static void
cross_round(void)
{
	gp_lwp_t h;
	int i, slot;

	for (i = 0; i < CROSS; i++) {
		slot = atomic_fetch_add(&cross_pub, 1);
		if (create(&h, make_arg((uintptr_t)slot, K_YIELD), NULL) != 0)
			h = NULL;
		cross_h[slot] = h;
		/* Release cross_h[slot]; pairs with the acquire below. */
		atomic_store_explicit(&cross_ready[slot], 1,
		    memory_order_release);
	}
	for (i = 0; i < CROSS; i++) {
		slot = atomic_fetch_add(&cross_claim, 1);
		while (!atomic_load_explicit(&cross_ready[slot],
		    memory_order_acquire))
			pause_here();
		if (cross_h[slot] != NULL)
			join_check(cross_h[slot],
			    make_arg((uintptr_t)slot, K_YIELD));
	}
}

static void
actor(int id)
{
	int r;

	for (r = 0; r < ROUNDS; r++) {
		local_round(((uintptr_t)id << 20) | ((uintptr_t)r << 8) |
		    (1u << 28));
		cross_round();
	}
}

/* An actor on an LWP or a host thread (tu_run_actors). */
static void *
actor_main(void *arg)
{
	actor((int)(intptr_t)arg);
	return NULL;
}

int
main(void)
{
	struct gp_counters st;
	uint64_t t0, end;
	int rc;

	if (gp_init(2) != 0) {
		perror("gp_init");
		return 1;
	}
	if (gp_attr_init(&detached_attr) != 0 ||
	    gp_attr_setdetached(detached_attr, 1) != 0) {
		fprintf(stderr, "stress_lwp: detached attribute failed\n");
		return 1;
	}
	t0 = tu_now_ns();
	switch (rc = tu_run_actors("stress_lwp", actor_main, NDRIVER, NHOST)) {
	case -1:
		return 1;
	case 0:
		break;
	default:
		FAIL("%d driver joins failed", rc);
	}

	/* Detached ones finish on their own; wait for them. */
	end = tu_now_ns() + 20 * TU_S;
	while (atomic_load(&detached_ran) < atomic_load(&detached_made) &&
	    tu_now_ns() < end)
		tu_host_sleep_ns(TU_MS);
	if (atomic_load(&detached_ran) != atomic_load(&detached_made))
		FAIL("%ld of %ld detached LWPs ran", atomic_load(&detached_ran),
		    atomic_load(&detached_made));
	if (atomic_load(&ran) != atomic_load(&made))
		FAIL("%ld of %ld LWPs ran", atomic_load(&ran),
		    atomic_load(&made));
	if (atomic_load(&cross_pub) != NCROSS ||
	    atomic_load(&cross_claim) != NCROSS)
		FAIL("cross table: %d published, %d claimed of %d",
		    atomic_load(&cross_pub), atomic_load(&cross_claim), NCROSS);
	if (tu_wait_live(0, 0, 10 * TU_S, &st) != 0)
		FAIL("live_lwps %ld, live_stacks %ld after all joins",
		    st.live_lwps, st.live_stacks);
	gp_attr_destroy(detached_attr);
	if (gp_shutdown() != 0)
		FAIL("gp_shutdown: %s", strerror(errno));

	if (atomic_load(&failures) != 0) {
		fprintf(stderr, "stress_lwp: FAILED (%ld failures)\n",
		    atomic_load(&failures));
		return 1;
	}
	printf("stress_lwp: ok: %ld LWPs (%ld detached) in %.0f ms\n",
	    atomic_load(&made), atomic_load(&detached_made),
	    (tu_now_ns() - t0) / 1e6);
	return 0;
}
