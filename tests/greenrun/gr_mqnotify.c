/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_mqnotify.c -- a message that a thread of the program sends to an
 * empty queue on which the program's mq_notify waits with SIGEV_SIGNAL:
 * the signal's handler has run when mq_send returns, with the siginfo
 * of a notification (SI_MESGQ, the sender's pid, the value given), as
 * natively, where the kernel delivers it before the call returns to the
 * sender (glibc's tst-mqueue5).  Under greenrun the signal came through
 * the forwarder, after the call: the line after mq_send saw no handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t count;
static volatile int code, value;
static volatile pid_t from;
static mqd_t q;

static void
handler(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	count++;
	code = si->si_code;
	from = si->si_pid;
	value = si->si_value.sival_int;
}

static void
arm(int v)
{
	struct sigevent ev;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN;
	ev.sigev_value.sival_int = v;
	if (mq_notify(q, &ev) != 0)
		printf("mq_notify: %s\n", strerror(errno));
}

static void
send_and_look(const char *who)
{
	char msg[16];
	int before = count;

	if (mq_send(q, "m", 1, 0) != 0)
		printf("mq_send: %s\n", strerror(errno));
	printf("%s: handled %d, SI_MESGQ %s, from us %s, value %d\n", who,
	    count - before, code == SI_MESGQ ? "yes" : "no",
	    from == getpid() ? "yes" : "no", value);
	if (mq_receive(q, msg, sizeof(msg), NULL) != 1)
		printf("mq_receive: %s\n", strerror(errno));
}

/*
 * The kernel gives a process's signal to its main thread first: main
 * blocks it meanwhile, so that the sender is the one thread to take it.
 */
static void *
thread(void *arg)
{
	sigset_t one;

	(void)arg;
	sigemptyset(&one);
	sigaddset(&one, SIGRTMIN);
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	arm(27);
	send_and_look("thread");
	return NULL;
}

int
main(void)
{
	struct mq_attr a = { .mq_maxmsg = 4, .mq_msgsize = 16 };
	struct sigaction sa;
	sigset_t one;
	char name[64];
	pthread_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);
	snprintf(name, sizeof(name), "/gr_mqnotify.%d", (int)getpid());
	q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
	if (q == (mqd_t)-1) {
		printf("mq_open: %s\n", strerror(errno));
		return 1;
	}
	mq_unlink(name);
	arm(26);
	send_and_look("main");
	send_and_look("main, notification spent");
	sigemptyset(&one);
	sigaddset(&one, SIGRTMIN);
	pthread_sigmask(SIG_BLOCK, &one, NULL);
	pthread_create(&t, NULL, thread, NULL);
	pthread_join(t, NULL);
	printf("handled in all: %d\n", (int)count);
	return 0;
}
