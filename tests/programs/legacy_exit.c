/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * legacy_exit.c -- exit(3) from legacy code in a green process: the
 * atexit/on_exit handlers registered from that process run in LIFO order,
 * stdio is flushed, only that process ends (status 7), and the host's own
 * atexit handler runs once, at the host's exit.  A return from the entry
 * runs the handlers too.
 *
 * The legacy part (top) includes no greenproc header and calls only libc;
 * the driver (bottom) is legacy_driver.h, plus gp_spawn for the return.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* ------------------------------------------------------------ legacy code */

static char order[64];		/* handlers append their letter */
static int nhandlers;

static void
note(char c)
{
	size_t n = strlen(order);

	if (n + 1 < sizeof(order))
		order[n] = c;
	nhandlers++;
}

static void h1(void) { printf("handler h1 (runs=%d)\n", nhandlers); note('1'); }
static void h2(void) { printf("handler h2\n"); note('2'); }
static void h3(void) { printf("handler h3\n"); note('3'); }

static int onexit_status = -1;

static void
oe(int status, void *arg)
{
	printf("on_exit status=%d arg=%s\n", status, (const char *)arg);
	onexit_status = status;
	note('o');
}

static int
legacy_main(int argc, char **argv)
{
	FILE *f;

	if (argc != 2) {
		printf("legacy_main: argc %d\n", argc);
		return 2;
	}
	atexit(h1);
	on_exit(oe, "x");
	atexit(h2);
	atexit(h3);
	/* Left unflushed on purpose: exit() must flush it. */
	if ((f = fopen(argv[1], "w")) == NULL) {
		printf("fopen %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	fprintf(f, "flushed by exit\n");
	printf("legacy_main: calling exit(7)\n");
	exit(7);
	printf("NOT REACHED after exit\n");
	return 99;
}

static int returned_handler;

static void
ret_handler(void)
{
	printf("handler after return\n");
	returned_handler++;
}

static int
legacy_return(void *arg)
{
	(void)arg;
	atexit(ret_handler);
	printf("legacy_return: returning 9\n");
	return 9;
}

/* ------------------------------------------------------------ driver */

#include "legacy_driver.h"

static char path[] = "/tmp/gp_legacy_exit.XXXXXX";
static char *exit_argv[] = { "legacy_main", path, NULL };
static int host_handler_runs;

static void
host_handler(void)
{
	host_handler_runs++;
	printf("host atexit handler (runs=%d)\n", host_handler_runs);
	fflush(stdout);
}

static int
before(void)
{
	int fd;

	if ((fd = mkstemp(path)) < 0) {
		perror("mkstemp");
		return 2;
	}
	close(fd);
	atexit(host_handler);
	return 0;
}

static void
after(void)
{
	char buf[64] = "";
	FILE *f;
	int st;

	CHECK(strcmp(order, "32o1") == 0, "handler order '%s', want '32o1'",
	    order);
	CHECK(onexit_status == 7, "on_exit got status %d", onexit_status);
	CHECK(host_handler_runs == 0, "host atexit ran %d times early",
	    host_handler_runs);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
	}
	CHECK(strcmp(buf, "flushed by exit\n") == 0,
	    "file after exit holds '%s'", buf);
	unlink(path);

	st = legacy_wait(gp_spawn(legacy_return, NULL, NULL), "return ");
	CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 9,
	    "status 0x%x", st);
	CHECK(returned_handler == 1, "handler after return ran %d times",
	    returned_handler);
	/* The green handlers ran: they must not run again at host exit. */
	printf("driver: returning from main\n");
}

static const struct legacy_driver legacy_driver = {
	.main_fn = legacy_main, .argv = exit_argv, .status = 7,
	.before = before, .after = after,
};
