/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_filewrite.c -- writes of a regular file a byte at a time, then the
 * same descriptor numbers reused for pipes.  Under greenrun a plain file
 * whose writes refuse RWF_NOWAIT (ext4's buffered writes) is remembered
 * per number (fdinfo.c, GPI_FDI_NOWAITW) and its next writes go to the
 * ring at once; the number's next file -- here a pipe, whose writes must
 * park for room and whose reader must see every byte in order -- must
 * not be taken for the old one.  Four threads, each with its own file
 * (blocking, then O_NONBLOCK, which changes nothing for a regular file)
 * and then its own pipe; prints what each saw.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTHREAD	4
#define NFILE	3000
#define NPIPE	200000	/* > a pipe's 64 KiB: the writer waits for room */

static char result[NTHREAD][160];

static int
fill_and_check(const char *dir, int k, int flags)
{
	char path[4096], c, back[NFILE];
	int fd, i;

	snprintf(path, sizeof(path), "%s/gr_filewrite.XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0)
		return -1;
	unlink(path);
	if (flags != 0 && fcntl(fd, F_SETFL, flags) != 0)
		return -1;
	for (i = 0; i < NFILE; i++) {
		c = (char)(i * 7 + k);
		if (write(fd, &c, 1) != 1)
			return -1;
	}
	if (pread(fd, back, NFILE, 0) != NFILE)
		return -1;
	for (i = 0; i < NFILE; i++)
		if (back[i] != (char)(i * 7 + k))
			return -1;
	return close(fd);
}

struct pipeend {
	int	 fd;
	int	 k;
	long	 bad;
};

static void *
reader(void *arg)
{
	struct pipeend *e = arg;
	char buf[4096];
	long at = 0;
	ssize_t r, i;

	while ((r = read(e->fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < r; i++, at++)
			if (buf[i] != (char)(at * 3 + e->k))
				e->bad++;
	if (at != NPIPE)
		e->bad += 1000000;
	return NULL;
}

static void *
worker(void *arg)
{
	const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	int k = (int)(long)arg, p[2], a, b;
	struct pipeend e = { 0 };
	pthread_t r;
	long i;
	char c;

	a = fill_and_check(dir, k, 0);
	b = fill_and_check(dir, k, O_NONBLOCK);
	if (pipe(p) != 0)
		return NULL;
	e.fd = p[0];
	e.k = k;
	pthread_create(&r, NULL, reader, &e);
	for (i = 0; i < NPIPE; i++) {
		c = (char)(i * 3 + k);
		if (write(p[1], &c, 1) != 1)
			break;
	}
	close(p[1]);
	pthread_join(r, NULL);
	close(p[0]);
	snprintf(result[k], sizeof(result[k]), "thread %d: file %s, "
	    "O_NONBLOCK file %s, pipe %ld bytes %s", k, a == 0 ? "ok" : "BAD",
	    b == 0 ? "ok" : "BAD", i, e.bad == 0 ? "ok" : "BAD");
	return NULL;
}

int
main(void)
{
	pthread_t t[NTHREAD];
	long k;

	for (k = 0; k < NTHREAD; k++)
		pthread_create(&t[k], NULL, worker, (void *)k);
	for (k = 0; k < NTHREAD; k++)
		pthread_join(t[k], NULL);
	for (k = 0; k < NTHREAD; k++)
		printf("%s\n", result[k]);
	return 0;
}
