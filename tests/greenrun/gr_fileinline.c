/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_fileinline.c -- small writes to a regular file are made as write
 * system calls, as natively.  Under greenrun one of at most 64 KiB to a
 * local filesystem is made on the worker (iofile.c); it used to go to the
 * worker's io_uring, whose kernel thread made it, at ten times the native
 * cost.  Each step counts the process's write system calls over its
 * writes (syscw in /proc/self/io, which io_uring's writes do not count)
 * and says "all" or "few".  test_greenrun.c compares the output with the
 * native run's, and checks that with GREENPROC_FILE_INLINE_US=0 (never on
 * the worker) the same steps say "few".  Then new files with a write
 * each, a 1 MiB write, which goes to the ring, and the file's contents.
 *
 * With the argument "dsync": O_DSYNC writes only, which wait for the
 * disk and must go to the ring ("few" under greenrun, "all" natively).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NWRITE	400
#define NSYNC	40
#define NNEW	200
#define SMALL	4096
#define BIG	(1 << 20)

/* The process's write system calls so far. */
static long
syscw(void)
{
	char text[1024], *p;
	ssize_t r;
	int fd;

	if ((fd = open("/proc/self/io", O_RDONLY)) < 0 ||
	    (r = read(fd, text, sizeof(text) - 1)) <= 0) {
		perror("/proc/self/io");
		exit(2);
	}
	close(fd);
	text[r] = '\0';
	if ((p = strstr(text, "syscw:")) == NULL)
		exit(2);
	return atol(p + 6);
}

/* (n) writes of (len) bytes, by write or pwrite: all or few syscalls. */
static void
writes(int fd, const char *how, int n, size_t len, int positional)
{
	static char buf[SMALL];
	long before = syscw(), made;
	off_t at = lseek(fd, 0, SEEK_CUR);
	int i;

	memset(buf, how[0], len);
	for (i = 0; i < n; i++) {
		if ((positional ? pwrite(fd, buf, len, at + (off_t)(i * len)) :
		    write(fd, buf, len)) != (ssize_t)len) {
			perror(how);
			exit(2);
		}
	}
	if (positional)
		(void)lseek(fd, at + (off_t)((size_t)n * len), SEEK_SET);
	made = syscw() - before;
	printf("%s: %s write system calls\n", how, made >= n ? "all" : "few");
}

/*
 * (n) new files made with open(O_CREAT), one 1-byte write each.  Under
 * greenrun the first write of each used to try RWF_NOWAIT first, refused
 * (a write system call more), then learn what the file is; the open
 * tells that now (iofile.c, opened_bits).
 */
static void
new_files(int n)
{
	long before = syscw(), made;
	char path[64];
	int i, fd;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/tmp/gr_fileinline.%d.%d",
		    (int)getpid(), i);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
		    write(fd, "x", 1) != 1 || close(fd) != 0) {
			perror(path);
			exit(2);
		}
		unlink(path);
	}
	made = syscw() - before;
	printf("new files: %s\n", made < n / 2 ? "few write system calls" :
	    made <= n + n / 10 ? "one write system call each" :
	    "more write system calls than writes");
}

/* A file beside /tmp's others, gone when closed. */
static int
scratch(int flags)
{
	char path[] = "/tmp/gr_fileinline.XXXXXX";
	int fd;

	if ((fd = mkostemp(path, flags)) < 0) {
		perror("mkostemp");
		exit(2);
	}
	unlink(path);
	return fd;
}

int
main(int argc, char **argv)
{
	static char big[BIG];
	unsigned long sum = 0;
	ssize_t r;
	int fd, i;

	if (argc > 1 && strcmp(argv[1], "dsync") == 0) {
		fd = scratch(O_DSYNC);
		writes(fd, "O_DSYNC writes", NSYNC, SMALL, 0);
		return close(fd);
	}
	fd = scratch(0);
	writes(fd, "1-byte writes", NWRITE, 1, 0);
	writes(fd, "4 KiB writes", NWRITE, SMALL, 0);
	writes(fd, "4 KiB pwrites", NWRITE, SMALL, 1);
	new_files(NNEW);
	memset(big, 'b', sizeof(big));
	r = write(fd, big, sizeof(big));
	printf("1 MiB write: %zd\n", r);
	/* What the file holds, read back. */
	if (lseek(fd, 0, SEEK_SET) != 0)
		return 2;
	while ((r = read(fd, big, sizeof(big))) > 0)
		for (i = 0; i < r; i++)
			sum = sum * 31 + (unsigned char)big[i];
	printf("contents: %lx\n", sum);
	return close(fd);
}
