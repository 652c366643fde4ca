/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_reap_window.c -- a wait for a child that another waiter is reaping
 * right now.
 *
 * A reap unlinks the child from its parent under the parent's lock, then
 * frees its pid slot after the lock is dropped (gpi_proc_reap, which may
 * even yield until the child's last LWP is off its stack).  In between, a
 * wait by that pid must not take the child for one of ours with nothing
 * to report and sleep: nothing would ever wake it (the soak, make soak,
 * found a host thread asleep so for good).  Linux skips such a child
 * (EXIT_DEAD): the wait says ECHILD.
 *
 * The window is reached with the runtime's own steps (internal.h): the
 * test unlinks a zombie as kern_wait does, waits, then finishes the reap.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "internal.h"
#include "greenproc.h"
#include "testutil.h"
#include "proctest.h"

TestSuite(reapwin, .init = pt_setup, .fini = pt_teardown, .timeout = 60.0);

static int
exit_at_once(void *arg)
{
	return (int)(intptr_t)arg;
}

Test(reapwin, waitpid_of_a_child_being_reaped_says_echild)
{
	struct gp_proc *q = &gpi_proc0, *p;
	siginfo_t si;
	pid_t pid;
	int st = 0, r, e;

	pid = spawn_ok(exit_at_once, (void *)(intptr_t)7);
	/* A zombie with its exit report queued. */
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT),
	    0));
	cr_assert(eq(int, si.si_pid, pid));

	/* What a reaping waiter does first: unlink it, under our lock. */
	gpi_rcu_read_lock();
	p = gpi_pfind(pid);
	gpi_rcu_read_unlock();
	cr_assert(not(eq(ptr, p, NULL)));
	gpi_spin_lock(&q->p_lock);
	gpi_unlink_child(q, p);
	gpi_spin_unlock(&q->p_lock);

	/* Another waiter, now: not our child any more. */
	errno = 0;
	r = gp_waitpid(pid, &st, WNOHANG);
	e = errno;
	cr_expect(eq(int, r, -1), "waitpid: a child being reaped by another "
	    "waiter was taken for a live one with nothing to report");
	cr_expect(eq(int, e, ECHILD));
	errno = 0;
	memset(&si, 0, sizeof(si));
	r = gp_waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG);
	e = errno;
	cr_expect(eq(int, r, -1), "waitid: the same");
	cr_expect(eq(int, e, ECHILD));

	/* The reap finishes: the pid is free, the counts balance. */
	gpi_proc_reap(p);
	errno = 0;
	cr_assert(eq(int, gp_waitpid(pid, &st, WNOHANG), -1));
	cr_assert(eq(int, errno, ECHILD));
	end_test();
}
