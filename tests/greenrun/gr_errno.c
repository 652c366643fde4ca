/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_errno.c -- a stdio read that succeeds leaves errno alone, as
 * glibc's does: CPython's ssl module zeroes errno, lets OpenSSL read a
 * PEM file (fgets, fread) and, when parsing fails, raises OSError from
 * errno if it is set.  Under greenrun the preload's probes leaked their
 * own errors: EAGAIN from the RWF_NOWAIT probe of a file not in the page
 * cache (test_ssl's test_malformed_key got BlockingIOError instead of
 * SSLError), ENOTTY from FIONREAD on a character device; and pread's
 * EAGAIN from its own RWF_NOWAIT try.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *
name(int e)
{
	return e == 0 ? "0" : e == EAGAIN ? "EAGAIN" : e == ENOTTY ?
	    "ENOTTY" : "other";
}

/* A file of (n) lines whose pages are dropped from the page cache. */
static FILE *
uncached(const char *path, int n)
{
	FILE *f;
	int fd, i;

	if ((f = fopen(path, "w")) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		fprintf(f, "line %d of a file that is not in the page cache\n",
		    i);
	fflush(f);
	fsync(fileno(f));
	fclose(f);
	if ((fd = open(path, O_RDONLY)) >= 0) {
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
	return fopen(path, "r");
}

int
main(void)
{
	char path[] = "gr_errno.XXXXXX", line[128], buf[256];
	FILE *f;
	size_t n;
	int fd;
	bool ok;

	if ((fd = mkstemp(path)) < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	if ((f = uncached(path, 2000)) == NULL) {
		perror(path);
		return 1;
	}
	errno = 0;
	ok = fgets(line, sizeof(line), f) != NULL;
	printf("fgets: %s, errno %s\n", ok ? "a line" : "nothing", name(errno));
	fclose(f);
	if ((f = uncached(path, 2000)) != NULL) {
		errno = 0;
		n = fread(buf, 1, sizeof(buf), f);
		printf("fread: %zu, errno %s\n", n, name(errno));
		fclose(f);
	}
	if ((f = uncached(path, 2000)) != NULL) {
		errno = 0;
		ok = fgetc(f) == 'l';
		printf("fgetc: %s, errno %s\n", ok ? "l" : "?", name(errno));
		fclose(f);
	}
	if ((f = uncached(path, 2000)) != NULL) {
		errno = 0;
		n = (size_t)pread(fileno(f), buf, sizeof(buf), 4096);
		printf("pread: %zu, errno %s\n", n, name(errno));
		fclose(f);
	}
	unlink(path);
	if ((f = fopen("/dev/zero", "r")) != NULL) {
		errno = 0;
		n = fread(buf, 1, sizeof(buf), f);
		printf("fread /dev/zero: %zu, errno %s\n", n, name(errno));
		errno = 0;
		ok = fgets(line, 16, f) != NULL;
		printf("fgets /dev/zero: %s, errno %s\n", ok ? "15 bytes" :
		    "nothing", name(errno));
		fclose(f);
	}
	return 0;
}
