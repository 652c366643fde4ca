/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_ptrace.c -- a tracer's waits, as strace and gdb make them: stops
 * of a traced child are stops (not deaths), a tracee's fork event and
 * its new child's first stop come through waitpid(-1, __WALL) without
 * the tracer naming the new task first, a non-child attached with
 * PTRACE_SEIZE is waited for until it is detached, and an untraced
 * child's stop and continue are reported to WUNTRACED and WCONTINUED.
 * Natively and under greenrun the same: a green wait took the first
 * ptrace stop for a death by SIGSTOP and lost the child.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "waitshow.h"

/* A traced child that forks: its stops, its fork event, its new child. */
static void
traceme(void)
{
	pid_t pid, gpid, r, other = 0;
	unsigned long msg = 0;
	int st = 0, i, ok;

	if ((pid = fork()) == 0) {
		(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		if ((gpid = fork()) == 0)
			_exit(5);
		if (waitpid(gpid, &st, 0) != gpid)
			_exit(99);
		_exit(10 + WEXITSTATUS(st));
	}
	r = waitpid(pid, &st, 0);
	show("traced child, first stop", r, pid, st);
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
	    (void *)(long)PTRACE_O_TRACEFORK) != 0 ||
	    ptrace(PTRACE_CONT, pid, NULL, NULL) != 0)
		printf("ptrace: %s\n", strerror(errno));
	/* Its fork event and its child's first stop, in either order. */
	gpid = 0;
	for (i = 0; i < 2; i++) {
		r = waitpid(-1, &st, __WALL);
		if (r == pid) {
			printf("tracee: %s\n", describe(st));
			ok = ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg) == 0;
			gpid = (pid_t)msg;
			printf("event message names %s\n", !ok ? "nothing" :
			    other == 0 || other == gpid ? "the new child" :
			    "another task");
		} else if (r > 0) {
			other = r;
			printf("its new child: %s\n", describe(st));
		} else {
			printf("waitpid(-1): %s\n", strerror(errno));
		}
	}
	if (other == 0 || other != gpid)
		printf("the new child's stop was not seen\n");
	if (ptrace(PTRACE_CONT, gpid, NULL, NULL) != 0)
		printf("ptrace(CONT, new child): %s\n", strerror(errno));
	r = waitpid(gpid, &st, __WALL);
	show("new child", r, gpid, st);
	/* Its SIGCHLD stops it once more: pass it on, up to its exit. */
	do {
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)(WIFSTOPPED(st)
		    && WSTOPSIG(st) != SIGTRAP ? WSTOPSIG(st) : 0)) != 0)
			printf("ptrace(CONT, child): %s\n", strerror(errno));
		r = waitpid(pid, &st, 0);
		show("traced child", r, pid, st);
	} while (r == pid && WIFSTOPPED(st));
	r = waitpid(-1, &st, WNOHANG | __WALL);
	show("then waitpid(-1)", r, 0, st);
}

/* A grandchild attached with PTRACE_SEIZE: waited for until detached. */
static void
seize(void)
{
	int fds[2], st = 0;
	pid_t pid, gpid = 0, r;

	if (pipe(fds) != 0)
		return;
	if ((pid = fork()) == 0) {
		if ((gpid = fork()) == 0) {
			for (;;)
				pause();
		}
		(void)write(fds[1], &gpid, sizeof(gpid));
		if (waitpid(gpid, &st, 0) != gpid)
			_exit(99);
		_exit(WIFSIGNALED(st) ? 100 + WTERMSIG(st) : 98);
	}
	if (read(fds[0], &gpid, sizeof(gpid)) != sizeof(gpid))
		return;
	r = waitpid(gpid, &st, WNOHANG | __WALL);
	show("grandchild before attaching", r, gpid, st);
	if (ptrace(PTRACE_SEIZE, gpid, NULL, NULL) != 0 ||
	    ptrace(PTRACE_INTERRUPT, gpid, NULL, NULL) != 0)
		printf("ptrace: %s\n", strerror(errno));
	r = waitpid(gpid, &st, __WALL);
	show("seized grandchild", r, gpid, st);
	if (ptrace(PTRACE_DETACH, gpid, NULL, NULL) != 0)
		printf("ptrace(DETACH): %s\n", strerror(errno));
	r = waitpid(gpid, &st, WNOHANG | __WALL);
	show("grandchild after detaching", r, gpid, st);
	(void)kill(gpid, SIGTERM);
	r = waitpid(pid, &st, 0);
	show("its parent", r, pid, st);
	close(fds[0]);
	close(fds[1]);
}

/* An untraced child's stop and continue. */
static void
untraced(void)
{
	pid_t pid, r;
	int st = 0, fds[2];
	siginfo_t si;
	char c = 0;

	if (pipe(fds) != 0)
		return;
	/* It exits only when told: an exit would hide its continue. */
	if ((pid = fork()) == 0) {
		raise(SIGSTOP);
		_exit(read(fds[0], &c, 1) == 1 ? 4 : 99);
	}
	r = waitpid(pid, &st, WUNTRACED);
	show("waitpid(WUNTRACED)", r, pid, st);
	(void)kill(pid, SIGCONT);
	r = waitpid(pid, &st, WCONTINUED);
	show("waitpid(WCONTINUED)", r, pid, st);
	(void)write(fds[1], &c, 1);
	close(fds[0]);
	close(fds[1]);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0)
		printf("waitid: %s\n", strerror(errno));
	else
		printf("waitid(WNOWAIT): %s, code %d, status %d\n",
		    si.si_pid == pid ? "its pid" : "another pid", si.si_code,
		    si.si_status);
	r = waitpid(pid, &st, 0);
	show("waitpid", r, pid, st);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	traceme();
	seize();
	untraced();
	return 0;
}
