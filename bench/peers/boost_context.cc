// SPDX-License-Identifier: BSD-2-Clause
/*
 * boost_context.cc -- the Boost.Context peer of bench_lwp (issue 18).
 *
 * Usage: boost_context RUNS
 * Prints "yield_ns create_ns" on one line: medians of RUNS runs of
 *	switch		two fibers resume each other N times (main and one
 *			fiber, boost::context::fiber, fcontext underneath);
 *			per switch (two per round)
 *	create		create a fiber whose function returns at once, resume
 *			it to its end (the fiber is then empty: nothing left
 *			to join); per fiber
 * Stacks: boost::context::pooled_fixedsize_stack of 64 KiB (greenproc's
 * default stack size), so that a create reuses a pooled stack as
 * greenproc's per-worker cache does, and neither side maps memory in the
 * loop.  One kernel thread, no scheduler: the bare-thread floor that
 * greenproc's LWP figures are compared with.  bench_lwp runs this
 * program (before its own gp_init) and records the figures; the Makefile
 * builds it only where <boost/context/fiber.hpp> is installed
 * (tools/deps.sh group boost), else bench_lwp prints n/a.
 */
#include <boost/context/fiber.hpp>
#include <boost/context/pooled_fixedsize_stack.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <vector>

namespace ctx = boost::context;

static const long SWITCHES = 200000;	// rounds of two switches
static const long CREATES = 100000;
static const std::size_t STACK = 64 * 1024;

static double
now_ns()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double
median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

static double
bench_switch(ctx::pooled_fixedsize_stack &salloc)
{
	ctx::fiber f{std::allocator_arg, salloc, [](ctx::fiber &&m) {
		for (;;)
			m = std::move(m).resume();
		return std::move(m);
	}};
	double t0;
	long i;

	for (i = 0; i < SWITCHES / 8; i++)	// warm-up
		f = std::move(f).resume();
	t0 = now_ns();
	for (i = 0; i < SWITCHES; i++)
		f = std::move(f).resume();
	return (now_ns() - t0) / (2.0 * (double)SWITCHES);
	// f still holds the suspended fiber: its destructor unwinds it.
}

static double
bench_create(ctx::pooled_fixedsize_stack &salloc)
{
	double t0 = 0;
	long i, n = CREATES + CREATES / 8;

	for (i = 0; i < n; i++) {
		if (i == CREATES / 8)
			t0 = now_ns();
		ctx::fiber f{std::allocator_arg, salloc,
		    [](ctx::fiber &&m) { return std::move(m); }};
		f = std::move(f).resume();
		if (f)
			std::abort();	// it returned: nothing to resume
	}
	return (now_ns() - t0) / (double)CREATES;
}

int
main(int argc, char **argv)
{
	int runs = argc > 1 ? std::atoi(argv[1]) : 11;
	std::vector<double> y, c;

	if (runs < 1)
		runs = 1;
	ctx::pooled_fixedsize_stack salloc(STACK);
	for (int r = 0; r < runs; r++) {
		y.push_back(bench_switch(salloc));
		c.push_back(bench_create(salloc));
	}
	std::printf("%.3f %.3f\n", median(y), median(c));
	return 0;
}
