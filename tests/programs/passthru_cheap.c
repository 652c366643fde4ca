/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * passthru_cheap.c -- a program that never runs green code pays nothing
 * for the runtime it has in LD_PRELOAD: liburcu is not mapped and the
 * process is not registered with membarrier (liburcu's constructor does
 * that) until green code is first needed.  Then one green process, and
 * both are there.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Is a mapping of a file whose name contains (name) in /proc/self/maps? */
static int
mapped(const char *name)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (f == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

/* 0 when registered for private expedited membarrier, else errno. */
static int
membarrier_registered(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) ==
	    0)
		return 0;
	return errno;
}

static int
green_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

#include <greenproc.h>

int
main(void)
{
	char *argv[] = { "passthru_cheap", NULL };
	pid_t pid;
	int st = -1, e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(mapped("libgreenproc_preload") == 1, "the preload is not loaded");
	CHECK(mapped("liburcu") == 0, "liburcu is mapped before any green "
	    "code");
	CHECK(mapped("/libdw.so") == 0, "libdw is mapped before any backtrace");
	e = membarrier_registered();
	CHECK(e == EPERM, "registered with membarrier before any green code "
	    "(private expedited membarrier: %s)", e ? strerror(e) : "works");

	pid = gp_spawn_main(green_main, 1, argv, NULL);
	CHECK(pid > 0, "gp_spawn_main: %s", strerror(errno));
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "green process status 0x%x", st);
	CHECK(mapped("liburcu") == 1, "liburcu not mapped once green code ran");
	CHECK(membarrier_registered() == 0, "not registered with membarrier "
	    "once green code ran");
	return check_exit_code();
}
