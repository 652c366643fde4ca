/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_eintr.c -- a signal sent to the process and handled by one thread
 * interrupts that thread's call only.  main sends itself SIGUSR1 (no
 * SA_RESTART) while another thread waits in select, poll, epoll_wait,
 * nanosleep, a read of an empty pipe and a connect that waits for room in
 * a listener's full queue: Linux gives a process signal to
 * the main thread while it can take it, the handler runs there, and the
 * waiting thread's calls time out (or read) as if nothing came.  Under
 * greenrun every thread that could take the signal was woken to look,
 * and the ones that found it taken failed with EINTR all the same
 * (guile, whose signal handlers are run by asyncs after a sleep ends,
 * lost SIGUSR1 deliveries to coalescing when its sleeps ended early).
 * The connect failed so until the interrupted one learnt to go on.  The
 * connect is then also interrupted by a SIGUSR2 sent to its own thread,
 * whose handler has SA_RESTART: the kernel restarts a connect (signal(7))
 * and it goes on waiting; green, it failed with EINTR.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int p[2];
static struct sockaddr_in lsa;	/* the listener, its queue full */
static pthread_t mainth;
static volatile sig_atomic_t hits, onmain;

static void
handler(int sig)
{
	(void)sig;
	hits++;
	if (pthread_equal(pthread_self(), mainth))
		onmain++;
}

static void
say(const char *what, int rc)
{
	printf("%s: %d%s%s\n", what, rc, rc < 0 ? " " : "",
	    rc < 0 ? strerror(errno) : "");
}

static void *
waiter(void *arg)
{
	struct timespec ts = { 0, 150 * 1000000L };
	struct timeval tv = { 0, 150000 };
	struct pollfd pf = { p[0], POLLIN, 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	fd_set r;
	char c;
	int ep;

	(void)arg;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	say("select", select(p[0] + 1, &r, NULL, NULL, &tv));
	say("poll", poll(&pf, 1, 150));
	ep = epoll_create1(0);
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	say("epoll_wait", epoll_wait(ep, &ev, 1, 150));
	close(ep);
	say("nanosleep", nanosleep(&ts, NULL));
	say("read", (int)read(p[0], &c, 1));
	/* Waits for main's accept, then for the SYN sent again (~1 s). */
	ep = socket(AF_INET, SOCK_STREAM, 0);
	say("connect", connect(ep, (struct sockaddr *)&lsa, sizeof(lsa)));
	close(ep);
	return NULL;
}

int
main(void)
{
	struct sigaction sa;
	pthread_t t;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;	/* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR2, &sa, NULL);
	if (pipe(p) != 0)
		return 1;
	mainth = pthread_self();
	/* A listener with room for one connection, and that one queued. */
	socklen_t slen = sizeof(lsa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), c1 = socket(AF_INET,
	    SOCK_STREAM, 0), a;

	lsa.sin_family = AF_INET;
	lsa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&lsa, sizeof(lsa)) != 0 ||
	    listen(lfd, 0) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&lsa, &slen) != 0 ||
	    connect(c1, (struct sockaddr *)&lsa, sizeof(lsa)) != 0)
		return 1;
	pthread_create(&t, NULL, waiter, NULL);
	/* One signal inside each of the five waits (150 ms each). */
	for (i = 0; i < 5; i++) {
		usleep(75 * 1000);
		kill(getpid(), SIGUSR1);
		usleep(75 * 1000);
	}
	usleep(50 * 1000);
	if (write(p[1], "x", 1) != 1)
		return 1;
	/* The sixth: a signal inside the connect, then room for it. */
	usleep(75 * 1000);
	kill(getpid(), SIGUSR1);
	usleep(75 * 1000);
	pthread_kill(t, SIGUSR2);
	usleep(75 * 1000);
	if ((a = accept(lfd, NULL, NULL)) < 0)
		return 1;
	pthread_join(t, NULL);
	close(a);
	close(c1);
	close(lfd);
	printf("handled %d, on main %d\n", (int)hits, (int)onmain);
	return 0;
}
