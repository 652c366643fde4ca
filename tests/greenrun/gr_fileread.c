/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_fileread.c -- reads of a regular file wait for the disk whatever
 * O_NONBLOCK says, and a read to the end of a cached file does not leave
 * the worker.
 *
 * open(2): O_NONBLOCK has no effect on regular files.  Under greenrun a
 * read of an O_NONBLOCK file whose pages were not cached said EAGAIN
 * (the RWF_NOWAIT attempt's answer, taken for the program's).  And a
 * read that RWF_NOWAIT stopped short at the end of a file went on
 * through the worker's io_uring for the rest, a hand-off to a kernel
 * thread for a read that returns 0: each step counts the thread's
 * voluntary context switches (getrusage RUSAGE_THREAD: a green thread's
 * are its parks) over NREAD reads to the end, "few" or "one per read",
 * while another thread yields in a loop beside it (test_greenrun.c runs
 * this on one worker: a park then switches to it).  Files of procfs,
 * which no disk is behind, said EOPNOTSUPP to RWF_NOWAIT and went to the
 * ring for every open and read: opening and reading /proc/self/stat, and
 * preads of /proc/self/status, are counted the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "parks.h"

#define SIZE	(1 << 20)
#define SMALL	(3 * 4096 + 100)
#define NREAD	200

static char path[] = "/tmp/gr_fileread.XXXXXX";
static char buf[SIZE];

static void
uncache(int fd)
{
	(void)fdatasync(fd);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

static void
say(const char *what, ssize_t r)
{
	if (r < 0)
		printf("%s: %s\n", what, strerror(errno));
	else
		printf("%s: %zd bytes\n", what, r);
}

int
main(void)
{
	struct iovec iov[2] = { { buf, 4096 }, { buf + 4096, 60000 } };
	char tail[4096];
	pthread_t t;
	long before;
	ssize_t r, got;
	int fd, i;

	setvbuf(stdout, NULL, _IONBF, 0);
	if ((fd = mkstemp(path)) < 0) {
		perror("mkstemp");
		return 2;
	}
	memset(buf, 'x', sizeof(buf));
	if (write(fd, buf, SIZE) != SIZE) {
		perror("write");
		return 2;
	}
	close(fd);

	/* O_NONBLOCK: not cached, then read, readv, pread. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK)) < 0) {
		perror("open");
		return 2;
	}
	uncache(fd);
	say("O_NONBLOCK read, not cached", read(fd, buf, 65536));
	uncache(fd);
	say("O_NONBLOCK readv, not cached", readv(fd, iov, 2));
	uncache(fd);
	say("O_NONBLOCK pread, not cached", pread(fd, buf, 65536, 512 << 10));
	uncache(fd);
	lseek(fd, 0, SEEK_SET);
	for (got = 0; (r = read(fd, buf, 100000)) > 0; got += r)
		;
	say("O_NONBLOCK reads to the end, not cached", r < 0 ? r : got);
	close(fd);

	/* A cached file of three pages and a bit, read to its end. */
	if ((fd = open(path, O_RDWR | O_TRUNC)) < 0 ||
	    write(fd, buf, SMALL) != SMALL) {
		perror("small file");
		return 2;
	}
	pthread_create(&t, NULL, yielder, NULL);
	before = nvcsw();
	for (i = 0; i < NREAD; i++) {
		lseek(fd, 0, SEEK_SET);
		for (got = 0; (r = read(fd, tail, sizeof(tail))) > 0; got += r)
			;
		if (r < 0 || got != SMALL) {
			printf("read to the end: %zd, %s\n", got,
			    r < 0 ? strerror(errno) : "");
			return 1;
		}
	}
	printf("reads to the end: %s\n", nvcsw() - before < NREAD / 4 ?
	    "few switches" : "one per read");
	before = nvcsw();
	for (i = 0; i < NREAD; i++)
		if (pread(fd, buf, SIZE, 0) != SMALL) {
			perror("pread to the end");
			return 1;
		}
	printf("preads past the end: %s\n", nvcsw() - before < NREAD / 4 ?
	    "few switches" : "one per pread");
	close(fd);

	/*
	 * procfs makes its files up as they are read, with no disk behind
	 * them: opens, reads and preads made on the worker too.
	 */
	before = nvcsw();
	for (i = 0; i < NREAD; i++) {
		if ((fd = open("/proc/self/stat", O_RDONLY)) < 0) {
			perror("open /proc/self/stat");
			return 1;
		}
		for (got = 0; (r = read(fd, buf + got, 4096)) > 0; got += r)
			;
		close(fd);
		if (r < 0 || got == 0 || buf[got - 1] != '\n') {
			printf("/proc/self/stat: %zd bytes, %s\n", got,
			    r < 0 ? strerror(errno) : "");
			return 1;
		}
	}
	printf("/proc reads: %s\n", nvcsw() - before < NREAD / 4 ?
	    "few switches" : "one per open or read");
	if ((fd = open("/proc/self/status", O_RDONLY)) < 0) {
		perror("open /proc/self/status");
		return 1;
	}
	before = nvcsw();
	for (i = 0; i < NREAD; i++)
		if ((r = pread(fd, buf, 4096, 0)) <= 0 ||
		    strncmp(buf, "Name:", 5) != 0) {
			printf("pread /proc/self/status: %zd\n", r);
			return 1;
		}
	printf("/proc preads: %s\n", nvcsw() - before < NREAD / 4 ?
	    "few switches" : "one per pread");
	atomic_store(&yielding, 0);
	pthread_join(t, NULL);
	close(fd);
	unlink(path);
	return 0;
}
