/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_exited.c -- pthread_kill and pthread_cancel of a thread that has
 * returned but is not joined yet: glibc (2.34 on) answers 0 and sends
 * nothing; the join then gives the thread's own value, not
 * PTHREAD_CANCELED.  Under greenrun both said ESRCH.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void
handler(int sig)
{
	(void)sig;
	got = 1;
}

static void *
quick(void *arg)
{
	return arg;
}

/* A thread that has returned: joined by hand once it surely has. */
static pthread_t
returned(void *arg)
{
	pthread_t t;

	pthread_create(&t, NULL, quick, arg);
	/* Time is no proof, but an early call still gives the same 0. */
	usleep(50000);
	return t;
}

static void
say(const char *what, int r)
{
	printf("%s: %s\n", what, r == 0 ? "0" : strerror(r));
}

int
main(void)
{
	static int token = 7;
	pthread_t t;
	void *rv;

	signal(SIGUSR1, handler);
	t = returned(&token);
	say("kill 0", pthread_kill(t, 0));
	say("kill SIGUSR1", pthread_kill(t, SIGUSR1));
	say("cancel", pthread_cancel(t));
	say("join", pthread_join(t, &rv));
	printf("value: %s\n", rv == &token ? "its own" : rv ==
	    PTHREAD_CANCELED ? "canceled" : "other");
	printf("handler ran: %s\n", got ? "yes" : "no");
	return 0;
}
