/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_waitgroup.c -- waits by process group for fork children: pid 0
 * (the caller's group) after a plain fork, -pgid and waitid(P_PGID) of
 * a group the child made its own, waitid(P_PGID, 0), a stop seen by a
 * group wait, and ECHILD for a group holding no child of ours.  Under
 * greenrun every group wait used to skip the real children (ECHILD).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A child that exits with (code), in a group of its own if (own). */
static pid_t
child(int code, int own)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (own)
			setpgid(0, 0);
		_exit(code);
	}
	if (own)
		setpgid(pid, pid);
	return pid;
}

/* waitpid(sel, options), then say whether it found (want). */
static void
show(const char *what, pid_t sel, int options, pid_t want)
{
	int st = 0;
	pid_t r = waitpid(sel, &st, options);

	if (r < 0)
		printf("%s: -1 %s\n", what, strerror(errno));
	else
		printf("%s: %s, exit %d\n", what, r == want ? "its pid" :
		    "another pid", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void
showid(const char *what, int r, const siginfo_t *si, pid_t want)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, strerror(errno));
	else
		printf("%s: %s, code %d status %d\n", what, si->si_pid == want ?
		    "its pid" : "another pid", si->si_code, si->si_status);
}

int
main(void)
{
	siginfo_t si;
	pid_t pid;

	pid = child(3, 0);
	show("waitpid 0", 0, 0, pid);
	pid = child(4, 1);
	show("waitpid -pgid", -pid, 0, pid);
	pid = child(5, 1);
	showid("waitid P_PGID", waitid(P_PGID, pid, &si, WEXITED), &si, pid);
	pid = child(6, 0);
	showid("waitid P_PGID own", waitid(P_PGID, getpgrp(), &si, WEXITED),
	    &si, pid);
	pid = child(7, 0);
	showid("waitid P_PGID 0", waitid(P_PGID, 0, &si, WEXITED), &si, pid);

	/* A stopped child in its own group, seen by a group wait. */
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		raise(SIGSTOP);
		_exit(8);
	}
	setpgid(pid, pid);
	showid("stop by group", waitid(P_PGID, pid, &si, WSTOPPED), &si, pid);
	kill(pid, SIGCONT);
	show("exit by group", -pid, 0, pid);

	/* Our own group now holds no child: ECHILD, not a hang. */
	show("no child", 0, WNOHANG, 0);
	pid = child(9, 0);
	show("other group", -4000000, 0, 0);
	show("reaped", pid, 0, pid);
	return 0;
}
