/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fastpath.c -- the three fast paths, one per run, for comparing the ways
 * a program can link greenproc (bench/bench_link.c times them,
 * tools/bench-icount.sh counts their instructions under callgrind).
 *
 * Usage: fastpath OP N
 *	yield	two LWPs yield to each other N times each; per yield
 *	create	an LWP creates and joins N LWPs that return at once; per pair
 *	spawn	a green parent spawns N children that return 0 and waits for
 *		each; per round trip
 * One worker (gp_init(1)): the op, not the placement, is measured.  Prints
 * "OP N ns_per_op" on one line: the time of the loop only, after one
 * untimed warm-up loop of N/8 (stack caches, the free lists).
 *
 * The Makefile links this one file three ways: -lgreenproc as pkg-config
 * says (fastpath-so), libgreenproc.a without LTO (fastpath-static) and
 * libgreenproc.a with -flto (fastpath-lto, the runtime inlined into the
 * program).  The code is the same: any difference is the linkage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "greenproc.h"

static long n_ops;
static atomic_int arrived;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "fastpath: %s failed\n", what);
	exit(1);
}

/* --- yield: both start together; the loop is timed by the caller. */
static void *
yielder(void *arg)
{
	long i, n = (long)(intptr_t)arg;

	atomic_fetch_add(&arrived, 1);
	while (atomic_load(&arrived) < 2)
		gp_yield();
	for (i = 0; i < n; i++)
		gp_yield();
	return NULL;
}

/*
 * Both yielders are made by an LWP on the one worker, not by the host
 * thread: they go straight onto that worker's queue, so that every yield
 * is a switch to the other one from the first, with or without valgrind
 * (which runs one thread at a time: a host thread's hand-off through the
 * worker's inbox then lands at a different point on each run).
 */
static void *
yield_driver(void *arg)
{
	gp_lwp_t a, b;

	atomic_store(&arrived, 0);
	if (gp_lwp_create(&a, yielder, arg, NULL) != 0 ||
	    gp_lwp_create(&b, yielder, arg, NULL) != 0)
		die("gp_lwp_create");
	if (gp_lwp_join(a, NULL) != 0 || gp_lwp_join(b, NULL) != 0)
		die("gp_lwp_join");
	return NULL;
}

static void
yield_loop(long n)
{
	gp_lwp_t d;

	if (gp_lwp_create(&d, yield_driver, (void *)(intptr_t)n, NULL) != 0 ||
	    gp_lwp_join(d, NULL) != 0)
		die("gp_lwp_create");
}

/* --- create + join, from an LWP. */
static void *
nop(void *arg)
{
	return arg;
}

static void *
create_loop(void *arg)
{
	long i, n = (long)(intptr_t)arg;
	gp_lwp_t h;

	for (i = 0; i < n; i++)
		if (gp_lwp_create(&h, nop, NULL, NULL) != 0 ||
		    gp_lwp_join(h, NULL) != 0)
			die("create+join");
	return NULL;
}

static void
create_run(long n)
{
	gp_lwp_t d;

	if (gp_lwp_create(&d, create_loop, (void *)(intptr_t)n, NULL) != 0 ||
	    gp_lwp_join(d, NULL) != 0)
		die("gp_lwp_create");
}

/* --- spawn + exit + wait, from a green parent. */
static int
ret_zero(void *arg)
{
	(void)arg;
	return 0;
}

static int
spawn_parent(void *arg)
{
	long i, n = (long)(intptr_t)arg;
	pid_t pid;
	int st;

	for (i = 0; i < n; i++) {
		if ((pid = gp_spawn(ret_zero, NULL, NULL)) < 0 ||
		    gp_waitpid(pid, &st, 0) != pid || st != 0)
			return 1;
	}
	return 0;
}

static void
spawn_run(long n)
{
	pid_t pid;
	int st;

	if ((pid = gp_spawn(spawn_parent, (void *)(intptr_t)n, NULL)) < 0 ||
	    gp_waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		die("spawn+exit+wait");
}

int
main(int argc, char **argv)
{
	void (*run)(long);
	double per;
	uint64_t t0;
	long ops;

	if (argc != 3 || (n_ops = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: fastpath yield|create|spawn N\n");
		return 2;
	}
	if (strcmp(argv[1], "yield") == 0) {
		run = yield_loop;
		ops = 2 * n_ops;	/* two LWPs yield n each */
	} else if (strcmp(argv[1], "create") == 0) {
		run = create_run;
		ops = n_ops;
	} else if (strcmp(argv[1], "spawn") == 0) {
		run = spawn_run;
		ops = n_ops;
	} else {
		fprintf(stderr, "fastpath: unknown op %s\n", argv[1]);
		return 2;
	}
	if (gp_init(1) != 0)
		die("gp_init");
	run(n_ops / 8 > 0 ? n_ops / 8 : 1);
	t0 = now_ns();
	run(n_ops);
	per = (double)(now_ns() - t0) / (double)ops;
	if (gp_shutdown() != 0)
		die("gp_shutdown");
	printf("%s %ld %.2f\n", argv[1], n_ops, per);
	return 0;
}
