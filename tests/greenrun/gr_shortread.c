/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_shortread.c -- a read of a regular file returns all that was asked
 * for, up to the end of the file, whatever part of it is in the page
 * cache.  Under greenrun a file read is tried first with RWF_NOWAIT,
 * which stops short at the first page not cached; that short count was
 * returned, and a JVM reading its class files with pread (one call per
 * class, no loop) parsed the zeros behind it ("Unknown constant tag 0")
 * about one run in ten on a loaded machine.  Here the cache holds only
 * the first page of a file when pread, read and readv ask for all of it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define SIZE	(4 << 20)

static char *want, *got;

/* Only the first page cached (a hint: the kernel may keep more). */
static void
cache_first_page(int fd)
{
	char page[4096];

	(void)fdatasync(fd);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	if (pread(fd, page, sizeof(page), 0) != (ssize_t)sizeof(page))
		perror("pread page");
}

static void
check(const char *what, ssize_t n)
{
	printf("%s: %s, %s\n", what, n == SIZE ? "all of it" : "short",
	    n == SIZE && memcmp(want, got, SIZE) == 0 ? "same bytes" :
	    "other bytes");
}

int
main(void)
{
	char path[] = "/var/tmp/gr_shortreadXXXXXX";
	struct iovec iov[2];
	int fd, i;

	if ((fd = mkstemp(path)) < 0) {
		perror("mkstemp");
		return 1;
	}
	unlink(path);
	want = malloc(SIZE);
	got = malloc(SIZE);
	for (i = 0; i < SIZE; i++)
		want[i] = (char)(i * 7 + i / 4096);
	if (write(fd, want, SIZE) != SIZE) {
		perror("write");
		return 1;
	}
	cache_first_page(fd);
	memset(got, 0, SIZE);
	check("pread", pread(fd, got, SIZE, 0));

	cache_first_page(fd);
	memset(got, 0, SIZE);
	lseek(fd, 0, SEEK_SET);
	check("read", read(fd, got, SIZE));

	cache_first_page(fd);
	memset(got, 0, SIZE);
	lseek(fd, 0, SEEK_SET);
	iov[0].iov_base = got;
	iov[0].iov_len = SIZE / 2;
	iov[1].iov_base = got + SIZE / 2;
	iov[1].iov_len = SIZE / 2;
	check("readv", readv(fd, iov, 2));
	close(fd);
	return 0;
}
