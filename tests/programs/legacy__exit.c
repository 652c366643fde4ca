/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * legacy__exit.c -- _exit(2) and _Exit(3) from legacy code in a green
 * process: the process ends with the status, the atexit/on_exit handlers
 * registered from it do NOT run, and stdio is not flushed (as glibc's).
 *
 * Legacy part on top (libc only); the driver below includes
 * <greenproc.h> for the gp_ calls it makes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* ------------------------------------------------------------ legacy code */

static int handler_runs;

static void
handler(void)
{
	printf("HANDLER RAN (must not)\n");
	handler_runs++;
}

static void
oe_handler(int status, void *arg)
{
	(void)arg;
	printf("ON_EXIT HANDLER RAN status=%d (must not)\n", status);
	handler_runs++;
}

struct job {
	const char *path;
	int use_Exit;
};

static int
legacy_quit(void *arg)
{
	struct job *j = arg;
	FILE *f;

	atexit(handler);
	on_exit(oe_handler, NULL);
	if ((f = fopen(j->path, "w")) == NULL) {
		printf("fopen: %s\n", strerror(errno));
		return 2;
	}
	fprintf(f, "buffered, never flushed\n");	/* no fflush */
	if (j->use_Exit) {
		printf("legacy: calling _Exit(4)\n");
		_Exit(4);
	}
	printf("legacy: calling _exit(3)\n");
	_exit(3);
}

/* ------------------------------------------------------------ driver */

#include <greenproc.h>

static long
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static void
run(int use_Exit, int want)
{
	char path[] = "/tmp/gp_legacy__exit.XXXXXX";
	struct job j = { path, use_Exit };
	pid_t pid, r;
	int fd, st = -1;

	if ((fd = mkstemp(path)) < 0) {
		perror("mkstemp");
		exit(2);
	}
	close(fd);
	handler_runs = 0;
	pid = gp_spawn(legacy_quit, &j, NULL);
	CHECK(pid > 0, "gp_spawn: %s", strerror(errno));
	r = waitpid(pid, &st, 0);
	CHECK(r == pid, "waitpid = %d (%s)", (int)r, strerror(errno));
	printf("driver: %s status exited=%d code=%d\n",
	    use_Exit ? "_Exit" : "_exit", WIFEXITED(st),
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == want, "status 0x%x", st);
	CHECK(handler_runs == 0, "handlers ran %d times", handler_runs);
	CHECK(file_size(path) == 0, "unflushed file has %ld bytes",
	    file_size(path));
	unlink(path);
}

int
main(void)
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	run(0, 3);
	run(1, 4);
	/* The legacy FILEs are flushed by the host's exit, into unlinked files. */
	rc = check_exit_code();
	return rc;
}
