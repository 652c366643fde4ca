/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testutil.h -- small helpers shared by the Criterion tests and the
 * stress programs: clocks, host-thread sleeps, CPU time, and polling
 * gp_stats() until the runtime has reaped what a test made.
 *
 * Everything here is static inline so that each test file can include it
 * without clashing at link time.  Nothing here asserts; callers do.
 */
#ifndef GP_TESTUTIL_H
#define GP_TESTUTIL_H

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "greenproc.h"

/*
 * TU_UNDER_TSAN / TU_UNDER_SAN (TSan or ASan): programs that scale their
 * work down under a sanitizer.  gcc says so with __SANITIZE_*__, clang
 * with __has_feature.
 */
#if defined(__SANITIZE_THREAD__)
#define TU_UNDER_TSAN	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TU_UNDER_TSAN	1
#endif
#endif
#if defined(TU_UNDER_TSAN) || defined(__SANITIZE_ADDRESS__)
#define TU_UNDER_SAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_UNDER_SAN	1
#endif
#endif

#define TU_MS	1000000ULL		/* nanoseconds per millisecond */
#define TU_S	1000000000ULL		/* nanoseconds per second */

/*
 * Plain loads of atomics, for use inside cr_assert(): Criterion prints the
 * asserted expression, and atomic_load() expands to a screenful.
 */
static inline int
tu_ld(atomic_int *v)
{
	return atomic_load(v);
}

static inline long
tu_ldl(atomic_long *v)
{
	return atomic_load(v);
}

static inline uintptr_t
tu_ldp(_Atomic uintptr_t *v)
{
	return atomic_load(v);
}

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t
tu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * TU_S + (uint64_t)ts.tv_nsec;
}

static inline struct timespec
tu_ts(uint64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / TU_S);
	ts.tv_nsec = (long)(ns % TU_S);
	return ts;
}

/* Sleep the calling kernel thread (not through greenproc). */
static inline void
tu_host_sleep_ns(uint64_t ns)
{
	struct timespec ts = tu_ts(ns);

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		continue;
}

/* User plus system CPU time of the whole process, in nanoseconds. */
static inline uint64_t
tu_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
	    TU_S + ((uint64_t)ru.ru_utime.tv_usec +
	    (uint64_t)ru.ru_stime.tv_usec) * 1000;
}

/* Burn CPU without yielding for about ns nanoseconds. */
static inline void
tu_spin_ns(uint64_t ns)
{
	uint64_t end = tu_now_ns() + ns;

	while (tu_now_ns() < end)
		continue;
}

/*
 * Poll gp_stats() from a host thread until live_lwps and live_stacks are
 * back to the given values or timeout_ns has passed.  Reaping may be
 * batched, so a join or a detached exit need not free at once.  Returns 0
 * when they match, -1 on timeout or gp_stats() failure; *st holds the last
 * reading either way.
 */
static inline int
tu_wait_live(long lwps, long stacks, uint64_t timeout_ns,
    struct gp_counters *st)
{
	uint64_t end = tu_now_ns() + timeout_ns;

	for (;;) {
		if (gp_stats(st) != 0)
			return -1;
		if (st->live_lwps == lwps && st->live_stacks == stacks)
			return 0;
		if (tu_now_ns() >= end)
			return -1;
		tu_host_sleep_ns(TU_MS);
	}
}

/*
 * Everything (fd) gives until end of file, as a NUL-terminated string the
 * caller frees; NULL if memory ran out.
 */
static inline char *
tu_read_all(int fd)
{
	char *out = NULL, *bigger;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 65536;
			if ((bigger = realloc(out, cap + 1)) == NULL) {
				free(out);
				return NULL;
			}
			out = bigger;
		}
		n = read(fd, out + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	return out;
}

/*
 * The stress programs' shape: start (nlwp) LWPs running fn(i) and
 * (nhost) host threads running fn(nlwp + i), and wait for all.
 * Returns the number of LWP joins that failed, or -1 (said on stderr,
 * naming (who)) if an actor could not be started.
 */
static inline int
tu_run_actors(const char *who, void *(*fn)(void *), int nlwp, int nhost)
{
	gp_lwp_t *dr = calloc((size_t)nlwp + 1, sizeof(*dr));
	pthread_t *th = calloc((size_t)nhost + 1, sizeof(*th));
	int i, rc, failed = -1;

	if (dr == NULL || th == NULL) {
		fprintf(stderr, "%s: out of memory\n", who);
		goto out;
	}
	for (i = 0; i < nlwp; i++) {
		rc = gp_lwp_create(&dr[i], fn, (void *)(intptr_t)i, NULL);
		if (rc != 0) {
			fprintf(stderr, "%s: driver: %s\n", who, strerror(rc));
			goto out;
		}
	}
	for (i = 0; i < nhost; i++) {
		if (pthread_create(&th[i], NULL, fn,
		    (void *)(intptr_t)(nlwp + i)) != 0) {
			fprintf(stderr, "%s: pthread_create failed\n", who);
			goto out;
		}
	}
	for (i = 0; i < nhost; i++)
		pthread_join(th[i], NULL);
	for (failed = 0, i = 0; i < nlwp; i++)
		failed += gp_lwp_join(dr[i], NULL) != 0;
out:
	free(dr);
	free(th);
	return failed;
}

/*
 * Descriptors open in this process that the test's own work may have
 * made: all of /proc/self/fd, less the directory's own descriptor and
 * the two (a ring or epoll instance, and an eventfd) of every spare
 * worker the watchdog started.  -1 if /proc cannot be read.
 */
static inline int
tu_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct gp_counters st;
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	if (gp_stats(&st) == 0)
		n -= 2 * (int)st.spare_workers;
	return n - 1;
}

#endif /* GP_TESTUTIL_H */
