/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_vfork.c -- vfork() under the preload.
 *
 * On a host thread it must be the real vfork: the child borrows the
 * parent's memory until it calls _exit, so a variable the child writes is
 * what the parent reads afterwards (a fork's child would write its own
 * copy).  Many rounds, from the main thread and from a second pthread, so
 * that a stub that left anything of its own on the shared stack would
 * crash or corrupt the parent.  In a green process vfork stays a fork
 * (its parent must not suspend a worker): the child's write is not seen.
 *
 * Writing memory from a vfork child is outside POSIX; it is exactly the
 * Linux vfork semantics that the preload must not take away.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS	200

static volatile int shared;

/* Rounds in which the child's write was not seen, or the status was wrong. */
static int
vfork_rounds(int base)
{
	/* volatile: live across vfork, which returns twice in one frame */
	volatile int i, bad = 0;
	int st;
	pid_t pid;

	for (i = 0; i < ROUNDS; i++) {
		shared = 0;
		pid = vfork();
		if (pid == 0) {
			shared = base + i + 1;
			_exit(i & 0x7f);
		}
		if (pid < 0) {
			printf("vfork: %s\n", strerror(errno));
			return ROUNDS;
		}
		st = -1;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != (i & 0x7f) || shared != base + i + 1)
			bad++;
	}
	return bad;
}

static void *
thread_fn(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)vfork_rounds(1000);
}

/* In a green process: vfork is a fork there. */
static int
green_main(int argc, char **argv)
{
	pid_t pid;
	int st = -1;

	(void)argc;
	(void)argv;
	shared = 0;
	pid = vfork();
	if (pid == 0) {
		shared = 42;
		_exit(7);
	}
	CHECK(pid > 0, "green vfork: %s", strerror(errno));
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 7, "green vfork child status 0x%x", st);
	CHECK(shared == 0, "green vfork child wrote the parent's memory: "
	    "%d", shared);
	return 0;
}

#include <greenproc.h>

int
main(void)
{
	char *argv[] = { "host_vfork", NULL };
	pthread_t t;
	void *v = NULL;
	pid_t pid;
	int bad, st = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	bad = vfork_rounds(0);
	CHECK(bad == 0, "main thread: %d of %d vfork rounds did not share "
	    "memory with the parent", bad, ROUNDS);
	CHECK(pthread_create(&t, NULL, thread_fn, NULL) == 0, "pthread_create");
	pthread_join(t, &v);
	CHECK((intptr_t)v == 0, "second thread: %d of %d vfork rounds did "
	    "not share memory with the parent", (int)(intptr_t)v, ROUNDS);

	pid = gp_spawn_main(green_main, 1, argv, NULL);
	CHECK(pid > 0, "gp_spawn_main: %s", strerror(errno));
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "green process status 0x%x", st);
	return check_exit_code();
}
