/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_fds.c -- the program's descriptor numbers are its own.  Natively a
 * program that has opened nothing finds only what it inherited; under
 * greenrun the runtime's descriptors (each worker's eventfd and ring)
 * used to be 3-6, so:
 *
 *  - the numbers open(2) gave were not the native ones;
 *  - a shell's `exec 3>f 4>f 5>f 6>f` (dup2 onto 3-6) replaced a
 *    worker's eventfd, and that worker never woke again: the threads
 *    below hung;
 *  - a daemon's close-every-descriptor loop, closefrom(3) or
 *    close_range(3, ~0U, 0) closed the runtime's, with the same end;
 *  - a forked child kept the parent runtime's descriptors open.
 *
 * Each step prints what it sees; test_greenrun.c compares the output
 * with the native run's.  Every step then makes threads hand a token
 * round a ring of pipes (reads that park, wakes across workers).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREAD	6
#define ROUNDS	50
#define LOW	512	/* the numbers a program uses, printed */
#define ALL	4096	/* where the loops stop (the limit may be 1M) */

static int ring[NTHREAD][2];

static void *
hand_on(void *arg)
{
	long i = (long)arg, r;
	char c;

	for (r = 0; r < ROUNDS; r++) {
		if (read(ring[i][0], &c, 1) != 1 ||
		    write(ring[(i + 1) % NTHREAD][1], &c, 1) != 1) {
			perror("ring");
			exit(2);
		}
	}
	return NULL;
}

/* A token round NTHREAD threads ROUNDS times, then every pipe closed. */
static void
threads(const char *when)
{
	pthread_t t[NTHREAD];
	long i;

	for (i = 0; i < NTHREAD; i++)
		if (pipe(ring[i]) != 0) {
			perror("pipe");
			exit(2);
		}
	for (i = 0; i < NTHREAD; i++)
		pthread_create(&t[i], NULL, hand_on, (void *)i);
	if (write(ring[0][1], "t", 1) != 1)
		exit(2);
	for (i = 0; i < NTHREAD; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < NTHREAD; i++) {
		close(ring[i][0]);
		close(ring[i][1]);
	}
	printf("%s: threads ok\n", when);
}

/* The open numbers below (lim), as fcntl sees them. */
static void
numbers(const char *when, int lim)
{
	int fd, n = 0;

	printf("%s:", when);
	for (fd = 0; fd < lim; fd++)
		if (fcntl(fd, F_GETFD) != -1) {
			printf(" %d", fd);
			n++;
		}
	printf(" (%d)\n", n);
}

static int
all(void)
{
	long lim = sysconf(_SC_OPEN_MAX);

	return lim > 0 && lim < ALL ? (int)lim : ALL;
}

/* A forked child counts every open number; natively, what it inherited. */
static void
child_count(void)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		numbers("child", all());
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
}

int
main(void)
{
	int fd, n, closed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	numbers("start", LOW);
	fd = open("/dev/null", O_RDONLY);
	printf("open: %d\n", fd);
	close(fd);
	threads("start");
	child_count();

	/* bash's exec 3>/dev/null 4>... */
	fd = open("/dev/null", O_WRONLY);
	for (n = 3; n < 12; n++)
		if (n != fd && dup2(fd, n) != n)
			printf("dup2 onto %d: %s\n", n, strerror(errno));
	numbers("dup2", LOW);
	threads("dup2");

	/* A daemon's loop: only what the program opened closes. */
	closed = 0;
	for (n = 3; n < all(); n++)
		if (close(n) == 0)
			closed++;
	printf("close loop: %d closed\n", closed);
	numbers("close loop", LOW);
	threads("close loop");

	for (n = 3; n < 8; n++)
		(void)open("/dev/null", O_RDONLY);
	closefrom(3);
	numbers("closefrom", LOW);
	threads("closefrom");

	for (n = 3; n < 8; n++)
		(void)open("/dev/null", O_RDONLY);
	if (close_range(3, ~0U, 0) != 0)
		printf("close_range: %s\n", strerror(errno));
	numbers("close_range", LOW);
	threads("close_range");
	child_count();
	return 0;
}
