/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sync_robust.c -- robust, process-private mutexes whose owner is a green
 * thread.  When the owning LWP ends (pthread_exit, cancellation) or its
 * green process ends (exit, SIGKILL), the next locker -- an LWP or a host
 * thread -- gets EOWNERDEAD; pthread_mutex_consistent makes it usable
 * again, and an unlock without it makes it ENOTRECOVERABLE.  And when a
 * host thread dies holding one, an LWP gets EOWNERDEAD.
 * sync_robustpi.c builds the same with SYNC_ROBUST_PI: every mutex is
 * also priority-inherit, whose lock word the kernel reads as a TID (a
 * host thread then waits in host_pi_lock, not in glibc's lock).
 */
#include <signal.h>
#include <stdint.h>

#include "sync.h"

static pthread_mutex_t m_exit, m_norec, m_wait, m_cancel, m_proc, m_kill,
    m_hostwait, m_hostdied;

static void
init_robust(pthread_mutex_t *m, int type)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutexattr_settype(&a, type);
#ifdef SYNC_ROBUST_PI
	pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
#endif
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

/* Lock (m), expecting EOWNERDEAD; make it consistent; unlock; relock. */
static void
expect_ownerdead(pthread_mutex_t *m, const char *who)
{
	int e = pthread_mutex_lock(m);

	CHECK(e == EOWNERDEAD, "%s: lock = %d (%s)", who, e, strerror(e));
	if (e != EOWNERDEAD && e != 0)
		return;
	e = pthread_mutex_consistent(m);
	CHECK(e == 0, "%s: consistent = %d (%s)", who, e, strerror(e));
	CHECK(pthread_mutex_unlock(m) == 0, "%s: unlock", who);
	e = pthread_mutex_lock(m);
	CHECK(e == 0, "%s: lock again = %d (%s)", who, e, strerror(e));
	if (e == 0)
		pthread_mutex_unlock(m);
}

/* ---- LWPs of one process */

static void *
lock_and_exit(void *arg)
{
	CHECK(pthread_mutex_lock(arg) == 0, "owner lock");
	pthread_exit(NULL);
}

static atomic_int w_held, w_trying;

static void *
wait_owner(void *arg)
{
	(void)arg;
	CHECK(pthread_mutex_lock(&m_wait) == 0, "owner lock");
	atomic_store(&w_held, 1);
	wait_for(&w_trying, 1);
	usleep(20000);		/* the waiter parks meanwhile */
	return NULL;		/* ends holding it */
}

static void *
wait_waiter(void *arg)
{
	(void)arg;
	wait_for(&w_held, 1);
	atomic_store(&w_trying, 1);
	expect_ownerdead(&m_wait, "parked waiter");
	return NULL;
}

static atomic_int c_held;

static void *
cancel_owner(void *arg)
{
	(void)arg;
	CHECK(pthread_mutex_lock(&m_cancel) == 0, "owner lock");
	atomic_store(&c_held, 1);
	while (atomic_load(&c_held) > 0)
		usleep(1000);	/* cancellation point */
	return NULL;
}

static int
legacy_main(int argc, char **argv)
{
	pthread_t t, u;
	void *rv = NULL;
	int e;

	(void)argc;
	(void)argv;
	/* The owner returns holding it. */
	pthread_create(&t, NULL, lock_and_exit, &m_exit);
	pthread_join(t, NULL);
	expect_ownerdead(&m_exit, "after pthread_exit");

	/* Not made consistent: unusable for good. */
	pthread_create(&t, NULL, lock_and_exit, &m_norec);
	pthread_join(t, NULL);
	e = pthread_mutex_lock(&m_norec);
	CHECK(e == EOWNERDEAD, "norec: lock = %d (%s)", e, strerror(e));
	if (e == EOWNERDEAD || e == 0)
		CHECK(pthread_mutex_unlock(&m_norec) == 0, "norec: unlock");
	e = pthread_mutex_lock(&m_norec);
	CHECK(e == ENOTRECOVERABLE, "norec: lock again = %d (%s)", e,
	    strerror(e));

	/* A waiter parked when the owner dies. */
	pthread_create(&t, NULL, wait_owner, NULL);
	pthread_create(&u, NULL, wait_waiter, NULL);
	pthread_join(t, NULL);
	pthread_join(u, NULL);

	/* The owner is cancelled. */
	pthread_create(&t, NULL, cancel_owner, NULL);
	wait_for(&c_held, 1);
	CHECK(pthread_cancel(t) == 0, "cancel");
	pthread_join(t, &rv);
	CHECK(rv == PTHREAD_CANCELED, "joined %p", rv);
	expect_ownerdead(&m_cancel, "after cancel");
	printf("threads: done\n");
	return green_exit_code();
}

/* ---- green processes */

static int
proc_exits(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	CHECK(pthread_mutex_lock(&m_proc) == 0, "process lock");
	return 0;		/* exit(0) holding it */
}

static atomic_int k_held;

static int
proc_killed(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	CHECK(pthread_mutex_lock(&m_kill) == 0, "process lock");
	atomic_store(&k_held, 1);
	while (atomic_load(&k_held) > 0)
		usleep(1000);	/* pause(2) would block the worker */
	return 1;
}

static atomic_int hw_held, hw_waiting;

static int
proc_host_waits(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	CHECK(pthread_mutex_lock(&m_hostwait) == 0, "process lock");
	atomic_store(&hw_held, 1);
	wait_for(&hw_waiting, 1);
	usleep(20000);		/* the host sleeps in glibc meanwhile */
	return 0;
}

static int
proc_locks_host_dead(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	expect_ownerdead(&m_hostdied, "LWP after a host owner died");
	return green_exit_code();
}

static void *
host_lock_and_exit(void *arg)
{
	CHECK(pthread_mutex_lock(arg) == 0, "host owner lock");
	return NULL;
}

static pid_t
spawn(int (*fn)(int, char **))
{
	char *argv[] = { "sync_robust_child", NULL };

	return gp_spawn_main(fn, 1, argv, NULL);
}

int
main(void)
{
	pthread_t t;
	pid_t pid;
	int st;

	driver_start();
	init_robust(&m_exit, PTHREAD_MUTEX_NORMAL);
	init_robust(&m_norec, PTHREAD_MUTEX_ERRORCHECK);
	init_robust(&m_wait, PTHREAD_MUTEX_RECURSIVE);
	init_robust(&m_cancel, PTHREAD_MUTEX_NORMAL);
	init_robust(&m_proc, PTHREAD_MUTEX_RECURSIVE);
	init_robust(&m_kill, PTHREAD_MUTEX_ERRORCHECK);
	init_robust(&m_hostwait, PTHREAD_MUTEX_NORMAL);
	init_robust(&m_hostdied, PTHREAD_MUTEX_RECURSIVE);

	run_green("sync_robust", legacy_main);

	/* A green process exits holding it: the host locks next. */
	pid = spawn(proc_exits);
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	expect_ownerdead(&m_proc, "host after exit");

	/* A green process is killed holding it. */
	pid = spawn(proc_killed);
	wait_for(&k_held, 1);
	CHECK(kill(pid, SIGKILL) == 0, "kill");
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status 0x%x", st);
	expect_ownerdead(&m_kill, "host after SIGKILL");

	/* The host sleeps in glibc's lock when the green owner exits. */
	pid = spawn(proc_host_waits);
	wait_for(&hw_held, 1);
	atomic_store(&hw_waiting, 1);
	expect_ownerdead(&m_hostwait, "host waiting in glibc");
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");

	/* A host thread dies holding it: an LWP locks next. */
	pthread_create(&t, NULL, host_lock_and_exit, &m_hostdied);
	pthread_join(t, NULL);
	run_green("sync_robust_lwp", proc_locks_host_dead);
	printf("processes: done\n");
	return check_exit_code();
}
