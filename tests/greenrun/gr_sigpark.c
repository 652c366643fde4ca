/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_sigpark.c -- a signal handler that runs while its thread waits in a
 * read, and never returns there: it leaves by siglongjmp, or it reads
 * another pipe itself and is cancelled in that read (glibc's
 * tst-cancel20); or a write waits for room until its reader goes, and
 * SIGPIPE's handler leaves by siglongjmp.  Afterwards the first call's descriptor is closed, and
 * the thread's stack has been written over.  Natively nothing is left
 * of the abandoned read; under greenrun a registration of it must not
 * be either (a close walks the registrations of its number).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int outer[2], inner[2];
static sigjmp_buf jb;
static atomic_int in_handler, ready;
static int mode;		/* 0: siglongjmp out; 1: cancelled within;
				   2: SIGPIPE's handler jumps out of a write */

/* Write a large part of the calling thread's stack over. */
static void __attribute__((noinline))
scribble(void)
{
	volatile unsigned char junk[16384];

	memset((void *)junk, 0xff, sizeof(junk));
	__asm__ volatile("" : : "r"(junk) : "memory");
}

static void
handler(int sig)
{
	char c;

	(void)sig;
	atomic_store(&in_handler, 1);
	if (mode != 1)
		siglongjmp(jb, 1);
	if (read(inner[0], &c, 1) == 1)
		puts("inner read returned data");
}

static void *
reader(void *arg)
{
	char c;

	static char buf[1 << 16];

	(void)arg;
	if (mode != 1 && sigsetjmp(jb, 1) != 0) {
		scribble();
		return (void *)1;
	}
	/* From here the jump has somewhere to go. */
	atomic_store(&ready, 1);
	if (mode == 2) {
		/* Fills the pipe, then waits for room. */
		while (write(outer[1], buf, sizeof(buf)) > 0)
			;
		puts("write failed without SIGPIPE");
		return NULL;
	}
	if (read(outer[0], &c, 1) == 1)
		puts("outer read returned data");
	return NULL;
}

/* A thread that runs on the stack a dead one may have left. */
static void *
scribbler(void *arg)
{
	(void)arg;
	scribble();
	return NULL;
}

static int
round_of(int m, int i)
{
	pthread_t t;
	void *ret;

	mode = m;
	atomic_store(&in_handler, 0);
	atomic_store(&ready, 0);
	if (pipe(outer) != 0 || pipe(inner) != 0) {
		perror("pipe");
		return 1;
	}
	pthread_create(&t, NULL, reader, NULL);
	while (!atomic_load(&ready))
		usleep(1000);
	usleep(20000);			/* parked in the outer read or write */
	if (m == 2)
		close(outer[0]);	/* the write's EPIPE, SIGPIPE */
	else
		pthread_kill(t, SIGUSR1);
	while (!atomic_load(&in_handler))
		usleep(1000);
	if (m == 1) {
		usleep(20000);		/* parked in the inner read */
		pthread_cancel(t);
	}
	pthread_join(t, &ret);
	if (m == 1) {
		pthread_create(&t, NULL, scribbler, NULL);
		pthread_join(t, NULL);
	}
	if (i == 0)
		printf("%s: thread ended %s\n", m == 0 ? "siglongjmp" :
		    m == 1 ? "cancelled in the handler" : "SIGPIPE's siglongjmp",
		    ret == (void *)1 ?
		    "by the jump" : ret == PTHREAD_CANCELED ? "cancelled" :
		    "otherwise");
	/* The abandoned read's number, closed: its registration walked. */
	if ((m != 2 && close(outer[0]) != 0) || close(outer[1]) != 0 ||
	    close(inner[0]) != 0 || close(inner[1]) != 0) {
		perror("close");
		return 1;
	}
	return 0;
}

int
main(void)
{
	struct sigaction sa;
	int m, i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	for (m = 0; m < 3; m++)
		for (i = 0; i < 3; i++)
			if (round_of(m, i) != 0)
				return 1;
	/* A pipe made now may reuse the numbers: a read on it works. */
	if (pipe(outer) != 0 || write(outer[1], "x", 1) != 1) {
		perror("pipe");
		return 1;
	}
	{
		char c = 0;
		ssize_t n = read(outer[0], &c, 1);

		printf("read after: %zd '%c'\n", n, c);
	}
	return 0;
}
