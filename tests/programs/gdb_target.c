/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gdb_target.c -- a program for tests/test_gdb.c to look at under gdb.
 *
 * It starts greenproc, spawns a green process named "gdb-target" whose
 * LWP parks in gdb_target_parked_in_unique_function (one long sleep) and
 * one named "gdb-spinner" whose LWP spins, running, in
 * gdb_target_spinning_function; once both are in place it calls
 * greenproc_gdb_marker(): the test sets a breakpoint there and runs
 * tools/greenproc-gdb.py's commands.  gdb_target_lwp and
 * gdb_spinner_lwp hold the two LWPs ("green bt gdb_target_lwp").
 *
 * Usage: gdb_target [abort | dump]
 * Without an argument it exits 0 after the marker; with "abort" it
 * calls abort() there instead, for a core file; with "dump" a green
 * process calls gp_dump(stdout) there (tests/test_dump.c runs this under
 * the preload, where green code's getpid() is the green pid).
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "greenproc.h"

void	greenproc_gdb_marker(void);

gp_lwp_t gdb_target_lwp;		/* the parked LWP */
pid_t gdb_target_pid;			/* its green process */
gp_lwp_t gdb_spinner_lwp;		/* the spinning LWP */
pid_t gdb_spinner_pid;
static atomic_int parked, spinning, stop_spinning;

/* The test's breakpoint: everything is in place when it is reached. */
__attribute__((noinline, used)) void
greenproc_gdb_marker(void)
{
	__asm__ __volatile__("" ::: "memory");
}

/* Not inlined and not a tail call: it keeps a frame of its own. */
__attribute__((noinline)) static void
gdb_target_parked_in_unique_function(void)
{
	struct timespec ts = { 60, 0 };

	gdb_target_lwp = gp_lwp_self();
	atomic_store(&parked, 1);
	(void)gp_nanosleep(&ts, NULL);
	__asm__ __volatile__("" ::: "memory");
}

static int
green_main(void *arg)
{
	(void)arg;
	gdb_target_parked_in_unique_function();
	return 0;
}

/* Running, never yielding, until main says stop. */
__attribute__((noinline)) static void
gdb_target_spinning_function(void)
{
	gdb_spinner_lwp = gp_lwp_self();
	atomic_store(&spinning, 1);
	while (!atomic_load(&stop_spinning))
		__asm__ __volatile__("pause" ::: "memory");
}

static int
spinner_main(void *arg)
{
	(void)arg;
	gdb_target_spinning_function();
	return 0;
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int
dumper_main(void *arg)
{
	(void)arg;
	if (gp_dump(stdout) != 0) {
		perror("gdb_target: gp_dump");
		return 1;
	}
	fflush(stdout);
	return 0;
}

static pid_t
spawn_named(int (*fn)(void *), const char *name)
{
	gp_attr_t *attr;
	pid_t pid;

	if (gp_attr_init(&attr) != 0 || gp_attr_setname(attr, name) != 0) {
		perror("gdb_target: gp_attr");
		exit(1);
	}
	if ((pid = gp_spawn(fn, NULL, attr)) < 0) {
		perror("gdb_target: gp_spawn");
		exit(1);
	}
	gp_attr_destroy(attr);
	return pid;
}

static void
wait_flag(atomic_int *flag)
{
	int i;

	for (i = 0; !atomic_load(flag); i++) {
		if (i == 10000) {
			fprintf(stderr, "gdb_target: a green process never "
			    "got ready\n");
			exit(1);
		}
		nap_ms(1);
	}
}

int
main(int argc, char **argv)
{
	int status;

	if (gp_init(2) != 0) {
		perror("gdb_target: gp_init");
		return 1;
	}
	gdb_target_pid = spawn_named(green_main, "gdb-target");
	wait_flag(&parked);
	gdb_spinner_pid = spawn_named(spinner_main, "gdb-spinner");
	wait_flag(&spinning);
	nap_ms(50);	/* from "parked" into the sleep: a few instructions */
	if (argc > 1 && strcmp(argv[1], "abort") == 0) {
		greenproc_gdb_marker();
		abort();
	}
	greenproc_gdb_marker();
	if (argc > 1 && strcmp(argv[1], "dump") == 0) {
		pid_t d = spawn_named(dumper_main, "gdb-dumper");

		if (gp_waitpid(d, &status, 0) != d || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "gdb_target: the dumper failed\n");
			return 1;
		}
	}
	atomic_store(&stop_spinning, 1);
	gp_kill(gdb_target_pid, SIGKILL);
	gp_waitpid(gdb_target_pid, &status, 0);
	gp_waitpid(gdb_spinner_pid, &status, 0);
	return gp_shutdown() == 0 ? 0 : 1;
}
