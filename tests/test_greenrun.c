/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_greenrun.c -- green-init mode (issue 15): the programs of
 * tests/greenrun/, which know nothing of greenproc, run natively and
 * under `greenrun -w 2`; their output and wait status must be the same.
 * gr_probe checks that under greenrun the threads really are green (a
 * few kernel threads carry them all).
 *
 * Under a sanitizer tier the programs, greenrun and its preload come
 * from the plain build (a sanitized preload cannot go into a foreign
 * program), as in test_passthrough.c.  No timing is asserted: a run
 * that does not end within its limit is killed and fails.
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

TestSuite(greenrun, .timeout = 180.0);

#define LIMIT_S	60		/* a run that takes longer has hung */
#define MAXENV	1024		/* variables passed on to the programs */

struct run {
	pid_t	pid;
	int	out;		/* read end of its stdout+stderr, or -1 */
	int	status;		/* wait status, -1 until reaped */
	size_t	len;
	char	buf[65536];
};

static const char *
build_dir(void)
{
	const char *s = getenv("GREENPROC_TEST_SAN");
	const char *v = getenv(s != NULL && s[0] != '\0' ?
	    "GREENPROC_TEST_PLAIN_BUILD" : "GREENPROC_TEST_BUILD");

	cr_assert(ne(ptr, (void *)v, NULL), "run the tests with make test");
	return v;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Start tests/greenrun/name with up to two arguments, natively or under
 * greenrun -w 2, with stdin /dev/null, stdout and stderr into r->out,
 * SIGPIPE and SIGINT at their defaults, without LD_PRELOAD or GREENPROC_
 * variables from our environment.
 */
static void
start(struct run *r, bool green, const char *name, const char *a1,
    const char *a2)
{
	char prog[4096], gr[4096];
	const char *argv[8];
	static char *env[MAXENV + 1];
	struct stat sb;
	int p[2], i = 0, k;

	snprintf(prog, sizeof(prog), "%s/tests/greenrun/%s", build_dir(), name);
	snprintf(gr, sizeof(gr), "%s/greenrun", build_dir());
	cr_assert(eq(int, stat(prog, &sb), 0), "%s: %s", prog, strerror(errno));
	if (green) {
		cr_assert(eq(int, stat(gr, &sb), 0), "%s: %s", gr,
		    strerror(errno));
		argv[i++] = gr;
		argv[i++] = "-w";
		argv[i++] = "2";
	}
	argv[i++] = prog;
	if (a1 != NULL)
		argv[i++] = a1;
	if (a2 != NULL)
		argv[i++] = a2;
	argv[i] = NULL;
	for (i = 0, k = 0; environ[i] != NULL && k < MAXENV; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
		    strncmp(environ[i], "GREENPROC_", 10) != 0)
			env[k++] = environ[i];
	env[k] = NULL;

	memset(r, 0, offsetof(struct run, buf));
	r->buf[0] = '\0';
	r->status = -1;
	cr_assert(eq(int, pipe2(p, O_CLOEXEC), 0));
	fflush(NULL);
	r->pid = fork();
	cr_assert(ge(int, (int)r->pid, 0), "fork: %s", strerror(errno));
	if (r->pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		sigset_t none;

		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execve(argv[0], (char *const *)argv, env);
		dprintf(2, "execve %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	r->out = p[0];
}

/* Read what r wrote for up to ms milliseconds; false at end of file. */
static bool
drain(struct run *r, int ms)
{
	struct pollfd pfd = { r->out, POLLIN, 0 };
	ssize_t n;

	if (r->out < 0)
		return false;
	if (poll(&pfd, 1, ms) <= 0)
		return true;
	n = read(r->out, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	if (n <= 0) {
		close(r->out);
		r->out = -1;
		return false;
	}
	r->len += (size_t)n;
	r->buf[r->len] = '\0';
	return true;
}

/* Read until (s) has appeared in the output (or LIMIT_S passed). */
static void
await(struct run *r, const char *s)
{
	double end = now_s() + LIMIT_S;

	while (strstr(r->buf, s) == NULL && now_s() < end && drain(r, 20))
		;
	cr_assert(ne(ptr, strstr(r->buf, s), NULL),
	    "never said \"%s\"; said:\n%s", s, r->buf);
}

/* Wait for r to end (killing it after LIMIT_S) and collect its output. */
static void
finish(struct run *r)
{
	double end = now_s() + LIMIT_S;
	int st;

	while (r->status == -1 && now_s() < end) {
		if (waitpid(r->pid, &st, WNOHANG) == r->pid)
			r->status = st;
		else if (!drain(r, 20))
			usleep(1000);
	}
	if (r->status == -1) {
		kill(r->pid, SIGKILL);
		(void)waitpid(r->pid, &st, 0);
	}
	while (drain(r, 0))
		;
	if (r->out >= 0)
		close(r->out);
	cr_assert(ne(int, r->status, -1), "hung; said:\n%s", r->buf);
}

static void
run(struct run *r, bool green, const char *name, const char *a1)
{
	start(r, green, name, a1, NULL);
	finish(r);
}

static char *
describe(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by %s", strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "status %#x", st);
	return buf;
}

/* The signal that killed a process of wait status (st), or 0. */
static int
termsig(int st)
{
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/* Run name natively and under greenrun: same output, same status. */
static void
same(const char *name, const char *a1)
{
	static struct run native, green;
	char d1[64], d2[64];

	run(&native, false, name, a1);
	run(&green, true, name, a1);
	cr_expect(eq(str, green.buf, native.buf),
	    "%s %s: output differs\n--- native:\n%s--- greenrun:\n%s", name,
	    a1 != NULL ? a1 : "", native.buf, green.buf);
	cr_expect(eq(int, green.status, native.status),
	    "%s %s: native %s, greenrun %s", name, a1 != NULL ? a1 : "",
	    describe(native.status, d1, sizeof(d1)),
	    describe(green.status, d2, sizeof(d2)));
}

Test(greenrun, pool_mutex_condvar) { same("gr_pool", NULL); }
Test(greenrun, semaphores) { same("gr_sem", NULL); }
Test(greenrun, keys_destructors) { same("gr_keys", NULL); }
Test(greenrun, atexit_return) { same("gr_exit", "return"); }
Test(greenrun, exit_from_thread) { same("gr_exit", "thread"); }
Test(greenrun, last_pthread_exit) { same("gr_exit", "last"); }
Test(greenrun, _exit_from_thread) { same("gr_exit", "_exit"); }
Test(greenrun, fork_exec_wait) { same("gr_fork", NULL); }
Test(greenrun, ten_thousand_threads) { same("gr_many", NULL); }
Test(greenrun, alarm_handler) { same("gr_signal", "alarm"); }
Test(greenrun, kill_own_pid) { same("gr_signal", "self"); }

/* The probe: greenrun's threads are carried by its 2 workers. */
Test(greenrun, threads_are_green)
{
	static struct run native, green;
	int n = 0;

	run(&native, false, "gr_probe", NULL);
	run(&green, true, "gr_probe", NULL);
	cr_assert(eq(int, sscanf(native.buf, "distinct tids %d", &n), 1),
	    "%s", native.buf);
	cr_expect(eq(int, n, 41), "native: %s", native.buf);
	cr_assert(eq(int, sscanf(green.buf, "distinct tids %d", &n), 1),
	    "%s", green.buf);
	cr_expect(le(int, n, 2), "greenrun -w 2: %d kernel threads:\n%s", n,
	    green.buf);
	/* The rest (identity, main's stack depth) as natively. */
	cr_expect(eq(str, strchr(green.buf, '\n'), strchr(native.buf, '\n')),
	    "--- native:\n%s--- greenrun:\n%s", native.buf, green.buf);
	cr_expect(eq(int, green.status, 0), "greenrun: status %#x",
	    green.status);
}

/* A signal sent to the program from outside, natively and green. */
static void
signalled(bool green, const char *how, int sig, struct run *r)
{
	start(r, green, "gr_signal", how, NULL);
	await(r, "ready\n");
	cr_assert(eq(int, kill(r->pid, sig), 0));
	finish(r);
}

Test(greenrun, sigterm_handler)
{
	static struct run native, green;

	signalled(false, "term", SIGTERM, &native);
	signalled(true, "term", SIGTERM, &green);
	cr_expect(eq(str, green.buf, native.buf));
	cr_expect(eq(str, green.buf, "ready\nhandled SIGTERM\n"));
	cr_expect(eq(int, native.status, green.status), "native %#x green %#x",
	    native.status, green.status);
	cr_expect(eq(int, green.status, 3 << 8));
}

Test(greenrun, sigint_default_kills)
{
	static struct run native, green;

	signalled(false, "int", SIGINT, &native);
	signalled(true, "int", SIGINT, &green);
	cr_expect(eq(int, native.status, green.status), "native %#x green %#x",
	    native.status, green.status);
	cr_expect(eq(int, termsig(green.status), SIGINT), "greenrun: status %#x, said:\n%s", green.status,
	    green.buf);
}

/* seq 1 N | head -1: the writer dies of SIGPIPE quietly. */
static void
broken_pipe(bool green, const char *how)
{
	static struct run r;

	start(&r, green, "gr_pipe", how, NULL);
	await(&r, "1\n");
	close(r.out);
	r.out = -1;
	finish(&r);
	cr_expect(eq(int, termsig(r.status), SIGPIPE), "%s %s: status %#x", green ? "greenrun" : "native", how,
	    r.status);
}

Test(greenrun, sigpipe_write)
{
	broken_pipe(false, "write");
	broken_pipe(true, "write");
}

/*
 * glibc's stdio writes through its internal __write, on the worker,
 * where the kernel's SIGPIPE is blocked: preload/stdio.c turns the
 * EPIPE into the green SIGPIPE (`greenrun seq 1 1000000 | head -1` dies
 * of it quietly, as natively).
 */
Test(greenrun, sigpipe_stdio)
{
	broken_pipe(false, "stdio");
	broken_pipe(true, "stdio");
}

/* The _unlocked calls and the inline putc_unlocked (its __overflow). */
Test(greenrun, sigpipe_stdio_unlocked)
{
	broken_pipe(false, "unlocked");
	broken_pipe(true, "unlocked");
}

/* The mode is not inherited: a program greenrun's program execs is plain. */
Test(greenrun, mode_not_inherited)
{
	static struct run r;

	start(&r, true, "gr_probe", "env", NULL);
	finish(&r);
	cr_expect(eq(ptr, strstr(r.buf, "GREENPROC_INIT=1"), NULL), "%s",
	    r.buf);
	cr_expect(eq(int, r.status, 0), "status %#x", r.status);
}
