/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * echo_uring.c -- the floor bench_echo measures server CPU against: a
 * hand-written single-thread io_uring echo server that asks the kernel
 * for as little as it can.  What a request costs here is, near enough,
 * the loopback TCP work itself (a receive, a send, the wake-ups), with
 * the system call entry paid once per batch of completions, not per call.
 *
 *	echo_uring [PORT]
 *
 * Same protocol as examples/echo.c: listens on 127.0.0.1:PORT (0 or
 * none: ephemeral), prints the port on stdout, echoes every byte back.
 *
 * One ring (SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them, so
 * completion work runs only when we ask for events, batched; else
 * COOP_TASKRUN, else none).  A multishot accept; per connection one
 * multishot receive into a provided-buffer ring (armed once, it stays
 * armed: no re-arm per message), and per received buffer one send of it;
 * the buffer goes back to the ring when its send is complete.  The loop
 * is io_uring_submit_and_wait(1): one io_uring_enter submits every SQE
 * queued since the last and collects the next completions.
 *
 * Order: a connection has at most one send in flight; buffers received
 * meanwhile wait in its FIFO, so bytes go back in the order they came
 * even if the kernel takes a send only in part.  A connection that keeps
 * more than FIFO_MAX buffers waiting (a client that sends and does not
 * read) is closed: bench_echo's client never has more than one message
 * in flight.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

#define BACKLOG		65535
#define RING_ENTRIES	4096
#define NBUFS		8192		/* provided buffers (a power of 2) */
#define BUF_SIZE	2048
#define BGID		1
#define FIFO_MAX	16
#define MAX_FDS		(1 << 20)

/* user_data: the kind in the low 2 bits, the descriptor above. */
enum { K_ACCEPT, K_RECV, K_SEND, K_CLOSE };
#define UD(kind, fd)	((uint64_t)(fd) << 2 | (kind))

struct conn {
	int		fd;
	bool		closing;	/* a close is on its way */
	bool		recv_armed;	/* the multishot receive is armed */
	unsigned	head, n;	/* the FIFO of received buffers */
	uint16_t	bid[FIFO_MAX];
	uint16_t	len[FIFO_MAX];
	unsigned	off;		/* sent of the head buffer */
	bool		sending;	/* a send of the head is in flight */
	unsigned	inflight;	/* SQEs of ours not yet completed */
};

static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *bufs;
static struct conn **conns;
static int lfd;

static void
die(const char *what, int error)
{
	fprintf(stderr, "echo_uring: %s: %s\n", what, strerror(error));
	exit(1);
}

static struct io_uring_sqe *
sqe(void)
{
	struct io_uring_sqe *s;

	while ((s = io_uring_get_sqe(&ring)) == NULL)
		(void)io_uring_submit(&ring);
	return s;
}

static void
arm_accept(void)
{
	struct io_uring_sqe *s = sqe();

	io_uring_prep_multishot_accept(s, lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(s, UD(K_ACCEPT, lfd));
}

static void
arm_recv(struct conn *c)
{
	struct io_uring_sqe *s = sqe();

	io_uring_prep_recv_multishot(s, c->fd, NULL, 0, 0);
	s->flags |= IOSQE_BUFFER_SELECT;
	s->buf_group = BGID;
	io_uring_sqe_set_data64(s, UD(K_RECV, c->fd));
	c->recv_armed = true;
	c->inflight++;
}

static void
buf_give_back(uint16_t bid)
{
	io_uring_buf_ring_add(br, bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, bid,
	    io_uring_buf_ring_mask(NBUFS), 0);
	io_uring_buf_ring_advance(br, 1);
}

/* Send what is left of the head buffer. */
static void
send_head(struct conn *c)
{
	struct io_uring_sqe *s = sqe();
	uint16_t bid = c->bid[c->head];

	io_uring_prep_send(s, c->fd, bufs + (size_t)bid * BUF_SIZE + c->off,
	    c->len[c->head] - c->off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(s, UD(K_SEND, c->fd));
	c->sending = true;
	c->inflight++;
}

/* Close once nothing of ours is in flight on it (the kernel's cancel). */
static void
conn_close(struct conn *c)
{
	struct io_uring_sqe *s;

	if (!c->closing) {
		c->closing = true;
		if (c->recv_armed) {
			s = sqe();
			io_uring_prep_cancel64(s, UD(K_RECV, c->fd), 0);
			io_uring_sqe_set_data64(s, UD(K_CLOSE, c->fd));
			c->inflight++;
		}
	}
	if (c->inflight > 0)
		return;
	while (c->n > 0) {
		buf_give_back(c->bid[c->head]);
		c->head = (c->head + 1) % FIFO_MAX;
		c->n--;
	}
	close(c->fd);
	conns[c->fd] = NULL;
	free(c);
}

static void
on_accept(int res, unsigned flags)
{
	struct conn *c;
	int one = 1;

	if (!(flags & IORING_CQE_F_MORE))
		arm_accept();		/* ended (an error): arm it again */
	if (res < 0)
		return;
	if (res >= MAX_FDS || (c = calloc(1, sizeof(*c))) == NULL) {
		close(res);
		return;
	}
	setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = res;
	conns[res] = c;
	arm_recv(c);
}

static void
on_recv(struct conn *c, int res, unsigned flags)
{
	unsigned i;

	if (!(flags & IORING_CQE_F_MORE)) {
		c->recv_armed = false;
		c->inflight--;
	}
	if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
		uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);

		if (c->closing || c->n == FIFO_MAX) {
			buf_give_back(bid);
			conn_close(c);
			return;
		}
		i = (c->head + c->n) % FIFO_MAX;
		c->bid[i] = bid;
		c->len[i] = (uint16_t)res;
		c->n++;
		if (!c->sending)
			send_head(c);
	} else if (res == -ENOBUFS && !c->closing) {
		/* Out of buffers for the moment: ask again (rare). */
	} else if (res <= 0) {
		conn_close(c);		/* EOF, or an error */
		return;
	}
	if (!c->recv_armed && !c->closing)
		arm_recv(c);
}

static void
on_send(struct conn *c, int res)
{
	c->sending = false;
	c->inflight--;
	if (res <= 0 || c->closing) {
		conn_close(c);
		return;
	}
	c->off += (unsigned)res;
	if (c->off < c->len[c->head]) {
		send_head(c);		/* the kernel took it in part */
		return;
	}
	buf_give_back(c->bid[c->head]);
	c->head = (c->head + 1) % FIFO_MAX;
	c->n--;
	c->off = 0;
	if (c->n > 0)
		send_head(c);
}

int
main(int argc, char **argv)
{
	struct io_uring_params p;
	struct io_uring_buf_reg reg;
	struct sockaddr_in sin;
	struct io_uring_cqe *cqe;
	int error, i;
	unsigned head, n;

	if ((lfd = echo_listen(argc, argv, SOCK_CLOEXEC, BACKLOG, &sin)) < 0)
		die("listen", errno);
	if ((conns = calloc(MAX_FDS, sizeof(*conns))) == NULL)
		die("calloc", errno);

	/* The cheapest completion mode the kernel has. */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	if ((error = -io_uring_queue_init_params(RING_ENTRIES, &ring, &p)) != 0) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_COOP_TASKRUN;
		if ((error = -io_uring_queue_init_params(RING_ENTRIES, &ring,
		    &p)) != 0) {
			memset(&p, 0, sizeof(p));
			if ((error = -io_uring_queue_init_params(RING_ENTRIES,
			    &ring, &p)) != 0)
				die("io_uring_queue_init", error);
		}
	}

	/* The provided buffers: their ring, then the buffers in it. */
	if ((error = posix_memalign((void **)&br, 4096,
	    NBUFS * sizeof(struct io_uring_buf))) != 0 ||
	    (error = posix_memalign((void **)&bufs, 4096,
	    (size_t)NBUFS * BUF_SIZE)) != 0)
		die("posix_memalign", error);
	io_uring_buf_ring_init(br);
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)br;
	reg.ring_entries = NBUFS;
	reg.bgid = BGID;
	if ((error = -io_uring_register_buf_ring(&ring, &reg, 0)) != 0)
		die("io_uring_register_buf_ring", error);
	for (i = 0; i < NBUFS; i++)
		io_uring_buf_ring_add(br, bufs + (size_t)i * BUF_SIZE, BUF_SIZE,
		    (unsigned short)i, io_uring_buf_ring_mask(NBUFS), i);
	io_uring_buf_ring_advance(br, NBUFS);

	arm_accept();
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);

	for (;;) {
		error = io_uring_submit_and_wait(&ring, 1);
		if (error < 0 && error != -EINTR && error != -EAGAIN &&
		    error != -EBUSY)
			die("io_uring_submit_and_wait", -error);
		n = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			int fd = (int)(ud >> 2);
			struct conn *c = fd < MAX_FDS ? conns[fd] : NULL;

			n++;
			switch (ud & 3) {
			case K_ACCEPT:
				on_accept(cqe->res, cqe->flags);
				break;
			case K_RECV:
				if (c != NULL)
					on_recv(c, cqe->res, cqe->flags);
				break;
			case K_SEND:
				if (c != NULL)
					on_send(c, cqe->res);
				break;
			case K_CLOSE:
				if (c != NULL) {
					c->inflight--;
					conn_close(c);
				}
				break;
			}
		}
		io_uring_cq_advance(&ring, n);
	}
}
