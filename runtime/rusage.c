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

void
gpi_ticks_to_timeval(unsigned long long ticks, struct timeval *tv)
{
	unsigned long long dt;
	uint64_t now, dns;
	double ns;

	while ((now = gpi_now()) - ns0 < CALIBRATE_MIN_NS)
		gpi_md_relax();		/* only in the first ms of a run */
	dns = now - ns0;
	dt = gpi_md_ticks() - tick0;
	ns = dt != 0 ? (double)ticks * (double)dns / (double)dt : 0;
	tv->tv_sec = (time_t)(ns / 1e9);
	tv->tv_usec = (suseconds_t)((ns - (double)tv->tv_sec * 1e9) / 1e3);
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
