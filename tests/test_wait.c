/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_wait.c -- gp_wait4 / gp_waitpid / gp_waitid: pid > 0, 0, -1,
 * < -1; WNOHANG; option checks; ECHILD; each child reported once; status
 * encodings; siginfo; orphans reparented to init or to the nearest reaper
 * (zombies too); concurrent waiters, green and host, over 10k children.
 *
 * Criterion asserts run only on the host thread; green code and helper
 * threads report with GCHECK() (proctest.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenproc.h"
#include "testutil.h"
#include "proctest.h"



/* A broken wait hangs instead of failing: bound every test. */
TestSuite(wait, .init = pt_setup, .fini = pt_teardown, .timeout = 60.0);
TestSuite(waitmany, .init = pt_setup, .fini = pt_teardown, .timeout = 120.0);

/* See test_lwp.c: a failing .fini does not fail the test (Criterion#211). */

/* Children: exit with arg, or wait for a flag first. */
static int
ret_arg(void *arg)
{
	return (int)(intptr_t)arg;
}

static atomic_int go;

static int
wait_go_ret_arg(void *arg)
{
	pt_green_wait(&go);
	return (int)(intptr_t)arg;
}

#define NOPID	(GP_PID_BASE + 0x3fff0123)	/* a green pid nobody has */

/* --- pid > 0, -1, WNOHANG -------------------------------------------- */

Test(wait, waitpid_of_a_pid_waits_for_that_child_only)
{
	pid_t a, b;
	int st;

	a = spawn_ok(ret_arg, (void *)(intptr_t)1);	/* exits at once */
	b = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)2);
	tu_host_sleep_ns(20 * TU_MS);
	cr_assert(eq(int, (int)gp_waitpid(b, &st, WNOHANG), 0),
	    "b is running; a's exit must not answer a wait for b");
	atomic_store(&go, 1);
	st = host_reap(b);
	cr_assert(eq(int, WEXITSTATUS(st), 2));
	st = host_reap(a);
	cr_assert(eq(int, WEXITSTATUS(st), 1));
	assert_err(gp_waitpid(a, &st, 0), ECHILD);
	assert_procs_back();
	end_test();
}

/*
 * Without WEXITED a zombie has nothing more to report: a wait that
 * selects only zombies fails with ECHILD at once, as on Linux, instead of
 * sleeping for good (found by the differential test).
 */
Test(wait, without_wexited_a_wait_for_zombies_only_is_echild)
{
	siginfo_t si;
	pid_t p;
	int st;

	p = spawn_ok(ret_arg, (void *)(intptr_t)4);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT),
	    0));
	cr_assert(eq(int, si.si_pid, p));	/* a zombie now */
	assert_err(gp_waitid(P_PID, (id_t)p, &si, WSTOPPED | WCONTINUED),
	    ECHILD);
	assert_err(gp_waitid(P_ALL, 0, &si, WSTOPPED), ECHILD);
	st = host_reap(p);
	cr_assert(eq(int, WEXITSTATUS(st), 4));
	end_test();
}

Test(wait, wnohang_gives_0_while_a_child_runs)
{
	pid_t p;
	int st = 12345;

	p = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)9);
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG), 0));
	cr_assert(eq(int, (int)gp_waitpid(-1, &st, WNOHANG), 0));
	cr_assert(eq(int, (int)gp_wait4(-1, &st, WNOHANG, NULL), 0));
	atomic_store(&go, 1);
	st = host_reap(p);
	cr_assert(eq(int, WEXITSTATUS(st), 9));
	end_test();
}

Test(wait, waitpid_minus_1_waits_for_any_child_and_then_echild)
{
	pid_t p[3], r;
	int i, j, st, seen[3] = { 0, 0, 0 };

	for (i = 0; i < 3; i++)
		p[i] = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)(20 + i));
	atomic_store(&go, 1);
	for (i = 0; i < 3; i++) {
		r = gp_waitpid(-1, &st, 0);
		for (j = 0; j < 3 && p[j] != r; j++)
			continue;
		cr_assert(lt(int, j, 3), "waitpid(-1) gave %d (%s)", (int)r,
		    strerror(errno));
		cr_assert(eq(int, seen[j], 0), "reported twice");
		seen[j] = 1;
		cr_assert(eq(int, WEXITSTATUS(st), 20 + j));
	}
	assert_err(gp_waitpid(-1, &st, 0), ECHILD);
	end_test();
}

/* A host waiter blocked in waitpid wakes when the child exits. */
static int
sleep_50ms_ret_6(void *arg)
{
	(void)arg;
	pt_nap_ns(50 * TU_MS);
	return 6;
}

Test(wait, a_blocked_host_waiter_wakes_at_the_exit)
{
	uint64_t t0, dt;
	pid_t p;
	int st;

	t0 = tu_now_ns();
	p = spawn_ok(sleep_50ms_ret_6, NULL);
	st = host_reap(p);
	dt = tu_now_ns() - t0;
	cr_assert(eq(int, WEXITSTATUS(st), 6));
	cr_assert(ge(ulong, (unsigned long)dt, (unsigned long)(45 * TU_MS)),
	    "waitpid returned before the child exited");
	cr_assert(lt(ulong, (unsigned long)dt, (unsigned long)(5 * TU_S)));
	end_test();
}

/* --- options and ECHILD ---------------------------------------------- */

/*
 * Linux's __WALL and __WNOTHREAD change nothing for green children (all
 * of one kind, all the process's own); __WCLONE alone finds none, as a
 * fork child is not a clone child to the kernel.
 */
Test(wait, linux_wait_flags)
{
	siginfo_t si;
	pid_t p;
	int st = 0;

	p = spawn_ok(ret_arg, (void *)(intptr_t)5);
	assert_err(gp_waitpid(p, &st, __WCLONE | WNOHANG), ECHILD);
	assert_err(gp_waitid(P_PID, (id_t)p, &si, WEXITED | __WCLONE),
	    ECHILD);
	cr_assert(eq(int, (int)gp_waitpid(p, &st, __WALL | __WNOTHREAD), p));
	cr_assert(eq(int, WEXITSTATUS(st), 5));
	p = spawn_ok(ret_arg, (void *)(intptr_t)6);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)p, &si, WEXITED | __WALL),
	    0));
	cr_assert(eq(int, si.si_pid, p));
	cr_assert(eq(int, si.si_status, 6));
	end_test();
}

Test(wait, unknown_option_bits_are_einval)
{
	static const int bad[] = { 0x10, 0x20, 0x100, 0x1000, 0x10000,
	    WEXITED, WNOWAIT };
	siginfo_t si;
	pid_t p;
	int i, st;

	/* Options are checked first: EINVAL, not ECHILD, with no child. */
	assert_err(gp_waitpid(-1, &st, 0x1000), EINVAL);

	p = spawn_ok(ret_arg, (void *)(intptr_t)4);
	tu_host_sleep_ns(20 * TU_MS);
	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		errno = 0;
		cr_assert(eq(int, (int)gp_waitpid(p, &st, bad[i]), -1),
		    "option %#x accepted by waitpid", bad[i]);
		cr_assert(eq(int, errno, EINVAL), "option %#x", bad[i]);
		errno = 0;
		cr_assert(eq(int, (int)gp_wait4(-1, &st, WNOHANG | bad[i],
		    NULL), -1), "option %#x accepted by wait4", bad[i]);
		cr_assert(eq(int, errno, EINVAL), "option %#x", bad[i]);
	}
	assert_err(gp_waitid(P_PID, (id_t)p, &si, WEXITED | 0x10000),
	    EINVAL);
	assert_err(gp_waitid(P_PID, (id_t)p, &si, WNOHANG), EINVAL);
	assert_err(gp_waitid((idtype_t)42, (id_t)p, &si, WEXITED),
	    EINVAL);
	/* None of that reaped the child. */
	st = host_reap(p);
	cr_assert(eq(int, WEXITSTATUS(st), 4));
	end_test();
}

Test(wait, echild_on_a_host_thread_when_nothing_matches)
{
	siginfo_t si;
	pid_t p;
	int st;

	assert_err(gp_waitpid(-1, &st, 0), ECHILD);
	assert_err(gp_waitpid(-1, &st, WNOHANG), ECHILD);
	assert_err(gp_waitpid(NOPID, &st, 0), ECHILD);
	assert_err(gp_waitpid(-NOPID, &st, 0), ECHILD);
	assert_err(gp_waitid(P_ALL, 0, &si, WEXITED), ECHILD);
	assert_err(gp_waitid(P_PID, (id_t)NOPID, &si, WEXITED), ECHILD);

	/* With a child: pid 0 names no group in init, even blocking. */
	p = spawn_ok(wait_go_ret_arg, NULL);
	assert_err(gp_waitpid(0, &st, WNOHANG), ECHILD);
	assert_err(gp_waitpid(0, &st, 0), ECHILD);
	assert_err(gp_waitpid(NOPID, &st, 0), ECHILD);
	atomic_store(&go, 1);
	(void)host_reap(p);
	end_test();
}

/* pid 0 in an LWP of init: ECHILD too. */
static void *
init_lwp_wait0(void *arg)
{
	int st;

	(void)arg;
	errno = 0;
	if (gp_waitpid(0, &st, 0) != -1)
		return (void *)1;
	return (void *)(intptr_t)errno;
}

Test(wait, waitpid_0_in_an_lwp_of_init_is_echild)
{
	gp_lwp_t h;
	void *rv = NULL;
	pid_t p;

	p = spawn_ok(wait_go_ret_arg, NULL);
	cr_assert(eq(int, gp_lwp_create(&h, init_lwp_wait0, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
	cr_assert(eq(int, (int)(intptr_t)rv, ECHILD));
	atomic_store(&go, 1);
	(void)host_reap(p);
	end_test();
}

/* A host-spawned child may be waited for by an LWP of init. */
static void *
init_lwp_reap(void *arg)
{
	pid_t p = (pid_t)(intptr_t)arg;
	int st = -1;

	if (gp_waitpid(p, &st, 0) != p)
		return (void *)(intptr_t)-errno;
	return (void *)(intptr_t)st;
}

Test(wait, an_lwp_of_init_reaps_a_child_the_host_spawned)
{
	gp_lwp_t h;
	void *rv = NULL;
	pid_t p;

	p = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)8);
	cr_assert(eq(int, gp_lwp_create(&h, init_lwp_reap,
	    (void *)(intptr_t)p, NULL), 0));
	tu_host_sleep_ns(20 * TU_MS);
	atomic_store(&go, 1);
	cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
	cr_assert(eq(int, (int)(intptr_t)rv, 8 << 8), "status or -errno %d",
	    (int)(intptr_t)rv);
	assert_err(gp_waitpid(p, NULL, WNOHANG), ECHILD);
	end_test();
}

/* In a green process: ECHILD for itself, its parent, siblings, nothing. */
static int
green_echild(void *arg)
{
	pid_t sib = (pid_t)(intptr_t)arg;
	int st;

	errno = 0;
	GCHECK(gp_waitpid(-1, &st, 0) == -1 && errno == ECHILD, "-1: %d",
	    errno);
	errno = 0;
	GCHECK(gp_waitpid(0, &st, 0) == -1 && errno == ECHILD, "0: %d",
	    errno);
	errno = 0;
	GCHECK(gp_waitpid(gp_getpid(), &st, 0) == -1 && errno == ECHILD,
	    "self: %d", errno);
	errno = 0;
	GCHECK(gp_waitpid(GP_PID_INIT, &st, 0) == -1 && errno == ECHILD,
	    "init: %d", errno);
	errno = 0;
	GCHECK(gp_waitpid(sib, &st, 0) == -1 && errno == ECHILD,
	    "sibling: %d", errno);
	errno = 0;
	GCHECK(gp_waitpid(-sib, &st, 0) == -1 && errno == ECHILD,
	    "sibling's group: %d", errno);
	return 0;
}

Test(wait, echild_in_a_green_process_for_non_children)
{
	pid_t sib, p;
	int st;

	sib = spawn_ok(wait_go_ret_arg, NULL);
	p = spawn_ok(green_echild, (void *)(intptr_t)sib);
	st = host_reap(p);
	cr_assert(eq(int, st, 0));
	atomic_store(&go, 1);
	(void)host_reap(sib);
	assert_no_green_failures();
	end_test();
}

/* A grandchild is not the host's child. */
static atomic_int gk_pid;

static int
spawn_gk(void *arg)
{
	pid_t g;
	int st;

	(void)arg;
	g = gp_spawn(wait_go_ret_arg, NULL, NULL);
	GCHECK(g > GP_PID_INIT, "spawn: %s", strerror(errno));
	atomic_store(&gk_pid, (int)g);
	GCHECK(gp_waitpid(g, &st, 0) == g, "wait: %s", strerror(errno));
	return 0;
}

Test(wait, echild_for_a_grandchild)
{
	pid_t p;
	int st;

	p = spawn_ok(spawn_gk, NULL);
	cr_assert(eq(int, pt_wait_for(&gk_pid, GP_PID_INIT + 1, 5 * TU_S), 0));
	assert_err(gp_waitpid(atomic_load(&gk_pid), &st, 0), ECHILD);
	atomic_store(&go, 1);
	st = host_reap(p);
	cr_assert(eq(int, st, 0));
	assert_no_green_failures();
	end_test();
}

/* --- groups: pid 0 and pid < -1 ------------------------------------- */

static atomic_int c2_regrouped;

static int
c2_own_group(void *arg)
{
	(void)arg;
	GCHECK(gp_setpgid(0, 0) == 0, "setpgid: %s", strerror(errno));
	atomic_store(&c2_regrouped, 1);
	return 22;
}

static int
group_waiter(void *arg)
{
	pid_t c1, c2, r;
	int st = -1;

	(void)arg;
	c1 = gp_spawn(ret_arg, (void *)(intptr_t)11, NULL);
	c2 = gp_spawn(c2_own_group, NULL, NULL);
	GCHECK(c1 > GP_PID_INIT && c2 > GP_PID_INIT, "spawn: %s",
	    strerror(errno));
	pt_green_wait(&c2_regrouped);
	r = gp_waitpid(0, &st, 0);
	GCHECK(r == c1, "waitpid(0) gave %d, c1 %d, c2 %d (errno %d)", (int)r,
	    (int)c1, (int)c2, errno);
	GCHECK(WEXITSTATUS(st) == 11, "status %#x", st);
	errno = 0;
	GCHECK(gp_waitpid(0, &st, 0) == -1 && errno == ECHILD,
	    "c2 left the group; errno %d", errno);
	r = gp_waitpid(-c2, &st, 0);
	GCHECK(r == c2, "waitpid(-c2) gave %d (errno %d)", (int)r, errno);
	GCHECK(WEXITSTATUS(st) == 22, "status %#x", st);
	return 0;
}

Test(wait, waitpid_0_waits_for_the_callers_group_in_a_green_process)
{
	pid_t p = spawn_ok(group_waiter, NULL);
	int st = host_reap(p);

	assert_no_green_failures();
	cr_assert(eq(int, st, 0));
	end_test();
}

Test(wait, waitpid_of_minus_pgid_waits_for_that_group)
{
	pid_t a, b, c, r1, r2;
	int st;

	a = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)1);
	b = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)2);
	c = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)3);
	cr_assert(eq(int, gp_setpgid(c, a), 0), "%s", strerror(errno));
	atomic_store(&go, 1);
	r1 = gp_waitpid(-a, &st, 0);
	cr_assert(ne(int, (int)r1, (int)b), "b is not in group a");
	cr_assert(eq(int, (r1 == a) || (r1 == c), 1), "got %d (%s)", (int)r1,
	    strerror(errno));
	r2 = gp_waitpid(-a, &st, 0);
	cr_assert(eq(int, (r2 == a) || (r2 == c), 1), "got %d (%s)", (int)r2,
	    strerror(errno));
	cr_assert(ne(int, (int)r1, (int)r2));
	assert_err(gp_waitpid(-a, &st, WNOHANG), ECHILD);
	cr_assert(eq(int, (int)gp_waitpid(-b, &st, 0), (int)b));
	cr_assert(eq(int, WEXITSTATUS(st), 2));
	assert_procs_back();
	end_test();
}

/* --- exactly once, encodings, siginfo -------------------------------- */

#define NONCE	500

Test(wait, each_child_is_reported_exactly_once)
{
	static pid_t pids[NONCE];
	static int seen[NONCE];
	pid_t r;
	int i, j, st, n = 0;

	for (i = 0; i < NONCE; i++)
		pids[i] = spawn_ok(ret_arg, (void *)(intptr_t)(i & 0xff));
	while ((r = gp_waitpid(-1, &st, 0)) > 0) {
		for (j = 0; j < NONCE && pids[j] != r; j++)
			continue;
		cr_assert(lt(int, j, NONCE), "unknown pid %d", (int)r);
		cr_assert(eq(int, seen[j], 0), "pid %d reported twice", (int)r);
		seen[j] = 1;
		cr_assert(eq(int, WEXITSTATUS(st), j & 0xff));
		n++;
	}
	cr_assert(eq(int, errno, ECHILD));
	cr_assert(eq(int, n, NONCE));
	assert_procs_back();
	end_test();
}

static int
exit_arg(void *arg)
{
	gp_exit((int)(intptr_t)arg);
}

Test(wait, exit_statuses_use_the_linux_encoding)
{
	static const int codes[] = { 0, 1, 42, 127, 128, 255, 256 + 7 };
	pid_t p;
	int i, st;

	for (i = 0; i < (int)(sizeof(codes) / sizeof(codes[0])); i++) {
		p = spawn_ok(exit_arg, (void *)(intptr_t)codes[i]);
		st = host_reap(p);
		cr_assert(eq(int, st, (codes[i] & 0xff) << 8), "code %d: %#x",
		    codes[i], st);
		cr_assert(ne(int, (int)WIFEXITED(st), 0));
		cr_assert(eq(int, WEXITSTATUS(st), codes[i] & 0xff));
		cr_assert(eq(int, (int)WIFSIGNALED(st), 0));
		cr_assert(eq(int, (int)WIFSTOPPED(st), 0));
		cr_assert(eq(int, (int)WIFCONTINUED(st), 0));
	}
	end_test();
}

static void
assert_siginfo_exit(const siginfo_t *si, pid_t pid, int code)
{
	cr_assert(eq(int, si->si_signo, SIGCHLD));
	cr_assert(eq(int, (int)si->si_pid, (int)pid));
	cr_assert(eq(int, si->si_code, CLD_EXITED), "si_code %d",
	    si->si_code);
	cr_assert(eq(int, si->si_status, code));
}

Test(wait, waitid_fills_siginfo_for_p_pid_p_all_and_p_pgid)
{
	siginfo_t si;
	pid_t a, b, c;

	a = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)42);
	b = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)43);
	c = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)44);

	/* WNOHANG with nothing to report: 0 and si_pid/si_signo zeroed. */
	memset(&si, 0x5a, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_ALL, 0, &si, WEXITED | WNOHANG), 0));
	cr_assert(eq(int, (int)si.si_pid, 0));
	cr_assert(eq(int, si.si_signo, 0));

	atomic_store(&go, 1);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WEXITED), 0), "%s",
	    strerror(errno));
	assert_siginfo_exit(&si, c, 44);

	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PGID, (id_t)a, &si, WEXITED), 0), "%s",
	    strerror(errno));
	assert_siginfo_exit(&si, a, 42);

	/* b is the only child left. */
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_ALL, 0, &si, WEXITED), 0), "%s",
	    strerror(errno));
	assert_siginfo_exit(&si, b, 43);
	assert_err(gp_waitid(P_ALL, 0, &si, WEXITED), ECHILD);
	assert_err(gp_waitid(P_PID, (id_t)a, &si, WEXITED), ECHILD);
	end_test();
}

/* --- orphans --------------------------------------------------------- */

/*
 * Host -> P -> { L (alive), Z (exits at once: a zombie) }.  P exits
 * without waiting.  L and Z go to init, which reaps them itself: the
 * host's waitpid(-1) never sees them, not even blocking.
 */
static atomic_int or_z_ran, or_l_started, or_p_gone, or_l_ppid;
static atomic_int or_l_release, or_l_pid, or_z_pid;

static int
or_zombie(void *arg)
{
	(void)arg;
	atomic_store(&or_z_ran, 1);
	return 21;
}

static int
or_live(void *arg)
{
	(void)arg;
	atomic_store(&or_l_started, 1);
	pt_green_wait(&or_p_gone);
	atomic_store(&or_l_ppid, (int)gp_getppid());
	pt_green_wait(&or_l_release);
	return 31;
}

static int
or_parent(void *arg)
{
	pid_t l, z;

	(void)arg;
	z = gp_spawn(or_zombie, NULL, NULL);
	l = gp_spawn(or_live, NULL, NULL);
	GCHECK(z > GP_PID_INIT && l > GP_PID_INIT, "spawn: %s",
	    strerror(errno));
	atomic_store(&or_z_pid, (int)z);
	atomic_store(&or_l_pid, (int)l);
	pt_green_wait(&or_z_ran);
	pt_green_wait(&or_l_started);
	pt_nap_ns(20 * TU_MS);		/* z is a zombie by now */
	return 0;
}

Test(wait, orphans_go_to_init_which_reaps_them_itself)
{
	struct gp_counters st1;
	pid_t p;
	int st;

	p = spawn_ok(or_parent, NULL);
	st = host_reap(p);
	cr_assert(eq(int, st, 0));
	assert_no_green_failures();
	atomic_store(&or_p_gone, 1);
	cr_assert(eq(int, pt_wait_for(&or_l_ppid, 1, 5 * TU_S), 0));
	cr_assert(eq(int, tu_ld(&or_l_ppid), GP_PID_INIT));

	/* Adopted orphans are not the host's to wait for. */
	assert_err(gp_waitpid(-1, &st, WNOHANG), ECHILD);
	assert_err(gp_waitpid(-1, &st, 0), ECHILD);
	assert_err(gp_waitpid(atomic_load(&or_l_pid), &st, 0), ECHILD);
	assert_err(gp_waitpid(atomic_load(&or_z_pid), &st, 0), ECHILD);

	/* The zombie is already reaped; the live one is when it exits. */
	atomic_store(&or_l_release, 1);
	assert_procs_back();
	cr_assert(eq(int, gp_stats(&st1), 0));
	cr_assert(eq(ulong, st1.reaps - base.reaps, 3ul));
	end_test();
}

/*
 * Host -> R (reaper) -> P -> { L, Z }.  P exits: L and zombie Z move to R,
 * which waits for both with their statuses.
 */
static atomic_int rr_l_ppid_ok;

static int
rr_reaper(void *arg)
{
	pid_t me = gp_getpid(), p, r, z, l;
	int st = -1;

	(void)arg;
	GCHECK(gp_reaper_acquire() == 0, "acquire: %s", strerror(errno));
	p = gp_spawn(or_parent, NULL, NULL);
	GCHECK(p > GP_PID_INIT, "spawn: %s", strerror(errno));
	GCHECK(gp_waitpid(p, &st, 0) == p, "wait p: %s", strerror(errno));
	z = (pid_t)atomic_load(&or_z_pid);
	l = (pid_t)atomic_load(&or_l_pid);
	/* The zombie moved to us: reap it by pid. */
	r = gp_waitpid(z, &st, WNOHANG);
	GCHECK(r == z, "zombie not moved to the reaper: %d (errno %d)",
	    (int)r, errno);
	GCHECK(WIFEXITED(st) && WEXITSTATUS(st) == 21, "z status %#x", st);
	/* The live one too. */
	atomic_store(&or_p_gone, 1);
	pt_wait_for(&or_l_ppid, 1, 5 * TU_S);
	GCHECK(atomic_load(&or_l_ppid) == me, "l's ppid %d, reaper %d",
	    atomic_load(&or_l_ppid), (int)me);
	atomic_store(&rr_l_ppid_ok, 1);
	GCHECK(gp_waitpid(-1, &st, WNOHANG) == 0, "l alive: errno %d", errno);
	atomic_store(&or_l_release, 1);
	r = gp_waitpid(-1, &st, 0);
	GCHECK(r == l, "waitpid(-1) gave %d, l is %d (errno %d)", (int)r,
	    (int)l, errno);
	GCHECK(WIFEXITED(st) && WEXITSTATUS(st) == 31, "l status %#x", st);
	errno = 0;
	GCHECK(gp_waitpid(-1, &st, 0) == -1 && errno == ECHILD, "errno %d",
	    errno);
	return 0;
}

Test(wait, orphans_and_zombies_go_to_the_reaper_which_waits_for_them)
{
	pid_t r;
	int st;

	r = spawn_ok(rr_reaper, NULL);
	st = host_reap(r);
	assert_no_green_failures();
	cr_assert(eq(int, st, 0));
	cr_assert(eq(int, tu_ld(&rr_l_ppid_ok), 1));
	assert_err(gp_waitpid(-1, &st, WNOHANG), ECHILD);
	assert_procs_back();
	end_test();
}

/* --- several waiters ------------------------------------------------- */

/*
 * Three waiters (two LWPs of init and a host thread) block in
 * waitpid(-1) for the host's only child.  One gets it; the others must
 * wake with ECHILD, as they have no children left.
 */
static atomic_int bw_done, bw_got, bw_echild, bw_other;

static void
bw_wait_once(void)
{
	int st;
	pid_t r = gp_waitpid(-1, &st, 0);

	if (r > 0)
		atomic_fetch_add(&bw_got, 1);
	else if (errno == ECHILD)
		atomic_fetch_add(&bw_echild, 1);
	else
		atomic_fetch_add(&bw_other, 1);
	atomic_fetch_add(&bw_done, 1);
}

static void *
bw_lwp(void *arg)
{
	bw_wait_once();
	return arg;
}

static void *
bw_thread(void *arg)
{
	bw_wait_once();
	return arg;
}

Test(wait, blocked_waiters_get_echild_when_another_reaps_the_last_child)
{
	gp_lwp_t h[2];
	pthread_t t;
	struct timespec ts;
	pid_t p;
	int i;

	p = spawn_ok(wait_go_ret_arg, NULL);
	for (i = 0; i < 2; i++)
		cr_assert(eq(int, gp_lwp_create(&h[i], bw_lwp, NULL, NULL), 0));
	cr_assert(eq(int, pthread_create(&t, NULL, bw_thread, NULL), 0));
	tu_host_sleep_ns(50 * TU_MS);
	cr_assert(eq(int, tu_ld(&bw_done), 0), "a waiter returned early");
	atomic_store(&go, 1);
	cr_assert(eq(int, pt_wait_for(&bw_done, 3, 5 * TU_S), 0),
	    "%d of 3 waiters returned (got %d, ECHILD %d)", tu_ld(&bw_done),
	    tu_ld(&bw_got), tu_ld(&bw_echild));
	cr_assert(eq(int, tu_ld(&bw_got), 1));
	cr_assert(eq(int, tu_ld(&bw_echild), 2));
	cr_assert(eq(int, tu_ld(&bw_other), 0));
	for (i = 0; i < 2; i++)
		cr_assert(eq(int, gp_lwp_join(h[i], NULL), 0));
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	cr_assert(eq(int, pthread_timedjoin_np(t, NULL, &ts), 0));
	(void)p;
	end_test();
}

/*
 * Many children, many concurrent waiters: every child is reported
 * exactly once.  Pids may be reused after a reap, so the check is a net
 * count per pid (spawn +1, report -1) that must end at 0 everywhere, plus
 * the total.  Waiters stop on a "stopper" child (status 0xee), one each,
 * spawned once every ordinary child has been reaped.
 */
#define HSIZE	(1 << 17)
#define STOPPER	0xee

static atomic_int h_key[HSIZE];
static atomic_int h_net[HSIZE];
static atomic_int reaped_plain, reaped_stop, bad_status, wait_errs;

static unsigned
h_slot(pid_t pid)
{
	unsigned i = ((unsigned)pid * 2654435761u) >> 15 & (HSIZE - 1);
	int k;

	for (;;) {
		k = atomic_load(&h_key[i]);
		if (k == (int)pid)
			return i;
		if (k == 0) {
			if (atomic_compare_exchange_strong(&h_key[i], &k,
			    (int)pid) || k == (int)pid)
				return i;
		}
		i = (i + 1) & (HSIZE - 1);
	}
}

static int
exit_plain(void *arg)
{
	(void)arg;
	return 7;
}

static int
exit_stopper(void *arg)
{
	(void)arg;
	return STOPPER;
}

/* Reap until this waiter gets a stopper; ECHILD is transient here. */
static void
many_waiter(void)
{
	pid_t r;
	int st;

	for (;;) {
		r = gp_waitpid(-1, &st, 0);
		if (r > 0) {
			atomic_fetch_sub(&h_net[h_slot(r)], 1);
			if (!WIFEXITED(st)) {
				atomic_fetch_add(&bad_status, 1);
			} else if (WEXITSTATUS(st) == STOPPER) {
				atomic_fetch_add(&reaped_stop, 1);
				return;
			} else if (WEXITSTATUS(st) == 7) {
				atomic_fetch_add(&reaped_plain, 1);
			} else {
				atomic_fetch_add(&bad_status, 1);
			}
			continue;
		}
		if (errno != ECHILD) {
			pt_fail(__LINE__, "waitpid: %s", strerror(errno));
			atomic_fetch_add(&wait_errs, 1);
			return;
		}
		if (gp_lwp_self() != NULL)
			gp_yield();
		else
			sched_yield();
	}
}

static void *
many_waiter_lwp(void *arg)
{
	many_waiter();
	return arg;
}

static void *
many_waiter_thread(void *arg)
{
	many_waiter();
	return arg;
}

static void
spawn_counted(int (*fn)(void *))
{
	pid_t p = gp_spawn(fn, NULL, NULL);

	if (p <= 0) {
		pt_fail(__LINE__, "spawn: %s", strerror(errno));
		return;
	}
	atomic_fetch_add(&h_net[h_slot(p)], 1);
}

/* Spawn n plain children, then (once all are reaped) nstop stoppers. */
static void
spawn_many(int n, int nstop)
{
	uint64_t end;
	int i;

	for (i = 0; i < n; i++)
		spawn_counted(exit_plain);
	end = tu_now_ns() + 60 * TU_S;
	while (atomic_load(&reaped_plain) + atomic_load(&bad_status) < n &&
	    tu_now_ns() < end)
		pt_nap_ns(TU_MS);
	for (i = 0; i < nstop; i++)
		spawn_counted(exit_stopper);
}

static void
assert_many_reaped_once(int n, int nstop)
{
	int i, nonzero = 0;

	assert_no_green_failures();
	cr_assert(eq(int, tu_ld(&wait_errs), 0));
	cr_assert(eq(int, tu_ld(&bad_status), 0));
	cr_assert(eq(int, tu_ld(&reaped_plain), n));
	cr_assert(eq(int, tu_ld(&reaped_stop), nstop));
	for (i = 0; i < HSIZE; i++)
		if (atomic_load(&h_net[i]) != 0)
			nonzero++;
	cr_assert(eq(int, nonzero, 0),
	    "%d pids reported a different number of times than spawned",
	    nonzero);
}

#define NMANY		10000
#define NLWPW		4
#define NTHRW		2

Test(waitmany, green_and_host_waiters_reap_10k_children_of_init_once)
{
	gp_lwp_t h[NLWPW];
	pthread_t t[NTHRW];
	struct timespec ts;
	int i;

	for (i = 0; i < NLWPW; i++)
		cr_assert(eq(int, gp_lwp_create(&h[i], many_waiter_lwp, NULL,
		    NULL), 0));
	for (i = 0; i < NTHRW; i++)
		cr_assert(eq(int, pthread_create(&t[i], NULL,
		    many_waiter_thread, NULL), 0));
	spawn_many(NMANY, NLWPW + NTHRW);
	for (i = 0; i < NLWPW; i++)
		cr_assert(eq(int, gp_lwp_join(h[i], NULL), 0));
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 30;
	for (i = 0; i < NTHRW; i++)
		cr_assert(eq(int, pthread_timedjoin_np(t[i], NULL, &ts), 0),
		    "host waiter %d hangs", i);
	assert_many_reaped_once(NMANY, NLWPW + NTHRW);
	assert_err(gp_waitpid(-1, NULL, WNOHANG), ECHILD);
	assert_procs_back();
	end_test();
}

/* The same inside one green parent: its master spawns, 4 LWPs wait. */
#define NGREEN	3000

static int
green_parent_of_many(void *arg)
{
	gp_lwp_t h[NLWPW];
	int i;

	(void)arg;
	for (i = 0; i < NLWPW; i++)
		GCHECK(gp_lwp_create(&h[i], many_waiter_lwp, NULL, NULL) == 0,
		    "create");
	spawn_many(NGREEN, NLWPW);
	for (i = 0; i < NLWPW; i++)
		GCHECK(gp_lwp_join(h[i], NULL) == 0, "join");
	errno = 0;
	GCHECK(gp_waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD,
	    "errno %d", errno);
	return 0;
}

Test(waitmany, four_lwps_of_a_green_parent_reap_its_children_once)
{
	pid_t p = spawn_ok(green_parent_of_many, NULL);
	int st = host_reap(p);

	cr_assert(eq(int, st, 0));
	assert_many_reaped_once(NGREEN, NLWPW);
	assert_procs_back();
	end_test();
}
