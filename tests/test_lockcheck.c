/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_lockcheck.c -- the locking key, checked by the machine: in a
 * DEBUG=1 build a lock taken out of rank order, or a function whose
 * contract says "caller holds" called without the lock, panics naming
 * the locks (runtime/spin.c, internal.h's lock order).  Each offence
 * runs in a forked child, which must die of SIGABRT with the message.
 * Release builds have no checks: these tests skip there.
 *
 * The processes here are bare structs, never spawned: the checks need
 * only a ranked p_lock and the p_pptr chain, and no runtime is started.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

TestSuite(lockcheck, .timeout = 30.0);

#ifdef GREENPROC_DEBUG
static void
need_debug(void)
{
}
#else
static void
need_debug(void)
{
	cr_skip_test("lock checks exist only in DEBUG=1 builds");
}
#endif

/* A bare process under (parent): a ranked p_lock and a p_pptr. */
static struct gp_proc *
fake_proc(struct gp_proc *parent)
{
	struct gp_proc *p = calloc(1, sizeof(*p));

	cr_assert(p != NULL);
	gpi_spin_init(&p->p_lock, GPI_RANK_PROC);
	__atomic_store_n(&p->p_pptr, parent, __ATOMIC_RELAXED);
	return p;
}

/*
 * Run (fn) in a child with stderr captured.  Returns what it wrote; the
 * child's wait status in *statusp.
 */
static char *
run_child(void (*fn)(void), int *statusp)
{
	int fds[2];
	pid_t pid;
	char *out;

	cr_assert(pipe(fds) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		fn();
		_exit(0);
	}
	close(fds[1]);
	out = tu_read_all(fds[0]);
	close(fds[0]);
	cr_assert(waitpid(pid, statusp, 0) == pid);
	cr_assert(out != NULL);
	return out;
}

/* (fn) must panic: SIGABRT, and each of (want) in the message. */
static void
expect_panic(void (*fn)(void), const char *const *want)
{
	int status;
	char *out = run_child(fn, &status);
	bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
	bool said;

	cr_log_info("child said: %s", out);
	cr_expect(aborted, "the child was not aborted (status %#x); it "
	    "said: %s", status, out);
	for (; *want != NULL; want++) {
		said = strstr(out, *want) != NULL;
		cr_expect(said, "no \"%s\" in the child's message: %s", *want,
		    out);
	}
	free(out);
}

/* ------------------------------------------------------------ order */

/* p_lock then gpi_reparent_lock: the documented order reversed. */
static void
take_reparent_under_proc(void)
{
	gpi_spin_lock(&gpi_proc0.p_lock);
	gpi_spin_lock(&gpi_reparent_lock);
}

Test(lockcheck, out_of_order_panics)
{
	static const char *const want[] = { "greenproc: panic", "lock order",
	    "gpi_reparent_lock", "while holding p_lock", NULL };

	need_debug();
	expect_panic(take_reparent_under_proc, want);
}

/* A leaf, then anything: nothing is taken under a leaf. */
static void
take_under_leaf(void)
{
	static gpi_spin_t leaf = GPI_SPIN_INIT(GPI_RANK_TEST);

	gpi_spin_lock(&leaf);
	gpi_spin_lock(&gpi_proc0.p_lock);
}

Test(lockcheck, lock_under_leaf_panics)
{
	static const char *const want[] = { "lock order", "p_lock",
	    "while holding test lock", "(a leaf)", NULL };

	need_debug();
	expect_panic(take_under_leaf, want);
}

/* Two p_locks, descendant first: the same rank the wrong way round. */
static void
take_parent_under_child(void)
{
	struct gp_proc *pp = fake_proc(&gpi_proc0), *p = fake_proc(pp);

	gpi_spin_lock(&p->p_lock);
	gpi_spin_lock(&pp->p_lock);
}

Test(lockcheck, parent_after_child_panics)
{
	static const char *const want[] = { "lock order", "p_lock",
	    "while holding p_lock", "not its ancestor", NULL };

	need_debug();
	expect_panic(take_parent_under_child, want);
}

/* Two unrelated processes: neither is the other's ancestor. */
static void
take_two_siblings(void)
{
	struct gp_proc *a = fake_proc(&gpi_proc0), *b = fake_proc(&gpi_proc0);

	gpi_spin_lock(&a->p_lock);
	gpi_spin_lock(&b->p_lock);
}

Test(lockcheck, two_siblings_panic)
{
	static const char *const want[] = { "lock order", "not its ancestor",
	    NULL };

	need_debug();
	expect_panic(take_two_siblings, want);
}

/* The orders the runtime does use pass, and leave nothing held. */
Test(lockcheck, documented_orders_pass)
{
	struct gp_proc *pp = fake_proc(&gpi_proc0), *p = fake_proc(pp);
	struct gp_proc *gc = fake_proc(p);

	need_debug();
	/* exit1's zombie step: reparent, reaper (an ancestor), child. */
	gpi_spin_lock(&gpi_reparent_lock);
	gpi_spin_lock(&gpi_proc0.p_lock);
	gpi_spin_lock(&pp->p_lock);
	gpi_spin_lock(&gc->p_lock);	/* a grandchild: a descendant too */
	gpi_spin_unlock(&gc->p_lock);
	gpi_spin_unlock(&pp->p_lock);
	gpi_spin_unlock(&gpi_proc0.p_lock);
	gpi_spin_unlock(&gpi_reparent_lock);
	/* A parent, then its child, dropped in either order. */
	gpi_spin_lock(&pp->p_lock);
	gpi_spin_lock(&p->p_lock);
	gpi_spin_unlock(&pp->p_lock);
	gpi_spin_unlock(&p->p_lock);
	cr_assert(eq(int, gpi_tls_nlocks, 0));
	free(gc);
	free(p);
	free(pp);
}

/* ------------------------------------------------------------ asserts */

/* gpi_report's contract: pp->p_lock held.  Called without it. */
static void
report_unlocked(void)
{
	struct gp_proc *pp = fake_proc(&gpi_proc0), *p = fake_proc(pp);

	gpi_report(pp, p, GPI_R_EXIT);
}

Test(lockcheck, caller_holds_missing_panics)
{
	static const char *const want[] = { "panic at", "gpi_report",
	    "p_lock", "not held: the caller must hold it", NULL };

	need_debug();
	expect_panic(report_unlocked, want);
}

/* gpi_report with another process's lock held is still wrong. */
static void
report_wrong_lock(void)
{
	struct gp_proc *pp = fake_proc(&gpi_proc0), *p = fake_proc(pp);

	gpi_spin_lock(&p->p_lock);
	gpi_report(pp, p, GPI_R_EXIT);
}

Test(lockcheck, caller_holds_wrong_lock_panics)
{
	static const char *const want[] = { "gpi_report",
	    "not held: the caller must hold it", NULL };

	need_debug();
	expect_panic(report_wrong_lock, want);
}

/* gpi_tsleep's contract: the caller holds no lock.  It holds one. */
static void
sleep_locked(void)
{
	static atomic_int word;

	gpi_spin_lock(&gpi_proc0.p_lock);
	(void)!gpi_tsleep(&word, &word, 1, 0, 0);
}

Test(lockcheck, caller_holds_none_panics)
{
	static const char *const want[] = { "gpi_tsleep", "1 lock(s) held",
	    "p_lock", "must hold none", NULL };

	need_debug();
	expect_panic(sleep_locked, want);
}

/* Releasing a lock this thread does not hold. */
static void
unlock_unheld(void)
{
	gpi_spin_unlock(&gpi_reparent_lock);
}

Test(lockcheck, unlock_not_held_panics)
{
	static const char *const want[] = { "unlock of gpi_reparent_lock",
	    "does not hold", NULL };

	need_debug();
	expect_panic(unlock_unheld, want);
}

/* With the lock it asks for, a contract passes. */
Test(lockcheck, caller_holds_present_passes)
{
	struct gp_proc *pp = fake_proc(&gpi_proc0), *p = fake_proc(pp);

	need_debug();
	gpi_spin_lock(&pp->p_lock);
	gpi_report(pp, p, GPI_R_EXIT);
	cr_assert(eq(ptr, gpi_rq_head(pp), p));
	gpi_report_clear(pp, p, GPI_R_EXIT);
	cr_assert(eq(ptr, gpi_rq_head(pp), NULL));
	gpi_spin_unlock(&pp->p_lock);
	free(p);
	free(pp);
}
