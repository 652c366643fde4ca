/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_echo.c -- examples/echo.c, the thread-per-connection echo server,
 * against examples/echo_client.c in a process of its own: 200 concurrent
 * loopback connections x 20 rounds of 64 bytes, every echoed byte
 * checked by the client, then the server exits 0 by itself after its
 * 200th close.
 *
 *   echo/pthreads        the example natively, no preload: proves the
 *                        example and the client right;
 *   echo/green_*         the same unmodified main() in a green process
 *                        under LD_PRELOAD (examples/echo_green.c), on
 *                        each I/O engine (GREENPROC_IO) with one worker,
 *                        and on two workers.
 *
 * NOTE: the green_* tests need issue 13's I/O engine.  Without it the
 * server's accept() and read() block the worker, every connection thread
 * queued there with it, and the client reports "no progress" (these
 * tests then fail within seconds rather than hang).
 *
 * Every wait has a deadline and both processes run in process groups of
 * their own that are SIGKILLed at the end, so a hung server can never
 * hold up the suite.
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
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

TestSuite(echo, .timeout = 90.0);

#define NCONN		"200"
#define NROUND		"20"
#define NREQ		"4000"		/* NCONN x NROUND */
#define STALL_S		"5"		/* client: no progress, give up */
#define PORT_WAIT_S	10.0
#define CLIENT_WAIT_S	40.0
#define SERVER_WAIT_S	10.0		/* its exit after the last close */

struct child {
	pid_t	pid;
	int	out;		/* read end of its stdout + stderr */
	int	status;		/* wait status; -1: killed by us */
	size_t	len;
	char	buf[16384];
};

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Our programs live in this tree's build; under a sanitizer in the plain
 * one (as in test_preload.c: a sanitized program cannot start green
 * threads under the preload).
 */
static const char *
build_dir(void)
{
	const char *san = getenv("GREENPROC_TEST_SAN");
	const char *name = san != NULL && san[0] != '\0' ?
	    "GREENPROC_TEST_PLAIN_BUILD" : "GREENPROC_TEST_BUILD";
	const char *dir = getenv(name);

	cr_assert(ne(ptr, (void *)dir, NULL), "%s is not set (run make test)",
	    name);
	return dir;
}

static void
path_of(char *buf, size_t len, const char *rel)
{
	struct stat sb;

	snprintf(buf, len, "%s/%s", build_dir(), rel);
	cr_assert(eq(int, stat(buf, &sb), 0), "%s: %s", buf, strerror(errno));
}

/* environ without LD_PRELOAD and GREENPROC_*, plus extra (NULL-ended). */
static char **
make_env(const char *const *extra)
{
	size_t n = 0, k = 0, i;
	char **env;

	while (environ[n] != NULL)
		n++;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		n++;
	env = calloc(n + 1, sizeof(*env));
	cr_assert(ne(ptr, env, NULL));
	for (i = 0; environ[i] != NULL; i++) {
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
		    strncmp(environ[i], "GREENPROC_", 10) != 0)
			env[k++] = environ[i];
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		env[k++] = (char *)extra[i];
	env[k] = NULL;
	return env;
}

/* Start argv in its own process group, stdout and stderr into c->out. */
static void
start(struct child *c, const char *const *argv, const char *const *extra)
{
	char **env = make_env(extra);
	int p[2];

	memset(c, 0, sizeof(*c));
	c->status = -1;
	cr_assert(eq(int, pipe2(p, O_CLOEXEC), 0));
	fflush(NULL);
	c->pid = fork();
	cr_assert(ge(int, (int)c->pid, 0), "fork: %s", strerror(errno));
	if (c->pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execve(argv[0], (char *const *)argv, env);
		dprintf(2, "execve %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(c->pid, c->pid);
	close(p[1]);
	free(env);
	c->out = p[0];
}

/* Read what c wrote, for up to ms milliseconds; false at EOF. */
static bool
drain(struct child *c, int ms)
{
	struct pollfd pfd = { c->out, POLLIN, 0 };
	ssize_t n;

	if (c->out < 0 || poll(&pfd, 1, ms) <= 0)
		return c->out >= 0;
	n = read(c->out, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		close(c->out);
		c->out = -1;
		return false;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return true;
}

/* Wait up to secs for c to exit; then, or anyway, kill its group. */
static void
finish(struct child *c, double secs)
{
	double end = mono_s() + secs;
	int st;

	while (c->status == -1 && mono_s() < end) {
		if (waitpid(c->pid, &st, WNOHANG) == c->pid)
			c->status = st;
		else
			(void)drain(c, 20);
	}
	kill(-c->pid, SIGKILL);
	if (c->status == -1)
		(void)waitpid(c->pid, &st, 0);	/* -1 stays: it timed out */
	while (drain(c, 0))
		;
	if (c->out >= 0)
		close(c->out);
}

/*
 * Run the server rel (under the preload when green) with env extra, the
 * client against it, and check both.
 */
static void
echo_run(const char *rel, bool green, const char *const *extra)
{
	char server[4096], client[4096], preload[4200], port[16];
	const char *senv[8];
	const char *sargv[] = { server, "0", NCONN, NULL };
	const char *cargv[] = { client, "-p", port, "-c", NCONN, "-r", NROUND,
	    "-t", STALL_S, NULL };
	static struct child srv, cli;
	double end;
	int i = 0;

	path_of(server, sizeof(server), rel);
	path_of(client, sizeof(client), "examples/echo_client");
	if (green) {
		memcpy(preload, "LD_PRELOAD=", 11);
		path_of(preload + 11, sizeof(preload) - 11,
		    "libgreenproc_preload.so");
		senv[i++] = preload;
	}
	while (extra != NULL && *extra != NULL && i < 7)
		senv[i++] = *extra++;
	senv[i] = NULL;

	start(&srv, sargv, senv);
	/* The port, one line. */
	end = mono_s() + PORT_WAIT_S;
	while (strchr(srv.buf, '\n') == NULL && mono_s() < end)
		if (!drain(&srv, 50))
			break;
	if (strchr(srv.buf, '\n') == NULL || atoi(srv.buf) <= 0) {
		finish(&srv, 0);
		cr_fatal("%s printed no port: [%s]", rel, srv.buf);
	}
	snprintf(port, sizeof(port), "%d", atoi(srv.buf));

	start(&cli, cargv, NULL);
	finish(&cli, CLIENT_WAIT_S);
	finish(&srv, cli.status == 0 ? SERVER_WAIT_S : 0);
	cr_assert(eq(int, cli.status, 0),
	    "client: status 0x%x (-1: killed at the timeout):\n%s"
	    "server %s:\n%s%s", cli.status, cli.buf, rel, srv.buf,
	    green ? "(a green server that makes no progress: issue 13's I/O "
	    "engine is missing)\n" : "");
	cr_assert(ne(ptr, strstr(cli.buf, "requests=" NREQ " "), NULL),
	    "client output: %s", cli.buf);
	cr_assert(eq(int, srv.status, 0),
	    "server %s: status 0x%x (-1: still running %.0f s after the "
	    "last close), output:\n%s", rel, srv.status, SERVER_WAIT_S,
	    srv.buf);
}

Test(echo, pthreads)
{
	echo_run("examples/echo", false, NULL);
}

/* NOTE: needs issue 13's I/O engine (see the top of the file). */
Test(echo, green_uring_1_worker)
{
	const char *env[] = { "GREENPROC_WORKERS=1", "GREENPROC_IO=uring",
	    NULL };

	echo_run("examples/echo_green", true, env);
}

/* NOTE: needs issue 13's I/O engine (see the top of the file). */
Test(echo, green_epoll_1_worker)
{
	const char *env[] = { "GREENPROC_WORKERS=1", "GREENPROC_IO=epoll",
	    NULL };

	echo_run("examples/echo_green", true, env);
}

/* NOTE: needs issue 13's I/O engine (see the top of the file). */
Test(echo, green_2_workers)
{
	const char *env[] = { "GREENPROC_WORKERS=2", NULL };

	echo_run("examples/echo_green", true, env);
}
