/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_lockf.c -- lockf(F_LOCK) on a file a child process holds locked.
 * glibc makes its fcntl(F_SETLKW) call inside libc, where the preload
 * never saw it: under greenrun the wait held its worker, a cancel did
 * not end it (lockf returned once the lock was free, and the thread went
 * on: glibc's tst-cancel16), and threads that waited in it held every
 * worker while the thread that would end their wait, queued behind
 * them, never ran.  Here: a cancel
 * acts (the cleanup handler runs), a handler without SA_RESTART
 * interrupts it, and more waiters than workers all get the lock once a
 * thread started before them tells the child to let go.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "behind.h"

static int fd, rel[2];
static volatile int cleaned;

static void
cleanup(void *arg)
{
	(void)arg;
	cleaned = 1;
}

static void *
cancelled(void *arg)
{
	(void)arg;
	pthread_cleanup_push(cleanup, NULL);
	lockf(fd, F_LOCK, 0);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *
interrupted(void *arg)
{
	long r = lockf(fd, F_LOCK, 0);

	snprintf(result[0], sizeof(result[0]), "interrupted: %s", said(r));
	done = 1;
	(void)arg;
	return NULL;
}

/* Started before the waiters: the child lets go once it wakes. */
static void *
ender(void *arg)
{
	(void)arg;
	usleep(100000);
	return write(rel[1], "x", 1) == 1 ? NULL : (void *)1;
}

static void *
waiter(void *arg)
{
	long i = (long)arg;

	snprintf(result[i], sizeof(result[i]), "waiter %ld: %s", i,
	    said(lockf(fd, F_LOCK, 0)));
	return NULL;
}

int
main(void)
{
	char name[] = "/tmp/gr_lockf.XXXXXX", c;
	struct sigaction sa;
	int held[2], status;
	pthread_t t;
	void *res;
	pid_t pid;

	if ((fd = mkstemp(name)) < 0 || pipe(held) != 0 || pipe(rel) != 0)
		return 1;
	unlink(name);
	if ((pid = fork()) == 0) {
		if (lockf(fd, F_LOCK, 0) != 0 || write(held[1], "L", 1) != 1)
			_exit(1);
		if (read(rel[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	if (read(held[0], &c, 1) != 1)
		return 1;
	printf("test while held: %s\n", said(lockf(fd, F_TEST, 0)));
	printf("try while held: %s\n", said(lockf(fd, F_TLOCK, 0)));

	pthread_create(&t, NULL, cancelled, NULL);
	usleep(100000);
	pthread_cancel(t);
	pthread_join(t, &res);
	printf("cancelled: %s, cleanup handler: %s\n",
	    res == PTHREAD_CANCELED ? "yes" : "no", cleaned ? "ran" : "no");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal;		/* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&t, NULL, interrupted, NULL);
	signal_until_done(t, SIGUSR1);
	pthread_join(t, NULL);
	printf("%s (handled: %s)\n", result[0], handled > 0 ? "yes" : "no");

	run_behind(ender, waiter, 3);
	waitpid(pid, &status, 0);
	printf("child: %d\n", WEXITSTATUS(status));
	return 0;
}
