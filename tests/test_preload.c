/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_preload.c -- libgreenproc_preload.so from the outside: each program
 * of tests/programs/ (legacy libc code run in green processes by a small
 * driver, and one plain program with no green code at all) runs under
 * LD_PRELOAD in its own process group, with its stdout and stderr
 * captured and a timeout; the test checks its exit status and the lines
 * it printed.  Foreign programs (/bin/true, sh, bash, make, python3) run
 * with and without the preload and must give the same output and status.
 *
 * Which preload (Makefile, "Tests"):
 *   our programs      $GREENPROC_TEST_BUILD/libgreenproc_preload.so, with
 *                     $GREENPROC_TEST_SAN_PRELOAD (gcc's libasan) first
 *                     under ASan;
 *   foreign programs  the same object in a plain build; under a sanitizer
 *                     tier the plain one from $GREENPROC_TEST_PLAIN_BUILD
 *                     (a sanitized preload cannot go into bash or python3).
 *
 * The test process itself never starts the runtime: no gp_shutdown here.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

TestSuite(preload, .timeout = 120.0);
TestSuite(passthrough, .timeout = 120.0);

/* ------------------------------------------------------------ running */

#define OUT_MAX		(256 * 1024)
#define ERR_MAX		(64 * 1024)
#define RUN_TIMEOUT_S	40

struct run {
	int status;		/* wait status; -1 if none */
	bool timed_out;
	size_t outlen, errlen;
	char out[OUT_MAX + 1];
	char err[ERR_MAX + 1];
};

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* environ without LD_PRELOAD and without the names in extra, plus extra. */
static char **
make_env(const char *preload, const char *const *extra)
{
	size_t n = 0, i, j, k = 0;
	char **env;
	bool skip;

	while (environ[n] != NULL)
		n++;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		n++;
	env = calloc(n + 2, sizeof(*env));
	cr_assert(ne(ptr, env, NULL));
	for (i = 0; environ[i] != NULL; i++) {
		skip = strncmp(environ[i], "LD_PRELOAD=", 11) == 0;
		for (j = 0; !skip && extra != NULL && extra[j] != NULL; j++) {
			size_t len = strcspn(extra[j], "=") + 1;

			skip = strncmp(environ[i], extra[j], len) == 0;
		}
		if (!skip)
			env[k++] = environ[i];
	}
	for (j = 0; extra != NULL && extra[j] != NULL; j++)
		env[k++] = (char *)extra[j];
	if (preload != NULL) {
		static char ld[8500];

		snprintf(ld, sizeof(ld), "LD_PRELOAD=%s", preload);
		env[k++] = ld;
	}
	env[k] = NULL;
	return env;
}

static void
drain(int *fd, char *buf, size_t *len, size_t max)
{
	char tmp[4096];
	ssize_t n;

	if (*fd < 0)
		return;
	n = read(*fd, tmp, sizeof(tmp));
	if (n > 0) {
		size_t room = max - *len, c = (size_t)n < room ? (size_t)n : room;

		memcpy(buf + *len, tmp, c);
		*len += c;
		buf[*len] = '\0';
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * Run argv (argv[0] a path) with LD_PRELOAD=preload (NULL: none) and the
 * extra "NAME=value" strings, stdin /dev/null, in a new process group.
 * When the program has exited and both pipes are at EOF (or 2 s after the
 * exit, if something it left behind holds them), or at the timeout, the
 * whole group gets SIGKILL.
 */
static void
run_prog(struct run *r, const char *const *argv, const char *preload,
    const char *const *extra)
{
	int op[2], ep[2], ws;
	char **env = make_env(preload, extra);
	double start = mono_s(), exited_at = 0;
	bool exited = false;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	fflush(NULL);
	cr_assert(eq(int, pipe2(op, O_CLOEXEC), 0));
	cr_assert(eq(int, pipe2(ep, O_CLOEXEC), 0));
	pid = fork();
	cr_assert(ge(int, (int)pid, 0), "fork: %s", strerror(errno));
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		dup2(nul, 0);
		dup2(op[1], 1);
		dup2(ep[1], 2);
		execve(argv[0], (char *const *)argv, env);
		dprintf(2, "execve %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(op[1]);
	close(ep[1]);
	for (;;) {
		struct pollfd pfd[2] = { { op[0], POLLIN, 0 },
		    { ep[0], POLLIN, 0 } };
		double now;

		if (op[0] < 0 && ep[0] < 0 && exited)
			break;
		if (poll(pfd, 2, 50) > 0) {
			if (pfd[0].revents)
				drain(&op[0], r->out, &r->outlen, OUT_MAX);
			if (pfd[1].revents)
				drain(&ep[0], r->err, &r->errlen, ERR_MAX);
		}
		if (!exited && waitpid(pid, &ws, WNOHANG) == pid) {
			exited = true;
			exited_at = mono_s();
			r->status = ws;
		}
		now = mono_s();
		if (exited && now - exited_at > 2.0)
			break;
		if (!exited && now - start > RUN_TIMEOUT_S) {
			r->timed_out = true;
			kill(-pid, SIGKILL);
			if (waitpid(pid, &ws, 0) == pid)
				r->status = ws;
			exited = true;
			exited_at = now;
		}
	}
	/* Whatever the program left in its group (a stuck fork child). */
	kill(-pid, SIGKILL);
	if (op[0] >= 0)
		close(op[0]);
	if (ep[0] >= 0)
		close(ep[0]);
	free(env);
}

/* ------------------------------------------------------------ checking */

static const char *
tail(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > max ? s + n - max : s;
}

static void
describe(char *buf, size_t len, const struct run *r)
{
	char st[64];

	if (r->timed_out)
		snprintf(st, sizeof(st), "TIMED OUT after %d s", RUN_TIMEOUT_S);
	else if (r->status == -1)
		snprintf(st, sizeof(st), "no status");
	else if (WIFEXITED(r->status))
		snprintf(st, sizeof(st), "exit %d", WEXITSTATUS(r->status));
	else if (WIFSIGNALED(r->status))
		snprintf(st, sizeof(st), "killed by signal %d (%s)",
		    WTERMSIG(r->status), strsignal(WTERMSIG(r->status)));
	else
		snprintf(st, sizeof(st), "status 0x%x", r->status);
	if (snprintf(buf, len, "%s\n--- stdout (tail) ---\n%s--- stderr "
	    "(tail) ---\n%s", st, tail(r->out, 6000), tail(r->err, 3000)) >=
	    (int)len)
		buf[len - 1] = '\0';	/* cannot happen: tails are short */
}

static char desc[12000];

#define DESC(r)	(describe(desc, sizeof(desc), (r)), desc)

/* Offset just past the first exact line `line` at or after `from`, or -1. */
static long
find_line(const char *out, size_t from, const char *line)
{
	size_t n = strlen(line);
	const char *p = out + from;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (len == n && memcmp(p, line, n) == 0)
			return (long)(p - out) + (long)len + (nl != NULL);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return -1;
}

/* Number of lines that start with prefix. */
static int
count_prefix(const char *out, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p = out;
	int count = 0;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, prefix, n) == 0)
			count++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return count;
}

static void
assert_exit(const struct run *r, int code)
{
	cr_assert(not(r->timed_out), "%s", DESC(r));
	cr_assert(r->status != -1 && WIFEXITED(r->status) &&
	    WEXITSTATUS(r->status) == code, "want exit %d; got %s", code,
	    DESC(r));
}

/* The lines appear in this order (others may come between them). */
static void
assert_lines_in_order(const struct run *r, const char *const *lines)
{
	long at = 0;
	size_t i;

	for (i = 0; lines[i] != NULL; i++) {
		long next = find_line(r->out, (size_t)at, lines[i]);

		cr_assert(ge(long, next, 0),
		    "line '%s' missing (or out of order); got %s", lines[i],
		    DESC(r));
		at = next;
	}
}

static void
assert_no_failures(const struct run *r)
{
	cr_assert(eq(int, count_prefix(r->out, "FAIL"), 0), "%s", DESC(r));
	cr_assert(ge(long, find_line(r->out, 0, "ALL OK"), 0), "%s", DESC(r));
}

/* ------------------------------------------------------------ paths */

static char green_preload[8400];	/* for our own programs */
static char plain_preload[4096];	/* for foreign programs */

static const char *
env_or_fail(const char *name)
{
	const char *v = getenv(name);

	cr_assert(ne(ptr, (void *)v, NULL),
	    "%s is not set: run the tests with make test", name);
	return v;
}

static bool
sanitized(void)
{
	const char *s = getenv("GREENPROC_TEST_SAN");

	return s != NULL && s[0] != '\0';
}

/*
 * Under a sanitizer, our programs run plain too: ASan's own pthread_create
 * interceptor sits above the preload's and expects every thread it starts
 * to be a kernel thread, which a green LWP is not.  The runtime itself is
 * covered by the sanitized Criterion runner.
 */
static const char *
test_build(void)
{
	return sanitized() ? env_or_fail("GREENPROC_TEST_PLAIN_BUILD") :
	    env_or_fail("GREENPROC_TEST_BUILD");
}

static const char *
preload_for_ours(void)
{
	const char *build = test_build();
	const char *asan = NULL;
	struct stat sb;
	char so[4096];

	snprintf(so, sizeof(so), "%s/libgreenproc_preload.so", build);
	cr_assert(eq(int, stat(so, &sb), 0), "%s: %s", so, strerror(errno));
	if (asan != NULL && asan[0] != '\0')
		snprintf(green_preload, sizeof(green_preload), "%s %s", asan,
		    so);
	else
		snprintf(green_preload, sizeof(green_preload), "%s", so);
	return green_preload;
}

static const char *
preload_for_foreign(void)
{
	const char *build = sanitized() ?
	    env_or_fail("GREENPROC_TEST_PLAIN_BUILD") :
	    env_or_fail("GREENPROC_TEST_BUILD");
	struct stat sb;

	snprintf(plain_preload, sizeof(plain_preload),
	    "%s/libgreenproc_preload.so", build);
	cr_assert(eq(int, stat(plain_preload, &sb), 0), "%s: %s",
	    plain_preload, strerror(errno));
	return plain_preload;
}

static char prog_path[4096];

static const char *
program(const char *name)
{
	struct stat sb;

	snprintf(prog_path, sizeof(prog_path), "%s/tests/programs/%s",
	    test_build(), name);
	cr_assert(eq(int, stat(prog_path, &sb), 0), "%s: %s", prog_path,
	    strerror(errno));
	return prog_path;
}

/* An executable on PATH (or an absolute path), or NULL. */
static const char *
which(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	const char *p;

	if (strchr(name, '/') != NULL)
		return access(name, X_OK) == 0 ? name : NULL;
	if (path == NULL)
		path = "/usr/bin:/bin";
	for (p = path; *p != '\0';) {
		size_t n = strcspn(p, ":");

		if (snprintf(buf, len, "%.*s/%s", (int)n, p, name) < (int)len &&
		    n > 0 && access(buf, X_OK) == 0)
			return buf;
		p += n + (p[n] == ':');
	}
	return NULL;
}

static struct run R, R2;

static void
run_ours(const char *name, const char *const *extra)
{
	const char *argv[] = { program(name), NULL };

	run_prog(&R, argv, preload_for_ours(), extra);
}

/* ------------------------------------------------------------ legacy code */

Test(preload, legacy_exit)
{
	static const char *const order[] = {
		"legacy_main: calling exit(7)",
		"handler h3",
		"handler h2",
		"on_exit status=7 arg=x",
		"handler h1 (runs=3)",
		"driver: status exited=1 code=7",
		"legacy_return: returning 9",
		"handler after return",
		"driver: return status exited=1 code=9",
		"driver: returning from main",
		"ALL OK",
		"host atexit handler (runs=1)",
		NULL
	};

	run_ours("legacy_exit", NULL);
	assert_exit(&R, 0);
	assert_no_failures(&R);
	assert_lines_in_order(&R, order);
	cr_assert(eq(int, count_prefix(R.out, "handler h1"), 1),
	    "green atexit handlers ran again: %s", DESC(&R));
	cr_assert(eq(int, count_prefix(R.out, "host atexit"), 1), "%s",
	    DESC(&R));
	cr_assert(eq(int, count_prefix(R.out, "NOT REACHED"), 0), "%s",
	    DESC(&R));
}

/*
 * A host thread with a real child and green children: waitpid(-1) sees
 * each once; the real child of a green process is that process's own.
 */
Test(preload, host_waitpid_sees_real_and_green_children)
{
	static const char *const order[] = {
		"host saw its real child and its green children, each once",
		"ALL OK",
		NULL
	};

	run_ours("host_mixed_wait", NULL);
	assert_exit(&R, 0);
	assert_lines_in_order(&R, order);
}

Test(preload, legacy__exit)
{
	static const char *const order[] = {
		"legacy: calling _exit(3)",
		"driver: _exit status exited=1 code=3",
		"legacy: calling _Exit(4)",
		"driver: _Exit status exited=1 code=4",
		"ALL OK",
		NULL
	};

	run_ours("legacy__exit", NULL);
	assert_exit(&R, 0);
	assert_no_failures(&R);
	assert_lines_in_order(&R, order);
	cr_assert(eq(int, count_prefix(R.out, "HANDLER RAN"), 0), "%s",
	    DESC(&R));
	cr_assert(eq(int, count_prefix(R.out, "ON_EXIT HANDLER RAN"), 0),
	    "%s", DESC(&R));
}

Test(preload, legacy_threads)
{
	static const char *const order[] = {
		"legacy: joined 4 threads",
		"legacy: main thread calls pthread_exit",
		"legacy: last thread calls pthread_exit",
		"legacy atexit: last_done=1",
		"driver: status exited=1 code=0",
		"ALL OK",
		NULL
	};

	run_ours("legacy_threads", NULL);
	assert_no_failures(&R);
	assert_exit(&R, 0);
	assert_lines_in_order(&R, order);
	cr_assert(eq(int, count_prefix(R.out, "legacy atexit"), 1), "%s",
	    DESC(&R));
}

Test(preload, legacy_wait)
{
	static const char *const order[] = {
		"legacy_parent: done",
		"driver: status exited=1 code=0",
		"ALL OK",
		NULL
	};

	run_ours("legacy_wait", NULL);
	assert_no_failures(&R);
	assert_exit(&R, 0);
	assert_lines_in_order(&R, order);
}

Test(preload, legacy_getpid)
{
	static const char *const order[] = {
		"legacy: getpid ok, getppid ok",
		"ok: s.pid == pid",
		"ok: s.ppid == GP_PID_INIT",
		"driver: green pid ok, host pid ok",
		"ALL OK",
		NULL
	};

	run_ours("legacy_getpid", NULL);
	assert_no_failures(&R);
	assert_exit(&R, 0);
	assert_lines_in_order(&R, order);
}

Test(preload, legacy_forkexec)
{
	static const char *const order[] = {
		"legacy: done",
		"driver: status exited=1 code=0",
		"ALL OK",
		NULL
	};

	run_ours("legacy_forkexec", NULL);
	assert_no_failures(&R);
	assert_exit(&R, 0);
	assert_lines_in_order(&R, order);
}

Test(preload, legacy_sync_one_worker)
{
	static const char *const extra[] = { "GREENPROC_WORKERS=1", NULL };
	static const char *const order[] = {
		"driver: GREENPROC_WORKERS=1",
		"barrier: 8 LWPs x 20 rounds",
		"legacy: done",
		"driver: status exited=1 code=0",
		"ALL OK",
		NULL
	};

	run_ours("legacy_sync", extra);
	assert_no_failures(&R);
	assert_exit(&R, 0);
	assert_lines_in_order(&R, order);
	cr_assert(eq(int, count_prefix(R.out, "pingpong: 100000 round trips"),
	    1), "%s", DESC(&R));
}

Test(preload, legacy_sync_two_workers)
{
	static const char *const extra[] = { "GREENPROC_WORKERS=2", NULL };

	run_ours("legacy_sync", extra);
	assert_no_failures(&R);
	assert_exit(&R, 0);
}

/*
 * Every kind of synchronous fault in a green process (faults.h) kills
 * only that process, with the fault's signal; a bystander process runs
 * on and the host lives.  abort() is the preload's here, a failed assert
 * glibc's own abort; without the preload both are glibc's.  A raise of
 * a fault signal is the real one under the preload too (fault.c
 * decides): at SIG_DFL it kills its process as a fault does but says
 * nothing on stderr; handled, the handler runs; ignored, nothing.
 */
Test(preload, fault_kinds_kill_only_their_process)
{
	const char *argv[] = { program("fault_kinds"), NULL };
	const char *const one[] = { "GREENPROC_WORKERS=1", NULL };
	const char *raises[] = { argv[0], "raise-", NULL };
	int n;

	run_ours("fault_kinds", NULL);
	assert_no_failures(&R);
	assert_exit(&R, 0);
	cr_assert(eq(int, count_prefix(R.out, "host survived "), 1), "%s",
	    DESC(&R));
	cr_assert(eq(int, count_prefix(R.out, "raise: 5 handlers ran"), 1),
	    "%s", DESC(&R));
	run_prog(&R, raises, preload_for_ours(), NULL);
	assert_no_failures(&R);
	assert_exit(&R, 0);
	n = count_prefix(R.out, "raise-");
	cr_assert(n == 5 || (sanitized() && n == 2), "%s", DESC(&R));
	cr_assert(eq(ptr, strstr(R.err, "greenproc:"), NULL),
	    "a raise was reported: %s", DESC(&R));
	/* One worker: the bystander shares it with every faulter. */
	run_ours("fault_kinds", one);
	assert_no_failures(&R);
	assert_exit(&R, 0);
	run_prog(&R, argv, NULL, NULL);
	assert_no_failures(&R);
	assert_exit(&R, 0);
}

/* ------------------------------------------------------------ passthrough */

/* Run argv with and without the preload: same status, same stdout. */
static void
run_both(const char *const *argv, const char *preload)
{
	run_prog(&R, argv, NULL, NULL);
	run_prog(&R2, argv, preload, NULL);
	cr_assert(not(R.timed_out), "without the preload: %s", DESC(&R));
	cr_assert(not(R2.timed_out), "with the preload: %s", DESC(&R2));
	cr_assert(eq(int, R2.status, R.status),
	    "status differs: without 0x%x, with 0x%x (%s)", R.status,
	    R2.status, DESC(&R2));
	cr_assert(eq(str, R2.out, R.out),
	    "stdout differs under the preload\n--- without ---\n%s",
	    tail(R.out, 4000));
}

Test(passthrough, own_plain_program)
{
	const char *argv[] = { program("passthrough"), NULL };
	static const char *const order[] = {
		"ALL OK", "atexit 2", "on_exit status=0 arg=pt", "atexit 1", NULL
	};

	run_both(argv, preload_for_ours());
	assert_exit(&R, 0);
	assert_no_failures(&R);
	assert_lines_in_order(&R, order);
	assert_exit(&R2, 0);
	assert_no_failures(&R2);
}

Test(passthrough, bin_true)
{
	char buf[4096];
	const char *t = which("true", buf, sizeof(buf));
	const char *argv[] = { t, NULL };

	cr_assert(ne(ptr, (void *)t, NULL), "no true(1) on PATH");
	run_both(argv, preload_for_foreign());
	assert_exit(&R2, 0);
}

Test(passthrough, sh_exit_3)
{
	const char *argv[] = { "/bin/sh", "-c", "echo hi; exit 3", NULL };

	run_both(argv, preload_for_foreign());
	assert_exit(&R2, 3);
	cr_assert(eq(str, R2.out, "hi\n"), "%s", DESC(&R2));
}

/*
 * The pids are kept as they are made: `jobs -p` lists only the jobs bash
 * has not yet seen end, so on a loaded machine it missed one natively.
 */
Test(passthrough, bash_background_jobs)
{
	char buf[4096];
	const char *bash = which("bash", buf, sizeof(buf));
	const char *argv[] = { bash, "-c",
		"sleep 0.1 & p=$!; (exit 4) & q=$!; wait $q; echo q=$?; "
		"wait $p; echo p=$?; "
		"ps=; for i in 1 2 3 4; do (sleep 0.0$i; exit $i) & "
		"ps=\"$ps $!\"; done; "
		"n=0; for j in $ps; do wait $j; n=$((n + $?)); done; "
		"echo sum=$n; kill -0 $$ && echo alive; "
		"trap 'echo trapped' USR1; kill -USR1 $$; exit 5", NULL };

	if (bash == NULL)
		cr_skip("no bash");
	run_both(argv, preload_for_foreign());
	assert_exit(&R2, 5);
	cr_assert(eq(str, R2.out, "q=4\np=0\nsum=10\nalive\ntrapped\n"), "%s",
	    DESC(&R2));
}

Test(passthrough, make_j2)
{
	char buf[4096], dir[] = "/tmp/gp_preload_make.XXXXXX", mf[4200];
	const char *make = which("make", buf, sizeof(buf));
	FILE *f;
	int i;

	if (make == NULL)
		cr_skip("no make");
	cr_assert(ne(ptr, mkdtemp(dir), NULL));
	snprintf(mf, sizeof(mf), "%s/Makefile", dir);
	f = fopen(mf, "w");
	cr_assert(ne(ptr, f, NULL));
	fprintf(f, "PARTS := $(patsubst %%,part%%.txt,1 2 3 4 5 6 7 8)\n"
	    "all: out.txt\n"
	    "\t@cat out.txt\n"
	    "out.txt: $(PARTS)\n"
	    "\t@cat $(PARTS) | sort > $@\n"
	    "part%%.txt:\n"
	    "\t@sleep 0.02; echo \"part $*\" > $@\n"
	    "clean:\n"
	    "\t@rm -f out.txt $(PARTS)\n");
	fclose(f);
	{
		const char *argv[] = { make, "-s", "-j2", "-C", dir, NULL };
		const char *clean[] = { make, "-s", "-C", dir, "clean", NULL };

		run_prog(&R, argv, NULL, NULL);
		run_prog(&R2, clean, NULL, NULL);
		run_prog(&R2, argv, preload_for_foreign(), NULL);
		run_prog(&R2, clean, NULL, NULL);
		run_prog(&R2, argv, preload_for_foreign(), NULL);
	}
	for (i = 1; i <= 8; i++) {
		char p[4300];

		snprintf(p, sizeof(p), "%s/part%d.txt", dir, i);
		unlink(p);
	}
	snprintf(mf, sizeof(mf), "%s/out.txt", dir);
	unlink(mf);
	snprintf(mf, sizeof(mf), "%s/Makefile", dir);
	unlink(mf);
	rmdir(dir);
	assert_exit(&R, 0);
	assert_exit(&R2, 0);
	cr_assert(eq(str, R2.out, R.out), "without: %s", tail(R.out, 2000));
	cr_assert(eq(int, count_prefix(R2.out, "part "), 8), "%s", DESC(&R2));
}

Test(passthrough, python3_threading)
{
	char buf[4096];
	const char *py = which("python3", buf, sizeof(buf));
	const char *argv[] = { py, "-c",
		"import threading; t=threading.Thread(target=print, "
		"args=(\"py\",)); t.start(); t.join()", NULL };

	if (py == NULL)
		cr_skip("no python3");
	run_both(argv, preload_for_foreign());
	assert_exit(&R2, 0);
	cr_assert(eq(str, R2.out, "py\n"), "%s", DESC(&R2));
}

Test(passthrough, python3_subprocess_threads)
{
	char buf[4096];
	const char *py = which("python3", buf, sizeof(buf));
	const char *argv[] = { py, "-c",
		"import subprocess, threading, sys\n"
		"res = [None] * 4\n"
		"def work(i):\n"
		"    r = subprocess.run(['sh', '-c', 'echo sub%d; exit %d' % (i, i)],\n"
		"                       capture_output=True)\n"
		"    res[i] = (r.returncode, r.stdout.decode().strip())\n"
		"ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]\n"
		"[t.start() for t in ts]\n"
		"[t.join() for t in ts]\n"
		"print(res)\n"
		"sys.exit(subprocess.call(['sh', '-c', 'exit 6']))\n", NULL };

	if (py == NULL)
		cr_skip("no python3");
	run_both(argv, preload_for_foreign());
	assert_exit(&R2, 6);
	cr_assert(eq(str, R2.out,
	    "[(0, 'sub0'), (1, 'sub1'), (2, 'sub2'), (3, 'sub3')]\n"), "%s",
	    DESC(&R2));
}
