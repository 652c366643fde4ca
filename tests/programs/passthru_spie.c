/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * passthru_spie.c -- linked -static-pie (Makefile): no dynamic loader,
 * so LD_PRELOAD loads nothing into it and the preload's lookup
 * (preload/dlnext.c) never runs; with the preload in the environment it
 * still runs as plain glibc: one thread, one fork child, their waits.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void *
thread(void *arg)
{
	return arg;
}

int
main(void)
{
	static int arg;
	pthread_t t;
	void *r = NULL;
	int status = -1;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(getenv("LD_PRELOAD") != NULL, "run it with the preload set");
	CHECK(getppid() == (pid_t)syscall(SYS_getppid), "getppid");
	CHECK(pthread_create(&t, NULL, thread, &arg) == 0 &&
	    pthread_join(t, &r) == 0 && r == &arg, "a thread");
	if ((pid = fork()) == 0)
		_exit(7);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 7, "a fork child");
	return check_exit_code();
}
