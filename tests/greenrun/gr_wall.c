/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_wall.c -- Linux's own wait flags on fork children: __WALL and
 * __WNOTHREAD are accepted and change nothing for them, __WCLONE alone
 * finds no child (they are not clone children).  Natively and under
 * greenrun the same: a green wait used to refuse them with EINVAL.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "waitshow.h"

static pid_t
child(int code)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(code);
	return pid;
}

int
main(void)
{
	siginfo_t si;
	pid_t pid, r;
	int st = 0;

	pid = child(7);
	r = waitpid(pid, &st, __WALL);
	show("waitpid(pid, __WALL)", r, pid, st);
	pid = child(8);
	r = waitpid(pid, &st, __WNOTHREAD);
	show("waitpid(pid, __WNOTHREAD)", r, pid, st);
	pid = child(9);
	do {
		r = waitpid(-1, &st, __WALL | WNOHANG);
	} while (r == 0);
	show("waitpid(-1, __WALL | WNOHANG)", r, pid, st);
	pid = child(10);
	r = waitpid(pid, &st, __WCLONE);
	show("waitpid(pid, __WCLONE)", r, pid, st);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, (id_t)pid, &si, WEXITED | __WCLONE);
	printf("waitid(P_PID, __WCLONE): %d %s\n", r, r < 0 ?
	    strerror(errno) : "");
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, (id_t)pid, &si, WEXITED | __WALL);
	printf("waitid(P_PID, __WALL): %d, %s, status %d\n", r,
	    si.si_pid == pid ? "its pid" : "another pid", si.si_status);
	r = waitpid(-1, &st, __WALL);
	show("waitpid(-1, __WALL) with none left", r, 0, st);
	return 0;
}
