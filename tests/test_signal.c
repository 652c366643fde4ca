/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_signal.c -- green signals: gp_kill targets and errors, default
 * actions, handlers at cancellation points, masks, stop/continue and
 * their wait reports, gp_waitid, EINTR and SA_RESTART, kills of blocked
 * processes, SIGCHLD SIG_IGN / SA_NOCLDWAIT, exit signals, spawn and exec
 * inheritance, process groups and job control (fixjobc, orphaned groups),
 * gp_proc_watch.
 *
 * Criterion asserts run only on the host thread; green code (processes,
 * LWPs, handlers) records what it saw in globals or reports with
 * GCHECK() (proctest.h).  Each Criterion test runs in its own process,
 * so globals start at zero.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "greenproc.h"
#include "testutil.h"
#include "proctest.h"



/* A broken stop, wait or wake-up hangs: bound every test. */
TestSuite(signal, .init = pt_setup, .fini = pt_teardown, .timeout = 30.0);

/* A failing .fini does not fail the test (Criterion#211). */

#define assert_killed_by(st, sig) do {					\
	int s_ = (st);							\
	cr_assert(ne(int, (int)WIFSIGNALED(s_), 0),			\
	    "status %#x: not killed by a signal (want %d)", s_, (sig));	\
	cr_assert(eq(int, (int)WTERMSIG(s_), (sig)), "status %#x", s_);	\
} while (0)

#define assert_exited_with(st, code) do {				\
	int s_ = (st);							\
	cr_assert(ne(int, (int)WIFEXITED(s_), 0),			\
	    "status %#x: did not exit normally (want code %d)", s_, (code)); \
	cr_assert(eq(int, (int)WEXITSTATUS(s_), (code)), "status %#x", s_); \
} while (0)

#define NOPID	(GP_PID_BASE + 0x3fff0123)	/* a green pid nobody has */

/* Install fn for sig in the calling process (0 or -1). */
static int
catch_sig(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = flags;
	return gp_sigaction(sig, &sa, NULL);
}

static int
set_disp(int sig, void (*disp)(int))
{
	return catch_sig(sig, disp, 0);
}

/* (sig) in the calling LWP's mask: 1, 0, or -1 on error. */
static int
lwp_blocks(int sig)
{
	sigset_t m;

	if (gp_sigprocmask(SIG_BLOCK, NULL, &m) != 0)
		return -1;
	return sigismember(&m, sig);
}

static int
mask_one(int how, int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	return gp_sigprocmask(how, &s, NULL);
}

static atomic_int go;		/* host -> green: carry on */
static atomic_int ready;	/* green -> host: set up */

/* Handler counts per signal (every process of a test shares them). */
static atomic_int caught[65];

static void
count_handler(int sig)
{
	atomic_fetch_add(&caught[sig], 1);
}

/* Children. */
static int
wait_go_ret_arg(void *arg)
{
	atomic_fetch_add(&ready, 1);
	pt_green_wait(&go);
	return (int)(intptr_t)arg;
}

static int
ret_arg(void *arg)
{
	return (int)(intptr_t)arg;
}

/* ------------------------------------------------------------ gp_kill */

Test(signal, kill_probe_and_argument_errors)
{
	pid_t p, z;
	int st;

	p = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)3);
	cr_assert(eq(int, gp_kill(p, 0), 0), "probe of a live child: %s",
	    strerror(errno));
	cr_assert(eq(int, gp_kill(-p, 0), 0), "probe of its group: %s",
	    strerror(errno));
	assert_err(gp_kill(NOPID, 0), ESRCH);
	assert_err(gp_kill(-NOPID, 0), ESRCH);
	assert_err(gp_kill(getpid(), 0), ESRCH);
	assert_err(gp_kill(getpid(), SIGTERM), ESRCH);
	if (getpgrp() > 1)
		assert_err(gp_kill(-getpgrp(), 0), ESRCH);
	assert_err(gp_kill(p, 65), EINVAL);
	assert_err(gp_kill(p, -1), EINVAL);
	assert_err(gp_kill(NOPID, 65), EINVAL);
	assert_err(gp_kill(GP_PID_INIT, 0), EPERM);
	assert_err(gp_kill(GP_PID_INIT, SIGKILL), EPERM);
	assert_err(gp_kill(0, SIGTERM), ESRCH);
	assert_err(gp_kill(0, 0), ESRCH);
	/* None of that touched p. */
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG), 0));

	/* A zombie still exists for kill(pid, 0). */
	z = spawn_ok(ret_arg, (void *)(intptr_t)4);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	for (int i = 0; i < 2000; i++) {	/* until z is a zombie */
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (gp_waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT | WNOHANG)
		    == 0 && si.si_pid == z)
			break;
		tu_host_sleep_ns(TU_MS);
	}
	cr_assert(eq(int, gp_kill(z, 0), 0), "probe of a zombie: %s",
	    strerror(errno));
	cr_assert(eq(int, gp_kill(z, SIGKILL), 0), "kill of a zombie: %s",
	    strerror(errno));
	st = host_reap(z);
	assert_exited_with(st, 4);
	assert_err(gp_kill(z, 0), ESRCH);

	atomic_store(&go, 1);
	st = host_reap(p);
	assert_exited_with(st, 3);
	end_test();
}

/* Processes that record, by slot, the SIGUSR1s they caught. */
#define NSLOT	6
static atomic_int slot_pid[NSLOT];
static atomic_int slot_hits[NSLOT];

static void
slot_handler(int sig)
{
	pid_t me = gp_getpid();

	(void)sig;
	for (int i = 0; i < NSLOT; i++)
		if (atomic_load(&slot_pid[i]) == me)
			atomic_fetch_add(&slot_hits[i], 1);
}

static int
slot_child(void *arg)
{
	int i = (int)(intptr_t)arg;

	GCHECK(catch_sig(SIGUSR1, slot_handler, 0) == 0, "sigaction: %s",
	    strerror(errno));
	atomic_store(&slot_pid[i], gp_getpid());
	atomic_fetch_add(&ready, 1);
	pt_green_wait(&go);
	return 0;
}

Test(signal, kill_minus_pgid_reaches_every_member_of_the_group)
{
	pid_t a, b, c;
	int i;

	a = spawn_ok(slot_child, (void *)(intptr_t)0);
	b = spawn_ok(slot_child, (void *)(intptr_t)1);
	c = spawn_ok(slot_child, (void *)(intptr_t)2);
	cr_assert(eq(int, gp_setpgid(c, a), 0), "%s", strerror(errno));
	cr_assert(eq(int, pt_wait_for(&ready, 3, 5 * TU_S), 0));

	cr_assert(eq(int, gp_kill(-a, SIGUSR1), 0), "%s", strerror(errno));
	cr_assert(eq(int, pt_wait_for(&slot_hits[0], 1, 5 * TU_S), 0),
	    "a (the group leader) did not get it");
	cr_assert(eq(int, pt_wait_for(&slot_hits[2], 1, 5 * TU_S), 0),
	    "c (a member) did not get it");
	tu_host_sleep_ns(30 * TU_MS);
	cr_assert(eq(int, tu_ld(&slot_hits[1]), 0), "b is not in group a");
	cr_assert(eq(int, tu_ld(&slot_hits[0]), 1));
	cr_assert(eq(int, tu_ld(&slot_hits[2]), 1));

	atomic_store(&go, 1);
	for (i = 0; i < 3; i++) {
		pid_t q = i == 0 ? a : i == 1 ? b : c;

		assert_exited_with(host_reap(q), 0);
	}
	assert_no_green_failures();
	end_test();
}

/* A green caller: gp_kill(0) is its own group, -1 everyone but itself. */
static int
kill_all_caller(void *arg)
{
	pid_t c1, c2;
	int st;

	(void)arg;
	GCHECK(catch_sig(SIGUSR1, slot_handler, 0) == 0, "sigaction");
	GCHECK(catch_sig(SIGUSR2, count_handler, 0) == 0, "sigaction");
	atomic_store(&slot_pid[3], gp_getpid());
	/* Two children in our group. */
	c1 = gp_spawn(slot_child, (void *)(intptr_t)4, NULL);
	c2 = gp_spawn(slot_child, (void *)(intptr_t)5, NULL);
	GCHECK(c1 > GP_PID_INIT && c2 > GP_PID_INIT, "spawn");
	GCHECK(gp_getpgid(c1) == gp_getpid(), "c1's group %d", gp_getpgid(c1));
	pt_green_wait(&ready);			/* host says: all ready */
	while (atomic_load(&slot_pid[4]) == 0 || atomic_load(&slot_pid[5]) == 0)
		pt_nap_ns(TU_MS);
	/* -1: every green process but us. */
	GCHECK(gp_kill(-1, SIGUSR1) == 0, "kill(-1): %s", strerror(errno));
	pt_nap_ns(50 * TU_MS);
	GCHECK(atomic_load(&slot_hits[3]) == 0, "kill(-1) reached the caller");
	/* 0: our group (us and our two children), nobody else. */
	GCHECK(gp_kill(0, SIGUSR2) == 0, "kill(0): %s", strerror(errno));
	pt_nap_ns(50 * TU_MS);
	GCHECK(atomic_load(&caught[SIGUSR2]) == 1, "kill(0) reached %d "
	    "processes with a SIGUSR2 handler, want 1 (the caller)",
	    atomic_load(&caught[SIGUSR2]));
	atomic_fetch_add(&ready, 100);
	pt_green_wait(&go);
	GCHECK(gp_waitpid(c1, &st, 0) == c1, "reap c1");
	GCHECK(gp_waitpid(c2, &st, 0) == c2, "reap c2");
	return 0;
}

static atomic_int others_done;

static int
other_usr2_dies(void *arg)
{
	(void)arg;
	/* SIGUSR2 default: terminate; SIGUSR1 caught. */
	GCHECK(catch_sig(SIGUSR1, slot_handler, 0) == 0, "sigaction");
	atomic_store(&slot_pid[(int)(intptr_t)arg], gp_getpid());
	atomic_fetch_add(&others_done, 1);
	pt_green_wait(&go);
	return 0;
}

Test(signal, kill_minus_1_reaches_every_green_process_but_the_caller)
{
	pid_t o0, o1, k;
	int st;

	o0 = spawn_ok(other_usr2_dies, (void *)(intptr_t)0);
	o1 = spawn_ok(other_usr2_dies, (void *)(intptr_t)1);
	cr_assert(eq(int, pt_wait_for(&others_done, 2, 5 * TU_S), 0));
	k = spawn_ok(kill_all_caller, NULL);
	atomic_store(&ready, 1);
	cr_assert(eq(int, pt_wait_for(&ready, 100, 10 * TU_S), 0),
	    "the caller did not finish");
	for (int i = 0; i < NSLOT; i++)
		if (i != 2 && i != 3)
			cr_assert(eq(int, tu_ld(&slot_hits[i]), 1),
			    "slot %d got %d SIGUSR1 from kill(-1)", i,
			    tu_ld(&slot_hits[i]));
	cr_assert(eq(int, tu_ld(&slot_hits[3]), 0));
	/* kill(0) from k must not have reached o0/o1 (other groups). */
	cr_assert(eq(int, gp_waitpid(o0, &st, WNOHANG), 0),
	    "o0 died: kill(0) left the caller's group");
	atomic_store(&go, 1);
	assert_exited_with(host_reap(o0), 0);
	assert_exited_with(host_reap(o1), 0);
	st = host_reap(k);
	assert_no_green_failures();
	/* k's children have SIGUSR2 at default: kill(0) killed them. */
	assert_exited_with(st, 0);
	end_test();
}

/* ------------------------------------------------------------ defaults */

Test(signal, default_terminating_signals_give_wifsignaled)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGKILL,
	    SIGUSR1, SIGQUIT };
	int i, st;

	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++) {
		pid_t p;

		atomic_store(&ready, 0);
		p = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)1);
		cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
		cr_assert(eq(int, gp_kill(p, sigs[i]), 0));
		st = host_reap(p);
		assert_killed_by(st, sigs[i]);
	}
	/* Before the child ever ran. */
	{
		pid_t p = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)1);

		cr_assert(eq(int, gp_kill(p, SIGTERM), 0));
		assert_killed_by(host_reap(p), SIGTERM);
	}
	assert_procs_back();
	end_test();
}

Test(signal, default_ignored_signals_leave_the_process_running)
{
	static const int sigs[] = { SIGCHLD, SIGURG, SIGWINCH };
	pid_t p;
	int i, st;

	p = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)7);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	for (i = 0; i < 3; i++)
		cr_assert(eq(int, gp_kill(p, sigs[i]), 0));
	tu_host_sleep_ns(50 * TU_MS);
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG), 0),
	    "a default-ignored signal ended the process (status %#x)", st);
	cr_assert(eq(int, gp_kill(p, 0), 0));
	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 7);
	end_test();
}

static int
ignore_term_then_wait(void *arg)
{
	(void)arg;
	GCHECK(set_disp(SIGTERM, SIG_IGN) == 0, "sigaction: %s",
	    strerror(errno));
	atomic_fetch_add(&ready, 1);
	pt_green_wait(&go);
	return 5;
}

Test(signal, sig_ign_sigterm_is_ignored)
{
	pid_t p;
	int st;

	p = spawn_ok(ignore_term_then_wait, NULL);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	cr_assert(eq(int, gp_kill(p, SIGTERM), 0));
	tu_host_sleep_ns(50 * TU_MS);
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG), 0),
	    "ignored SIGTERM ended the process (status %#x)", st);
	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 5);
	assert_no_green_failures();
	end_test();
}

/* ------------------------------------------------------------ handlers */

static _Atomic uintptr_t h_lwp;	/* the LWP the handler ran on */
static atomic_int h_blocked_self, h_blocked_extra, h_runs;
static atomic_int h_blocked_after, taker_done;
static gp_lwp_t taker;

static void
mask_probe_handler(int sig)
{
	atomic_store(&h_lwp, (uintptr_t)gp_lwp_self());
	atomic_store(&h_blocked_self, lwp_blocks(sig));
	atomic_store(&h_blocked_extra, lwp_blocks(SIGUSR2));
	atomic_fetch_add(&h_runs, 1);
}

static void *
taker_lwp(void *arg)
{
	(void)arg;
	GCHECK(mask_one(SIG_UNBLOCK, SIGUSR1) == 0, "unblock");
	while (atomic_load(&h_runs) == 0)
		pt_nap_ns(TU_MS);
	atomic_store(&h_blocked_after, lwp_blocks(SIGUSR1) * 10 +
	    lwp_blocks(SIGUSR2));
	atomic_store(&taker_done, 1);
	return NULL;
}

static int
two_lwps_one_blocks(void *arg)
{
	struct sigaction sa;
	void *rv;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mask_probe_handler;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	GCHECK(gp_sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
	GCHECK(mask_one(SIG_BLOCK, SIGUSR1) == 0, "block");
	GCHECK(gp_lwp_create(&taker, taker_lwp, NULL, NULL) == 0, "create");
	atomic_fetch_add(&ready, 1);
	/* This LWP blocks SIGUSR1 and keeps reaching cancellation points. */
	pt_green_wait(&go);
	GCHECK(gp_lwp_join(taker, &rv) == 0, "join");
	return 0;
}

Test(signal, handler_runs_on_an_lwp_that_does_not_block_it_with_masks)
{
	pid_t p;

	p = spawn_ok(two_lwps_one_blocks, NULL);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	tu_host_sleep_ns(10 * TU_MS);
	cr_assert(eq(int, gp_kill(p, SIGUSR1), 0));
	cr_assert(eq(int, pt_wait_for(&h_runs, 1, 5 * TU_S), 0),
	    "the handler never ran");
	cr_assert(eq(int, pt_wait_for(&taker_done, 1, 5 * TU_S), 0));
	tu_host_sleep_ns(20 * TU_MS);
	cr_assert(eq(int, tu_ld(&h_runs), 1), "one signal, one handler run");
	cr_assert(eq(ptr, (void *)tu_ldp(&h_lwp), (void *)taker),
	    "the handler ran on an LWP that blocks the signal");
	cr_assert(eq(int, tu_ld(&h_blocked_self), 1),
	    "the signal is not blocked during its handler");
	cr_assert(eq(int, tu_ld(&h_blocked_extra), 1),
	    "sa_mask is not blocked during the handler");
	cr_assert(eq(int, tu_ld(&h_blocked_after), 0),
	    "the mask was not restored after the handler (usr1*10+usr2 = %d)",
	    tu_ld(&h_blocked_after));
	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 0);
	assert_no_green_failures();
	end_test();
}

/* Never in the middle of user code: only at a cancellation point. */
static atomic_int sent, ran_during_spin, ran_after_yield;

static int
spin_then_yield(void *arg)
{
	(void)arg;
	GCHECK(catch_sig(SIGUSR1, count_handler, 0) == 0, "sigaction");
	atomic_store(&ready, 1);
	while (atomic_load(&sent) == 0)
		continue;		/* no cancellation point */
	tu_spin_ns(30 * TU_MS);
	atomic_store(&ran_during_spin, atomic_load(&caught[SIGUSR1]));
	gp_yield();
	atomic_store(&ran_after_yield, atomic_load(&caught[SIGUSR1]) + 100);
	return 0;
}

Test(signal, handler_waits_for_the_next_cancellation_point)
{
	pid_t p;

	p = spawn_ok(spin_then_yield, NULL);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	cr_assert(eq(int, gp_kill(p, SIGUSR1), 0));
	atomic_store(&sent, 1);
	assert_exited_with(host_reap(p), 0);
	cr_assert(eq(int, tu_ld(&ran_during_spin), 0),
	    "the handler ran in the middle of user code");
	cr_assert(eq(int, tu_ld(&ran_after_yield), 101),
	    "the handler did not run at gp_yield (count %d)",
	    tu_ld(&ran_after_yield) - 100);
	assert_no_green_failures();
	end_test();
}

/* gp_sigprocmask: a blocked signal waits until it is unblocked. */
static atomic_int before_unblock, after_unblock;

static int
block_then_unblock(void *arg)
{
	(void)arg;
	GCHECK(catch_sig(SIGUSR1, count_handler, 0) == 0, "sigaction");
	GCHECK(mask_one(SIG_BLOCK, SIGUSR1) == 0, "block");
	atomic_store(&ready, 1);
	pt_green_wait(&go);		/* host sent it, then set go */
	pt_nap_ns(30 * TU_MS);		/* cancellation points */
	gp_yield();
	atomic_store(&before_unblock, atomic_load(&caught[SIGUSR1]) + 100);
	GCHECK(mask_one(SIG_UNBLOCK, SIGUSR1) == 0, "unblock");
	atomic_store(&after_unblock, atomic_load(&caught[SIGUSR1]) + 100);
	gp_yield();
	return 0;
}

Test(signal, a_blocked_signal_is_delivered_when_unblocked)
{
	pid_t p;

	p = spawn_ok(block_then_unblock, NULL);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	cr_assert(eq(int, gp_kill(p, SIGUSR1), 0));
	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 0);
	cr_assert(eq(int, tu_ld(&before_unblock), 100),
	    "the handler ran while the signal was blocked");
	cr_assert(eq(int, tu_ld(&after_unblock), 101),
	    "not delivered by the unblocking gp_sigprocmask (count %d)",
	    tu_ld(&after_unblock) - 100);
	cr_assert(eq(int, tu_ld(&caught[SIGUSR1]), 1));
	assert_no_green_failures();
	end_test();
}

/* A blocked signal whose default action terminates stays pending too. */
static atomic_int survived_blocked;

static int
block_term_then_unblock(void *arg)
{
	(void)arg;
	GCHECK(mask_one(SIG_BLOCK, SIGTERM) == 0, "block");
	atomic_store(&ready, 1);
	pt_green_wait(&go);
	pt_nap_ns(30 * TU_MS);
	atomic_store(&survived_blocked, 1);
	mask_one(SIG_UNBLOCK, SIGTERM);
	pt_nap_ns(TU_S);
	return 0;
}

Test(signal, a_blocked_default_terminating_signal_waits_for_unblock)
{
	pid_t p;

	p = spawn_ok(block_term_then_unblock, NULL);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	cr_assert(eq(int, gp_kill(p, SIGTERM), 0));
	atomic_store(&go, 1);
	assert_killed_by(host_reap(p), SIGTERM);
	cr_assert(eq(int, tu_ld(&survived_blocked), 1),
	    "a blocked SIGTERM killed the process before it was unblocked");
	assert_no_green_failures();
	end_test();
}

/* ------------------------------------------------------------ stop/cont */

static atomic_long ctr_main, ctr_lwp;

static void *
count_lwp(void *arg)
{
	(void)arg;
	while (atomic_load(&go) == 0) {
		atomic_fetch_add(&ctr_lwp, 1);
		gp_yield();
	}
	return NULL;
}

static int
counting_child(void *arg)
{
	gp_lwp_t l;

	(void)arg;
	GCHECK(gp_lwp_create(&l, count_lwp, NULL, NULL) == 0, "create");
	while (atomic_load(&go) == 0) {
		atomic_fetch_add(&ctr_main, 1);
		gp_yield();
	}
	GCHECK(gp_lwp_join(l, NULL) == 0, "join");
	return 0;
}

static void
wait_counters_move(void)
{
	long m = tu_ldl(&ctr_main), w = tu_ldl(&ctr_lwp);
	uint64_t end = tu_now_ns() + 5 * TU_S;

	while ((tu_ldl(&ctr_main) == m || tu_ldl(&ctr_lwp) == w) &&
	    tu_now_ns() < end)
		tu_host_sleep_ns(TU_MS);
	cr_assert(ne(long, tu_ldl(&ctr_main), m), "main LWP does not run");
	cr_assert(ne(long, tu_ldl(&ctr_lwp), w), "second LWP does not run");
}

Test(signal, sigstop_and_sigcont_are_reported_once_and_freeze_every_lwp)
{
	long m1, w1;
	pid_t p;
	int st;

	p = spawn_ok(counting_child, NULL);
	wait_counters_move();

	cr_assert(eq(int, gp_kill(p, SIGSTOP), 0));
	st = 0;
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WUNTRACED), (int)p), "%s",
	    strerror(errno));
	cr_assert(ne(int, (int)WIFSTOPPED(st), 0), "status %#x", st);
	cr_assert(eq(int, (int)WSTOPSIG(st), SIGSTOP), "status %#x", st);
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG | WUNTRACED), 0),
	    "the stop was reported twice");
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG | WCONTINUED), 0));

	tu_host_sleep_ns(10 * TU_MS);	/* each LWP parks at its next yield */
	m1 = tu_ldl(&ctr_main);
	w1 = tu_ldl(&ctr_lwp);
	tu_host_sleep_ns(50 * TU_MS);
	cr_assert(eq(long, tu_ldl(&ctr_main), m1), "a stopped LWP ran");
	cr_assert(eq(long, tu_ldl(&ctr_lwp), w1), "a stopped LWP ran");
	/* A second SIGSTOP adds no report. */
	cr_assert(eq(int, gp_kill(p, SIGSTOP), 0));
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG | WUNTRACED), 0),
	    "a stop of a stopped process was reported");

	cr_assert(eq(int, gp_kill(p, SIGCONT), 0));
	st = 0;
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WCONTINUED), (int)p), "%s",
	    strerror(errno));
	cr_assert(eq(int, st, 0xffff), "continued status %#x", st);
	cr_assert(ne(int, (int)WIFCONTINUED(st), 0));
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG | WCONTINUED |
	    WUNTRACED), 0), "the continue was reported twice");
	wait_counters_move();

	/* Once more, for good measure; then a kill of a stopped process. */
	cr_assert(eq(int, gp_kill(p, SIGSTOP), 0));
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WUNTRACED), (int)p));
	cr_assert(eq(int, (int)WSTOPSIG(st), SIGSTOP));
	cr_assert(eq(int, gp_kill(p, SIGTERM), 0));
	tu_host_sleep_ns(20 * TU_MS);
	/* SIGTERM to a stopped process: Linux kills it (a fatal signal
	 * wakes a stopped process). */
	cr_assert(eq(int, gp_kill(p, SIGKILL), 0));
	st = host_reap(p);
	cr_assert(eq(int, (int)WIFSIGNALED(st), 1), "status %#x", st);
	assert_procs_back();
	end_test();
}

/*
 * A default-fatal signal waits while the process is stopped and ends it
 * at SIGCONT (Linux's wants_signal(), BSD's P_SHOULDSTOP; only SIGKILL
 * acts on a stopped process).  The differential test found it.
 */
Test(signal, a_stopped_process_dies_of_sigterm_or_at_sigcont)
{
	pid_t p;
	int st;

	p = spawn_ok(counting_child, NULL);
	wait_counters_move();
	cr_assert(eq(int, gp_kill(p, SIGSTOP), 0));
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WUNTRACED), (int)p));
	cr_assert(eq(int, gp_kill(p, SIGTERM), 0));
	/* Still stopped: no exit to report, whatever the delay. */
	tu_host_sleep_ns(20 * TU_MS);
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG), 0),
	    "SIGTERM ended a stopped process before SIGCONT");
	cr_assert(eq(int, gp_kill(p, SIGCONT), 0));
	st = 0;
	for (;;) {
		pid_t r = gp_waitpid(p, &st, WCONTINUED);

		cr_assert(eq(int, (int)r, (int)p), "%s", strerror(errno));
		if (!WIFCONTINUED(st))
			break;
	}
	assert_killed_by(st, SIGTERM);
	end_test();
}

/* ------------------------------------------------------------ waitid */

static int
exit_5(void *arg)
{
	(void)arg;
	gp_exit(5);
}

#define assert_si(si, pid, code, status) do {				\
	cr_assert(eq(int, (si).si_signo, SIGCHLD), "si_signo %d", (si).si_signo); \
	cr_assert(eq(int, (int)(si).si_pid, (int)(pid)), "si_pid");	\
	cr_assert(eq(int, (si).si_code, (code)), "si_code %d, want %d",	\
	    (si).si_code, (code));					\
	cr_assert(eq(int, (si).si_status, (status)), "si_status %d, want %d", \
	    (si).si_status, (status));					\
} while (0)

Test(signal, waitid_reports_exit_kill_stop_continue_and_wnowait)
{
	siginfo_t si;
	pid_t a, b, c;

	/* Exited, with WNOWAIT first. */
	a = spawn_ok(exit_5, NULL);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)a, &si, WEXITED | WNOWAIT), 0),
	    "%s", strerror(errno));
	assert_si(si, a, CLD_EXITED, 5);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_ALL, 0, &si, WEXITED | WNOWAIT), 0));
	assert_si(si, a, CLD_EXITED, 5);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)a, &si, WEXITED), 0));
	assert_si(si, a, CLD_EXITED, 5);
	assert_err(gp_waitid(P_PID, (id_t)a, &si, WEXITED), ECHILD);

	/* Killed. */
	b = spawn_ok(wait_go_ret_arg, NULL);
	cr_assert(eq(int, gp_kill(b, SIGTERM), 0));
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)b, &si, WEXITED), 0));
	assert_si(si, b, CLD_KILLED, SIGTERM);

	/* Stopped, continued, killed. */
	c = spawn_ok(wait_go_ret_arg, NULL);
	cr_assert(eq(int, gp_kill(c, SIGSTOP), 0));
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WSTOPPED | WNOWAIT),
	    0), "%s", strerror(errno));
	assert_si(si, c, CLD_STOPPED, SIGSTOP);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WSTOPPED), 0),
	    "WNOWAIT consumed the stop report");
	assert_si(si, c, CLD_STOPPED, SIGSTOP);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WSTOPPED | WNOHANG),
	    0));
	cr_assert(eq(int, (int)si.si_pid, 0), "stop reported twice");
	/* WEXITED alone does not see a stop. */
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WEXITED | WNOHANG),
	    0));
	cr_assert(eq(int, (int)si.si_pid, 0));

	cr_assert(eq(int, gp_kill(c, SIGCONT), 0));
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WCONTINUED | WNOWAIT),
	    0));
	assert_si(si, c, CLD_CONTINUED, SIGCONT);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WCONTINUED), 0));
	assert_si(si, c, CLD_CONTINUED, SIGCONT);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WCONTINUED | WNOHANG),
	    0));
	cr_assert(eq(int, (int)si.si_pid, 0), "continue reported twice");

	cr_assert(eq(int, gp_kill(c, SIGKILL), 0));
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT),
	    0));
	assert_si(si, c, CLD_KILLED, SIGKILL);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_ALL, 0, &si, WEXITED), 0));
	assert_si(si, c, CLD_KILLED, SIGKILL);
	assert_err(gp_waitid(P_ALL, 0, &si, WEXITED), ECHILD);
	assert_procs_back();
	end_test();
}

/* ------------------------------------------------------------ stop/cont */

/*
 * What wait reports after a stop and a continue that nobody collected in
 * between follows Linux and FreeBSD (checked with real fork() children):
 * the newer of the two supersedes the older, so only CONTINUED is left
 * after stop+cont, only STOPPED after cont+stop.  A green stop takes
 * effect when it is posted; the naps below only let the LWPs park.
 */

/* The single report (pid) has for (options) | WNOHANG: its status, or -1. */
static int
sc_status(pid_t pid, int options)
{
	int st = -1;
	pid_t r = gp_waitpid(pid, &st, options | WNOHANG);

	cr_assert(ge(int, (int)r, 0), "waitpid(%d): %s", (int)pid,
	    strerror(errno));
	return r == 0 ? -1 : st;
}

#define assert_no_report(pid, options)					\
	cr_assert(eq(int, sc_status((pid), (options)), -1),		\
	    "an uncollected report superseded by a newer one was still "  \
	    "reported (%s)", #options)

Test(signal, sigcont_supersedes_an_uncollected_stop)
{
	pid_t p;
	int st;

	p = spawn_ok(wait_go_ret_arg, NULL);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	cr_assert(eq(int, gp_kill(p, SIGSTOP), 0));
	tu_host_sleep_ns(10 * TU_MS);
	cr_assert(eq(int, gp_kill(p, SIGCONT), 0));
	/* Linux: WUNTRACED|WNOHANG alone returns 0. */
	assert_no_report(p, WUNTRACED);
	st = sc_status(p, WCONTINUED);
	cr_assert(ne(int, (int)WIFCONTINUED(st), 0), "status %#x", st);
	assert_no_report(p, WUNTRACED | WCONTINUED);

	/*
	 * Back to back: Linux may drop the stop before it takes effect and
	 * report nothing; a green stop took effect when posted, so the
	 * continue is reported (the documented difference).
	 */
	cr_assert(eq(int, gp_kill(p, SIGSTOP), 0));
	cr_assert(eq(int, gp_kill(p, SIGCONT), 0));
	assert_no_report(p, WUNTRACED);
	st = sc_status(p, WUNTRACED | WCONTINUED);
	cr_assert(ne(int, (int)WIFCONTINUED(st), 0), "status %#x", st);

	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 0);
	assert_procs_back();
	end_test();
}

Test(signal, a_new_stop_supersedes_an_uncollected_continue)
{
	pid_t p;
	int st;

	p = spawn_ok(wait_go_ret_arg, NULL);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	cr_assert(eq(int, gp_kill(p, SIGSTOP), 0));
	st = sc_status(p, WUNTRACED);
	cr_assert(ne(int, (int)WIFSTOPPED(st), 0), "status %#x", st);
	cr_assert(eq(int, gp_kill(p, SIGCONT), 0));
	tu_host_sleep_ns(10 * TU_MS);
	cr_assert(eq(int, gp_kill(p, SIGSTOP), 0));
	/* Linux: the new stop clears the pending CLD_CONTINUED. */
	assert_no_report(p, WCONTINUED);
	st = sc_status(p, WUNTRACED | WCONTINUED);
	cr_assert(ne(int, (int)WIFSTOPPED(st), 0), "status %#x", st);
	cr_assert(eq(int, (int)WSTOPSIG(st), SIGSTOP), "status %#x", st);
	assert_no_report(p, WUNTRACED | WCONTINUED);

	cr_assert(eq(int, gp_kill(p, SIGCONT), 0));
	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 0);
	assert_procs_back();
	end_test();
}

Test(signal, group_sigcont_supersedes_uncollected_stops)
{
	pid_t a, b, r;
	int st, i, seen = 0;

	a = spawn_ok(wait_go_ret_arg, NULL);
	b = spawn_ok(wait_go_ret_arg, NULL);
	cr_assert(eq(int, gp_setpgid(b, a), 0), "%s", strerror(errno));
	cr_assert(eq(int, pt_wait_for(&ready, 2, 5 * TU_S), 0));
	cr_assert(eq(int, gp_kill(-a, SIGSTOP), 0));
	tu_host_sleep_ns(10 * TU_MS);
	cr_assert(eq(int, gp_kill(-a, SIGCONT), 0));
	assert_no_report(-a, WUNTRACED);
	for (i = 0; i < 2; i++) {
		st = -1;
		r = gp_waitpid(-a, &st, WUNTRACED | WCONTINUED | WNOHANG);
		cr_assert(r == a || r == b, "report %d: waitpid gave %d (%s)",
		    i, (int)r, r < 0 ? strerror(errno) : "no report");
		cr_assert(ne(int, (int)WIFCONTINUED(st), 0), "status %#x", st);
		seen |= r == a ? 1 : 2;
	}
	cr_assert(eq(int, seen, 3), "one member reported twice");
	assert_no_report(-a, WUNTRACED | WCONTINUED);

	/* And the reverse, for the group: cont, then a new stop. */
	cr_assert(eq(int, gp_kill(-a, SIGSTOP), 0));
	cr_assert(eq(int, gp_kill(-a, SIGCONT), 0));
	cr_assert(eq(int, gp_kill(-a, SIGSTOP), 0));
	assert_no_report(-a, WCONTINUED);
	for (i = 0; i < 2; i++) {
		st = sc_status(-a, WUNTRACED | WCONTINUED);
		cr_assert(ne(int, (int)WIFSTOPPED(st), 0), "status %#x", st);
	}
	assert_no_report(-a, WUNTRACED | WCONTINUED);

	cr_assert(eq(int, gp_kill(-a, SIGCONT), 0));
	atomic_store(&go, 1);
	assert_exited_with(host_reap(a), 0);
	assert_exited_with(host_reap(b), 0);
	assert_procs_back();
	end_test();
}

Test(signal, waitid_and_wnowait_see_only_the_newer_of_stop_and_continue)
{
	siginfo_t si;
	pid_t c;

	c = spawn_ok(wait_go_ret_arg, NULL);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	cr_assert(eq(int, gp_kill(c, SIGSTOP), 0));
	/* The stop took effect and is left uncollected by WNOWAIT. */
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WSTOPPED | WNOWAIT),
	    0), "%s", strerror(errno));
	assert_si(si, c, CLD_STOPPED, SIGSTOP);
	cr_assert(eq(int, gp_kill(c, SIGCONT), 0));
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WSTOPPED | WNOHANG),
	    0));
	cr_assert(eq(int, (int)si.si_pid, 0), "a superseded stop was "
	    "reported (si_code %d)", si.si_code);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_ALL, 0, &si, WSTOPPED | WCONTINUED |
	    WNOWAIT), 0));
	assert_si(si, c, CLD_CONTINUED, SIGCONT);

	/* A new stop supersedes the continue that WNOWAIT left. */
	cr_assert(eq(int, gp_kill(c, SIGSTOP), 0));
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WCONTINUED | WNOHANG),
	    0));
	cr_assert(eq(int, (int)si.si_pid, 0), "a superseded continue was "
	    "reported");
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WSTOPPED |
	    WCONTINUED), 0));
	assert_si(si, c, CLD_STOPPED, SIGSTOP);
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_ALL, 0, &si, WSTOPPED | WCONTINUED |
	    WNOHANG), 0));
	cr_assert(eq(int, (int)si.si_pid, 0), "reported twice");

	cr_assert(eq(int, gp_kill(c, SIGKILL), 0));
	memset(&si, 0, sizeof(si));
	cr_assert(eq(int, gp_waitid(P_PID, (id_t)c, &si, WEXITED), 0));
	assert_si(si, c, CLD_KILLED, SIGKILL);
	assert_procs_back();
	end_test();
}

/* ------------------------------------------------------------ EINTR */

static atomic_int w_started, w_result, w_errno, w_done, w_go_seen;
static atomic_int w_status;

static int
green_waiter(void *arg)
{
	int flags = (int)(intptr_t)arg;
	pid_t c, r;
	int st = -1;

	GCHECK(catch_sig(SIGUSR1, count_handler, flags) == 0, "sigaction");
	c = gp_spawn(wait_go_ret_arg, (void *)(intptr_t)9, NULL);
	GCHECK(c > GP_PID_INIT, "spawn");
	atomic_store(&w_started, 1);
	errno = 0;
	r = gp_waitpid(c, &st, 0);
	atomic_store(&w_errno, errno);
	atomic_store(&w_result, r == c ? 1 : (int)r);
	atomic_store(&w_status, st);
	atomic_store(&w_go_seen, atomic_load(&go));
	atomic_store(&w_done, 1);
	if (r != c) {
		r = gp_waitpid(c, &st, 0);
		GCHECK(r == c, "second wait: %d %s", (int)r, strerror(errno));
		GCHECK(WEXITSTATUS(st) == 9, "status %#x", st);
	}
	return 0;
}

Test(signal, a_caught_signal_interrupts_waitpid_with_eintr)
{
	pid_t p;

	p = spawn_ok(green_waiter, (void *)(intptr_t)0);
	cr_assert(eq(int, pt_wait_for(&w_started, 1, 5 * TU_S), 0));
	tu_host_sleep_ns(20 * TU_MS);
	cr_assert(eq(int, gp_kill(p, SIGUSR1), 0));
	cr_assert(eq(int, pt_wait_for(&w_done, 1, 5 * TU_S), 0),
	    "waitpid was not interrupted");
	cr_assert(eq(int, tu_ld(&w_result), -1));
	cr_assert(eq(int, tu_ld(&w_errno), EINTR), "errno %d",
	    tu_ld(&w_errno));
	cr_assert(eq(int, tu_ld(&caught[SIGUSR1]), 1), "handler runs: %d",
	    tu_ld(&caught[SIGUSR1]));
	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 0);
	assert_no_green_failures();
	assert_procs_back();
	end_test();
}

Test(signal, sa_restart_keeps_waitpid_waiting)
{
	pid_t p;

	p = spawn_ok(green_waiter, (void *)(intptr_t)SA_RESTART);
	cr_assert(eq(int, pt_wait_for(&w_started, 1, 5 * TU_S), 0));
	tu_host_sleep_ns(20 * TU_MS);
	cr_assert(eq(int, gp_kill(p, SIGUSR1), 0));
	cr_assert(eq(int, pt_wait_for(&caught[SIGUSR1], 1, 5 * TU_S), 0),
	    "the handler did not run");
	tu_host_sleep_ns(30 * TU_MS);
	cr_assert(eq(int, tu_ld(&w_done), 0),
	    "waitpid returned (%d, errno %d) under SA_RESTART",
	    tu_ld(&w_result), tu_ld(&w_errno));
	atomic_store(&go, 1);
	cr_assert(eq(int, pt_wait_for(&w_done, 1, 5 * TU_S), 0));
	cr_assert(eq(int, tu_ld(&w_result), 1), "waitpid gave %d errno %d",
	    tu_ld(&w_result), tu_ld(&w_errno));
	cr_assert(eq(int, WEXITSTATUS(tu_ld(&w_status)), 9));
	cr_assert(eq(int, tu_ld(&w_go_seen), 1));
	assert_exited_with(host_reap(p), 0);
	assert_no_green_failures();
	end_test();
}

static atomic_int ns_rc, ns_errno, ns_done;
static atomic_long ns_rem_ns, ns_elapsed;

static int
green_sleeper(void *arg)
{
	struct timespec req = { 2, 0 }, rem = { -1, -1 };
	uint64_t t0;
	int rc;

	(void)arg;
	GCHECK(catch_sig(SIGUSR1, count_handler, 0) == 0, "sigaction");
	atomic_store(&ready, 1);
	t0 = tu_now_ns();
	errno = 0;
	rc = gp_nanosleep(&req, &rem);
	atomic_store(&ns_errno, errno);
	atomic_store(&ns_elapsed, (long)(tu_now_ns() - t0));
	atomic_store(&ns_rc, rc);
	atomic_store(&ns_rem_ns, (long)rem.tv_sec * (long)TU_S + rem.tv_nsec);
	atomic_store(&ns_done, 1);
	return 0;
}

Test(signal, a_caught_signal_interrupts_nanosleep_and_fills_rem)
{
	pid_t p;
	long rem;

	p = spawn_ok(green_sleeper, NULL);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	tu_host_sleep_ns(30 * TU_MS);
	cr_assert(eq(int, gp_kill(p, SIGUSR1), 0));
	assert_exited_with(host_reap(p), 0);
	cr_assert(eq(int, tu_ld(&ns_done), 1));
	cr_assert(eq(int, tu_ld(&ns_rc), -1), "nanosleep was not interrupted");
	cr_assert(eq(int, tu_ld(&ns_errno), EINTR));
	cr_assert(eq(int, tu_ld(&caught[SIGUSR1]), 1));
	cr_assert(lt(long, tu_ldl(&ns_elapsed), (long)TU_S));
	rem = tu_ldl(&ns_rem_ns);
	cr_assert(ge(long, rem, (long)TU_S), "rem %ld ns", rem);
	cr_assert(lt(long, rem, 2 * (long)TU_S), "rem %ld ns", rem);
	end_test();
}

/* A join is not interrupted: the handler runs and the join resumes. */
static atomic_int j_rc, j_done, j_done_in_handler;
static _Atomic uintptr_t j_rv;

static void
join_handler(int sig)
{
	atomic_store(&j_done_in_handler, atomic_load(&j_done) + 10);
	count_handler(sig);
}

static void *
joinee(void *arg)
{
	(void)arg;
	mask_one(SIG_BLOCK, SIGUSR1);	/* the joiner takes it */
	pt_green_wait(&go);
	return (void *)(uintptr_t)0x5a;
}

static int
green_joiner(void *arg)
{
	gp_lwp_t l;
	void *rv = NULL;

	(void)arg;
	GCHECK(catch_sig(SIGUSR1, join_handler, 0) == 0, "sigaction");
	GCHECK(gp_lwp_create(&l, joinee, NULL, NULL) == 0, "create");
	atomic_store(&ready, 1);
	atomic_store(&j_rc, gp_lwp_join(l, &rv));
	atomic_store(&j_rv, (uintptr_t)rv);
	atomic_store(&j_done, 1);
	return 0;
}

Test(signal, lwp_join_runs_the_handler_and_resumes)
{
	pid_t p;

	p = spawn_ok(green_joiner, NULL);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	tu_host_sleep_ns(20 * TU_MS);
	cr_assert(eq(int, gp_kill(p, SIGUSR1), 0));
	cr_assert(eq(int, pt_wait_for(&caught[SIGUSR1], 1, 5 * TU_S), 0),
	    "the handler did not run during the join");
	tu_host_sleep_ns(20 * TU_MS);
	cr_assert(eq(int, tu_ld(&j_done), 0), "join returned early (rc %d)",
	    tu_ld(&j_rc));
	cr_assert(eq(int, tu_ld(&j_done_in_handler), 10));
	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 0);
	cr_assert(eq(int, tu_ld(&j_rc), 0), "join: %d", tu_ld(&j_rc));
	cr_assert(eq(int, (int)tu_ldp(&j_rv), 0x5a));
	assert_no_green_failures();
	end_test();
}

/* ------------------------------------------------------------ SIGKILL */

static atomic_int atexit_ran, blocked_in;

static void
note_atexit(void)
{
	atomic_store(&atexit_ran, 1);
}

static void *
nap_until_go(void *arg)
{
	(void)arg;
	pt_green_wait(&go);
	return NULL;
}

static int
block_somewhere(void *arg)
{
	int how = (int)(intptr_t)arg, st;
	struct timespec ts = { 10, 0 };
	gp_lwp_t l;
	pid_t c;

	GCHECK(gp_atexit(note_atexit) == 0, "atexit");
	switch (how) {
	case 0:
		c = gp_spawn(wait_go_ret_arg, NULL, NULL);
		atomic_store(&blocked_in, 1);
		gp_waitpid(c, &st, 0);
		break;
	case 1:
		atomic_store(&blocked_in, 1);
		gp_nanosleep(&ts, NULL);
		break;
	case 2:
		GCHECK(gp_lwp_create(&l, nap_until_go, NULL, NULL) == 0, "lwp");
		atomic_store(&blocked_in, 1);
		gp_lwp_join(l, NULL);
		break;
	}
	return 77;			/* not reached: killed */
}

static void
kill_blocked(int how, int sig)
{
	uint64_t t0;
	pid_t p;
	int st;

	p = spawn_ok(block_somewhere, (void *)(intptr_t)how);
	cr_assert(eq(int, pt_wait_for(&blocked_in, 1, 5 * TU_S), 0));
	tu_host_sleep_ns(20 * TU_MS);
	t0 = tu_now_ns();
	cr_assert(eq(int, gp_kill(p, sig), 0));
	st = host_reap(p);
	assert_killed_by(st, sig);
	cr_assert(lt(ulong, (unsigned long)(tu_now_ns() - t0),
	    (unsigned long)(2 * TU_S)), "the kill took too long");
	tu_host_sleep_ns(10 * TU_MS);
	cr_assert(eq(int, tu_ld(&atexit_ran), 0),
	    "gp_atexit handlers ran on a kill by signal %d", sig);
	atomic_store(&go, 1);
	assert_procs_back();
	assert_no_green_failures();
	end_test();
}

Test(signal, sigkill_kills_a_process_blocked_in_waitpid)
{
	kill_blocked(0, SIGKILL);
}

Test(signal, sigkill_kills_a_process_blocked_in_nanosleep)
{
	kill_blocked(1, SIGKILL);
}

Test(signal, sigkill_kills_a_process_blocked_in_lwp_join)
{
	kill_blocked(2, SIGKILL);
}

Test(signal, default_sigterm_kills_a_process_blocked_in_waitpid)
{
	kill_blocked(0, SIGTERM);
}

/* ------------------------------------------------------------ NOCLDWAIT */

static atomic_int ncw_r, ncw_errno, ncw_early_errno, ncw_go_seen, ncw_ready;

static int
nocldwait_parent(void *arg)
{
	struct sigaction sa;
	pid_t q1, q2, s;
	int st;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if ((intptr_t)arg == 0) {
		sa.sa_handler = SIG_IGN;
	} else {
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = SA_NOCLDWAIT;
	}
	GCHECK(gp_sigaction(SIGCHLD, &sa, NULL) == 0, "sigaction");
	q1 = gp_spawn(ret_arg, NULL, NULL);
	q2 = gp_spawn(ret_arg, NULL, NULL);
	s = gp_spawn(wait_go_ret_arg, NULL, NULL);
	GCHECK(q1 > 0 && q2 > 0 && s > 0, "spawn");
	pt_nap_ns(50 * TU_MS);
	/* Already reaped: no zombie to wait for. */
	errno = 0;
	GCHECK(gp_waitpid(q1, &st, WNOHANG) == -1, "q1 left a zombie");
	atomic_store(&ncw_early_errno, errno);
	atomic_store(&ncw_ready, 1);
	errno = 0;
	atomic_store(&ncw_r, (int)gp_waitpid(-1, &st, 0));
	atomic_store(&ncw_errno, errno);
	atomic_store(&ncw_go_seen, atomic_load(&go));
	return 0;
}

static void
nocldwait_case(intptr_t how)
{
	pid_t p;

	p = spawn_ok(nocldwait_parent, (void *)how);
	cr_assert(eq(int, pt_wait_for(&ncw_ready, 1, 5 * TU_S), 0));
	tu_host_sleep_ns(50 * TU_MS);
	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 0);
	cr_assert(eq(int, tu_ld(&ncw_early_errno), ECHILD),
	    "waitpid of an exited child: errno %d", tu_ld(&ncw_early_errno));
	cr_assert(eq(int, tu_ld(&ncw_r), -1), "waitpid(-1) returned %d",
	    tu_ld(&ncw_r));
	cr_assert(eq(int, tu_ld(&ncw_errno), ECHILD));
	cr_assert(eq(int, tu_ld(&ncw_go_seen), 1),
	    "waitpid(-1) returned before the last child was gone");
	assert_procs_back();
	assert_no_green_failures();
	end_test();
}

Test(signal, sigchld_sig_ign_reaps_children_and_wait_gives_echild)
{
	nocldwait_case(0);
}

Test(signal, sa_nocldwait_reaps_children_and_wait_gives_echild)
{
	nocldwait_case(1);
}

/* ------------------------------------------------------------ exitsignal */

static atomic_int es_usr1_at_wait, es_chld_at_wait, es_status, es_rpid;

static int
exitsig_parent(void *arg)
{
	int sig = (int)(intptr_t)arg, st = -1;
	gp_attr_t *a;
	pid_t c, r;

	GCHECK(catch_sig(SIGUSR1, count_handler, 0) == 0, "sigaction");
	GCHECK(catch_sig(SIGCHLD, count_handler, 0) == 0, "sigaction");
	GCHECK(gp_attr_init(&a) == 0, "attr");
	GCHECK(gp_attr_setexitsignal(a, sig) == 0, "setexitsignal");
	c = gp_spawn(ret_arg, (void *)(intptr_t)3, a);
	gp_attr_destroy(a);
	GCHECK(c > 0, "spawn");
	if (sig != 0)
		(void)pt_wait_for(&caught[sig], 1, 5 * TU_S);
	else
		pt_nap_ns(50 * TU_MS);
	atomic_store(&es_usr1_at_wait, atomic_load(&caught[SIGUSR1]));
	atomic_store(&es_chld_at_wait, atomic_load(&caught[SIGCHLD]));
	r = gp_waitpid(c, &st, 0);
	atomic_store(&es_rpid, r == c);
	atomic_store(&es_status, st);
	pt_nap_ns(20 * TU_MS);
	return 0;
}

static void
exitsig_case(int sig)
{
	pid_t p = spawn_ok(exitsig_parent, (void *)(intptr_t)sig);

	assert_exited_with(host_reap(p), 0);
	cr_assert(eq(int, tu_ld(&es_rpid), 1), "the child was not waitable");
	cr_assert(eq(int, tu_ld(&es_status), 3 << 8));
	cr_assert(eq(int, tu_ld(&es_usr1_at_wait), sig == SIGUSR1),
	    "SIGUSR1 handler runs: %d", tu_ld(&es_usr1_at_wait));
	cr_assert(eq(int, tu_ld(&es_chld_at_wait), sig == SIGCHLD),
	    "SIGCHLD handler runs: %d", tu_ld(&es_chld_at_wait));
	cr_assert(eq(int, tu_ld(&caught[SIGUSR1]), sig == SIGUSR1));
	cr_assert(eq(int, tu_ld(&caught[SIGCHLD]), sig == SIGCHLD));
	assert_no_green_failures();
	end_test();
}

Test(signal, exit_signal_sigusr1_runs_the_parents_handler)
{
	exitsig_case(SIGUSR1);
}

Test(signal, exit_signal_0_sends_nothing_and_the_child_is_waitable)
{
	exitsig_case(0);
}

Test(signal, default_exit_signal_is_sigchld)
{
	exitsig_case(SIGCHLD);
}

/* ------------------------------------------------------------ inheritance */

static atomic_int inh_term_ign, inh_usr1_dfl, inh_usr2_blocked;
static atomic_int inh_status, inh_ready;

static void
usr2_pending_handler(int sig)
{
	count_handler(sig);
}

static int
inh_child(void *arg)
{
	struct sigaction oa;

	(void)arg;
	memset(&oa, 0, sizeof(oa));
	gp_sigaction(SIGTERM, NULL, &oa);
	atomic_store(&inh_term_ign, oa.sa_handler == SIG_IGN);
	memset(&oa, 0, sizeof(oa));
	gp_sigaction(SIGUSR1, NULL, &oa);
	atomic_store(&inh_usr1_dfl, oa.sa_handler == SIG_DFL);
	atomic_store(&inh_usr2_blocked, lwp_blocks(SIGUSR2));
	/* Nothing pending: the parent's pending SIGUSR2 is not ours. */
	GCHECK(catch_sig(SIGUSR2, usr2_pending_handler, 0) == 0, "sigaction");
	mask_one(SIG_UNBLOCK, SIGUSR2);
	gp_yield();
	atomic_store(&inh_ready, 1);
	pt_green_wait(&go);
	return 0;
}

static int
inh_parent(void *arg)
{
	pid_t c;
	int st = -1;

	(void)arg;
	GCHECK(set_disp(SIGTERM, SIG_IGN) == 0, "ign");
	GCHECK(catch_sig(SIGUSR1, count_handler, 0) == 0, "catch");
	GCHECK(catch_sig(SIGUSR2, usr2_pending_handler, 0) == 0, "catch");
	GCHECK(mask_one(SIG_BLOCK, SIGUSR2) == 0, "block");
	GCHECK(gp_kill(gp_getpid(), SIGUSR2) == 0, "self kill");
	gp_yield();
	GCHECK(atomic_load(&caught[SIGUSR2]) == 0, "blocked SIGUSR2 ran");
	c = gp_spawn(inh_child, NULL, NULL);
	GCHECK(c > 0, "spawn");
	pt_green_wait(&inh_ready);
	GCHECK(gp_kill(c, SIGTERM) == 0, "kill TERM");
	pt_nap_ns(30 * TU_MS);
	GCHECK(gp_waitpid(c, &st, WNOHANG) == 0,
	    "an inherited SIG_IGN SIGTERM killed the child (%#x)", st);
	GCHECK(gp_kill(c, SIGUSR1) == 0, "kill USR1");
	GCHECK(gp_waitpid(c, &st, 0) == c, "wait: %s", strerror(errno));
	atomic_store(&inh_status, st);
	/* Our own pending SIGUSR2 is still ours. */
	mask_one(SIG_UNBLOCK, SIGUSR2);
	GCHECK(atomic_load(&caught[SIGUSR2]) == 1,
	    "the parent's pending SIGUSR2 ran %d times",
	    atomic_load(&caught[SIGUSR2]));
	return 0;
}

Test(signal, spawn_keeps_ignored_resets_caught_inherits_mask_clears_pending)
{
	pid_t p = spawn_ok(inh_parent, NULL);

	assert_exited_with(host_reap(p), 0);
	cr_assert(eq(int, tu_ld(&inh_term_ign), 1), "SIG_IGN not inherited");
	cr_assert(eq(int, tu_ld(&inh_usr1_dfl), 1), "caught not reset");
	cr_assert(eq(int, tu_ld(&inh_usr2_blocked), 1), "mask not inherited");
	assert_killed_by(tu_ld(&inh_status), SIGUSR1);
	assert_no_green_failures();
	end_test();
}

static atomic_int ex_term_ign, ex_usr1_dfl;

static int
after_exec(void *arg)
{
	struct sigaction oa;

	(void)arg;
	memset(&oa, 0, sizeof(oa));
	gp_sigaction(SIGTERM, NULL, &oa);
	atomic_store(&ex_term_ign, oa.sa_handler == SIG_IGN);
	memset(&oa, 0, sizeof(oa));
	gp_sigaction(SIGUSR1, NULL, &oa);
	atomic_store(&ex_usr1_dfl, oa.sa_handler == SIG_DFL);
	atomic_store(&ready, 1);
	pt_green_wait(&go);
	return 0;
}

static int
exec_parent(void *arg)
{
	(void)arg;
	GCHECK(set_disp(SIGTERM, SIG_IGN) == 0, "ign");
	GCHECK(catch_sig(SIGUSR1, count_handler, 0) == 0, "catch");
	gp_exec(after_exec, NULL);
	GCHECK(0, "gp_exec returned: %s", strerror(errno));
	return 1;
}

Test(signal, exec_resets_caught_handlers_and_keeps_ignored_ones)
{
	pid_t p;
	int st;

	p = spawn_ok(exec_parent, NULL);
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	cr_assert(eq(int, tu_ld(&ex_term_ign), 1), "SIG_IGN lost at exec");
	cr_assert(eq(int, tu_ld(&ex_usr1_dfl), 1), "caught kept at exec");
	cr_assert(eq(int, gp_kill(p, SIGTERM), 0));
	tu_host_sleep_ns(30 * TU_MS);
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG), 0),
	    "ignored SIGTERM killed the process after exec (%#x)", st);
	cr_assert(eq(int, gp_kill(p, SIGUSR1), 0));
	assert_killed_by(host_reap(p), SIGUSR1);
	cr_assert(eq(int, tu_ld(&caught[SIGUSR1]), 0));
	assert_no_green_failures();
	end_test();
}

/* ------------------------------------------------------------ job control */

static atomic_int jc_exec_done, pg_checked;

static int
exec_and_wait(void *arg)
{
	(void)arg;
	atomic_store(&jc_exec_done, 1);
	pt_green_wait(&go);
	return 0;
}

static int
do_exec(void *arg)
{
	(void)arg;
	gp_exec(exec_and_wait, NULL);
	return 1;
}

static int
pgid_parent(void *arg)
{
	pid_t other = (pid_t)(intptr_t)arg, me = gp_getpid(), c, x;
	int st;

	GCHECK(gp_getpgid(0) == me, "a child of init leads its own group: %d",
	    (int)gp_getpgid(0));
	c = gp_spawn(wait_go_ret_arg, NULL, NULL);
	x = gp_spawn(do_exec, NULL, NULL);
	GCHECK(c > 0 && x > 0, "spawn");
	GCHECK(gp_getpgid(c) == me, "a child joins its parent's group: %d",
	    (int)gp_getpgid(c));
	GCHECK(gp_getpgid(x) == me, "%d", (int)gp_getpgid(x));

	errno = 0;
	GCHECK(gp_setpgid(NOPID, 0) == -1 && errno == ESRCH,
	    "unknown pid: errno %d", errno);
	errno = 0;
	GCHECK(gp_setpgid(other, 0) == -1 && errno == ESRCH,
	    "not a child: errno %d", errno);
	errno = 0;
	GCHECK(gp_setpgid(c, NOPID) == -1 && errno == EPERM,
	    "nonexistent group: errno %d", errno);
	GCHECK(gp_getpgid(c) == me, "a failed setpgid moved c");
	GCHECK(gp_setpgid(c, 0) == 0, "own group: %s", strerror(errno));
	GCHECK(gp_getpgid(c) == c, "%d", (int)gp_getpgid(c));
	GCHECK(gp_setpgid(c, me) == 0, "back: %s", strerror(errno));
	GCHECK(gp_getpgid(c) == me, "%d", (int)gp_getpgid(c));
	pt_green_wait(&jc_exec_done);
	errno = 0;
	GCHECK(gp_setpgid(x, me) == -1 && errno == EACCES,
	    "after the child's exec: errno %d", errno);
	atomic_store(&pg_checked, 1);
	pt_green_wait(&go);
	GCHECK(gp_waitpid(c, &st, 0) == c, "reap c");
	GCHECK(gp_waitpid(x, &st, 0) == x, "reap x");
	return 0;
}

Test(signal, process_groups_and_setpgid_errors)
{
	pid_t other, p;

	other = spawn_ok(wait_go_ret_arg, NULL);
	cr_assert(eq(int, (int)gp_getpgid(other), (int)other),
	    "a child of init starts its own group");
	p = spawn_ok(pgid_parent, (void *)(intptr_t)other);
	cr_assert(eq(int, pt_wait_for(&pg_checked, 1, 5 * TU_S), 0));
	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 0);
	assert_exited_with(host_reap(other), 0);
	assert_no_green_failures();
	assert_procs_back();
	end_test();
}

/*
 * A group lives until its last member is reaped (kern_wait's leavepgrp),
 * not until it exits: a parent observes a group of zombies as existing
 * (kill finds it and signals nobody; setpgid may join it), as on Linux.
 */
static atomic_int zg_result;

static int
own_group_then_exit(void *arg)
{
	(void)arg;
	return gp_setpgid(0, 0) == 0 ? 3 : 99;
}

static int
zombie_group_parent(void *arg)
{
	siginfo_t si;
	pid_t c, d, e;
	int st = 0;

	(void)arg;
	c = gp_spawn(own_group_then_exit, NULL, NULL);
	GCHECK(c > 0, "spawn c");
	/* WNOWAIT: C is a zombie from here on, and stays one. */
	GCHECK(gp_waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT) == 0,
	    "waitid: %s", strerror(errno));
	GCHECK(gp_getpgid(c) == c, "a zombie keeps its group: %d",
	    (int)gp_getpgid(c));
	GCHECK(gp_kill(-c, 0) == 0, "probe a group of zombies: %s",
	    strerror(errno));
	GCHECK(gp_kill(-c, SIGTERM) == 0, "kill a group of zombies: %s",
	    strerror(errno));
	d = gp_spawn(wait_go_ret_arg, (void *)(intptr_t)5, NULL);
	GCHECK(d > 0, "spawn d");
	GCHECK(gp_setpgid(d, c) == 0, "join a group of zombies: %s",
	    strerror(errno));
	GCHECK(gp_waitpid(c, &st, 0) == c && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 3, "reap c: %#x", st);
	GCHECK(gp_kill(-c, 0) == 0, "D still holds the group: %s",
	    strerror(errno));
	atomic_store(&go, 1);
	GCHECK(gp_waitpid(d, &st, 0) == d && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 5, "reap d: %#x", st);
	/* Now the last member is reaped: the group is gone. */
	errno = 0;
	GCHECK(gp_kill(-c, 0) == -1 && errno == ESRCH, "gone: errno %d",
	    errno);
	e = gp_spawn(wait_go_ret_arg, (void *)(intptr_t)6, NULL);
	GCHECK(e > 0, "spawn e");
	errno = 0;
	GCHECK(gp_setpgid(e, c) == -1 && errno == EPERM,
	    "join a group that is gone: errno %d", errno);
	GCHECK(gp_waitpid(e, &st, 0) == e, "reap e");
	atomic_store(&zg_result, 1);
	return 0;
}

Test(signal, a_group_of_zombies_exists_until_its_last_member_is_reaped)
{
	pid_t p;

	p = spawn_ok(zombie_group_parent, NULL);
	assert_exited_with(host_reap(p), 0);
	cr_assert(eq(int, atomic_load(&zg_result), 1));
	assert_no_green_failures();
	assert_procs_back();
	end_test();
}

/* fixjobc: a group orphaned with a stopped member gets SIGHUP, SIGCONT. */
static atomic_int oc_ready, oc_hup, oc_hup_ran_running, oc_pid;
static atomic_int oc_stop_ok, oc_p_done;
static atomic_long oc_ctr;

static void
hup_handler(int sig)
{
	(void)sig;
	atomic_fetch_add(&oc_hup, 1);
	atomic_store(&oc_hup_ran_running, 1);	/* we run: continued */
}

static int
orphan_child(void *arg)
{
	uint64_t end;

	(void)arg;
	GCHECK(gp_setpgid(0, 0) == 0, "setpgid: %s", strerror(errno));
	GCHECK(catch_sig(SIGHUP, hup_handler, 0) == 0, "sigaction");
	atomic_store(&oc_ready, 1);
	end = tu_now_ns() + 10 * TU_S;
	while (atomic_load(&oc_hup) == 0 && tu_now_ns() < end) {
		atomic_fetch_add(&oc_ctr, 1);
		gp_yield();
	}
	return 0;
}

static int
orphan_parent(void *arg)
{
	pid_t c;
	int st = 0;

	(void)arg;
	c = gp_spawn(orphan_child, NULL, NULL);
	GCHECK(c > 0, "spawn");
	atomic_store(&oc_pid, (int)c);
	pt_green_wait(&oc_ready);
	GCHECK(gp_kill(c, SIGSTOP) == 0, "stop");
	GCHECK(gp_waitpid(c, &st, WUNTRACED) == c, "wait: %s", strerror(errno));
	atomic_store(&oc_stop_ok, WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	atomic_store(&oc_p_done, 1);
	pt_green_wait(&go);
	return 0;			/* C's group becomes orphaned */
}

Test(signal, a_newly_orphaned_group_with_a_stopped_member_gets_hup_and_cont)
{
	pid_t p;
	long c1;

	p = spawn_ok(orphan_parent, NULL);
	cr_assert(eq(int, pt_wait_for(&oc_p_done, 1, 5 * TU_S), 0));
	cr_assert(eq(int, tu_ld(&oc_stop_ok), 1), "the child did not stop");
	/* While P lives, C stays stopped. */
	c1 = tu_ldl(&oc_ctr);
	tu_host_sleep_ns(5 * TU_MS);
	cr_assert(eq(long, tu_ldl(&oc_ctr), c1), "stopped child runs");
	tu_host_sleep_ns(20 * TU_MS);
	cr_assert(eq(long, tu_ldl(&oc_ctr), c1), "stopped child runs");
	cr_assert(eq(int, tu_ld(&oc_hup), 0),
	    "SIGHUP before the group was orphaned");
	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 0);
	cr_assert(eq(int, pt_wait_for(&oc_hup, 1, 5 * TU_S), 0),
	    "no SIGHUP for the orphaned group with a stopped member");
	cr_assert(eq(int, tu_ld(&oc_hup_ran_running), 1));
	/* C was continued: it exits on its own; init reaps it. */
	assert_procs_back();
	cr_assert(eq(int, tu_ld(&oc_hup), 1));
	assert_no_green_failures();
	end_test();
}

/* SIGTSTP: no stop in an orphaned group; SIGSTOP stops anyway. */
static atomic_long tstp_ctr;

static int
yield_loop(void *arg)
{
	(void)arg;
	if ((intptr_t)arg == 1)
		GCHECK(gp_setpgid(0, 0) == 0, "setpgid");
	atomic_store(&ready, 1);
	while (atomic_load(&go) == 0) {
		atomic_fetch_add(&tstp_ctr, 1);
		gp_yield();
	}
	return 0;
}

Test(signal, sigtstp_does_not_stop_an_orphaned_group_but_sigstop_does)
{
	long c;
	pid_t p;
	int st, i;

	p = spawn_ok(yield_loop, NULL);	/* child of init: orphaned */
	cr_assert(eq(int, pt_wait_for(&ready, 1, 5 * TU_S), 0));
	cr_assert(eq(int, gp_kill(p, SIGTSTP), 0));
	tu_host_sleep_ns(20 * TU_MS);
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG | WUNTRACED), 0),
	    "SIGTSTP stopped an orphaned group (status %#x)", st);
	/* It runs on: its count moves (a loaded machine may take a while). */
	c = tu_ldl(&tstp_ctr);
	for (i = 0; i < 5000 && tu_ldl(&tstp_ctr) == c; i++)
		tu_host_sleep_ns(TU_MS);
	cr_assert(ne(long, tu_ldl(&tstp_ctr), c), "the process does not run");

	cr_assert(eq(int, gp_kill(p, SIGSTOP), 0));
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WUNTRACED), (int)p));
	cr_assert(eq(int, (int)WSTOPSIG(st), SIGSTOP), "status %#x", st);
	cr_assert(eq(int, gp_kill(p, SIGCONT), 0));
	atomic_store(&go, 1);
	assert_exited_with(host_reap(p), 0);
	end_test();
}

static atomic_int tstp_status, tstp_done;

static int
tstp_parent(void *arg)
{
	pid_t c;
	int st = 0;

	(void)arg;
	c = gp_spawn(yield_loop, (void *)(intptr_t)1, NULL);
	GCHECK(c > 0, "spawn");
	pt_green_wait(&ready);
	GCHECK(gp_getpgid(c) == c, "setpgid");
	GCHECK(gp_kill(c, SIGTSTP) == 0, "tstp");
	GCHECK(gp_waitpid(c, &st, WUNTRACED) == c, "wait");
	atomic_store(&tstp_status, st);
	GCHECK(gp_kill(c, SIGCONT) == 0, "cont");
	atomic_store(&go, 1);
	GCHECK(gp_waitpid(c, &st, 0) == c, "reap");
	atomic_store(&tstp_done, 1);
	return 0;
}

Test(signal, sigtstp_stops_a_process_in_a_group_that_is_not_orphaned)
{
	pid_t p = spawn_ok(tstp_parent, NULL);
	int st;

	assert_exited_with(host_reap(p), 0);
	st = tu_ld(&tstp_status);
	cr_assert(ne(int, (int)WIFSTOPPED(st), 0), "status %#x", st);
	cr_assert(eq(int, (int)WSTOPSIG(st), SIGTSTP), "status %#x", st);
	assert_no_green_failures();
	end_test();
}

/* ------------------------------------------------------------ watch */

static int
poll_ready(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = poll(&pfd, 1, timeout_ms);

	return n == 1 && (pfd.revents & POLLIN) ? 1 : n;
}

Test(signal, proc_watch_fd_is_readable_after_exit_with_poll_and_epoll)
{
	struct epoll_event ev, out;
	int fd, fd2, ep, pipefd[2];
	pid_t p, q;

	assert_err(gp_proc_watch(NOPID), ESRCH);
	assert_err(gp_proc_watch(getpid()), ESRCH);

	p = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)2);
	fd = gp_proc_watch(p);
	cr_assert(ge(int, fd, 0), "gp_proc_watch: %s", strerror(errno));
	cr_assert(eq(int, poll_ready(fd, 0), 0), "readable before the exit");
	ep = epoll_create1(EPOLL_CLOEXEC);
	cr_assert(ge(int, ep, 0));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	cr_assert(eq(int, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0));
	cr_assert(eq(int, epoll_wait(ep, &out, 1, 20), 0),
	    "epoll: readable before the exit");

	/* A second watcher that closes its fd early. */
	q = spawn_ok(wait_go_ret_arg, (void *)(intptr_t)3);
	fd2 = gp_proc_watch(q);
	cr_assert(ge(int, fd2, 0));
	cr_assert(eq(int, close(fd2), 0));
	cr_assert(eq(int, pipe(pipefd), 0));	/* may reuse fd2's number */

	atomic_store(&go, 1);
	cr_assert(eq(int, epoll_wait(ep, &out, 1, 5000), 1),
	    "epoll: not readable after the exit");
	cr_assert(eq(int, out.data.fd, fd));
	cr_assert(eq(int, poll_ready(fd, 5000), 1),
	    "poll: not readable after the exit");
	/* Still readable (and the child still waitable) until reaped. */
	assert_exited_with(host_reap(p), 2);
	assert_exited_with(host_reap(q), 3);
	cr_assert(eq(int, poll_ready(pipefd[0], 0), 0),
	    "the runtime wrote to a descriptor the caller had closed");
	cr_assert(eq(int, close(fd), 0));
	close(ep);
	close(pipefd[0]);
	close(pipefd[1]);
	assert_err(gp_proc_watch(p), ESRCH);

	/* A zombie: readable at once. */
	p = spawn_ok(ret_arg, (void *)(intptr_t)1);
	{
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		cr_assert(eq(int, gp_waitid(P_PID, (id_t)p, &si,
		    WEXITED | WNOWAIT), 0));
	}
	fd = gp_proc_watch(p);
	cr_assert(ge(int, fd, 0), "watch a zombie: %s", strerror(errno));
	cr_assert(eq(int, poll_ready(fd, 0), 1), "a zombie's fd not readable");
	close(fd);
	assert_exited_with(host_reap(p), 1);
	end_test();
}

/*
 * Handler tables are kept with the type-stable process struct: the next
 * process in the struct sees no stale handler, and catching a signal
 * again mallocs nothing.  Freeing the table at every reap made each
 * catching process a malloc and free of 10 KB on worker threads, whose
 * arenas kept the touched pages: the soak's RSS crept (ARCHITECTURE.md,
 * section 22).  Spawned and reaped by the host thread, the struct comes
 * back LIFO off the shared pool, so the second child reuses the first's.
 */
static void noop_handler(int sig) { (void)sig; }
static atomic_long table_growth[2];
static atomic_int stale_handler;

static int
catch_and_measure(void *arg)
{
	int i = (int)(intptr_t)arg;
	struct sigaction old;
	size_t before;

	if (gp_sigaction(SIGUSR1, NULL, &old) == 0 &&
	    old.sa_handler != SIG_DFL)
		atomic_store(&stale_handler, 1);
	before = mallinfo2().uordblks;
	GCHECK(catch_sig(SIGUSR1, noop_handler, 0) == 0, "gp_sigaction");
	atomic_store(&table_growth[i],
	    (long)(mallinfo2().uordblks - before));
	return 0;
}

Test(signal, a_reused_process_struct_keeps_its_handler_table)
{
	int i, st;
	pid_t c;

	for (i = 0; i < 2; i++) {
		c = gp_spawn(catch_and_measure, (void *)(intptr_t)i, NULL);
		cr_assert(gt(int, c, 0));
		cr_assert(eq(int, gp_waitpid(c, &st, 0), c));
		assert_exited_with(st, 0);
	}
	cr_assert(gt(long, atomic_load(&table_growth[0]), 0),
	    "the first catcher allocates its table");
	cr_assert(eq(long, atomic_load(&table_growth[1]), 0),
	    "the second catcher reuses it, not malloc");
	cr_assert(eq(int, atomic_load(&stale_handler), 0),
	    "no handler of the first process is seen by the second");
}
