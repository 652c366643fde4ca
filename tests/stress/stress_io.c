/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_io.c -- green pipe and socket I/O across two workers, on each
 * engine in turn (GREENPROC_IO=uring, then epoll: one runtime each).
 *
 * NPAIR pairs of LWPs, each pair on its own pipe pair (odd pairs: a
 * socketpair), bounce a counter ROUNDS times with gp_write/gp_read; a
 * host thread runs its own pair with the same calls (plain system calls
 * there) against an LWP.  LWPs are placed by the runtime, so partners
 * are often on different workers: a completion on one worker's engine
 * wakes an LWP whose peer parks on the other.  Every value is checked;
 * a lost wake-up is a hang (the alarm fails the run).
 *
 * Exit status 0 on success; a message and 1 on failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "greenproc.h"
#include "../testutil.h"

#ifdef TU_UNDER_SAN
#define NPAIR	32
#define ROUNDS	300
#else
#define NPAIR	128
#define ROUNDS	1000
#endif

struct pair {
	int	 ab[2];		/* a writes [1], b reads [0] */
	int	 ba[2];		/* b writes [1], a reads [0] */
};

static struct pair pairs[NPAIR + 1];	/* the last: the host's */
static atomic_long bad;

/* a: writes 2k, reads 2k+1.  b: reads 2k, writes 2k+1. */
static void *
side_a(void *arg)
{
	struct pair *p = arg;
	uint32_t v, got;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		v = (uint32_t)(2 * i);
		if (gp_write(p->ab[1], &v, sizeof(v)) != sizeof(v) ||
		    gp_read(p->ba[0], &got, sizeof(got)) != sizeof(got) ||
		    got != v + 1) {
			atomic_fetch_add(&bad, 1);
			return NULL;
		}
	}
	return NULL;
}

static void *
side_b(void *arg)
{
	struct pair *p = arg;
	uint32_t got;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		if (gp_read(p->ab[0], &got, sizeof(got)) != sizeof(got) ||
		    got != (uint32_t)(2 * i)) {
			atomic_fetch_add(&bad, 1);
			return NULL;
		}
		got++;
		if (gp_write(p->ba[1], &got, sizeof(got)) != sizeof(got)) {
			atomic_fetch_add(&bad, 1);
			return NULL;
		}
	}
	return NULL;
}

static int
make_pair(struct pair *p, bool sock)
{
	if (sock)
		return socketpair(AF_UNIX, SOCK_STREAM, 0, p->ab) != 0 ||
		    (p->ba[0] = dup(p->ab[1])) < 0 ||
		    (p->ba[1] = dup(p->ab[0])) < 0 ? -1 : 0;
	return pipe(p->ab) != 0 || pipe(p->ba) != 0 ? -1 : 0;
}

static void
close_pair(struct pair *p)
{
	close(p->ab[0]);
	close(p->ab[1]);
	close(p->ba[0]);
	close(p->ba[1]);
}

static int
run(const char *engine)
{
	gp_lwp_t a[NPAIR], b[NPAIR + 1];
	uint64_t t0 = tu_now_ns();
	int i;

	setenv("GREENPROC_IO", engine, 1);
	if (gp_init(2) != 0) {
		fprintf(stderr, "stress_io: gp_init: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i <= NPAIR; i++) {
		if (make_pair(&pairs[i], i % 2 == 1) != 0) {
			fprintf(stderr, "stress_io: pipes: %s\n",
			    strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < NPAIR; i++) {
		if (gp_lwp_create(&a[i], side_a, &pairs[i], NULL) != 0 ||
		    gp_lwp_create(&b[i], side_b, &pairs[i], NULL) != 0) {
			fprintf(stderr, "stress_io: gp_lwp_create failed\n");
			return 1;
		}
	}
	/* The host thread is side a of the last pair. */
	if (gp_lwp_create(&b[NPAIR], side_b, &pairs[NPAIR], NULL) != 0)
		return 1;
	(void)side_a(&pairs[NPAIR]);
	for (i = 0; i < NPAIR; i++) {
		gp_lwp_join(a[i], NULL);
		gp_lwp_join(b[i], NULL);
	}
	gp_lwp_join(b[NPAIR], NULL);
	for (i = 0; i <= NPAIR; i++)
		close_pair(&pairs[i]);
	if (gp_shutdown() != 0) {
		fprintf(stderr, "stress_io: gp_shutdown: %s\n",
		    strerror(errno));
		return 1;
	}
	if (atomic_load(&bad) != 0) {
		fprintf(stderr, "stress_io: %s: %ld exchanges failed\n", engine,
		    atomic_load(&bad));
		return 1;
	}
	printf("stress_io: ok: %s: %d pairs x %d round trips in %llu ms\n",
	    engine, NPAIR + 1, ROUNDS,
	    (unsigned long long)((tu_now_ns() - t0) / TU_MS));
	return 0;
}

int
main(void)
{
	alarm(120);
	if (run("uring") != 0 || run("epoll") != 0)
		return 1;
	return 0;
}
