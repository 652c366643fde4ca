/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_uring.c -- a program's own io_uring rings, through liburing: five
 * threads each wait for a read of their own pipe on their own ring
 * (io_uring_wait_cqe, io_uring_submit_and_wait, io_uring_wait_cqes and
 * io_uring_wait_cqe_timeout), and a thread that started before them
 * writes the pipes once it wakes.  Natively and under greenrun the same:
 * liburing's waits are system calls made inline, and they held every
 * worker while the writer, queued on one of them, never ran again.
 * Then a wait that completions already satisfy, and a timeout.
 */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "behind.h"

#define NWAIT	5

/* Wait, by way (i), for a read of pipe (i) on a ring of its own. */
static void *
waiter(void *arg)
{
	struct __kernel_timespec ts = { 5, 0 };
	long i = (long)arg, res = -1;
	struct io_uring_cqe *cqe = NULL;
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	char c;
	int r;

	if (io_uring_queue_init(4, &ring, 0) != 0) {
		snprintf(result[i], sizeof(result[i]), "waiter %ld: no ring", i);
		return NULL;
	}
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_read(sqe, pipes[i][0], &c, 1, 0);
	switch (i % 4) {
	case 0:
		io_uring_submit(&ring);
		r = io_uring_wait_cqe(&ring, &cqe);
		break;
	case 1:
		r = io_uring_submit_and_wait(&ring, 1);
		if (r >= 0)
			r = io_uring_peek_cqe(&ring, &cqe);
		break;
	case 2:
		io_uring_submit(&ring);
		r = io_uring_wait_cqes(&ring, &cqe, 1, &ts, NULL);
		break;
	default:
		io_uring_submit(&ring);
		r = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		break;
	}
	if (r >= 0 && cqe != NULL) {
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	snprintf(result[i], sizeof(result[i]), "waiter %ld: read %ld", i, res);
	return NULL;
}

int
main(void)
{
	struct __kernel_timespec ts = { 0, 20000000 };
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	int r;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!open_pipes(NWAIT))
		return 1;
	run_behind(write_pipes_later, waiter, NWAIT);

	/* Done already: no wait.  Then nothing comes: the timeout. */
	if (io_uring_queue_init(4, &ring, 0) != 0)
		return 1;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(sqe);
	io_uring_submit(&ring);
	usleep(10000);
	r = io_uring_wait_cqe(&ring, &cqe);
	printf("nop: %d, res %d\n", r, r == 0 ? cqe->res : -1);
	if (r == 0)
		io_uring_cqe_seen(&ring, cqe);
	r = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	printf("nothing: %s\n", r == -ETIME ? "ETIME" : strerror(-r));
	io_uring_queue_exit(&ring);
	return 0;
}
