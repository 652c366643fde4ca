/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_rtwait.c -- the waits of POSIX message queues and aio_suspend.
 * Threads block in mq_receive, mq_timedreceive, mq_send on a full queue
 * and aio_suspend of a pipe read, and a thread that started before them
 * ends every wait once it wakes.  Natively and under greenrun the same:
 * glibc makes these waits inline, and they held every worker while the
 * thread that would end them, queued on one of them, never ran again.
 * Then what the calls answer without waiting (a message already there,
 * a timeout, EINVAL, a non-blocking queue), a handler that interrupts
 * (EINTR) or lets the call go on (SA_RESTART), and a cancel.
 */
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "behind.h"

#define NQ	4		/* queues: receive, timed, send, restart */
#define NAIO	2

static mqd_t q[NQ];

static mqd_t
queue(int i, long maxmsg, int flags)
{
	struct mq_attr a = { .mq_maxmsg = maxmsg, .mq_msgsize = 16 };
	char name[64];
	mqd_t m;

	snprintf(name, sizeof(name), "/gr_rtwait.%d.%d", (int)getpid(), i);
	m = mq_open(name, O_RDWR | O_CREAT | O_EXCL | flags, 0600, &a);
	if (m == (mqd_t)-1)
		printf("mq_open: %s\n", strerror(errno));
	mq_unlink(name);
	return m;
}

/* Ends every wait, once it wakes: started before the waiters. */
static void *
ender(void *arg)
{
	char msg[16];

	(void)arg;
	usleep(100000);
	mq_send(q[0], "zero", 4, 0);
	mq_send(q[1], "one", 3, 0);
	mq_receive(q[2], msg, sizeof(msg), NULL);	/* room for the sender */
	return write_pipes(NAIO) ? NULL : (void *)1;
}

static void *aio_waiter(void *arg);

/* Waiters 0-2 wait on queues, the others for aio reads. */
static void *
waiter(void *arg)
{
	struct timespec ts = in_ms(CLOCK_REALTIME, 5000);
	long i = (long)arg, r;
	char msg[16] = "";

	switch (i) {
	case 0:
		r = mq_receive(q[0], msg, sizeof(msg), NULL);
		break;
	case 1:
		r = mq_timedreceive(q[1], msg, sizeof(msg), NULL, &ts);
		break;
	case 2:
		r = mq_send(q[2], "two", 3, 0);	/* the queue is full */
		break;
	default:
		return aio_waiter((void *)(i - 3));
	}
	snprintf(result[i], sizeof(result[i]), "mq waiter %ld: %s %s", i,
	    said(r), msg);
	return NULL;
}

static void *
aio_waiter(void *arg)
{
	long i = (long)arg;
	struct aiocb cb;
	const struct aiocb *list[1] = { &cb };
	char c = 0;
	int r;

	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = pipes[i][0];
	cb.aio_buf = &c;
	cb.aio_nbytes = 1;
	if (aio_read(&cb) != 0)
		return (void *)1;
	while ((r = aio_suspend(list, 1, NULL)) != 0 && errno == EINTR)
		;
	snprintf(result[3 + i], sizeof(result[3 + i]),
	    "aio waiter %ld: %d, read %zd '%c'", i, r, aio_return(&cb), c);
	return NULL;
}

static void *
receive_one(void *arg)
{
	char msg[16] = "";
	long r;

	r = mq_receive(*(mqd_t *)arg, msg, sizeof(msg), NULL);
	done = 1;
	printf("receive: %s %s, handled: %s\n", said(r), msg,
	    handled ? "yes" : "no");
	return NULL;
}

/* A wait that a handler interrupts (EINTR) or lets go on (SA_RESTART). */
static void
interrupt(int restart)
{
	struct sigaction sa;
	pthread_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGUSR1, &sa, NULL);
	handled = done = 0;
	pthread_create(&t, NULL, receive_one, &q[3]);
	usleep(50000);
	pthread_kill(t, SIGUSR1);
	usleep(50000);
	if (restart)
		mq_send(q[3], "later", 5, 0);
	if (!restart)
		signal_until_done(t, SIGUSR1);
	pthread_join(t, NULL);
}

int
main(void)
{
	struct timespec ts, bad = { 0, 1000000000L };
	pthread_t e;
	char msg[16] = "";
	mqd_t nb;
	void *res;
	long i, r;

	setvbuf(stdout, NULL, _IONBF, 0);
	for (i = 0; i < NQ; i++)
		q[i] = queue((int)i, i == 2 ? 1 : 4, 0);
	if (mq_send(q[2], "full", 4, 0) != 0)
		return 1;
	if (!open_pipes(NAIO))
		return 1;
	run_behind(ender, waiter, 3 + NAIO);
	r = mq_receive(q[2], msg, sizeof(msg), NULL);
	printf("queue 2 holds: %s %s\n", said(r), msg);

	/* Without a wait: a message there, a timeout, EINVAL, O_NONBLOCK. */
	mq_send(q[0], "here", 4, 0);
	r = mq_receive(q[0], msg, sizeof(msg), NULL);
	printf("ready: %s %s\n", said(r), msg);
	ts = in_ms(CLOCK_REALTIME, 20);
	r = mq_timedreceive(q[0], msg, sizeof(msg), NULL, &ts);
	printf("timeout: %s\n", said(r));
	r = mq_timedreceive(q[0], msg, sizeof(msg), NULL, &bad);
	printf("bad timeout: %s\n", said(r));
	nb = queue(NQ, 4, O_NONBLOCK);
	r = mq_receive(nb, msg, sizeof(msg), NULL);
	printf("nonblocking: %s\n", said(r));
	mq_close(nb);
	{
		struct aiocb cb;
		const struct aiocb *list[1] = { &cb };
		char c;

		memset(&cb, 0, sizeof(cb));
		cb.aio_fildes = pipes[0][0];
		cb.aio_buf = &c;
		cb.aio_nbytes = 1;
		aio_read(&cb);
		ts.tv_sec = 0;
		ts.tv_nsec = 20000000;
		r = aio_suspend(list, 1, &ts);
		printf("aio timeout: %s\n", said(r));
		aio_cancel(pipes[0][0], &cb);
		if (write(pipes[0][1], "y", 1) != 1)
			return 1;
		while (aio_error(&cb) == EINPROGRESS)
			usleep(1000);
	}

	interrupt(0);
	interrupt(1);

	/* A cancellation point: cancelled while it waits. */
	pthread_create(&e, NULL, receive_one, &q[3]);
	usleep(50000);
	pthread_cancel(e);
	pthread_join(e, &res);
	printf("cancelled: %s\n", res == PTHREAD_CANCELED ? "yes" : "no");
	return 0;
}
