/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * benchutil.h -- the clock and the median every benchmark reports.
 */
#ifndef GREENPROC_BENCHUTIL_H
#define GREENPROC_BENCHUTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v); -1 for no samples. */
static inline double
median(double *v, int n)
{
	if (n <= 0)
		return -1.0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

#endif /* GREENPROC_BENCHUTIL_H */
