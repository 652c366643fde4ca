/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_million.c -- a million live green processes.
 *
 * Spawns N idle green processes (children of init, each asleep in
 * gp_nanosleep), waits until every one has run, checks that each is
 * reachable (gp_kill(pid, 0) and gp_waitpid(pid, WNOHANG) saying it is
 * alive), then kills them all and reaps each exactly once (its own
 * waitpid, then nothing is left to wait for).  Prints the time of each
 * phase and the resident memory per live process.
 *
 *	build/stress/stress_million		N = 10000 (what make stress runs)
 *	build/stress/stress_million 1000000	the million (4.2 GiB of RSS; its
 *						kill phase is slow: ARCHITECTURE 21)
 *
 * Where guard pages are mprotect()ed (no MADV_GUARD_INSTALL), each stack
 * costs about two map entries, so N above ~30000 needs vm.max_map_count
 * above 2N: as root the program raises it for the run and puts it back;
 * otherwise it says so and fails.  GREENPROC_MAX_PROCS is raised to N if
 * it is below.  Under TSan (a fiber per LWP) it only says it skips.
 * Exit status 0 on success; a message and 1 on failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenproc.h"
#include "../testutil.h"
#include "sysctl_run.h"

#define FAIL(...) do {							\
	fprintf(stderr, "stress_million: " __VA_ARGS__);		\
	fputc('\n', stderr);						\
	return 1;							\
} while (0)

static const char mapcount[] = "/proc/sys/vm/max_map_count";
static atomic_long started;

static int
idle(void *arg)
{
	struct timespec ts = { 3600, 0 };

	(void)arg;
	atomic_fetch_add_explicit(&started, 1, memory_order_relaxed);
	for (;;)
		gp_nanosleep(&ts, NULL);
	return 0;
}

static long
rss_bytes(void)
{
	long size, rss = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &size, &rss) != 2)
			rss = -1;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}



static double
secs(uint64_t t0)
{
	return (double)(tu_now_ns() - t0) / 1e9;
}

static int
run(long n)
{
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	struct gp_counters st;
	long i, rss0, rss1;
	uint64_t t0;
	int s;

	if (pids == NULL)
		FAIL("no memory for %ld pids", n);
	if (gp_init(2) != 0)
		FAIL("gp_init: %s", strerror(errno));
	rss0 = rss_bytes();
	t0 = tu_now_ns();
	for (i = 0; i < n; i++)
		if ((pids[i] = gp_spawn(idle, NULL, NULL)) < 0)
			FAIL("spawn %ld of %ld: %s", i, n, strerror(errno));
	printf("stress_million: %ld spawned in %.2f s\n", n, secs(t0));
	fflush(stdout);
	while (atomic_load(&started) < n)
		tu_host_sleep_ns(TU_MS);
	rss1 = rss_bytes();
	printf("stress_million: all %ld running after %.2f s; RSS %.1f MiB "
	    "more, %.0f bytes per live process\n", n, secs(t0),
	    (double)(rss1 - rss0) / (1 << 20), (double)(rss1 - rss0) /
	    (double)n);
	fflush(stdout);
	t0 = tu_now_ns();
	if (gp_stats(&st) != 0 || st.live_procs != n)
		FAIL("%ld live, %ld made", st.live_procs, n);
	for (i = 0; i < n; i++) {
		if (gp_kill(pids[i], 0) != 0)
			FAIL("kill(%d, 0): %s", (int)pids[i], strerror(errno));
		if (gp_waitpid(pids[i], &s, WNOHANG) != 0)
			FAIL("waitpid(%d, WNOHANG) says it is not alive",
			    (int)pids[i]);
	}
	printf("stress_million: each reachable (kill 0, waitpid WNOHANG) in "
	    "%.2f s\n", secs(t0));
	fflush(stdout);
	t0 = tu_now_ns();
	for (i = 0; i < n; i++)
		if (gp_kill(pids[i], SIGKILL) != 0)
			FAIL("kill(%d, SIGKILL): %s", (int)pids[i],
			    strerror(errno));
	for (i = 0; i < n; i++)
		if (gp_waitpid(pids[i], &s, 0) != pids[i] ||
		    !WIFSIGNALED(s) || WTERMSIG(s) != SIGKILL)
			FAIL("reap %d: %s, status %#x", (int)pids[i],
			    strerror(errno), s);
	/* Each exactly once: nothing is left to wait for. */
	if (gp_waitpid(-1, &s, WNOHANG) != -1 || errno != ECHILD)
		FAIL("a child left after every reap");
	if (gp_stats(&st) != 0 || st.live_procs != 0)
		FAIL("%ld live after every reap", st.live_procs);
	printf("stress_million: killed and reaped once each in %.2f s\n",
	    secs(t0));
	if (gp_shutdown() != 0)
		FAIL("gp_shutdown: %s", strerror(errno));
	free(pids);
	printf("stress_million: ok\n");
	return 0;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000, old, need, max;
	char buf[32];

#ifdef TU_UNDER_TSAN
	(void)n; (void)old; (void)need; (void)max; (void)buf; (void)run; (void)mapcount;
	printf("stress_million: skipped under TSan\n");
	return 0;
#else
	if (n < 1)
		FAIL("usage: stress_million [N]");
	max = getenv("GREENPROC_MAX_PROCS") != NULL ?
	    atol(getenv("GREENPROC_MAX_PROCS")) : 2097152;
	if (max < n) {
		snprintf(buf, sizeof(buf), "%ld", n);
		setenv("GREENPROC_MAX_PROCS", buf, 1);
	}
	/* Two entries a stack (guard + stack) if guards are mprotect()ed. */
	need = 2 * n + 4096;
	if ((old = sysctl_read(mapcount)) >= need || old < 0)
		return run(n);
	if (geteuid() != 0)
		FAIL("vm.max_map_count is %ld; %ld processes may need %ld "
		    "(run as root, or raise it)", old, n, need);
	return sysctl_run("stress_million", mapcount, need, run, n);
#endif
}
