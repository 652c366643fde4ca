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

#include "testutil.h"

TestSuite(echo, .timeout = 90.0);

#define NCONN		"200"
#define NROUND		"20"
#define NREQ		"4000"		/* NCONN x NROUND */
#define STALL_S		"5"		/* client: no progress, give up */
#define PORT_WAIT_S	10.0
#define CLIENT_WAIT_S	40.0
#define SERVER_WAIT_S	10.0		/* its exit after the last close */

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

/* Start argv in its own process group, stdout and stderr into c->out. */
static void
start(struct tu_run *c, const char *const *argv, const char *const *extra)
{
	char **env = tu_env(NULL, extra);

	cr_assert(ne(ptr, env, NULL));
	cr_assert(eq(int, tu_start(c, argv, env, true), 0), "%s: %s",
	    argv[0], strerror(errno));
	free(env);
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
	static struct tu_run srv, cli;
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
		if (!tu_drain(&srv, 50))
			break;
	if (strchr(srv.buf, '\n') == NULL || atoi(srv.buf) <= 0) {
		tu_finish(&srv, 0);
		cr_fatal("%s printed no port: [%s]", rel, srv.buf);
	}
	snprintf(port, sizeof(port), "%d", atoi(srv.buf));

	start(&cli, cargv, NULL);
	tu_finish(&cli, CLIENT_WAIT_S);
	tu_finish(&srv, cli.status == 0 ? SERVER_WAIT_S : 0);
	cr_assert(eq(int, cli.status, 0),
	    "client: status 0x%x%s:\n%s"
	    "server %s:\n%s%s", cli.status, cli.timed_out ?
	    " (killed at the timeout)" : "", cli.buf, rel, srv.buf,
	    green ? "(a green server that makes no progress: issue 13's I/O "
	    "engine is missing)\n" : "");
	cr_assert(ne(ptr, strstr(cli.buf, "requests=" NREQ " "), NULL),
	    "client output: %s", cli.buf);
	cr_assert(eq(int, srv.status, 0),
	    "server %s: status 0x%x%s, output:\n%s", rel, srv.status,
	    srv.timed_out ? " (still running after the last close: killed)" :
	    "", srv.buf);
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
