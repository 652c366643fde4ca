/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_stdiocancel.c -- glibc's stdio reads and writes are cancellation
 * points (optional ones in POSIX): a thread cancelled while it loops on
 * fprintf to a full-buffered FILE on /dev/null ends at the buffer's next
 * write (glibc's tst-cancel9 hung under greenrun: the green thread never
 * acted on the cancel); a thread that cancelled itself ends at its next
 * line-buffered fprintf, and the line still comes out.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t b;
static volatile int cleaned;

static void
cleanup(void *arg)
{
	(void)arg;
	cleaned++;
}

static void *
loop(void *arg)
{
	FILE *fp = fdopen(open("/dev/null", O_WRONLY), "w");

	(void)arg;
	if (fp == NULL)
		exit(1);
	pthread_cleanup_push(cleanup, NULL);
	pthread_barrier_wait(&b);
	for (;;)
		fprintf(fp, "foo");	/* write(2) at each full buffer */
	pthread_cleanup_pop(0);
	return NULL;
}

static void *
self(void *arg)
{
	FILE *fp = arg;

	pthread_cleanup_push(cleanup, NULL);
	pthread_cancel(pthread_self());
	fprintf(fp, "written by the cancelled thread\n");
	pthread_cleanup_pop(0);
	return NULL;
}

int
main(void)
{
	char path[] = "/tmp/gr_stdiocancel.XXXXXX", buf[128];
	pthread_t t;
	void *rv;
	FILE *fp;
	ssize_t n;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_barrier_init(&b, NULL, 2);
	pthread_create(&t, NULL, loop, NULL);
	pthread_barrier_wait(&b);
	usleep(100000);
	pthread_cancel(t);
	pthread_join(t, &rv);
	printf("fprintf loop: %s, cleanup ran %d\n",
	    rv == PTHREAD_CANCELED ? "cancelled" : "not cancelled", cleaned);

	cleaned = 0;
	if ((fd = mkstemp(path)) < 0)
		return 1;
	fp = fdopen(fd, "w");
	setvbuf(fp, NULL, _IOLBF, 0);
	pthread_create(&t, NULL, self, fp);
	pthread_join(t, &rv);
	fclose(fp);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unlink(path);
	buf[n > 0 ? n : 0] = '\0';
	printf("self-cancel: %s, cleanup ran %d, file: %s",
	    rv == PTHREAD_CANCELED ? "cancelled" : "not cancelled", cleaned,
	    buf);
	return 0;
}
