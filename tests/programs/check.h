/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.h -- the checks of the programs in tests/programs/: plain libc,
 * no greenproc header, so that "legacy" code may use them too.
 *
 * CHECK() prints "ok: <cond>" or "FAIL: <cond>: <message>" on stdout and
 * counts failures; check_exit_code() is what a driver returns (0 only if
 * every check passed), after printing "ALL OK" or "N FAILED".  The
 * failure count is atomic: checks run on several worker threads.
 */
#ifndef GP_PROGRAMS_CHECK_H
#define GP_PROGRAMS_CHECK_H

#include <stdatomic.h>
#include <stdio.h>

static atomic_int check_nfail;

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		printf("ok: %s\n", #cond);				\
	} else {							\
		atomic_fetch_add(&check_nfail, 1);			\
		printf("FAIL: %s: ", #cond);				\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
	fflush(stdout);							\
} while (0)

/* Only the failure is printed: for checks inside loops. */
#define CHECK_QUIET(cond, ...) do {					\
	if (!(cond)) {							\
		atomic_fetch_add(&check_nfail, 1);			\
		printf("FAIL: %s: ", #cond);				\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		fflush(stdout);						\
	}								\
} while (0)

static inline int
check_exit_code(void)
{
	int n = atomic_load(&check_nfail);

	if (n == 0)
		printf("ALL OK\n");
	else
		printf("%d FAILED\n", n);
	fflush(stdout);
	return n == 0 ? 0 : 1;
}

#endif /* GP_PROGRAMS_CHECK_H */
