/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iofile_fread.c -- a 64 MiB fread(3) of a regular file through stdio,
 * held in progress by userfaultfd until a ping-pong of two other green
 * threads of the one worker is over: glibc's read of the file must not
 * block the worker (stdio's fills of a file go to the pool).  Run with
 * GREENPROC_WORKERS=1 and GREENPROC_IO=uring or epoll.
 */
#include <stdbool.h>
#include <stdio.h>

#include "iofile.h"
#include "legacy_driver.h"

static ssize_t got = -2;

static void *
reader(void *arg)
{
	FILE *f = fdopen(dup(big_fd), "r");

	(void)arg;
	if (f == NULL)
		return NULL;
	got = (ssize_t)fread(big_buf, 1, BIG, f);
	fclose(f);
	return NULL;
}

static int
legacy_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	CHECK(lseek(big_fd, 0, SEEK_SET) == 0, "lseek");
	hold_during_pingpong(reader, big_let_go);
	CHECK(big_check(got), "fread %zd", got);
	printf("legacy: done\n");
	return 0;
}

static const struct legacy_driver legacy_driver = {
	.main_fn = legacy_main,
	.argv = (char *[]){ "iofile_fread", NULL },
	.timeout = 30,
	.before = big_setup,
};
