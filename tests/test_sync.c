/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sync.c -- pthread synchronisation under the preload, item 3 of
 * issue 10: ownership by green thread (recursive, errorcheck, robust),
 * spinlocks, pthread_once, stale green handles, and no backstop wake-up.
 * Each program of tests/programs/sync_*.c runs under LD_PRELOAD with one
 * worker and with two, stdout captured, a timeout; it prints "FAIL: ..."
 * lines and "ALL OK" (tests/programs/check.h).
 *
 * The test process itself never starts the runtime.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

TestSuite(sync, .timeout = 120.0);

#define OUT_MAX		(128 * 1024)
#define RUN_TIMEOUT_S	40

static struct run {
	int status;		/* wait status; -1 if none */
	bool timed_out;
	size_t len;
	char out[OUT_MAX + 1];	/* stdout and stderr, interleaved */
} R;

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Our programs run plain under a sanitizer tier (see test_preload.c: the
 * sanitizer's pthread_create interceptor expects kernel threads).
 */
static const char *
test_build(void)
{
	const char *san = getenv("GREENPROC_TEST_SAN");
	const char *b = san != NULL && san[0] != '\0' ?
	    getenv("GREENPROC_TEST_PLAIN_BUILD") : getenv("GREENPROC_TEST_BUILD");

	cr_assert(ne(ptr, (void *)b, NULL),
	    "GREENPROC_TEST_BUILD is not set: run the tests with make test");
	return b;
}

/*
 * Run program (name) with the preload and GREENPROC_WORKERS=(workers),
 * output in R.  The child is in its own process group, killed whole
 * at the timeout or when it has exited.
 */
static void
run_sync(const char *name, int workers)
{
	char prog[4096], so[4096], ld[4200], wk[64];
	char **env;
	int p[2], ws, n = 0, i, k = 0;
	double start = mono_s();
	bool exited = false;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/tests/programs/%s", test_build(),
	    name);
	snprintf(so, sizeof(so), "%s/libgreenproc_preload.so", test_build());
	snprintf(ld, sizeof(ld), "LD_PRELOAD=%s", so);
	snprintf(wk, sizeof(wk), "GREENPROC_WORKERS=%d", workers);
	while (environ[n] != NULL)
		n++;
	env = calloc((size_t)n + 3, sizeof(*env));
	cr_assert(ne(ptr, env, NULL));
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
		    strncmp(environ[i], "GREENPROC_WORKERS=", 18) != 0)
			env[k++] = environ[i];
	env[k++] = ld;
	env[k++] = wk;
	env[k] = NULL;

	memset(&R, 0, sizeof(R));
	R.status = -1;
	fflush(NULL);
	cr_assert(eq(int, pipe2(p, O_CLOEXEC), 0));
	pid = fork();
	cr_assert(ge(int, (int)pid, 0), "fork: %s", strerror(errno));
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execve(prog, (char *const[]){ prog, NULL }, env);
		dprintf(2, "execve %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(p[1]);
	while (p[0] >= 0 || !exited) {
		struct pollfd pfd = { p[0], POLLIN, 0 };
		char tmp[4096];
		ssize_t r;

		if (p[0] >= 0 && poll(&pfd, 1, 50) > 0) {
			r = read(p[0], tmp, sizeof(tmp));
			if (r > 0) {
				size_t c = (size_t)r < OUT_MAX - R.len ?
				    (size_t)r : OUT_MAX - R.len;

				memcpy(R.out + R.len, tmp, c);
				R.len += c;
			} else if (r == 0 || errno != EINTR) {
				close(p[0]);
				p[0] = -1;
			}
		} else if (p[0] < 0) {
			usleep(10000);
		}
		if (!exited && waitpid(pid, &ws, WNOHANG) == pid) {
			exited = true;
			R.status = ws;
		}
		if (!exited && mono_s() - start > RUN_TIMEOUT_S) {
			R.timed_out = true;
			kill(-pid, SIGKILL);
			if (waitpid(pid, &ws, 0) == pid)
				R.status = ws;
			exited = true;
		}
		if (exited && p[0] >= 0 && mono_s() - start > RUN_TIMEOUT_S + 5)
			break;
	}
	kill(-pid, SIGKILL);
	if (p[0] >= 0)
		close(p[0]);
	R.out[R.len] = '\0';
	free(env);
}

static bool
has_line(const char *line)
{
	size_t n = strlen(line);
	const char *p = R.out;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == R.out || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

/* The program exited 0, printed no FAIL line, and printed (lines). */
static void
assert_ok(const char *const *lines)
{
	int i;

	cr_assert(not(R.timed_out), "timed out; output:\n%s", R.out);
	cr_assert(R.status != -1 && WIFEXITED(R.status) &&
	    WEXITSTATUS(R.status) == 0, "status 0x%x; output:\n%s", R.status,
	    R.out);
	cr_assert(eq(ptr, strstr(R.out, "FAIL"), NULL), "output:\n%s", R.out);
	cr_assert(has_line("ALL OK"), "output:\n%s", R.out);
	for (i = 0; lines != NULL && lines[i] != NULL; i++)
		cr_assert(has_line(lines[i]), "no line '%s'; output:\n%s",
		    lines[i], R.out);
}

#define SYNC_TESTS(name, ...)						\
Test(sync, name##_one_worker)						\
{									\
	static const char *const lines[] = { __VA_ARGS__, NULL };	\
									\
	run_sync("sync_" #name, 1);					\
	assert_ok(lines);						\
}									\
Test(sync, name##_two_workers)						\
{									\
	static const char *const lines[] = { __VA_ARGS__, NULL };	\
									\
	run_sync("sync_" #name, 2);					\
	assert_ok(lines);						\
}

/* Recursive and errorcheck mutexes; mixed host/green; no backstop. */
SYNC_TESTS(mutex, "recursive: done", "errorcheck: done", "legacy: done",
    "mixed: done", "backstops: 0")

/* Robust mutexes: LWP and green-process death, host and LWP lockers. */
SYNC_TESTS(robust, "threads: done", "processes: done")
/* The same, priority-inherit too: the owner in the word the kernel reads. */
SYNC_TESTS(robustpi, "threads: done", "processes: done")

/* pthread_spin_lock yields; counters; no backstop. */
SYNC_TESTS(spin, "spin: handed over", "backstops: 0")

/* pthread_once: green/host interplay, cancellation in the initializer. */
SYNC_TESTS(once, "green: done", "host: done")

/* Stale green handles: ESRCH. */
SYNC_TESTS(handle, "handles: done")
