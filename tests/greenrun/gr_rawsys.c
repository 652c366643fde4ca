/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_rawsys.c -- system calls made through syscall(2), not through their
 * libc wrappers.  Five threads block in raw read, poll, ppoll,
 * epoll_wait and rt_sigtimedwait, and a thread that started before them
 * ends every wait once it wakes: natively and under greenrun the same,
 * where the raw calls used to wait in the kernel on the workers while
 * that thread sat queued behind them.  Then the signal calls, which
 * reached the worker's thread instead of the green one: a raw
 * rt_sigprocmask that pthread_sigmask must see, rt_sigpending,
 * rt_sigsuspend, a pause that a handler ends, a bad set size, and a
 * raw wait4 for a child.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "behind.h"

#define NWAIT	5
#define KSET	8		/* the kernel's signal set size */

static pthread_t sigwaiter;	/* the last waiter, set before it waits */
static volatile int sigwaiting;

/* Ends every wait, once it wakes: started before the waiters. */
static void *
ender(void *arg)
{
	(void)arg;
	usleep(100000);
	if (!write_pipes(NWAIT - 1))
		return (void *)1;
	while (!sigwaiting)
		usleep(1000);
	pthread_kill(sigwaiter, SIGUSR2);
	return NULL;
}

static void *
waiter(void *arg)
{
	long i = (long)arg, r = -1;
	struct pollfd pfd = { .fd = pipes[i][0], .events = POLLIN };
	struct epoll_event ev = { .events = EPOLLIN }, got;
	uint64_t kset = 1ull << (SIGUSR2 - 1);
	siginfo_t si;
	char c = 0;
	int ep;

	switch (i) {
	case 0:
		r = syscall(SYS_read, pipes[i][0], &c, 1);
		break;
	case 1:
		r = syscall(SYS_poll, &pfd, 1, -1);
		break;
	case 2:
		r = syscall(SYS_ppoll, &pfd, 1, NULL, NULL, KSET);
		break;
	case 3:
		ep = epoll_create1(0);
		epoll_ctl(ep, EPOLL_CTL_ADD, pipes[i][0], &ev);
		r = syscall(SYS_epoll_wait, ep, &got, 1, -1);
		close(ep);
		break;
	default:
		memset(&si, 0, sizeof(si));
		sigwaiter = pthread_self();
		sigwaiting = 1;
		r = syscall(SYS_rt_sigtimedwait, &kset, &si, NULL, KSET);
		break;
	}
	snprintf(result[i], sizeof(result[i]), "waiter %ld: %s", i, said(r));
	return NULL;
}

static void *
pauser(void *arg)
{
	long r;

	(void)arg;
	r = syscall(SYS_pause);
	done = 1;
	printf("pause: %s, handled: %s\n", said(r), handled ? "yes" : "no");
	return NULL;
}

int
main(void)
{
	uint64_t kset, kold;
	sigset_t set, cur;
	pthread_t e;
	pid_t pid;
	long r;
	int st;

	setvbuf(stdout, NULL, _IONBF, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* inherited: sigtimedwait */
	if (!open_pipes(NWAIT - 1))
		return 1;
	run_behind(ender, waiter, NWAIT);

	/* The mask is the thread's: pthread_sigmask sees a raw change. */
	kset = 1ull << (SIGUSR1 - 1);
	r = syscall(SYS_rt_sigprocmask, SIG_BLOCK, &kset, &kold, KSET);
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	printf("rt_sigprocmask: %s, SIGUSR1 blocked: %d, SIGUSR2 was: %d\n",
	    said(r), sigismember(&cur, SIGUSR1),
	    (int)((kold >> (SIGUSR2 - 1)) & 1));
	raise(SIGUSR1);
	kset = 0;
	r = syscall(SYS_rt_sigpending, &kset, KSET);
	printf("rt_sigpending: %s, SIGUSR1 pending: %d\n", said(r),
	    (int)((kset >> (SIGUSR1 - 1)) & 1));
	signal(SIGUSR1, count_signal);
	kset = 0;
	r = syscall(SYS_rt_sigsuspend, &kset, KSET);
	printf("rt_sigsuspend: %s, handled: %d\n", said(r), (int)handled);
	r = syscall(SYS_rt_sigprocmask, SIG_BLOCK, &kset, NULL, 4);
	printf("bad set size: %s\n", said(r));
	kset = 1ull << (SIGUSR1 - 1);
	syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &kset, NULL, KSET);

	/* A raw pause, ended by a handler (again until it ends). */
	handled = 0;
	pthread_create(&e, NULL, pauser, NULL);
	signal_until_done(e, SIGUSR1);
	pthread_join(e, NULL);

	/* A raw wait4 for a child. */
	if ((pid = fork()) == 0) {
		usleep(50000);
		_exit(7);
	}
	r = syscall(SYS_wait4, pid, &st, 0, NULL);
	printf("wait4: %s, exit %d\n", r == pid ? "its pid" : said(r),
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
