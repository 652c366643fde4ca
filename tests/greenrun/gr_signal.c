/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_signal.c -- signals sent from outside.  argv[1]:
 *   term   a SIGTERM handler; says "ready", and once the handler has run
 *          (the test sends SIGTERM to this process) exits 3
 *   abrt   a SIGABRT handler, as term (exits 5): a SIGABRT from outside
 *          is no fault, the program's handler takes it
 *   int    SIGINT keeps its default action: says "ready" and sleeps; the
 *          test's SIGINT must kill it
 *   alarm  alarm(1) with a SIGALRM handler, then waits: exits 4
 *   self   kill(getpid(), SIGUSR1) with a handler: it has run when kill
 *          returns (POSIX, for a signal the caller does not block)
 *   spin   says "ready" and computes forever on every thread, calling
 *          nothing: the test's SIGTERM must still kill it
 *   suspend  SIGUSR1 blocked, sent to itself (left pending), then
 *          sigsuspend with an empty mask: the handler runs in it and it
 *          fails with EINTR (nginx's master blocks SIGCHLD between its
 *          sigsuspends; a SIGCHLD that came meanwhile ran no handler and
 *          the master spun)
 *   late   a 1 us timer armed under one SIGALRM handler, computing
 *          without calls while it fires, then another handler set: the
 *          first handler took it, when it came (CPython's test_signal
 *          measures the timer so and then counts under a new handler;
 *          under greenrun the new one took the old timer's signal)
 * Worker threads sleep meanwhile, so the handler may run on any thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void
handler(int sig)
{
	got = sig;
}

static volatile unsigned long spins;
static volatile sig_atomic_t first, second;

static void
on_first(int sig)
{
	(void)sig;
	first++;
}

static void
on_second(int sig)
{
	(void)sig;
	second++;
}

/* "late": 20 rounds of arm, compute 5 ms, change the handler. */
static int
late(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 1 } };
	struct timespec t0, t, ms10 = { 0, 10000000 };
	int round;

	for (round = 0; round < 20; round++) {
		signal(SIGALRM, on_first);
		setitimer(ITIMER_REAL, &it, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			spins++;
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while ((t.tv_sec - t0.tv_sec) * 1000000000L +
		    (t.tv_nsec - t0.tv_nsec) < 5000000L);
		signal(SIGALRM, on_second);
		nanosleep(&ms10, NULL);
	}
	printf("first handler %d, second handler %d\n", (int)first,
	    (int)second);
	return 0;
}

static void *
spinner(void *arg)
{
	(void)arg;
	for (;;)
		spins++;
	return NULL;
}

static void *
sleeper(void *arg)
{
	(void)arg;
	while (usleep(1000) == 0)
		;
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "term";
	struct sigaction sa;
	pthread_t t;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	if (strcmp(how, "late") == 0)
		return late();
	if (strcmp(how, "self") == 0) {
		sigaction(SIGUSR1, &sa, NULL);
		kill(getpid(), SIGUSR1);
		printf("handled before kill returned: %s\n",
		    got == SIGUSR1 ? "yes" : "no");
		return 0;
	}
	if (strcmp(how, "suspend") == 0) {
		sigset_t usr1, none;
		int r, e;

		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigemptyset(&none);
		sigaction(SIGUSR1, &sa, NULL);
		sigprocmask(SIG_BLOCK, &usr1, NULL);
		kill(getpid(), SIGUSR1);
		r = sigsuspend(&none);
		e = errno;
		printf("sigsuspend %d %s, handled: %s\n", r,
		    e == EINTR ? "EINTR" : "?", got == SIGUSR1 ? "yes" : "no");
		return 0;
	}
	if (strcmp(how, "spin") == 0) {
		for (i = 0; i < 3; i++)
			pthread_create(&t, NULL, spinner, NULL);
		printf("ready\n");
		fflush(stdout);
		for (;;)
			spins++;
	}
	if (strcmp(how, "term") == 0)
		sigaction(SIGTERM, &sa, NULL);
	else if (strcmp(how, "abrt") == 0)
		sigaction(SIGABRT, &sa, NULL);
	else if (strcmp(how, "alarm") == 0)
		sigaction(SIGALRM, &sa, NULL);
	for (i = 0; i < 3; i++)
		pthread_create(&t, NULL, sleeper, NULL);
	printf("ready\n");
	fflush(stdout);
	if (strcmp(how, "alarm") == 0)
		alarm(1);
	while (!got)
		usleep(1000);
	printf("handled %s\n", got == SIGTERM ? "SIGTERM" :
	    got == SIGALRM ? "SIGALRM" : got == SIGABRT ? "SIGABRT" : "other");
	return got == SIGTERM ? 3 : got == SIGABRT ? 5 : 4;
}
