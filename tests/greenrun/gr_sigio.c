/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_sigio.c -- a loop of I/O calls that never block, as dd if=/dev/zero
 * of=/dev/null is: a SIGUSR1 from another process (a forked child) must
 * run the handler while it loops, as the kernel delivers it on the way
 * out of any system call.  argv[1] "rw": read(/dev/zero) and
 * write(/dev/null); "pread": pread of a small file, always cached.
 * Under greenrun the handler never ran (calls that did not park were no
 * signal point), and dd printed no statistics on SIGUSR1.
 * "poll", "ppoll", "select", "epoll": a readiness call with a zero
 * timeout on an eventfd that is never ready, as GLib's main loop makes
 * while an idle source is pending (glib's mapping test spins so until a
 * child's SIGUSR1 handler sets a flag).  Those returned at once without
 * a signal point, and the handler ran only when a preemption signal
 * happened to land in the program's own code: never in GLib's loop,
 * which is in the library (the test runs with GREENPROC_PREEMPT=0).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void
on_usr1(int sig)
{
	(void)sig;
	got = 1;
}

int
main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "rw";
	struct sigaction sa;
	char buf[4096], path[] = "/tmp/gr_sigio.XXXXXX";
	time_t end = time(NULL) + 5;	/* natively: 50 ms */
	long n = 0;
	pid_t pid;
	int in, out, st, looped, ready = -1;
	struct pollfd pfd;
	struct epoll_event ev;
	fd_set rd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	if (strcmp(how, "pread") == 0) {
		if ((in = mkstemp(path)) < 0)
			return 2;
		unlink(path);
		memset(buf, 'x', sizeof(buf));
		if (write(in, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return 2;
		out = -1;
	} else if (strcmp(how, "rw") != 0) {
		/* An eventfd never written: never ready. */
		if ((in = eventfd(0, EFD_CLOEXEC)) < 0)
			return 2;
		out = -2;
		if (strcmp(how, "epoll") == 0) {
			if ((ready = epoll_create1(EPOLL_CLOEXEC)) < 0)
				return 2;
			memset(&ev, 0, sizeof(ev));
			ev.events = EPOLLIN;
			if (epoll_ctl(ready, EPOLL_CTL_ADD, in, &ev) < 0)
				return 2;
		}
	} else {
		in = open("/dev/zero", O_RDONLY);
		out = open("/dev/null", O_WRONLY);
		if (in < 0 || out < 0)
			return 2;
	}
	if ((pid = fork()) == 0) {
		usleep(50000);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	while (!got && (++n % 1024 != 0 || time(NULL) < end)) {
		if (out == -2) {
			pfd.fd = in;
			pfd.events = POLLIN;
			FD_ZERO(&rd);
			FD_SET(in, &rd);
			if (strcmp(how, "poll") == 0)
				st = poll(&pfd, 1, 0);
			else if (strcmp(how, "ppoll") == 0)
				st = ppoll(&pfd, 1, &(struct timespec){ 0, 0 },
				    NULL);
			else if (strcmp(how, "select") == 0)
				st = select(in + 1, &rd, NULL, NULL,
				    &(struct timeval){ 0, 0 });
			else
				st = epoll_wait(ready, &ev, 1, 0);
			/* Natively a handler that runs in it makes it EINTR. */
			if (st > 0 || (st < 0 && errno != EINTR))
				return 3;
		} else if (out < 0) {
			if (pread(in, buf, sizeof(buf), 0) < 0)
				return 3;
		} else if (read(in, buf, sizeof(buf)) < 0 ||
		    write(out, buf, sizeof(buf)) < 0) {
			return 3;
		}
	}
	looped = got;		/* the wait below is a signal point too */
	waitpid(pid, &st, 0);
	printf("%s: %s\n", how, looped ? "handled" : "never handled");
	return looped ? 0 : 1;
}
