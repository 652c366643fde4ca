/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_shutdown.c -- a gp_shutdown() that gives up stays safe.
 *
 * An LWP that never reaches a cancellation point makes gp_shutdown()
 * fail with EBUSY and abandon its worker.  The header promises that the
 * stuck LWP is named on stderr and that gp_init() works again afterwards:
 * whatever the abandoned worker may still touch stays mapped, and the
 * runtime that follows shares nothing with it.
 *
 * Every test runs in a forked child: the abandoned workers stay in that
 * process (parked for good once their LWPs stop spinning), and the child's
 * stderr goes to a file the parent reads.  The child checks what it can
 * itself and exits with a code naming the first failure; its messages go
 * to the test's own stderr.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenproc.h"
#include "testutil.h"

TestSuite(shutdown_abandon, .timeout = 60.0);

#define ROUNDS	4	/* EBUSY -> gp_init -> work -> gp_shutdown, in a loop */

/* Per round, so that a spinner of an earlier round is never restarted. */
static atomic_int spinning[ROUNDS][2];
static atomic_int stop[ROUNDS];
static int test_err = -1;	/* the test's stderr, in the child */

static void __attribute__((format(printf, 1, 2)))
child_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdprintf(test_err, fmt, ap);
	va_end(ap);
	dprintf(test_err, "\n");
}

/* Pure user code: never a runtime call while it spins. */
static void
spin_until(int round, int who)
{
	atomic_store(&spinning[round][who], 1);
	while (atomic_load_explicit(&stop[round], memory_order_relaxed) == 0)
		atomic_fetch_add_explicit(&spinning[round][who], 1,
		    memory_order_relaxed);
}

static void *
spin_on_init_lwp(void *arg)
{
	spin_until((int)(intptr_t)arg, 0);
	return NULL;		/* back into the runtime, long after shutdown */
}

static int
spin_in_green_process(void *arg)
{
	spin_until((int)(intptr_t)arg, 1);
	return 0;		/* gp_exit(0), long after shutdown */
}

static void *
yield_and_sleep(void *arg)
{
	struct timespec ts = { 0, 200000 };

	gp_yield();
	gp_nanosleep(&ts, NULL);
	return arg;
}

static int
exit_with(void *arg)
{
	gp_yield();
	return (int)(intptr_t)arg;
}

/* Host-side wait for an LWP to start spinning; 0 once it does. */
static int
wait_spinning(atomic_int *flag)
{
	uint64_t end = tu_now_ns() + 10 * TU_S;

	while (atomic_load(flag) == 0) {
		if (tu_now_ns() > end)
			return -1;
		tu_host_sleep_ns(TU_MS);
	}
	return 0;
}

/* A runtime in working order: LWPs, processes, statuses. */
static int
do_work(void)
{
	gp_lwp_t h[32];
	void *rv;
	pid_t p;
	int i, st;

	for (i = 0; i < 32; i++)
		if (gp_lwp_create(&h[i], yield_and_sleep, (void *)(intptr_t)i,
		    NULL) != 0)
			return -1;
	for (i = 0; i < 32; i++)
		if (gp_lwp_join(h[i], &rv) != 0 || rv != (void *)(intptr_t)i)
			return -2;
	for (i = 0; i < 16; i++) {
		if ((p = gp_spawn(exit_with, (void *)(intptr_t)i, NULL)) < 0)
			return -3;
		if (gp_waitpid(p, &st, 0) != p || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != i)
			return -4;
	}
	return 0;
}

/* How many lines of the file (path) contain both (a) and (b)? */
static int
count_lines2(const char *path, const char *a, const char *b)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, a) != NULL && strstr(line, b) != NULL;
	fclose(f);
	return n;
}

/*
 * The child: ROUNDS times, an LWP of init and a green process spin on
 * the two workers; gp_shutdown gives up (EBUSY); the next runtime must
 * work (gp_init, LWPs, processes, a clean gp_shutdown) while they go on
 * spinning.  Then they are let go, and come back into the runtime
 * while the next round runs.
 */
static int
abandon_rounds(const char *path)
{
	struct gp_counters st;
	char pidname[64];
	pid_t green[ROUNDS];
	gp_lwp_t l;
	int r, rc, err, work;

	if (setenv("GREENPROC_EXIT_TIMEOUT_MS", "100", 1) != 0)
		return 2;
	for (r = 0; r < ROUNDS; r++) {
		if (gp_init(2) != 0)
			return 3;
		if (gp_lwp_create(&l, spin_on_init_lwp, (void *)(intptr_t)r,
		    NULL) != 0 || wait_spinning(&spinning[r][0]) != 0)
			return 4;
		/* The other worker: the first one is bound to the spinner. */
		if ((green[r] = gp_spawn(spin_in_green_process,
		    (void *)(intptr_t)r, NULL)) < 0 ||
		    wait_spinning(&spinning[r][1]) != 0)
			return 5;
		rc = gp_shutdown();
		err = errno;
		if (rc != -1 || err != EBUSY) {
			child_fail("round %d: gp_shutdown gave %d (%s), not EBUSY",
			    r, rc, strerror(err));
			return 6;
		}
		/*
		 * The last round's spinners go on spinning on their abandoned
		 * workers through this whole round, its gp_shutdown included.
		 */
		if (gp_init(2) != 0)
			return 7;
		if ((work = do_work()) != 0) {
			child_fail("round %d: work after EBUSY failed (%d)", r,
			    work);
			return 8;
		}
		rc = gp_shutdown();
		if (rc != 0) {
			child_fail("round %d: clean gp_shutdown gave %d (%s)", r,
			    rc, strerror(errno));
			return 9;
		}
		/*
		 * Only now let the last round's spinners go: they come back
		 * into the runtime while the next round starts one.
		 */
		if (r > 0)
			atomic_store(&stop[r - 1], 1);
	}
	atomic_store(&stop[ROUNDS - 1], 1);
	tu_host_sleep_ns(20 * TU_MS);
	if (gp_init(2) != 0 || do_work() != 0 || gp_shutdown() != 0) {
		child_fail("the runtime after the last round does not work");
		return 15;
	}
	fflush(stderr);
	/* Every stuck LWP named, with its pid: init's and the green one. */
	snprintf(pidname, sizeof(pidname), "pid %d ", GP_PID_INIT);
	if ((rc = count_lines2(path, "never reached a cancellation point",
	    pidname)) != ROUNDS) {
		child_fail("%d of %d stuck LWPs of init named", rc, ROUNDS);
		return 10;
	}
	for (r = 0; r < ROUNDS; r++) {
		snprintf(pidname, sizeof(pidname), "pid %d ", (int)green[r]);
		if (count_lines2(path, "never reached a cancellation point",
		    pidname) < 1) {
			child_fail("the stuck LWP of green pid %d is not named",
			    (int)green[r]);
			return 11;
		}
	}
	/* The leak is counted, and said. */
	if (gp_stats(&st) != 0)
		return 12;
	if (st.abandoned_workers != 2 * ROUNDS || st.leaked_bytes == 0) {
		child_fail("gp_stats: abandoned_workers %ld, leaked_bytes %lu",
		    st.abandoned_workers, st.leaked_bytes);
		return 13;
	}
	if (count_lines2(path, "greenproc: shutdown:", "left") < ROUNDS) {
		child_fail("the leak is not said on stderr");
		return 14;
	}
	return 0;
}

Test(shutdown_abandon, ebusy_then_gp_init_again_stays_safe_round_after_round)
{
	char path[64];
	bool exited;
	pid_t child;
	int st, fd;

	snprintf(path, sizeof(path), "/tmp/gp-abandon-%d.log", (int)getpid());
	fflush(NULL);
	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		test_err = dup(STDERR_FILENO);
		fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(1);
		close(fd);
		setvbuf(stderr, NULL, _IONBF, 0);
		_exit(abandon_rounds(path));
	}
	cr_assert(eq(int, waitpid(child, &st, 0), child));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *log = NULL;

		if ((fd = open(path, O_RDONLY)) >= 0) {
			log = tu_read_all(fd);
			close(fd);
		}
		cr_log_error("child stderr:\n%s", log != NULL ? log : "");
		free(log);
	}
	unlink(path);
	exited = WIFEXITED(st);
	cr_assert(exited, "the host died of signal %d",
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	cr_assert(eq(int, WEXITSTATUS(st), 0));
}
