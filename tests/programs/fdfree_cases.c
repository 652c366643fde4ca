/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fdfree_cases.c -- descriptors a green process opened and never closed
 * are closed at its exit (issue 14, fdfree).  Run under the preload by
 * tests/test_fdfree.c, one case per run: fdfree_cases CASE [N].
 *
 *   accept_kill   a process parked in accept() is SIGKILLed: its
 *                 listening socket is closed, a new client gets
 *                 ECONNREFUSED (the engine's accept is cancelled first);
 *   spawns N      N processes each open a socket and never close it:
 *                 /proc/self/fd has as many entries after as before;
 *   reused        a descriptor closed behind the runtime's back and reused
 *                 by a host thread is left alone at the owner's exit;
 *   eof           a peer sees EOF on a socketpair and a pipe whose other
 *                 end only the exiting process held (its dup);
 *   read_kill     the same for a process parked in read() on its own
 *                 dup of a socketpair end;
 *   exec          gp_exec closes the process's FD_CLOEXEC descriptors;
 *   ps            gp_ps shows each process's descriptor count, and the
 *                 opening and closing calls (fopen/fclose, opendir/
 *                 closedir, eventfd, pipe2...) take and release them;
 *   handover      gp_attr_setfds gives a child the listed descriptors.
 *
 * The main thread is a host thread (init); the cases' processes are its
 * green children.  Prints "ok:"/"FAIL:" lines and ALL OK (check.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <greenproc.h>

#include "check.h"
#include "../testutil.h"

static atomic_int shared_fd = -1;	/* a number a child reports */
static atomic_int stage;		/* child/host handshake */
static int host_pipe[2];

/* Wait (host thread) until stage reaches (want); 10 s at most. */
static int
wait_stage(int want)
{
	int i;

	for (i = 0; i < 10000 && atomic_load(&stage) < want; i++)
		usleep(1000);
	return atomic_load(&stage) >= want;
}


/* The NFD column of (pid)'s gp_ps line; -1 if none. */
static int
nfd_of(pid_t pid)
{
	char *buf = NULL, *line, *save = NULL, *tok, *s2;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int col = -1, n = -1, i;

	if (f == NULL || gp_ps(f) != 0)
		return -1;
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		bool header = strstr(line, "PPID") != NULL, mine = false;

		s2 = NULL;
		for (i = 0, tok = strtok_r(line, " ", &s2); tok != NULL;
		    i++, tok = strtok_r(NULL, " ", &s2)) {
			if (header && strcmp(tok, "NFD") == 0)
				col = i;
			if (!header && i == 0)
				mine = atoi(tok) == pid;
			if (mine && i == col)
				n = atoi(tok);
		}
	}
	free(buf);
	return n;
}

static int
listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(s, 8) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) != 0)
		return -1;
	*port = ntohs(a.sin_port);
	return s;
}

static int
connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	    .sin_port = htons((uint16_t)port) };
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	r = connect(c, (struct sockaddr *)&a, sizeof(a));
	if (r != 0)
		r = -errno;
	close(c);
	return r;
}

static pid_t
wait_child(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid ? st : -1;
}

/* ------------------------------------------------------------ accept_kill */

static atomic_int acc_port;

static int
acceptor(void *arg)
{
	int port, s = listener(&port), c;

	(void)arg;
	atomic_store(&acc_port, port);
	atomic_store(&stage, 1);
	c = accept(s, NULL, NULL);	/* parks until killed */
	return c < 0 ? 2 : 3;
}

static void
case_accept_kill(void)
{
	pid_t pid;
	int st, r;

	pid = gp_spawn(acceptor, NULL, NULL);
	CHECK(pid > 0, "gp_spawn: %s", strerror(errno));
	CHECK(wait_stage(1), "the acceptor never listened");
	usleep(100 * 1000);	/* let it park in accept */
	CHECK(gp_kill(pid, SIGKILL) == 0, "gp_kill: %s", strerror(errno));
	st = wait_child(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status 0x%x", st);
	r = connect_to(atomic_load(&acc_port));
	CHECK(r == -ECONNREFUSED, "connect after the kill: %s",
	    r == 0 ? "connected" : strerror(-r));
}

/* ------------------------------------------------------------ spawns */

static int
opener(void *arg)
{
	(void)arg;
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1;
}

static void
case_spawns(int n)
{
	int before, after, i, j, bad = 0, batch = 32;
	pid_t pids[32];

	gp_init(0);		/* its own descriptors (rings, eventfds) first */
	before = tu_count_fds();

	for (i = 0; i < n; i += batch) {
		for (j = 0; j < batch; j++)
			pids[j] = gp_spawn(opener, NULL, NULL);
		for (j = 0; j < batch; j++) {
			int st = pids[j] > 0 ? wait_child(pids[j]) : -1;

			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				bad++;
		}
	}
	after = tu_count_fds();
	CHECK(bad == 0, "%d of %d children failed (socket: EMFILE?)", bad, n);
	CHECK(after == before, "%d descriptors before, %d after %d spawns",
	    before, after, n);
}

/* ------------------------------------------------------------ reused */

static int
behind_back(void *arg)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	char c;

	(void)arg;
	atomic_store(&shared_fd, s);
	syscall(SYS_close, s);		/* not through the runtime */
	atomic_store(&stage, 1);
	(void)read(host_pipe[0], &c, 1);	/* until the host reused it */
	return 0;
}

static void
case_reused(void)
{
	pid_t pid;
	int h, st;

	CHECK(pipe(host_pipe) == 0, "pipe: %s", strerror(errno));
	pid = gp_spawn(behind_back, NULL, NULL);
	CHECK(wait_stage(1), "the child never closed");
	h = open("/dev/null", O_RDONLY);
	CHECK(h == atomic_load(&shared_fd), "host got %d, child had %d", h,
	    atomic_load(&shared_fd));
	CHECK(write(host_pipe[1], "x", 1) == 1, "write: %s", strerror(errno));
	st = wait_child(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	CHECK(fcntl(h, F_GETFD) >= 0, "the host's descriptor %d was closed "
	    "at the child's exit", h);
}

/* ------------------------------------------------------------ eof */

static int
dupper(void *arg)
{
	int *fds = arg;

	/* Own copies of the host's ends, never closed. */
	return dup(fds[0]) >= 0 && dup(fds[1]) >= 0 ? 0 : 1;
}

static int
read_eof(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, 5000) != 1)
		return -2;	/* nothing in 5 s: still open */
	return (int)read(fd, &c, 1);
}

static void
case_eof(void)
{
	int sv[2], pp[2], give[2], st, r;
	pid_t pid;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0,
	    "socketpair: %s", strerror(errno));
	CHECK(pipe2(pp, O_CLOEXEC) == 0, "pipe2: %s", strerror(errno));
	give[0] = sv[1];
	give[1] = pp[1];
	pid = gp_spawn(dupper, give, NULL);
	st = wait_child(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	close(sv[1]);
	close(pp[1]);
	r = read_eof(sv[0]);
	CHECK(r == 0, "socketpair peer: %s", r == -2 ? "no EOF in 5 s" :
	    "not EOF");
	r = read_eof(pp[0]);
	CHECK(r == 0, "pipe reader: %s", r == -2 ? "no EOF in 5 s" :
	    "not EOF");
}

/* ------------------------------------------------------------ read_kill */

static int
reader(void *arg)
{
	int d = dup(*(int *)arg);
	char c;

	atomic_store(&stage, 1);
	return read(d, &c, 1) < 0 ? 2 : 3;	/* parks until killed */
}

/*
 * The LWP killed while parked in read() leaves its registration in fd.c
 * on its way out: otherwise exit1's close would hand the file to the
 * dead LWP (a twin nobody closes) and the peer would never see EOF.
 */
static void
case_read_kill(void)
{
	int sv[2], st, r;
	pid_t pid;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0,
	    "socketpair: %s", strerror(errno));
	pid = gp_spawn(reader, &sv[1], NULL);
	CHECK(wait_stage(1), "the reader never started");
	usleep(100 * 1000);	/* let it park in read */
	close(sv[1]);
	CHECK(gp_kill(pid, SIGKILL) == 0, "gp_kill: %s", strerror(errno));
	st = wait_child(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status 0x%x", st);
	r = read_eof(sv[0]);
	CHECK(r == 0, "peer of the killed reader: %s",
	    r == -2 ? "no EOF in 5 s" : "not EOF");
}

/* ------------------------------------------------------------ exec */

static atomic_int exec_a = -1, exec_b = -1;
static atomic_ulong exec_a_ino;

static int
after_exec(void *arg)
{
	int a = atomic_load(&exec_a), b = atomic_load(&exec_b);
	struct stat sb;

	(void)arg;
	/*
	 * Gone, or its number reused since by the host for another file (a
	 * spare worker's ring or eventfd, started by the watchdog under
	 * load): the file itself must be closed, whatever holds the number.
	 */
	CHECK(fstat(a, &sb) < 0 ? errno == EBADF :
	    (unsigned long)sb.st_ino != atomic_load(&exec_a_ino),
	    "the FD_CLOEXEC descriptor %d survived gp_exec", a);
	CHECK(fcntl(b, F_GETFD) >= 0, "descriptor %d was closed by gp_exec", b);
	CHECK(nfd_of(getpid()) == 1, "NFD after exec: %d", nfd_of(getpid()));
	return 0;
}

static int
before_exec(void *arg)
{
	int a = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int b = socket(AF_UNIX, SOCK_STREAM, 0);

	struct stat sb;

	(void)arg;
	CHECK(fstat(a, &sb) == 0, "fstat: %s", strerror(errno));
	atomic_store(&exec_a_ino, (unsigned long)sb.st_ino);
	atomic_store(&exec_a, a);
	atomic_store(&exec_b, b);
	gp_exec(after_exec, NULL);
	return 9;
}

static void
case_exec(void)
{
	int st = wait_child(gp_spawn(before_exec, NULL, NULL));

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	CHECK(fcntl(atomic_load(&exec_b), F_GETFD) < 0,
	    "descriptor %d outlived its process", atomic_load(&exec_b));
}

/* ------------------------------------------------------------ ps */

static int
many(void *arg)
{
	pid_t me = getpid();
	int sv[2], pp[2], e, t, ep, s, d2, s4;
	FILE *f;
	DIR *d;

	(void)arg;
	CHECK(nfd_of(me) == 0, "NFD at start: %d", nfd_of(me));
	f = fopen("/dev/null", "r");
	d = opendir("/");
	e = eventfd(0, 0);
	t = timerfd_create(CLOCK_MONOTONIC, 0);
	ep = epoll_create1(0);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	CHECK(pipe2(pp, 0) == 0, "pipe2");
	d2 = dup(s);
	s4 = fcntl(s, F_DUPFD_CLOEXEC, 100);
	CHECK(f != NULL && d != NULL && e >= 0 && t >= 0 && ep >= 0 &&
	    s >= 0 && d2 >= 0 && s4 >= 100, "an opening call failed");
	CHECK(nfd_of(me) == 12, "NFD after 12 opens: %d", nfd_of(me));
	fclose(f);
	closedir(d);
	close(e);
	close(t);
	close(ep);
	close(s);
	close(sv[0]);
	close(sv[1]);
	close(pp[0]);
	close(pp[1]);
	CHECK(nfd_of(me) == 2, "NFD after 10 closes: %d", nfd_of(me));
	CHECK(dup2(d2, s4) == s4, "dup2");	/* s4 replaced: still 2 */
	close(d2);
	CHECK(nfd_of(me) == 1, "NFD at the end: %d", nfd_of(me));
	atomic_store(&shared_fd, s4);
	return 0;
}

static void
case_ps(void)
{
	int st = wait_child(gp_spawn(many, NULL, NULL));

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	CHECK(fcntl(atomic_load(&shared_fd), F_GETFD) < 0,
	    "descriptor %d outlived its process", atomic_load(&shared_fd));
}

/* ------------------------------------------------------------ handover */

static int
heir(void *arg)
{
	(void)arg;
	CHECK(nfd_of(getpid()) == 1, "the child owns %d", nfd_of(getpid()));
	atomic_store(&stage, 1);
	return 0;
}

static int
giver(void *arg)
{
	int sv[2], st;
	gp_attr_t *attr;
	pid_t pid;

	(void)arg;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 1;
	host_pipe[0] = sv[0];
	CHECK(gp_attr_init(&attr) == 0, "gp_attr_init");
	CHECK(gp_attr_setfds(attr, &sv[1], 1) == 0, "gp_attr_setfds");
	pid = gp_spawn(heir, NULL, attr);
	gp_attr_destroy(attr);
	CHECK(nfd_of(getpid()) == 1, "the parent owns %d", nfd_of(getpid()));
	st = wait_child(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "heir 0x%x", st);
	/* The heir's exit closed sv[1]: EOF on ours. */
	CHECK(read_eof(sv[0]) == 0, "no EOF after the heir's exit");
	return 0;
}

static void
case_handover(void)
{
	int st = wait_child(gp_spawn(giver, NULL, NULL));

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
}

int
main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	if (strcmp(c, "accept_kill") == 0)
		case_accept_kill();
	else if (strcmp(c, "spawns") == 0)
		case_spawns(argc > 2 ? atoi(argv[2]) : 1000);
	else if (strcmp(c, "reused") == 0)
		case_reused();
	else if (strcmp(c, "eof") == 0)
		case_eof();
	else if (strcmp(c, "read_kill") == 0)
		case_read_kill();
	else if (strcmp(c, "exec") == 0)
		case_exec();
	else if (strcmp(c, "ps") == 0)
		case_ps();
	else if (strcmp(c, "handover") == 0)
		case_handover();
	else {
		fprintf(stderr, "usage: fdfree_cases CASE [N]\n");
		return 2;
	}
	return check_exit_code();
}
