/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * echo.c -- a thread-per-connection TCP echo server, written the way
 * people wrote servers before event loops: a blocking accept() loop, one
 * detached pthread per connection, blocking read()/write().  Plain
 * pthreads and POSIX sockets only: no greenproc header, no gp_ call.
 *
 *	echo [PORT [NCONN]]
 *
 * Listens on 127.0.0.1:PORT (0 or none: an ephemeral port) and prints
 * the bound port on stdout, one line, flushed, so that a driver can read
 * it.  With NCONN > 0 it exits 0 once NCONN connections have closed.
 *
 * Natively every connection costs a kernel thread.  Under
 * LD_PRELOAD=libgreenproc_preload.so, run in a green process (see
 * examples/echo_green.c), the same code gets a green thread per
 * connection, and its blocking calls park that thread instead of the
 * worker (issue 13's I/O engine).  bench/bench_echo.c compares the two
 * with an epoll loop and libuv.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * A connection thread needs a few hundred bytes of frame and its buffer:
 * 64 KiB is plenty, and 10k connections then reserve 640 MiB of address
 * space rather than 80 GiB at glibc's default 8 MiB.
 */
#define CONN_STACK	(64 * 1024)
#define BUF_SIZE	4096
/* The kernel clamps it to net.core.somaxconn. */
#define BACKLOG		65535

static long conn_limit;		/* exit after this many closes; 0: never */
static atomic_long conn_closed;

/* Write all of buf, retrying short writes; 0, or -1 with errno. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *
conn_main(void *arg)
{
	int fd = (int)(long)arg;
	char buf[BUF_SIZE];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		/* EOF or an error (a reset peer): this connection is done. */
		if (n <= 0 || write_all(fd, buf, (size_t)n) != 0)
			break;
	}
	close(fd);
	if (conn_limit > 0 && atomic_fetch_add(&conn_closed, 1) + 1 == conn_limit)
		exit(0);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	pthread_attr_t attr;
	struct rlimit rl;
	pthread_t tid;
	int lfd, fd, one = 1, error;

	if (argc > 3) {
		fprintf(stderr, "usage: %s [PORT [NCONN]]\n", argv[0]);
		return 2;
	}
	conn_limit = argc > 2 ? atol(argv[2]) : 0;
	/* A descriptor per connection: take all the kernel allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* A client that goes away mid-write gives EPIPE, not a dead server. */
	signal(SIGPIPE, SIG_IGN);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[1]) : 0));
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lfd, BACKLOG) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) != 0) {
		perror("echo: listen");
		return 1;
	}
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, CONN_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/*
			 * Out of descriptors or memory: the connection waits
			 * in the backlog until a close frees one.
			 */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				usleep(1000);
				continue;
			}
			perror("echo: accept");
			return 1;
		}
		/* Each echo is one small segment: send it now. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((error = pthread_create(&tid, &attr, conn_main,
		    (void *)(long)fd)) != 0) {
			fprintf(stderr, "echo: pthread_create: %s\n",
			    strerror(error));
			close(fd);
		}
	}
}
