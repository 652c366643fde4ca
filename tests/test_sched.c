/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sched.c -- workers, run queues, yield, sleep, stealing, idling and
 * gp_shutdown() with work in flight.
 *
 * Suites by worker count: sched1 (gp_init(1)), sched2 (gp_init(2)) and
 * sched (gp_init(0)).  Criterion asserts run only on the host thread; an
 * LWP that sees something wrong counts it and the host asserts the count.
 *
 * NOTE: in C, Criterion 2.4.1's gt(T, a, b) is really a >= b (op.h defines
 * CRI_BINOP_T_GT as !lt), so these tests write ge(T, a, b + 1) instead.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "greenproc.h"
#include "testutil.h"

static struct gp_counters base;	/* Reading right after gp_init(). */

static void
init_workers(int n)
{
	cr_assert(eq(int, gp_init(n), 0));
	cr_assert(eq(int, gp_stats(&base), 0));
	if (n > 0)
		cr_assert(eq(long, base.nworkers, (long)n),
		    "the test needs exactly %d workers", n);
}

static void setup0(void) { init_workers(0); }
static void setup1(void) { init_workers(1); }
static void setup2(void) { init_workers(2); }
static void teardown(void) { cr_assert(eq(int, gp_shutdown(), 0)); }

/* A broken scheduler hangs instead of failing, so bound every test. */
TestSuite(sched, .init = setup0, .fini = teardown, .timeout = 30.0);
TestSuite(sched1, .init = setup1, .fini = teardown, .timeout = 30.0);
TestSuite(sched2, .init = setup2, .fini = teardown, .timeout = 30.0);
TestSuite(shutdown, .init = setup0, .fini = teardown, .timeout = 30.0);
TestSuite(firstuse, .fini = teardown, .timeout = 30.0);

/*
 * Criterion reports an assertion that fails in .fini but still counts the
 * test as passed (Snaipe/Criterion#211), so every test checks gp_shutdown()
 * itself as its last step; the .fini call only cleans up after a test that
 * stopped early (gp_shutdown() of a stopped runtime returns 0).
 */
static void
end_test(void)
{
	int rc = gp_shutdown();

	cr_assert(eq(int, rc, 0), "gp_shutdown: %s", strerror(errno));
}

static atomic_int arrived;
static atomic_int bad;

/* Wait on a host thread until *v >= n; 0 if it got there in time. */
static int
host_wait_for(atomic_int *v, int n, uint64_t timeout_ns)
{
	uint64_t end = tu_now_ns() + timeout_ns;

	while (atomic_load(v) < n) {
		if (tu_now_ns() >= end)
			return -1;
		tu_host_sleep_ns(TU_MS);
	}
	return 0;
}

/* Yield until *v >= n (in an LWP). */
static void
lwp_wait_for(atomic_int *v, int n)
{
	while (atomic_load(v) < n)
		gp_yield();
}

static void
join_all(gp_lwp_t *h, int n)
{
	int i;

	for (i = 0; i < n; i++)
		cr_assert(eq(int, gp_lwp_join(h[i], NULL), 0));
}

/* --- yield fairness (1 worker) ---------------------------------------- */

#define NFAIR	4
#define ROUNDS	1000

/* Touched only by LWPs of the single worker, so one kernel thread. */
static int fair_count[NFAIR];
static int fair_seq[NFAIR * ROUNDS];
static int fair_nseq;
static int fair_maxdiff;

static void *
fair_lwp(void *arg)
{
	int me = (int)(intptr_t)arg;
	int r, i, lo, hi;

	/* Start together, so that no LWP runs rounds alone. */
	atomic_fetch_add(&arrived, 1);
	lwp_wait_for(&arrived, NFAIR);
	for (r = 0; r < ROUNDS; r++) {
		fair_count[me]++;
		fair_seq[fair_nseq++] = me;
		lo = hi = fair_count[0];
		for (i = 1; i < NFAIR; i++) {
			if (fair_count[i] < lo)
				lo = fair_count[i];
			if (fair_count[i] > hi)
				hi = fair_count[i];
		}
		if (hi - lo > fair_maxdiff)
			fair_maxdiff = hi - lo;
		gp_yield();
	}
	return NULL;
}

Test(sched1, yield_runs_every_lwp_once_per_round)
{
	gp_lwp_t h[NFAIR];
	int i, r, seen, badrounds = 0;

	for (i = 0; i < NFAIR; i++)
		cr_assert(eq(int, gp_lwp_create(&h[i], fair_lwp,
		    (void *)(intptr_t)i, NULL), 0));
	join_all(h, NFAIR);

	cr_assert(eq(int, fair_nseq, NFAIR * ROUNDS));
	for (i = 0; i < NFAIR; i++)
		cr_assert(eq(int, fair_count[i], ROUNDS));
	cr_assert(le(int, fair_maxdiff, 1));
	/* Each window of NFAIR consecutive turns holds every LWP once. */
	for (r = 0; r < ROUNDS; r++) {
		seen = 0;
		for (i = 0; i < NFAIR; i++)
			seen |= 1 << fair_seq[r * NFAIR + i];
		if (seen != (1 << NFAIR) - 1)
			badrounds++;
	}
	cr_assert(eq(int, badrounds, 0));
	end_test();
}

/* --- errno per LWP (1 worker) ----------------------------------------- */

static atomic_int phase;
static int errno_a = -1, errno_b = -1;

static void *
errno_lwp_a(void *arg)
{
	errno = EINTR;
	atomic_store(&phase, 1);
	lwp_wait_for(&phase, 2);	/* B has set ENOENT on this worker */
	errno_a = errno;
	atomic_store(&phase, 3);
	return arg;
}

static void *
errno_lwp_b(void *arg)
{
	lwp_wait_for(&phase, 1);
	errno = ENOENT;
	atomic_store(&phase, 2);
	lwp_wait_for(&phase, 3);	/* A has read its errno */
	errno_b = errno;
	return arg;
}

Test(sched1, errno_is_kept_per_lwp_across_yields)
{
	gp_lwp_t h[2];

	cr_assert(eq(int, gp_lwp_create(&h[0], errno_lwp_a, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_create(&h[1], errno_lwp_b, NULL, NULL), 0));
	join_all(h, 2);
	cr_assert(eq(int, errno_a, EINTR));
	cr_assert(eq(int, errno_b, ENOENT));
	end_test();
}

#define NERRNO		3
#define ERRNO_ROUNDS	200

static void *
errno_rounds(void *arg)
{
	int me = (int)(intptr_t)arg;
	int r, want;

	atomic_fetch_add(&arrived, 1);
	lwp_wait_for(&arrived, NERRNO);
	for (r = 0; r < ERRNO_ROUNDS; r++) {
		want = 1000 * (me + 1) + r;
		errno = want;
		gp_yield();
		gp_yield();
		if (errno != want)
			atomic_fetch_add(&bad, 1);
	}
	return arg;
}

Test(sched1, errno_is_kept_per_lwp_over_many_rounds)
{
	gp_lwp_t h[NERRNO];
	int i;

	for (i = 0; i < NERRNO; i++)
		cr_assert(eq(int, gp_lwp_create(&h[i], errno_rounds,
		    (void *)(intptr_t)i, NULL), 0));
	join_all(h, NERRNO);
	cr_assert(eq(int, tu_ld(&bad), 0));
	end_test();
}

/* --- timers and unstarted LWPs behind busy yielders (1 worker) -------- */

/*
 * Two LWPs yield to each other without end while a third sleeps 5 ms and
 * one yielder creates a fourth: on one worker, the sleeper wakes only if
 * the busy worker checks its timers, and the new LWP starts only if
 * w_newq gets its turn while a timer is armed (sched.c, countdown_arm:
 * the pick's countdown serves both).  The yielders give up after 10 s,
 * so a broken countdown fails the test instead of hanging it.
 */
static atomic_int busy_woke, busy_started;
static _Atomic uint64_t busy_late_ns;

static void *
busy_sleeper(void *arg)
{
	uint64_t t0 = tu_now_ns();

	gp_nanosleep(&(struct timespec){ 0, 5 * TU_MS }, NULL);
	atomic_store(&busy_late_ns, tu_now_ns() - t0 - 5 * TU_MS);
	atomic_store(&busy_woke, 1);
	return arg;
}

static void *
busy_newcomer(void *arg)
{
	atomic_store(&busy_started, 1);
	return arg;
}

static void *
busy_yielder(void *arg)
{
	uint64_t give_up = tu_now_ns() + 10000 * TU_MS;
	gp_lwp_t c;

	if (arg != NULL && gp_lwp_create(&c, busy_newcomer, NULL, NULL) != 0)
		return (void *)1;
	while (!(atomic_load(&busy_woke) && atomic_load(&busy_started)) &&
	    tu_now_ns() < give_up)
		gp_yield();
	if (arg != NULL && gp_lwp_join(c, NULL) != 0)
		return (void *)1;
	return NULL;
}

Test(sched1, timers_and_new_lwps_run_behind_two_busy_yielders)
{
	gp_lwp_t s, a, b;
	void *ra, *rb;

	cr_assert(eq(int, gp_lwp_create(&s, busy_sleeper, NULL, NULL), 0));
	/* The sleeper first: its timer is armed before the yielders run. */
	gp_nanosleep(&(struct timespec){ 0, TU_MS }, NULL);
	cr_assert(eq(int, gp_lwp_create(&a, busy_yielder, (void *)1, NULL),
	    0));
	cr_assert(eq(int, gp_lwp_create(&b, busy_yielder, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(a, &ra), 0));
	cr_assert(eq(int, gp_lwp_join(b, &rb), 0));
	cr_assert(eq(int, gp_lwp_join(s, NULL), 0));
	cr_assert(eq(ptr, ra, NULL));
	cr_assert(eq(ptr, rb, NULL));
	cr_assert(eq(int, atomic_load(&busy_woke), 1));
	cr_assert(eq(int, atomic_load(&busy_started), 1));
	/* Woken by a busy worker's periodic check: late by far less than 1 s. */
	cr_assert(lt(u64, atomic_load(&busy_late_ns), (uint64_t)1000 * TU_MS));
	end_test();
}

/* --- gp_nanosleep ----------------------------------------------------- */

static const uint64_t naps[] = {
	100 * 1000, 1 * TU_MS, 2 * TU_MS, 3 * TU_MS, 5 * TU_MS, 10 * TU_MS,
	20 * TU_MS
};
#define NNAPS		(sizeof(naps) / sizeof(naps[0]))
#define LATE_SLACK	TU_S	/* generous: only catches lost wakeups */

static atomic_int early, late, errs;

/* Sleep each duration once; count errors, early and very late returns. */
static void
sleep_all_naps(void)
{
	struct timespec ts;
	uint64_t t0, dt;
	size_t i;

	for (i = 0; i < NNAPS; i++) {
		ts = tu_ts(naps[i]);
		t0 = tu_now_ns();
		if (gp_nanosleep(&ts, NULL) != 0) {
			atomic_fetch_add(&errs, 1);
			continue;
		}
		dt = tu_now_ns() - t0;
		if (dt < naps[i])
			atomic_fetch_add(&early, 1);
		if (dt > naps[i] + LATE_SLACK)
			atomic_fetch_add(&late, 1);
	}
}

static void *
sleep_naps_lwp(void *arg)
{
	sleep_all_naps();
	return arg;
}

#define NSLEEPERS	8

Test(sched, nanosleep_never_returns_early)
{
	gp_lwp_t h[NSLEEPERS];
	int i;

	/* LWPs sleeping concurrently over every worker ... */
	for (i = 0; i < NSLEEPERS; i++)
		cr_assert(eq(int, gp_lwp_create(&h[i], sleep_naps_lwp, NULL,
		    NULL), 0));
	/* ... and the host thread at the same time. */
	sleep_all_naps();
	join_all(h, NSLEEPERS);
	cr_assert(eq(int, tu_ld(&errs), 0));
	cr_assert(eq(int, tu_ld(&early), 0));
	cr_assert(eq(int, tu_ld(&late), 0));
	end_test();
}

static const struct timespec bad_ts[] = {
	{ 0, 1000000000L }, { 0, -1 }, { -1, 0 }, { 0, LONG_MAX },
	{ 1, LONG_MIN },
};
#define NBADTS	(sizeof(bad_ts) / sizeof(bad_ts[0]))

/* Returns how many bad timespecs were not refused with -1/EINVAL. */
static int
try_bad_timespecs(void)
{
	struct timespec zero = { 0, 0 };
	int n = 0;
	size_t i;

	for (i = 0; i < NBADTS; i++) {
		errno = 0;
		if (gp_nanosleep(&bad_ts[i], NULL) != -1 || errno != EINVAL)
			n++;
	}
	if (gp_nanosleep(&zero, NULL) != 0)
		n++;
	return n;
}

static void *
bad_timespec_lwp(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)try_bad_timespecs();
}

Test(sched, nanosleep_rejects_bad_timespec_with_einval)
{
	gp_lwp_t h;
	void *rv = (void *)-1;

	cr_assert(eq(int, try_bad_timespecs(), 0));
	cr_assert(eq(int, gp_lwp_create(&h, bad_timespec_lwp, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
	cr_assert(eq(int, (int)(intptr_t)rv, 0));
	end_test();
}

/* --- counters --------------------------------------------------------- */

#define NCOUNT	500

static void *
yield_or_nap(void *arg)
{
	struct timespec ts = tu_ts(20 * TU_MS);

	if ((intptr_t)arg % 2)
		gp_nanosleep(&ts, NULL);
	else
		gp_yield();
	return arg;
}

Test(sched, counters_of_live_lwps_and_stacks_go_back_to_zero_after_joins)
{
	gp_lwp_t h[NCOUNT];
	struct gp_counters st;
	int i, rc;

	cr_assert(eq(long, base.live_lwps, 0));
	cr_assert(eq(long, base.live_stacks, 0));
	for (i = 0; i < NCOUNT; i++)
		cr_assert(eq(int, gp_lwp_create(&h[i], yield_or_nap,
		    (void *)(intptr_t)i, NULL), 0));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(ge(long, st.live_lwps, 1L));
	cr_assert(ge(long, st.live_stacks, 1L));
	join_all(h, NCOUNT);

	rc = tu_wait_live(0, 0, 5 * TU_S, &st);
	cr_assert(eq(long, st.live_lwps, 0L));
	cr_assert(eq(long, st.live_stacks, 0L));
	cr_assert(eq(int, rc, 0));
	cr_assert(eq(ulong, st.lwps_created - base.lwps_created,
	    (unsigned long)NCOUNT));
	cr_assert(eq(ulong, st.lwps_reaped - base.lwps_reaped,
	    (unsigned long)NCOUNT));
	end_test();
}

/* --- idling ----------------------------------------------------------- */

#define IDLE_WINDOW	(300 * TU_MS)
#define IDLE_BUDGET	(5 * TU_MS)

Test(sched, idle_runtime_uses_no_cpu)
{
	gp_lwp_t h[64];
	uint64_t cpu;
	int i;

	/* Some work first, so every worker has run and gone idle. */
	for (i = 0; i < 64; i++)
		cr_assert(eq(int, gp_lwp_create(&h[i], yield_or_nap,
		    (void *)(intptr_t)i, NULL), 0));
	join_all(h, 64);

	cpu = tu_cpu_ns();
	tu_host_sleep_ns(IDLE_WINDOW);
	cpu = tu_cpu_ns() - cpu;
	cr_assert(lt(u64, cpu, (uint64_t)IDLE_BUDGET),
	    "%.3f ms of CPU over %llu ms idle", cpu / 1e6,
	    (unsigned long long)(IDLE_WINDOW / TU_MS));
	end_test();
}

static void *
long_nap(void *arg)
{
	struct timespec ts = tu_ts(IDLE_WINDOW + 300 * TU_MS);

	atomic_fetch_add(&arrived, 1);
	if (gp_nanosleep(&ts, NULL) != 0)
		atomic_fetch_add(&errs, 1);
	return arg;
}

Test(sched, sleeping_lwps_use_no_cpu)
{
	gp_lwp_t h[4];
	uint64_t cpu;
	int i;

	for (i = 0; i < 4; i++)
		cr_assert(eq(int, gp_lwp_create(&h[i], long_nap, NULL, NULL),
		    0));
	cr_assert(eq(int, host_wait_for(&arrived, 4, 5 * TU_S), 0));
	tu_host_sleep_ns(50 * TU_MS);
	cpu = tu_cpu_ns();
	tu_host_sleep_ns(IDLE_WINDOW);
	cpu = tu_cpu_ns() - cpu;
	join_all(h, 4);
	cr_assert(eq(int, tu_ld(&errs), 0));
	cr_assert(lt(u64, cpu, (uint64_t)IDLE_BUDGET),
	    "%.3f ms of CPU over %llu ms with only sleepers", cpu / 1e6,
	    (unsigned long long)(IDLE_WINDOW / TU_MS));
	end_test();
}

/* --- work stealing (2 workers) ---------------------------------------- */

#define NBUSY	16
#define BUSY	(20 * TU_MS)

static atomic_int busy_tid[NBUSY];	/* kernel tid that ran each */

static void *
busy_lwp(void *arg)
{
	atomic_store(&busy_tid[(intptr_t)arg], (int)syscall(SYS_gettid));
	tu_spin_ns(BUSY);		/* no yield: only a thief helps */
	return arg;
}

static void *
busy_spawner(void *arg)
{
	gp_lwp_t h[NBUSY];
	intptr_t i, n = 0;

	(void)arg;
	for (i = 0; i < NBUSY; i++)
		if (gp_lwp_create(&h[i], busy_lwp, (void *)i, NULL) != 0)
			return (void *)(intptr_t)-1;
	for (i = 0; i < NBUSY; i++)
		if (gp_lwp_join(h[i], NULL) != 0)
			n++;
	return (void *)n;
}

static int
distinct_busy_tids(void)
{
	int i, j, n = 0;

	for (i = 0; i < NBUSY; i++) {
		if (atomic_load(&busy_tid[i]) == 0)
			continue;
		for (j = 0; j < i; j++)
			if (atomic_load(&busy_tid[j]) ==
			    atomic_load(&busy_tid[i]))
				break;
		if (j == i)
			n++;
	}
	return n;
}

Test(sched2, idle_worker_steals_unstarted_lwps_of_a_busy_one)
{
	struct gp_counters st;
	gp_lwp_t h;
	void *rv = (void *)-1;
	int i;

	/* The children queue on the spawner's worker; the other must steal. */
	cr_assert(eq(int, gp_lwp_create(&h, busy_spawner, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
	cr_assert(eq(long, (long)(intptr_t)rv, 0L));
	for (i = 0; i < NBUSY; i++)
		cr_assert(ne(int, tu_ld(&busy_tid[i]), 0));
	cr_assert(ge(int, distinct_busy_tids(), 2));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(ge(ulong, st.steals - base.steals, 1UL));
	end_test();
}

Test(sched2, lwps_made_by_a_host_thread_use_both_workers)
{
	gp_lwp_t h[NBUSY];
	intptr_t i;

	for (i = 0; i < NBUSY; i++)
		cr_assert(eq(int, gp_lwp_create(&h[i], busy_lwp, (void *)i,
		    NULL), 0));
	join_all(h, NBUSY);
	cr_assert(ge(int, distinct_busy_tids(), 2));
	end_test();
}

/*
 * Long-lived LWPs from a host thread end up evenly spread: a started LWP
 * never migrates, so placement is all the balancing they get.  Placed
 * back to back while the workers wake up, and each churning short-lived
 * children that move its worker's load up and down.  Several rounds.
 */
#define NTREE		4
#define TREE_ROUNDS	10

static atomic_int tree_tid[NTREE], tree_stop;

static void *
tree_child(void *arg)
{
	return arg;
}

static void *
tree_root(void *arg)
{
	gp_lwp_t c;

	atomic_store(&tree_tid[(intptr_t)arg], (int)syscall(SYS_gettid));
	while (!atomic_load(&tree_stop))
		if (gp_lwp_create(&c, tree_child, NULL, NULL) == 0)
			gp_lwp_join(c, NULL);
	return arg;
}

Test(sched2, long_lived_lwps_of_a_host_thread_are_spread_evenly)
{
	gp_lwp_t h[NTREE];
	intptr_t i;
	int j, r, same;

	for (r = 0; r < TREE_ROUNDS; r++) {
		atomic_store(&tree_stop, 0);
		for (i = 0; i < NTREE; i++) {
			atomic_store(&tree_tid[i], 0);
			cr_assert(eq(int, gp_lwp_create(&h[i], tree_root,
			    (void *)i, NULL), 0));
		}
		for (i = 0; i < NTREE; i++)
			while (tu_ld(&tree_tid[i]) == 0)
				tu_host_sleep_ns(TU_MS);
		atomic_store(&tree_stop, 1);
		join_all(h, NTREE);
		for (i = 0; i < NTREE; i++) {
			for (j = 0, same = 0; j < NTREE; j++)
				same += tu_ld(&tree_tid[j]) ==
				    tu_ld(&tree_tid[i]);
			cr_assert(eq(int, same, NTREE / 2), "round %d: root "
			    "%d shares its worker with %d roots in all", r,
			    (int)i, same);
		}
		tu_host_sleep_ns(5 * TU_MS);	/* workers park again */
	}
	end_test();
}

/* --- gp_init ---------------------------------------------------------- */

Test(sched, init_is_idempotent)
{
	struct gp_counters st;

	cr_assert(eq(int, gp_init(0), 0));
	cr_assert(eq(int, gp_init(3), 0));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(eq(long, st.nworkers, base.nworkers));
	if (getenv("GREENPROC_WORKERS") == NULL)
		cr_assert(eq(long, st.nworkers, sysconf(_SC_NPROCESSORS_ONLN)));
	end_test();
}

static void *
ret_42(void *arg)
{
	(void)arg;
	gp_yield();
	return (void *)(intptr_t)42;
}

Test(firstuse, first_lwp_create_starts_the_runtime)
{
	struct gp_counters st;
	gp_lwp_t h;
	void *rv = NULL;

	cr_assert(eq(int, gp_lwp_create(&h, ret_42, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
	cr_assert(eq(long, (long)(intptr_t)rv, 42L));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(ge(long, st.nworkers, 1L));
	end_test();
}

/* --- gp_shutdown with live LWPs --------------------------------------- */

#define NSLEEP_SD	20
#define NJOIN_SD	10
#define SD_PROMPT	(1500 * TU_MS)	/* under GREENPROC_EXIT_TIMEOUT_MS */

static atomic_int after_block;

static void *
sleep_a_minute(void *arg)
{
	struct timespec ts = { 60, 0 };

	atomic_fetch_add(&arrived, 1);
	gp_nanosleep(&ts, NULL);
	atomic_fetch_add(&after_block, 1);	/* must never run */
	return arg;
}

static void *
join_sleeper(void *arg)
{
	atomic_fetch_add(&arrived, 1);
	gp_lwp_join(arg, NULL);
	atomic_fetch_add(&after_block, 1);	/* must never run */
	return NULL;
}

static void *
yield_forever(void *arg)
{
	atomic_fetch_add(&arrived, 1);
	for (;;)
		gp_yield();
	return arg;
}

/* After a shutdown: gp_init() works again and an LWP runs. */
static void
assert_runtime_restarts(void)
{
	gp_lwp_t h;
	void *rv = NULL;

	cr_assert(eq(int, gp_init(0), 0));
	cr_assert(eq(int, gp_lwp_create(&h, ret_42, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
	cr_assert(eq(long, (long)(intptr_t)rv, 42L));
}

/* Time one gp_shutdown(); assert it returned 0 promptly. */
static void
assert_prompt_shutdown(void)
{
	uint64_t t0, dt;
	int rc;

	t0 = tu_now_ns();
	rc = gp_shutdown();
	dt = tu_now_ns() - t0;
	cr_assert(eq(int, rc, 0));
	cr_assert(lt(u64, dt, (uint64_t)SD_PROMPT), "gp_shutdown took %.1f ms",
	    dt / 1e6);
}

Test(shutdown, ends_lwps_blocked_in_sleeps_and_joins_promptly)
{
	gp_lwp_t s[NSLEEP_SD], j[NJOIN_SD];
	int i;

	for (i = 0; i < NSLEEP_SD; i++)
		cr_assert(eq(int, gp_lwp_create(&s[i], sleep_a_minute, NULL,
		    NULL), 0));
	for (i = 0; i < NJOIN_SD; i++)
		cr_assert(eq(int, gp_lwp_create(&j[i], join_sleeper, s[i],
		    NULL), 0));
	cr_assert(eq(int, host_wait_for(&arrived, NSLEEP_SD + NJOIN_SD,
	    5 * TU_S), 0));
	tu_host_sleep_ns(50 * TU_MS);	/* let them all block */

	assert_prompt_shutdown();
	cr_assert(eq(int, tu_ld(&after_block), 0));
	assert_runtime_restarts();
	end_test();
}

Test(shutdown, ends_1000_just_created_lwps)
{
	gp_lwp_t h;
	int i;

	for (i = 0; i < 1000; i++)
		cr_assert(eq(int, gp_lwp_create(&h, sleep_a_minute, NULL, NULL),
		    0));
	assert_prompt_shutdown();
	assert_runtime_restarts();
	end_test();
}

Test(shutdown, ends_lwps_that_loop_on_yield)
{
	gp_lwp_t h[4];
	int i;

	for (i = 0; i < 4; i++)
		cr_assert(eq(int, gp_lwp_create(&h[i], yield_forever, NULL,
		    NULL), 0));
	cr_assert(eq(int, host_wait_for(&arrived, 4, 5 * TU_S), 0));
	assert_prompt_shutdown();
	assert_runtime_restarts();
	end_test();
}
