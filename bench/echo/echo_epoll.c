/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * echo_epoll.c -- the limit bench_echo measures the others against: a
 * hand-written single-thread epoll echo server, what a thread-per-
 * connection server would be if rewritten as an event loop by hand.
 *
 *	echo_epoll [PORT]
 *
 * Same protocol as examples/echo.c: listens on 127.0.0.1:PORT (0 or
 * none: ephemeral), prints the port on stdout, echoes every byte back.
 * Level-triggered; a connection whose echo the kernel would not take
 * whole keeps the rest and waits for EPOLLOUT before it reads again, so
 * a client that does not read cannot make the server buffer without end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

#define BUF_SIZE	4096
#define BACKLOG		65535

struct conn {
	int	fd;
	size_t	off, len;	/* buf[off..len) still to be written */
	char	buf[BUF_SIZE];
};

static int epfd;

static void
die(const char *what)
{
	fprintf(stderr, "echo_epoll: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
conn_close(struct conn *c)
{
	close(c->fd);		/* also leaves the epoll set */
	free(c);
}

/* Wait for c->fd to be readable (want_out 0) or writable (1). */
static void
conn_watch(struct conn *c, int want_out, int op)
{
	struct epoll_event ev;

	ev.events = want_out ? EPOLLOUT : EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, op, c->fd, &ev) != 0)
		die("epoll_ctl");
}

/* Write what is pending; 1 when all is written, 0 if not, -1: close. */
static int
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->off < c->len) {
		n = write(c->fd, c->buf + c->off, c->len - c->off);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->off += (size_t)n;
	}
	c->off = c->len = 0;
	return 1;
}

static void
conn_ready(struct conn *c)
{
	ssize_t n;
	int r;

	if (c->len > 0) {
		/* Waiting for EPOLLOUT with an echo half written. */
		if ((r = conn_flush(c)) < 0) {
			conn_close(c);
		} else if (r > 0) {
			conn_watch(c, 0, EPOLL_CTL_MOD);
		}
		return;
	}
	n = read(c->fd, c->buf, sizeof(c->buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len = (size_t)n;
	if ((r = conn_flush(c)) < 0)
		conn_close(c);
	else if (r == 0)
		conn_watch(c, 1, EPOLL_CTL_MOD);
}

static void
accept_all(int lfd)
{
	struct conn *c;
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		conn_watch(c, 0, EPOLL_CTL_ADD);
	}
	/* EAGAIN: the queue is empty; anything else waits for next time. */
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	struct epoll_event ev, evs[256];
	int lfd, i, n;

	if ((lfd = echo_listen(argc, argv, SOCK_NONBLOCK | SOCK_CLOEXEC,
	    BACKLOG, &sin)) < 0)
		die("listen");
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;		/* NULL: the listening socket */
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) != 0)
		die("epoll_ctl");
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);

	for (;;) {
		n = epoll_wait(epfd, evs, 256, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				accept_all(lfd);
			else
				conn_ready(evs[i].data.ptr);
		}
	}
}
