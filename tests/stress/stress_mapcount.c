/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_mapcount.c -- vm.max_map_count reached for real.
 *
 * With GREENPROC_GUARD=mprotect every stack's guard page is a VMA of its
 * own, so spawning idle green processes fills the process's map count
 * (65530 by default: some 32k stacks).  The spawn that meets it must fail
 * with EAGAIN (the slab mmap or the guard's mprotect said ENOMEM), as
 * must gp_lwp_create; every process made before it is alive (kill 0);
 * after some are killed and reaped their stacks are reused, so spawns
 * work again; after all are reaped nothing is live.
 *
 *	build/stress/stress_mapcount		the system's map count
 *	build/stress/stress_mapcount N		as root: vm.max_map_count is
 *						set to N for the run and put
 *						back (the sysctl is global:
 *						keep the run short)
 *
 * Under TSan (a fiber per LWP, 32k of them) it only says it skips.
 * Exit status 0 on success; a message and 1 on failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenproc.h"
#include "../testutil.h"
#include "sysctl_run.h"

#define MAXP	200000
#define AGAIN	64		/* killed and spawned again at the limit */

static pid_t pids[MAXP];
static const char sysctl_path[] = "/proc/sys/vm/max_map_count";

#define FAIL(...) do {							\
	fprintf(stderr, "stress_mapcount: " __VA_ARGS__);		\
	fputc('\n', stderr);						\
	return 1;							\
} while (0)

static int
idle(void *arg)
{
	struct timespec ts = { 3600, 0 };

	(void)arg;
	for (;;)
		gp_nanosleep(&ts, NULL);
	return 0;
}

static void *
lwp_noop(void *arg)
{
	return arg;
}

static long
count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (f == NULL)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}



static int
kill_reap(int from, int to)
{
	int i, st;

	for (i = from; i < to; i++)
		if (gp_kill(pids[i], SIGKILL) != 0)
			FAIL("kill %d: %s", (int)pids[i], strerror(errno));
	for (i = from; i < to; i++)
		if (gp_waitpid(pids[i], &st, 0) != pids[i] ||
		    !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
			FAIL("reap %d: %s, status %#x", (int)pids[i],
			    strerror(errno), st);
	return 0;
}

static int
run(void)
{
	struct gp_counters st;
	gp_lwp_t l;
	uint64_t t0, t1;
	long maps;
	int n, i, e;

	if (gp_init(2) != 0)
		FAIL("gp_init: %s", strerror(errno));
	t0 = tu_now_ns();
	for (n = 0; n < MAXP; n++)
		if ((pids[n] = gp_spawn(idle, NULL, NULL)) < 0)
			break;
	e = errno;
	t1 = tu_now_ns();
	maps = count_maps();
	if (n == MAXP)
		FAIL("%d spawns and no map count reached", n);
	if (e != EAGAIN)
		FAIL("spawn %d failed with %s, not EAGAIN", n, strerror(e));
	if ((e = gp_lwp_create(&l, lwp_noop, NULL, NULL)) != EAGAIN)
		FAIL("gp_lwp_create at the map count: %s", e == 0 ? "worked" :
		    strerror(e));
	for (i = 0; i < n; i++)
		if (gp_kill(pids[i], 0) != 0)
			FAIL("process %d of %d not there", i, n);
	if (gp_stats(&st) != 0 || st.live_procs != n)
		FAIL("%ld live, %d made", st.live_procs, n);
	printf("stress_mapcount: %d idle processes at the map count "
	    "(%ld maps), %.2f s; spawn and gp_lwp_create: EAGAIN\n", n, maps,
	    (double)(t1 - t0) / 1e9);
	fflush(stdout);
	/* Room again: the reaped processes' stacks are reused. */
	if (kill_reap(n - AGAIN, n) != 0)
		return 1;
	for (i = n - AGAIN; i < n; i++)
		if ((pids[i] = gp_spawn(idle, NULL, NULL)) < 0)
			FAIL("spawn %d after reaps: %s", i, strerror(errno));
	if (kill_reap(0, n) != 0)
		return 1;
	if (gp_stats(&st) != 0 || st.live_procs != 0)
		FAIL("%ld live after every reap", st.live_procs);
	if ((pids[0] = gp_spawn(idle, NULL, NULL)) < 0 || kill_reap(0, 1))
		FAIL("a spawn after it all: %s", strerror(errno));
	if (gp_shutdown() != 0)
		FAIL("gp_shutdown: %s", strerror(errno));
	printf("stress_mapcount: %d killed and reaped once each, %d again "
	    "at the limit; ok\n", n, AGAIN);
	return 0;
}

static int
run_arg(long unused)
{
	(void)unused;
	return run();
}

int
main(int argc, char **argv)
{
	long want = argc > 1 ? atol(argv[1]) : 0;

#ifdef TU_UNDER_TSAN
	(void)want;
	(void)run_arg;
	(void)sysctl_path;
	printf("stress_mapcount: skipped under TSan\n");
	return 0;
#else
	setenv("GREENPROC_GUARD", "mprotect", 0);
	if (want <= 0)
		return run();
	if (geteuid() != 0)
		FAIL("lowering vm.max_map_count needs root");
	return sysctl_run("stress_mapcount", sysctl_path, want, run_arg, 0);
#endif
}
