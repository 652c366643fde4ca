/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_siginfo.c -- what an SA_SIGINFO handler and sigwaitinfo learn of a
 * signal from outside: a POSIX timer's SIGALRM says SI_TIMER and carries
 * its value (util-linux flock -w waits for exactly that), a kill from a
 * child says SI_USER and the child's pid, a sigqueue its value; one
 * that was dropped leaves nothing for a later signal's handler.  Under
 * greenrun every forwarded signal read SI_USER with nothing else, and
 * flock -w never timed out.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got, code, val, frompid;

static void
on_sig(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	code = si->si_code;
	val = si->si_value.sival_int;
	frompid = si->si_pid;
	got = 1;
}

static const char *
codename(int c)
{
	return c == SI_TIMER ? "SI_TIMER" : c == SI_USER ? "SI_USER" :
	    c == SI_QUEUE ? "SI_QUEUE" : "other";
}

/* Wait (as a loop of sleeps, each a point where handlers run) for got. */
static void
await(void)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < 10000 && !got; i++)
		nanosleep(&ts, NULL);
}

int
main(void)
{
	struct sigaction sa;
	struct sigevent ev;
	struct itimerspec its;
	siginfo_t si;
	sigset_t set;
	timer_t t;
	pid_t pid;
	int st;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGALRM;
	ev.sigev_value.sival_int = 42;
	timer_create(CLOCK_MONOTONIC, &ev, &t);
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 20000000;
	timer_settime(t, 0, &its, NULL);
	await();
	printf("timer: got %d %s value %d\n", (int)got, codename(code),
	    (int)val);

	got = 0;
	if ((pid = fork()) == 0) {
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	await();
	waitpid(pid, &st, 0);
	printf("kill: got %d %s from the child %d\n", (int)got,
	    codename(code), frompid == pid);

	/* sigwaitinfo on a blocked signal that a child queues. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((pid = fork()) == 0) {
		union sigval v = { .sival_int = 7 };

		sigqueue(getppid(), SIGUSR2, v);
		_exit(0);
	}
	st = sigwaitinfo(&set, &si);
	printf("sigwaitinfo: %d %s value %d from the child %d\n",
	    st == SIGUSR2, codename(si.si_code), si.si_value.sival_int,
	    si.si_pid == pid);
	waitpid(pid, &st, 0);

	/*
	 * A signal from outside that is dropped (SIGWINCH, ignored by
	 * default) leaves no siginfo behind for a later one of the same
	 * number: the child's SIGRTMIN, taken after its SIGWINCH (the lower
	 * number goes first), says the SIGWINCH has been dealt with.
	 */
	got = 0;
	sigaction(SIGRTMIN, &sa, NULL);
	if ((pid = fork()) == 0) {
		kill(getppid(), SIGWINCH);
		kill(getppid(), SIGRTMIN);
		_exit(0);
	}
	await();
	waitpid(pid, &st, 0);
	got = 0;
	frompid = 0;
	sigaction(SIGWINCH, &sa, NULL);
	kill(getpid(), SIGWINCH);
	await();
	printf("dropped: then own kill got %d, from the child %d\n", (int)got,
	    frompid == pid);
	return 0;
}
