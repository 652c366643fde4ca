/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_lwp.c -- greenproc LWPs against pthreads, GNU Pth and Boost.Context.
 *
 * Measures, as medians of RUNS runs (each run times a loop of N operations
 * with CLOCK_MONOTONIC and divides by N):
 *	yield switch	two threads yielding to each other; ns per yield
 *	create+join	create a thread that returns at once, then join it;
 *			ns per pair (greenproc: from inside an LWP)
 * for greenproc on 1 worker and on 2 workers, pthread_create/pthread_join
 * and GNU Pth (pth_yield, pth_spawn/pth_join), then the ratios and the
 * targets.  Pth and pthreads run before gp_init(), so that no
 * worker thread competes with them.  The Makefile defines
 * GREENPROC_HAVE_PTH and links -lpth when <pth.h> is there; without it the
 * Pth rows read n/a.  Boost.Context (boost::context::fiber over fcontext,
 * pooled 64 KiB stacks) is bench/peers/boost_context.cc, a C++ program
 * this one runs first (GREENPROC_BOOST_PEER, its path, when the Makefile
 * built it; else n/a): its switch is per resume (two per round trip),
 * its create+run+join a fiber made and resumed to its end.
 *
 * With 2 workers, the two yielders may sit on different workers; a yield
 * with nothing else runnable on its worker returns to the same LWP, so
 * that column measures a mix of switches and self-yields.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifdef GREENPROC_HAVE_PTH
#include <pth.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "greenproc.h"
#include "benchutil.h"

#define RUNS		11
#define GP_YIELDS	1000000L	/* per LWP, two LWPs */
#define GP_CREATES	200000L
#define PT_CREATES	2000L
/*
 * Pth costs microseconds per operation (signal-mask system calls on
 * every switch): runs of a few ms, and fewer of them, tell its order of
 * magnitude; at 11 x 20000 it took most of bench_lwp's time.
 */
#define PTH_RUNS	5
#define PTH_YIELDS	2000L		/* per thread, two threads: ~us each */
#define PTH_SPAWNS	1000L

#define TARGET_SWITCH	15.0
#define TARGET_CREATE	40.0	/* issue 18: ahead of every peer */

static void
die(const char *what)
{
	fprintf(stderr, "bench_lwp: %s failed\n", what);
	exit(1);
}

/* --- greenproc -------------------------------------------------------- */

static atomic_int gy_arrived, gy_done;
static _Atomic uint64_t gy_t0, gy_t1;

static void *
gp_yielder(void *arg)
{
	long i;

	(void)arg;
	/* The second to arrive starts the clock; the last to end stops it. */
	if (atomic_fetch_add(&gy_arrived, 1) == 1)
		atomic_store(&gy_t0, now_ns());
	else
		while (atomic_load(&gy_arrived) < 2)
			gp_yield();
	for (i = 0; i < GP_YIELDS; i++)
		gp_yield();
	if (atomic_fetch_add(&gy_done, 1) == 1)
		atomic_store(&gy_t1, now_ns());
	return NULL;
}

static double
gp_yield_run(void)
{
	gp_lwp_t a, b;

	atomic_store(&gy_arrived, 0);
	atomic_store(&gy_done, 0);
	if (gp_lwp_create(&a, gp_yielder, NULL, NULL) != 0 ||
	    gp_lwp_create(&b, gp_yielder, NULL, NULL) != 0)
		die("gp_lwp_create");
	if (gp_lwp_join(a, NULL) != 0 || gp_lwp_join(b, NULL) != 0)
		die("gp_lwp_join");
	return (double)(atomic_load(&gy_t1) - atomic_load(&gy_t0)) /
	    (2.0 * GP_YIELDS);
}

static void *
gp_nop(void *arg)
{
	return arg;
}

static void *
gp_create_loop(void *arg)
{
	uint64_t t0;
	gp_lwp_t h;
	long i;

	(void)arg;
	t0 = now_ns();
	for (i = 0; i < GP_CREATES; i++) {
		if (gp_lwp_create(&h, gp_nop, NULL, NULL) != 0)
			die("gp_lwp_create");
		if (gp_lwp_join(h, NULL) != 0)
			die("gp_lwp_join");
	}
	return (void *)(uintptr_t)(now_ns() - t0);
}

static double
gp_create_run(void)
{
	gp_lwp_t d;
	void *rv;

	if (gp_lwp_create(&d, gp_create_loop, NULL, NULL) != 0)
		die("gp_lwp_create");
	if (gp_lwp_join(d, &rv) != 0)
		die("gp_lwp_join");
	return (double)(uintptr_t)rv / GP_CREATES;
}

struct gp_result {
	double	 yield_ns;
	double	 create_ns;
	double	 switches_per_yield;
	long	 nworkers;
};

static void
bench_greenproc(int nworkers, struct gp_result *res)
{
	double y[RUNS], c[RUNS];
	struct gp_counters s0, s1;
	int i;

	if (gp_init(nworkers) != 0)
		die("gp_init");
	if (gp_stats(&s0) != 0)
		die("gp_stats");
	res->nworkers = s0.nworkers;
	(void)gp_yield_run();		/* warm the stack caches */
	(void)gp_create_run();
	if (gp_stats(&s0) != 0)
		die("gp_stats");
	for (i = 0; i < RUNS; i++)
		y[i] = gp_yield_run();
	if (gp_stats(&s1) != 0)
		die("gp_stats");
	res->switches_per_yield = (double)(s1.switches - s0.switches) /
	    (RUNS * 2.0 * GP_YIELDS);
	for (i = 0; i < RUNS; i++)
		c[i] = gp_create_run();
	res->yield_ns = median(y, RUNS);
	res->create_ns = median(c, RUNS);
	if (gp_shutdown() != 0)
		die("gp_shutdown");
}

/* --- pthreads --------------------------------------------------------- */

static void *
pt_nop(void *arg)
{
	return arg;
}

static double
bench_pthread(void)
{
	double c[RUNS];
	pthread_t t;
	uint64_t t0;
	int r;
	long i;

	for (r = 0; r < RUNS; r++) {
		t0 = now_ns();
		for (i = 0; i < PT_CREATES; i++) {
			if (pthread_create(&t, NULL, pt_nop, NULL) != 0)
				die("pthread_create");
			pthread_join(t, NULL);
		}
		c[r] = (double)(now_ns() - t0) / PT_CREATES;
	}
	return median(c, RUNS);
}

/* --- GNU Pth ---------------------------------------------------------- */

#ifdef GREENPROC_HAVE_PTH

static int py_arrived, py_done;	/* Pth is one kernel thread */
static uint64_t py_t0, py_t1;

static void *
pth_yielder(void *arg)
{
	long i;

	(void)arg;
	if (++py_arrived == 2)
		py_t0 = now_ns();
	else
		while (py_arrived < 2)
			pth_yield(NULL);
	for (i = 0; i < PTH_YIELDS; i++)
		pth_yield(NULL);
	if (++py_done == 2)
		py_t1 = now_ns();
	return NULL;
}

static void *
pth_nop(void *arg)
{
	return arg;
}

static void
bench_pth(double *yield_ns, double *create_ns)
{
	double y[PTH_RUNS], c[PTH_RUNS];
	pth_t a, b;
	uint64_t t0;
	int r;
	long i;

	if (!pth_init())
		die("pth_init");
	for (r = 0; r < PTH_RUNS; r++) {
		py_arrived = py_done = 0;
		a = pth_spawn(PTH_ATTR_DEFAULT, pth_yielder, NULL);
		b = pth_spawn(PTH_ATTR_DEFAULT, pth_yielder, NULL);
		if (a == NULL || b == NULL)
			die("pth_spawn");
		if (!pth_join(a, NULL) || !pth_join(b, NULL))
			die("pth_join");
		y[r] = (double)(py_t1 - py_t0) / (2.0 * PTH_YIELDS);
	}
	for (r = 0; r < PTH_RUNS; r++) {
		t0 = now_ns();
		for (i = 0; i < PTH_SPAWNS; i++) {
			a = pth_spawn(PTH_ATTR_DEFAULT, pth_nop, NULL);
			if (a == NULL)
				die("pth_spawn");
			if (!pth_join(a, NULL))
				die("pth_join");
		}
		c[r] = (double)(now_ns() - t0) / PTH_SPAWNS;
	}
	pth_kill();
	*yield_ns = median(y, PTH_RUNS);
	*create_ns = median(c, PTH_RUNS);
}
#else
static void
bench_pth(double *yield_ns, double *create_ns)
{
	*yield_ns = *create_ns = -1.0;	/* not measured */
}
#endif /* GREENPROC_HAVE_PTH */

/* --- Boost.Context ----------------------------------------------------- */

/*
 * bench/peers/boost_context.cc, a C++ program of its own (built only
 * where Boost.Context is installed): run it and read its two medians.
 * Negative: not measured (not built, or it failed).
 */
static void
bench_boost(double *yield_ns, double *create_ns)
{
	*yield_ns = *create_ns = -1.0;
#ifdef GREENPROC_BOOST_PEER
	{
		char cmd[4096];
		FILE *f;
		double y, c;

		if (access(GREENPROC_BOOST_PEER, X_OK) != 0)
			return;
		snprintf(cmd, sizeof(cmd), "%s %d", GREENPROC_BOOST_PEER,
		    RUNS);
		if ((f = popen(cmd, "r")) == NULL)
			return;
		if (fscanf(f, "%lf %lf", &y, &c) == 2) {
			*yield_ns = y;
			*create_ns = c;
		}
		pclose(f);
	}
#endif
}

/* --- report ----------------------------------------------------------- */

int
main(void)
{
	struct gp_result g1, g2;
	double pt_create, pth_yield_ns, pth_create, bst_yield, bst_create;
	char label[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	quiet_begin();
	pt_create = bench_pthread();
	bench_pth(&pth_yield_ns, &pth_create);
	bench_boost(&bst_yield, &bst_create);
	bench_greenproc(1, &g1);
	bench_greenproc(2, &g2);

	printf("\nbench_lwp: medians of %d runs (Pth %d)\n\n", RUNS,
	    PTH_RUNS);
	printf("yield switch (per yield)\n");
	snprintf(label, sizeof(label), "greenproc, %ld worker (%.2f sw/yield)",
	    g1.nworkers, g1.switches_per_yield);
	row(label, g1.yield_ns);
	snprintf(label, sizeof(label), "greenproc, %ld workers (%.2f sw/yield)",
	    g2.nworkers, g2.switches_per_yield);
	row(label, g2.yield_ns);
	row("GNU Pth (pth_yield)", pth_yield_ns);
	row("Boost.Context (fiber resume)", bst_yield);
	printf("\ncreate + run + join (per pair)\n");
	snprintf(label, sizeof(label), "greenproc, %ld worker, from an LWP",
	    g1.nworkers);
	row(label, g1.create_ns);
	snprintf(label, sizeof(label), "greenproc, %ld workers, from an LWP",
	    g2.nworkers);
	row(label, g2.create_ns);
	row("pthread_create + pthread_join", pt_create);
	row("GNU Pth (pth_spawn + pth_join)", pth_create);
	row("Boost.Context (fiber, pooled 64 KiB stacks)", bst_create);
	printf("\nratios (peer time / greenproc 1-worker time)\n");
	ratio("switch: Pth / greenproc", pth_yield_ns, g1.yield_ns);
	ratio("create+join: pthread / greenproc", pt_create, g1.create_ns);
	ratio("create+join: Pth / greenproc", pth_create, g1.create_ns);
	ratio("switch: Boost.Context / greenproc", bst_yield, g1.yield_ns);
	ratio("create+join: Boost.Context / greenproc", bst_create,
	    g1.create_ns);

	fig("yield switch, greenproc 1 worker", "ns", g1.yield_ns,
	    "yield switch, GNU Pth");
	fig("yield switch, greenproc 2 workers", "ns", g2.yield_ns,
	    "yield switch, GNU Pth");
	fig("yield switch, GNU Pth", "ns", pth_yield_ns, NULL);
	fig("create+run+join, greenproc 1 worker", "ns", g1.create_ns,
	    "create+run+join, pthread");
	fig("create+run+join, greenproc 2 workers", "ns", g2.create_ns,
	    "create+run+join, pthread");
	fig("create+run+join, greenproc 1 worker (vs Pth)", "ns", g1.create_ns,
	    "create+run+join, GNU Pth");
	fig("yield switch, greenproc 1 worker (vs Boost.Context)", "ns",
	    g1.yield_ns, "yield switch, Boost.Context");
	fig("yield switch, Boost.Context", "ns", bst_yield, NULL);
	fig("create+run+join, greenproc 1 worker (vs Boost.Context)", "ns",
	    g1.create_ns, "create+run+join, Boost.Context");
	fig("create+run+join, Boost.Context", "ns", bst_create, NULL);
	fig("create+run+join, pthread", "ns", pt_create, NULL);
	fig("create+run+join, GNU Pth", "ns", pth_create, NULL);
	quiet_end();
	printf("\ntargets (1 worker)\n");
	judge("yield switch", g1.yield_ns, TARGET_SWITCH, "ns", 1);
	judge("create+run+join", g1.create_ns, TARGET_CREATE, "ns", 1);
	return 0;
}
