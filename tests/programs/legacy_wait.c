/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * legacy_wait.c -- waitpid/wait/wait4/waitid and kill from legacy code on
 * its green children.  The legacy parent makes its children through a
 * function pointer that the driver hands it (the driver's spawn_child()
 * calls gp_spawn); everything else it does is plain libc.
 *
 * Legacy part on top (libc only); the driver below includes
 * <greenproc.h> for the gp_ calls it makes.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* ------------------------------------------------------------ legacy code */

struct ctx {
	pid_t (*spawn_child)(int (*fn)(void *), void *arg);
};

static int
child_exit(void *arg)
{
	exit((int)(intptr_t)arg);
}

static int
child_return(void *arg)
{
	return (int)(intptr_t)arg;
}

static int
child_sleep(void *arg)
{
	usleep((useconds_t)(intptr_t)arg);
	return 21;
}

static int
child_pause(void *arg)
{
	(void)arg;
	for (;;)
		usleep(1000000);
	/* NOTREACHED */
	return 0;
}

static int
legacy_parent(void *arg)
{
	struct ctx *c = arg;
	pid_t c1, c2, c3, r, got[2];
	struct rusage ru;
	siginfo_t si;
	int st, i, e, sum = 0;

	CHECK(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD,
	    "no children: waitpid(-1) should fail with ECHILD");
	c1 = c->spawn_child(child_exit, (void *)11);
	c2 = c->spawn_child(child_return, (void *)12);
	c3 = c->spawn_child(child_exit, (void *)13);
	CHECK(c1 > 0 && c2 > 0 && c3 > 0, "spawn: %d %d %d", (int)c1,
	    (int)c2, (int)c3);

	st = -1;
	r = waitpid(c1, &st, 0);
	CHECK(r == c1, "waitpid(c1) = %d (%s)", (int)r, strerror(errno));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 11, "c1 status 0x%x", st);

	for (i = 0; i < 2; i++) {
		st = -1;
		got[i] = wait(&st);
		CHECK_QUIET(got[i] == c2 || got[i] == c3, "wait() = %d (%s)",
		    (int)got[i], strerror(errno));
		CHECK_QUIET(WIFEXITED(st), "wait status 0x%x", st);
		sum += WEXITSTATUS(st);
	}
	CHECK(got[0] != got[1] && sum == 25, "wait(): %d, %d, codes sum %d",
	    (int)got[0], (int)got[1], sum);
	r = wait(&st);
	e = errno;
	CHECK(r == -1 && e == ECHILD, "wait() after all = %d (%s)", (int)r,
	    strerror(e));

	/* WNOHANG on a running child, then a blocking wait4 with rusage. */
	c1 = c->spawn_child(child_sleep, (void *)50000);
	r = waitpid(c1, &st, WNOHANG);
	CHECK(r == 0, "waitpid WNOHANG on a running child = %d (%s)", (int)r,
	    strerror(errno));
	memset(&ru, 0xff, sizeof(ru));
	r = wait4(c1, &st, 0, &ru);
	CHECK(r == c1 && WIFEXITED(st) && WEXITSTATUS(st) == 21,
	    "wait4 = %d status 0x%x", (int)r, st);
	CHECK(ru.ru_utime.tv_sec >= 0 && ru.ru_utime.tv_usec >= 0 &&
	    ru.ru_utime.tv_usec < 1000000, "rusage not filled");

	/* kill() a green child, then waitid. */
	c1 = c->spawn_child(child_pause, NULL);
	CHECK(kill(c1, 0) == 0, "kill(c1, 0): %s", strerror(errno));
	CHECK(kill(c1, SIGKILL) == 0, "kill(c1, SIGKILL): %s",
	    strerror(errno));
	memset(&si, 0, sizeof(si));
	e = waitid(P_PID, (id_t)c1, &si, WEXITED);
	CHECK(e == 0 && si.si_pid == c1 && si.si_code == CLD_KILLED &&
	    si.si_status == SIGKILL, "waitid = %d (%s) pid %d code %d status %d",
	    e, strerror(errno), (int)si.si_pid, si.si_code, si.si_status);

	/* Killed by a signal: WIFSIGNALED through waitpid too. */
	c1 = c->spawn_child(child_pause, NULL);
	CHECK(kill(c1, SIGTERM) == 0, "kill(c1, SIGTERM): %s",
	    strerror(errno));
	st = -1;
	r = waitpid(c1, &st, 0);
	CHECK(r == c1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	    "waitpid = %d status 0x%x", (int)r, st);
	printf("legacy_parent: done\n");
	return 0;
}

/* ------------------------------------------------------------ driver */

#include <greenproc.h>

static pid_t
spawn_child(int (*fn)(void *), void *arg)
{
	return gp_spawn(fn, arg, NULL);
}

int
main(void)
{
	struct ctx c = { spawn_child };
	pid_t pid, r;
	int st = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	pid = gp_spawn(legacy_parent, &c, NULL);
	CHECK(pid > 0, "gp_spawn: %s", strerror(errno));
	r = waitpid(pid, &st, 0);
	CHECK(r == pid, "waitpid = %d (%s)", (int)r, strerror(errno));
	printf("driver: status exited=%d code=%d\n", WIFEXITED(st),
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	/* The host has no children left, green or real. */
	r = waitpid(-1, &st, WNOHANG);
	CHECK(r == -1 && errno == ECHILD, "host waitpid(-1) = %d (%s)",
	    (int)r, strerror(errno));
	return check_exit_code();
}
