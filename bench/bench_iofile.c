/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_iofile.c -- what a call without readiness costs on an LWP
 * (runtime/iofile.c) against the plain call on a host thread, on each
 * engine: through the worker's io_uring (an open for writing, fsync) or
 * the helper pool (getaddrinfo; open and fsync on epoll), and the calls
 * that need not block and never leave the worker (pread of a cached
 * file: one preadv2 with RWF_NOWAIT; an uncontended flock: LOCK_NB; an
 * open for reading of a cached name: a lookup with RESOLVE_CACHED, then
 * the open; a name not there: the lookup alone).
 *
 * One worker, one LWP making the calls back to back: the latency of one
 * hand-off, not a throughput.  Each figure is the median of RUNS runs of
 * CALLS calls.  Nothing here is asserted: tests check behaviour.
 */
#define BENCH_LABEL_W	44
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "greenproc.h"
#include "benchutil.h"

#define RUNS	5	/* was 11: make bench keeps to minutes */
#define CALLS	1000	/* was 2000; fsync of a clean file is ~100 us here */

enum call { C_OPEN, C_OPENW, C_NOENT, C_PREAD, C_FSYNC, C_FLOCK, C_GAI,
	C_N };

static const char *const names[C_N] = {
	"open + close (O_RDONLY)", "open + close (O_WRONLY)",
	"open of a name not there", "pread 4 KiB, cached", "fsync, clean file",
	"flock + unlock, uncontended", "getaddrinfo(\"127.0.0.1\")",
};

static char path[64], nopath[80];
static int fd;
static char buf[4096];

/* CALLS calls of (c), plain or green (the gp_ call); ns per call. */
static double
calls(enum call c, bool green)
{
	struct addrinfo *res;
	uint64_t t0 = now_ns();
	int i, f;

	for (i = 0; i < CALLS; i++) {
		switch (c) {
		case C_OPEN:
			f = green ? gp_open(path, O_RDONLY) : open(path, O_RDONLY);
			close(f);
			break;
		case C_OPENW:
			f = green ? gp_open(path, O_WRONLY) : open(path, O_WRONLY);
			close(f);
			break;
		case C_NOENT:
			if ((green ? gp_open(nopath, O_RDONLY) :
			    open(nopath, O_RDONLY)) >= 0)
				abort();
			break;
		case C_PREAD:
			if ((green ? gp_pread(fd, buf, sizeof(buf), 0) :
			    pread(fd, buf, sizeof(buf), 0)) < 0)
				abort();
			break;
		case C_FSYNC:
			if ((green ? gp_fsync(fd) : fsync(fd)) != 0)
				abort();
			break;
		case C_FLOCK:
			if (green) {
				gp_flock(fd, LOCK_EX);
				gp_flock(fd, LOCK_UN);
			} else {
				flock(fd, LOCK_EX);
				flock(fd, LOCK_UN);
			}
			break;
		case C_GAI:
			if ((green ? gp_getaddrinfo("127.0.0.1", NULL, NULL,
			    &res) : getaddrinfo("127.0.0.1", NULL, NULL,
			    &res)) != 0)
				abort();
			freeaddrinfo(res);
			break;
		default:
			break;
		}
	}
	return (double)(now_ns() - t0) / CALLS;
}

static double green_ns[C_N];

static void *
green_all(void *arg)
{
	double v[RUNS];
	int c, r;

	(void)arg;
	for (c = 0; c < C_N; c++) {
		(void)calls((enum call)c, true);	/* warm: the pool */
		for (r = 0; r < RUNS; r++)
			v[r] = calls((enum call)c, true);
		green_ns[c] = median(v, RUNS);
	}
	return NULL;
}

int
main(void)
{
	static const char *const io[] = { "uring", "epoll" };
	double plain[C_N], v[RUNS];
	char label[96];
	gp_lwp_t l;
	int c, r, e;

	quiet_begin();
	snprintf(path, sizeof(path), "/tmp/gp_bench_iofile_%d", getpid());
	snprintf(nopath, sizeof(nopath), "%s.none", path);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
	    fsync(fd) != 0) {
		perror(path);
		return 1;
	}
	printf("bench_iofile: one LWP on one worker, median of %d x %d calls\n",
	    RUNS, CALLS);
	for (c = 0; c < C_N; c++) {
		(void)calls((enum call)c, false);
		for (r = 0; r < RUNS; r++)
			v[r] = calls((enum call)c, false);
		plain[c] = median(v, RUNS);
	}
	for (e = 0; e < 2; e++) {
		setenv("GREENPROC_IO", io[e], 1);
		if (gp_init(1) != 0 || gp_lwp_create(&l, green_all, NULL,
		    NULL) != 0 || gp_lwp_join(l, NULL) != 0) {
			perror("gp_init");
			return 1;
		}
		(void)gp_shutdown();
		printf("%s:\n", io[e]);
		for (c = 0; c < C_N; c++) {
			snprintf(label, sizeof(label), "%s, plain", names[c]);
			row(label, plain[c]);
			snprintf(label, sizeof(label), "%s, green", names[c]);
			row(label, green_ns[c]);
			if (e == 0)
				fig(names[c], "ns", plain[c], NULL);
			snprintf(label, sizeof(label), "%s, green (%s)",
			    names[c], io[e]);
			fig(label, "ns", green_ns[c], names[c]);
		}
	}
	unlink(path);
	quiet_end();
	return 0;
}
