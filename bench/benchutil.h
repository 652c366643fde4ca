/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * benchutil.h -- the clock, the median and the report lines every
 * benchmark uses.  A program sets BENCH_LABEL_W, the width of its label
 * column, before including it.
 */
#ifndef GREENPROC_BENCHUTIL_H
#define GREENPROC_BENCHUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef BENCH_LABEL_W
#define BENCH_LABEL_W	46
#endif

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

/* A measured time, in ns or us by its size; negative: not measured. */
static inline void
row(const char *what, double ns)
{
	if (ns < 0)
		printf("  %-*s %13s\n", BENCH_LABEL_W, what, "n/a");
	else if (ns >= 100000.0)
		printf("  %-*s %10.1f us\n", BENCH_LABEL_W, what, ns / 1000.0);
	else if (ns >= 10000.0)
		printf("  %-*s %10.2f us\n", BENCH_LABEL_W, what, ns / 1000.0);
	else
		printf("  %-*s %10.1f ns\n", BENCH_LABEL_W, what, ns);
}

/* How many times (ours) fits in (peer); n/a when either is missing. */
static inline void
ratio(const char *what, double peer, double ours)
{
	if (peer < 0 || ours <= 0) {
		printf("  %-*s %11s\n", BENCH_LABEL_W, what, "n/a");
		return;
	}
	printf("  %-*s %10.1fx\n", BENCH_LABEL_W, what, peer / ours);
}

#endif /* GREENPROC_BENCHUTIL_H */
