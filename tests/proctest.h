/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proctest.h -- helpers shared by the process-model tests (test_proc.c,
 * test_exit.c, test_wait.c): failure reporting from green code, waiting
 * for flags on host threads and in green processes, and polling
 * gp_stats() until the green processes a test made are all gone.
 *
 * Criterion asserts run only on the host thread of a test.  Green code
 * (other processes, LWPs) reports what it saw wrong with GCHECK(), which
 * counts the failure and keeps the first message; the host then calls
 * assert_no_green_failures().  Everything is static so that each test file
 * has its own copy.
 */
#ifndef GP_PROCTEST_H
#define GP_PROCTEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "greenproc.h"
#include "testutil.h"

static atomic_int pt_nbad;		/* failures seen in green code */
static atomic_int pt_msg_taken;
static char pt_msg[512];		/* the first failure's message */

static void pt_fail(int line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), unused));

static void
pt_fail(int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (atomic_fetch_add(&pt_nbad, 1) == 0 &&
	    atomic_exchange(&pt_msg_taken, 1) == 0) {
		n = snprintf(pt_msg, sizeof(pt_msg), "line %d: ", line);
		va_start(ap, fmt);
		vsnprintf(pt_msg + n, sizeof(pt_msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
}

/* In green code (or any non-Criterion thread): check and record. */
#define GCHECK(cond, ...) do {						\
	if (!(cond))							\
		pt_fail(__LINE__, "check failed: " #cond ": " __VA_ARGS__); \
} while (0)

static inline int
pt_nbad_now(void)
{
	return atomic_load(&pt_nbad);
}

#define assert_no_green_failures()					\
	cr_assert(eq(int, pt_nbad_now(), 0), "%d green failure(s); first: %s", \
	    pt_nbad_now(), pt_msg)

/* Sleep briefly: parks an LWP, sleeps a host thread. */
static inline void
pt_nap_ns(uint64_t ns)
{
	struct timespec ts = tu_ts(ns);

	if (gp_lwp_self() != NULL)
		(void)gp_nanosleep(&ts, NULL);
	else
		tu_host_sleep_ns(ns);
}

/*
 * Wait until *v >= n or timeout_ns has passed; 0 if it got there.  Works
 * on host threads and in LWPs (it naps between looks).
 */
static inline int
pt_wait_for(atomic_int *v, int n, uint64_t timeout_ns)
{
	uint64_t end = tu_now_ns() + timeout_ns;

	while (atomic_load(v) < n) {
		if (tu_now_ns() >= end)
			return -1;
		pt_nap_ns(TU_MS / 2);
	}
	return 0;
}

/* Wait, in a green process, until *v is set; no timeout (test timeouts). */
static inline void
pt_green_wait(atomic_int *v)
{
	while (atomic_load(v) == 0)
		pt_nap_ns(TU_MS);
}

/*
 * Poll gp_stats() until live_procs is back to want or timeout_ns passed.
 * 0 when it matches; *st holds the last reading.
 */
static inline int
pt_wait_live_procs(long want, uint64_t timeout_ns, struct gp_counters *st)
{
	uint64_t end = tu_now_ns() + timeout_ns;

	for (;;) {
		if (gp_stats(st) != 0)
			return -1;
		if (st->live_procs == want)
			return 0;
		if (tu_now_ns() >= end)
			return -1;
		tu_host_sleep_ns(TU_MS);
	}
}

/* Expect -1 with err from a call made on the host thread. */
#define assert_err(call, err) do {					\
	errno = 0;							\
	long r_ = (long)(call);						\
	int e_ = errno;							\
	cr_assert(eq(long, r_, -1L), "%s returned %ld", #call, r_);	\
	cr_assert(eq(int, e_, (err)), "%s: errno %d (%s), want %d", #call, \
	    e_, strerror(e_), (err));					\
} while (0)

/* waitpid() with errno folded in: the pid, 0, or -errno. */
static inline long
pt_waitpid(pid_t pid, int *status, int options)
{
	pid_t r = gp_waitpid(pid, status, options);

	return r < 0 ? -(long)errno : (long)r;
}

/*
 * Shared by the process-model suites (test_proc, test_exit, test_wait,
 * test_signal): the counters right after gp_init(), and the checks every
 * one of them ends with.  Static inline: a suite may not use them all.
 */
static struct gp_counters base __attribute__((unused));

/* Suite setup: the runtime, and the counters right after gp_init(). */
static inline void
pt_setup(void)
{
	cr_assert(eq(int, gp_init(0), 0));
	cr_assert(eq(int, gp_stats(&base), 0));
}

/* Cleanup only: a failing .fini does not fail a test (see end_test). */
static inline void
pt_teardown(void)
{
	cr_assert(eq(int, gp_shutdown(), 0));
}

/* A failing .fini does not fail the test (Criterion#211): check here. */
static inline void
end_test(void)
{
	int rc = gp_shutdown();

	cr_assert(eq(int, rc, 0), "gp_shutdown: %s", strerror(errno));
}

static inline pid_t
spawn_ok(int (*fn)(void *), void *arg)
{
	pid_t p = gp_spawn(fn, arg, NULL);

	cr_assert(ge(int, (int)p, GP_PID_INIT + 1), "gp_spawn: %s",
	    strerror(errno));
	return p;
}

/* Reap (pid) from the host; its wait status. */
static inline int
host_reap(pid_t pid)
{
	int st = -1;
	pid_t r = gp_waitpid(pid, &st, 0);

	cr_assert(eq(int, (int)r, (int)pid), "gp_waitpid(%d): %s", (int)pid,
	    r < 0 ? strerror(errno) : "another pid");
	return st;
}

/*
 * Every green process gone within (timeout_ns): live_procs back to its
 * reading at start.
 */
static inline void
assert_procs_back_within(uint64_t timeout_ns)
{
	struct gp_counters st;
	int rc;

	rc = pt_wait_live_procs(base.live_procs, timeout_ns, &st);
	cr_assert(eq(long, st.live_procs, base.live_procs),
	    "green processes left over");
	cr_assert(eq(int, rc, 0));
}

static inline void
assert_procs_back(void)
{
	assert_procs_back_within(10 * TU_S);
}

#endif /* GP_PROCTEST_H */
