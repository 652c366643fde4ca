/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stdio_park.c -- glibc's stdio on green threads parks the LWP, never its
 * worker (preload/stdio.c).  Run with GREENPROC_WORKERS=1, so that a
 * worker frozen inside glibc freezes everything and the driver's alarm
 * ends the run, and STDIO_CASE set to one of:
 *
 *   fgets, getline, fread, fscanf
 *	a reader LWP waits on an empty pipe while two other LWPs of the
 *	worker hand a mutex and a condition variable back and forth 100k
 *	times; then its data comes in two writes (fscanf: one, see docs);
 *   printf
 *	fprintf + fflush, then a line-buffered fprintf, each to a full pipe,
 *	park until a reader LWP drains it;
 *   flockfile
 *	LWP A holds a FILE (flockfile, twice) across sleeps; LWP B of the
 *	same worker stays out (ftrylockfile fails, fputs waits) until A's
 *	last funlockfile: B's line comes after both of A's.
 *
 * Every case first runs the same stdio on the host thread (before()),
 * which must behave as glibc's.  Legacy part on top (libc only); the
 * driver below is legacy_driver.h.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* ------------------------------------------------------------ legacy code */

#define ROUNDS	100000

static pthread_mutex_t pp_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_c = PTHREAD_COND_INITIALIZER;
static int pp_turn;
static long pp_count[2];

static void *
pingpong(void *arg)
{
	int me = (int)(intptr_t)arg, i;

	for (i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&pp_m);
		while (pp_turn != me)
			pthread_cond_wait(&pp_c, &pp_m);
		pp_count[me]++;
		pp_turn = !me;
		pthread_cond_signal(&pp_c);
		pthread_mutex_unlock(&pp_m);
	}
	return NULL;
}

static void
run_pingpong(void)
{
	pthread_t a, b;

	CHECK(pthread_create(&a, NULL, pingpong, (void *)0) == 0, "create");
	CHECK(pthread_create(&b, NULL, pingpong, (void *)1) == 0, "create");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK(pp_count[0] == ROUNDS && pp_count[1] == ROUNDS, "%ld %ld",
	    pp_count[0], pp_count[1]);
	printf("pingpong: %d round trips while the reader waited\n", ROUNDS);
}

/* ---- readers */

static FILE *rf;
static const char *which;
static char got[128];
static atomic_int reader_in;

static void *
reader(void *arg)
{
	char *line = NULL;
	size_t cap = 0, n;
	ssize_t r;
	int x = 0;

	(void)arg;
	atomic_store(&reader_in, 1);
	if (strcmp(which, "fgets") == 0) {
		if (fgets(got, sizeof(got), rf) == NULL)
			strcpy(got, "(NULL)");
	} else if (strcmp(which, "getline") == 0) {
		r = getline(&line, &cap, rf);
		snprintf(got, sizeof(got), "%s", r > 0 ? line : "(-1)");
		free(line);
	} else if (strcmp(which, "fread") == 0) {
		n = fread(got, 1, 10, rf);
		got[n] = '\0';
	} else {
		r = fscanf(rf, "%d", &x);
		snprintf(got, sizeof(got), "%zd %d", r, x);
	}
	return NULL;
}

static void
case_reader(void)
{
	static const struct { const char *c, *a, *b, *want; } cases[] = {
		{ "fgets", "hel", "lo\n", "hello\n" },
		{ "getline", "hel", "lo\n", "hello\n" },
		{ "fread", "01234", "56789", "0123456789" },
		{ "fscanf", "", "42\n", "1 42" },
	};
	const char *a = NULL, *b = NULL, *want = NULL;
	pthread_t t;
	int p[2];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(which, cases[i].c) == 0) {
			a = cases[i].a;
			b = cases[i].b;
			want = cases[i].want;
		}
	CHECK(want != NULL, "STDIO_CASE=%s", which);
	if (want == NULL)
		return;
	CHECK(pipe(p) == 0, "pipe");
	CHECK((rf = fdopen(p[0], "r")) != NULL, "fdopen");
	CHECK(pthread_create(&t, NULL, reader, NULL) == 0, "create");
	while (!atomic_load(&reader_in))
		sched_yield();
	run_pingpong();
	/* The first piece; the reader takes it and waits for the rest. */
	if (a[0] != '\0')
		CHECK(write(p[1], a, strlen(a)) == (ssize_t)strlen(a), "write");
	usleep(20000);
	CHECK(write(p[1], b, strlen(b)) == (ssize_t)strlen(b), "write");
	pthread_join(t, NULL);
	CHECK(strcmp(got, want) == 0, "%s read '%s', want '%s'", which, got,
	    want);
	printf("%s: read what was written\n", which);
	fclose(rf);
	close(p[1]);
}

/* ---- printf to a full pipe */

#define PIPE_ROOM	4096
#define MSG		3000

static int pw[2];
static FILE *wf;
static atomic_int writer_at;	/* 1, 2: about to write to the full pipe */
static int flush_rc = -2, lbf_rc = -2;

static void
fill(int fd)
{
	static char x[PIPE_ROOM];

	memset(x, 'x', sizeof(x));
	CHECK(write(fd, x, sizeof(x)) == (ssize_t)sizeof(x), "fill");
}

static void *
writer(void *arg)
{
	static char msg[MSG + 1];

	(void)arg;
	memset(msg, 'y', MSG);
	fill(pw[1]);
	CHECK(fprintf(wf, "%s", msg) == MSG, "fprintf buffered");
	atomic_store(&writer_at, 1);
	flush_rc = fflush(wf);
	fill(pw[1]);
	setvbuf(wf, NULL, _IOLBF, 0);
	atomic_store(&writer_at, 2);
	lbf_rc = fprintf(wf, "line %d\n", 7);
	return NULL;
}

/* Wait for the writer to reach (at), then read (n) bytes. */
static size_t
drain(int at, char *buf, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (atomic_load(&writer_at) < at)
		sched_yield();
	usleep(20000);	/* the writer waits on the full pipe meanwhile */
	while (done < n && (r = read(pw[0], buf + done, n - done)) > 0)
		done += (size_t)r;
	return done;
}

static void *
drainer(void *arg)
{
	static char buf[PIPE_ROOM + MSG];
	size_t n, i, bad = 0;

	(void)arg;
	n = drain(1, buf, sizeof(buf));
	for (i = 0; i < n; i++)
		bad += buf[i] != (i < PIPE_ROOM ? 'x' : 'y');
	CHECK(n == sizeof(buf) && bad == 0, "drained %zu bytes, %zu wrong",
	    n, bad);
	n = drain(2, buf, PIPE_ROOM + 7);
	CHECK(n == PIPE_ROOM + 7 && memcmp(buf + PIPE_ROOM, "line 7\n", 7) ==
	    0, "drained %zu bytes", n);
	return NULL;
}

static void
case_printf(void)
{
	pthread_t w, d;

	CHECK(pipe(pw) == 0, "pipe");
	/* The smallest pipe: one page.  (The kernel may round it up.) */
	(void)fcntl(pw[1], F_SETPIPE_SZ, PIPE_ROOM);
	CHECK(fcntl(pw[1], F_GETPIPE_SZ) == PIPE_ROOM, "pipe size %d",
	    fcntl(pw[1], F_GETPIPE_SZ));
	CHECK((wf = fdopen(pw[1], "w")) != NULL, "fdopen");
	CHECK(pthread_create(&w, NULL, writer, NULL) == 0, "create");
	CHECK(pthread_create(&d, NULL, drainer, NULL) == 0, "create");
	pthread_join(w, NULL);
	pthread_join(d, NULL);
	CHECK(flush_rc == 0, "fflush = %d", flush_rc);
	CHECK(lbf_rc == 7, "line-buffered fprintf = %d", lbf_rc);
	printf("printf: the writer parked until the pipe drained\n");
	fclose(wf);
	close(pw[0]);
}

/* ---- flockfile */

static FILE *lf;
static atomic_int a_holds;
static int try_rc = -2;

static void *
holder_a(void *arg)
{
	(void)arg;
	flockfile(lf);
	flockfile(lf);
	fputs("A1\n", lf);
	atomic_store(&a_holds, 1);
	usleep(20000);		/* parked, holding lf */
	funlockfile(lf);	/* still held once */
	usleep(20000);
	fputs("A2\n", lf);
	funlockfile(lf);
	return NULL;
}

static void *
intruder_b(void *arg)
{
	(void)arg;
	while (!atomic_load(&a_holds))
		sched_yield();
	if ((try_rc = ftrylockfile(lf)) == 0)
		funlockfile(lf);
	fputs("B\n", lf);
	return NULL;
}

static void
case_flockfile(void)
{
	char buf[64];
	pthread_t a, b;
	ssize_t n;
	int p[2];

	CHECK(pipe(p) == 0, "pipe");
	CHECK((lf = fdopen(p[1], "w")) != NULL, "fdopen");
	CHECK(pthread_create(&a, NULL, holder_a, NULL) == 0, "create");
	CHECK(pthread_create(&b, NULL, intruder_b, NULL) == 0, "create");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	fclose(lf);
	n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(try_rc != 0, "B's ftrylockfile got A's FILE");
	CHECK(strcmp(buf, "A1\nA2\nB\n") == 0, "wrote '%s'", buf);
	printf("flockfile: B waited for A\n");
	close(p[0]);
}

static int
legacy_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	which = getenv("STDIO_CASE");
	CHECK(which != NULL, "STDIO_CASE is not set");
	if (which == NULL)
		return 1;
	if (strcmp(which, "printf") == 0)
		case_printf();
	else if (strcmp(which, "flockfile") == 0)
		case_flockfile();
	else
		case_reader();
	printf("legacy: done\n");
	return 0;
}

/* ------------------------------------------------------------ driver */

/* The same calls on the host thread: glibc's, unchanged. */
static int
host_stdio(void)
{
	char buf[64], *line = NULL;
	size_t cap = 0;
	FILE *w, *r;
	int p[2], x = 0;

	CHECK(pipe(p) == 0, "pipe");
	w = fdopen(p[1], "w");
	r = fdopen(p[0], "r");
	CHECK(w != NULL && r != NULL, "fdopen");
	if (w == NULL || r == NULL)
		return 1;
	flockfile(w);
	CHECK(ftrylockfile(w) == 0, "host ftrylockfile (recursive)");
	funlockfile(w);
	fprintf(w, "one %d\n", 1);
	fputs("two\n", w);
	fputc('3', w);
	putc('\n', w);
	fwrite("four\n", 1, 5, w);
	fprintf(w, "%d\n", 5);
	funlockfile(w);
	CHECK(fflush(w) == 0, "fflush");
	CHECK(fgets(buf, sizeof(buf), r) != NULL && strcmp(buf, "one 1\n") ==
	    0, "fgets '%s'", buf);
	CHECK(getline(&line, &cap, r) == 4 && strcmp(line, "two\n") == 0,
	    "getline");
	CHECK(fgetc(r) == '3' && getc(r) == '\n', "fgetc, getc");
	CHECK(fread(buf, 1, 5, r) == 5 && memcmp(buf, "four\n", 5) == 0,
	    "fread");
	CHECK(fscanf(r, "%d", &x) == 1 && x == 5, "fscanf");
	free(line);
	fclose(w);
	fclose(r);
	printf("host: stdio as glibc's\n");
	return 0;
}

#include "legacy_driver.h"

static const struct legacy_driver legacy_driver = {
	.main_fn = legacy_main,
	.argv = (char *[]){ "stdio_park", NULL },
	.timeout = 30,
	.before = host_stdio,
};
