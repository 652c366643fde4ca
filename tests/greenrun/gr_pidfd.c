/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_pidfd.c -- waiting for a child by its process descriptor, as GLib's
 * child watch does: pidfd_open, poll until readable, then
 * waitid(P_PIDFD, WEXITED | WNOHANG).  Under greenrun the green waitid
 * knew no P_PIDFD and said EINVAL, and GLib took the child for one that
 * exited 0 (its gsubprocess test saw a failing child succeed).  Also
 * a wait before the exit (nothing yet), a second one (ECHILD), a
 * descriptor that is no pidfd (EINVAL) and none at all (EBADF).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD	3
#endif

static void
show(const char *what, int r, const siginfo_t *si, pid_t child)
{
	if (r != 0)
		printf("%s: -1 %s\n", what, strerror(errno));
	else if (si->si_pid == 0)
		printf("%s: 0, nothing yet\n", what);
	else
		printf("%s: 0, %s, code %d, status %d\n", what,
		    si->si_pid == child ? "the child" : "another pid",
		    si->si_code, si->si_status);
}

int
main(void)
{
	struct pollfd pfd;
	int go[2], fds[2], fd, r;
	siginfo_t si;
	pid_t pid;
	char c = 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (pipe(go) != 0 || pipe(fds) != 0)
		return 1;
	if ((pid = fork()) == 0) {
		if (read(go[0], &c, 1) != 1)
			_exit(9);
		_exit(3);
	}
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG);
	show("before the exit", r, &si, pid);
	if (write(go[1], "x", 1) != 1)
		return 1;
	pfd.fd = fd;
	pfd.events = POLLIN;
	r = poll(&pfd, 1, 10000);
	printf("poll: %d\n", r);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG);
	show("after", r, &si, pid);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG);
	show("again", r, &si, pid);
	r = waitid(P_PIDFD, (id_t)fds[0], &si, WEXITED | WNOHANG);
	show("a pipe", r, &si, pid);
	r = waitid(P_PIDFD, 999, &si, WEXITED | WNOHANG);
	show("no descriptor", r, &si, pid);
	return 0;
}
