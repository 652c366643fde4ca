/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * parks.h -- the calling thread's voluntary context switches so far
 * (getrusage RUSAGE_THREAD).  Natively a call that does not sleep adds
 * none; under greenrun a green thread's are its parks, so a step that
 * counts few switches over many calls shows that the calls were made on
 * the worker, not handed to another thread to wait for.
 */
#ifndef GR_PARKS_H
#define GR_PARKS_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

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
