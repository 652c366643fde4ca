/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_stdfd.c -- started with stdin and stdout closed (`prog <&- >&-`, as
 * test_greenrun.c does), it reports on stderr what it finds at 0 and 1:
 * nothing, before and after a thread, a fork and a system(), then the
 * numbers open(2) gives, which must be 0 and 1 again.  Under greenrun a
 * worker's eventfd took 0 (`cat <&-` then read it and hung), and a
 * real child's pidfd took 0 after a fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Say whether 0 and 1 are closed, and what a read of 0 gives. */
static void
look(const char *when)
{
	struct stat sb;
	char c;
	ssize_t n;
	int fd;

	for (fd = 0; fd < 2; fd++)
		fprintf(stderr, "%s: %d %s\n", when, fd,
		    fstat(fd, &sb) != 0 && errno == EBADF ? "closed" : "open");
	n = read(0, &c, 1);
	fprintf(stderr, "%s: read(0) %zd %s\n", when, n,
	    n < 0 ? strerror(errno) : "");
}

static void *
thread(void *arg)
{
	look(arg);
	return NULL;
}

int
main(void)
{
	pthread_t t;
	pid_t pid;
	int st, a, b;

	look("start");
	pthread_create(&t, NULL, thread, "thread");
	pthread_join(t, NULL);
	if ((pid = fork()) == 0)
		_exit(7);
	waitpid(pid, &st, 0);
	fprintf(stderr, "fork child: %d\n", WEXITSTATUS(st));
	look("after fork");
	st = system("exit 3");
	fprintf(stderr, "system: %d\n", WEXITSTATUS(st));
	look("after system");
	/* A program that fills the gap gets 0 and 1, as natively. */
	a = open("/dev/null", O_RDONLY);
	b = open("/dev/null", O_WRONLY);
	fprintf(stderr, "open: %d %d\n", a, b);
	return 0;
}
