/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_lwp.c -- green LWPs: create, join, detach, exit, self, stacks.
 *
 * Criterion asserts run only on the host thread of the test: an LWP that
 * sees something wrong counts it in an atomic, and the test asserts on the
 * counts after the joins.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <alloca.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "greenproc.h"
#include "testutil.h"

static struct gp_counters base;	/* Reading right after gp_init(). */

static void
setup(void)
{
	cr_assert(eq(int, gp_init(0), 0));
	cr_assert(eq(int, gp_stats(&base), 0));
}

static void
teardown(void)
{
	cr_assert(eq(int, gp_shutdown(), 0));
}

/* A broken join or reaper hangs instead of failing, so bound every test. */
TestSuite(lwp, .init = setup, .fini = teardown, .timeout = 60.0);

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

/* Wait for live LWPs and stacks to return to the reading after gp_init(). */
static void
assert_back_to_base(void)
{
	struct gp_counters st;
	int rc;

	rc = tu_wait_live(base.live_lwps, base.live_stacks, 5 * TU_S, &st);
	cr_assert(eq(long, st.live_lwps, base.live_lwps));
	cr_assert(eq(long, st.live_stacks, base.live_stacks));
	cr_assert(eq(int, rc, 0));
}

/* --- 100k LWPs, created and joined in batches ------------------------- */

#define TOTAL	100000
#define BATCH	1000

static atomic_long ran;

static void *
ret_arg_plus_one(void *arg)
{
	atomic_fetch_add_explicit(&ran, 1, memory_order_relaxed);
	return (void *)((uintptr_t)arg + 1);
}

/*
 * Create TOTAL LWPs, BATCH at a time, and join each batch.  Returns the
 * number of failed creates, failed joins and wrong return values.  Runs on
 * a host thread or in an LWP.
 */
static long
create_join_batches(void)
{
	static gp_lwp_t h[BATCH];
	long bad = 0;
	int b, i, n;
	void *rv;

	for (b = 0; b < TOTAL / BATCH; b++) {
		for (n = 0; n < BATCH; n++) {
			uintptr_t arg = (uintptr_t)(b * BATCH + n);
			if (gp_lwp_create(&h[n], ret_arg_plus_one, (void *)arg,
			    NULL) != 0) {
				bad++;
				break;
			}
		}
		for (i = 0; i < n; i++) {
			rv = NULL;
			if (gp_lwp_join(h[i], &rv) != 0)
				bad++;
			else if ((uintptr_t)rv !=
			    (uintptr_t)(b * BATCH + i) + 1)
				bad++;
		}
	}
	return bad;
}

static void *
batch_driver(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)create_join_batches();
}

Test(lwp, creates_and_joins_100k_from_host_thread)
{
	struct gp_counters st;

	cr_assert(eq(long, create_join_batches(), 0));
	cr_assert(eq(long, tu_ldl(&ran), TOTAL));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(ge(ulong, st.lwps_created - base.lwps_created,
	    (unsigned long)TOTAL));
	assert_back_to_base();
	end_test();
}

Test(lwp, creates_and_joins_100k_from_an_lwp)
{
	gp_lwp_t d;
	void *rv = (void *)-1;

	cr_assert(eq(int, gp_lwp_create(&d, batch_driver, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(d, &rv), 0));
	cr_assert(eq(long, (long)(intptr_t)rv, 0));
	cr_assert(eq(long, tu_ldl(&ran), TOTAL));
	assert_back_to_base();
	end_test();
}

/* --- 10k LWPs alive at once, sleeping --------------------------------- */

#define NSLEEP	10000
#define NAP	(50 * TU_MS)

static atomic_int arrived;
static atomic_int release;
static atomic_int early;
static atomic_int errs;

static void *
napper(void *arg)
{
	struct timespec ts = tu_ts(NAP);
	uint64_t t0;

	atomic_fetch_add(&arrived, 1);
	do {
		t0 = tu_now_ns();
		if (gp_nanosleep(&ts, NULL) != 0)
			atomic_fetch_add(&errs, 1);
		else if (tu_now_ns() - t0 < NAP)
			atomic_fetch_add(&early, 1);
	} while (!atomic_load(&release));
	return arg;
}

Test(lwp, keeps_10k_sleeping_lwps_alive_at_once)
{
	gp_lwp_t *h;
	struct gp_counters st;
	uint64_t end;
	long bad = 0;
	void *rv;
	int i;

	h = calloc(NSLEEP, sizeof(*h));
	cr_assert(not(eq(ptr, h, NULL)));
	for (i = 0; i < NSLEEP; i++)
		cr_assert(eq(int, gp_lwp_create(&h[i], napper,
		    (void *)(intptr_t)i, NULL), 0));

	/* All of them must be in their first sleep at the same time. */
	end = tu_now_ns() + 20 * TU_S;
	while (atomic_load(&arrived) < NSLEEP && tu_now_ns() < end)
		tu_host_sleep_ns(TU_MS);
	cr_assert(eq(int, tu_ld(&arrived), NSLEEP));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(ge(long, st.live_lwps - base.live_lwps, (long)NSLEEP));

	atomic_store(&release, 1);
	for (i = 0; i < NSLEEP; i++) {
		rv = NULL;
		if (gp_lwp_join(h[i], &rv) != 0 || rv != (void *)(intptr_t)i)
			bad++;
	}
	free(h);
	cr_assert(eq(long, bad, 0));
	cr_assert(eq(int, tu_ld(&errs), 0));
	cr_assert(eq(int, tu_ld(&early), 0));
	assert_back_to_base();
	end_test();
}

/* --- join and detach errors ------------------------------------------- */

static atomic_int self_join_rc = -1;

static void *
join_self(void *arg)
{
	atomic_store(&self_join_rc, gp_lwp_join(gp_lwp_self(), NULL));
	return arg;
}

Test(lwp, join_of_self_is_edeadlk)
{
	gp_lwp_t h;

	cr_assert(eq(int, gp_lwp_create(&h, join_self, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, NULL), 0));
	cr_assert(eq(int, tu_ld(&self_join_rc), EDEADLK));
	end_test();
}

/* Sleeps in short naps until release is set, so its handle stays valid. */
static void *
wait_release(void *arg)
{
	struct timespec ts = tu_ts(TU_MS);

	atomic_fetch_add(&arrived, 1);
	while (!atomic_load(&release))
		gp_nanosleep(&ts, NULL);
	return arg;
}

Test(lwp, join_of_detached_and_second_detach_are_einval)
{
	gp_lwp_t h;

	cr_assert(eq(int, gp_lwp_create(&h, wait_release, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_detach(h), 0));
	/* h is alive (it waits for release), so its handle is still valid. */
	cr_assert(eq(int, gp_lwp_join(h, NULL), EINVAL));
	cr_assert(eq(int, gp_lwp_detach(h), EINVAL));
	atomic_store(&release, 1);
	assert_back_to_base();
	end_test();
}

Test(lwp, join_and_detach_of_attr_detached_are_einval)
{
	gp_attr_t *a;
	gp_lwp_t h;

	cr_assert(eq(int, gp_attr_init(&a), 0));
	cr_assert(eq(int, gp_attr_setdetached(a, 1), 0));
	cr_assert(eq(int, gp_lwp_create(&h, wait_release, NULL, a), 0));
	cr_assert(eq(int, gp_attr_destroy(a), 0));
	cr_assert(eq(int, gp_lwp_join(h, NULL), EINVAL));
	cr_assert(eq(int, gp_lwp_detach(h), EINVAL));
	atomic_store(&release, 1);
	assert_back_to_base();
	end_test();
}

/* The same checks made by another LWP rather than by the host thread. */
static void *
join_detach_checker(void *arg)
{
	gp_lwp_t h = arg;
	intptr_t bad = 0;

	if (gp_lwp_detach(h) != 0)
		bad |= 1;
	if (gp_lwp_join(h, NULL) != EINVAL)
		bad |= 2;
	if (gp_lwp_detach(h) != EINVAL)
		bad |= 4;
	return (void *)bad;
}

Test(lwp, join_of_detached_is_einval_from_an_lwp)
{
	gp_lwp_t h, c;
	void *rv = (void *)-1;

	cr_assert(eq(int, gp_lwp_create(&h, wait_release, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_create(&c, join_detach_checker, h, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(c, &rv), 0));
	cr_assert(eq(long, (long)(intptr_t)rv, 0));
	atomic_store(&release, 1);
	assert_back_to_base();
	end_test();
}

/* Detaching an LWP that has already ended (unjoined) reaps it. */
static atomic_int done;

static void *
set_done(void *arg)
{
	atomic_store(&done, 1);
	return arg;
}

Test(lwp, detach_of_ended_lwp_reaps_it)
{
	gp_lwp_t h;
	uint64_t end;

	cr_assert(eq(int, gp_lwp_create(&h, set_done, NULL, NULL), 0));
	end = tu_now_ns() + 5 * TU_S;
	while (!atomic_load(&done) && tu_now_ns() < end)
		tu_host_sleep_ns(TU_MS);
	cr_assert(eq(int, tu_ld(&done), 1));
	tu_host_sleep_ns(20 * TU_MS);	/* let it finish returning */
	cr_assert(eq(int, gp_lwp_detach(h), 0));
	assert_back_to_base();
	end_test();
}

/* --- return values ---------------------------------------------------- */

struct box {
	int	 b_in;
	int	 b_out;
};

static void *
fill_box(void *arg)
{
	struct box *b = arg;

	b->b_out = b->b_in * 3;
	return b;
}

Test(lwp, join_passes_the_return_value)
{
	struct box b = { 14, 0 };
	gp_lwp_t h;
	void *rv = NULL;

	cr_assert(eq(int, gp_lwp_create(&h, fill_box, &b, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
	cr_assert(eq(ptr, rv, &b));
	cr_assert(eq(int, b.b_out, 42));

	/* A NULL retval pointer is fine. */
	cr_assert(eq(int, gp_lwp_create(&h, fill_box, &b, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, NULL), 0));
	end_test();
}

static atomic_int after_exit;

/* Calls gp_lwp_exit() from depth frames down; never returns in practice. */
static int
exit_deep(int depth)
{
	if (depth == 0)
		gp_lwp_exit((void *)(uintptr_t)0xdead);
	if (depth > 100)
		return -1;
	return exit_deep(depth - 1) + 1;
}

static void *
exit_from_nested_call(void *arg)
{
	(void)arg;
	gp_yield();
	(void)exit_deep(5);
	atomic_store(&after_exit, 1);
	return NULL;
}

Test(lwp, lwp_exit_value_is_seen_by_join)
{
	gp_lwp_t h;
	void *rv = NULL;

	cr_assert(eq(int, gp_lwp_create(&h, exit_from_nested_call, NULL,
	    NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
	cr_assert(eq(ptr, rv, (void *)(uintptr_t)0xdead));
	cr_assert(eq(int, tu_ld(&after_exit), 0));
	assert_back_to_base();
	end_test();
}

/* --- gp_lwp_self ------------------------------------------------------ */

static _Atomic uintptr_t self_before, self_after;

static void *
record_self(void *arg)
{
	atomic_store(&self_before, (uintptr_t)gp_lwp_self());
	gp_yield();
	atomic_store(&self_after, (uintptr_t)gp_lwp_self());
	return arg;
}

Test(lwp, lwp_self_is_null_on_host_and_the_handle_in_an_lwp)
{
	gp_lwp_t h;
	uintptr_t hv;

	cr_assert(eq(ptr, (void *)gp_lwp_self(), NULL));
	cr_assert(eq(int, gp_lwp_create(&h, record_self, NULL, NULL), 0));
	hv = (uintptr_t)h;
	cr_assert(eq(int, gp_lwp_join(h, NULL), 0));
	cr_assert(ne(uptr, tu_ldp(&self_before), (uintptr_t)0));
	cr_assert(eq(uptr, tu_ldp(&self_before), hv));
	cr_assert(eq(uptr, tu_ldp(&self_after), hv));
	cr_assert(eq(ptr, (void *)gp_lwp_self(), NULL));
	end_test();
}

/* --- stacks and attributes -------------------------------------------- */

#define BIG_STACK	(1024 * 1024)
#define BIG_LOCALS	(512 * 1024)

static void *
use_big_locals(void *arg)
{
	volatile unsigned char *p;
	unsigned long sum = 0;
	size_t i;

	(void)arg;
	p = alloca(BIG_LOCALS);
	for (i = 0; i < BIG_LOCALS; i++)
		p[i] = (unsigned char)i;
	gp_yield();		/* the locals must survive a switch */
	for (i = 0; i < BIG_LOCALS; i++)
		sum += p[i];
	return (void *)(uintptr_t)sum;
}

Test(lwp, honours_a_1mib_stack_size)
{
	unsigned long want = 0;
	gp_attr_t *a;
	gp_lwp_t h;
	size_t sz = 0;
	void *rv = NULL;
	size_t i;

	for (i = 0; i < BIG_LOCALS; i++)
		want += (unsigned char)i;
	cr_assert(eq(int, gp_attr_init(&a), 0));
	cr_assert(eq(int, gp_attr_setstacksize(a, BIG_STACK), 0));
	cr_assert(eq(int, gp_attr_getstacksize(a, &sz), 0));
	cr_assert(ge(sz, sz, (size_t)BIG_STACK));
	cr_assert(eq(int, gp_lwp_create(&h, use_big_locals, NULL, a), 0));
	cr_assert(eq(int, gp_attr_destroy(a), 0));
	cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
	cr_assert(eq(ulong, (unsigned long)(uintptr_t)rv, want));
	assert_back_to_base();
	end_test();
}

Test(lwp, setstacksize_rejects_unusable_sizes)
{
	static const size_t bad[] = { 0, 1, 100, SIZE_MAX, SIZE_MAX - 4095 };
	gp_attr_t *a;
	size_t i, sz = 0;

	cr_assert(eq(int, gp_attr_init(&a), 0));
	cr_assert(eq(int, gp_attr_setstacksize(a, 64 * 1024), 0));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(eq(int, gp_attr_setstacksize(a, bad[i]), EINVAL),
		    "size %zu", bad[i]);
	/* A rejected size leaves the attribute as it was, and usable. */
	cr_assert(eq(int, gp_attr_getstacksize(a, &sz), 0));
	cr_assert(ge(sz, sz, (size_t)64 * 1024));
	cr_assert(lt(sz, sz, (size_t)BIG_STACK));
	cr_assert(eq(int, gp_attr_setstacksize(a, BIG_STACK), 0));
	cr_assert(eq(int, gp_attr_destroy(a), 0));
	end_test();
}

/*
 * gp_attr_setguardsize: rounded up to pages, 0 allowed, the default one
 * page; EINVAL for a NULL attribute or a size past 1 GiB.  LWPs of each
 * guard run their big locals, and every stack is given back (own
 * mappings unmapped, slab ones cached).
 */
Test(lwp, guard_sizes_are_set_and_used)
{
	static const size_t ask[] = { 0, 1, 4096, 3 * 4096, 64 * 1024 };
	static const size_t got[] = { 0, 4096, 4096, 3 * 4096, 64 * 1024 };
	unsigned long want = 0;
	size_t i, g = 1;
	gp_attr_t *a;
	gp_lwp_t h;
	void *rv;

	for (i = 0; i < BIG_LOCALS; i++)
		want += (unsigned char)i;
	cr_assert(eq(int, gp_attr_init(&a), 0));
	cr_assert(eq(int, gp_attr_getguardsize(a, &g), 0));
	cr_assert(eq(sz, g, (size_t)sysconf(_SC_PAGESIZE)));
	cr_assert(eq(int, gp_attr_setguardsize(NULL, 0), EINVAL));
	cr_assert(eq(int, gp_attr_getguardsize(a, NULL), EINVAL));
	cr_assert(eq(int, gp_attr_setguardsize(a, SIZE_MAX), EINVAL));
	cr_assert(eq(int, gp_attr_setstacksize(a, BIG_STACK), 0));
	for (i = 0; i < sizeof(ask) / sizeof(ask[0]); i++) {
		cr_assert(eq(int, gp_attr_setguardsize(a, ask[i]), 0));
		cr_assert(eq(int, gp_attr_getguardsize(a, &g), 0));
		cr_assert(eq(sz, g, got[i]), "asked %zu", ask[i]);
		rv = NULL;
		cr_assert(eq(int, gp_lwp_create(&h, use_big_locals, NULL, a),
		    0));
		cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
		cr_assert(eq(ulong, (unsigned long)(uintptr_t)rv, want));
	}
	cr_assert(eq(int, gp_attr_destroy(a), 0));
	assert_back_to_base();
	end_test();
}

/* --- caller's stacks ---------------------------------------------------- */

#define USTACK	(64 * 1024)

struct ustack {
	char	*lo;
	size_t	 size;
};

/* Count every frame of this LWP that is not on the stack it was given. */
static void *
check_ustack(void *arg)
{
	const struct ustack *u = arg;
	volatile char pad[8 * 1024];

	pad[0] = 1;
	if ((char *)pad < u->lo || (char *)pad + sizeof(pad) > u->lo + u->size)
		atomic_fetch_add(&ran, 1000000);
	gp_yield();		/* switched away from the caller's stack */
	if (pad[0] != 1)
		atomic_fetch_add(&ran, 1000000);
	atomic_fetch_add(&ran, 1);
	return NULL;
}

/*
 * gp_attr_setstack: the LWP runs on the caller's memory, which the
 * runtime neither caches nor frees: the same stack serves one LWP after
 * another (each joined first), then is unmapped, and the runtime's own
 * stacks are all back in their caches.
 */
Test(lwp, runs_on_the_callers_stack_and_leaves_it_to_the_caller)
{
	struct ustack u = { NULL, USTACK };
	gp_attr_t *a;
	gp_lwp_t h;
	int i;

	u.lo = mmap(NULL, USTACK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ne(ptr, u.lo, MAP_FAILED));
	atomic_store(&ran, 0);
	cr_assert(eq(int, gp_attr_init(&a), 0));
	cr_assert(eq(int, gp_attr_setstack(a, u.lo, 1000), EINVAL));
	cr_assert(eq(int, gp_attr_setstack(a, NULL, USTACK), EINVAL));
	cr_assert(eq(int, gp_attr_setstack(a, u.lo, USTACK), 0));
	for (i = 0; i < 1000; i++) {
		cr_assert(eq(int, gp_lwp_create(&h, check_ustack, &u, a), 0));
		cr_assert(eq(int, gp_lwp_join(h, NULL), 0));
	}
	cr_assert(eq(int, gp_attr_destroy(a), 0));
	cr_assert(eq(long, atomic_load(&ran), 1000));
	cr_assert(eq(int, munmap(u.lo, USTACK), 0));
	/* Unmapped: LWPs made now must not land there. */
	cr_assert(eq(int, gp_lwp_create(&h, ret_arg_plus_one, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, NULL), 0));
	assert_back_to_base();
	end_test();
}

/* --- detached LWPs ---------------------------------------------------- */

#define NDETACHED	1000

static void *
count_and_yield(void *arg)
{
	gp_yield();
	atomic_fetch_add(&ran, 1);
	return arg;
}

Test(lwp, detached_lwps_run_and_are_reaped)
{
	gp_attr_t *a;
	gp_lwp_t h;
	uint64_t end;
	int i;

	cr_assert(eq(int, gp_attr_init(&a), 0));
	cr_assert(eq(int, gp_attr_setdetached(a, 1), 0));
	for (i = 0; i < NDETACHED; i++)
		cr_assert(eq(int, gp_lwp_create(&h, count_and_yield, NULL, a),
		    0));
	cr_assert(eq(int, gp_attr_destroy(a), 0));
	end = tu_now_ns() + 10 * TU_S;
	while (atomic_load(&ran) < NDETACHED && tu_now_ns() < end)
		tu_host_sleep_ns(TU_MS);
	cr_assert(eq(long, tu_ldl(&ran), NDETACHED));
	assert_back_to_base();
	end_test();
}

/* --- a join across processes, on one worker ---------------------------- */

/*
 * An LWP of a child process joined by an LWP of its parent, both on one
 * worker: the exiting LWP hands off to a joiner of another process, so it
 * goes through the dead list (gpi_reaplwps sets DEAD), not the early DEAD
 * of a same-process hand-off (lwp.c, lwp_die), and its process frees it
 * from p_zlwps at the join.
 */
#define XJOIN_ROUNDS	1000

static _Atomic(gp_lwp_t) xj_handle;
static atomic_int xj_go, xj_joined;

/* Ends only once the driver is about to join: it ends under the join. */
static void *
xj_ret(void *arg)
{
	while (!atomic_load(&xj_go))
		gp_yield();
	return (void *)((uintptr_t)arg + 1);
}

/* The child process: make the LWP, hand it over, wait for the join. */
static int
xj_child(void *arg)
{
	gp_lwp_t h;

	if (gp_lwp_create(&h, xj_ret, arg, NULL) != 0)
		return 1;
	atomic_store(&xj_handle, h);
	while (!atomic_load(&xj_joined))
		gp_yield();
	return 0;
}

static void *
xj_driver(void *arg)
{
	long bad = 0;
	uintptr_t i;
	gp_lwp_t h;
	pid_t pid;
	void *rv;
	int st;

	(void)arg;
	for (i = 0; i < XJOIN_ROUNDS; i++) {
		atomic_store(&xj_handle, NULL);
		atomic_store(&xj_go, 0);
		atomic_store(&xj_joined, 0);
		if ((pid = gp_spawn(xj_child, (void *)i, NULL)) < 0)
			return (void *)-1;
		while ((h = atomic_load(&xj_handle)) == NULL)
			gp_yield();
		rv = NULL;
		/* No switch before the join: the LWP cannot end first. */
		atomic_store(&xj_go, 1);
		if (gp_lwp_join(h, &rv) != 0 || (uintptr_t)rv != i + 1)
			bad++;
		atomic_store(&xj_joined, 1);
		if (gp_waitpid(pid, &st, 0) != pid || st != 0)
			bad++;
	}
	return (void *)bad;
}

Test(lwp, joins_an_lwp_of_another_process_on_one_worker)
{
	gp_lwp_t d;
	void *rv = (void *)-1;

	cr_assert(eq(int, gp_lwp_create(&d, xj_driver, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(d, &rv), 0));
	cr_assert(eq(long, (long)(intptr_t)rv, 0));
	assert_back_to_base();
	end_test();
}

/* --- what a switch must keep ------------------------------------------ */

/*
 * The switch keeps only rsp, rbp and the resume address, and tells the
 * compiler every other register is lost (runtime/arch/x86_64/switch.h):
 * what a caller of gp_yield() keeps in callee-saved registers, and the
 * stack alignment a new LWP starts with, rest on that.  Many LWPs on one
 * worker, each with more live integers and doubles than there are
 * registers, yield to each other and check every value after each yield;
 * then the same with every callee-saved register (x86-64) set by hand.
 */
#define KEEP_LWPS	16
#define KEEP_ROUNDS	2000

static atomic_int keep_bad;

static __attribute__((__noinline__)) long
keep_values(long seed)
{
	long a = seed, b = seed * 3, c = seed * 5, d = seed * 7, e = seed * 11;
	long f = seed * 13, g = seed * 17, h = seed * 19;
	double x = (double)seed, y = x * 0.5, z = x * 0.25, t = x * 0.125;
	long bad = 0;
	int i;

	for (i = 0; i < KEEP_ROUNDS; i++) {
		gp_yield();
		if (a != seed + i || b != seed * 3 + i || c != seed * 5 + i ||
		    d != seed * 7 + i || e != seed * 11 + i ||
		    f != seed * 13 + i || g != seed * 17 + i ||
		    h != seed * 19 + i)
			bad++;
		if (x != (double)seed + i || y != (double)seed * 0.5 + i ||
		    z != (double)seed * 0.25 + i ||
		    t != (double)seed * 0.125 + i)
			bad++;
		a++, b++, c++, d++, e++, f++, g++, h++;
		x += 1.0, y += 1.0, z += 1.0, t += 1.0;
	}
	return bad;
}

#if defined(__x86_64__)
/*
 * void keep_regs(uint64_t seed, uint64_t out[6]): rbx, rbp, r12-r15 =
 * seed, seed + 1, ... seed + 5, then gp_yield(), then what they hold
 * into out[].  In assembly: the compiler alone decides what it keeps in
 * which register, this makes every callee-saved one carry a value.
 */
__asm__(
    "	.text\n"
    "	.p2align 4\n"
    "	.type	keep_regs, @function\n"
    "keep_regs:\n"
    "	.cfi_startproc\n"
    "	pushq	%rbx\n"
    "	.cfi_adjust_cfa_offset 8\n"
    "	pushq	%rbp\n"
    "	.cfi_adjust_cfa_offset 8\n"
    "	pushq	%r12\n"
    "	.cfi_adjust_cfa_offset 8\n"
    "	pushq	%r13\n"
    "	.cfi_adjust_cfa_offset 8\n"
    "	pushq	%r14\n"
    "	.cfi_adjust_cfa_offset 8\n"
    "	pushq	%r15\n"
    "	.cfi_adjust_cfa_offset 8\n"
    "	pushq	%rsi\n"		/* out; rsp is 16-byte aligned */
    "	.cfi_adjust_cfa_offset 8\n"
    "	movq	%rdi, %rbx\n"
    "	leaq	1(%rdi), %rbp\n"
    "	leaq	2(%rdi), %r12\n"
    "	leaq	3(%rdi), %r13\n"
    "	leaq	4(%rdi), %r14\n"
    "	leaq	5(%rdi), %r15\n"
    "	call	gp_yield@PLT\n"
    "	popq	%rsi\n"
    "	.cfi_adjust_cfa_offset -8\n"
    "	movq	%rbx, 0(%rsi)\n"
    "	movq	%rbp, 8(%rsi)\n"
    "	movq	%r12, 16(%rsi)\n"
    "	movq	%r13, 24(%rsi)\n"
    "	movq	%r14, 32(%rsi)\n"
    "	movq	%r15, 40(%rsi)\n"
    "	popq	%r15\n"
    "	.cfi_adjust_cfa_offset -8\n"
    "	popq	%r14\n"
    "	.cfi_adjust_cfa_offset -8\n"
    "	popq	%r13\n"
    "	.cfi_adjust_cfa_offset -8\n"
    "	popq	%r12\n"
    "	.cfi_adjust_cfa_offset -8\n"
    "	popq	%rbp\n"
    "	.cfi_adjust_cfa_offset -8\n"
    "	popq	%rbx\n"
    "	.cfi_adjust_cfa_offset -8\n"
    "	ret\n"
    "	.cfi_endproc\n"
    "	.size	keep_regs, .-keep_regs\n");
void	keep_regs(uint64_t seed, uint64_t out[6]);

/* Every callee-saved register across KEEP_ROUNDS yields. */
static long
keep_callee_saved(uint64_t seed)
{
	uint64_t out[6];
	long bad = 0;
	int i, r;

	for (i = 0; i < KEEP_ROUNDS; i++) {
		keep_regs(seed + (uint64_t)i * 8, out);
		for (r = 0; r < 6; r++)
			if (out[r] != seed + (uint64_t)i * 8 + (uint64_t)r)
				bad++;
	}
	return bad;
}
#else
static long
keep_callee_saved(uint64_t seed)
{
	(void)seed;
	return 0;
}
#endif

static void *
keeper(void *arg)
{
	/* The ABI's alignment: rsp + 8 is 16-byte aligned at entry. */
	if (((uintptr_t)__builtin_frame_address(0) & 15) != 0)
		atomic_fetch_add(&keep_bad, 1);
	atomic_fetch_add(&keep_bad, (int)keep_values((long)(intptr_t)arg));
	atomic_fetch_add(&keep_bad,
	    (int)keep_callee_saved((uint64_t)(uintptr_t)arg << 32));
	return arg;
}

static void *
keep_driver(void *arg)
{
	gp_lwp_t h[KEEP_LWPS];
	void *rv;
	long bad = 0;
	int i;

	(void)arg;
	for (i = 0; i < KEEP_LWPS; i++)
		if (gp_lwp_create(&h[i], keeper, (void *)(intptr_t)(i * 1000 +
		    1), NULL) != 0)
			return (void *)(intptr_t)-1;
	for (i = 0; i < KEEP_LWPS; i++)
		if (gp_lwp_join(h[i], &rv) != 0 ||
		    rv != (void *)(intptr_t)(i * 1000 + 1))
			bad++;
	return (void *)(intptr_t)bad;
}

Test(lwp, values_live_across_yields_survive_the_switch)
{
	gp_lwp_t d;
	void *rv = (void *)-1;

	cr_assert(eq(int, gp_lwp_create(&d, keep_driver, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(d, &rv), 0));
	cr_assert(eq(long, (long)(intptr_t)rv, 0));
	cr_assert(eq(int, atomic_load(&keep_bad), 0));
	assert_back_to_base();
	end_test();
}
