/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iofile.h -- what the iofile_* programs share: a ping-pong of two
 * threads and the "holders" that keep a call without readiness in
 * progress until the ping-pong is over.
 *
 * Every program runs with GREENPROC_WORKERS=1: the blocking call and the
 * ping-pong share the one worker.  The call cannot end before the
 * ping-pong has (its holder is released only then), so if the call
 * blocked the worker, the ping-pong would never run and the program
 * would hang into its alarm(): no timing is measured anywhere.
 */
#ifndef GP_PROGRAMS_IOFILE_H
#define GP_PROGRAMS_IOFILE_H

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define PINGPONG_ROUNDS	100000

static int pp_ab[2], pp_ba[2];

static void *
pp_peer(void *arg)
{
	char c;
	int i;

	(void)arg;
	for (i = 0; i < PINGPONG_ROUNDS; i++) {
		if (read(pp_ab[0], &c, 1) != 1 || write(pp_ba[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

static void *
pp_lead(void *arg)
{
	char c = 'p';
	long i;

	(void)arg;
	for (i = 0; i < PINGPONG_ROUNDS; i++) {
		if (write(pp_ab[1], &c, 1) != 1 || read(pp_ba[0], &c, 1) != 1)
			break;
	}
	return (void *)i;
}

static uint64_t pp_alone_ns;	/* the ping-pong with nothing held */

static inline uint64_t
pp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Two threads, PINGPONG_ROUNDS round trips through two pipes: its ns. */
static inline uint64_t
pp_run(void)
{
	pthread_t a, b;
	void *rounds = NULL;
	uint64_t t0 = pp_now();

	CHECK(pipe(pp_ab) == 0 && pipe(pp_ba) == 0, "pipe");
	pthread_create(&b, NULL, pp_peer, NULL);
	pthread_create(&a, NULL, pp_lead, NULL);
	pthread_join(a, &rounds);
	pthread_join(b, NULL);
	CHECK((long)rounds == PINGPONG_ROUNDS, "%ld rounds", (long)rounds);
	close(pp_ab[0]);
	close(pp_ab[1]);
	close(pp_ba[0]);
	close(pp_ba[1]);
	return pp_now() - t0;
}

/* The baseline, before the call is made: printed, never asserted. */
static inline void
pingpong_alone(void)
{
	pp_alone_ns = pp_run();
}

/* The ping-pong while the call is held in progress. */
static inline void
pingpong(void)
{
	uint64_t ns = pp_run();

	printf("pingpong: %d round trips while the call was held, %.1f ms "
	    "(alone %.1f ms: %.2fx)\n", PINGPONG_ROUNDS, ns / 1e6,
	    pp_alone_ns / 1e6, pp_alone_ns != 0 ? (double)ns /
	    (double)pp_alone_ns : 0.0);
}

/* ------------------------------------------------------------ a file read */

#define BIG		(64u << 20)
#define PAGE		4096u

static char big_path[64];
static int big_fd = -1;
static char *big_buf;
static int big_uffd = -1;		/* -1: the read is not held */
static int big_release[2];		/* a byte: resolve the fault */

/* The last page of the buffer faults until the holder resolves it. */
static void *
big_holder(void *arg)
{
	struct uffd_msg m;
	struct uffdio_zeropage z;
	char c;

	(void)arg;
	if (read(big_release[0], &c, 1) != 1)
		return NULL;
	while (read(big_uffd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		;
	memset(&z, 0, sizeof(z));
	z.range.start = m.arg.pagefault.address & ~(unsigned long long)(PAGE - 1);
	z.range.len = PAGE;
	(void)ioctl(big_uffd, UFFDIO_ZEROPAGE, &z);
	return NULL;
}

/*
 * Host side, before the green process: a 64 MiB file, out of the page
 * cache if the kernel lets us (else the read copies on the worker, as a
 * page-cache hit does, and is not held), and a buffer whose last page
 * belongs to userfaultfd, resolved by a host thread on big_release.
 */
static inline int
big_setup(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	unsigned char *vec;
	char *chunk, *map;
	pthread_t t;
	size_t i, cached = 0;

	snprintf(big_path, sizeof(big_path), "/tmp/gp_iofile_%d", getpid());
	big_fd = open(big_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	(void)unlink(big_path);
	chunk = malloc(1u << 20);
	if (big_fd < 0 || chunk == NULL)
		return 1;
	memset(chunk, 'x', 1u << 20);
	for (i = 0; i < BIG / (1u << 20); i++)
		if (write(big_fd, chunk, 1u << 20) != 1 << 20)
			return 1;
	free(chunk);
	(void)fsync(big_fd);
	(void)posix_fadvise(big_fd, 0, 0, POSIX_FADV_DONTNEED);
	vec = malloc(BIG / PAGE);
	map = mmap(NULL, BIG, PROT_READ, MAP_SHARED, big_fd, 0);
	if (vec != NULL && map != MAP_FAILED && mincore(map, BIG, vec) == 0)
		for (i = 0; i < BIG / PAGE; i++)
			cached += vec[i] & 1;
	if (map != MAP_FAILED)
		munmap(map, BIG);
	free(vec);
	big_buf = mmap(NULL, BIG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big_buf == MAP_FAILED)
		return 1;
	memset(big_buf, 0, BIG - PAGE);
	if (pipe(big_release) != 0)
		return 1;
	if (cached != 0) {
		printf("read: %zu pages still cached: not held\n", cached);
		return 0;
	}
	big_uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (unsigned long)(big_buf + BIG - PAGE);
	reg.range.len = PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (big_uffd < 0 || ioctl(big_uffd, UFFDIO_API, &api) != 0 ||
	    ioctl(big_uffd, UFFDIO_REGISTER, &reg) != 0) {
		printf("read: no userfaultfd: not held\n");
		big_uffd = -1;
		return 0;
	}
	if (pthread_create(&t, NULL, big_holder, NULL) != 0)
		return 1;
	printf("read: held by userfaultfd\n");
	return 0;
}

/* Let the held read go on (from green code: a write to a pipe). */
static inline void
big_let_go(void)
{
	CHECK(write(big_release[1], "g", 1) == 1, "release");
}

static inline bool
big_check(ssize_t r)
{
	return r == (ssize_t)BIG && big_buf[0] == 'x' &&
	    big_buf[BIG - 1] == 'x';
}

/*
 * Every single-call program's main: the ping-pong alone (the baseline),
 * then (call) on a thread of its own, where its holder keeps it in
 * progress while the ping-pong runs on the same worker; then (let_go)
 * releases the holder and the thread is joined.  The caller checks what
 * the call got.
 */
static inline void
hold_during_pingpong(void *(*call)(void *), void (*let_go)(void))
{
	pthread_t t;

	pingpong_alone();
	pthread_create(&t, NULL, call, NULL);
	usleep(1000);		/* the call is now in progress, held */
	pingpong();
	let_go();
	pthread_join(t, NULL);
}

#endif /* GP_PROGRAMS_IOFILE_H */
