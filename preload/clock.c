/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clock.c -- CPU-time clocks and RUSAGE_THREAD of green threads.
 *
 * The kernel measures a kernel thread: for a green thread that is its
 * worker, which runs every LWP queued there and the scheduler between
 * them.  A green thread's own run time is the runtime's (l_ticks,
 * counted at every switch while gpi_lwp_clock is on: from the first
 * request that comes here, which this file's constructor allows
 * (gpi_lwp_clock_use); ARCHITECTURE 14):
 * clock_gettime(CLOCK_THREAD_CPUTIME_ID) on a green thread,
 * clock_gettime and clock_getres of a clock id pthread_getcpuclockid
 * gave for a green thread (thread.c encodes it; any thread may read it,
 * green or not), and getrusage(RUSAGE_THREAD)'s times and switch counts.
 * All of it is user time, as the process's green run time is (rusage.c).
 * Every other clock, and a host thread's, is the kernel's: the common
 * case, a clock id at or above 0 other than CLOCK_THREAD_CPUTIME_ID, is
 * one compare before glibc's function.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))

/* One store, in the page every exec writes anyway (GPI_PASSDATA). */
__attribute__((constructor(102))) static void
clock_init(void)
{
	gpi_lwp_clock_ok = true;
}

/* The green LWP whose CPU time (clk) measures, or NULL: the kernel's. */
static struct gp_lwp *
clock_lwp(clockid_t clk, bool *gone)
{
	struct gp_lwp *l = gpi_curlwp();

	*gone = false;
	/* A host thread's own clock is the kernel's: nothing to count. */
	if (clk == CLOCK_THREAD_CPUTIME_ID)
		return l != NULL && gpi_lwp_clock_use(l) ? l : NULL;
	/* GREENPROC_THREAD_CLOCK=0: no own clocks. */
	if (!gpi_is_thread_clock(clk) || !gpi_lwp_clock_use(l))
		return NULL;
	*gone = true;
	return gpi_thread_clock_lwp(clk);
}

EXPORT int
clock_gettime(clockid_t clk, struct timespec *ts)
{
	struct gp_lwp *l;
	uint64_t ns;
	bool gone;

	if (__builtin_expect(clk >= 0 && clk != CLOCK_THREAD_CPUTIME_ID, 1))
		return REAL(clock_gettime)(clk, ts);
	if ((l = clock_lwp(clk, &gone)) == NULL) {
		if (gone)
			return (errno = EINVAL, -1);
		return REAL(clock_gettime)(clk, ts);
	}
	ns = gpi_ticks_to_ns(gpi_lwp_runticks(l));
	ts->tv_sec = (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
	return 0;
}

EXPORT int
clock_getres(clockid_t clk, struct timespec *res)
{
	bool gone;

	if (clk >= 0 || !gpi_is_thread_clock(clk))
		return REAL(clock_getres)(clk, res);
	if (clock_lwp(clk, &gone) == NULL)
		return (errno = EINVAL, -1);
	/* What the kernel answers for its CPU clocks. */
	if (res != NULL) {
		res->tv_sec = 0;
		res->tv_nsec = 1;
	}
	return 0;
}

EXPORT int
getrusage(int who, struct rusage *ru)
{
	struct gp_lwp *l = gpi_curlwp();
	struct timeval tv;
	int rv;

	/*
	 * The worker's usage for the rest (maximum RSS, faults, block I/O:
	 * the kernel counts those per kernel thread, and the LWPs of one
	 * worker share them), the LWP's own for times and switches.
	 */
	if ((rv = REAL(getrusage)(who, ru)) != 0 || who != RUSAGE_THREAD ||
	    l == NULL || !gpi_lwp_clock_use(l))
		return rv;
	gpi_ticks_to_timeval(gpi_lwp_runticks(l), &tv);
	ru->ru_utime = tv;
	memset(&ru->ru_stime, 0, sizeof(ru->ru_stime));
	ru->ru_nvcsw = (long)l->l_nvcsw;
	ru->ru_nivcsw = (long)l->l_nivcsw;
	return 0;
}
