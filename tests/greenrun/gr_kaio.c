/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_kaio.c -- a program's own kernel AIO contexts: five threads each
 * wait, on a context of their own, for a poll of their own pipe
 * (libaio's io_getevents with and without a timeout, io_pgetevents,
 * and the raw system call through syscall()), and a thread that started
 * before them writes the pipes once it wakes.  Natively and under
 * greenrun the same: the waits are system calls made inline, and they
 * held every worker while the writer, queued on one of them, never ran
 * again.  Then a wait that completions already satisfy, a timeout, and
 * a wait that a signal handler interrupts (EINTR: never restarted).
 */
#include <errno.h>
#include <libaio.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "behind.h"

#define NWAIT	5

/* A context with a poll for (fd) readable submitted: 0 or -errno. */
static int
poll_on(io_context_t *ctx, struct iocb *cb, int fd)
{
	struct iocb *cbs[1] = { cb };
	int r;

	*ctx = 0;
	if ((r = io_setup(4, ctx)) != 0)
		return r;
	io_prep_poll(cb, fd, POLLIN);
	return io_submit(*ctx, 1, cbs) == 1 ? 0 : -EIO;
}

/* Wait, by way (i), for pipe (i) to be readable: the event's res. */
static void *
waiter(void *arg)
{
	struct timespec ts = { 5, 0 };
	long i = (long)arg, res;
	struct io_event ev;
	struct iocb cb;
	io_context_t ctx;
	int r;

	if ((r = poll_on(&ctx, &cb, pipes[i][0])) != 0) {
		snprintf(result[i], sizeof(result[i]), "waiter %ld: setup %d",
		    i, r);
		return NULL;
	}
	switch (i % 4) {
	case 0:
		r = io_getevents(ctx, 1, 1, &ev, NULL);
		break;
	case 1:
		r = io_getevents(ctx, 1, 1, &ev, &ts);
		break;
	case 2:
		r = io_pgetevents(ctx, 1, 1, &ev, &ts, NULL);
		break;
	default:
		r = (int)syscall(SYS_io_getevents, ctx, 1L, 1L, &ev, &ts);
		if (r < 0)
			r = -errno;
		break;
	}
	/* POLLIN, with POLLRDNORM or not as the kernel's path went. */
	res = r == 1 ? (long)(ev.res & POLLIN) : r - 1000;
	io_destroy(ctx);
	snprintf(result[i], sizeof(result[i]), "waiter %ld: revents %#lx", i,
	    res);
	return NULL;
}

static void *
interrupted(void *arg)
{
	struct io_event ev;
	io_context_t ctx = 0;

	(void)arg;
	if (io_setup(1, &ctx) != 0)
		return (void *)-1;
	/* Nothing submitted: only the signal ends it. */
	arg = (void *)(long)io_getevents(ctx, 1, 1, &ev, NULL);
	done = 1;
	io_destroy(ctx);
	return arg;
}

int
main(void)
{
	struct timespec ts = { 0, 20000000 };
	struct io_event ev;
	struct iocb cb;
	io_context_t ctx;
	pthread_t w;
	void *res;
	int r, fds[2];

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!open_pipes(NWAIT))
		return 1;
	run_behind(write_pipes_later, waiter, NWAIT);

	/* Readable already: no wait.  Then nothing comes: the timeout. */
	if (pipe(fds) != 0 || write(fds[1], "y", 1) != 1)
		return 1;
	if ((r = poll_on(&ctx, &cb, fds[0])) != 0)
		return 1;
	usleep(10000);
	r = io_getevents(ctx, 1, 1, &ev, NULL);
	printf("ready: %d, revents %#lx\n", r, r == 1 ?
	    (long)(ev.res & POLLIN) : 0L);
	r = io_getevents(ctx, 1, 1, &ev, &ts);
	printf("nothing: %d\n", r);
	io_destroy(ctx);

	/* A handler interrupts a wait: EINTR, not restarted. */
	signal(SIGUSR1, count_signal);
	pthread_create(&w, NULL, interrupted, NULL);
	signal_until_done(w, SIGUSR1);
	pthread_join(w, &res);
	printf("interrupted: %s\n", (long)res == -EINTR ? "EINTR" :
	    strerror(-(int)(long)res));
	return 0;
}
