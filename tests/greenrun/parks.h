/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * parks.h -- the calling thread's voluntary context switches so far
 * (getrusage RUSAGE_THREAD).  Natively a call that does not sleep adds
 * none; under greenrun a green thread's are its parks, so a step that
 * counts few switches over many calls shows that the calls were made on
 * the worker, not handed to another thread to wait for.  yielder(), a
 * thread that yields until (yielding) is 0, stands beside the counted
 * steps: on one worker a park then switches to it, where with nothing
 * else to run a ring's quick answer could come back before the park.
 */
#ifndef GR_PARKS_H
#define GR_PARKS_H

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static atomic_int yielding = 1;

static void *
yielder(void *arg)
{
	(void)arg;
	while (atomic_load(&yielding))
		sched_yield();
	return NULL;
}

static long
nvcsw(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) != 0) {
		perror("getrusage");
		exit(2);
	}
	return ru.ru_nvcsw;
}

#endif
