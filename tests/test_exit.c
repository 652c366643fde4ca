/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_exit.c -- leaving a green process: gp_exit (atexit list, LIFO, on
 * the exiting LWP), gp__exit, returning from the entry, gp_spawn_main,
 * the last LWP's exit, gp_extexit, global callouts (gp_at_exit /
 * gp_rm_at_exit), gp_exec, EPERM in init, concurrent exits, exit while
 * another LWP is blocked, and the rusage gp_wait4 reports.
 *
 * Suites: exit (gp_init(0)) and exit1 (gp_init(1), for the rusage tests,
 * where two LWPs of one process must really switch to each other).
 * Criterion asserts run only on the host thread; green code reports with
 * GCHECK() (proctest.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenproc.h"
#include "testutil.h"
#include "proctest.h"


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
static void teardown(void) { cr_assert(eq(int, gp_shutdown(), 0)); }

/* A broken exit or wait hangs instead of failing: bound every test. */
TestSuite(exit, .init = setup0, .fini = teardown, .timeout = 60.0);
TestSuite(exit1, .init = setup1, .fini = teardown, .timeout = 60.0);

/* See test_lwp.c: a failing .fini does not fail the test (Criterion#211). */

/* Every green process the test made is gone (reaped) within 5 s. */
static void
assert_procs_back_to_base(void)
{
	assert_procs_back_within(5 * TU_S);
}

/* Every LWP (killed ones too) and stack is freed again. */
static void
assert_lwps_back_to_base(void)
{
	struct gp_counters st;
	int rc;

	rc = tu_wait_live(base.live_lwps, base.live_stacks, 5 * TU_S, &st);
	cr_assert(eq(long, st.live_lwps, base.live_lwps), "LWPs left over");
	cr_assert(eq(long, st.live_stacks, base.live_stacks),
	    "stacks left over");
	cr_assert(eq(int, rc, 0));
}


/* Reap pid from the host thread and return its wait status. */

static void
assert_exited_with(int st, int code)
{
	cr_assert(ne(int, (int)WIFEXITED(st), 0), "status %#x", st);
	cr_assert(eq(int, WEXITSTATUS(st), code), "status %#x", st);
}

/* --- atexit handlers ------------------------------------------------- */

static atomic_int h_n;			/* handlers run so far */
static int h_order[8];			/* which handler ran n-th */
static _Atomic uintptr_t h_self[8];	/* on which LWP */

static void
h_record(int which)
{
	int n = atomic_fetch_add(&h_n, 1);

	if (n < 8) {
		h_order[n] = which;
		atomic_store(&h_self[n], (uintptr_t)gp_lwp_self());
	}
}

static void h1(void) { h_record(1); }
static void h2(void) { h_record(2); }
static void h3(void) { h_record(3); }

static _Atomic uintptr_t exiter_self;	/* the LWP that called gp_exit */
static atomic_int after_exit;		/* set if an exit call returned */

static void
register_three(void)
{
	GCHECK(gp_atexit(h1) == 0, "gp_atexit: %s", strerror(errno));
	GCHECK(gp_atexit(h2) == 0, "gp_atexit: %s", strerror(errno));
	GCHECK(gp_atexit(h3) == 0, "gp_atexit: %s", strerror(errno));
}

static int
exit_7_from_master(void *arg)
{
	(void)arg;
	register_three();
	atomic_store(&exiter_self, (uintptr_t)gp_lwp_self());
	gp_exit(7);
}

static void
assert_three_lifo_on_exiter(void)
{
	int i;

	cr_assert(eq(int, tu_ld(&h_n), 3));
	cr_assert(eq(int, h_order[0], 3));
	cr_assert(eq(int, h_order[1], 2));
	cr_assert(eq(int, h_order[2], 1));
	cr_assert(ne(uptr, tu_ldp(&exiter_self), (uintptr_t)0));
	for (i = 0; i < 3; i++)
		cr_assert(eq(uptr, tu_ldp(&h_self[i]), tu_ldp(&exiter_self)),
		    "handler %d ran on another LWP", i);
}

Test(exit, exit_runs_atexit_handlers_lifo_then_reports_the_status)
{
	pid_t p = spawn_ok(exit_7_from_master, NULL);
	int st = host_reap(p);

	assert_exited_with(st, 7);
	assert_no_green_failures();
	assert_three_lifo_on_exiter();
	assert_procs_back_to_base();
	assert_lwps_back_to_base();
	end_test();
}

static void *
lwp_exit_9(void *arg)
{
	(void)arg;
	atomic_store(&exiter_self, (uintptr_t)gp_lwp_self());
	gp_exit(9);
}

static int
exit_9_from_second_lwp(void *arg)
{
	struct timespec ts = tu_ts(10 * TU_S);
	gp_lwp_t h;

	(void)arg;
	register_three();
	GCHECK(gp_lwp_create(&h, lwp_exit_9, NULL, NULL) == 0, "create");
	gp_nanosleep(&ts, NULL);	/* killed here by the exit */
	atomic_store(&after_exit, 1);
	return 1;
}

Test(exit, handlers_run_on_the_exiting_lwp_not_the_master)
{
	uint64_t t0 = tu_now_ns();
	pid_t p = spawn_ok(exit_9_from_second_lwp, NULL);
	int st = host_reap(p);

	assert_exited_with(st, 9);
	cr_assert(lt(ulong, (unsigned long)(tu_now_ns() - t0),
	    (unsigned long)(5 * TU_S)), "the sleeping master delayed the exit");
	cr_assert(eq(int, tu_ld(&after_exit), 0));
	assert_no_green_failures();
	assert_three_lifo_on_exiter();
	assert_lwps_back_to_base();
	end_test();
}

/* The atexit list is per process: not inherited, not shared. */
static atomic_int hp_ran, hc_ran, hc_ran_seen_by_parent, hp_ran_in_child;

static void hp(void) { atomic_fetch_add(&hp_ran, 1); }
static void hc(void) { atomic_fetch_add(&hc_ran, 1); }

static int
atexit_child(void *arg)
{
	(void)arg;
	atomic_store(&hp_ran_in_child, atomic_load(&hp_ran));
	GCHECK(gp_atexit(hc) == 0, "gp_atexit: %s", strerror(errno));
	return 0;
}

static int
atexit_parent(void *arg)
{
	pid_t c;
	int st;

	(void)arg;
	GCHECK(gp_atexit(hp) == 0, "gp_atexit: %s", strerror(errno));
	c = gp_spawn(atexit_child, NULL, NULL);
	GCHECK(c > GP_PID_INIT, "spawn: %s", strerror(errno));
	GCHECK(gp_waitpid(c, &st, 0) == c, "wait: %s", strerror(errno));
	atomic_store(&hc_ran_seen_by_parent, atomic_load(&hc_ran));
	GCHECK(atomic_load(&hp_ran) == 0, "child ran the parent's handler");
	return 0;
}

Test(exit, the_atexit_list_is_per_process_and_not_inherited)
{
	pid_t p = spawn_ok(atexit_parent, NULL);
	int st = host_reap(p);

	assert_exited_with(st, 0);
	assert_no_green_failures();
	cr_assert(eq(int, tu_ld(&hc_ran_seen_by_parent), 1));
	cr_assert(eq(int, tu_ld(&hc_ran), 1));
	cr_assert(eq(int, tu_ld(&hp_ran), 1));
	cr_assert(eq(int, tu_ld(&hp_ran_in_child), 0));
	end_test();
}

static int
underscore_exit_5(void *arg)
{
	(void)arg;
	register_three();
	gp__exit(5);
}

Test(exit, underscore_exit_skips_atexit_handlers)
{
	pid_t p = spawn_ok(underscore_exit_5, NULL);
	int st = host_reap(p);

	assert_exited_with(st, 5);
	assert_no_green_failures();
	cr_assert(eq(int, tu_ld(&h_n), 0));
	assert_lwps_back_to_base();
	end_test();
}

static int
return_arg(void *arg)
{
	register_three();
	return (int)(intptr_t)arg;
}

Test(exit, returning_from_the_entry_is_gp_exit_of_the_value)
{
	pid_t p;
	int st;

	p = spawn_ok(return_arg, (void *)(intptr_t)42);
	st = host_reap(p);
	assert_exited_with(st, 42);
	cr_assert(eq(int, tu_ld(&h_n), 3), "atexit handlers did not run");
	cr_assert(eq(int, h_order[0], 3));
	cr_assert(eq(int, h_order[2], 1));

	/* Only the low 8 bits count, in the Linux encoding. */
	p = spawn_ok(return_arg, (void *)(intptr_t)300);
	st = host_reap(p);
	cr_assert(eq(int, st, (300 & 0xff) << 8), "status %#x", st);
	assert_no_green_failures();
	end_test();
}

/* --- gp_spawn_main --------------------------------------------------- */

static atomic_int main_go;
static char **main_argv_seen;

static int
test_main(int argc, char **argv)
{
	static const char *want[] = { "prog", "alpha", "beta gamma", "" };
	int i;

	pt_green_wait(&main_go);
	main_argv_seen = argv;
	GCHECK(argc == 4, "argc %d", argc);
	if (argc != 4)
		return 99;
	for (i = 0; i < 4; i++)
		GCHECK(argv[i] != NULL && strcmp(argv[i], want[i]) == 0,
		    "argv[%d] is '%s'", i, argv[i] != NULL ? argv[i] : "(null)");
	GCHECK(argv[4] == NULL, "argv[argc] is not NULL");
	/* main may write into its arguments (if they are the copies). */
	if (argv[1] != NULL && strcmp(argv[1], "alpha") == 0) {
		argv[1][0] = 'A';
		GCHECK(strcmp(argv[1], "Alpha") == 0, "argv[1] '%s'", argv[1]);
	}
	return 3 + argc;
}

Test(exit, spawn_main_copies_argv_and_main_returns_the_status)
{
	static const char *src[] = { "prog", "alpha", "beta gamma", "" };
	char **argv;
	pid_t p;
	int i, st;

	argv = calloc(5, sizeof(*argv));
	cr_assert(not(eq(ptr, argv, NULL)));
	for (i = 0; i < 4; i++)
		argv[i] = strdup(src[i]);
	p = gp_spawn_main(test_main, 4, argv, NULL);
	cr_assert(ge(int, (int)p, GP_PID_INIT + 1), "gp_spawn_main: %s",
	    strerror(errno));
	/* The caller may change and free its argv at once. */
	for (i = 0; i < 4; i++) {
		memset(argv[i], 'X', strlen(argv[i]));
		free(argv[i]);
		argv[i] = (char *)"clobbered";
	}
	argv[4] = (char *)"not-null";
	atomic_store(&main_go, 1);
	st = host_reap(p);
	cr_assert(ne(ptr, (void *)main_argv_seen, (void *)argv));
	free(argv);
	assert_no_green_failures();
	assert_exited_with(st, 7);
	end_test();
}

/* --- the last LWP ---------------------------------------------------- */

static atomic_int master_leaving, last_go;
static _Atomic uintptr_t last_self;

static void *
last_lwp(void *arg)
{
	pt_green_wait(&last_go);
	atomic_store(&last_self, (uintptr_t)gp_lwp_self());
	if (arg != NULL)
		gp_lwp_exit((void *)1);
	return NULL;			/* returning: the same as gp_lwp_exit */
}

static int
master_leaves_first(void *arg)
{
	gp_lwp_t h;

	GCHECK(gp_atexit(h1) == 0, "gp_atexit: %s", strerror(errno));
	GCHECK(gp_lwp_create(&h, last_lwp, arg, NULL) == 0, "create");
	GCHECK(gp_lwp_detach(h) == 0, "detach");
	atomic_store(&master_leaving, 1);
	gp_lwp_exit(NULL);
}

static void
check_last_lwp_exit(void *how)
{
	pid_t p = spawn_ok(master_leaves_first, how);
	int st = -1;

	cr_assert(eq(int, pt_wait_for(&master_leaving, 1, 5 * TU_S), 0));
	tu_host_sleep_ns(30 * TU_MS);
	/* The master's gp_lwp_exit ended only the master. */
	cr_assert(eq(int, (int)gp_waitpid(p, &st, WNOHANG), 0),
	    "the process ended with its master LWP (errno %d)", errno);
	cr_assert(eq(int, tu_ld(&h_n), 0));
	atomic_store(&last_go, 1);
	st = host_reap(p);
	assert_exited_with(st, 0);
	cr_assert(eq(int, tu_ld(&h_n), 1), "the atexit list did not run");
	cr_assert(eq(uptr, tu_ldp(&h_self[0]), tu_ldp(&last_self)),
	    "the handler ran on another LWP");
	assert_no_green_failures();
	assert_lwps_back_to_base();
}

Test(exit, last_lwp_calling_lwp_exit_is_exit_0_with_handlers)
{
	check_last_lwp_exit((void *)1);
	end_test();
}

Test(exit, last_lwp_returning_is_exit_0_with_handlers)
{
	check_last_lwp_exit(NULL);
	end_test();
}

static int
only_lwp_exits(void *arg)
{
	(void)arg;
	GCHECK(gp_atexit(h1) == 0, "gp_atexit: %s", strerror(errno));
	gp_lwp_exit((void *)5);
}

Test(exit, single_lwp_calling_lwp_exit_is_exit_0)
{
	pid_t p = spawn_ok(only_lwp_exits, NULL);
	int st = host_reap(p);

	assert_exited_with(st, 0);
	cr_assert(eq(int, tu_ld(&h_n), 1));
	assert_no_green_failures();
	end_test();
}

/* --- gp_extexit ------------------------------------------------------ */

static int
extexit_bad_how(void *arg)
{
	static const int bad[] = {
		2 << 16, 0x7fff << 16, GP_EXTEXIT_PROC | 2,
		GP_EXTEXIT_LWP | 7, -1, GP_EXTEXIT_PROC | 0x8000,
	};
	int i, x = -7;

	(void)arg;
	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		errno = 0;
		GCHECK(gp_extexit(bad[i], 1, &x) == -1 && errno == EINVAL,
		    "how %#x: errno %d", bad[i], errno);
	}
	/* A bad who is rejected before SETINT stores anything. */
	errno = 0;
	GCHECK(gp_extexit((2 << 16) | GP_EXTEXIT_SETINT, 9, &x) == -1 &&
	    errno == EINVAL, "errno %d", errno);
	GCHECK(x == -7, "stored %d through a rejected call", x);
	return 21;		/* still here */
}

Test(exit, extexit_rejects_a_bad_how_with_einval)
{
	pid_t p = spawn_ok(extexit_bad_how, NULL);
	int st = host_reap(p);

	assert_no_green_failures();
	assert_exited_with(st, 21);
	end_test();
}

static int setint_slot = -1;
static atomic_int slot_at_callout = -1;
static atomic_int setint_pid;

static void
callout_reads_slot(pid_t pid)
{
	if ((int)pid == atomic_load(&setint_pid))
		atomic_store(&slot_at_callout,
		    __atomic_load_n(&setint_slot, __ATOMIC_SEQ_CST));
}

static int
extexit_setint_23(void *arg)
{
	(void)arg;
	atomic_store(&setint_pid, (int)gp_getpid());
	GCHECK(gp_atexit(h1) == 0, "gp_atexit");
	gp_extexit(GP_EXTEXIT_PROC | GP_EXTEXIT_SETINT, 23, &setint_slot);
	atomic_store(&after_exit, 1);
	return 1;
}

Test(exit, extexit_setint_stores_the_status_before_the_process_exits)
{
	pid_t p;
	int st;

	cr_assert(eq(int, gp_at_exit(callout_reads_slot), 0));
	p = spawn_ok(extexit_setint_23, NULL);
	st = host_reap(p);
	cr_assert(eq(int, gp_rm_at_exit(callout_reads_slot), 1));
	assert_no_green_failures();
	assert_exited_with(st, 23);
	cr_assert(eq(int, tu_ld(&after_exit), 0));
	cr_assert(eq(int, setint_slot, 23));
	cr_assert(eq(int, tu_ld(&slot_at_callout), 23),
	    "the status was not stored before the exit");
	/* extexit is exit1 itself: no atexit handlers. */
	cr_assert(eq(int, tu_ld(&h_n), 0));
	end_test();
}

static int lwp_slot = -1;
static atomic_int lwp_after;

static void *
extexit_this_lwp(void *arg)
{
	(void)arg;
	gp_extexit(GP_EXTEXIT_LWP | GP_EXTEXIT_SETINT, 11, &lwp_slot);
	atomic_store(&lwp_after, 1);
	return (void *)2;
}

static int
extexit_lwp_parent(void *arg)
{
	gp_lwp_t h;
	int rc;

	(void)arg;
	GCHECK(gp_atexit(h1) == 0, "gp_atexit");
	GCHECK(gp_lwp_create(&h, extexit_this_lwp, NULL, NULL) == 0,
	    "create");
	rc = gp_lwp_join(h, NULL);
	GCHECK(rc == 0, "join: %s", strerror(rc));
	GCHECK(__atomic_load_n(&lwp_slot, __ATOMIC_SEQ_CST) == 11,
	    "slot %d", lwp_slot);
	GCHECK(atomic_load(&lwp_after) == 0, "extexit returned");
	pt_nap_ns(10 * TU_MS);
	GCHECK(atomic_load(&h_n) == 0, "atexit list ran at an LWP exit");
	return 4;
}

Test(exit, extexit_lwp_on_a_non_last_lwp_ends_only_that_lwp)
{
	pid_t p = spawn_ok(extexit_lwp_parent, NULL);
	int st = host_reap(p);

	assert_no_green_failures();
	assert_exited_with(st, 4);
	cr_assert(eq(int, tu_ld(&h_n), 1));
	assert_lwps_back_to_base();
	end_test();
}

static int
extexit_lwp_last(void *arg)
{
	(void)arg;
	GCHECK(gp_atexit(h1) == 0, "gp_atexit");
	gp_extexit(GP_EXTEXIT_LWP, 13, NULL);
	atomic_store(&after_exit, 1);
	return 1;
}

Test(exit, extexit_lwp_on_the_last_lwp_is_underscore_exit)
{
	pid_t p = spawn_ok(extexit_lwp_last, NULL);
	int st = host_reap(p);

	assert_no_green_failures();
	assert_exited_with(st, 13);
	cr_assert(eq(int, tu_ld(&after_exit), 0));
	cr_assert(eq(int, tu_ld(&h_n), 0), "atexit handlers ran");
	end_test();
}

/* --- EPERM in init --------------------------------------------------- */

static int
ret_zero(void *arg)
{
	(void)arg;
	return 0;
}

/* Returns a bit mask of the checks that failed. */
static int
init_eperm_checks(void)
{
	int bad = 0, x = -1;

	errno = 0;
	if (gp_exec(ret_zero, NULL) != -1 || errno != EPERM)
		bad |= 1;
	errno = 0;
	if (gp_extexit(GP_EXTEXIT_PROC, 3, NULL) != -1 || errno != EPERM)
		bad |= 2;
	errno = 0;
	if (gp_extexit(GP_EXTEXIT_LWP, 3, NULL) != -1 || errno != EPERM)
		bad |= 4;
	errno = 0;
	if (gp_extexit(GP_EXTEXIT_PROC | GP_EXTEXIT_SETINT, 3, &x) != -1 ||
	    errno != EPERM)
		bad |= 8;
	return bad;
}

static void *
init_lwp_checks(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)init_eperm_checks();
}

Test(exit, exec_and_extexit_in_init_fail_with_eperm)
{
	gp_lwp_t h;
	void *rv = (void *)-1;

	cr_assert(eq(int, init_eperm_checks(), 0), "on the host thread");
	cr_assert(eq(int, gp_lwp_create(&h, init_lwp_checks, NULL, NULL), 0));
	cr_assert(eq(int, gp_lwp_join(h, &rv), 0));
	cr_assert(eq(int, (int)(intptr_t)rv, 0), "in an LWP of init");
	end_test();
}

/* --- global callouts ------------------------------------------------- */

#define NCALL	64
static atomic_int call_n;
static int call_which[NCALL];
static pid_t call_pid[NCALL];

static void
call_record(int which, pid_t pid)
{
	int n = atomic_fetch_add(&call_n, 1);

	if (n < NCALL) {
		call_which[n] = which;
		call_pid[n] = pid;
	}
}

static void f1(pid_t pid) { call_record(1, pid); }
static void f2(pid_t pid) { call_record(2, pid); }

#define NCALLOUT_PROCS	5

Test(exit, at_exit_callouts_run_for_every_exiting_process_with_its_pid)
{
	pid_t p[NCALLOUT_PROCS];
	int i, j, found;

	cr_assert(eq(int, gp_at_exit(f1), 0));
	for (i = 0; i < NCALLOUT_PROCS; i++) {
		/* Every way out: return, gp_exit, gp__exit, extexit. */
		switch (i % 4) {
		case 0: p[i] = spawn_ok(ret_zero, NULL); break;
		case 1: p[i] = spawn_ok(exit_7_from_master, NULL); break;
		case 2: p[i] = spawn_ok(underscore_exit_5, NULL); break;
		case 3: p[i] = spawn_ok(extexit_lwp_last, NULL); break;
		}
		(void)host_reap(p[i]);
	}
	cr_assert(eq(int, tu_ld(&call_n), NCALLOUT_PROCS));
	for (i = 0; i < NCALLOUT_PROCS; i++) {
		found = 0;
		for (j = 0; j < NCALLOUT_PROCS; j++)
			found += call_pid[j] == p[i];
		cr_assert(eq(int, found, 1), "callout for pid %d ran %d times",
		    (int)p[i], found);
	}
	cr_assert(eq(int, gp_rm_at_exit(f1), 1));
	end_test();
}

Test(exit, registering_a_callout_again_moves_it_to_the_end_once)
{
	pid_t p;

	cr_assert(eq(int, gp_at_exit(f1), 0));
	cr_assert(eq(int, gp_at_exit(f2), 0));
	cr_assert(eq(int, gp_at_exit(f1), 0), "duplicate registration: %s",
	    strerror(errno));
	p = spawn_ok(ret_zero, NULL);
	(void)host_reap(p);
	cr_assert(eq(int, tu_ld(&call_n), 2), "a duplicate entry ran");
	cr_assert(eq(int, call_which[0], 2), "not moved to the end");
	cr_assert(eq(int, call_which[1], 1));
	cr_assert(eq(int, (int)call_pid[0], (int)p));
	cr_assert(eq(int, (int)call_pid[1], (int)p));
	cr_assert(eq(int, gp_rm_at_exit(f1), 1));
	cr_assert(eq(int, gp_rm_at_exit(f1), 0), "a duplicate entry was left");
	cr_assert(eq(int, gp_rm_at_exit(f2), 1));
	end_test();
}

Test(exit, rm_at_exit_returns_1_then_0_and_the_callout_stops)
{
	pid_t p;

	cr_assert(eq(int, gp_rm_at_exit(f1), 0), "never registered");
	cr_assert(eq(int, gp_at_exit(f1), 0));
	cr_assert(eq(int, gp_rm_at_exit(f1), 1));
	cr_assert(eq(int, gp_rm_at_exit(f1), 0));
	p = spawn_ok(ret_zero, NULL);
	(void)host_reap(p);
	cr_assert(eq(int, tu_ld(&call_n), 0), "a removed callout ran");
	end_test();
}

/* --- gp_exec --------------------------------------------------------- */

static atomic_int ex_ticks, ex_joiner_started, ex_joiner_returned;
static atomic_int ex_c_go, ex_exec_returned, ex_exec_errno;
static atomic_int ex_old_ran, ex_new_ran, ex_entry_ran;
static atomic_int ex_pid, ex_child;
static int ex_token;

static void ex_h_old(void) { atomic_fetch_add(&ex_old_ran, 1); }
static void ex_h_new(void) { atomic_fetch_add(&ex_new_ran, 1); }

static void *
ex_ticker(void *arg)
{
	for (;;) {
		pt_nap_ns(TU_MS);
		atomic_fetch_add(&ex_ticks, 1);
	}
	return arg;
}

static void *
ex_joiner(void *arg)
{
	atomic_store(&ex_joiner_started, 1);
	(void)gp_lwp_join((gp_lwp_t)arg, NULL);
	atomic_store(&ex_joiner_returned, 1);
	return NULL;
}

static int
ex_child_main(void *arg)
{
	(void)arg;
	pt_green_wait(&ex_c_go);
	return 77;
}

static int
ex_new_entry(void *arg)
{
	pid_t c = (pid_t)atomic_load(&ex_child);
	int t, st = -1;

	atomic_store(&ex_entry_ran, 1);
	GCHECK(arg == &ex_token, "entry got %p", arg);
	GCHECK(gp_getpid() == (pid_t)atomic_load(&ex_pid),
	    "pid %d after exec, was %d", (int)gp_getpid(),
	    atomic_load(&ex_pid));
	GCHECK(gp_getppid() == GP_PID_INIT, "ppid %d", (int)gp_getppid());
	t = atomic_load(&ex_ticks);
	pt_nap_ns(30 * TU_MS);
	GCHECK(atomic_load(&ex_ticks) == t, "an old LWP still runs");
	GCHECK(atomic_load(&ex_joiner_returned) == 0,
	    "an old LWP returned from its join");
	/* The children are still ours. */
	atomic_store(&ex_c_go, 1);
	GCHECK(gp_waitpid(c, &st, 0) == c, "wait for the old child: %s",
	    strerror(errno));
	GCHECK(WIFEXITED(st) && WEXITSTATUS(st) == 77, "status %#x", st);
	GCHECK(gp_atexit(ex_h_new) == 0, "gp_atexit after exec");
	return 5;
}

static void
ex_prepare(void)
{
	gp_lwp_t t, j;
	pid_t c;

	atomic_store(&ex_pid, (int)gp_getpid());
	GCHECK(gp_atexit(ex_h_old) == 0, "gp_atexit");
	c = gp_spawn(ex_child_main, NULL, NULL);
	GCHECK(c > GP_PID_INIT, "spawn: %s", strerror(errno));
	atomic_store(&ex_child, (int)c);
	GCHECK(gp_lwp_create(&t, ex_ticker, NULL, NULL) == 0, "ticker");
	GCHECK(gp_lwp_create(&j, ex_joiner, t, NULL) == 0, "joiner");
	pt_wait_for(&ex_ticks, 1, 5 * TU_S);
	pt_wait_for(&ex_joiner_started, 1, 5 * TU_S);
	pt_nap_ns(5 * TU_MS);
}

static int
ex_exec_from_master(void *arg)
{
	(void)arg;
	ex_prepare();
	gp_exec(ex_new_entry, &ex_token);
	atomic_store(&ex_exec_errno, errno);
	atomic_store(&ex_exec_returned, 1);
	return 1;
}

static void
check_exec_result(pid_t p, int st)
{
	assert_no_green_failures();
	cr_assert(eq(int, tu_ld(&ex_exec_returned), 0), "gp_exec returned: %s",
	    strerror(tu_ld(&ex_exec_errno)));
	cr_assert(eq(int, tu_ld(&ex_entry_ran), 1));
	cr_assert(eq(int, tu_ld(&ex_pid), (int)p));
	assert_exited_with(st, 5);
	cr_assert(eq(int, tu_ld(&ex_old_ran), 0), "the atexit list survived");
	cr_assert(eq(int, tu_ld(&ex_new_ran), 1));
	assert_procs_back_to_base();
	assert_lwps_back_to_base();
}

Test(exit, exec_kills_other_lwps_resets_atexit_and_keeps_pid_and_children)
{
	pid_t p = spawn_ok(ex_exec_from_master, NULL);
	int st = host_reap(p);

	check_exec_result(p, st);
	end_test();
}

static atomic_int ex_master_woke;

static void *
ex_exec_lwp(void *arg)
{
	(void)arg;
	pt_nap_ns(5 * TU_MS);
	gp_exec(ex_new_entry, &ex_token);
	atomic_store(&ex_exec_errno, errno);
	atomic_store(&ex_exec_returned, 1);
	return NULL;
}

static int
ex_exec_from_other_lwp(void *arg)
{
	struct timespec ts = tu_ts(20 * TU_S);
	gp_lwp_t h;

	(void)arg;
	ex_prepare();
	GCHECK(gp_lwp_create(&h, ex_exec_lwp, NULL, NULL) == 0, "create");
	gp_nanosleep(&ts, NULL);	/* killed here by the exec */
	atomic_store(&ex_master_woke, 1);
	return 1;
}

Test(exit, exec_from_a_non_master_lwp_kills_the_master)
{
	pid_t p = spawn_ok(ex_exec_from_other_lwp, NULL);
	int st = host_reap(p);

	check_exec_result(p, st);
	cr_assert(eq(int, tu_ld(&ex_master_woke), 0));
	end_test();
}

/* --- concurrent exits ------------------------------------------------ */

#define RACE_ROUNDS	300
#define RACE_LWPS	4

static atomic_int race_arrived[RACE_ROUNDS], race_go[RACE_ROUNDS];
static atomic_int race_handler[RACE_ROUNDS];
static atomic_int race_round;

static void
race_h(void)
{
	atomic_fetch_add(&race_handler[atomic_load(&race_round)], 1);
}

static void *
race_lwp(void *arg)
{
	int r = (int)((intptr_t)arg >> 8), i = (int)((intptr_t)arg & 0xff);

	atomic_fetch_add(&race_arrived[r], 1);
	while (!atomic_load(&race_go[r]))
		gp_yield();
	gp_exit(10 + i);
}

static int
race_proc(void *arg)
{
	int r = (int)(intptr_t)arg, i;
	gp_lwp_t h;

	GCHECK(gp_atexit(race_h) == 0, "gp_atexit");
	for (i = 1; i < RACE_LWPS; i++)
		GCHECK(gp_lwp_create(&h, race_lwp,
		    (void *)(intptr_t)((r << 8) | i), NULL) == 0, "create");
	while (atomic_load(&race_arrived[r]) < RACE_LWPS - 1)
		gp_yield();
	atomic_store(&race_go[r], 1);
	gp_exit(10);
}

Test(exit, lwps_exiting_at_once_give_one_status_and_one_reap)
{
	struct gp_counters st;
	int r, ws;
	pid_t p;

	for (r = 0; r < RACE_ROUNDS; r++) {
		atomic_store(&race_round, r);
		p = spawn_ok(race_proc, (void *)(intptr_t)r);
		ws = host_reap(p);
		cr_assert(ne(int, (int)WIFEXITED(ws), 0), "round %d: %#x", r,
		    ws);
		cr_assert(ge(int, WEXITSTATUS(ws), 10), "round %d: %#x", r, ws);
		cr_assert(lt(int, WEXITSTATUS(ws), 10 + RACE_LWPS),
		    "round %d: %#x", r, ws);
		errno = 0;
		cr_assert(eq(int, (int)gp_waitpid(p, &ws, WNOHANG), -1),
		    "round %d: reported twice", r);
		cr_assert(eq(int, errno, ECHILD));
		errno = 0;
		cr_assert(eq(int, (int)gp_waitpid(-1, &ws, WNOHANG), -1),
		    "round %d: another report", r);
		cr_assert(eq(int, errno, ECHILD));
		cr_assert(eq(int, tu_ld(&race_handler[r]), 1),
		    "round %d: atexit handler ran %d times", r,
		    tu_ld(&race_handler[r]));
	}
	assert_no_green_failures();
	cr_assert(eq(int, gp_stats(&st), 0));
	cr_assert(eq(ulong, st.exits - base.exits, (unsigned long)RACE_ROUNDS));
	cr_assert(eq(ulong, st.reaps - base.reaps, (unsigned long)RACE_ROUNDS));
	assert_procs_back_to_base();
	assert_lwps_back_to_base();
	end_test();
}

/* --- exit while another LWP of the process is blocked ------------------ */

enum { BLK_WAITPID, BLK_NANOSLEEP, BLK_JOIN };

static atomic_int blk_started, blk_returned, blk_c_release, blk_c_pid;

static void *
blk_sleep_long(void *arg)
{
	struct timespec ts = tu_ts(30 * TU_S);

	gp_nanosleep(&ts, NULL);
	return arg;
}

/* Block the calling LWP as kind says; returning is a failure. */
static void
blk_block(int kind)
{
	struct timespec ts = tu_ts(30 * TU_S);
	gp_lwp_t h;
	int st;

	switch (kind) {
	case BLK_WAITPID:
		atomic_store(&blk_started, 1);
		(void)gp_waitpid((pid_t)atomic_load(&blk_c_pid), &st, 0);
		break;
	case BLK_NANOSLEEP:
		atomic_store(&blk_started, 1);
		(void)gp_nanosleep(&ts, NULL);
		break;
	case BLK_JOIN:
		if (gp_lwp_create(&h, blk_sleep_long, NULL, NULL) != 0)
			return;
		atomic_store(&blk_started, 1);
		(void)gp_lwp_join(h, NULL);
		break;
	}
	atomic_store(&blk_returned, 1);
}

static int
blk_child(void *arg)
{
	(void)arg;
	pt_green_wait(&blk_c_release);
	return 0;
}

static void *
blk_lwp(void *arg)
{
	blk_block((int)(intptr_t)arg);
	return NULL;
}

static void *
blk_exiter_lwp(void *arg)
{
	(void)arg;
	pt_wait_for(&blk_started, 1, 5 * TU_S);
	pt_nap_ns(20 * TU_MS);
	gp_exit(3);
}

/* arg: kind | 0x100 when the master blocks and another LWP exits. */
static int
blk_proc(void *arg)
{
	int kind = (int)(intptr_t)arg & 0xff;
	int master_blocks = ((intptr_t)arg & 0x100) != 0;
	gp_lwp_t h;
	pid_t c;

	c = gp_spawn(blk_child, NULL, NULL);
	GCHECK(c > GP_PID_INIT, "spawn: %s", strerror(errno));
	atomic_store(&blk_c_pid, (int)c);
	if (master_blocks) {
		GCHECK(gp_lwp_create(&h, blk_exiter_lwp, NULL, NULL) == 0,
		    "create");
		blk_block(kind);
		return 1;
	}
	GCHECK(gp_lwp_create(&h, blk_lwp, (void *)(intptr_t)kind, NULL) == 0,
	    "create");
	pt_wait_for(&blk_started, 1, 5 * TU_S);
	pt_nap_ns(20 * TU_MS);
	gp_exit(3);
}

static void
check_exit_while_blocked(int kind, int master_blocks)
{
	uint64_t t0 = tu_now_ns();
	pid_t p;
	int st;

	p = spawn_ok(blk_proc, (void *)(intptr_t)(kind |
	    (master_blocks ? 0x100 : 0)));
	st = host_reap(p);
	assert_no_green_failures();
	assert_exited_with(st, 3);
	cr_assert(eq(int, tu_ld(&blk_started), 1));
	cr_assert(eq(int, tu_ld(&blk_returned), 0),
	    "the blocked call returned into user code");
	cr_assert(lt(ulong, (unsigned long)(tu_now_ns() - t0),
	    (unsigned long)(10 * TU_S)), "the exit waited for the sleeper");
	/* The orphaned child went to init, which reaps it. */
	atomic_store(&blk_c_release, 1);
	assert_procs_back_to_base();
	assert_lwps_back_to_base();
}

Test(exit, exit_kills_an_lwp_blocked_in_waitpid)
{
	check_exit_while_blocked(BLK_WAITPID, 0);
	end_test();
}

Test(exit, exit_kills_an_lwp_blocked_in_nanosleep)
{
	check_exit_while_blocked(BLK_NANOSLEEP, 0);
	end_test();
}

Test(exit, exit_kills_an_lwp_blocked_in_join)
{
	check_exit_while_blocked(BLK_JOIN, 0);
	end_test();
}

Test(exit, exit_from_an_lwp_kills_a_master_blocked_in_waitpid)
{
	check_exit_while_blocked(BLK_WAITPID, 1);
	end_test();
}

Test(exit, exit_from_an_lwp_kills_a_master_blocked_in_nanosleep)
{
	check_exit_while_blocked(BLK_NANOSLEEP, 1);
	end_test();
}

Test(exit, exit_from_an_lwp_kills_a_master_blocked_in_join)
{
	check_exit_while_blocked(BLK_JOIN, 1);
	end_test();
}

/* --- rusage ---------------------------------------------------------- */

static uint64_t
tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * TU_S + (uint64_t)tv.tv_usec * 1000;
}

static int
busy_30ms(void *arg)
{
	(void)arg;
	tu_spin_ns(30 * TU_MS);
	return 0;
}

static int
sleep_100ms(void *arg)
{
	struct timespec ts = tu_ts(100 * TU_MS);

	(void)arg;
	GCHECK(gp_nanosleep(&ts, NULL) == 0, "nanosleep");
	return 0;
}

static pid_t
wait4_ok(pid_t p, struct rusage *ru)
{
	int st = -1;
	pid_t r;

	memset(ru, 0, sizeof(*ru));
	r = gp_wait4(p, &st, 0, ru);
	cr_assert(eq(int, (int)r, (int)p), "gp_wait4: %s", strerror(errno));
	assert_exited_with(st, 0);
	return r;
}

Test(exit1, wait4_reports_the_run_time_of_a_busy_child)
{
	struct rusage ru;
	pid_t p;

	p = spawn_ok(busy_30ms, NULL);
	wait4_ok(p, &ru);
	cr_assert(ge(ulong, (unsigned long)tv_ns(ru.ru_utime),
	    (unsigned long)(20 * TU_MS)), "ru_utime %ld.%06ld s",
	    (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
	cr_assert(lt(ulong, (unsigned long)tv_ns(ru.ru_utime),
	    (unsigned long)(2 * TU_S)), "ru_utime %ld.%06ld s",
	    (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
	end_test();
}

Test(exit1, wait4_does_not_count_sleep_as_run_time)
{
	struct rusage ru;
	pid_t p;

	p = spawn_ok(sleep_100ms, NULL);
	wait4_ok(p, &ru);
	cr_assert(lt(ulong, (unsigned long)tv_ns(ru.ru_utime),
	    (unsigned long)(20 * TU_MS)), "ru_utime %ld.%06ld s for a sleeper",
	    (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
	cr_assert(ge(long, ru.ru_nvcsw, 1L), "a sleep is a voluntary switch");
	assert_no_green_failures();
	end_test();
}

static int
reap_busy_child(void *arg)
{
	pid_t c;
	int st;

	(void)arg;
	c = gp_spawn(busy_30ms, NULL, NULL);
	GCHECK(c > GP_PID_INIT, "spawn: %s", strerror(errno));
	GCHECK(gp_waitpid(c, &st, 0) == c, "wait: %s", strerror(errno));
	return 0;
}

Test(exit1, wait4_includes_reaped_childrens_run_time)
{
	struct rusage ru;
	pid_t p;

	p = spawn_ok(reap_busy_child, NULL);
	wait4_ok(p, &ru);
	assert_no_green_failures();
	cr_assert(ge(ulong, (unsigned long)tv_ns(ru.ru_utime),
	    (unsigned long)(20 * TU_MS)), "ru_utime %ld.%06ld s",
	    (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
	end_test();
}

#define NYIELD	200

static void *
yield_n(void *arg)
{
	int i;

	for (i = 0; i < NYIELD; i++)
		gp_yield();
	return arg;
}

static int
two_yielders(void *arg)
{
	gp_lwp_t h;

	(void)arg;
	GCHECK(gp_lwp_create(&h, yield_n, NULL, NULL) == 0, "create");
	(void)yield_n(NULL);
	GCHECK(gp_lwp_join(h, NULL) == 0, "join");
	return 0;
}

Test(exit1, voluntary_switches_grow_with_yields)
{
	struct rusage ru0, ru1;
	pid_t p;

	p = spawn_ok(ret_zero, NULL);
	wait4_ok(p, &ru0);
	p = spawn_ok(two_yielders, NULL);
	wait4_ok(p, &ru1);
	assert_no_green_failures();
	cr_assert(lt(long, ru0.ru_nvcsw, 50L), "idle child: %ld",
	    ru0.ru_nvcsw);
	cr_assert(ge(long, ru1.ru_nvcsw, ru0.ru_nvcsw + 2L * NYIELD),
	    "%d yields on each of 2 LWPs: ru_nvcsw %ld (idle child %ld)",
	    NYIELD, ru1.ru_nvcsw, ru0.ru_nvcsw);
	end_test();
}
