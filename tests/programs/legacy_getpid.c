/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * legacy_getpid.c -- getpid/getppid/getpgrp from legacy code in a green
 * process answer with green pids: getpid() is the pid gp_spawn returned
 * (> 1 << 30), getppid() of a process spawned by the host is init,
 * GP_PID_INIT = (1 << 30) + 1, every thread of the process sees the same
 * pid, and a child's getppid() is its parent's getpid().  The host
 * thread keeps its real pid.
 *
 * Legacy part on top (libc only); the driver below includes
 * <greenproc.h> for the gp_ calls it makes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* ------------------------------------------------------------ legacy code */

struct seen {
	pid_t pid, ppid, pgrp, thread_pid, child_pid, child_ppid;
	pid_t waited;
	pid_t (*spawn_child)(int (*fn)(void *), void *arg);
};

static void *
thread_fn(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)getpid();
}

static int
child_fn(void *arg)
{
	struct seen *s = arg;

	s->child_pid = getpid();
	s->child_ppid = getppid();
	return 0;
}

static int
legacy_entry(void *arg)
{
	struct seen *s = arg;
	pthread_t t;
	void *v = NULL;
	pid_t c;
	int st;

	s->pid = getpid();
	s->ppid = getppid();
	s->pgrp = getpgrp();
	if (pthread_create(&t, NULL, thread_fn, NULL) == 0 &&
	    pthread_join(t, &v) == 0)
		s->thread_pid = (pid_t)(intptr_t)v;
	CHECK(kill(getpid(), 0) == 0, "kill(getpid(), 0): %s",
	    strerror(errno));
	c = s->spawn_child(child_fn, s);
	if (c > 0 && waitpid(c, &st, 0) == c)
		s->waited = c;
	printf("legacy: getpid ok, getppid ok\n");
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
	struct seen s;
	pid_t pid, r;
	int st = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	memset(&s, 0, sizeof(s));
	s.spawn_child = spawn_child;
	pid = gp_spawn(legacy_entry, &s, NULL);
	CHECK(pid > GP_PID_BASE, "gp_spawn = %d (%s)", (int)pid,
	    strerror(errno));
	r = waitpid(pid, &st, 0);
	CHECK(r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "waitpid = %d status 0x%x", (int)r, st);
	CHECK(s.pid == pid, "getpid() in the process = %d, gp_spawn gave %d",
	    (int)s.pid, (int)pid);
	CHECK(s.pid > GP_PID_BASE, "getpid() = %d is not green", (int)s.pid);
	CHECK(s.ppid == GP_PID_INIT, "getppid() = %d, want GP_PID_INIT %d",
	    (int)s.ppid, GP_PID_INIT);
	CHECK(s.pgrp > GP_PID_BASE, "getpgrp() = %d is not green",
	    (int)s.pgrp);
	CHECK(s.thread_pid == pid, "getpid() in a pthread = %d",
	    (int)s.thread_pid);
	CHECK(s.child_pid > GP_PID_BASE && s.child_pid != pid &&
	    s.waited == s.child_pid, "child getpid %d, waited %d",
	    (int)s.child_pid, (int)s.waited);
	CHECK(s.child_ppid == pid, "child getppid() = %d, parent is %d",
	    (int)s.child_ppid, (int)pid);
	CHECK(getpid() == (pid_t)syscall(SYS_getpid) && getpid() < GP_PID_BASE,
	    "host getpid() = %d, kernel says %ld", (int)getpid(),
	    (long)syscall(SYS_getpid));
	CHECK(getppid() == (pid_t)syscall(SYS_getppid), "host getppid() = %d",
	    (int)getppid());
	printf("driver: green pid ok, host pid ok\n");
	return check_exit_code();
}
