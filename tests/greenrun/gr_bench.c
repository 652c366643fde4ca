/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_bench.c -- plain pthread workloads for bench/bench_greenrun.c, run
 * natively and under greenrun.  argv[1]:
 *   create    N threads created and joined one after another;
 *   pingpong  N round trips between two threads on a condition variable;
 *   mutex     16 threads taking one mutex N/16 times each;
 *   write1    N writes of one byte to a new file in $TMPDIR or /tmp, by
 *             a thread of its own (under greenrun a green one);
 *   tcpwrite  N writes of 64 bytes to a loopback TCP connection, whose
 *             other end a second thread reads in 64 KiB reads;
 *   fileread  N opens of a 10 KiB file in $TMPDIR or /tmp, each read to
 *             its end in 4 KiB reads and closed;
 *   procread  the same of /proc/self/stat;
 *   noent     N opens of a name that is not there.
 * Prints "ns_per_op X" on stdout.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NMUTEX	16

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static long turn, rounds, counter;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *
nop(void *arg)
{
	return arg;
}

static void *
pong(void *arg)
{
	long me = (long)arg, i;

	for (i = 0; i < rounds; i++) {
		pthread_mutex_lock(&m);
		while (turn != me)
			pthread_cond_wait(&c, &m);
		turn = !me;
		pthread_cond_signal(&c);
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

static void *
contend(void *arg)
{
	long i, n = (long)arg;

	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&m);
		counter++;
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

static void *
write1(void *arg)
{
	const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	long i, n = (long)arg;
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/gr_bench.XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0)
		return (void *)1;
	unlink(path);
	for (i = 0; i < n; i++)
		if (write(fd, &path[i % 8], 1) != 1)
			return (void *)1;
	close(fd);
	return NULL;
}

/* (n) times: open (path), read it to its end, close it. */
static int
readall(const char *path, long n)
{
	char buf[4096];
	ssize_t r;
	long i;
	int fd;

	for (i = 0; i < n; i++) {
		if ((fd = open(path, O_RDONLY)) < 0)
			return 1;
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			;
		close(fd);
		if (r < 0)
			return 1;
	}
	return 0;
}

static int tcp[2];

static void *
tcp_reader(void *arg)
{
	char buf[65536];
	long got = 0;
	ssize_t r;

	(void)arg;
	while ((r = read(tcp[1], buf, sizeof(buf))) > 0)
		got += r;
	return (void *)got;
}

/* A loopback TCP connection: tcp[0] the writer's end, tcp[1] the reader's. */
static int
tcp_pair(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) != 0 ||
	    (tcp[0] = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(tcp[0], (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    (tcp[1] = accept(l, NULL, NULL)) < 0)
		return -1;
	return close(l);
}

int
main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 100000, i;
	pthread_t t[NMUTEX];
	double t0;

	if (argc < 2 || n <= 0)
		return 2;
	t0 = now();
	if (strcmp(argv[1], "create") == 0) {
		for (i = 0; i < n; i++) {
			if (pthread_create(&t[0], NULL, nop, NULL) != 0)
				return 1;
			pthread_join(t[0], NULL);
		}
	} else if (strcmp(argv[1], "pingpong") == 0) {
		rounds = n;
		pthread_create(&t[0], NULL, pong, (void *)0L);
		pthread_create(&t[1], NULL, pong, (void *)1L);
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
	} else if (strcmp(argv[1], "mutex") == 0) {
		for (i = 0; i < NMUTEX; i++)
			pthread_create(&t[i], NULL, contend,
			    (void *)(n / NMUTEX));
		for (i = 0; i < NMUTEX; i++)
			pthread_join(t[i], NULL);
		if (counter != n / NMUTEX * NMUTEX)
			return 1;
	} else if (strcmp(argv[1], "write1") == 0) {
		void *r;

		pthread_create(&t[0], NULL, write1, (void *)n);
		pthread_join(t[0], &r);
		if (r != NULL)
			return 1;
	} else if (strcmp(argv[1], "tcpwrite") == 0) {
		char msg[64] = { 0 };
		void *got;

		if (tcp_pair() != 0)
			return 1;
		t0 = now();
		pthread_create(&t[0], NULL, tcp_reader, NULL);
		for (i = 0; i < n; i++)
			if (write(tcp[0], msg, sizeof(msg)) != sizeof(msg))
				return 1;
		shutdown(tcp[0], SHUT_WR);
		pthread_join(t[0], &got);
		if ((long)got != n * (long)sizeof(msg))
			return 1;
	} else if (strcmp(argv[1], "fileread") == 0 ||
	    strcmp(argv[1], "noent") == 0) {
		const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") :
		    "/tmp";
		char path[4096], data[10240] = { 0 };
		int fd;

		snprintf(path, sizeof(path), "%s/gr_bench.XXXXXX", dir);
		if ((fd = mkstemp(path)) < 0 ||
		    write(fd, data, sizeof(data)) != sizeof(data))
			return 1;
		close(fd);
		if (argv[1][0] == 'n')
			strncat(path, ".none", sizeof(path) - strlen(path) - 1);
		t0 = now();
		if (argv[1][0] == 'f') {
			if (readall(path, n) != 0)
				return 1;
		} else {
			for (i = 0; i < n; i++)
				if (open(path, O_RDONLY) >= 0)
					return 1;
			path[strlen(path) - 5] = '\0';
		}
		unlink(path);
	} else if (strcmp(argv[1], "procread") == 0) {
		if (readall("/proc/self/stat", n) != 0)
			return 1;
	} else {
		return 2;
	}
	printf("ns_per_op %.1f\n", (now() - t0) / (double)n);
	return 0;
}
