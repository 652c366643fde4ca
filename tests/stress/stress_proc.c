/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_proc.c -- the process tree under churn, on two workers.
 *
 * NHOST host threads and NDRIVER LWPs of init each run ROUNDS rounds:
 *
 *	- most rounds spawn a parent P that spawns KIDS children and exits
 *	  at once, while its children are themselves exiting (at once,
 *	  after a yield, after a nap, or after spawning a grandchild that
 *	  outlives them): exit1's reparenting races the children's own
 *	  exits and parent notifications;
 *	- every REAPER_EVERY-th round spawns a reaper R that adopts the
 *	  orphans of such a P, reaps some of them, and calls
 *	  gp_reaper_release() while descendants are still alive, then exits:
 *	  what it had not reaped goes on to init.
 *
 * Meanwhile an observer host thread looks the latest pids up over and
 * over -- gp_kill(pid, 0), gp_getpgid, gp_proc_watch -- and lists the
 * table with gp_ps: lookups that race reaps and the reuse of reaped
 * process structs, which must answer for the process or say ESRCH.
 *
 * The driver reaps P (or R) by pid and checks its status.  Everything
 * else is reaped by a reaper or by init.  At the end the process counters
 * must balance: every process spawned has run, exited and been reaped
 * exactly once, and live_procs / live_lwps / live_stacks are back where
 * they started.  Counts fit the TSan tier (GREENPROC_STRESS_ROUNDS
 * overrides ROUNDS).
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greenproc.h"
#include "../testutil.h"

#define NHOST		2
#define NDRIVER		2
#define NACTOR		(NHOST + NDRIVER)
#define KIDS		4
#define REAPER_EVERY	8

#ifdef TU_UNDER_TSAN
#define ROUNDS		1000
#else
#define ROUNDS		5000
#endif

#define P_STATUS	0x5a
#define R_STATUS	0x3c

static atomic_long failures;
static atomic_long spawned;		/* successful gp_spawn calls */
static atomic_long ran;			/* entries that started */
static atomic_long released;		/* gp_reaper_release calls that ran */
static atomic_long reaper_reaped;	/* orphans a reaper waited for */

#define FAIL(...) do {							\
	fprintf(stderr, "stress_proc: " __VA_ARGS__);			\
	fputc('\n', stderr);						\
	atomic_fetch_add(&failures, 1);					\
} while (0)

#define NRECENT		64
static _Atomic pid_t recent[NRECENT];	/* pids for the observer */
static atomic_uint nrecent;
static atomic_int observe_stop;
static atomic_long observed;

static pid_t
spawn(int (*fn)(void *), void *arg)
{
	pid_t p = gp_spawn(fn, arg, NULL);

	if (p == -1) {
		FAIL("gp_spawn: %s", strerror(errno));
	} else {
		atomic_fetch_add(&spawned, 1);
		atomic_store(&recent[atomic_fetch_add(&nrecent, 1) % NRECENT],
		    p);
	}
	return p;
}

/* Each answer is about the process itself, or ESRCH: it was reaped. */
static void *
observer(void *arg)
{
	FILE *null = fopen("/dev/null", "w");
	pid_t p;
	int i, fd;

	(void)arg;
	while (!atomic_load(&observe_stop)) {
		for (i = 0; i < NRECENT; i++) {
			if ((p = atomic_load(&recent[i])) <= 0)
				continue;
			errno = 0;
			if (gp_kill(p, 0) != 0 && errno != ESRCH)
				FAIL("gp_kill(%d, 0): %s", (int)p,
				    strerror(errno));
			errno = 0;
			if (gp_getpgid(p) == -1 && errno != ESRCH)
				FAIL("gp_getpgid(%d): %s", (int)p,
				    strerror(errno));
			errno = 0;
			if ((fd = gp_proc_watch(p)) >= 0)
				close(fd);
			else if (errno != ESRCH)
				FAIL("gp_proc_watch(%d): %s", (int)p,
				    strerror(errno));
			atomic_fetch_add(&observed, 1);
		}
		if (null != NULL && gp_ps(null) != 0)
			FAIL("gp_ps: %s", strerror(errno));
	}
	if (null != NULL)
		fclose(null);
	return NULL;
}

static void
nap_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	if (gp_nanosleep(&ts, NULL) != 0)
		FAIL("gp_nanosleep: %s", strerror(errno));
}

static int
grandchild(void *arg)
{
	atomic_fetch_add(&ran, 1);
	nap_us((long)(intptr_t)arg);
	return 1;
}

/* A child of P; kind in arg. */
static int
kid(void *arg)
{
	int kind = (int)(intptr_t)arg;

	atomic_fetch_add(&ran, 1);
	switch (kind & 3) {
	case 0:
		break;
	case 1:
		gp_yield();
		break;
	case 2:
		nap_us(20);
		break;
	case 3:
		/* Outlives us: orphaned when we exit. */
		(void)spawn(grandchild, (void *)(intptr_t)(50 + (kind >> 2)));
		break;
	}
	return kind & 0xff;
}

/* P: spawns its children and leaves while they run and exit. */
static int
parent(void *arg)
{
	int seed = (int)(intptr_t)arg, i, st;
	pid_t r;

	atomic_fetch_add(&ran, 1);
	for (i = 0; i < KIDS; i++)
		(void)spawn(kid, (void *)(intptr_t)((seed + i) & 0xff));
	/* Sometimes reap one that is already done; never block. */
	if (seed & 4) {
		r = gp_waitpid(-1, &st, WNOHANG);
		if (r == -1)
			FAIL("parent: waitpid: %s", strerror(errno));
	}
	if (seed & 8)
		gp_yield();
	return P_STATUS;
}

/* R: adopts P's orphans, reaps some, releases while others live. */
static int
reaper(void *arg)
{
	int seed = (int)(intptr_t)arg, i, st;
	pid_t p, r;

	atomic_fetch_add(&ran, 1);
	if (gp_reaper_acquire() != 0)
		FAIL("gp_reaper_acquire: %s", strerror(errno));
	p = spawn(parent, (void *)(intptr_t)seed);
	if (p > 0) {
		r = gp_waitpid(p, &st, 0);
		if (r != p)
			FAIL("reaper: waitpid(P): %s", strerror(errno));
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != P_STATUS)
			FAIL("reaper: P's status %#x", st);
	}
	/* Reap a few adopted orphans, blocking for the first. */
	for (i = 0; i < 2; i++) {
		r = gp_waitpid(-1, &st, i == 0 ? 0 : WNOHANG);
		if (r > 0)
			atomic_fetch_add(&reaper_reaped, 1);
		else if (r == -1 && errno != ECHILD)
			FAIL("reaper: waitpid(-1): %s", strerror(errno));
	}
	if (gp_reaper_release() != 0)
		FAIL("gp_reaper_release: %s", strerror(errno));
	else
		atomic_fetch_add(&released, 1);
	if (seed & 1)
		gp_yield();
	return R_STATUS;		/* the rest goes to init */
}

static void
actor(int id)
{
	int r, st, seed, want;
	pid_t p, w;

	for (r = 0; r < ROUNDS; r++) {
		seed = (id * 7919 + r * 31) & 0xffff;
		if (r % REAPER_EVERY == REAPER_EVERY - 1) {
			p = spawn(reaper, (void *)(intptr_t)seed);
			want = R_STATUS;
		} else {
			p = spawn(parent, (void *)(intptr_t)seed);
			want = P_STATUS;
		}
		if (p <= 0)
			continue;
		w = gp_waitpid(p, &st, 0);
		if (w != p)
			FAIL("actor %d: waitpid(%d) gave %d: %s", id, (int)p,
			    (int)w, strerror(errno));
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != want)
			FAIL("actor %d: status %#x, want %#x", id, st,
			    want << 8);
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
	struct gp_counters b, st;
	pthread_t obs;
	uint64_t t0, end;
	long n;
	int rc;

	if (gp_init(2) != 0) {
		perror("gp_init");
		return 1;
	}
	if (gp_stats(&b) != 0) {
		perror("gp_stats");
		return 1;
	}
	t0 = tu_now_ns();
	if (pthread_create(&obs, NULL, observer, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	rc = tu_run_actors("stress_proc", actor_main, NDRIVER, NHOST);
	atomic_store(&observe_stop, 1);
	pthread_join(obs, NULL);
	if (atomic_load(&observed) == 0)
		FAIL("the observer looked nothing up");
	switch (rc) {
	case -1:
		return 1;
	case 0:
		break;
	default:
		FAIL("%d driver joins failed", rc);
	}

	/* Orphans adopted by init finish on their own; init reaps them. */
	end = tu_now_ns() + 20 * TU_S;
	for (;;) {
		if (gp_stats(&st) != 0) {
			FAIL("gp_stats: %s", strerror(errno));
			break;
		}
		if (st.live_procs == b.live_procs || tu_now_ns() >= end)
			break;
		tu_host_sleep_ns(TU_MS);
	}
	n = atomic_load(&spawned);
	if (st.live_procs != b.live_procs) {
		FAIL("live_procs %ld, was %ld: %ld processes never reaped; "
		    "gp_ps:", st.live_procs, b.live_procs,
		    st.live_procs - b.live_procs);
		(void)gp_ps(stderr);
	}
	if (atomic_load(&ran) != n)
		FAIL("%ld of %ld spawned processes ran", atomic_load(&ran), n);
	if ((long)(st.spawns - b.spawns) != n)
		FAIL("gp_stats spawns %lu, test spawned %ld",
		    st.spawns - b.spawns, n);
	if ((long)(st.exits - b.exits) != n)
		FAIL("gp_stats exits %lu of %ld", st.exits - b.exits, n);
	if ((long)(st.reaps - b.reaps) != n)
		FAIL("gp_stats reaps %lu of %ld", st.reaps - b.reaps, n);
	if (atomic_load(&released) != (long)NACTOR * (ROUNDS / REAPER_EVERY))
		FAIL("%ld reaper releases of %ld", atomic_load(&released),
		    (long)NACTOR * (ROUNDS / REAPER_EVERY));
	if (tu_wait_live(b.live_lwps, b.live_stacks, 10 * TU_S, &st) != 0)
		FAIL("live_lwps %ld (was %ld), live_stacks %ld (was %ld)",
		    st.live_lwps, b.live_lwps, st.live_stacks, b.live_stacks);
	if (gp_shutdown() != 0)
		FAIL("gp_shutdown: %s", strerror(errno));

	if (atomic_load(&failures) != 0) {
		fprintf(stderr, "stress_proc: FAILED (%ld failures)\n",
		    atomic_load(&failures));
		return 1;
	}
	printf("stress_proc: ok: %d rounds, %ld processes (%ld orphans "
	    "reaped by reapers) in %.0f ms\n", NACTOR * ROUNDS, n,
	    atomic_load(&reaper_reaped), (tu_now_ns() - t0) / 1e6);
	return 0;
}
