/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rusage.c -- resource usage (DragonFly kern_resource.c: calcru, ruadd).
 *
 * Run time is counted in gpi_md_ticks (the TSC on x86-64), read at the
 * switches where the running process changes (sched.c) -- the thread CPU
 * clock would be a system call per switch.  Ticks become time here, with
 * a rate measured against CLOCK_MONOTONIC since the runtime started: the
 * longer it runs, the better the rate, and no start-up calibration loop
 * is needed.  All green run time is reported as user time.
 *
 * Per LWP (l_ticks, for the preload's thread CPU-time clocks) it is
 * counted only while gpi_lwp_clock is on: that is a clock read at every
 * switch, where the process count reads one only where the running
 * process changes.
 */
#include <string.h>
#include <sys/time.h>

#include "internal.h"

#define CALIBRATE_MIN_NS	1000000	/* measure the rate over >= 1 ms */

static unsigned long long tick0;	/* (g) ticks at gpi_rusage_init */
static uint64_t ns0;			/* (g) CLOCK_MONOTONIC then */

void
gpi_rusage_init(void)
{
	tick0 = gpi_md_ticks();
	ns0 = gpi_now();
}

/* Nanoseconds per tick, measured since gpi_rusage_init. */
static double
ns_per_tick(void)
{
	unsigned long long dt;
	uint64_t now;

	while ((now = gpi_now()) - ns0 < CALIBRATE_MIN_NS)
		gpi_md_relax();		/* only in the first ms of a run */
	dt = gpi_md_ticks() - tick0;
	return dt != 0 ? (double)(now - ns0) / (double)dt : 0;
}

void
gpi_ticks_to_timeval(unsigned long long ticks, struct timeval *tv)
{
	double ns = (double)ticks * ns_per_tick();

	tv->tv_sec = (time_t)(ns / 1e9);
	tv->tv_usec = (suseconds_t)((ns - (double)tv->tv_sec * 1e9) / 1e3);
}

uint64_t
gpi_ticks_to_ns(unsigned long long ticks)
{
	return (uint64_t)((double)ticks * ns_per_tick());
}

/*
 * l_ticks, plus the slice under way when l_runtick says it runs.  The
 * worker zeroes l_runtick before it adds the slice to l_ticks (a
 * release store), so a reader whose l_ticks already holds the slice sees
 * l_runtick changed on its second look, and retries; one that reads the
 * old l_ticks with a running start adds the slice itself.  A start
 * stamp never repeats (the clock moves), so equal looks mean no switch
 * came between.  The current LWP reads its own words: nothing moves.
 */
unsigned long long
gpi_lwp_runticks(const struct gp_lwp *l)
{
	unsigned long long s1, s2, t, now;

	do {
		s1 = __atomic_load_n(&l->l_runtick, __ATOMIC_ACQUIRE);
		t = __atomic_load_n(&l->l_ticks, __ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&l->l_runtick, __ATOMIC_RELAXED);
	} while (s1 != s2);
	if (s1 != 0 && (now = gpi_md_ticks()) > s1)
		t += now - s1;
	return t;
}

void
gpi_ruadd_cru(struct gpi_ru *cru, const struct gpi_ru *ru2)
{
	/*
	 * NOTE: a plain += of the ticks, not a locked add: no switch charges
	 * a p_cru (switch_to and gpi_charge add to p_ru), and its one writer
	 * holds the process's p_lock.  (ru2), a zombie's p_ru, was last
	 * charged with atomic adds (the reaper saw its LWPs DEAD since):
	 * read as such.  exit1's calcru, which folds p_cru into p_ru while
	 * a killed LWP may still switch out for the last time, adds to p_ru
	 * atomically itself.
	 */
	cru->ru_ticks += __atomic_load_n(&ru2->ru_ticks, __ATOMIC_RELAXED);
	cru->ru_nvcsw += ru2->ru_nvcsw;
	cru->ru_nivcsw += ru2->ru_nivcsw;
}

void
gpi_ru_to_rusage(const struct gpi_ru *ru, struct rusage *out)
{
	memset(out, 0, sizeof(*out));
	gpi_ticks_to_timeval(ru->ru_ticks, &out->ru_utime);
	out->ru_nvcsw = (long)ru->ru_nvcsw;
	out->ru_nivcsw = (long)ru->ru_nivcsw;
}
