/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_fileinline.c -- small writes to a regular file do not put the
 * thread to sleep.  Natively a buffered write to a local filesystem only
 * copies into the page cache; under greenrun one of at most 64 KiB is
 * made on the worker (iofile.c), where it used to go to the worker's
 * io_uring and park, ten times the native cost.  Each step counts the
 * thread's voluntary context switches (getrusage(RUSAGE_THREAD), which
 * greenrun answers with the green thread's parks) over its writes and
 * says "few" or "many".  test_greenrun.c compares the output with the
 * native run's, and checks that with GREENPROC_FILE_INLINE_US=0 (never
 * on the worker) the same steps say "many".  Then a 1 MiB write, which
 * goes to the ring, and the file's contents.  Last, O_DSYNC writes, which
 * wait for the disk and sleep at each, natively and green (on tmpfs,
 * which has no disk to wait for, skipped).
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

#define NWRITE	400
#define NSYNC	40
#define SMALL	4096
#define BIG	(1 << 20)

static long
nvcsw(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) != 0) {
		perror("getrusage");
		exit(2);
	}
	return ru.ru_nvcsw;
}

/* (n) writes of (len) bytes, by write or pwrite: few or many sleeps. */
static void
writes(int fd, const char *how, int n, size_t len, bool positional)
{
	static char buf[SMALL];
	long before = nvcsw(), slept;
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
	slept = nvcsw() - before;
	printf("%s: %s sleeps\n", how, slept < n / 4 ? "few" : "many");
}

int
main(void)
{
	char path[] = "/tmp/gr_fileinline.XXXXXX";
	static char big[BIG];
	struct statfs sf;
	unsigned long sum = 0;
	ssize_t r;
	int fd, i;

	if ((fd = mkstemp(path)) < 0) {
		perror("mkstemp");
		return 2;
	}
	unlink(path);
	writes(fd, "1-byte writes", NWRITE, 1, false);
	writes(fd, "4 KiB writes", NWRITE, SMALL, false);
	writes(fd, "4 KiB pwrites", NWRITE, SMALL, true);
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
	if (close(fd) != 0 || fcntl(1, F_GETFD) < 0)
		return 2;

	/* Beside the program, where /tmp may be tmpfs. */
	strcpy(path, "gr_fileinline.XXXXXX");
	if ((fd = mkostemp(path, O_DSYNC)) < 0 || fstatfs(fd, &sf) != 0) {
		perror("mkostemp");
		return 2;
	}
	unlink(path);
	if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC)
		printf("O_DSYNC writes: skipped\n");
	else
		writes(fd, "O_DSYNC writes", NSYNC, SMALL, false);
	return close(fd);
}
