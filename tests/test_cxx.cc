// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_cxx.cc -- C++ exceptions inside LWPs, across switches.
 *
 * libstdc++ keeps the chain of caught exceptions and the count of uncaught
 * ones per kernel thread (__cxa_get_globals()).  Two LWPs that share a
 * worker must each see only their own, so every switch has to save and
 * restore them.  All the LWPs here run on one worker (gp_init(1)) and
 * interleave inside catch blocks and during unwinding.  They report what
 * they saw as a bit mask through join; the host thread asserts.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <atomic>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>

#include "greenproc.h"

static void
setup(void)
{
	struct gp_counters st;

	cr_assert(eq(int, gp_init(1), 0));
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(eq(long, st.nworkers, 1L), "the test needs one worker");
}

static void
teardown(void)
{
	cr_assert(eq(int, gp_shutdown(), 0));
}

TestSuite(cxx, .init = setup, .fini = teardown, .timeout = 30.0);

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

static std::atomic<int> arrived{0};

static void
wait_for(std::atomic<int> &v, int n)
{
	while (v.load() < n)
		gp_yield();
}

static void *
join_value(gp_lwp_t h)
{
	void *rv = reinterpret_cast<void *>(-1);

	cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
	return rv;
}

/*
 * Throw and catch our own exception, then yield inside the handler and
 * inside a nested handler of its rethrow, while the other LWP does the same
 * on this worker.  The first LWP leaves its handler while the second is
 * still in its own, which breaks a shared caught-exceptions chain.
 */
static void *
catch_across_yields(void *arg)
{
	const char *name = static_cast<const char *>(arg);
	intptr_t bad = 0;

	arrived++;
	wait_for(arrived, 2);
	try {
		throw std::runtime_error(name);
	} catch (const std::exception &e) {
		std::exception_ptr cur = std::current_exception();

		gp_yield();
		gp_yield();
		if (std::uncaught_exceptions() != 0)
			bad |= 1;
		if (std::strcmp(e.what(), name) != 0)
			bad |= 2;
		if (std::current_exception() != cur)
			bad |= 4;
		try {
			throw;
		} catch (const std::runtime_error &e2) {
			gp_yield();
			if (&e2 != &e)
				bad |= 8;
			if (std::strcmp(e2.what(), name) != 0)
				bad |= 16;
			if (std::current_exception() != cur)
				bad |= 32;
			if (std::uncaught_exceptions() != 0)
				bad |= 64;
		}
		gp_yield();
		if (std::current_exception() != cur)
			bad |= 128;
	}
	gp_yield();
	if (std::current_exception() != nullptr)
		bad |= 256;
	return reinterpret_cast<void *>(bad);
}

Test(cxx, exception_caught_across_yields_stays_with_its_lwp)
{
	gp_lwp_t a, b;
	char alpha[] = "alpha", beta[] = "beta";

	cr_assert(eq(int, gp_lwp_create(&a, catch_across_yields, alpha,
	    nullptr), 0));
	cr_assert(eq(int, gp_lwp_create(&b, catch_across_yields, beta,
	    nullptr), 0));
	cr_assert(eq(long, reinterpret_cast<intptr_t>(join_value(a)), 0L));
	cr_assert(eq(long, reinterpret_cast<intptr_t>(join_value(b)), 0L));
	end_test();
}

/* --- uncaught_exceptions() during unwinding --------------------------- */

static std::atomic<int> in_dtor{0};
static std::atomic<int> other_done{0};

struct yield_in_dtor {
	intptr_t *bad;
	~yield_in_dtor()
	{
		if (std::uncaught_exceptions() != 1)
			*bad |= 1;
		in_dtor.store(1);
		wait_for(other_done, 1);	/* the other LWP throws too */
		if (std::uncaught_exceptions() != 1)
			*bad |= 2;
	}
};

/* Unwinds through a destructor that switches to the other LWP. */
static void *
unwind_with_yield(void *)
{
	intptr_t bad = 0;

	try {
		yield_in_dtor g{&bad};
		throw std::runtime_error("unwinding");
	} catch (const std::runtime_error &e) {
		if (std::strcmp(e.what(), "unwinding") != 0)
			bad |= 4;
		if (std::uncaught_exceptions() != 0)
			bad |= 8;
	}
	return reinterpret_cast<void *>(bad);
}

/* Runs while the other LWP is mid-unwind, and throws its own. */
static void *
check_while_other_unwinds(void *)
{
	intptr_t bad = 0;

	wait_for(in_dtor, 1);
	if (std::uncaught_exceptions() != 0)
		bad |= 1;
	if (std::current_exception() != nullptr)
		bad |= 2;
	try {
		throw 7;
	} catch (int v) {
		gp_yield();
		if (v != 7 || std::uncaught_exceptions() != 0)
			bad |= 4;
	}
	other_done.store(1);
	return reinterpret_cast<void *>(bad);
}

Test(cxx, uncaught_exceptions_count_stays_with_its_lwp)
{
	gp_lwp_t a, b;

	cr_assert(eq(int, gp_lwp_create(&a, unwind_with_yield, nullptr,
	    nullptr), 0));
	cr_assert(eq(int, gp_lwp_create(&b, check_while_other_unwinds,
	    nullptr, nullptr), 0));
	cr_assert(eq(long, reinterpret_cast<intptr_t>(join_value(a)), 0L));
	cr_assert(eq(long, reinterpret_cast<intptr_t>(join_value(b)), 0L));
	end_test();
}

/*
 * Four LWPs on one worker throw from 20 frames down after a switch; each
 * unwind must walk only its own stack, up to its own handler.
 */
static int
deep_throw(int depth, int *yields)
{
	if (depth == 0) {
		gp_yield();
		(*yields)++;
		throw std::out_of_range("deep");
	}
	return deep_throw(depth - 1, yields) + 1;
}

static void *
catch_deep(void *)
{
	intptr_t caught = 0;
	int yields = 0;

	for (int i = 0; i < 100; i++) {
		try {
			(void)deep_throw(20, &yields);
		} catch (const std::out_of_range &) {
			caught++;
		}
	}
	return reinterpret_cast<void *>(caught == 100 && yields == 100 ? 0 :
	    1);
}

Test(cxx, exceptions_thrown_after_switches_unwind_their_own_stack)
{
	gp_lwp_t h[4];

	for (auto &x : h)
		cr_assert(eq(int, gp_lwp_create(&x, catch_deep, nullptr,
		    nullptr), 0));
	for (auto &x : h)
		cr_assert(eq(long, reinterpret_cast<intptr_t>(join_value(x)),
		    0L));
	end_test();
}
