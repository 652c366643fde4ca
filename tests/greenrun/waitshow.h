/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * waitshow.h -- one line per wait, for the programs that compare what
 * their waits report natively and under greenrun: the pid it returned
 * (the one expected or another), or 0, or -1 and the error, and the
 * status in words.
 */
#ifndef GR_WAITSHOW_H
#define GR_WAITSHOW_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

static const char *
describe(int st)
{
	static char buf[96];

	if (WIFEXITED(st))
		snprintf(buf, sizeof(buf), "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof(buf), "killed by %s",
		    sigabbrev_np(WTERMSIG(st)));
	else if (WIFCONTINUED(st))
		snprintf(buf, sizeof(buf), "continued");
	else if (WIFSTOPPED(st))
		snprintf(buf, sizeof(buf), "stopped by %s, event %d",
		    sigabbrev_np(WSTOPSIG(st)), st >> 16);
	else
		snprintf(buf, sizeof(buf), "status %#x", st);
	return buf;
}

/* What a wait for (want) that returned (r) with status (st) reported. */
static void
show(const char *what, pid_t r, pid_t want, int st)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, strerror(errno));
	else if (r == 0)
		printf("%s: 0\n", what);
	else
		printf("%s: %s, %s\n", what, r == want ? "its pid" :
		    "another pid", describe(st));
}

#endif
