/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_liowait.c -- lio_listio(LIO_WAIT), which waits inside glibc for the
 * whole list (glibc's tst-aio10).  More threads than workers wait, each
 * for a read of its own pipe, and a thread that started before them
 * writes every pipe once it wakes; a list with a read that fails ends
 * with EIO; a handler without SA_RESTART interrupts a wait (EINTR; the
 * read goes on, and is left so: glibc's own lio_listio could wait for
 * ever in its next AIO call here).  Under greenrun the wait held its worker: the
 * program hung, and a signal did not end the wait.
 */
#include <aio.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "behind.h"

#define NW	3

static char bufs[NW + 1][8];
static int lonely[2];

static void
prep(struct aiocb *cb, int fd, char *buf)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = fd;
	cb->aio_lio_opcode = LIO_READ;
	cb->aio_buf = buf;
	cb->aio_nbytes = 1;
	cb->aio_sigevent.sigev_notify = SIGEV_NONE;
}

static void *
waiter(void *arg)
{
	long i = (long)arg;
	struct aiocb cb, *list[2] = { &cb, NULL };
	long r;

	prep(&cb, pipes[i][0], bufs[i]);
	r = lio_listio(LIO_WAIT, list, 2, NULL);
	snprintf(result[i], sizeof(result[i]), "waiter %ld: %s, read %zd",
	    i, said(r), aio_return(&cb));
	return NULL;
}

static pthread_t main_thread;

/* Signals main until its wait has ended. */
static void *
signaller(void *arg)
{
	(void)arg;
	signal_until_done(main_thread, SIGUSR1);
	return NULL;
}

int
main(void)
{
	struct aiocb bad, cb, *list[1] = { &bad };
	struct sigaction sa;
	pthread_t t;
	long r;

	if (!open_pipes(NW) || pipe(lonely) != 0)
		return 1;
	run_behind(write_pipes_later, waiter, NW);

	prep(&bad, -1, bufs[0]);
	printf("a read that fails: %s\n", said(lio_listio(LIO_WAIT, list, 1,
	    NULL)));
	printf("its error: %s\n", strerror(aio_error(&bad)));

	/* Last: the read stays in progress, as in glibc's tst-aio10. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal;		/* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	main_thread = pthread_self();
	pthread_create(&t, NULL, signaller, NULL);
	prep(&cb, lonely[0], bufs[NW]);
	list[0] = &cb;
	r = lio_listio(LIO_WAIT, list, 1, NULL);
	done = 1;
	pthread_join(t, NULL);
	printf("interrupted: %s (handled: %s)\n", said(r),
	    handled > 0 ? "yes" : "no");
	return 0;
}
